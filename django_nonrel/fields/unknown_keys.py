"""Keys of an embedded document that its model has no field for, kept through a save.

A save writes an ``EmbeddedModelField`` as a whole sub-document (one column
value), so keys another program added inside it (``{"city": "Oslo", "floor":
3}`` where the embedded model only has ``city``) would be lost by the first
``save()`` of the outer row -- at the top level MongoDB's ``$set`` of the known
columns keeps unknown fields, inside a sub-document nothing did. So the
decoder remembers the unknown keys on the embedded instance it builds, and the
encoder writes them back after the known fields.

The keys belong to the *instance*, not to a position: in a
``ListField(EmbeddedModelField(...))`` an element keeps its unknown keys when
the list is reordered, and they go with it when it is removed; a new instance
(built in code, from a dict, by a form or a fixture) has none. Copies of an
instance (``copy.copy``, pickling) share them. Unknown keys are those present
when the row was read: a key another program adds inside the same
sub-document between that read and the save is overwritten with the rest of
the sub-document, as any column value is (last writer wins per column).

They are written back in the storage form they were read in; an instance read
from a document store and saved to a SQL JSON column (or the other way
round) converts them as untyped values (``django_nonrel.fields.plain``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Model

from django_nonrel.fields.plain import stored_form

#: The attribute of an embedded instance's ``_state`` holding its :class:`UnknownKeys`.
STATE_ATTRIBUTE = "nonrel_unknown_keys"


@dataclass(frozen=True)
class UnknownKeys:
    """The unknown keys of one loaded sub-document, as stored, in stored order."""

    values: dict[str, Any]
    #: Whether they were read from a document store (else: SQL JSON).
    documents: bool


def remember(instance: Model, document: dict[str, Any], known: frozenset[str], documents: bool):
    """Keep the keys of ``document`` that are not in ``known`` on ``instance``."""
    if document.keys() <= known:
        return
    unknown = {key: value for key, value in document.items() if key not in known}
    setattr(instance._state, STATE_ATTRIBUTE, UnknownKeys(unknown, documents))


def kept(instance: Model) -> UnknownKeys | None:
    """The unknown keys ``instance`` was loaded with (None: none, or a new instance)."""
    return vars(instance._state).get(STATE_ATTRIBUTE)


def write_back(instance: Model, document: dict[str, Any], documents: bool) -> dict[str, Any]:
    """``document`` (the known fields, encoded) with ``instance``'s unknown keys after them.

    A key that is now a field of the model (added since the row was read) is
    the field's; the remembered value is dropped.
    """
    unknown = kept(instance)
    if unknown is None:
        return document
    for key, value in unknown.values.items():
        if key not in document:
            if unknown.documents != documents:
                value = stored_form(value, documents, key)
            document[key] = value
    return document


def carry_over(previous: Any, replacement: Any) -> None:
    """Give ``replacement`` the unknown keys of ``previous`` (a form edited its known fields)."""
    if not isinstance(previous, Model) or not isinstance(replacement, Model):
        return
    unknown = kept(previous)
    if unknown is not None and kept(replacement) is None:
        setattr(replacement._state, STATE_ATTRIBUTE, unknown)
