"""Writes of a sharded model's instances carry its shard key.

Wraps ``django.db.models.Model._do_update`` and
``django.db.models.deletion.Collector.delete``.

A sharded MongoDB cluster sends a write to one shard when its filter carries
the document's shard key (``django_nonrel.sharding.ShardKey``), and to every
shard otherwise. Django writes an instance by its primary key alone:

- ``Model._do_update`` (``save(update_fields=...)``, ``force_update``, and the
  saves the one-command upsert leaves to Django) filters ``pk=``. The wrapper
  adds the shard key values the row is stored under. Such an update is a
  multi-document command, which a cluster refuses to change a shard key with:
  a save on this path that would change one is refused, naming the save that
  can (a plain ``save()`` moves the document in a single-document upsert).
- ``Collector.delete`` hands ``DeleteQuery.delete_batch`` and
  ``UpdateQuery.update_batch`` only primary keys. The wrapper makes the
  collected instances' shard keys known for the duration of the delete
  (``django_nonrel.sharding.collected``), and the ``cascade`` patch's batches
  add them as ``<field>__in`` filters.

Only on connections whose ``features.supports_shard_keys`` is True, and only
for models that declare a ShardKey; Django's own backends run Django's code.
"""

from django.db import NotSupportedError, connections
from django.db.models import Model, QuerySet
from django.db.models.deletion import Collector

from django_nonrel.patches.versions import wrap
from django_nonrel.sharding import collected, routes_by_shard_key, stored_values

PATCH = "shard_keys"


def _make_do_update(original):
    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update, *args):
        model = base_qs.model
        located = (
            stored_values(self, model, known_only=True)
            if routes_by_shard_key(connections[using])
            else None
        )
        if located:
            for field, _model, value in values:
                if field in located and (
                    hasattr(value, "resolve_expression") or value != located[field]
                ):
                    raise NotSupportedError(
                        f"This save of {model._meta.label} pk={pk_val!r} would change "
                        f"{field.name!r}, part of its shard key, through an update command "
                        "(save() with update_fields or force_update, F() expressions, "
                        "order_with_respect_to, select_on_save or a GeneratedField), which a "
                        "sharded MongoDB cluster refuses. Save the new shard key with a plain "
                        "save() of the instance: it moves the document in one "
                        "single-document write."
                    )
            base_qs = base_qs.filter(**{field.attname: value for field, value in located.items()})
        return original(self, base_qs, using, pk_val, values, update_fields, forced_update, *args)

    return _do_update


def _make_collector_delete(original):
    def delete(self):
        if not routes_by_shard_key(connections[self.using]):
            return original(self)
        instances = {model: list(objs) for model, objs in self.data.items()}
        for batches in self.field_updates.values():
            for batch in batches:
                if not isinstance(batch, QuerySet):  # querysets keep their own filters
                    for instance in batch:
                        instances.setdefault(type(instance), []).append(instance)
        with collected(instances):
            return original(self)

    return delete


def apply() -> None:
    wrap(Model, "_do_update", PATCH, _make_do_update)
    wrap(Collector, "delete", PATCH, _make_collector_delete)
