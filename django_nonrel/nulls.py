"""NULL handling SQL databases do in the schema and document stores do not.

- NOT NULL: a document store accepts ``None`` anywhere. Where
  ``features.checks_not_null`` is set, writes of ``None`` into a field declared
  ``null=False`` raise ``IntegrityError`` before anything is sent, as the
  column constraint would on SQL.
- Nullable unique fields: SQL unique constraints ignore NULLs; a MongoDB unique
  index treats every missing-or-null value as equal. Where
  ``features.stores_unique_nulls_as_absent`` is set, such fields are stored
  *absent* when None (reads see None either way) and their unique index is
  sparse, which skips documents without the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from django.db import IntegrityError


@cache
def absent_when_null(model) -> frozenset[str]:
    """Columns of ``model`` stored absent when None: nullable, single-field unique."""
    return frozenset(
        field.column
        for field in model._meta.concrete_fields
        if field.unique and field.null and not field.primary_key
    )


def check_not_null(model, values: dict[str, Any], fields: Iterable) -> None:
    """Raise IntegrityError if a NOT NULL field of ``model`` is given None."""
    auto = model._meta.auto_field
    for field in fields:
        # None in a JSONField is JSON null, a value, not SQL NULL.
        if field.null or field is auto or field.get_internal_type() == "JSONField":
            continue
        if values.get(field.column, 0) is None:
            raise IntegrityError(
                f"NOT NULL constraint failed: {model._meta.db_table}.{field.column} "
                f"({model.__name__}.{field.name} has null=False)."
            )
