"""Values a field stores exactly as given, so their save preparation can be skipped.

Preparing each value for storage (``get_db_prep_save``) is most of the client
time of a bulk insert; for stock scalar fields holding a value of their own
Python type it returns the value unchanged. Used for top-level columns (the
insert compiler) and for leaves inside lists, dicts and embedded models.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

#: Stock field classes whose pre_save() reads the attribute and whose save
#: preparation returns a value of the given exact type unchanged (Django's
#: ``get_prep_value`` is ``str``/``int``/``float``/``bool`` conversion, and the
#: base ``adapt_integerfield_value`` returns its value). Subclasses are not
#: listed: they may override either.
PASSTHROUGH_TYPES = {
    models.CharField: str,
    models.TextField: str,
    models.EmailField: str,
    models.SlugField: str,
    models.URLField: str,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.FloatField: float,
    models.BooleanField: bool,
}


def passthrough_type(field: Any, connection) -> type | None:
    """The value type ``field`` stores unchanged on insert, or None to prepare every value."""
    kind = PASSTHROUGH_TYPES.get(type(field))
    if kind is None or field.primary_key or field.has_db_default():
        return None
    adapt = type(connection.ops).adapt_integerfield_value
    if kind is int and adapt is not BaseDatabaseOperations.adapt_integerfield_value:
        return None
    return kind
