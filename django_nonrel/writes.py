"""Writes on a ``DocumentStore``: inserts, updates and deletes, as functions of their inputs.

The insert, update and delete compilers (``django_nonrel.compiler``) are thin
adapters to Django: they hand the Django query, the connection and (for an
update or delete) the read plan selecting the rows to these functions, which
prepare the stored values and call the store.

- ``insert``: ``save()`` of a new row and ``bulk_create()``, one insert command
  per batch; integer AutoField keys are allocated by the store, NOT NULL is
  checked and NULLs of unique fields are left absent where the backend's
  features say so (``django_nonrel.nulls``).
- ``update``: ``QuerySet.update()``. Literal values under a filter the store
  runs are one update command; ``F("n") + 1`` on a non-null number is an atomic
  ``inc``/``mul``. Any other expression, and any filter with conditions only
  Python evaluates, is decided per row on the rows read (bounded) and written
  guarded (``django_nonrel.guarded_writes``): each row gets the value computed
  from it alone, and a row changed in between is decided again on what it
  holds now, never overwritten with a stale result.
- ``delete``: one delete command, or guarded deletes of the rows Python
  decides, the same way.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, NamedTuple

from django.core.exceptions import FieldError
from django.db.models.expressions import (
    Col,
    ColPairs,
    CombinedExpression,
    DatabaseDefault,
    Value,
)
from django.db.models.sql.query import Query

from django_nonrel import guarded_writes
from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import Document, ExpressionEvaluator
from django_nonrel.fields.save_writers import UNHANDLED, save_writer
from django_nonrel.nulls import (
    absent_when_null,
    check_not_null,
    check_required_rows,
    not_null_fields,
)
from django_nonrel.passthrough import passthrough_datetime_zone, passthrough_type
from django_nonrel.query import UpdateValue
from django_nonrel.read_plan import ReadPlan
from django_nonrel.rows import matching_documents
from django_nonrel.sharding import refuse_shard_key_change, routes_by_shard_key
from django_nonrel.sql_values import output_value

#: AutoField types whose keys the store allocates as integers.
INTEGER_AUTO_FIELDS = frozenset({"AutoField", "BigAutoField", "SmallAutoField"})


# -- inserts ---------------------------------------------------------------------
def insert_value(query: Query, connection, field: Any, value: Any) -> Any:
    """A literal, or an expression without columns (``Lower(Value("x"))``, ``Now()``,
    an expression db_default) evaluated in Python, as Django's checks allow."""
    if isinstance(value, DatabaseDefault):
        value = field._db_default_expression
    if hasattr(value, "resolve_expression"):
        value = value.resolve_expression(query, allow_joins=False, for_save=True)
        # Django's own checks (SQLInsertCompiler.prepare_value), same messages.
        if value.contains_column_references:
            raise ValueError(
                f'Failed to insert expression "{value}" on {field}. F() expressions '
                "can only be used to update, not to insert."
            )
        check_write_expression(field, value)
        if isinstance(value, Value):
            value = value.value
        else:
            evaluator = ExpressionEvaluator(connection, query.get_meta().db_table)
            value = output_value(evaluator.compile(value)({}), value)
    return field.get_db_prep_save(value, connection=connection)


class StoredRows(NamedTuple):
    """What :func:`stored_rows` made of a query's objects."""

    rows: list[Document]
    #: Columns holding at least one value that was prepared rather than copied:
    #: a copied value has its field's own type, never None, so only these
    #: columns need NOT NULL checks.
    prepared: frozenset[str]


def stored_rows(query: Query, connection, fields: list[Any]) -> StoredRows:
    """The stored row of each object: pre_save, then the field's save preparation.

    Stock scalar fields holding a value of their own Python type are copied
    as they are: Django's preparation returns such values unchanged, and
    skipping it is most of the client time of a bulk insert. So are aware
    datetimes of stock DateTimeFields in the zone the backend's driver stores
    as given (``passthrough_datetime_zone``).
    """
    plan = []
    for field in fields:
        kind, zone = passthrough_type(field, connection), None
        if kind is None:
            zone = passthrough_datetime_zone(field, connection)
            kind = None if zone is None else datetime.datetime
        write = None if query.raw or kind is not None else save_writer(field, connection)
        plan.append((field, field.column, field.attname, kind, zone, write))
    # Copied columns join ``prepared`` on their first prepared value; the others always are.
    prepared = {column for _, column, _, kind, _, _ in plan if kind is None}
    rows = []
    for obj in query.objs:
        row = {}
        for field, column, attname, kind, zone, write in plan:
            if kind is not None:
                value = getattr(obj, attname)
                if type(value) is kind and (zone is None or value.tzinfo is zone):
                    row[column] = value
                    continue
                prepared.add(column)
            elif write is not None:
                # Lists, dicts and embedded instances: pre_save and storage in one
                # walk (django_nonrel.fields.save_writers), else Django's path.
                stored = write(getattr(obj, attname))
                if stored is not UNHANDLED:
                    row[column] = stored
                    continue
                value = field.pre_save(obj, add=True)
            elif query.raw:  # as SQLInsertCompiler.pre_save_val
                value = getattr(obj, attname)
            else:
                value = field.pre_save(obj, add=True)
            row[column] = insert_value(query, connection, field, value)
        rows.append(row)
    return StoredRows(rows, frozenset(prepared))


def insert(query: Query, connection, returning_fields: list[Any] | None) -> list[tuple]:
    """Insert ``query.objs``; per row, the stored values of ``returning_fields``
    (the key as the store assigned it), not yet through Django's converters."""
    # A proxy's options have no auto_field (only the concrete model's fields
    # contribute it), and Django 6.1's bulk_create() inserts with the proxy.
    opts = query.get_meta().concrete_model._meta
    store = connection.store
    fields = list(query.fields)
    rows, prepared = stored_rows(query, connection, fields)
    auto = opts.auto_field
    integer_keys = auto is not None and auto.get_internal_type() in INTEGER_AUTO_FIELDS
    if integer_keys and auto not in fields and rows:
        pks = store.allocate_keys(opts.db_table, auto, len(rows))
        for row, pk in zip(rows, pks, strict=True):
            row[auto.column] = pk
    elif integer_keys:
        store.note_explicit_keys(opts.db_table, [row.get(auto.column) for row in rows])
    features = connection.features
    if features.checks_not_null:
        required = [f for f in not_null_fields(query.model, fields) if f.column in prepared]
        check_required_rows(query.model, rows, required)
    absent = absent_when_null(query.model) if features.stores_unique_nulls_as_absent else ()
    if absent:
        rows = [
            {k: v for k, v in row.items() if v is not None or k not in absent}
            if any(row.get(column, 0) is None for column in absent)
            else row
            for row in rows
        ]
    on_conflict = query.on_conflict
    pks = (
        store.insert(
            opts.db_table,
            rows,
            opts.pk.column,
            ignore_conflicts=on_conflict is not None and on_conflict.name == "IGNORE",
        )
        if rows
        else []
    )
    if on_conflict is not None and on_conflict.name == "UPDATE":
        raise unsupported("bulk_create(update_conflicts=True)", "Use update_or_create().")
    if not returning_fields:
        return []
    return [
        tuple(pk if f.primary_key else row.get(f.column) for f in returning_fields)
        for pk, row in zip(pks, rows, strict=True)
    ]


# -- updates ---------------------------------------------------------------------
def update(plan: ReadPlan, query: Query, connection, evaluator: ExpressionEvaluator) -> int | None:
    """Write ``query.values`` to the rows ``plan`` selects: how many were written
    (None when this table has nothing to write, as Django's SQL update)."""
    rows = plan.query
    values = {}
    fields = {}
    computed = {}
    for field, _model, value in query.values:
        write = update_value(query, connection, evaluator, field, value)
        if callable(write):
            computed[field.column] = write
        else:
            values[field.column] = write
        fields[field.column] = field
    if routes_by_shard_key(connection):
        refuse_shard_key_change(query.model, rows.where, {**values, **computed})
    if rows.matches_nothing or not (values or computed):
        return None
    if computed or plan.row_predicates:
        read = [*plan.predicate_columns, *evaluator.columns]
        return update_in_python(plan, query, connection, read, values, computed, fields)
    return connection.store.update(rows, writable(query, connection, values, fields))


def writable(query: Query, connection, values: dict[str, UpdateValue], fields: dict[str, Any]):
    """``values`` checked for NOT NULL, NULLs of unique fields written as absent."""
    features = connection.features
    if features.checks_not_null:
        literal = {c: v.value for c, v in values.items() if v.operator == "set"}
        check_not_null(query.model, literal, [fields[c] for c in values])
    if features.stores_unique_nulls_as_absent:
        absent = absent_when_null(query.model)
        for column, value in values.items():
            if column in absent and value.operator == "set" and value.value is None:
                values[column] = UpdateValue("unset", None)
    return values


def update_in_python(
    plan: ReadPlan,
    query: Query,
    connection,
    read: list[str],
    values: dict[str, UpdateValue],
    computed: dict[str, Callable[[Document], Any]],
    fields: dict[str, Any],
) -> int:
    """update() with a filter or values evaluated in Python, written guarded.

    Each matching row's changes are computed from that row alone, and every
    write re-checks the ``read`` values it was decided and computed from
    (``django_nonrel.guarded_writes``), so a row another connection changed
    in between is decided again on what it holds now, never overwritten with
    a value computed from stale data. Changes that read nothing but the key
    (``bulk_update()``'s ``Case(When(pk=...))``) of rows the filter names by
    key need no read at all: one command per batch, as SQL's ``UPDATE``.
    """

    def changes(document: Document) -> dict[str, UpdateValue]:
        result = dict(values)
        for column, evaluate in computed.items():
            value = fields[column].get_db_prep_save(evaluate(document), connection)
            result[column] = UpdateValue("set", value)
        return writable(query, connection, result, fields)

    cumulative = any(v.operator in ("inc", "mul") for v in values.values()) or bool(
        set(computed) & set(read)
    )
    if not plan.row_predicates and not cumulative and set(read) <= {plan.query.pk_column}:
        written = guarded_writes.update_by_keys(connection, plan.query, changes)
        if written is not None:
            return written
    return guarded_writes.update_rows(
        connection, plan.query, _matching(plan, connection), read, changes, list(fields), cumulative
    )


def update_value(
    query: Query, connection, evaluator: ExpressionEvaluator, field: Any, value: Any
) -> UpdateValue | Callable[[Document], Any]:
    """The write for ``field``: an UpdateValue, or a function of the stored row."""
    if hasattr(value, "resolve_expression"):
        value = value.resolve_expression(query, allow_joins=False, for_save=True)
        check_write_expression(field, value)
        change = (
            arithmetic(field, value, connection) if isinstance(value, CombinedExpression) else None
        )
        if change is not None:
            return change
        if not isinstance(value, Value):
            evaluate = evaluator.compile(value)
            base = evaluator.base_alias
            return lambda document, e=value: output_value(evaluate({base: document}), e)
        value = value.value
    if hasattr(value, "prepare_database_save"):
        if not field.remote_field:
            raise TypeError(
                f"Tried to update field {field} with a model instance, {value!r}. "
                f"Use a value compatible with {field.__class__.__name__}."
            )
        value = value.prepare_database_save(field)
    return UpdateValue("set", field.get_db_prep_save(value, connection=connection))


def check_write_expression(field: Any, value: Any) -> None:
    """Django's own refusals of a resolved expression written to ``field``
    (SQLInsertCompiler.prepare_value, SQLUpdateCompiler.as_sql), with its
    messages: a backend without SQL must not quietly write what every SQL backend
    refuses."""
    if value.contains_aggregate:
        raise FieldError(
            f"Aggregate functions are not allowed in this query ({field.name}={value!r})."
        )
    if value.contains_over_clause:
        raise FieldError(
            f"Window expressions are not allowed in this query ({field.name}={value!r})."
        )
    if isinstance(value, ColPairs):
        raise FieldError(
            "Composite primary keys expressions are not allowed in this query "
            f"({field.name}=F('pk'))."
        )


def arithmetic(field: Any, expr: CombinedExpression, connection) -> UpdateValue | None:
    """F('same_field') + n, - n or * n: an atomic $inc/$mul (None: evaluate in Python)."""
    lhs, rhs = expr.lhs, expr.rhs
    # Only where the server's arithmetic is SQL's: exact integers and doubles
    # (a DecimalField stored as a double would drift; dates are not numbers),
    # never NULL (SQL keeps NULL; $inc/$mul fail on it, or set a missing field).
    kind = field.get_internal_type()
    if (
        (kind.endswith("IntegerField") or kind == "FloatField")
        and not field.null
        and isinstance(rhs.value if isinstance(rhs, Value) else None, (int, float))
        and isinstance(lhs, Col)
        and lhs.target.column == field.column
        and isinstance(rhs, Value)
        and expr.connector in ("+", "-", "*")
    ):
        amount = rhs.value
        if expr.connector == "-":
            amount = -amount
        operator = "mul" if expr.connector == "*" else "inc"
        return UpdateValue(operator, field.get_db_prep_save(amount, connection))
    return None


# -- deletes ---------------------------------------------------------------------
def delete(plan: ReadPlan, connection) -> int:
    """Delete the rows ``plan`` selects: how many were deleted.

    A filter the store runs whole is one delete command; one with conditions
    evaluated in Python deletes the rows it decides guarded
    (``django_nonrel.guarded_writes``): a row changed in between is deleted
    only if it still matches.
    """
    rows = plan.query
    if rows.matches_nothing:
        return 0
    if plan.row_predicates:
        return guarded_writes.delete_rows(
            connection, rows, _matching(plan, connection), plan.predicate_columns
        )
    return connection.store.delete(rows)


def _matching(plan: ReadPlan, connection) -> Callable[[list[Document]], list[Document]]:
    """The rows read that pass ``plan``'s Python conditions (all when it has none)."""
    if not plan.row_predicates:
        return lambda documents: documents
    return lambda documents: matching_documents(plan, connection.store, documents)


# -- updates of inherited fields ----------------------------------------------------
def pin_related_ids(query: Query, connection) -> None:
    """Updates of inherited fields go to the parents' collections by key.

    As Django's SQL compiler does (``SQLUpdateCompiler.pre_sql_setup``), the
    matching keys are read once and ``query`` is rewritten to select them, so
    the child and each parent update the same rows (a child and its
    multi-table-inheritance parents share the key).
    """
    keys_query = query.chain(klass=Query)
    keys_query.select_related = False
    keys_query.clear_ordering(force=True)
    keys_query.clear_select_fields()
    meta = keys_query.get_meta()
    names = [meta.pk.name]
    index = {}
    for parent in query.related_updates:
        index[parent] = 0
        # A parent outside the primary-key chain (multiple inheritance)
        # has keys of its own, read through the join to it.
        if not all(p.join_field.primary_key for p in meta.get_path_to_parent(parent)):
            index[parent] = len(names)
            names.append(parent._meta.pk.name)
    keys_query.add_fields(names)
    compiler = keys_query.get_compiler(connection=connection)
    rows = [list(row["result"].values()) for row in compiler.results_iter()]
    query.clear_where()
    query.add_filter("pk__in", [row[0] for row in rows])
    query.related_ids = {
        parent: [row[position] for row in rows] for parent, position in index.items()
    }
