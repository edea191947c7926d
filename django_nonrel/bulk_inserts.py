"""What a bulk_create() that stopped at a refused row leaves behind, said exactly.

A document store inserts a batch in order and stops at the first row it
refuses (a duplicate key); the rows before it are written, and there is no
transaction to take them back. Django's ``bulk_create()`` learns the keys of
the rows it inserted only from a successful batch, so after the error every
instance's ``pk`` was left unset -- also of the rows that are now stored. On
backends that return keys Django sets them on the instances; here the
instances of the rows that were written get their keys the same way (after a
successful batch too, so that an error in a later batch of the same call
leaves the earlier ones with their keys), and the error names how many rows of
the batch were written and their keys. Inside a transaction that rolls the
rows back (a MongoDB replica set, or an undo journal) no instance gets a key,
as on SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django_nonrel.exceptions import PartialInsertError


def rows_stay(connection: Any) -> bool:
    """Whether rows inserted now stay if the statement fails: not inside a transaction
    (or an undo journal) that ``bulk_create()``'s ``atomic()`` rolls back, as SQL's does
    -- there no instance gets a key, as on SQL."""
    return not (connection.in_atomic_block and connection.features.supports_transactions)


def keep_keys(objs: Sequence[Any], attname: str, keys: Sequence[Any]) -> None:
    """Give the instances whose rows were written (in order) the keys they got."""
    for obj, key in zip(objs, keys, strict=False):
        if getattr(obj, attname) is None:
            setattr(obj, attname, key)


def refused(
    label: str, total: int, keys: Sequence[Any], error: PartialInsertError, kept: bool
) -> PartialInsertError:
    """The error to raise: what was written before the refused row, and why it stopped."""
    written = error.written
    shown = ", ".join(repr(k) for k in keys[:10]) + (", ..." if written > 10 else "")
    keys_text = f" (keys {shown})" if written else ""
    outcome = (
        "The instances of the written rows have their primary key set; the others were not written."
        if kept
        else "The transaction this runs in rolls them back."
    )
    return PartialInsertError(
        f"{label}: {written} of the {total} rows of this batch were written{keys_text} "
        f"before row {written + 1} was refused: {error}. {outcome}",
        written if kept else 0,
    )
