"""FerretDB v1 skips a ``$set`` of a sub-document it finds equal to the stored one, keys ignored.

Measured on FerretDB v1.24: on ``{d: {s: 1}}``, ``{$set: {d: {m: 1}}}`` matches
the document and modifies nothing -- FerretDB compares the old and new value
of a field by their values in order, not by their keys -- so a renamed dict
key, a key replaced by another holding the same value, or the same change
inside a list element is silently not written, also inside an upsert. Next to
another field that does change (``{$set: {title: "new", d: {m: 1}}}``) the
command writes the title, skips ``d`` and reports the document *modified*: the
counts the server returns cannot reveal the skip. MongoDB and mongomock write it.

So on FerretDB, after a write that sets a value holding a document (a dict, or
a list with a dict inside; values without keys compare correctly), the rows the
write acted on are read back (one ``find`` of those columns) and every column
whose stored value differs from what was sent -- keys, order and values
compared, as BSON stores them -- is written again in two commands, ``$unset``
then ``$set``, which FerretDB cannot skip. Between the two a reader sees the
column absent (FerretDB has no transactions to hide it); nothing is lost.

Only rows the write acted on are rewritten, never a row its filter left out:
the ids checked are the rows that matched the write's whole filter, read
before the write while this backend holds the rows' claims (row_claims.py: no
other writer of this backend changes them until the claims are released, after
the rewrite), or the one key of a write that reported it matched. The read-back
is bookkeeping, like the claims: it is not a query the ORM asked for and does
not show in ``connection.queries``; the rewrites are writes and do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import bson

from .store_handle import StoreHandle

ID = "_id"
_MISSING = object()


def nested_sets(update: dict[str, Any]) -> dict[str, Any]:
    """The ``$set`` columns of ``update`` holding a document at any depth (FerretDB may skip)."""
    return {
        column: value for column, value in update.get("$set", {}).items() if _holds_document(value)
    }


def _holds_document(value: Any) -> bool:
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(_holds_document(item) for item in value)


def pinned_ids(filter_doc: dict[str, Any]) -> list[Any] | None:
    """The ``_id`` values of a filter that is nothing but a key equality or ``$in``, else None.

    A filter with any other condition (a guard, the rest of a queryset's filter)
    may leave some of the named rows out: those are read, not presumed.
    """
    if set(filter_doc) != {ID}:
        return None
    condition = filter_doc[ID]
    if isinstance(condition, dict) and set(condition) == {"$eq"}:
        return [condition["$eq"]]
    if isinstance(condition, dict) and set(condition) == {"$in"}:
        return list(condition["$in"])
    if not isinstance(condition, dict):
        return [condition]
    return None


def rewrite_skipped(store: StoreHandle, table: str, ids: Sequence[Any], sets: dict[str, Any]):
    """Write again each column of ``sets`` that documents ``ids`` do not hold as sent.

    ``ids`` are rows the write acted on and this backend still holds (see the
    module's docstring), so each is addressed by its key alone.
    """
    if not ids or not sets:
        return
    collection = store.collection(table)
    # What the server stores for what was sent (datetimes in UTC to the millisecond...).
    sent = bson.decode(bson.encode(sets))
    projection = dict.fromkeys(sets, 1)
    filter_doc = {ID: {"$in": list(ids)}}
    documents = store.run(
        f"db.{table}.find({filter_doc!r}, {projection!r})",
        lambda: list(collection.find(filter_doc, projection)),
        bookkeeping=True,
    )
    for document in documents:
        stale = {
            column: sets[column]
            for column in sets
            if not _same(document.get(column, _MISSING), sent[column])
        }
        if not stale:
            continue
        key = {ID: document[ID]}
        unset = {"$unset": dict.fromkeys(stale, "")}
        store.run(f"db.{table}.updateOne({key!r}, {unset!r})", collection.update_one, key, unset)
        again = {"$set": stale}
        store.run(f"db.{table}.updateOne({key!r}, {again!r})", collection.update_one, key, again)


def _same(stored: Any, sent: Any) -> bool:
    """Equal as documents are: same keys in the same order, same values, recursively."""
    if isinstance(sent, dict):
        return (
            isinstance(stored, dict)
            and list(stored) == list(sent)
            and all(_same(stored[key], value) for key, value in sent.items())
        )
    if isinstance(sent, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(sent)
            and all(_same(a, b) for a, b in zip(stored, sent, strict=True))
        )
    return stored is not _MISSING and type(stored) is type(sent) and stored == sent
