"""mongomock builds a partial unique index as MongoDB does.

MongoDB checks a new unique index with a ``partialFilterExpression`` against
the documents the filter selects only; mongomock checks it against every
document, so a partial unique index -- the one that skips rows with a NULL
among a unique set's columns, as SQL does (``index_specs.unique_spec``) --
could not be built over rows SQL accepts. Its writes already apply the filter
(``Collection._ensure_uniques``). ``apply()`` makes ``create_index`` check the
existing documents the filter selects, then build the index without
mongomock's check of all of them; it changes nothing else and is applied once,
when the first ``mongomock://`` client is made.
"""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError


def _key_value(document: dict[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _check_unique(collection, keys: list[tuple[str, Any]], selector: dict[str, Any]) -> None:
    """DuplicateKeyError when two documents ``selector`` selects share ``keys``' values."""
    seen: list[tuple] = []
    for document in collection.find(selector, {path: 1 for path, _ in keys}):
        values = tuple(_key_value(document, path) for path, _ in keys)
        if values in seen:
            raise DuplicateKeyError("E11000 Duplicate Key Error", 11000)
        seen.append(values)


def apply() -> None:
    """Wrap mongomock's ``Collection.create_index`` (idempotent)."""
    from mongomock import helpers
    from mongomock.collection import Collection

    original = Collection.create_index
    if getattr(original, "checks_partial_filter", False):
        return

    def create_index(self, key_or_list, cache_for=300, session=None, **kwargs):
        selector = kwargs.get("partialFilterExpression")
        if not (kwargs.get("unique") and selector):
            return original(self, key_or_list, cache_for, session, **kwargs)
        keys = helpers.create_index_list(key_or_list)
        name = kwargs.get("name") or helpers.gen_index_name(keys)
        existing = self.index_information().get(name)
        if existing is not None and existing.get("unique"):
            # The same index again is a no-op; another definition is refused below.
            wanted = {"key": keys, "unique": True, "partialFilterExpression": selector}
            if all(existing.get(option) == value for option, value in wanted.items()):
                return name
        _check_unique(self, keys, selector)
        name = original(self, key_or_list, cache_for, session, **{**kwargs, "unique": False})
        self._store.indexes[name]["unique"] = True
        return name

    create_index.checks_partial_filter = True
    Collection.create_index = create_index
