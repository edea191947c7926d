"""The MongoDB index each Django index declaration becomes, on the connected server.

Declarations come from field options (``unique``, ``db_index``),
``unique_together``, ``Meta.indexes`` and ``Meta.constraints``. What the server
can enforce is created; what it cannot is **not created and never refused in
the middle of ``migrate``** (one model's constraint would otherwise stop every
migration of the project, and every test database of its app). Each such case
is reported by a system check before migrate runs -- Django's own
(models.W027/W036-W040/W043/W044/W047, from the feature flags) or this
backend's (``validation``) -- and ``Model.validate_constraints()`` (ModelForm,
admin, ``full_clean()``) still checks a constraint that was not created, in
Python, as on Django's MySQL backend.

- ``Index``: field keys (``PathIndex``: paths into documents). An index on
  expressions is not created (W043), even on ``F()`` alone: Django's check
  says so, and MongoDB indexes no computed values. A ``condition`` becomes a
  partial index where the server has them and the condition has an exact
  filter form (``partial_filters``);
  otherwise the index covers every document, which serves the same queries
  (W037, or this backend's W003). ``include``, ``opclasses`` and
  ``db_tablespace`` have no MongoDB meaning and are ignored, as Django's
  backends without them ignore them.
- ``UniqueConstraint``: a unique index on its ``fields``. Not created when it
  has expressions (W044; write ``fields=[...]``), a condition the server cannot
  enforce (W036, or this backend's W002), ``deferrable`` (W038), ``include``
  (W039) or ``nulls_distinct`` (W047).
- Other constraints (``CheckConstraint``: W027) are not created.
- A ``CompositePrimaryKey`` is a unique index on its columns (the documents'
  ``_id`` is then an ObjectId the model does not see).
- A ``ShardKey`` (``django_nonrel.sharding``) is an index on its key pattern,
  ``"hashed"`` where it says so -- ascending on a server without hashed
  indexes (FerretDB v1, which cannot shard either). Sharding the collection is
  ``sharded_collections``' part.

A nullable column in a unique set stores NULL as an absent key
(``django_nonrel.nulls``). A unique index on it alone is sparse; a unique index
on several columns skips the documents missing a nullable column, so any number
of rows with a NULL among them are accepted, as on SQL: on FerretDB v1 a plain
unique index does (``features.unique_indexes_skip_missing_keys``), elsewhere a
partial index covering the documents that have every nullable column (mongomock
builds it as MongoDB does: ``embedded_indexes``).

What the server can do (partial and hashed indexes) is asked of the
connection, except while ``sqlmigrate`` collects commands
(``editor.collect_sql``): that renders, without a server, what MongoDB itself
would be sent.
"""

from __future__ import annotations

from django.db.models import Index, UniqueConstraint

from django_nonrel.nulls import absent_when_null
from django_nonrel.sharding import ShardKey

from .index_set import ID, IndexSpec
from .partial_filters import partial_filter


def path_column(model, name: str) -> str:
    """``address__city`` -> ``address.city``; the primary key is ``_id``."""
    head, *rest = name.split("__")
    field = model._meta.get_field(head)
    return ".".join([ID if field.primary_key else field.column, *rest])


def unique_spec(
    model, name: str, columns: list[str], editor, partial=None, absent=None
) -> IndexSpec:
    """A unique index on ``columns`` that skips the rows SQL's unique constraint skips.

    SQL ignores a row with NULL in any column of the set. A column stored absent
    when NULL (``django_nonrel.nulls``) is skipped by a sparse index when it is the
    only one; otherwise by the plain unique index itself on a server whose unique
    indexes skip missing keys (FerretDB v1), and by a partial index requiring
    every such column elsewhere. A condition (``partial``) needs partial indexes:
    the caller does not get here without them. ``absent``: the model's columns
    stored absent when NULL, when not ``model``'s own (AlterField changing one).
    """
    keys = tuple((column, 1) for column in columns)
    absent = absent_when_null(model) if absent is None else absent
    nullable = [column for column in columns if column in absent]
    if partial is None and columns == nullable and len(columns) == 1:
        return IndexSpec(name, keys, unique=True, sparse=True)
    if nullable and not (partial is None and _skips_missing_keys(editor)):
        clauses = [{column: {"$exists": True}} for column in nullable]
        if partial:
            clauses = [*partial.get("$and", [partial]), *clauses]
        partial = clauses[0] if len(clauses) == 1 else {"$and": clauses}
    return IndexSpec(name, keys, unique=True, partial=partial)


def absent_columns(spec: IndexSpec, nullable: frozenset[str] = frozenset()) -> list[str]:
    """The columns a unique index skips when absent: their stored nulls must go
    before it is built (they were written before the column was stored absent).
    ``nullable``: the model's columns stored absent when NULL, which a plain
    unique index skips where it skips missing keys."""
    if spec.sparse:
        return spec.columns
    if not spec.unique:
        return []
    if spec.partial is None:
        return [column for column in spec.columns if column in nullable]
    clauses = spec.partial.get("$and", [spec.partial])
    return [
        column
        for clause in clauses
        for column, condition in clause.items()
        if condition == {"$exists": True}
    ]


def field_specs(model, field, editor) -> list[IndexSpec]:
    """The index ``unique=True`` or ``db_index=True`` gives ``field`` (none for the key).

    Built from the field alone: during AlterField ``model`` is the old state.
    """
    if field.primary_key or not field.concrete:
        return []
    table, column = model._meta.db_table, field.column
    if field.unique:
        name = editor._create_index_name(table, [column], suffix="_uniq")
        return [IndexSpec(name, ((column, 1),), unique=True, sparse=field.null)]
    if field.db_index:
        name = editor._create_index_name(table, [column], suffix="")
        return [IndexSpec(name, ((column, 1),))]
    return []


def together_name(model, field_names, editor, unique: bool) -> str:
    """The index name of a ``unique_together`` (``_uniq``) or ``index_together``
    (``_idx``) entry."""
    columns = [model._meta.get_field(name).column for name in field_names]
    return editor._create_index_name(
        model._meta.db_table, columns, suffix="_uniq" if unique else "_idx"
    )


def together_spec(model, field_names, editor, unique: bool, absent=None) -> IndexSpec:
    """The index of a ``unique_together`` (see ``unique_spec``) or ``index_together`` entry."""
    name = together_name(model, field_names, editor, unique)
    columns = [path_column(model, name) for name in field_names]
    if unique:
        return unique_spec(model, name, columns, editor, absent=absent)
    return IndexSpec(name, tuple((column, 1) for column in columns))


def _partial_indexes(editor) -> bool:
    return editor.collect_sql or editor.connection.features.supports_partial_indexes


def _skips_missing_keys(editor) -> bool:
    """A plain unique index skips documents missing a key (not while ``sqlmigrate``
    renders what MongoDB itself would be sent)."""
    return not editor.collect_sql and editor.connection.features.unique_indexes_skip_missing_keys


def shard_key_spec(model, key: ShardKey, editor) -> IndexSpec:
    """The index a ``ShardKey`` needs: its key pattern, the primary key as ``_id``."""
    hashed = editor.collect_sql or editor.connection.features.supports_hashed_indexes
    keys = tuple((path_column(model, name), kind if hashed else 1) for name, kind in key.key)
    return IndexSpec(key.name, keys)


def index_spec(model, index: Index, editor) -> IndexSpec | None:
    """``Meta.indexes`` entry; None when it is not created (see module docstring)."""
    if isinstance(index, ShardKey):
        return shard_key_spec(model, index, editor)
    if index.expressions:
        return None
    # PathIndex keeps the full ``address__city`` paths; a plain Index has fields.
    fields = getattr(index, "paths", index.fields)
    keys = tuple(
        (path_column(model, name.lstrip("-")), -1 if name.startswith("-") else 1) for name in fields
    )
    partial = None
    if index.condition is not None and _partial_indexes(editor):
        partial = partial_filter(model, index.condition, editor.connection) or None
    return IndexSpec(index.name, keys, partial=partial)


def constraint_spec(model, constraint, editor, absent=None) -> IndexSpec | None:
    """``Meta.constraints`` entry; None when it is not created (see module docstring).
    ``absent``: as for ``unique_spec``."""
    if not isinstance(constraint, UniqueConstraint):
        return None
    if constraint.expressions or constraint.deferrable is not None or constraint.include:
        return None
    if constraint.nulls_distinct is not None:
        return None
    partial = None
    if constraint.condition is not None:
        if not _partial_indexes(editor):
            return None
        partial = partial_filter(model, constraint.condition, editor.connection)
        if partial is None:
            return None
    columns = [path_column(model, name) for name in constraint.fields]
    return unique_spec(model, constraint.name, columns, editor, partial or None, absent)


def unique_set_specs(model, field, editor, absent: frozenset[str]) -> list[IndexSpec]:
    """The indexes of ``model``'s unique sets of several fields holding ``field``
    (``unique_together`` entries and constraints), built with ``absent`` as the
    columns stored absent when NULL."""
    meta = model._meta
    specs = [
        together_spec(model, names, editor, True, absent)
        for names in meta.unique_together
        if field.name in names and len(names) > 1
    ]
    specs += [
        constraint_spec(model, constraint, editor, absent)
        for constraint in meta.constraints
        if isinstance(constraint, UniqueConstraint)
        and field.name in constraint.fields
        and len(constraint.fields) > 1
    ]
    return [spec for spec in specs if spec is not None]


def model_specs(model, editor) -> list[IndexSpec]:
    """Every index ``model``'s collection gets when it is created."""
    meta = model._meta
    specs = [spec for field in meta.local_fields for spec in field_specs(model, field, editor)]
    if len(meta.pk_fields) > 1:
        # A CompositePrimaryKey is not the documents' _id: its uniqueness is an index.
        columns = [field.column for field in meta.pk_fields]
        name = editor._create_index_name(meta.db_table, columns, suffix="_pk")
        specs.append(IndexSpec(name, tuple((column, 1) for column in columns), unique=True))
    specs += [
        spec
        for spec in (
            *(together_spec(model, fields, editor, unique=True) for fields in meta.unique_together),
            *(index_spec(model, index, editor) for index in meta.indexes),
            *(constraint_spec(model, constraint, editor) for constraint in meta.constraints),
        )
        if spec is not None
    ]
    return specs
