"""Values a field stores exactly as given, so their save preparation can be skipped.

Preparing each value for storage (``get_db_prep_save``) is most of the client
time of a bulk insert; for stock scalar fields holding a value of their own
Python type it returns the value unchanged. Used for top-level columns (the
insert compiler) and for leaves inside lists, dicts and embedded models.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

from django_nonrel.operations import nonrel_operations

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


def passthrough_datetime_zone(field: Any, connection) -> datetime.tzinfo | None:
    """The zone whose aware datetimes a stock ``DateTimeField`` column stores as given
    on insert (``NonrelOperations.datetime_zone_stored_as_given``), or None.

    Django's preparation of an aware datetime only makes it naive in the
    connection's zone; where the backend's driver stores the aware value the
    same way, a value of exactly that zone is passed on. Not for ``auto_now``
    and ``auto_now_add`` fields (their ``pre_save`` sets the value), keys, or
    database defaults.
    """
    if (
        type(field) is not models.DateTimeField
        or field.auto_now
        or field.auto_now_add
        or field.primary_key
        or field.has_db_default()
    ):
        return None
    return nonrel_operations(connection).datetime_zone_stored_as_given()
