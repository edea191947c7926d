"""mongomock finds documents by ``_id`` through its key index, as MongoDB does.

mongomock keeps a collection's documents in a dict keyed by ``_id`` but
answers every filter by testing every document, ``{_id: 5}`` included. A read
by key (``get(pk=...)``, ``save()``, the key reads that follow relations,
``$in`` of a batch of keys) therefore costs a walk of the whole collection,
and an ``$in`` of n keys tests each document against the n-element list: a
test suite that makes a few thousand rows of a multi-table inheritance chain
spent minutes inside mongomock's filter (django-polymorphic's
``test_iteration`` did not finish in five minutes on ``mongomock://``).

``apply()`` gives mongomock's document walk (``Collection._iter_documents``,
used by finds, counts, updates and deletes) a shortcut for filters that hold
an ``_id`` condition on plain keys -- ``{_id: k}``, ``{_id: {$eq: k}}``,
``{_id: {$in: [k, ...]}}``, at the top level or as a clause of a top-level
``$and`` -- where keys are ints, strings or ObjectIds: the candidate documents
are those whose key the dict holds, the ``_id`` condition is decided by that
lookup, and the rest of the filter is tested by mongomock as before on the
candidates only. Documents keep the collection's natural order. The lookup
answers as mongomock's own equality does (an int key finds the document whose
``_id`` is the equal float or ``Int64``), except that ``True``/``False`` are
never equal to 1/0, as in MongoDB. Any other shape is left to mongomock
untouched.

The same walk tests ``{field: {$in: [...]}}`` (a prefetch's batch of foreign
keys) by scanning the list, and its list of which values are regular
expressions, once per document. A list of plain values (numbers, strings,
ObjectIds, booleans, None) in such a filter is handed to mongomock as a
``ValueSet``: the same list, with a set of its values that mongomock's ``$in``
and ``$nin`` look documents' values up in, answering as the scan does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bson import Int64, ObjectId

#: Key types looked up in mongomock's dict of documents (``bool`` is excluded:
#: Python's ``True == 1``, MongoDB's is not).
PLAIN_KEYS = frozenset({int, Int64, str, ObjectId})
#: Value types for which a set lookup answers as mongomock's ``x in list``
#: (Python equality; hashable, and never equal to a value of another kind of type).
PLAIN_VALUES = frozenset({int, Int64, float, str, bool, ObjectId, type(None)})
#: Lists shorter than this are scanned as mongomock does.
VALUE_SET_FROM = 8
ID = "_id"
#: Walk the collection's keys, not look each up, past this many keys (documents
#: are given in the collection's order either way).
SCAN_ABOVE = 1


def apply() -> None:
    """Give mongomock's document walk the key shortcut (idempotent)."""
    from mongomock.collection import Collection

    original = Collection._iter_documents
    if getattr(original, "finds_by_key", False):
        return

    def _iter_documents(self: Any, filter: Any) -> Iterator[dict]:
        # The key condition is taken out first: its list is looked up in the
        # collection's dict, never made a ValueSet.
        split = key_condition(filter)
        store = self._store
        if split is None or store.is_empty:
            return original(self, with_value_sets(filter))
        keys, rest = split
        return original_on(self, with_value_sets(rest), documents_with_keys(store, keys))

    def original_on(self: Any, rest: dict, candidates: list[dict]) -> Iterator[dict]:
        if not rest:
            return iter(candidates)
        from mongomock.filtering import filter_applies

        return (document for document in candidates if filter_applies(rest, document))

    _iter_documents.finds_by_key = True
    Collection._iter_documents = _iter_documents
    _look_up_value_sets()


class ValueSet(list):
    """An ``$in``/``$nin`` list of plain values, with the set of them (``values``)."""

    __slots__ = ("values",)

    def __init__(self, items: list) -> None:
        super().__init__(items)
        self.values = frozenset(items)


def with_value_sets(filter: Any) -> Any:
    """``filter`` with each long ``$in``/``$nin`` list of plain values as a ``ValueSet``
    (top-level fields and the clauses of ``$and``/``$or``/``$nor``); the caller's
    filter is not changed."""
    if not isinstance(filter, dict):
        return filter
    changed = None
    for name, condition in filter.items():
        if name in ("$and", "$or", "$nor") and isinstance(condition, list):
            clauses = [with_value_sets(clause) for clause in condition]
            new = (
                clauses
                if any(a is not b for a, b in zip(clauses, condition, strict=True))
                else None
            )
        elif type(condition) is dict and not name.startswith("$"):
            new = _condition_with_sets(condition)
        else:
            new = None
        if new is not None:
            changed = changed or dict(filter)
            changed[name] = new
    return filter if changed is None else changed


def _condition_with_sets(condition: dict) -> dict | None:
    new = None
    for operator in ("$in", "$nin"):
        values = condition.get(operator)
        if (
            type(values) is list
            and len(values) >= VALUE_SET_FROM
            and all(type(value) in PLAIN_VALUES for value in values)
        ):
            new = new or dict(condition)
            new[operator] = ValueSet(values)
    return new


def _look_up_value_sets() -> None:
    """mongomock's ``$in``/``$nin`` look a ``ValueSet`` up; other lists as before."""
    from mongomock import filtering

    operators = filtering._filterer_inst._operator_map
    original = operators["$in"]
    if getattr(original, "looks_up_value_sets", False):
        return

    def in_operator(document_value: Any, values: Any) -> bool:
        if type(values) is not ValueSet:
            return original(document_value, values)
        if document_value is filtering.NOTHING:
            return None in values.values
        found = values.values
        for value in (
            document_value if isinstance(document_value, (list, tuple)) else (document_value,)
        ):
            try:
                if value in found:
                    return True
            except TypeError:  # unhashable: never equal to a plain value
                continue
        return False

    in_operator.looks_up_value_sets = True
    operators["$in"] = in_operator
    operators["$nin"] = lambda document_value, values: not in_operator(document_value, values)


def key_condition(filter: Any) -> tuple[list[Any], dict] | None:
    """(keys, the rest of the filter) when ``filter`` holds an ``_id`` condition on
    plain keys (``{_id: k}``, ``{_id: {"$eq": k}}``, ``{_id: {"$in": [...]}}``)
    at its top level or in a top-level ``$and``; None for every other shape."""
    if not isinstance(filter, dict):
        return None
    if ID in filter:
        keys = plain_keys(filter[ID])
        if keys is None:
            return None
        return keys, {name: value for name, value in filter.items() if name != ID}
    clauses = filter.get("$and")
    if not isinstance(clauses, list):
        return None
    for index, clause in enumerate(clauses):
        if isinstance(clause, dict) and clause.keys() == {ID}:
            keys = plain_keys(clause[ID])
            if keys is not None:
                others = clauses[:index] + clauses[index + 1 :]
                rest = {name: value for name, value in filter.items() if name != "$and"}
                if others:
                    rest["$and"] = others
                return keys, rest
    return None


def plain_keys(condition: Any) -> list[Any] | None:
    """The keys an ``_id`` condition accepts, or None unless every one is a plain key."""
    if type(condition) in PLAIN_KEYS:
        return [condition]
    if type(condition) is not dict or len(condition) != 1:
        return None
    ((operator, value),) = condition.items()
    if operator == "$eq" and type(value) in PLAIN_KEYS:
        return [value]
    if (
        operator == "$in"
        and isinstance(value, (list, tuple))
        and all(type(key) in PLAIN_KEYS for key in value)
    ):
        return list(value)
    return None


def documents_with_keys(store: Any, keys: list[Any]) -> list[dict]:
    """The documents of mongomock's ``store`` whose ``_id`` is one of ``keys``, in the
    collection's order."""
    store._remove_expired_documents()
    with store._rwlock.reader():
        documents = store._documents
        if len(keys) <= SCAN_ABOVE:
            found = [documents.get(key) for key in keys]
            # The dict pairs 1 with True; MongoDB does not.
            return [d for d in found if d is not None and type(d.get(ID)) is not bool]
        wanted = set(keys)
        return [
            document
            for key, document in documents.items()
            if key in wanted and type(key) is not bool
        ]
