"""Several updates, each of its own rows, in one ``bulkWrite`` command.

An update decided in Python (``bulk_update()``'s ``Case(When(pk=...))``, a
``Concat`` of a column, a filter the server cannot run) gives many rows
different values, so it is many updates, each guarded by its own filter
(``django_nonrel.guarded_writes``). Sent one command each, 2,000 rows were
2,000 round trips (and, on FerretDB, 4,000 more for the row claims). Here they
go as one ``bulkWrite`` of ``updateOne``/``updateMany`` operations: each
operation keeps its filter, which the server checks per document as for a
command of its own, so nothing is written blind; the result is how many
documents the operations matched together, which is what the guarded write
needs to know whether every row was reached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple

from pymongo import UpdateMany, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from django_nonrel.query import NonrelQuery, UpdateValue

from .skipped_sets import nested_sets

DUPLICATE_KEY = 11000
#: Statements per write command on FerretDB: v1.24 stops answering (and then
#: every other command) when an update command carries 100 or more statements;
#: 99 are answered (measured with UpdateOne batches of 50, 64, 99 and 100).
FERRETDB_WRITE_STATEMENTS = 50


def update_each(
    store: Any,
    writes: Sequence[tuple[NonrelQuery, dict[str, UpdateValue]]],
    single: Callable[[NonrelQuery, dict[str, UpdateValue]], int],
) -> int:
    """Apply each ``(query, values)`` to the rows of its query; the rows matched in all.

    One command for all of them (``single``, the store's own ``update`` of one
    query, when there is only one). Each is its own ``update`` on mongomock,
    which has no ``$mul``, where the writes go to several tables, and on
    FerretDB when a write sets a value holding a document: there a skipped
    ``$set`` is repaired on the rows a write matched (skipped_sets.py), which
    only a command of its own reports -- a bulk write's counts are the batch's,
    and a row whose guard failed must not be written.
    """
    if not writes:
        return 0
    table = writes[0][0].table
    if len(writes) == 1 or any(query.table != table for query, _ in writes):
        return sum(single(query, values) for query, values in writes)
    operations = []
    filters = []
    for query, values in writes:
        update = store.update_document(query, values)
        if "$mul" in update and store.connection.is_embedded:
            return sum(single(query, values) for query, values in writes)
        if store.skips_equal_documents and nested_sets(update):
            return sum(single(query, values) for query, values in writes)
        filter_doc = store.filter_document(query)
        filters.append(filter_doc)
        keys = query.named_keys()
        operations.append(Operation(filter_doc, update, keys is not None and len(keys) == 1))
    named = [query.named_keys() for query, _ in writes]
    if all(keys is not None for keys in named):
        # One $in (FerretDB runs a $or of 500 branches a hundred times slower).
        store.journal.changing_keys(table, [key for keys in named for key in keys])
    else:
        store.journal.changing(table, {"$or": filters})
    collection = store.collection(table)
    if store.connection.is_embedded:
        write = _embedded_write
    else:
        per_command = FERRETDB_WRITE_STATEMENTS if store.connection.server_info["ferretdb"] else 0
        write = partial(_write, per_command=per_command)
    result = store.run(
        f"db.{table}.bulkWrite(<{len(operations)} guarded updates>)",
        write,
        collection,
        operations,
    )
    return result.matched_count


class Operation(NamedTuple):
    """One update of a bulk write: its filter, its update document, whether one row."""

    filter: dict[str, Any]
    update: dict[str, Any]
    one: bool


class Counts(NamedTuple):
    """What a bulk write reports back (as pymongo's BulkWriteResult)."""

    matched_count: int
    modified_count: int


def _write(collection, operations: list[Operation], per_command: int = 0) -> Counts:
    """The bulk write (in commands of ``per_command`` statements where the server
    needs it), a unique-index refusal as the DuplicateKeyError it is."""
    requests = [
        (UpdateOne if one else UpdateMany)(filter_doc, update)
        for filter_doc, update, one in operations
    ]
    size = per_command or len(requests)
    matched = modified = 0
    try:
        for start in range(0, len(requests), size):
            result = collection.bulk_write(requests[start : start + size], ordered=True)
            matched += result.matched_count
            modified += result.modified_count
        return Counts(matched, modified)
    except BulkWriteError as error:
        refused = error.details.get("writeErrors", [])
        if refused and all(e.get("code") == DUPLICATE_KEY for e in refused):
            reason = refused[0].get("errmsg", "duplicate key")
            raise DuplicateKeyError(reason, DUPLICATE_KEY) from error
        raise


def _embedded_write(collection, operations: list[Operation]) -> Counts:
    """mongomock's ``bulk_write`` does not take this pymongo's operations: each in
    turn, in the one command the store's lock makes of them."""
    matched = modified = 0
    for filter_doc, update, one in operations:
        write = collection.update_one if one else collection.update_many
        result = write(filter_doc, update)
        matched += result.matched_count
        modified += result.modified_count
    return Counts(matched, modified)
