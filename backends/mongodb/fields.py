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
        return "objectId"

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
        if getattr(connection.features, "supports_nested_documents", False):
            return value
        return None if value is None else str(value)


class ObjectIdAutoField(AutoFieldMixin, ObjectIdField):
    """A primary key the driver generates as a new ObjectId on insert."""

    def get_internal_type(self) -> str:
        return "ObjectIdAutoField"

    def rel_db_type(self, connection) -> str:
        return ObjectIdField().db_type(connection)

    def validate(self, value, model_instance):
        pass
