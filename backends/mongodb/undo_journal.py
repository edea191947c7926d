"""The undo journal: ``atomic()`` and savepoints on MongoDB stores without transactions.

Where the server has no multi-document transactions (mongomock://, FerretDB,
a standalone ``mongod``) each write is applied when it is sent. Inside a
transaction the journal therefore records, *before* every write the store
sends, what undoes it:

- an insert: the ``_id`` of every document it creates;
- an update, upsert or delete: the whole prior document of every document it
  matches, read with the write's own filter (so fields the model does not
  know are restored too, and a document the upsert creates is deleted again);
- a key allocation: the table's key counter before and after (recorded from
  the counter command's own answer: a counter left higher than recorded only
  skips keys), and this connection's block of reserved keys.

Rolling back (the whole transaction, or to a savepoint) puts every document
the undone writes touched back as it was at the start -- the first prior
state recorded for each ``_id`` wins -- in at most two commands per
collection, then the key counters and key blocks, so a table's next key is
the one it would have been, as after a rollback on SQLite.

What it guarantees: the block is atomic against exceptions in one process.
It does not isolate: other connections see the block's writes as they are
made, and a write another connection makes to the same documents during the
block is overwritten by the rollback (a counter another connection moved is
left alone: keys are never handed out twice). It is not crash-safe: the
journal lives in this process, so writes made before a crash stay.

Where the server has transactions, the outermost block is a server
transaction and the journal serves only savepoints: it records from the
first savepoint on, and rolling back to a savepoint undoes, inside the same
server transaction, the writes made since.

The journal's own reads and undo writes are bookkeeping: they are not logged
in ``connection.queries`` (``assertNumQueries`` counts the same with or
without it) and they run even while the transaction awaits its rollback.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError
from pymongo import ReplaceOne

from .bulk_updates import FERRETDB_WRITE_STATEMENTS
from .filters import ID
from .natural_order import key_identity, restore_key_order
from .store_handle import StoreHandle


@dataclass(frozen=True)
class Documents:
    """Documents of ``table`` before one write: each ``_id`` with its whole prior
    document, or None for a document the write creates."""

    table: str
    priors: tuple[tuple[Any, dict[str, Any] | None], ...]


@dataclass(frozen=True)
class Counter:
    """A table's key counter before and after one command (None: no counter)."""

    table: str
    before: int | None
    after: int | None


@dataclass(frozen=True)
class KeyBlock:
    """This connection's block of reserved keys of ``table`` before an allocation."""

    table: str
    block: tuple[int, int] | None


Entry = Documents | Counter | KeyBlock


class Scope(enum.Enum):
    """Which writes the journal records."""

    OFF = "none: autocommit, or no rollback to serve"
    EVERYTHING = "every write of the transaction (no server transactions)"
    SAVEPOINTS = "writes made after a savepoint (inside a server transaction)"


class UndoJournal:
    """The undo records of one connection's transaction (see the module docstring)."""

    def __init__(self, store: StoreHandle, counters: str) -> None:
        self.store = store
        #: The collection holding one key counter document per table.
        self.counters = counters
        self.scope = Scope.OFF
        self.entries: list[Entry] = []
        #: Savepoint id -> how many entries preceded it, in creation order.
        self.marks: dict[str, int] = {}
        #: Per scope (the transaction, then each savepoint in order): the documents
        #: whose prior state it already holds -- a later write to them needs no read.
        self.recorded: list[set[tuple[str, Any]]] = [set()]

    # -- the transaction's life ----------------------------------------------------

    def __del__(self) -> None:
        # The store holds this journal: no cycle left for the garbage collector.
        del self.store

    def begin(self, scope: Scope) -> None:
        """Autocommit was turned off: record what ``scope`` says from now on."""
        self.scope = scope
        self.commit()

    def end(self) -> None:
        """Autocommit is on again: nothing is recorded."""
        self.begin(Scope.OFF)

    def commit(self) -> None:
        """The transaction's writes stay: forget how to undo them."""
        self.entries.clear()
        self.marks.clear()
        self.recorded = [set()]

    def rollback(self) -> None:
        """Undo the whole transaction (a server transaction's abort undoes the
        documents itself; only this connection's key blocks are put back)."""
        self._undo(self.entries, documents=self.scope is Scope.EVERYTHING)
        self.commit()

    def savepoint(self, sid: str) -> None:
        self.marks[sid] = len(self.entries)
        self.recorded.append(set())

    def rollback_to(self, sid: str) -> None:
        """Undo the writes made since savepoint ``sid``; the savepoint stays, later ones go."""
        start = self._mark(sid)
        self._undo(self.entries[start:], documents=True)
        del self.entries[start:]
        self._forget_marks_after(sid)
        self.recorded[-1] = set()

    def release(self, sid: str) -> None:
        """Savepoint ``sid`` (and any made after it) is released; its writes stay
        part of the enclosing transaction or savepoint."""
        self._mark(sid)
        self._forget_marks_after(sid)
        del self.marks[sid]
        released = self.recorded.pop()
        self.recorded[-1] |= released
        if self.scope is Scope.SAVEPOINTS and not self.marks:
            # Outside savepoints the server's abort undoes documents itself.
            self.entries = [e for e in self.entries if isinstance(e, KeyBlock)]

    def _mark(self, sid: str) -> int:
        try:
            return self.marks[sid]
        except KeyError:
            raise DatabaseError(f"Savepoint {sid!r} does not exist in this transaction.") from None

    def _forget_marks_after(self, sid: str) -> None:
        names = list(self.marks)
        later = names[names.index(sid) + 1 :]
        for name in later:
            del self.marks[name]
        if later:
            released = set().union(*self.recorded[-len(later) :])
            del self.recorded[-len(later) :]
            self.recorded[-1] |= released

    # -- recording ---------------------------------------------------------------
    @property
    def records_documents(self) -> bool:
        """Whether a write sent now must be recorded (its documents and counters)."""
        if self.scope is Scope.SAVEPOINTS:
            return bool(self.marks)
        return self.scope is Scope.EVERYTHING

    def inserting(self, table: str, ids: Sequence[Any]) -> Documents | None:
        """Before an insert of documents with these ``_id`` values."""
        if not self.records_documents:
            return None
        return self._add(Documents(table, tuple((key, None) for key in ids)))

    def changing(self, table: str, filter_doc: dict[str, Any]) -> Documents | None:
        """Before an update or delete of the documents ``filter_doc`` matches."""
        if not self.records_documents:
            return None
        documents = self._read(table, filter_doc)
        return self._add(Documents(table, tuple((d[ID], d) for d in documents)))

    def changing_keys(self, table: str, keys: Sequence[Any]) -> Documents | None:
        """Before an upsert of the documents with these ``_id`` values (absent ones are created).

        Documents whose prior state the current savepoint already holds are not
        read again (a row created, then saved, in one test costs no read).
        """
        if not self.records_documents:
            return None
        recorded = self.recorded[-1]
        keys = [key for key in keys if (table, key_identity(key)) not in recorded]
        if not keys:
            return None
        found = {key_identity(d[ID]): d for d in self._read(table, {ID: {"$in": keys}})}
        return self._add(Documents(table, tuple((k, found.get(key_identity(k))) for k in keys)))

    def counter(self, table: str, before: int | None, after: int | None) -> None:
        """A command moved the key counter of ``table`` from ``before`` to ``after``."""
        if self.records_documents:
            self._add(Counter(table, before, after))

    def removing_counters(self, tables: Sequence[str]) -> None:
        """Before the key counters of ``tables`` are deleted (a flush restarts them)."""
        if not self.records_documents:
            return
        stored = {d[ID]: int(d["value"]) for d in self._read(self.counters, {ID: {"$in": tables}})}
        for table in tables:
            self._add(Counter(table, stored.get(table), None))

    def key_block(self, table: str, block: Sequence[int] | None) -> None:
        """Before this connection's block of reserved keys of ``table`` changes."""
        if self.scope is not Scope.OFF:
            self._add(KeyBlock(table, (block[0], block[1]) if block else None))

    def narrow(self, entry: Documents | None, written: Iterable[Any]) -> None:
        """A write failed part way: only the documents in ``written`` were created."""
        if entry is None:
            return
        kept = {key_identity(key) for key in written}
        priors = tuple((key, prior) for key, prior in entry.priors if key_identity(key) in kept)
        self._replace(entry, Documents(entry.table, priors))

    def drop(self, entry: Documents | None) -> None:
        """A write failed and wrote nothing: it has nothing to undo."""
        if entry is not None:
            self._replace(entry, None)

    def _add(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        if isinstance(entry, Documents):
            self.recorded[-1].update((entry.table, key_identity(key)) for key, _ in entry.priors)
        return entry

    def _replace(self, entry: Documents, replacement: Documents | None) -> None:
        kept = set() if replacement is None else {key_identity(k) for k, _ in replacement.priors}
        for key, _ in entry.priors:
            if key_identity(key) not in kept:  # not recorded after all: a later write reads it
                for recorded in self.recorded:
                    recorded.discard((entry.table, key_identity(key)))
        for index in range(len(self.entries) - 1, -1, -1):
            if self.entries[index] is entry:
                if replacement is None:
                    del self.entries[index]
                else:
                    self.entries[index] = replacement
                return

    def _read(self, table: str, filter_doc: dict[str, Any]) -> list[dict[str, Any]]:
        collection = self.store.collection(table)
        return self.store.run(
            f"db.{table}.find(<prior state>)",  # never logged: no repr() of the filter
            lambda: list(collection.find(filter_doc)),
            bookkeeping=True,
        )

    # -- undoing -----------------------------------------------------------------
    def _undo(self, entries: Sequence[Entry], *, documents: bool) -> None:
        """Put back what ``entries`` changed: the first prior state recorded wins."""
        restored: dict[str, dict[Any, tuple[Any, dict[str, Any] | None]]] = {}
        counters: dict[str, tuple[int | None, int | None]] = {}
        blocks: dict[str, tuple[int, int] | None] = {}
        for entry in entries:
            if isinstance(entry, KeyBlock):
                blocks.setdefault(entry.table, entry.block)
            elif isinstance(entry, Counter):
                before = counters[entry.table][0] if entry.table in counters else entry.before
                counters[entry.table] = (before, entry.after)
            else:
                table = restored.setdefault(entry.table, {})
                for key, prior in entry.priors:
                    table.setdefault(key_identity(key), (key, prior))
        for table in counters:
            # The counter goes back (here or with the server's transaction).
            self.store.counter_floors.pop(table, None)
        if documents:
            for table, priors in restored.items():
                self._restore_documents(table, list(priors.values()))
            for table, (before, after) in counters.items():
                self._restore_counter(table, before, after)
        for table, block in blocks.items():
            if block is None:
                self.store.key_blocks.pop(table, None)
            else:
                self.store.key_blocks[table] = list(block)

    def _restore_documents(
        self, table: str, priors: list[tuple[Any, dict[str, Any] | None]]
    ) -> None:
        collection = self.store.collection(table)
        run = self.store.run
        created = [key for key, prior in priors if prior is None]
        previous = [prior for _, prior in priors if prior is not None]
        if created:
            run(
                f"db.{table}.deleteMany(<{len(created)} documents created>)",
                collection.delete_many,
                {ID: {"$in": created}},
                bookkeeping=True,
            )
        if not previous:
            return
        try:
            moved = self._replace_all(table, previous)
        except DatabaseError:
            # In place, restoring one document can collide on a unique index with
            # another not restored yet (two values swapped). Removing them all and
            # inserting them back cannot: the state restored is one that existed.
            run(
                f"db.{table}.deleteMany(<{len(previous)} documents to restore>)",
                collection.delete_many,
                {ID: {"$in": [d[ID] for d in previous]}},
                bookkeeping=True,
            )
            run(
                f"db.{table}.insertMany(<{len(previous)} documents restored>)",
                collection.insert_many,
                previous,
                bookkeeping=True,
            )
            moved = [d[ID] for d in previous]
        restore_key_order(self.store, table, moved)

    def _replace_all(self, table: str, documents: list[dict[str, Any]]) -> list[Any]:
        """Put ``documents`` back in place (recreating deleted ones): one command on a
        server. The keys of the documents recreated (at the end of natural order)."""
        collection = self.store.collection(table)
        if self.store.connection.is_embedded:
            # mongomock's bulk_write does not take this pymongo's ReplaceOne; in
            # process, one replace per document costs no round trips.
            recreated = []
            for document in documents:
                result = self.store.run(
                    f"db.{table}.replaceOne(<document restored>)",
                    collection.replace_one,
                    {ID: document[ID]},
                    document,
                    upsert=True,
                    bookkeeping=True,
                )
                if result.upserted_id is not None:
                    recreated.append(document[ID])
            return recreated
        size = len(documents)
        if self.store.connection.server_info["ferretdb"]:
            size = FERRETDB_WRITE_STATEMENTS
        recreated = []
        for start in range(0, len(documents), size):
            chunk = documents[start : start + size]
            result = self.store.run(
                f"db.{table}.bulkWrite(<{len(chunk)} documents replaced>)",
                collection.bulk_write,
                [ReplaceOne({ID: d[ID]}, d, upsert=True) for d in chunk],
                ordered=False,
                bookkeeping=True,
            )
            recreated += [chunk[index][ID] for index in result.upserted_ids]
        return recreated

    def _restore_counter(self, table: str, before: int | None, after: int | None) -> None:
        """Move the counter back, unless another connection moved it since (then
        keys are skipped, never handed out twice)."""
        counters = self.store.collection(self.counters)
        description = f"db.{self.counters}.restore(<counter of {table}>)"
        if after is None:
            if before is not None:
                # The counter was removed (a flush): it may only go up again.
                self.store.run(
                    description,
                    counters.update_one,
                    {ID: table},
                    {"$max": {"value": before}},
                    upsert=True,
                    bookkeeping=True,
                )
        elif before is None:
            self.store.run(
                description,
                counters.delete_one,
                {ID: table, "value": after},
                bookkeeping=True,
            )
        else:
            self.store.run(
                description,
                counters.update_one,
                {ID: table, "value": after},
                {"$set": {"value": before}},
                bookkeeping=True,
            )


def written_ids(
    documents: Sequence[dict[str, Any]], details: dict[str, Any], ordered: bool
) -> list[Any]:
    """The ``_id`` of the documents an insert that failed part way did write."""
    failed = sorted(error["index"] for error in details.get("writeErrors", []))
    if ordered:
        return [d[ID] for d in documents[: failed[0] if failed else len(documents)]]
    skipped = set(failed)
    return [d[ID] for index, d in enumerate(documents) if index not in skipped]
