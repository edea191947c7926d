"""What SingleStore refuses in a migration operation, decided before any DDL is sent.

``CREATE TABLE`` is planned by rules.py; this module judges the operations that
change an existing table (AddField, AlterField, RemoveField, AddIndex,
AlterUniqueTogether, AddConstraint, AlterModelTableComment). Each function
returns the :class:`~.rules.RuleViolation` values an operation commits; the
schema editor raises them as one NotSupportedError before its first statement,
so a refused migration leaves the table as it was. The rules, from
SingleStore's ALTER TABLE and CREATE INDEX documentation:

* a unique key added later must contain the shard key of a distributed table
  (E001), like one written in CREATE TABLE;
* an AUTO_INCREMENT column added to a distributed table is BIGINT (E005);
* a columnstore table (the default, and REFERENCE) cannot change a column's
  type, make it NOT NULL, change its comment, or gain a unique index (E006);
* no table can gain, lose or move its PRIMARY KEY, and no distributed table
  can drop a shard-key column (E007): the primary key is fixed at CREATE TABLE;
* a table's comment cannot change after CREATE TABLE (E008);
* a columnstore table cannot have two indexes on the same columns (E004).

Both dialects apply them, so a migration that passes on MariaDB passes on
SingleStore.
"""

from __future__ import annotations

from django.db import models
from django.db.backends.base.schema import _related_non_m2m_objects

from django_nonrel.rules import RuleViolation

from .rules import (
    NARROW_AUTO_TYPES,
    UniqueSource,
    duplicate_index_violation,
    indexed_columns,
    reference_storage_fix,
    shard_key,
    unique_key,
)
from .table_storage import ROWSTORE, StorageSettings, TableStorage, table_storage

ADD_COPY_DROP = (
    "Migrate by adding a new field with the wanted definition, copying the data in a "
    "RunPython/RunSQL step, then removing the old field (and renaming the new one); or store "
    "the table as ROWSTORE: {setting} (a new table: the storage type is fixed at CREATE TABLE)."
)
NEW_TABLE = (
    "Create a new model with the wanted primary key, copy the rows in a RunPython step, "
    "delete the old model and rename the new one (RenameModel)."
)


def columnstore_violation(
    model, storage: TableStorage, settings: StorageSettings, what: str
) -> list[RuleViolation]:
    """``what`` is refused on a columnstore table (E006); nothing on rowstore."""
    if not storage.is_columnstore:
        return []
    meta = model._meta
    return [
        RuleViolation(
            "singlestore.E006",
            model,
            f"{meta.label}: SingleStore cannot {what} on a columnstore table "
            f"({storage.label}, from {storage.source}).",
            ADD_COPY_DROP.format(setting=settings.setting_for(meta.app_label, ROWSTORE)),
        )
    ]


def primary_key_violation(model, storage: TableStorage, what: str) -> RuleViolation:
    meta = model._meta
    shard = " (on a distributed table it is also the shard key)" if storage.is_distributed else ""
    return RuleViolation(
        "singlestore.E007",
        model,
        f"{meta.label}: SingleStore cannot {what}: a table's PRIMARY KEY is fixed when the "
        f"table is created{shard}, on every storage type ({storage.label}, from "
        f"{storage.source}).",
        NEW_TABLE,
    )


def added_unique_violations(
    model, storage: TableStorage, settings: StorageSettings, source: UniqueSource
) -> list[RuleViolation]:
    """A unique key added to an existing table: columnstore refuses it, the shard key must lead."""
    found = columnstore_violation(model, storage, settings, f"add a unique index ({source.origin})")
    _, violation = unique_key(model, storage, settings, source, source.name or "")
    if violation is not None:
        found.append(violation)
    return found


def field_source(field) -> UniqueSource:
    kind = "OneToOneField" if isinstance(field, models.OneToOneField) else "field"
    return UniqueSource(f"{kind} {field.name!r}", (field.name,), (field.column,), field)


def auto_field_violations(model, storage, settings, field) -> list[RuleViolation]:
    """An AUTO_INCREMENT column narrower than BIGINT arriving on a distributed table."""
    if not storage.is_distributed or field.get_internal_type() not in NARROW_AUTO_TYPES:
        return []
    meta = model._meta
    return [
        RuleViolation(
            "singlestore.E005",
            field,
            f"{meta.label}.{field.name} would become an {field.get_internal_type()} "
            f"(AUTO_INCREMENT narrower than BIGINT) on a distributed table ({storage.label}, "
            f"from {storage.source}); SingleStore requires BIGINT there.",
            "Use models.BigAutoField; or "
            + reference_storage_fix(model, settings, "reference tables take any integer")
            + ".",
        )
    ]


def add_field_violations(model, storage, settings, field) -> list[RuleViolation]:
    if field.primary_key:
        return [primary_key_violation(model, storage, f"add the primary key {field.name!r}")]
    if field.many_to_many or field.column is None:
        return []  # a through table (planned at CREATE TABLE) or no column at all
    found = auto_field_violations(model, storage, settings, field)
    if field.unique:
        found += columnstore_violation(
            model, storage, settings, f"add the unique column {field.column!r}"
        )
        _, violation = unique_key(model, storage, settings, field_source(field), "")
        if violation is not None:
            found.append(violation)
    return found


def remove_field_violations(model, storage, field) -> list[RuleViolation]:
    if field.primary_key or field.column in shard_key(model, storage):
        return [primary_key_violation(model, storage, f"drop the primary key {field.name!r}")]
    return []


def alter_field_violations(
    model, storage: TableStorage, settings: StorageSettings, old, new, connection
) -> list[RuleViolation]:
    """What SingleStore refuses in ``AlterField(old -> new)`` on ``model``'s table."""
    if old.many_to_many or new.many_to_many:
        return []
    if old.primary_key != new.primary_key:
        which = new.name if new.primary_key else old.name
        verb = "make" if new.primary_key else "stop"
        what = f"{verb} {which!r} {'the' if new.primary_key else 'being the'} primary key"
        return [primary_key_violation(model, storage, what)]
    old_type = old.db_parameters(connection=connection)["type"]
    new_type = new.db_parameters(connection=connection)["type"]
    changes = []
    if old_type != new_type and old_type is not None and new_type is not None:
        changes.append(f"change the type of column {old.column!r}")
    if old.null and not new.null:
        changes.append(f"make column {new.column!r} NOT NULL")
    if not old.unique and new.unique and not new.primary_key:
        changes.append(f"add a unique index on {new.column!r}")
    if old.db_comment != new.db_comment:
        changes.append(f"change the comment of column {new.column!r}")
    found = []
    if changes:
        found += columnstore_violation(model, storage, settings, " or ".join(changes))
    found += auto_field_violations(model, storage, settings, new) if old_type != new_type else []
    if not old.unique and new.unique and not new.primary_key:
        _, violation = unique_key(model, storage, settings, field_source(new), "")
        if violation is not None:
            found.append(violation)
    if old_type != new_type and (
        (old.primary_key and new.primary_key) or (old.unique and new.unique)
    ):
        # The columns that refer to the key change type with it (schema.py).
        for _, relation in _related_non_m2m_objects(old, new):
            referring = relation.related_model
            what = (
                f"change the type of column {relation.field.column!r}, which refers to "
                f"{model._meta.label}.{new.name}"
            )
            found += columnstore_violation(
                referring, table_storage(referring, settings), settings, what
            )
    gains_index = new.db_index and not new.unique and (not old.db_index or old.unique)
    if gains_index and storage.is_columnstore:
        found += duplicate_index(model, storage, (new.column,), f"db_index on {new.name!r}")
    return found


def duplicate_index(model, storage, columns: tuple[str, ...], origin: str):
    """An index on ``columns`` next to an existing one of ``model`` (E004 on columnstore)."""
    for other, other_columns in indexed_columns(model):
        if other != origin and other_columns == columns:
            return [duplicate_index_violation(model, storage, origin, other, columns)]
    return []


def add_index_violations(model, storage, index) -> list[RuleViolation]:
    if not storage.is_columnstore or not index.fields or index.expressions:
        return []
    meta = model._meta
    columns = tuple(meta.get_field(name.lstrip("-")).column for name in index.fields)
    return duplicate_index(model, storage, columns, f"index {index.name!r}")


def table_comment_violation(model, storage) -> RuleViolation:
    meta = model._meta
    return RuleViolation(
        "singlestore.E008",
        model,
        f"{meta.label}: SingleStore cannot change a table's comment after CREATE TABLE "
        f"({storage.label}, from {storage.source}).",
        "Keep the comment the table was created with (remove the AlterModelTableComment "
        "operation, or fold it into the CreateModel of a new migration before the table "
        "exists).",
    )
