"""Cascade deletes in few, large batches, and a hook for backends to take them over.

Wraps ``django.db.models.sql.DeleteQuery.delete_batch``,
``django.db.models.sql.UpdateQuery.update_batch`` and
``django.db.models.deletion.Collector.collect``.

Django's Collector already works in batches, but deletes and SET_NULL updates
go out in chunks of ``GET_ITERATOR_CHUNK_SIZE`` (100) keys, sized for SQL
parameter limits: 100 commands for 10,000 children. A nonrel backend declares
``features.max_keys_per_command`` (how many keys one ``$in`` may carry) and
these batches use it instead. Batches of collected instances of a sharded
model also filter on their shard keys (see the ``shard_keys`` patch), so a
sharded cluster sends them only to the shards holding those rows.

The hooks, asked in turn for every top-level ``collect()``: the project's
``settings.NONREL_CASCADE_HANDLER`` (a dotted path, on every database; see
``django_nonrel.deletion.cascade_handler``), then the connection's
``ops.take_over_cascade(collector, objs, **collect_kwargs)``, declared by
``django_nonrel.operations.NonrelOperations`` (False unless the backend
overrides it; MongoDB's runs cascades on key sets: ``django_nonrel.deletion``). The
first to return True has filled the collector itself (for example with
``fast_deletes`` querysets keyed on parent keys, so no child is fetched) or
scheduled the work elsewhere, and Django's recursive collection is skipped.
When all return False, Django's semantics hold: on_delete rules, signals, and
the batches above. Without the setting, stock backends are untouched.
"""

from django.db import connections
from django.db.models.deletion import Collector
from django.db.models.sql.subqueries import DeleteQuery, UpdateQuery

from django_nonrel.deletion import cascade_handler
from django_nonrel.features import nonrel_features
from django_nonrel.operations import nonrel_operations
from django_nonrel.patches.versions import wrap
from django_nonrel.sharding import batch_filters

PATCH = "cascade"


def _batch_size(using: str) -> int | None:
    return nonrel_features(connections[using]).max_keys_per_command


def _make_delete_batch(original):
    def delete_batch(self, pk_list, using):
        size = _batch_size(using)
        if size is None:
            return original(self, pk_list, using)
        meta = self.get_meta()
        deleted = 0
        for offset in range(0, len(pk_list), size):
            chunk = pk_list[offset : offset + size]
            self.clear_where()
            self.add_filter(f"{meta.pk.attname}__in", chunk)
            for lookup, values in batch_filters(self.model, chunk).items():
                self.add_filter(lookup, values)
            deleted += self.do_query(meta.db_table, self.where, using=using)
        return deleted

    return delete_batch


def _make_update_batch(original):
    def update_batch(self, pk_list, values, using):
        size = _batch_size(using)
        if size is None:
            return original(self, pk_list, values, using)
        self.add_update_values(values)
        for offset in range(0, len(pk_list), size):
            chunk = pk_list[offset : offset + size]
            self.clear_where()
            self.add_filter("pk__in", chunk)
            for lookup, values_in in batch_filters(self.model, chunk).items():
                self.add_filter(lookup, values_in)
            self.get_compiler(using).execute_sql(None)

    return update_batch


#: ``Collector.collect()``'s parameters after ``source``, handed to the hooks by name.
COLLECT_PARAMETERS = (
    "nullable",
    "collect_related",
    "source_attr",
    "reverse_dependency",
    "keep_parents",
    "fail_on_restricted",
)


def _make_collect(original):
    def collect(self, objs, source=None, *args, **kwargs):
        if source is None:
            named = {**dict(zip(COLLECT_PARAMETERS, args, strict=False)), **kwargs}
            for take_over in (
                cascade_handler(),
                nonrel_operations(connections[self.using]).take_over_cascade,
            ):
                if take_over is not None and take_over(self, objs, **named):
                    return None
        return original(self, objs, source, *args, **kwargs)

    return collect


def apply() -> None:
    wrap(DeleteQuery, "delete_batch", PATCH, _make_delete_batch)
    wrap(UpdateQuery, "update_batch", PATCH, _make_update_batch)
    wrap(Collector, "collect", PATCH, _make_collect)
