"""MongoDB-specific fields: ObjectId keys.

``ObjectIdAutoField`` is a primary key the driver generates (no counter
round trip); ``ObjectIdField`` stores ObjectIds elsewhere. In Python both hold
24-character hex strings, which URLs, forms, serializers and JSON handle like
any other string key; in the database they are BSON ObjectIds, so they sort by
creation time and match documents written by other MongoDB clients.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from django.core import exceptions
from django.db import models
from django.db.models.fields import AutoFieldMixin

from django_nonrel.features import nonrel_features


def to_object_id(value: Any) -> ObjectId | None:
    """``value`` as an ObjectId; a clear ValidationError when it cannot be one."""
    if value is None or isinstance(value, ObjectId):
        return value
    try:
        return ObjectId(str(value))
    except (InvalidId, TypeError):
        raise exceptions.ValidationError(
            "%(value)r is not a valid ObjectId: it must be 24 hexadecimal characters.",
            code="invalid",
            params={"value": value},
        ) from None


class ObjectIdField(models.Field):
    """A BSON ObjectId, exposed to Python as its hex string."""

    description = "MongoDB ObjectId"
    empty_strings_allowed = False

    def get_internal_type(self) -> str:
        return "ObjectIdField"

    def db_type(self, connection) -> str:
        if nonrel_features(connection).supports_nested_documents:
            return "objectId"
        return "char(24)"

    def to_python(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        return str(to_object_id(value))

    def from_db_value(self, value, expression, connection):
        return None if value is None else str(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return None
        return to_object_id(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        if nonrel_features(connection).supports_nested_documents:
            return value
        return None if value is None else str(value)


def new_object_id() -> str:
    """A fresh ObjectId as the hex string models hold."""
    return str(ObjectId())


class ObjectIdAutoField(AutoFieldMixin, ObjectIdField):
    """A primary key generated client-side as a new ObjectId.

    The key exists as soon as the instance does (like a UUID default), so a
    save is one insert on every backend, bulk_create needs no key round trip,
    and on SQL backends the column is a plain ``char(24)``.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", new_object_id)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("default") is new_object_id:
            del kwargs["default"]
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "ObjectIdAutoField"

    def rel_db_type(self, connection) -> str:
        return ObjectIdField().db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        # AutoFieldMixin would pass the value to connection.ops.validate_autopk_value.
        return ObjectIdField.get_db_prep_value(self, value, connection, prepared)

    def validate(self, value, model_instance):
        pass
