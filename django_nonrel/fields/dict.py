"""DictField: string-keyed mappings whose values go through a value field.

Keys must be strings that neither contain ``.`` nor start with ``$`` -- MongoDB
reads those as paths and operators -- and the rule holds on every backend so
data stays portable. A bad key is reported by validation (ValidationError) and
refused before anything is written (ValueError), never silently rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core import exceptions
from django.core.exceptions import FieldError
from django.db.models import Field
from django.utils.translation import gettext_lazy as _

from django_nonrel.fields.lookups import DocumentExact, KeyTransform, PathStep
from django_nonrel.fields.nested import (
    NestedValueField,
    invalid_key_reason,
    leaf_errors,
    prefixed_errors,
    reader,
    serialize_leaf,
    unchanged,
    writer,
)
from django_nonrel.fields.plain import aware_copy, with_aware_datetimes
from django_nonrel.fields.raw import RawValueField, inner_field


class DictField(NestedValueField):
    """A dict of string keys to values converted by ``value_field`` (or untyped)."""

    empty_container = dict
    document_type = "dict"
    default_error_messages = {
        "not_a_dict": _("Enter a mapping of keys to values."),
        "invalid_key": _("Invalid key: %(reason)s."),
        "value_invalid": _("Key %(key)r: %(message)s"),
    }
    description = _("Dictionary")

    def __init__(self, value_field: Field | None = None, **kwargs: Any) -> None:
        self.value_field = inner_field(value_field, "DictField value_field")
        super().__init__(**kwargs)

    def inner_fields(self) -> Iterable[Field]:
        return (self.value_field,)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if not isinstance(self.value_field, RawValueField):
            kwargs["value_field"] = self.value_field
        return name, path, args, kwargs

    # -- Python values -----------------------------------------------------------
    def key_errors(self, value: dict) -> list[exceptions.ValidationError]:
        return [
            exceptions.ValidationError(
                self.error_messages["invalid_key"], code="invalid_key", params={"reason": reason}
            )
            for reason in map(invalid_key_reason, value)
            if reason
        ]

    def value_errors(self, error: exceptions.ValidationError, key: str) -> list:
        return prefixed_errors(error, self.error_messages["value_invalid"], key=key)

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        not_a_dict = exceptions.ValidationError(
            self.error_messages["not_a_dict"], code="not_a_dict"
        )
        value = self.parse_json_text(value, not_a_dict)
        if not isinstance(value, dict):
            raise not_a_dict
        errors = self.key_errors(value)
        result = {}
        for key, item in value.items():
            try:
                result[key] = self.value_field.to_python(item)
            except exceptions.ValidationError as error:
                errors.extend(self.value_errors(error, key))
        if errors:
            raise exceptions.ValidationError(errors)
        return result

    def validate_items(self, value: Any, model_instance) -> None:
        errors = self.key_errors(value)
        errors += leaf_errors(
            self.value_field,
            value.items(),
            model_instance,
            self.error_messages["value_invalid"],
            "key",
        )
        if errors:
            raise exceptions.ValidationError(errors)

    def pre_save_value(self, value: Any, add: bool) -> Any:
        if not getattr(self.value_field, "nonrel_runs_pre_save", False):
            return value
        items = {key: self.value_field.pre_save_value(item, add) for key, item in value.items()}
        if all(items[key] is item for key, item in value.items()):
            return value
        return items

    # -- storage -----------------------------------------------------------------
    def to_storage(self, value: Any, connection) -> dict:
        if not isinstance(value, dict):
            raise TypeError(
                f"DictField {self.name!r} holds a dict, not {type(value).__name__} ({value!r})."
            )
        self.check_keys(value)
        write = writer(self.value_field, connection)
        return {key: write(item) for key, item in value.items()}

    def check_keys(self, value: dict) -> None:
        """Raise ValueError for the first key of ``value`` no backend may store.

        Keys are first tested together, in C: all strings (``join`` refuses
        anything else) with none of ``.``, ``$`` or NUL anywhere; only a dict
        failing that is checked key by key for the reason.
        """
        try:
            joined = "".join(value)
        except TypeError:
            joined = "$"
        if "." not in joined and "$" not in joined and "\x00" not in joined:
            return
        for key in value:
            reason = invalid_key_reason(key)
            if reason:
                raise ValueError(f"DictField {self.name!r}: cannot store {reason}.")

    def storage_writer(self, connection):
        if self.overrides("to_storage", DictField) or self.overrides("check_keys", DictField):
            return super().storage_writer(connection)
        write = writer(self.value_field, connection)
        check = self.check_keys

        def write_dict(value: Any) -> dict:
            if not isinstance(value, dict):
                return self.to_storage(value, connection)  # its TypeError
            check(value)
            return {key: write(item) for key, item in value.items()}

        return write_dict

    def from_storage(self, value: Any, connection) -> dict:
        read = reader(self.value_field, connection)
        return {key: read(item) for key, item in value.items()}

    def storage_reader(self, connection):
        if self.overrides("from_storage", DictField):
            return super().storage_reader(connection)
        read = reader(self.value_field, connection)
        if read is unchanged:
            return lambda value: dict(value.items())
        inner = self.value_field
        if (
            isinstance(inner, RawValueField)
            and inner.storage_reader(connection) is with_aware_datetimes
        ):
            return lambda value: (
                aware_copy(value)
                if type(value) is dict
                else {key: read(item) for key, item in value.items()}
            )
        return lambda value: {key: read(item) for key, item in value.items()}

    def to_serializable(self, value: Any) -> dict | None:
        if value is None:
            return None
        return {key: serialize_leaf(self.value_field, item) for key, item in value.items()}

    # -- lookups -----------------------------------------------------------------
    def path_transform(self, name: str) -> PathStep:
        reason = invalid_key_reason(name)
        if reason:
            raise FieldError(f"DictField {self.name!r}: cannot filter on {reason}.")
        return PathStep(KeyTransform, name, self.value_field)

    # -- forms -------------------------------------------------------------------
    def formfield(self, **kwargs: Any):
        from django_nonrel.fields.forms import DictFormField

        return super().formfield(**{"form_class": DictFormField, "model_field": self, **kwargs})


DictField.register_lookup(DocumentExact)
