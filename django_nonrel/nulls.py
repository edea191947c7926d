"""NULL handling SQL databases do in the schema and document stores do not.

- NOT NULL: a document store accepts ``None`` anywhere. Where
  ``features.checks_not_null`` is set, writes of ``None`` into a field declared
  ``null=False`` raise ``IntegrityError`` before anything is sent, as the
  column constraint would on SQL.
- Nullable unique fields: SQL unique constraints ignore NULLs; a MongoDB unique
  index treats every missing-or-null value as equal. Where
  ``features.stores_unique_nulls_as_absent`` is set, a nullable field that is
  part of a unique set (``unique=True``, a ``unique_together`` entry, an
  unconditional ``UniqueConstraint``) is stored *absent* when None (reads see
  None either way). A unique index on it alone is sparse, which skips
  documents without the field; a unique index on several columns is partial,
  covering only documents that have every nullable one (SQL skips a row with
  a NULL in any column of the set), on servers with partial indexes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from itertools import repeat
from operator import is_
from typing import Any

from django.db import IntegrityError
from django.db.models import UniqueConstraint


@cache
def absent_when_null(model) -> frozenset[str]:
    """Columns of ``model`` stored absent when None: nullable, in a unique set
    (``unique=True``, a ``unique_together`` entry, an unconditional
    ``UniqueConstraint`` on fields whose NULLs are distinct)."""
    meta = model._meta
    in_unique_sets = {name for names in meta.unique_together for name in names}
    in_unique_sets.update(
        name
        for constraint in meta.constraints
        if isinstance(constraint, UniqueConstraint)
        and constraint.condition is None
        and constraint.nulls_distinct is not False
        for name in constraint.fields
    )
    return frozenset(
        field.column
        for field in meta.concrete_fields
        if field.null and not field.primary_key and (field.unique or field.name in in_unique_sets)
    )


def not_null_fields(model, fields: Iterable) -> list:
    """The fields among ``fields`` that must not be given None."""
    auto = model._meta.auto_field
    # None in a JSONField is JSON null, a value, not SQL NULL.
    return [
        field
        for field in fields
        if not (field.null or field is auto or field.get_internal_type() == "JSONField")
    ]


def check_required(model, values: dict[str, Any], required: Iterable) -> None:
    """Raise IntegrityError if a field of ``required`` (see :func:`not_null_fields`) is None.

    Bulk inserts compute ``required`` once and check every row with it.
    """
    for field in required:
        if values.get(field.column, 0) is None:
            raise IntegrityError(
                f"NOT NULL constraint failed: {model._meta.db_table}.{field.column} "
                f"({model.__name__}.{field.name} has null=False)."
            )


def check_required_rows(model, rows: Iterable[dict[str, Any]], required: list) -> None:
    """:func:`check_required` for each of ``rows`` (a bulk insert), each row in one pass.

    The row's values of the required columns (a missing column reads as 0,
    as in ``check_required``) are tested for being None by ``map`` and ``any``,
    in C; only a row that holds a None goes through ``check_required`` for its
    error.
    """
    if not required:
        return
    columns = [field.column for field in required]
    nones = repeat(None)
    for row in rows:
        if any(map(is_, map(row.get, columns, repeat(0)), nones)):
            check_required(model, row, required)


def check_not_null(model, values: dict[str, Any], fields: Iterable) -> None:
    """Raise IntegrityError if a NOT NULL field of ``model`` is given None."""
    check_required(model, values, not_null_fields(model, fields))
