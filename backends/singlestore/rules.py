"""SingleStore's table rules, applied to a model before any DDL reaches a server.

:func:`plan_table` decides a model's table layout (storage, shard key, primary
key, unique keys and whether SingleStore enforces them) and lists every
:class:`RuleViolation` the model commits. The schema editor renders the plan
(and refuses a table with violations at migration time); the system checks
(validation.py) report the same violations from ``manage.py check --database``.
One function decides both, so a check that passes means the DDL is accepted.

The rules (see docs/singlestore.md for each one's source and handling):

* a UNIQUE key on a distributed table must contain the shard key (the primary
  key) -- fix: REFERENCE storage, DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_<APP>,
  or include the primary key in the key; for a OneToOneField, make it the
  primary key;
* a columnstore table takes at most one unique index when any of them spans
  several columns;
* no FLOAT/DOUBLE primary key on a columnstore table;
* no two indexes on the same columns of a columnstore table (both are HASH);
* the AUTO_INCREMENT column of a distributed table is BIGINT: an ``AutoField``
  or ``SmallAutoField`` (INTEGER / SMALLINT AUTO_INCREMENT) needs
  ``BigAutoField`` or reference storage;
* auto-created many-to-many tables on distributed or columnstore storage get
  the layout SingleStore accepts (primary key (from, to), shard key from, the
  ``id`` column kept and indexed) -- not a violation, a layout.

A ``UniqueConstraint`` SingleStore cannot hold as a plain unique key (with a
``condition``, ``include``, ``deferrable``, ``nulls_distinct`` or expressions)
is not a key here at all, as on Django's MySQL backend: it is left out of the
DDL, Django's system check warns (models.W036, W038, W039, W044, W047), and
``Model.validate_constraints`` checks it in Python. Rendering it as a plain key
would refuse rows its condition allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import models
from django.db.migrations.state import AppConfigStub
from django.db.models import UniqueConstraint

from django_nonrel.rules import RuleViolation

from .table_storage import ROWSTORE_REFERENCE, StorageSettings, TableStorage, table_storage

FLOAT_TYPES = ("FloatField",)
#: AUTO_INCREMENT types narrower than BIGINT (SingleStore wants BIGINT on distributed tables).
NARROW_AUTO_TYPES = ("AutoField", "SmallAutoField")


@dataclass(frozen=True)
class UniqueKey:
    #: Empty for unique_together: the schema editor gives Django's own name.
    name: str
    columns: tuple[str, ...]
    #: False: ``UNIQUE KEY ... UNENFORCED RELY`` (SingleStore trusts, never checks it).
    enforced: bool
    #: Where it comes from, for messages (``field 'slug'``, ``unique_together (...)``).
    origin: str


@dataclass
class TablePlan:
    model: type[models.Model]
    storage: TableStorage
    shard_key: tuple[str, ...]
    #: Columns of a table-level PRIMARY KEY; empty when the pk column carries it inline.
    primary_key: tuple[str, ...]
    unique_keys: list[UniqueKey] = field(default_factory=list)
    #: Plain (non-unique) keys the layout needs, e.g. KEY(id) on an m2m table.
    extra_keys: list[tuple[str, ...]] = field(default_factory=list)
    #: The pk column renders without PRIMARY KEY (the m2m layout).
    pk_inline: bool = True
    violations: list[RuleViolation] = field(default_factory=list)


def is_third_party(model) -> bool:
    """Whether ``model``'s app is an installed package (its models cannot be edited)."""
    meta = model._meta
    config = meta.app_config
    if config is None or isinstance(config, AppConfigStub):
        # A migration's historical model: ask the project's registry.
        try:
            config = apps.get_app_config(meta.app_label)
        except LookupError:
            return False
    return "site-packages" in config.path or "dist-packages" in config.path


def shard_key(model, storage: TableStorage) -> tuple[str, ...]:
    """The columns of ``model``'s shard key: its primary key's, on distributed storage."""
    if not storage.is_distributed:
        return ()
    # The primary key's columns (several for a CompositePrimaryKey).
    return tuple(f.column for f in model._meta.pk_fields)


def is_m2m_through(model) -> bool:
    return bool(model._meta.auto_created)


def m2m_columns(model) -> tuple[str, str]:
    """(from, to) columns of an auto-created through table: its two foreign keys, in order."""
    from_field, to_field = (f for f in model._meta.local_concrete_fields if f.remote_field)
    return from_field.column, to_field.column


def is_plain_unique_key(constraint) -> bool:
    """Whether ``constraint`` is a unique key SingleStore (and MySQL) can hold as such.

    The same decision as Django's ``BaseDatabaseSchemaEditor._unique_supported``
    under this backend's flags (no partial, deferrable, covering, expression or
    NULLS DISTINCT unique keys, in both dialects); opclasses are ignored, as on
    Django's MySQL backend.
    """
    return (
        isinstance(constraint, UniqueConstraint)
        and bool(constraint.fields)
        and constraint.condition is None
        and not constraint.deferrable
        and not constraint.include
        and constraint.nulls_distinct is None
    )


@dataclass(frozen=True)
class UniqueSource:
    """A unique key a model declares, other than its primary key."""

    #: For messages: ``field 'slug'``, ``unique_together (...)``, ``UniqueConstraint 'x'``.
    origin: str
    names: tuple[str, ...]
    columns: tuple[str, ...]
    #: What a check message points at: the field, else the model.
    obj: object
    #: The key's name when the model gives one (a UniqueConstraint's), else None.
    name: str | None = None


def unique_sources(model) -> list[UniqueSource]:
    """Every unique key of ``model`` but the pk, as SingleStore would hold it."""
    meta = model._meta
    found = []
    for f in meta.local_concrete_fields:
        if f.unique and not f.primary_key:
            kind = "OneToOneField" if isinstance(f, models.OneToOneField) else "field"
            found.append(UniqueSource(f"{kind} {f.name!r}", (f.name,), (f.column,), f))
    for names in meta.unique_together:
        columns = tuple(meta.get_field(name).column for name in names)
        found.append(
            UniqueSource(f"unique_together {tuple(names)!r}", tuple(names), columns, model)
        )
    for constraint in meta.constraints:
        if is_plain_unique_key(constraint):
            names = tuple(constraint.fields)
            columns = tuple(meta.get_field(name).column for name in names)
            found.append(
                UniqueSource(
                    f"UniqueConstraint {constraint.name!r}", names, columns, model, constraint.name
                )
            )
    return found


def plan_table(model, settings: StorageSettings) -> TablePlan:
    """The layout of ``model``'s table and the SingleStore rules it breaks."""
    meta = model._meta
    storage = table_storage(model, settings)
    pk = meta.pk
    label = meta.label
    plan = TablePlan(model, storage, shard_key=(), primary_key=())
    if is_m2m_through(model) and storage.storage_type != ROWSTORE_REFERENCE:
        from_column, to_column = m2m_columns(model)
        plan.primary_key = (from_column, to_column)
        plan.pk_inline = False
        plan.extra_keys.append((pk.column,))
        if storage.is_distributed:
            plan.shard_key = (from_column,)
        plan.violations.extend(auto_increment_violations(model, storage, settings))
        return plan
    plan.shard_key = shard_key(model, storage)
    plan.violations.extend(auto_increment_violations(model, storage, settings))
    if storage.is_columnstore and pk.get_internal_type() in FLOAT_TYPES:
        plan.violations.append(
            RuleViolation(
                "singlestore.E003",
                pk,
                f"{label}.{pk.name} is a {pk.get_internal_type()} primary key on a "
                f"columnstore table ({storage.label}, from {storage.source}); SingleStore "
                "refuses FLOAT/DOUBLE primary keys on columnstore tables.",
                "Use an integer, decimal or string primary key, or ROWSTORE storage "
                "(ModelStorageManager(table_storage_type='ROWSTORE')).",
            )
        )
    for source in unique_sources(model):
        name = source.name
        if not name and isinstance(source.obj, models.Field):
            name = f"{meta.db_table}_{source.columns[0]}_uniq"
        key, violation = unique_key(model, storage, settings, source, name)
        if violation is not None:
            plan.violations.append(violation)
        plan.unique_keys.append(key)
    if storage.is_columnstore:
        enforced = [key for key in plan.unique_keys if key.enforced]
        indexes = [tuple(f.column for f in meta.pk_fields), *(key.columns for key in enforced)]
        if len(indexes) > 1 and any(len(columns) > 1 for columns in indexes):
            plan.violations.append(
                RuleViolation(
                    "singlestore.E002",
                    model,
                    f"{label} has {len(indexes)} unique indexes (the primary key and "
                    f"{', '.join(key.origin for key in enforced)}) on a columnstore table "
                    f"({storage.label}, from {storage.source}) and one of them spans several "
                    "columns; SingleStore allows several unique indexes on a columnstore table "
                    "only when each has one column.",
                    "Keep one multi-column unique key; or store the table as ROWSTORE or "
                    "ROWSTORE REFERENCE: "
                    f"{settings.setting_for(meta.app_label, ROWSTORE_REFERENCE)}; or set "
                    f"DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_{meta.app_label.upper()}=1.",
                )
            )
        plan.violations.extend(duplicate_index_violations(model, storage))
    return plan


def unique_key(
    model, storage: TableStorage, settings: StorageSettings, source: UniqueSource, name: str
) -> tuple[UniqueKey, RuleViolation | None]:
    """``source`` as the key SingleStore holds, and the shard-key rule it breaks, if any."""
    if storage.is_distributed and not set(shard_key(model, storage)) <= set(source.columns):
        if storage.unenforced_unique:
            return UniqueKey(name, source.columns, False, source.origin), None
        violation = unique_violation(model, storage, settings, source)
        return UniqueKey(name, source.columns, True, source.origin), violation
    return UniqueKey(name, source.columns, True, source.origin), None


def reference_storage_fix(model, settings: StorageSettings, why: str) -> str:
    """The fix that stores ``model``'s app as ROWSTORE REFERENCE, naming the exact setting."""
    meta = model._meta
    fix = (
        f"store the {meta.app_label!r} app's tables as ROWSTORE REFERENCE ({why}): add "
        f"{settings.setting_for(meta.app_label, ROWSTORE_REFERENCE)}"
    )
    if is_third_party(model):
        return fix
    return f"{fix}, or put ModelStorageManager('ROWSTORE REFERENCE') among the model's managers"


def unique_violation(model, storage, settings, source: UniqueSource) -> RuleViolation:
    meta = model._meta
    app = meta.app_label.upper()
    fixes = [
        reference_storage_fix(
            model, settings, "SingleStore enforces unique keys of reference tables on every node"
        ),
        f"set DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_{app}=1 (the key is declared "
        "UNENFORCED RELY: SingleStore trusts it and no longer checks it)",
    ]
    if not is_third_party(model):
        fixes.append(f"include the primary key {meta.pk.name!r} in the unique key")
        if isinstance(source.obj, models.OneToOneField):
            fixes.insert(0, f"make {source.names[0]!r} the primary key (primary_key=True)")
    return RuleViolation(
        "singlestore.E001",
        source.obj,
        f"{meta.label}: {source.origin} is unique on a distributed table ({storage.label}, from "
        f"{storage.source}), and SingleStore requires every unique key of a distributed table "
        f"to contain the shard key ({', '.join(f.column for f in meta.pk_fields)}).",
        "Either " + "; or ".join(fixes) + ".",
    )


def auto_increment_violations(model, storage, settings) -> list[RuleViolation]:
    """INTEGER/SMALLINT AUTO_INCREMENT on a distributed table (SingleStore wants BIGINT)."""
    if not storage.is_distributed:
        return []
    meta = model._meta
    found = []
    for f in meta.local_concrete_fields:
        kind = f.get_internal_type()
        if kind not in NARROW_AUTO_TYPES:
            continue
        declaring = meta.auto_created._meta if meta.auto_created else meta
        fixes = [
            f"use a BigAutoField: DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField' in "
            f"settings.py, default_auto_field on the {declaring.app_label!r} app's AppConfig, "
            f"or {f.name} = models.BigAutoField(primary_key=True) on {declaring.label}",
            reference_storage_fix(
                model, settings, "reference tables take any integer AUTO_INCREMENT"
            ),
        ]
        if is_third_party(model):
            fixes.reverse()
        found.append(
            RuleViolation(
                "singlestore.E005",
                f if not meta.auto_created else model,
                f"{meta.label}.{f.name} is an {kind} (AUTO_INCREMENT narrower than BIGINT) on "
                f"a distributed table ({storage.label}, from {storage.source}); SingleStore "
                "requires the AUTO_INCREMENT column of a distributed table to be BIGINT.",
                "Either " + "; or ".join(fixes) + ".",
            )
        )
    return found


def indexed_columns(model) -> list[tuple[str, tuple[str, ...]]]:
    """(origin, columns) of every plain index ``model`` declares (db_index, Meta.indexes)."""
    meta = model._meta
    indexed = [
        (f"db_index on {f.name!r}", (f.column,))
        for f in meta.local_concrete_fields
        if f.db_index and not f.unique and not f.primary_key
    ]
    for index in meta.indexes:
        if index.fields and not index.expressions:
            names = [name.lstrip("-") for name in index.fields]
            columns = tuple(meta.get_field(name).column for name in names)
            indexed.append((f"index {index.name!r}", columns))
    return indexed


def duplicate_index_violation(model, storage, origin: str, other: str, columns) -> RuleViolation:
    """Two indexes on the same columns: SingleStore builds both as HASH and refuses that."""
    meta = model._meta
    return RuleViolation(
        "singlestore.E004",
        model,
        f"{meta.label}: {origin} and {other} index the same columns {tuple(columns)!r} of a "
        f"columnstore table ({storage.label}, from {storage.source}); SingleStore refuses two "
        "HASH indexes on the same columns.",
        "Drop one of them (db_index=False or remove the Meta.indexes entry).",
    )


def duplicate_index_violations(model, storage) -> list[RuleViolation]:
    seen: dict[tuple[str, ...], str] = {}
    found = []
    for origin, columns in indexed_columns(model):
        if columns in seen:
            found.append(duplicate_index_violation(model, storage, origin, seen[columns], columns))
        else:
            seen[columns] = origin
    return found
