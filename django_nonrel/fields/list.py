"""ListField and SetField: sequences whose items go through an item field.

``ListField(models.DateField())`` holds dates; every item is converted,
pre-saved, validated and read back by the ``DateField``. Without an item field
items are stored as given (see ``django_nonrel.fields.raw``). The default is a
fresh empty list (set), and ``null`` is allowed only with ``null=True``.

A SetField is stored as a list sorted by item value (when the items can be
ordered), so equal sets are stored identically and ``tags={"a", "b"}`` can be
compared as a whole on every backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import is_
from typing import Any

from django.core import exceptions
from django.db.models import Field
from django.utils.translation import gettext_lazy as _

from django_nonrel.fields.lookups import (
    IndexTransform,
    LengthTransform,
    ListContains,
    ListExact,
    ListOverlap,
    PathStep,
)
from django_nonrel.fields.nested import (
    NestedValueField,
    leaf_errors,
    prefixed_errors,
    reader,
    serialize_leaf,
    unchanged,
    writer,
)
from django_nonrel.fields.plain import aware_copy, with_aware_datetimes
from django_nonrel.fields.raw import RawValueField, inner_field


class ListField(NestedValueField):
    """A list of values converted by ``item_field`` (any model field, or None)."""

    empty_container = list
    document_type = "list"
    supported_lookups = frozenset({"exact", "contains", "overlap", "isnull"})
    default_error_messages = {
        "not_a_list": _("Enter a list of values."),
        "item_invalid": _("Item %(index)s: %(message)s"),
    }
    description = _("List")
    #: Whether ``tags__0`` addresses an item (sets have no order to index).
    indexable = True

    def __init__(self, item_field: Field | None = None, **kwargs: Any) -> None:
        self.item_field = inner_field(item_field, f"{type(self).__name__} item_field")
        super().__init__(**kwargs)

    def inner_fields(self) -> Iterable[Field]:
        return (self.item_field,)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if not isinstance(self.item_field, RawValueField):
            kwargs["item_field"] = self.item_field
        return name, path, args, kwargs

    # -- Python values -----------------------------------------------------------
    def make_container(self, items: list) -> Any:
        return items

    def ordered_items(self, items: Iterable) -> list:
        """Items in stored order (a set's are sorted)."""
        return list(items)

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        not_a_list = exceptions.ValidationError(
            self.error_messages["not_a_list"], code="not_a_list"
        )
        value = self.parse_json_text(value, not_a_list)
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise not_a_list
        items, errors = [], []
        for index, item in enumerate(value):
            try:
                items.append(self.item_field.to_python(item))
            except exceptions.ValidationError as error:
                errors.extend(self.item_errors(error, index))
        if errors:
            raise exceptions.ValidationError(errors)
        return self.make_container(items)

    def item_errors(self, error: exceptions.ValidationError, index: int) -> list:
        return prefixed_errors(error, self.error_messages["item_invalid"], index=index)

    def validate_items(self, value: Any, model_instance) -> None:
        errors = leaf_errors(
            self.item_field,
            enumerate(value),
            model_instance,
            self.error_messages["item_invalid"],
            "index",
        )
        if errors:
            raise exceptions.ValidationError(errors)

    def pre_save_value(self, value: Any, add: bool) -> Any:
        if not getattr(self.item_field, "nonrel_runs_pre_save", False):
            return value
        items = [self.item_field.pre_save_value(item, add) for item in value]
        if all(map(is_, items, value)):
            return value  # keep the caller's list object when nothing was replaced
        return self.make_container(items)

    # -- storage -----------------------------------------------------------------
    def check_container(self, value: Any) -> None:
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise TypeError(
                f"{type(self).__name__} {self.name!r} holds a list, not "
                f"{type(value).__name__} ({value!r})."
            )

    def items_to_storage(self, items: Iterable, connection) -> list:
        """Items (Python) as stored on ``connection``, in stored order."""
        write = writer(self.item_field, connection)
        return [write(item) for item in self.ordered_items(items)]

    def item_to_storage(self, item: Any, connection) -> Any:
        """One item as stored on ``connection`` (the value of a membership test)."""
        return writer(self.item_field, connection)(item)

    def to_storage(self, value: Any, connection) -> list:
        self.check_container(value)
        return self.items_to_storage(value, connection)

    def from_storage(self, value: Any, connection) -> Any:
        read = reader(self.item_field, connection)
        return self.make_container([read(item) for item in value])

    def storage_writer(self, connection):
        if self.overrides("to_storage", ListField) or self.overrides("items_to_storage", ListField):
            return super().storage_writer(connection)
        write = writer(self.item_field, connection)
        check, ordered = self.check_container, self.ordered_items

        def write_list(value: Any) -> list:
            check(value)
            return [write(item) for item in ordered(value)]

        return write_list

    def storage_reader(self, connection):
        if self.overrides("from_storage", ListField):
            return super().storage_reader(connection)
        read = reader(self.item_field, connection)
        make = self.make_container
        if read is unchanged:
            return lambda value: make(list(value))
        inner = self.item_field
        if (
            isinstance(inner, RawValueField)
            and inner.storage_reader(connection) is with_aware_datetimes
        ):
            return lambda value: make(
                aware_copy(value) if type(value) is list else [read(item) for item in value]
            )
        return lambda value: make(list(map(read, value)))

    def to_serializable(self, value: Any) -> list | None:
        if value is None:
            return None
        return [serialize_leaf(self.item_field, item) for item in self.ordered_items(value)]

    # -- lookups -----------------------------------------------------------------
    def path_transform(self, name: str):
        if name.isdigit():
            return PathStep(IndexTransform, int(name), self.item_field) if self.indexable else None
        item = self.item_field
        if isinstance(item, NestedValueField) and not isinstance(item, ListField):
            step = item.path_transform(name)
            if step is not None and isinstance(step.segment, str):
                return step.any_element()
        return None

    # -- forms -------------------------------------------------------------------
    def formfield(self, **kwargs: Any):
        from django_nonrel.fields.forms import ListFormField

        return super().formfield(
            **{
                "form_class": ListFormField,
                "item_field": self.item_field.formfield(),
                "container": self.make_container,
                "serialize": self.to_serializable,
                **kwargs,
            }
        )


class SetField(ListField):
    """A set of hashable values converted by ``item_field``."""

    empty_container = set
    document_type = "set"
    description = _("Set")
    indexable = False
    default_error_messages = {"not_a_list": _("Enter a set of values.")}

    def __init__(self, item_field: Field | None = None, **kwargs: Any) -> None:
        if isinstance(item_field, NestedValueField):
            raise ValueError(
                "SetField items must be hashable; use ListField for lists, dicts "
                "and embedded models."
            )
        super().__init__(item_field, **kwargs)

    def make_container(self, items: list) -> set:
        return set(items)

    def ordered_items(self, items: Iterable) -> list:
        items = list(items)
        try:
            return sorted(items)
        except TypeError:
            # Items of mixed types keep their order; sets of them still work,
            # only whole-set equality then depends on that order.
            return items


ListField.register_lookup(ListExact)
ListField.register_lookup(ListContains)
ListField.register_lookup(ListOverlap)
ListField.register_lookup(LengthTransform)
