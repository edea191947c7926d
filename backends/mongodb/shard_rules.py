"""The rules a sharded MongoDB cluster puts on a model with a ``ShardKey``.

Reported by ``manage.py check --database <alias>`` (and ``migrate``) on every
MongoDB connection, a mongos or not: the point is to find what a cluster would
refuse before the models meet one. Each rule, and why:

``mongodb.E001`` a unique index that is not compatible with the shard key. A
    shard checks uniqueness only among its own documents, so a cluster accepts
    a unique index only when every document with the same indexed values is on
    one shard: MongoDB's exact rule (``ShardKeyPattern::isUniqueIndexCompatible``)
    is that the index's fields start with ``_id``, or start with the shard key's
    fields in the shard key's order (``createIndexes`` and ``shardCollection``
    refuse other unique indexes). Checked on the keys the schema editor creates
    for ``unique=True``, ``unique_together``, ``UniqueConstraint`` and a
    ``CompositePrimaryKey``.
``mongodb.E002`` a nullable shard key field: a document without its key is
    filed under null (every such document in one chunk) and its writes cannot be
    routed by value.
``mongodb.E003`` a shard key field whose value changes without a ``save()`` of
    the instance: ``auto_now`` and ``VersionField`` change it on every save (each
    save would move the document), and a foreign key whose ``on_delete`` sets a
    value (SET_NULL, SET_DEFAULT, SET()) rewrites it with a multi-document
    update, which a cluster refuses for shard keys.
``mongodb.E004`` a shard key field holding lists or documents (``ListField``,
    ``SetField``, ``JSONField``, ``DictField``, ``EmbeddedModelField``): MongoDB
    refuses arrays as shard key values, and a whole document as a key value
    routes by its exact bytes (key order included), which no query writes.
``mongodb.E005`` more than one ``ShardKey``: a collection has one shard key.
``mongodb.E006`` a collection MongoDB cannot shard: collections of the
    ``admin``, ``config`` and ``local`` databases and ``system.`` collections.
``mongodb.W001`` a primary key the backend does not generate, outside the
    shard key: a cluster keeps ``_id`` unique per shard only, so two saves of the
    same key with different shard keys make two documents.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.core import checks
from django.db import models
from django.db.models import (
    SET_DEFAULT,
    SET_NULL,
    DateField,
    JSONField,
    TimeField,
    UniqueConstraint,
)
from django.db.models.fields import AutoFieldMixin

from django_nonrel.fields import VersionField
from django_nonrel.fields.nested import NestedValueField
from django_nonrel.rules import RuleViolation
from django_nonrel.sharding import ShardKey, shard_key_fields

from .filters import ID
from .index_specs import constraint_spec
from .sharded_collections import key_document

#: Databases whose collections MongoDB never shards.
UNSHARDABLE_DATABASES = frozenset({"admin", "config", "local"})
#: Values on_delete rules that write a value into the children (``SET(...)`` is a function).
SET_RULES = (SET_NULL, SET_DEFAULT)


def violations(model: type[models.Model], editor) -> list[RuleViolation]:
    """The sharding rules ``model`` breaks; ``editor`` is a MongoDB schema editor."""
    declared = [index for index in model._meta.indexes if isinstance(index, ShardKey)]
    if not declared:
        return []
    found = list(_declaration_violations(model, declared, editor.connection))
    if found:
        return found
    key = key_document(editor, model, declared[0])
    found.extend(_unique_violations(model, editor, list(key)))
    found.extend(_field_violations(model))
    found.extend(_primary_key_warnings(model, list(key)))
    return found


def _declaration_violations(model, declared, connection) -> Iterator[RuleViolation]:
    label = model._meta.label
    if len(declared) > 1:
        yield RuleViolation(
            "mongodb.E005",
            model,
            f"{label} declares {len(declared)} ShardKeys "
            f"({', '.join(repr(key.name) for key in declared)}); a collection has one "
            "shard key.",
            "Keep one ShardKey in Meta.indexes.",
        )
    database = connection.settings_dict["NAME"]
    table = model._meta.db_table
    if database in UNSHARDABLE_DATABASES or table.startswith("system."):
        yield RuleViolation(
            "mongodb.E006",
            model,
            f"{label} declares a ShardKey, but MongoDB cannot shard {database}.{table} "
            "(collections of the admin, config and local databases and system. "
            "collections stay unsharded).",
            "Store the model in another database (NAME) or collection (db_table), or "
            "remove the ShardKey.",
        )


def _unique_indexes(model, editor) -> Iterator[tuple[str, object, list[str]]]:
    """(origin, object for messages, key fields) of each unique index the editor creates."""
    meta = model._meta
    for field in meta.local_concrete_fields:
        if field.unique and not field.primary_key:
            yield f"field {field.name!r} (unique=True)", field, [field.column]
    if len(meta.pk_fields) > 1:
        yield "the CompositePrimaryKey", model, [field.column for field in meta.pk_fields]
    for names in meta.unique_together:
        columns = [meta.get_field(name).column for name in names]
        yield f"unique_together {tuple(names)!r}", model, columns
    for constraint in meta.constraints:
        if isinstance(constraint, UniqueConstraint):
            spec = constraint_spec(model, constraint, editor)
            if spec is not None:  # else not created (Django's and index checks say so)
                yield f"UniqueConstraint {constraint.name!r}", model, spec.columns


def _unique_violations(model, editor, shard_columns: list[str]) -> Iterator[RuleViolation]:
    label = model._meta.label
    names = [field.name for field in shard_key_fields(model)]
    prefix = ", ".join(repr(name) for name in names)
    for origin, obj, columns in _unique_indexes(model, editor):
        if columns[0] == ID or columns[: len(shard_columns)] == shard_columns:
            continue
        if isinstance(obj, models.Field):
            fix = (
                f"Replace unique=True by UniqueConstraint(fields=[{prefix}, {obj.name!r}], "
                f"name=...) (unique per shard key value), or shard on {obj.name!r}"
            )
        else:
            fix = f"Start the unique key with the shard key fields: fields=[{prefix}, ...]"
        yield RuleViolation(
            "mongodb.E001",
            obj,
            f"{label}: {origin} is a unique index on {columns!r}, which does not start "
            f"with the shard key {shard_columns!r}; a sharded cluster refuses it (each shard "
            "checks uniqueness only among its own documents).",
            f"{fix}; or choose a shard key that starts every unique key.",
        )


def _field_violations(model) -> Iterator[RuleViolation]:
    label = model._meta.label
    for field in shard_key_fields(model):
        if field.primary_key:
            continue
        where = f"{label}.{field.name} is in the shard key"
        if field.null:
            yield RuleViolation(
                "mongodb.E002",
                field,
                f"{where} but is nullable: documents without a value all go to the null "
                "chunk (one shard), and their writes cannot be routed by value.",
                "Set null=False (with a default, for existing rows).",
            )
        changes = _changes_without_save(field)
        if changes:
            yield RuleViolation(
                "mongodb.E003",
                field,
                f"{where} but {changes}; a sharded cluster changes a "
                "shard key only in a single-document write that names the old value.",
                "Take the field out of the ShardKey, or make it a value set once "
                "(auto_now_add instead of auto_now; on_delete=CASCADE or PROTECT).",
            )
        if isinstance(field, NestedValueField | JSONField):
            yield RuleViolation(
                "mongodb.E004",
                field,
                f"{where} but holds lists or documents ({type(field).__name__}); MongoDB "
                "refuses arrays as shard key values, and a document value routes only "
                "queries that repeat it exactly.",
                "Shard on a field with one scalar value per row.",
            )


def _changes_without_save(field) -> str:
    """Why ``field``'s value changes other than by the user's save(), or ''."""
    if isinstance(field, DateField | TimeField) and field.auto_now:
        return "auto_now sets it on every save (each save would move the document)"
    if isinstance(field, VersionField):
        return "a VersionField changes on every save (each save would move the document)"
    rule = field.remote_field.on_delete if field.remote_field else None
    if rule in SET_RULES or getattr(rule, "__name__", "") == "set_on_delete":
        return (
            f"on_delete={getattr(rule, '__name__', rule)} rewrites it with a "
            "multi-document update when the parent is deleted"
        )
    return ""


def _primary_key_warnings(model, shard_columns: list[str]) -> Iterator[RuleViolation]:
    pk = model._meta.pk
    if shard_columns == [ID] or isinstance(pk, AutoFieldMixin) or pk.has_default():
        return
    yield RuleViolation(
        "mongodb.W001",
        pk,
        f"{model._meta.label}: the primary key {pk.name!r} is set by the application and "
        "is not the shard key; a sharded cluster enforces _id uniqueness per shard only, "
        "so saving one key with two shard keys makes two documents.",
        "Generate keys (AutoField, ObjectIdAutoField, or a default such as uuid.uuid4), "
        f"or shard on the primary key alone: ShardKey(fields=[{pk.name!r}], hashed=True).",
        level=checks.WARNING,
    )
