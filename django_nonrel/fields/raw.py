"""The stand-in inner field for untyped values: ``ListField()``, ``DictField()``.

Without an item field there is nothing to convert a value, so what is stored
follows its type, the same way on every backend (``django_nonrel.fields.plain``):
JSON data as it is, dates, decimals and UUIDs as the strings SQL JSON holds
(as with Django's JSONField and DjangoJSONEncoder; give the list/dict a typed
item field to keep the types), datetimes as BSON dates on MongoDB, and
anything else refused with a ValueError naming the field.

It is also the ``output_field`` of lookup paths into untyped values
(``meta__dims__w__gt=3``): Django's ordinary lookups apply, values pass through
unconverted, and further path steps are allowed (digits index a list, any other
name is a dict key).

:func:`inner_field` turns the ``item_field``/``value_field`` argument of the
container fields into the inner field they use (this class for None).
"""

from __future__ import annotations

import json
from typing import Any

from django.core import exceptions
from django.core.exceptions import FieldError
from django.db.models import Field

from django_nonrel.fields.lookups import IndexTransform, KeyTransform, PathStep
from django_nonrel.fields.nested import (
    NestedValueField,
    invalid_key_reason,
    stores_documents,
    unchanged,
)
from django_nonrel.fields.plain import stored_form, with_aware_datetimes


class RawValueField(NestedValueField):
    """Untyped JSON-like data; never a model column of its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def get_lookup(self, lookup_name: str):
        # Every lookup of Django's Field applies to a scalar inside a document.
        return super(NestedValueField, self).get_lookup(lookup_name)

    def path_transform(self, name: str):
        if name.isdigit():
            return PathStep(IndexTransform, int(name), RawValueField())
        reason = invalid_key_reason(name)
        if reason:
            raise FieldError(f"Cannot filter on {reason}.")
        return PathStep(KeyTransform, name, RawValueField())

    def to_python(self, value: Any) -> Any:
        return value

    def to_storage(self, value: Any, connection) -> Any:
        return stored_form(value, stores_documents(connection), self.name or "value")

    def storage_writer(self, connection):
        if self.overrides("to_storage", RawValueField):
            return super().storage_writer(connection)
        documents, where = stores_documents(connection), self.name or "value"
        return lambda value: stored_form(value, documents, where)

    def validate_items(self, value: Any, model_instance) -> None:
        # What no backend stores (sets, objects...) or MongoDB refuses (keys, huge ints).
        try:
            stored_form(value, True, self.name or "value")
        except ValueError as error:
            raise exceptions.ValidationError(str(error), code="unstorable") from None

    def from_storage(self, value: Any, connection) -> Any:
        return with_aware_datetimes(value) if stores_documents(connection) else value

    def storage_reader(self, connection):
        if self.overrides("from_storage", RawValueField):
            return super().storage_reader(connection)
        return with_aware_datetimes if stores_documents(connection) else unchanged

    def to_serializable(self, value: Any) -> Any:
        return stored_form(value, False, self.name or "value")

    def get_db_prep_value(self, value: Any, connection, prepared: bool = False) -> Any:
        """A lookup's right-hand side: a scalar as is, a container as compact JSON."""
        if value is None or hasattr(value, "as_sql"):
            return value
        value = self.to_storage(value, connection)
        if not stores_documents(connection) and isinstance(value, (list, dict)):
            # SQLite returns nested JSON from json_extract() minified.
            return json.dumps(value, separators=(",", ":"))
        return value

    def from_db_value(self, value: Any, expression, connection) -> Any:
        # json_extract() returns scalars as SQL values and containers as JSON
        # text; only text that looks like a container is decoded, so a stored
        # string such as "123" stays a string.
        if isinstance(value, str) and value[:1] in ("[", "{") and not stores_documents(connection):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def formfield(self, **kwargs: Any) -> None:
        # Untyped items are taken from a form's JSON as they are.
        return None

    def db_type(self, connection) -> None:
        # Never a column of its own: values live inside their outer field's column.
        return None


def inner_field(field: Field | None, role: str) -> Field:
    """A private copy of ``field`` (None: untyped) to use as an inner field.

    The copy matters: Field.clone() (migration states, model inheritance)
    passes the same instance to the new outer field, and binding it to another
    model must not change what the original resolves to.
    """
    if field is None:
        return RawValueField()
    if isinstance(field, type):
        raise TypeError(f"{role} must be a field instance, e.g. {field.__name__}(), not the class.")
    if not isinstance(field, Field):
        raise TypeError(f"{role} must be a model field instance, not {field!r}.")
    if field.is_relation:
        raise ValueError(
            f"{role} cannot be a relation ({type(field).__name__}); store the related "
            "objects' keys instead, e.g. ListField(models.IntegerField())."
        )
    return field.clone()
