"""save() as one upsert where the backend does not tell inserts from updates.

Wraps ``django.db.models.Model._save_table``. Django saves a row that has a
primary key by trying an UPDATE and, when nothing matched, an INSERT: two round
trips for every new row with a known key, and a race between them. When
``connection.features.distinguishes_insert_from_update`` is False the backend's
``store.upsert()`` writes the row in one command and reports whether it created
it, which keeps ``post_save(created=...)`` right. Only the model's columns are
written, so document fields the model does not know about survive the save.
A model with a ``VersionField`` gets a conditional upsert (``expected=`` the
loaded version): a stale save raises ``ConflictError`` and writes nothing.
A model with a ``ShardKey`` passes the key it is stored under
(``shard_key=``), which a sharded cluster needs to route the upsert.

Django's own path is kept where its semantics differ from an upsert:
``force_insert`` (and new rows whose pk comes from a default), ``force_update``
and ``update_fields`` (which must fail when the row is gone), values that are
expressions (``F('n') + 1``), ``order_with_respect_to`` models, models with a
``GeneratedField`` (Django reads the computed values back), and models that ask
for ``Meta.select_on_save``.
"""

from django.db import connections
from django.db.models import Model
from django.db.models.expressions import DatabaseDefault

from django_nonrel.exceptions import ConflictError
from django_nonrel.features import nonrel_features
from django_nonrel.fields.version import expected_version, stale_message
from django_nonrel.nulls import absent_when_null, check_not_null
from django_nonrel.patches.versions import wrap
from django_nonrel.sharding import routes_by_shard_key, stored_columns
from django_nonrel.writes import INTEGER_AUTO_FIELDS

PATCH = "upsert"


def _upsert_applies(instance, cls, raw, force_insert, force_update, update_fields) -> bool:
    meta = cls._meta
    if force_insert or force_update or update_fields or meta.order_with_respect_to:
        return False
    if instance._meta.select_on_save:  # a proxy may ask for it; cls is the concrete model
        return False
    # Django refreshes GeneratedField values after its own INSERT/UPDATE.
    if any(field.generated for field in meta.local_concrete_fields):
        return False
    if len(meta.pk_fields) != 1 or not instance._is_pk_set(meta):
        return False
    # Django inserts (no update probe) new rows whose key comes from a default.
    return raw or not (
        instance._state.adding and (meta.pk.has_default() or meta.pk.has_db_default())
    )


def _make_save_table(original):
    def _save_table(
        self,
        raw=False,
        cls=None,
        force_insert=False,
        force_update=False,
        using=None,
        update_fields=None,
    ):
        connection = connections[using]
        if nonrel_features(connection).distinguishes_insert_from_update:
            return original(self, raw, cls, force_insert, force_update, using, update_fields)
        cls = cls or self.__class__
        meta = cls._meta
        # As Django: a key left to its db_default (DatabaseDefault, which Django
        # 6.1's _is_pk_set() counts as unset) does not take the Python default.
        if not self._is_pk_set(meta) and not isinstance(
            getattr(self, meta.pk.attname), DatabaseDefault
        ):
            setattr(self, meta.pk.attname, meta.pk.get_pk_value_on_save(self))
        if not _upsert_applies(self, cls, raw, force_insert, force_update, update_fields):
            return original(self, raw, cls, force_insert, force_update, using, update_fields)
        adding = self._state.adding
        values = {}
        for field in meta.local_concrete_fields:
            if field.primary_key or field.generated:
                continue
            value = getattr(self, field.attname) if raw else field.pre_save(self, adding)
            if hasattr(value, "resolve_expression"):
                return original(self, raw, cls, force_insert, force_update, using, update_fields)
            # A model instance is a value only for relations and for fields that
            # embed models (EmbeddedModelField, during loaddata's raw saves).
            if hasattr(value, "prepare_database_save") and not hasattr(field, "embedded_model"):
                if not field.remote_field:
                    raise TypeError(
                        f"Tried to update field {field} with a model instance, {value!r}. "
                        f"Use a value compatible with {field.__class__.__name__}."
                    )
                value = value.prepare_database_save(field)
            values[field.column] = field.get_db_prep_save(value, connection=connection)
        features = nonrel_features(connection)
        if features.checks_not_null:
            check_not_null(cls, values, meta.local_concrete_fields)
        unset = ()
        if features.stores_unique_nulls_as_absent:
            unset = [c for c in absent_when_null(cls) if c in values and values[c] is None]
            for column in unset:
                del values[column]
        pk = meta.pk.get_db_prep_save(self._get_pk_val(meta), connection=connection)
        store = connection.store
        checked = expected_version(self, meta)
        # Passed only when needed: stores written before ``expected`` keep working.
        condition = {"expected": {checked[0].column: checked[1]}} if checked else {}
        located = stored_columns(self, cls, connection) if routes_by_shard_key(connection) else None
        if located:
            condition["shard_key"] = located
        try:
            created = store.upsert(
                meta.db_table, meta.pk.column, pk, values, unset=unset, **condition
            )
        except ConflictError:
            raise ConflictError(stale_message(cls, self._get_pk_val(meta), checked[1])) from None
        if created and meta.pk.get_internal_type() in INTEGER_AUTO_FIELDS:
            store.note_explicit_keys(meta.db_table, [pk])
        return not created

    return _save_table


def apply() -> None:
    wrap(Model, "_save_table", PATCH, _make_save_table)
