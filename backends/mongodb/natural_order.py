"""Putting restored documents back in key order after a rollback.

A collection read without ``order_by()`` comes back in the server's natural
order: the order documents were inserted in, on mongomock and FerretDB (and a
standalone ``mongod``). Rolling back a delete with the undo journal inserts the
deleted documents again, so they move to the end: after a ``TestCase`` whose
test deleted a row, the next test's ``Model.objects.all()[0]`` read another
row than on SQL, where a rolled-back delete never moved anything. Test suites
rely on that order (Django's own does).

The documents' original places are not recorded, but in the common case they
are known: where the documents that stayed are in ascending key order (integer
auto keys and ObjectIds are allocated ascending, so rows created in order sit
in key order), the restored ones belong in key order too. Then the documents
from the smallest restored key on are written again in key order: read,
deleted and inserted, three bookkeeping commands. Where the documents that
stayed are not in key order (explicit keys inserted out of order), their
original places cannot be known and nothing is moved. Collections over
``ORDER_LIMIT`` documents are left as they are: the rewrite is for the test
and small-table scale the journal serves, not for moving a large collection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .filters import ID
from .store_handle import StoreHandle

#: Larger collections are not rewritten to restore their order (see the docstring).
ORDER_LIMIT = 10_000


def restore_key_order(store: StoreHandle, table: str, moved: Sequence[Any]) -> None:
    """Put the documents ``moved`` (inserted again at the end) back in key order."""
    if not moved:
        return
    collection = store.collection(table)
    keys = store.run(
        f"db.{table}.find(<keys in natural order>)",
        lambda: [d[ID] for d in collection.find({}, {ID: 1}).limit(ORDER_LIMIT + 1)],
        bookkeeping=True,
    )
    if len(keys) > ORDER_LIMIT:
        return
    moved_set = {key_identity(key) for key in moved}
    stayed = [key for key in keys if key_identity(key) not in moved_set]
    try:
        first = min(moved)
        if stayed != sorted(stayed) or keys == sorted(keys):
            return
    except TypeError:  # keys of types that do not compare (mixed int and str)
        return
    tail = {ID: {"$gte": first}}
    documents = store.run(
        f"db.{table}.find(<documents from the first restored key>)",
        lambda: sorted(collection.find(tail), key=lambda d: d[ID]),
        bookkeeping=True,
    )
    store.run(
        f"db.{table}.deleteMany(<{len(documents)} documents to reorder>)",
        collection.delete_many,
        tail,
        bookkeeping=True,
    )
    store.run(
        f"db.{table}.insertMany(<{len(documents)} documents in key order>)",
        collection.insert_many,
        documents,
        bookkeeping=True,
    )


def key_identity(value: Any) -> Any:
    """A dict key for an ``_id`` (1 and "1" differ; unhashable ids by their content)."""
    try:
        hash(value)
    except TypeError:
        return (type(value), repr(value))
    return (type(value), value)
