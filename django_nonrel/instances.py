"""Model instances from stored rows: ``Model.from_db`` in fewer steps, where provably the same.

Reads on nonrel backends build an instance per row and per embedded document
in it, and ``Model.from_db`` -> ``Model.__init__(*values)`` is general code
(padding deferred fields, checking for keyword arguments, one ``setattr`` per
field). For a row holding every concrete field, in field order, of a model
that overrides none of that machinery, ``Model.__init__`` amounts to: send
``pre_init`` with the values as ``args``, give the instance a ``ModelState``,
store each value in the instance ``__dict__`` (what ``setattr`` does when no
data descriptor intercepts it), send ``post_init``; ``from_db`` then marks the
state as loaded from ``db``. :func:`instance_builder` returns a function doing
exactly those steps, in that order, or ``Model.from_db`` itself for anything
else: a custom ``from_db``/``__init__``/``__new__``/``__setattr__``, a mixin
``__init__`` after ``Model`` in the MRO, a metaclass ``__call__``, a field
attribute with a descriptor that has a setter (other than Django's foreign key
attribute, whose setter only clears a related-object cache that a new instance
does not have yet), or a row with deferred fields.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from django.db.models import Model
from django.db.models.base import ModelBase, ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.signals import post_init, pre_init

Builder = Callable[[str, Sequence[Any]], Model]


def _class_attribute(model: type, name: str) -> Any:
    """``name`` as found on ``model``'s MRO without invoking descriptors (None if absent)."""
    for klass in model.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _stores_in_dict(model: type[Model], attname: str) -> bool:
    """Whether ``setattr(new_instance, attname, v)`` just writes the instance ``__dict__``."""
    attribute = _class_attribute(model, attname)
    if type(attribute) is ForeignKeyDeferredAttribute:
        return True
    kind = type(attribute)
    return not (hasattr(kind, "__set__") or hasattr(kind, "__delete__"))


def builds_like_django(model: type[Model], attnames: Sequence[str]) -> bool:
    """Whether :func:`instance_builder` can skip ``from_db`` for rows of ``attnames``."""
    opts = model._meta
    return (
        not opts.abstract
        and list(attnames) == [field.attname for field in opts.concrete_fields]
        and getattr(model.from_db, "__func__", None) is Model.from_db.__func__
        and model.__init__ is Model.__init__
        and super(Model, model).__init__ is object.__init__
        and model.__new__ is object.__new__
        and model.__setattr__ is object.__setattr__
        and type(model).__call__ is ModelBase.__call__
        and all(_stores_in_dict(model, name) for name in attnames)
    )


def instance_builder(
    model: type[Model], attnames: Sequence[str], fetch_mode: Any = None
) -> Builder:
    """``build(db, values)``: ``model.from_db(db, attnames, values)``, or its equivalent.

    ``fetch_mode`` is Django 6.1's queryset fetch mode (None on Django 5.2, or
    to let ``from_db`` use its default).
    """
    attnames = list(attnames)
    if not builds_like_django(model, attnames):
        if fetch_mode is None:
            from_db = model.from_db
        else:
            from django.db.models import query

            from_db = query._get_from_db(model, fetch_mode)
        return partial(_call_from_db, from_db, attnames)
    return _direct_builder(model, attnames, fetch_mode)


def _direct_builder(model: type[Model], attnames: list[str], fetch_mode: Any) -> Builder:
    """:func:`instance_builder`'s function for a model that builds like Django's."""
    new = object.__new__
    new_state = new if ModelState.__init__ is object.__init__ else None

    def build(db: str, values: Sequence[Any]) -> Model:
        instance = new(model)
        # send() returns at once without receivers; skipping the call then is
        # most of what this function saves over Model.__init__.
        if pre_init.receivers:
            pre_init.send(sender=model, args=tuple(values), kwargs={})
        instance._state = state = new_state(ModelState) if new_state else ModelState()
        instance.__dict__.update(zip(attnames, values, strict=True))
        if post_init.receivers:
            post_init.send(sender=model, instance=instance)
        state.adding = False
        state.db = db
        if fetch_mode is not None:
            state.fetch_mode = fetch_mode
        return instance

    return build


def _call_from_db(from_db, attnames: list[str], db: str, values: Sequence[Any]) -> Model:
    return from_db(db, attnames, values)


def document_builder(
    model: type[Model],
    attnames: Sequence[str],
    columns: Sequence[str],
    convert: Callable[[dict[str, Any]], None] | None = None,
    fetch_mode: Any = None,
) -> Callable[[str, dict], Model] | None:
    """``build(db, document)``, or None where :func:`instance_builder` would call ``from_db``.

    The instance :func:`instance_builder` builds from the values
    ``[None, ..., document.get(column), ...]`` -- the leading ``attnames`` that
    ``columns`` does not cover are None (an embedded model's unstored ``id``) --
    after ``convert`` changed them in place, keyed by attname (the converters or
    readers of the read). Built without that list: the instance ``__dict__`` is
    seeded with the attnames in field order and filled from the document
    itself, in C, when the document holds exactly the columns and they are the
    attnames (what this package writes); zipped from it otherwise. With
    ``pre_init``/``post_init`` receivers, the values are listed and built as
    ``instance_builder`` does (the receivers see them).
    """
    attnames = list(attnames)
    if not builds_like_django(model, attnames):
        return None
    columns = list(columns)
    stored = attnames[len(attnames) - len(columns) :]
    known = frozenset(columns) if stored == columns else None
    seed = dict.fromkeys(attnames)
    listed = _direct_builder(model, attnames, fetch_mode)
    new = object.__new__
    new_state = new if ModelState.__init__ is object.__init__ else None
    # The state's two attributes go straight into its __dict__ where that is all
    # setting them does.
    state_in_dict = ModelState.__setattr__ is object.__setattr__ and all(
        _stores_in_dict(ModelState, name) for name in ("adding", "db")
    )

    def build(db: str, document: dict) -> Model:
        if pre_init.receivers or post_init.receivers:
            values = dict(seed)
            values.update(zip(stored, map(document.get, columns), strict=True))
            if convert is not None:
                convert(values)
            return listed(db, list(values.values()))
        instance = new(model)
        state = new_state(ModelState) if new_state else ModelState()
        if state_in_dict:
            loaded = state.__dict__
            loaded["adding"] = False
            loaded["db"] = db
        else:
            state.adding = False
            state.db = db
        if fetch_mode is not None:
            state.fetch_mode = fetch_mode
        values = instance.__dict__
        values["_state"] = state
        values.update(seed)
        if document.keys() == known:
            values.update(document)
        else:
            values.update(zip(stored, map(document.get, columns), strict=True))
        if convert is not None:
            convert(values)
        return instance

    return build
