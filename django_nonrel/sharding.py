"""``ShardKey``: how a model's collection is sharded, declared with the model.

A sharded MongoDB cluster places every document by its *shard key* and routes a
command to one shard only when its filter carries that key; it refuses an
upsert whose filter lacks it. So the shard key is part of the model, next to
its indexes::

    from django_nonrel.sharding import ShardKey

    class Order(models.Model):
        tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
        number = models.IntegerField()

        class Meta:
            indexes = [ShardKey(fields=["tenant", "number"])]      # ranged
            # or [ShardKey(fields=["tenant"], hashed=True)]         # hashed

Why an entry of ``Meta.indexes`` rather than a new ``Meta`` option: Django
refuses unknown ``Meta`` attributes (``options.DEFAULT_NAMES`` would have to be
patched before any model module is imported), and its migration autodetector
would neither notice a change of such an option nor run a database operation
for it. An ``Index`` subclass needs no patch on Django 5.2 or 6.1: the
autodetector records it as ``AddIndex``/``RemoveIndex`` (reversible like any
index), ``sqlmigrate`` renders it, and the schema editor of each backend
decides what it means. A MongoDB sharding needs an index on the key anyway.

What it means per backend:

- MongoDB: the index on the key (``{"tenant_id": 1, "number": 1}`` or
  ``{"tenant_id": "hashed"}``), then ``shardCollection`` when the connection is
  to a ``mongos``; every single-document write carries the key (see
  :func:`stored_values`); the rules are system checks (``manage.py check
  --database``). A replica set, FerretDB or mongomock get the index only.
- SQL backends (SQLite, PostgreSQL, MySQL, SingleStore): a plain index on the
  fields, which is what they can do with it (SingleStore's shard key is the
  primary key, see docs/scaling.md).

Writes need the shard key value a row is *stored* under, which can differ
from the instance's current value when the code changed it: instances of a
sharded model remember the values they were loaded or last saved with
(``post_init``/``post_save`` receivers, connected per model class).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import NotSupportedError
from django.db.models import Field, Index, Model
from django.db.models.signals import class_prepared, post_init, post_save

from django_nonrel.features import nonrel_features
from django_nonrel.query import AND, Node, UpdateValue

#: Instance ``__dict__`` key: {attname: value} of the shard key fields as stored.
STORED = "_nonrel_shard_key_stored"
#: MongoDB's marker for a hashed key field.
HASHED = "hashed"


class ShardKey(Index):
    """``ShardKey(fields=[...], hashed=False, name=None)``: the model's shard key.

    ``fields`` are the model's own field names, in key order; ``hashed=True``
    hashes a one-field key (``hashed="field"`` picks the hashed field of a
    compound key; MongoDB allows one). Shard keys are ascending: no ``-``.
    Declare at most one per model.
    """

    suffix = "shk"

    def __init__(
        self,
        *,
        fields: Sequence[str] = (),
        hashed: bool | str = False,
        name: str | None = None,
    ) -> None:
        fields = list(fields)
        if not fields or not all(isinstance(f, str) and f for f in fields):
            raise ValueError("ShardKey needs fields: a list of the model's field names.")
        bad = [f for f in fields if f.startswith("-") or "__" in f]
        if bad:
            raise ValueError(
                f"ShardKey fields are plain field names in ascending order; got {bad!r} "
                "(no '-' prefix, no '__' paths)."
            )
        if len(set(fields)) != len(fields):
            raise ValueError(f"ShardKey fields repeat a field: {fields!r}.")
        if hashed is True:
            if len(fields) != 1:
                raise ValueError(
                    "hashed=True hashes a one-field shard key; for a compound key name "
                    f"the hashed field, e.g. hashed={fields[0]!r}."
                )
            hashed = fields[0]
        if hashed and hashed not in fields:
            raise ValueError(f"hashed={hashed!r} is not one of the shard key fields {fields!r}.")
        #: The hashed field's name, or None for a ranged key.
        self.hashed: str | None = hashed or None
        super().__init__(fields=fields, name=name)

    @property
    def key(self) -> list[tuple[str, int | str]]:
        """(field name, 1 or "hashed") per key field, in order."""
        return [(name, HASHED if name == self.hashed else 1) for name in self.fields]

    def deconstruct(self):
        _, args, kwargs = super().deconstruct()
        if self.hashed:
            kwargs["hashed"] = True if len(self.fields) == 1 else self.hashed
        return "django_nonrel.sharding.ShardKey", args, kwargs

    def __repr__(self) -> str:
        hashed = f" hashed={self.hashed!r}" if self.hashed else ""
        return f"<ShardKey: fields={self.fields!r}{hashed} name={self.name!r}>"


def shard_keys(model: type[Model]) -> list[ShardKey]:
    """The ShardKey entries of the table ``model`` writes (a proxy's concrete model)."""
    meta = model._meta.concrete_model._meta
    return [index for index in meta.indexes if isinstance(index, ShardKey)]


def shard_key(model: type[Model]) -> ShardKey | None:
    """The model's shard key, if it declares one (the system check refuses two)."""
    keys = shard_keys(model)
    return keys[0] if keys else None


def shard_key_fields(model: type[Model]) -> list[Field]:
    """The fields of the model's shard key, in key order (empty when unsharded)."""
    key = shard_key(model)
    if key is None:
        return []
    meta = model._meta.concrete_model._meta
    return [meta.get_field(name) for name in key.fields]


def _routing_fields(model: type[Model]) -> list[Field]:
    """Shard key fields a write adds to its filter (the primary key is always there)."""
    return [field for field in shard_key_fields(model) if not field.primary_key]


# -- the values a row is stored under ----------------------------------------------
def _chain(model: type[Model]) -> list[type[Model]]:
    """``model``'s table and its multi-table-inheritance parents' tables."""
    concrete = model._meta.concrete_model
    return [concrete, *concrete._meta.get_parent_list()]


def _remember(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    """Record the shard key values ``instance`` holds now (just loaded, or just saved).

    A field missing from ``__dict__`` is deferred: its stored value is unknown
    and is left out, so writes that need it use the current value or no key.
    """
    fields = _chain_routing_fields(sender)
    if fields:
        instance.__dict__[STORED] = {
            f.attname: instance.__dict__[f.attname]
            for f in fields
            if f.attname in instance.__dict__
        }


def _chain_routing_fields(model: type[Model]) -> list[Field]:
    return [field for table in _chain(model) for field in _routing_fields(table)]


def _connect(sender: type[Model], **kwargs: Any) -> None:
    """Make instances of a class whose table (or a parent's) is sharded remember their keys."""
    if sender._meta.abstract:
        return
    try:
        sharded = bool(_chain_routing_fields(sender))
    except FieldDoesNotExist:
        return  # a ShardKey naming no field: Django's check models.E012 reports it
    if not sharded:
        return
    post_init.connect(_remember, sender=sender)
    post_save.connect(_remember, sender=sender)


class_prepared.connect(_connect, dispatch_uid="django_nonrel.sharding")


def stored_values(
    instance: Model, model: type[Model], *, known_only: bool = False
) -> dict[Field, Any] | None:
    """The shard key of ``model``'s table as the row of ``instance`` is stored there.

    The values recorded when the instance was loaded or last saved; the
    current values for an instance being added (or never loaded). None when
    the table is not sharded (or the key is the primary key alone, which
    every write filters on anyway). ``known_only``: None instead of reading a
    deferred field from the database.
    """
    fields = _routing_fields(model)
    if not fields:
        return None
    stored = {} if instance._state.adding else instance.__dict__.get(STORED, {})
    values = {}
    for field in fields:
        if field.attname in stored:
            values[field] = stored[field.attname]
        elif known_only and field.attname not in instance.__dict__:
            return None
        else:
            values[field] = getattr(instance, field.attname)
    return values


def stored_columns(instance: Model, model: type[Model], connection) -> dict[str, Any] | None:
    """:func:`stored_values` as {column: database value}, for a store's filter."""
    values = stored_values(instance, model)
    if values is None:
        return None
    return {f.column: f.get_db_prep_save(v, connection=connection) for f, v in values.items()}


def routes_by_shard_key(connection) -> bool:
    """Whether writes on ``connection`` carry shard keys (False on Django's own backends)."""
    return nonrel_features(connection).supports_shard_keys


def routing_attnames(model: type[Model]) -> list[str]:
    """Attnames of the shard key fields a write of ``model``'s rows filters on."""
    return [field.attname for field in _routing_fields(model)]


# -- batches of collected instances ----------------------------------------------
#: {model: {pk: {field: stored value}}} of the instances a Collector is deleting.
_COLLECTED: ContextVar[Mapping[type[Model], Mapping[Any, Mapping[Field, Any]]] | None] = ContextVar(
    "django_nonrel_collected_shard_keys", default=None
)


@contextlib.contextmanager
def collected(instances_by_model: Mapping[type[Model], Sequence[Model]]) -> Iterator[None]:
    """Make the shard keys of these instances known to the batches deleting them.

    Django's ``Collector.delete`` hands ``DeleteQuery.delete_batch`` (and
    ``UpdateQuery.update_batch``) only primary keys; the instances, which hold
    the shard keys, stay in the collector. This scopes them to the delete in a
    context variable, so Django's call chain stays unchanged and nothing
    outlives the delete.
    """
    known: dict[type[Model], dict[Any, Mapping[Field, Any]]] = {}
    for model, instances in instances_by_model.items():
        for instance in instances:
            values = stored_values(instance, model, known_only=True)
            if values is not None:
                known.setdefault(model._meta.concrete_model, {})[instance.pk] = values
    token = _COLLECTED.set(known)
    try:
        yield
    finally:
        _COLLECTED.reset(token)


def batch_filters(model: type[Model], pks: Sequence[Any]) -> dict[str, list[Any]]:
    """``{"<attname>__in": values}`` routing a batch of collected keys to its shards.

    Empty unless every key of the batch belongs to an instance being deleted
    (or updated) whose stored shard key is known: a partial filter would miss
    rows.
    """
    known = (_COLLECTED.get() or {}).get(model._meta.concrete_model)
    if not known or not pks or any(pk not in known for pk in pks):
        return {}
    filters: dict[str, dict[Any, None]] = {}
    for pk in pks:
        for field, value in known[pk].items():
            filters.setdefault(f"{field.attname}__in", {})[value] = None
    return {lookup: list(values) for lookup, values in filters.items()}


# -- updates that would move documents ---------------------------------------------
def _pinned(where: Node, column: str) -> list[Any]:
    """Values ``where`` requires ``column`` to equal (an AND of ``exact`` leaves)."""
    if where.negated or (where.connector != AND and len(where.children) > 1):
        return []
    found = []
    for child in where.children:
        if isinstance(child, Node):
            found.extend(_pinned(child, column))
        elif child.path == (column,) and child.lookup == "exact" and child.transform is None:
            found.append(child.value)
    return found


def refuse_shard_key_change(
    model: type[Model], where: Node, values: Mapping[str, UpdateValue | Any]
) -> None:
    """Refuse a multi-document update that may change a shard key value.

    ``values`` maps columns to the UpdateValue written (or a function computing
    it per row). A sharded cluster changes a document's shard key only in a
    single-document write that filters on the full old key; ``update_many``
    is refused there. It is refused here on every MongoDB server, so that
    development finds what production would refuse. Setting a key field to
    the value the filter already pins it to changes nothing and is allowed
    (``save()`` through Django's update path writes every field).
    """
    for field in _routing_fields(model):
        if field.column not in values:
            continue
        value = values[field.column]
        unchanged = (
            isinstance(value, UpdateValue)
            and value.operator == "set"
            and any(value.value == pinned for pinned in _pinned(where, field.column))
        )
        if unchanged:
            continue
        raise NotSupportedError(
            f"This update would change {field.name!r}, part of the shard key of "
            f"{model._meta.label}, in a multi-document update; a sharded MongoDB cluster "
            "changes a document's shard key only in a single-document write that filters "
            "on its full current shard key. Load the rows and save() each one (save() moves "
            "a document to its new shard key), or leave the shard key fields out of "
            "update() and bulk_update()."
        )
