"""One pass from a container field's value to its stored form, for inserts on document stores.

A ``ListField``, ``DictField`` or ``EmbeddedModelField`` column is inserted in
two walks of its value: ``pre_save`` (``pre_save_value``: inner ``pre_save``,
dicts of an embedded model turned into instances, ``_state.adding`` cleared)
and then the storage write (``get_db_prep_save``). For the usual value -- a
list, dict or embedded instance of exactly the field's type, holding embedded
instances of exactly their model -- ``pre_save_value`` returns the very object
it was given, so the two walks can be one: :func:`save_writer` gives a
function doing both, with each inner writer resolved once per connection.

Any other value (a tuple, a dict to convert into an instance, an expression,
``DatabaseDefault``) makes that function return :data:`UNHANDLED`, before it
has changed anything, and the caller takes Django's path (``pre_save`` then
``get_db_prep_save``), so what is stored, refused or set on the instance is
the same either way. Fields whose class overrides any step (a user subclass),
embedded models with other ``pre_save`` fields (``auto_now``...), and JSON
(SQL) storage have no save writer (None).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Field

from django_nonrel.fields.dict import DictField
from django_nonrel.fields.embedded import EmbeddedModelField
from django_nonrel.fields.list import ListField
from django_nonrel.fields.nested import (
    NestedValueField,
    cached_per_connection,
    stores_documents,
    writer,
)
from django_nonrel.fields.unknown_keys import STATE_ATTRIBUTE, write_back
from django_nonrel.passthrough import passthrough_type

#: What a save writer returns for a value it leaves to Django's path.
UNHANDLED = object()

#: The steps of a save that a save writer does itself (a subclass overriding
#: one of them gets none).
SAVE_STEPS = ("pre_save", "pre_save_value", "get_db_prep_save", "get_db_prep_value", "to_storage")
#: Steps particular to each container class.
CLASS_STEPS = {
    EmbeddedModelField: ("storage_writer", "as_instance", "_encoder"),
    ListField: ("storage_writer", "items_to_storage", "check_container", "ordered_items"),
    DictField: ("storage_writer",),
}

SaveWriter = Callable[[Any], Any]


def save_writer(field: Field, connection) -> SaveWriter | None:
    """A function from ``field``'s attribute value to what an insert stores for it
    (or :data:`UNHANDLED`); None when ``field`` has none on ``connection``."""
    if not isinstance(field, NestedValueField):
        return None
    return cached_per_connection(connection, field, "save", lambda: _build(field, connection))


def _build(field: NestedValueField, connection) -> SaveWriter | None:
    if not stores_documents(connection):
        return None
    for base, steps in CLASS_STEPS.items():
        if isinstance(field, base):
            if any(field.overrides(step, base) for step in (*SAVE_STEPS, *steps)):
                return None
            if base is EmbeddedModelField:
                return _embedded_writer(field, connection)
            return _container_writer(field, connection)
    return None


def _embedded_writer(field: EmbeddedModelField, connection) -> SaveWriter | None:
    encode = instance_encoder(field, connection)
    if encode is None:
        return None
    model = field.embedded_model

    def write(value: Any) -> Any:
        if type(value) is model:
            return encode(value)
        return None if value is None else UNHANDLED

    return write


class _Never:
    """A type no value has: the passthrough type of fields whose values always convert."""


def instance_encoder(field: EmbeddedModelField, connection) -> SaveWriter | None:
    """``pre_save_value`` and ``to_storage`` of an instance of exactly the embedded model,
    in one walk of its fields; None when a stored field's ``pre_save`` is not a
    container's (``auto_now``, custom fields: their order with the others matters).

    Values of stock scalar fields of their own type (``passthrough_type``) are
    stored as they are, tested inline rather than by a call to their writer.
    """
    model = field.embedded_model
    with_pre_save = {id(f) for f in field._fields_with_pre_save(model)}
    plan = []
    nested = []
    for inner in field.stored_fields():
        kind = None
        if id(inner) in with_pre_save:
            write = save_writer(inner, connection)
            if write is None:
                return None
            nested.append(inner)
        else:
            write = writer(inner, connection)
            kind = passthrough_type(inner, connection)
        plan.append((inner.column, inner.attname, kind or _Never, write))

    def encode(value: Any) -> dict:
        document = {}
        for column, attname, kind, write in plan:
            item = getattr(value, attname)
            document[column] = item if type(item) is kind else write(item)
        for inner in nested:
            if document[inner.column] is UNHANDLED:
                # As pre_save_value then the encoder do for this field.
                inner.pre_save(value, value._state.adding)
                document[inner.column] = writer(inner, connection)(getattr(value, inner.attname))
        state = value._state
        # Stored with its outer row from now on: auto_now_add must not fire again.
        state.adding = False
        if STATE_ATTRIBUTE in state.__dict__:
            return write_back(value, document, True)
        return document

    return encode


def _container_writer(field: ListField | DictField, connection) -> SaveWriter | None:
    container = field.empty_container
    (inner,) = field.inner_fields()
    if not getattr(inner, "nonrel_runs_pre_save", False):
        # pre_save_value returns the value itself: only the storage write is left.
        write_stored = field.storage_writer(connection)
        return lambda value: (
            write_stored(value)
            if type(value) is container
            else None
            if value is None
            else UNHANDLED
        )
    if not isinstance(inner, EmbeddedModelField) or save_writer(inner, connection) is None:
        return None
    encode = instance_encoder(inner, connection)
    only = {inner.embedded_model}
    if container is list:

        def write_list(value: Any) -> Any:
            if type(value) is not list:
                return None if value is None else UNHANDLED
            if not set(map(type, value)) <= only:
                return UNHANDLED
            return [encode(item) for item in value]

        return write_list
    if container is not dict:
        return None
    check_keys = field.check_keys

    def write_dict(value: Any) -> Any:
        if type(value) is not dict:
            return None if value is None else UNHANDLED
        if not set(map(type, value.values())) <= only:
            return UNHANDLED
        check_keys(value)
        return {key: encode(item) for key, item in value.items()}

    return write_dict
