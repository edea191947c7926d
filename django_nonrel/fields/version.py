"""``VersionField``: optimistic concurrency for ``Model.save()`` on every backend.

A model with a ``VersionField`` writes a row only if the row still has the
version the instance was loaded with, and every successful save increments it.
Two requests that load the same row and both save it: the first wins, the
second raises ``django_nonrel.exceptions.ConflictError`` and writes nothing --
instead of silently overwriting the first one's changes ("lost update").

How each save path checks it:

- SQL backends, and MongoDB saves with ``update_fields``/``force_update``:
  Django's UPDATE gets ``AND version = n``. When it matches no row and a row
  with the key exists, the save raises ``ConflictError``. When no row with the
  key exists, Django's own rule applies (it inserts the row again, or raises
  for ``update_fields``/``force_update``).
- The MongoDB one-command upsert: ``updateOne({_id: pk, version: n}, ...,
  upsert=True)``. A stale version does not match, so the server tries to insert
  a document with the same ``_id`` and refuses it as a duplicate key: the
  stale save raises ``ConflictError`` and neither updates nor inserts.
- A row stored without a version (a document written before the field was
  added, or by another program) loads with ``version=None``; its save is
  guarded on the version still being absent (``version: null`` matches a
  missing field) and writes version 1, so it is checked like any other.

What is *not* checked, as these bypass ``save()``: ``QuerySet.update()`` (it
neither checks nor increments versions; write ``update(version=F("version") +
1, ...)`` to invalidate loaded instances), ``bulk_update()``, ``bulk_create()``,
``delete()`` and raw saves (``loaddata``), which store the version they are given.

With multi-table inheritance the version guards the table of the model that
declares the field; parents are saved first. On SQL backends Django saves the
whole chain inside one transaction, so a conflict rolls the parents back too;
on MongoDB without transactions the parents' writes stay.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.db import connections, models

from django_nonrel.exceptions import ConflictError
from django_nonrel.store_contract import row_writer

#: Instance attribute holding the version a save in progress expects in the database.
EXPECTED = "_nonrel_expected_version"


class VersionField(models.PositiveBigIntegerField):
    """An integer version, starting at 0 for a new instance and incremented by every save.

    Declare at most one per model; it is not editable in forms. Saving an
    instance whose version is older than the stored one raises
    ``ConflictError``; ``refresh_from_db()`` and retrying (or
    ``django_nonrel.transaction.run_in_transaction``) resolves it.
    """

    description = "Row version for optimistic concurrency"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", 0)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("default") == 0:
            del kwargs["default"]
        if kwargs.get("editable") is False:
            del kwargs["editable"]
        return name, "django_nonrel.fields.VersionField", args, kwargs

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only=private_only)
        if not cls._meta.abstract and "_save_table" not in cls.__dict__:
            _install_version_check(cls)


def version_field(meta) -> VersionField | None:
    """The ``VersionField`` among ``meta``'s own columns (not its parents'), if any."""
    for field in meta.local_concrete_fields:
        if isinstance(field, VersionField):
            return field
    return None


def expected_version(instance: models.Model, meta) -> tuple[VersionField, int | None] | None:
    """The version field of ``meta`` and the value a save in progress requires, if any.

    The value is None for a row stored without a version (written before the
    field was added, or by another program): the save then requires the
    version to be absent (or null) and writes 1. Read by the MongoDB upsert
    patch to make its upsert conditional.
    """
    field = version_field(meta)
    if field is None or EXPECTED not in instance.__dict__:
        return None
    return field, instance.__dict__[EXPECTED]


def _install_version_check(owner: type[models.Model]) -> None:
    """Wrap ``owner``'s ``_save_table`` and ``_do_update`` to check and bump the version.

    Per model class (not a global patch), so a VersionField works on every
    backend whether or not the ``django_nonrel`` app is installed.
    """

    def _save_table(self, raw=False, cls=None, force_insert=False, force_update=False,
                    using=None, update_fields=None):  # fmt: skip
        table_model = cls or self.__class__
        field = version_field(table_model._meta)
        parent = super(owner, self)._save_table
        # A save already checking this table (a subclass's wrapper up the MRO) or raw.
        if field is None or raw or EXPECTED in self.__dict__:
            return parent(raw, cls, force_insert, force_update, using, update_fields)
        expected = getattr(self, field.attname)
        if update_fields is not None:
            update_fields = frozenset(update_fields) | {field.name}
        setattr(self, field.attname, (expected or 0) + 1)
        self.__dict__[EXPECTED] = expected
        try:
            return parent(raw, cls, force_insert, force_update, using, update_fields)
        except BaseException:
            setattr(self, field.attname, expected)
            raise
        finally:
            self.__dict__.pop(EXPECTED, None)

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update, *args):
        parent = super(owner, self)._do_update
        checked = expected_version(self, base_qs.model._meta)
        if checked is None:
            return parent(base_qs, using, pk_val, values, update_fields, forced_update, *args)
        field, expected = checked
        # None: the row has no version yet; filter(version=None) is IS NULL / absent.
        current = base_qs.filter(**{field.attname: expected})
        connection = connections[using]
        # A store whose conditional update is not atomic guards it (FerretDB v1).
        writer = row_writer(connection)
        with contextlib.ExitStack() as scope:
            if writer is not None:
                meta = base_qs.model._meta
                pk = meta.pk.get_db_prep_save(pk_val, connection=connection)
                scope.enter_context(
                    writer.version_guard(meta.db_table, pk, {field.column: expected})
                )
            updated = parent(current, using, pk_val, values, update_fields, forced_update, *args)
        if not updated and base_qs.filter(pk=pk_val).exists():
            raise ConflictError(stale_message(base_qs.model, pk_val, expected))
        return updated

    owner._save_table = _save_table
    owner._do_update = _do_update


def stale_message(model: type[models.Model], pk: Any, expected: int | None) -> str:
    loaded = "no version" if expected is None else f"version {expected}"
    return (
        f"{model._meta.label} with pk={pk!r} was changed since it was loaded "
        f"(this instance has {loaded}); nothing was written. "
        "Reload it with refresh_from_db() and apply the change again."
    )
