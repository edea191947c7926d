"""The indexes of one collection, under the names Django gives them.

SQL keeps any number of indexes on the same columns under different names.
MongoDB keeps one index per key pattern (and partial filter) and refuses a
second one ("Index already exists with a different name"); FerretDB v1 even
keeps an existing index of the same name and keys when asked for a *unique*
one, silently. Django declares such overlaps routinely: ``db_index=True`` and
a ``Meta.indexes`` entry on the same field, ``unique=True`` and a
``UniqueConstraint`` on it, ``index_together`` beside ``unique_together``.

So every name Django declares is recorded with its spec (``schema_record``),
and the server holds one index per key pattern: the strongest any declared
name asks for (unique over plain). A name whose keys are already indexed
strongly enough is recorded only; dropping the name that holds the server
index recreates it for the names still declared; introspection reports every
declared name with its own spec. A spec on the primary key alone is served by
the ``_id_`` index every collection has.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bson import json_util

#: The index every collection has on ``_id``.
ID_INDEX = "_id_"
ID = "_id"


@dataclass(frozen=True)
class IndexSpec:
    """One index as Django declares it: name, key pattern and options."""

    name: str
    #: (path, 1 / -1 / "hashed") per key field, in order.
    keys: tuple[tuple[str, int | str], ...]
    unique: bool = False
    #: Skip documents without the key (nullable unique fields store NULL as absent).
    sparse: bool = False
    #: The partialFilterExpression, on servers that have partial indexes.
    partial: dict[str, Any] | None = None

    @property
    def columns(self) -> list[str]:
        return [key for key, _ in self.keys]

    def options(self) -> dict[str, Any]:
        """The options of ``create_index`` for this spec."""
        options: dict[str, Any] = {"name": self.name}
        if self.unique:
            options["unique"] = True
        if self.sparse:
            options["sparse"] = True
        if self.partial is not None:
            options["partialFilterExpression"] = self.partial
        return options

    def same_keys(self, other: IndexSpec) -> bool:
        """Whether MongoDB would see the two as one index (same pattern and filter)."""
        return self.keys == other.keys and self.partial == other.partial

    def serves(self, other: IndexSpec) -> bool:
        """Whether a server index built from this spec enforces and serves ``other``."""
        if not self.same_keys(other):
            return False
        if other.unique:
            return self.unique and self.sparse == other.sparse
        return True

    def with_columns_moved(self, moves: dict[str, str | None]) -> IndexSpec | None:
        """This spec with the columns of ``moves`` renamed at once (None: a column
        went away, and the index with it)."""
        keys = []
        for key, order in self.keys:
            moved = _moved(key, moves)
            if moved is None:
                return None
            keys.append((moved, order))
        partial = None if self.partial is None else _moved_paths(self.partial, moves)
        return replace(self, keys=tuple(keys), partial=partial)

    def uses_column(self, column: str) -> bool:
        return any(_under(key, column) for key, _ in self.keys)

    def to_record(self) -> dict[str, Any]:
        """The spec as stored in the schema record: no nested arrays (FerretDB v1
        refuses them) and no operator keys (the partial filter is Extended JSON)."""
        return {
            "key": [{"path": key, "order": order} for key, order in self.keys],
            "unique": self.unique,
            "sparse": self.sparse,
            "partial": None if self.partial is None else json_util.dumps(self.partial),
        }

    @classmethod
    def from_record(cls, name: str, record: dict[str, Any]) -> IndexSpec:
        partial = record.get("partial")
        return cls(
            name=name,
            keys=tuple((key["path"], key["order"]) for key in record["key"]),
            unique=record.get("unique", False),
            sparse=record.get("sparse", False),
            partial=None if partial is None else json_util.loads(partial),
        )

    @classmethod
    def from_server(cls, name: str, info: dict[str, Any]) -> IndexSpec:
        """A spec from ``index_information()``; ``_id_`` is unique without saying so."""
        return cls(
            name=name,
            keys=tuple((key, order) for key, order in info["key"]),
            unique=name == ID_INDEX or bool(info.get("unique")),
            sparse=bool(info.get("sparse")),
            partial=info.get("partialFilterExpression"),
        )


def server_options(info: dict[str, Any]) -> dict[str, Any]:
    """The ``create_index`` options of an ``index_information()`` entry (all but its keys)."""
    return {k: v for k, v in info.items() if k not in ("key", "v", "ns", "name")}


def _under(path: str, column: str) -> bool:
    return path == column or path.startswith(column + ".")


def _moved(path: str, moves: dict[str, str | None]) -> str | None:
    for old, new in moves.items():
        if _under(path, old):
            return None if new is None else new + path[len(old) :]
    return path


def _moved_paths(document: Any, moves: dict[str, str | None]) -> Any:
    """A filter document with its field paths moved (a path that went away stays)."""
    if isinstance(document, dict):
        return {
            (key if key.startswith("$") else _moved(key, moves) or key): _moved_paths(v, moves)
            for key, v in document.items()
        }
    if isinstance(document, list):
        return [_moved_paths(item, moves) for item in document]
    return document


class CollectionIndexes:
    """Create and drop the indexes of ``table`` by Django's names (see module docstring).

    ``record`` is the database's ``SchemaRecord``. Every method reads the
    server's indexes afresh: the schema editor calls them one at a time.
    """

    def __init__(self, database, record, table: str) -> None:
        self.collection = database[table]
        self.record = record
        self.table = table

    def on_server(self) -> dict[str, IndexSpec]:
        return {
            name: IndexSpec.from_server(name, info)
            for name, info in self.collection.index_information().items()
        }

    def declared(self) -> dict[str, IndexSpec]:
        return {
            name: IndexSpec.from_record(name, entry)
            for name, entry in self.record.indexes(self.table).items()
        }

    def _save(self, declared: dict[str, IndexSpec]) -> None:
        self.record.set_indexes(
            self.table, {name: spec.to_record() for name, spec in declared.items()}
        )

    # -- changes ---------------------------------------------------------------
    def ensure(self, spec: IndexSpec) -> None:
        """Declare ``spec`` and make the server enforce it."""
        declared = self.declared()
        declared[spec.name] = spec
        server = self.on_server()
        stale = server.get(spec.name)
        if stale is not None and stale != spec:
            # The name is taken by another definition (FerretDB would keep it).
            self.collection.drop_index(spec.name)
            del server[spec.name]
        self._provide(spec, server, declared)
        self._save(declared)

    def drop(self, name: str) -> None:
        """Forget ``name``; the server index it held stays while other names need it."""
        declared = self.declared()
        gone = declared.pop(name, None)
        server = self.on_server()
        if name in server and name != ID_INDEX:
            gone = server.pop(name)
            self.collection.drop_index(name)
        if gone is None:
            return
        self._restore(gone, server, declared)
        self._save(declared)

    def move_columns(self, moves: dict[str, str | None]) -> None:
        """Rebuild the indexes on the columns of ``moves`` for their new keys.

        An index names document keys, so it does not follow a renamed key as
        SQL's indexes follow a renamed column. A column moved to None went away
        (RemoveField): its indexes go too, as SQL drops a dropped column's.
        Indexes the record does not know (created before it) are rebuilt too.
        """
        server = self.on_server()
        known = {n: s for n, s in server.items() if n != ID_INDEX}
        known.update(self.declared())
        touched = [s for s in known.values() if any(s.uses_column(c) for c in moves)]
        if not touched:
            return
        for name, spec in list(server.items()):
            if name != ID_INDEX and any(spec.uses_column(c) for c in moves):
                self.collection.drop_index(name)
                del server[name]
        for spec in touched:
            del known[spec.name]
            moved = spec.with_columns_moved(moves)
            if moved is not None:
                known[moved.name] = moved
        for spec in sorted(known.values(), key=_strength, reverse=True):
            self._provide(spec, server, known)
        self._save(known)

    # -- the server side --------------------------------------------------------
    def _provide(
        self, spec: IndexSpec, server: dict[str, IndexSpec], declared: dict[str, IndexSpec]
    ) -> None:
        """Make some server index serve ``spec``: an existing one, or one built now."""
        if spec.keys in (((ID, 1),), ((ID, -1),)) and spec.partial is None:
            return  # the _id_ index is unique and serves both directions
        same = [s for s in server.values() if s.same_keys(spec)]
        if any(s.serves(spec) for s in same):
            return
        for weaker in same:
            # A plain index where a unique one is needed: the unique one replaces it
            # and serves the plain name too.
            self.collection.drop_index(weaker.name)
            del server[weaker.name]
            declared.setdefault(weaker.name, weaker)
        self.collection.create_index(list(spec.keys), **spec.options())
        server[spec.name] = spec

    def _restore(
        self, gone: IndexSpec, server: dict[str, IndexSpec], declared: dict[str, IndexSpec]
    ) -> None:
        """After ``gone`` left the server, rebuild its keys for the names still declared."""
        waiting = [s for s in declared.values() if s.same_keys(gone) and s.name not in server]
        if not waiting:
            return
        self._provide(max(waiting, key=_strength), server, declared)


def _strength(spec: IndexSpec) -> tuple[bool, bool]:
    """Unique before plain, so that one build serves the names sharing the keys."""
    return (spec.unique, not spec.sparse)
