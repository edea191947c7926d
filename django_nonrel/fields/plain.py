"""Untyped values (``ListField()``, ``DictField()``): what each backend stores, the same way.

Without an inner field nothing converts a value, so the rule is about types:

- JSON's own types (``None``, ``bool``, ``int``, ``float``, ``str``, lists,
  dicts with string keys) are stored as they are on every backend.
- ``date``, ``time``, ``Decimal``, ``UUID`` and ``timedelta`` have no JSON
  form, and BSON has none for them either: every backend stores the form
  Django's SQL backends use inside JSON (``"2024-05-01"``, ``"12:30:00"``,
  ``"1.50"``, hex, integer microseconds) and reads back that string or number,
  so a document reads the same on MongoDB and SQL. Give the field a typed
  inner field (``DictField(models.DateField())``) to get the type back.
- ``datetime``: MongoDB stores a BSON date (UTC, milliseconds), read back
  aware in UTC when ``USE_TZ`` is True (a naive one is taken as UTC), as a
  ``DateTimeField`` is; SQL backends store ISO 8601 text and read back the
  text.
- ``bytes`` and BSON's own types (``ObjectId``, ``Decimal128``...) are stored
  natively on MongoDB, where documents written by other programs hold them;
  SQL JSON cannot hold them and refuses them.
- Anything else (``set``, ``complex``, arbitrary objects), integers beyond
  64 bits on MongoDB, and dict keys that are not strings, contain ``.`` or
  NUL, or start with ``$`` are refused with ``ValueError`` naming the field,
  the place in the value and the type, before anything is written (and by
  ``full_clean()`` as ``ValidationError``).
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from django.conf import settings
from django.utils.duration import duration_microseconds

from django_nonrel.fields.nested import invalid_key_reason

#: BSON's int64 range (pymongo refuses larger Python ints with OverflowError).
INT64 = (-(2**63), 2**63 - 1)
#: Types stored as they are everywhere (bool is an int).
JSON_SCALARS = (str, int, float)


def stored_form(value: Any, documents: bool, where: str) -> Any:
    """``value`` as an untyped field stores it (``documents``: natively, else as JSON data).

    ``where`` names the place (``"meta.dims[2]"``) for the error message;
    raises ValueError for what cannot be stored (see the module docstring).
    """
    if value is None or isinstance(value, JSON_SCALARS):
        if documents and type(value) is int and not INT64[0] <= value <= INT64[1]:
            raise ValueError(f"{where}: {value} does not fit in MongoDB's 64-bit integers")
        return value
    if isinstance(value, dict):
        stored = {}
        for key, item in value.items():
            reason = invalid_key_reason(key)
            if reason:
                raise ValueError(f"{where}: cannot store {reason}")
            stored[key] = stored_form(item, documents, f"{where}.{key}")
        return stored
    if isinstance(value, list | tuple):
        return [stored_form(item, documents, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, datetime.datetime):
        return value if documents else value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime.timedelta):
        return duration_microseconds(value)
    if documents and (isinstance(value, bytes) or type(value).__module__.startswith("bson")):
        return value
    raise ValueError(
        f"{where}: cannot store a value of type {type(value).__name__} ({value!r}) without a typed "
        "inner field; store a list, dict, string or number, or give the field an "
        "item_field/value_field that converts it"
    )


def with_aware_datetimes(value: Any) -> Any:
    """``value`` with each naive datetime inside made aware in UTC, when ``USE_TZ``.

    MongoDB keeps instants in UTC and pymongo reads them naive; a
    ``DateTimeField`` reads them aware, and so do untyped values. Containers
    are copied only where something changed.
    """
    if not settings.USE_TZ:
        return value
    return _aware(value)


def aware_copy(value: dict | list) -> dict | list:
    """A new dict or list (exactly those types) of ``value``'s items, each as
    :func:`with_aware_datetimes` gives it.

    What an untyped ``DictField()``/``ListField()`` reads: one walk of the
    whole container and one ``USE_TZ`` lookup, instead of a call per item.
    """
    aware = with_aware_datetimes(value)
    return type(value)(aware) if aware is value else aware


#: Types :func:`_aware` returns as they are, tested inline by its loops.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _aware(value: Any) -> Any:
    kind = type(value)
    if kind is datetime.datetime:
        if value.tzinfo is not None:
            return value
        # combine: one C constructor, several times faster than replace(tzinfo=...).
        return datetime.datetime.combine(value, value.time(), datetime.UTC)
    if kind is dict:
        changed = None
        for key, item in value.items():
            if type(item) in _SCALARS:  # most items: no call
                continue
            new = _aware(item)
            if new is not item:
                changed = changed if changed is not None else dict(value)
                changed[key] = new
        return value if changed is None else changed
    if kind is list:
        changed = None
        for index, item in enumerate(value):
            if type(item) in _SCALARS:
                continue
            new = _aware(item)
            if new is not item:
                changed = changed if changed is not None else list(value)
                changed[index] = new
        return value if changed is None else changed
    return value
