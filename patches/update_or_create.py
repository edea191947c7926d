"""update_or_create() that never updates a row which stopped matching its lookup.

Wraps ``django.db.models.QuerySet.update_or_create`` and
``django.db.models.Model._do_update``.

Django looks the row up with ``select_for_update()`` inside a transaction and
then saves it: the lock keeps other connections from changing the row in
between, so the save updates a row that still matches the lookup. A store
without row locks cannot hold it (``features.has_select_for_update`` is False),
so another connection could change the row's looked-up fields, or delete it,
and the save would still write the defaults into it -- or, as a plain save is
an upsert there, bring a deleted row back.

Where ``features.guards_update_or_create`` is True the save of the row that was
found is conditional on the lookup: its update filters on ``pk`` *and* the
lookup, which the server checks on the document it writes. When that update
reaches no row, the row changed or went away in between, and
update_or_create starts again from the lookup (it then updates the row that
matches now, or creates one), at most ``ATTEMPTS`` times before
``ContentionError``. Defaults that are not concrete fields (Django then saves
the whole object) and models with multi-table inheritance (whose parents'
tables are written before the child's check) keep Django's own code.
Everywhere else Django's method runs unchanged.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connections, transaction
from django.db.models import Field, Model, Q, QuerySet
from django.db.models.utils import resolve_callables

from django_nonrel.exceptions import ContentionError
from django_nonrel.features import nonrel_features
from django_nonrel.patches.versions import wrap

PATCH = "update_or_create"
#: Lookups of a row that keeps changing before its save, before ContentionError.
ATTEMPTS = 10


@dataclass
class LookupGuard:
    """The save of ``instance`` in progress must still match ``lookup``."""

    instance: Model
    lookup: Q
    #: Set when the guarded update reached no row.
    missed: bool = False


#: The guarded save in progress in this context (thread, task), if any.
GUARD: ContextVar[LookupGuard | None] = ContextVar("nonrel_update_or_create_guard", default=None)


def _guarded(queryset: QuerySet, defaults: dict[str, Any]) -> bool:
    connection = connections[queryset.db]
    if not nonrel_features(connection).guards_update_or_create:
        return False
    meta = queryset.model._meta
    return not meta.parents and meta._non_pk_concrete_field_names.issuperset(defaults)


def _update_fields(model: type[Model], defaults: dict[str, Any]) -> set[str]:
    """The fields Django's update_or_create() saves: the defaults and pre_save() fields."""
    update_fields = set(defaults)
    meta = model._meta
    for field in meta.local_concrete_fields:
        if not (field in meta.pk_fields or field.__class__.pre_save is Field.pre_save):
            update_fields.add(field.name)
            if field.name != field.attname:
                update_fields.add(field.attname)
    return update_fields


def _make_update_or_create(original):
    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):
        update_defaults = defaults or {}
        if not _guarded(self, update_defaults):
            return original(self, defaults, create_defaults, **kwargs)
        if create_defaults is None:
            create_defaults = update_defaults
        self._for_write = True
        for _ in range(ATTEMPTS):
            with transaction.atomic(using=self.db):
                obj, created = self.get_or_create(create_defaults, **kwargs)
                if created:
                    return obj, created
                for name, value in resolve_callables(update_defaults):
                    setattr(obj, name, value)
                guard = LookupGuard(obj, Q(**kwargs))
                token = GUARD.set(guard)
                try:
                    fields = _update_fields(self.model, update_defaults)
                    obj.save(using=self.db, update_fields=fields)
                    return obj, False
                except DatabaseError:
                    if not guard.missed:
                        raise
                finally:
                    GUARD.reset(token)
        raise ContentionError(
            f"update_or_create() on {self.model._meta.label}: the row matching {kwargs!r} "
            f"changed or went away before each of {ATTEMPTS} saves; nothing was updated."
        )

    return update_or_create


def _make_do_update(original):
    def _do_update(self, base_qs, using, pk_val, values, *args):
        guard = GUARD.get()
        if guard is None or guard.instance is not self:
            return original(self, base_qs, using, pk_val, values, *args)
        updated = original(self, base_qs.filter(guard.lookup), using, pk_val, values, *args)
        guard.missed = not updated
        return updated

    return _do_update


def apply() -> None:
    wrap(QuerySet, "update_or_create", PATCH, _make_update_or_create)
    wrap(Model, "_do_update", PATCH, _make_do_update)
