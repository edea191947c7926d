"""Form fields for ListField, SetField, DictField and EmbeddedModelField.

The choice: one text box per field, so they work in the admin and in any
ModelForm without widgets of their own.

* Lists and sets accept comma-separated values (``red, green``) or a JSON
  array (``["a, b", "c"]`` -- for items containing commas, dicts or embedded
  models). Each item is cleaned by the item field's own form field, so a
  ``ListField(DateField())`` accepts ``2024-01-31, 2024-02-29`` and reports
  ``Item 1: Enter a valid date.``. Simple lists are shown comma-separated,
  others as JSON.
* Dicts and embedded models are edited as a JSON object (embedded: keyed by the
  embedded model's field names). Values are converted and validated by the
  model field, so errors name the key or field they concern. A sub-form per
  embedded model would need a formset-like widget for lists of them; JSON keeps
  one representation for every nesting depth.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext_lazy as _

from django_nonrel.fields.nested import prefixed_errors


class RawText(str):
    """Text a user submitted, redisplayed as typed (valid or not)."""


def survives_commas(item: Any) -> bool:
    """Whether ``item`` reads back the same from comma-separated text."""
    if isinstance(item, str):
        return bool(item) and "," not in item and item == item.strip() and item[0] != "["
    return isinstance(item, (int, float)) and not isinstance(item, bool)


class ListFormField(forms.CharField):
    """Comma-separated or JSON-array text -> a list (or set) of cleaned items."""

    default_error_messages = {
        "invalid_list": _("Enter values separated by commas, or a JSON list."),
        "item_invalid": _("Item %(index)s: %(message)s"),
    }

    def __init__(
        self,
        *,
        item_field: forms.Field | None = None,
        container: Callable[[list], Any] = list,
        serialize: Callable[[Any], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.item_field = item_field
        self.container = container
        self.serialize = serialize or list
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list:
        """The submitted items, not yet cleaned."""
        if isinstance(value, (list, tuple, set, frozenset)):
            return list(value)
        text = (value or "").strip()
        if not text:
            return []
        if text.startswith("["):
            try:
                items = json.loads(text)
            except ValueError:
                raise ValidationError(self.error_messages["invalid_list"], code="invalid_list")
            if not isinstance(items, list):
                raise ValidationError(self.error_messages["invalid_list"], code="invalid_list")
            return items
        return [part.strip() for part in text.split(",") if part.strip()]

    def clean_items(self, items: list) -> Any:
        if self.item_field is None:
            return self.container(items)
        cleaned, errors = [], []
        for index, item in enumerate(items):
            try:
                cleaned.append(self.item_field.clean(item))
            except ValidationError as error:
                errors.extend(
                    prefixed_errors(error, self.error_messages["item_invalid"], index=index)
                )
        if errors:
            raise ValidationError(errors)
        return self.container(cleaned)

    def clean(self, value: Any) -> Any:
        items = self.to_python(value)
        self.validate(items)
        cleaned = self.clean_items(items)
        self.run_validators(cleaned)
        return cleaned

    def bound_data(self, data: Any, initial: Any) -> Any:
        return initial if self.disabled else RawText(data or "")

    def prepare_value(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        items = self.serialize(value)
        if all(map(survives_commas, items)):
            return ", ".join(map(str, items))
        return json.dumps(items, ensure_ascii=False, cls=DjangoJSONEncoder)

    def has_changed(self, initial: Any, data: Any) -> bool:
        if self.disabled:
            return False
        try:
            data = self.clean_items(self.to_python(data))
            initial = self.clean_items(self.to_python(initial))
        except ValidationError:
            return True
        return initial != data


class ModelJSONFormField(forms.JSONField):
    """A JSON text box whose value the model field converts and validates."""

    def __init__(self, *, model_field, **kwargs: Any) -> None:
        self.model_field = model_field
        kwargs.setdefault("encoder", DjangoJSONEncoder)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if value is None:
            return None
        return self.model_field.to_python(value)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None:
            self.model_field.validate_items(value, None)

    def bound_data(self, data: Any, initial: Any) -> Any:
        return initial if self.disabled else RawText(data or "")

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        return json.dumps(
            self.model_field.to_serializable(value), ensure_ascii=False, cls=self.encoder
        )

    def has_changed(self, initial: Any, data: Any) -> bool:
        if self.disabled:
            return False
        try:
            data = self.to_python(data)
            if isinstance(initial, str):
                initial = self.to_python(initial)
        except ValidationError:
            return True
        serialize = self.model_field.to_serializable
        return serialize(initial) != serialize(data)


class DictFormField(ModelJSONFormField):
    """A JSON object -> a dict with valid keys and cleaned values."""


class EmbeddedModelFormField(ModelJSONFormField):
    """A JSON object of field names -> an embedded model instance."""
