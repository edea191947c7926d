"""FerretDB v1 skips a ``$set`` of a sub-document it finds equal to the stored one, keys ignored.

Measured on FerretDB v1.24: on ``{d: {s: 1}}``, ``{$set: {d: {m: 1}}}`` matches
the document and modifies nothing -- FerretDB compares the old and new value
of a field by their values in order, not by their keys -- so a renamed dict
key, a key replaced by another holding the same value, or the same change
inside a list element is silently not written (``modified_count`` 0), also
inside an upsert and next to other fields that are written. MongoDB and
mongomock write it.

So on FerretDB, when a write that sets document or list values modified fewer
documents than it matched, the documents it addressed are read back (one
``find`` of those columns) and every column whose stored value differs from
what was sent -- keys, order and values compared, as BSON stores them -- is
written again in two commands, ``$unset`` then ``$set``, which FerretDB cannot
skip. Between the two a reader sees the column absent (FerretDB has no
transactions to hide it); nothing is lost. Writes that change nothing cost
one extra read there, others nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import bson

from .store_handle import StoreHandle

ID = "_id"
_MISSING = object()


def nested_sets(update: dict[str, Any]) -> dict[str, Any]:
    """The ``$set`` columns of ``update`` holding a document or a list (what FerretDB may skip)."""
    return {
        column: value
        for column, value in update.get("$set", {}).items()
        if isinstance(value, dict | list)
    }


def pinned_ids(filter_doc: dict[str, Any]) -> list[Any] | None:
    """The ``_id`` values a filter is restricted to by equality, or None if it is not."""
    parts = filter_doc.get("$and", [filter_doc]) if ID not in filter_doc else [filter_doc]
    for part in parts:
        condition = part.get(ID, _MISSING) if isinstance(part, dict) else _MISSING
        if isinstance(condition, dict) and set(condition) == {"$eq"}:
            return [condition["$eq"]]
        if isinstance(condition, dict) and set(condition) == {"$in"}:
            return list(condition["$in"])
        if condition is not _MISSING and not isinstance(condition, dict):
            return [condition]
    return None


def rewrite_skipped(store: StoreHandle, table: str, ids: Sequence[Any], sets: dict[str, Any]):
    """Write again each column of ``sets`` that documents ``ids`` do not hold as sent."""
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
