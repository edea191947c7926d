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


def keep_returned_keys(
    query: Any, connection: Any, returning_fields: Sequence[Any] | None, values: list[tuple]
) -> None:
    """After a batch was written: its instances get their keys now, if the rows stay."""
    pk = query.get_meta().pk
    if returning_fields and pk in returning_fields and rows_stay(connection):
        position = list(returning_fields).index(pk)
        _keep_keys(query.objs, pk.attname, [row[position] for row in values])


def refused(
    query: Any,
    connection: Any,
    returning_fields: Sequence[Any] | None,
    keys: Sequence[Any],
    error: PartialInsertError,
) -> PartialInsertError:
    """The error to raise for a batch that stopped at a refused row: what was written
    before it (``keys``, converted as Django's converters return them), and why it
    stopped. The instances of the rows written get their keys, if the rows stay."""
    kept = rows_stay(connection)
    pk = query.get_meta().pk
    if kept and returning_fields and pk in returning_fields:
        _keep_keys(query.objs, pk.attname, keys)
    written = error.written
    shown = ", ".join(repr(k) for k in keys[:10]) + (", ..." if written > 10 else "")
    keys_text = f" (keys {shown})" if written else ""
    outcome = (
        "The instances of the written rows have their primary key set; the others were not written."
        if kept
        else "The transaction this runs in rolls them back."
    )
    return PartialInsertError(
        f"{query.get_meta().label}: {written} of the {len(query.objs)} rows of this batch "
        f"were written{keys_text} before row {written + 1} was refused: {error}. {outcome}",
        list(keys) if kept else [],
    )


def _keep_keys(objs: Sequence[Any], attname: str, keys: Sequence[Any]) -> None:
    """Give the instances whose rows were written (in order) the keys they got."""
    for obj, key in zip(objs, keys, strict=False):
        if getattr(obj, attname) is None:
            setattr(obj, attname, key)
