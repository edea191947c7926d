"""Writes on a ``DocumentStore``: inserts and updates, as functions of their inputs.

The insert and update compilers (``django_nonrel.compiler``) are thin adapters
to Django: they hand the Django query, the connection and (for an update) the
``NonrelQuery`` selecting the rows to these functions, which prepare the stored
values and call the store.

- ``insert``: ``save()`` of a new row and ``bulk_create()``, one insert command
  per batch; integer AutoField keys are allocated by the store, NOT NULL is
  checked and NULLs of unique fields are left absent where the backend's
  features say so (``django_nonrel.nulls``).
- ``update``: ``QuerySet.update()``. Literal values are one update command;
  ``F("n") + 1`` on a number is an atomic ``inc``/``mul``; any other expression
  is evaluated in Python on the rows read (bounded), and written back guarded
  by the values it was computed from, so a row changed in between is not
  overwritten with a stale result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldError
from django.db.models.expressions import Col, CombinedExpression, DatabaseDefault, Value
from django.db.models.sql.query import Query

from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import ExpressionEvaluator, Row
from django_nonrel.nulls import absent_when_null, check_not_null, check_required, not_null_fields
from django_nonrel.passthrough import passthrough_type
from django_nonrel.paths import hashable
from django_nonrel.query import Leaf, Node, NonrelQuery, UpdateValue
from django_nonrel.rows import bounded_fetch
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
        if value.contains_aggregate:
            raise FieldError(
                f"Aggregate functions are not allowed in this query ({field.name}={value!r})."
            )
        if value.contains_over_clause:
            raise FieldError(
                f"Window expressions are not allowed in this query ({field.name}={value!r})."
            )
        if isinstance(value, Value):
            value = value.value
        else:
            evaluator = ExpressionEvaluator(connection, query.get_meta().db_table)
            value = output_value(evaluator.compile(value)({}), value)
    return field.get_db_prep_save(value, connection=connection)


def stored_rows(query: Query, connection, fields: list[Any]) -> list[Row]:
    """The stored row of each object: pre_save, then the field's save preparation.

    Stock scalar fields holding a value of their own Python type are copied
    as they are: Django's preparation returns such values unchanged, and
    skipping it is most of the client time of a bulk insert.
    """
    plan = [
        (field, field.column, field.attname, passthrough_type(field, connection))
        for field in fields
    ]
    rows = []
    for obj in query.objs:
        row = {}
        for field, column, attname, kind in plan:
            if kind is not None:
                value = getattr(obj, attname)
                if type(value) is kind:
                    row[column] = value
                    continue
            elif query.raw:  # as SQLInsertCompiler.pre_save_val
                value = getattr(obj, attname)
            else:
                value = field.pre_save(obj, add=True)
            row[column] = insert_value(query, connection, field, value)
        rows.append(row)
    return rows


def insert(query: Query, connection, returning_fields: list[Any] | None) -> list[tuple]:
    """Insert ``query.objs``; per row, the stored values of ``returning_fields``
    (the key as the store assigned it), not yet through Django's converters."""
    opts = query.get_meta()
    store = connection.store
    fields = list(query.fields)
    rows = stored_rows(query, connection, fields)
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
        required = not_null_fields(query.model, fields)
        for row in rows:
            check_required(query.model, row, required)
    if features.stores_unique_nulls_as_absent:
        absent = absent_when_null(query.model)
        rows = [{k: v for k, v in row.items() if v is not None or k not in absent} for row in rows]
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
def update(
    rows: NonrelQuery, query: Query, connection, evaluator: ExpressionEvaluator
) -> int | None:
    """Write ``query.values`` to the rows ``rows`` selects: how many were written
    (None when this table has nothing to write, as Django's SQL update)."""
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
    if rows.matches_nothing:
        return None
    if computed:
        read = [column for column in evaluator.columns if column != rows.pk_column]
        return update_in_python(rows, query, connection, read, values, computed, fields)
    if values:
        return connection.store.update(rows, writable(query, connection, values, fields))
    return None


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
    rows: NonrelQuery,
    query: Query,
    connection,
    read: list[str],
    values: dict[str, UpdateValue],
    computed: dict[str, Callable[[Row], Any]],
    fields: dict[str, Any],
) -> int:
    """update() with expressions: evaluated on the rows read, written back guarded.

    The matching rows are read once (bounded, projected to the ``read``
    columns the expressions need); rows that read the same values get the same
    new values, so there is one update command per distinct combination. Each
    command also requires those columns to still hold what was read: a
    row another writer changed in between is left alone and not counted,
    instead of being overwritten with a value computed from stale data.
    """
    store = connection.store
    pk = rows.pk_column
    rows.columns = [pk, *read]
    limit = connection.features.max_rows_evaluated_in_python
    documents = bounded_fetch(store, rows, limit, "update() with expressions evaluated in Python")
    groups: dict[str, tuple[Row, list[Any]]] = {}
    for document in documents:
        key = repr([hashable(document.get(column)) for column in read])
        groups.setdefault(key, (document, []))[1].append(document[pk])
    count = 0
    pk_field = query.get_meta().pk
    for document, keys in groups.values():
        changes = dict(values)
        for column, evaluate in computed.items():
            changes[column] = UpdateValue(
                "set", fields[column].get_db_prep_save(evaluate(document), connection)
            )
        guard = [Leaf((pk,), "in", keys, field=pk_field)]
        for column in read:
            stored = document.get(column)
            guard.append(
                Leaf((column,), "isnull", True)
                if stored is None
                else Leaf((column,), "exact", stored)
            )
        target = NonrelQuery(table=rows.table, pk_column=pk, where=Node(children=guard))
        count += store.update(target, writable(query, connection, changes, fields))
    return count


def update_value(
    query: Query, connection, evaluator: ExpressionEvaluator, field: Any, value: Any
) -> UpdateValue | Callable[[Row], Any]:
    """The write for ``field``: an UpdateValue, or a function of the stored row."""
    if hasattr(value, "resolve_expression"):
        value = value.resolve_expression(query, allow_joins=False, for_save=True)
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
        value = value.prepare_database_save(field) if field.remote_field else value
    return UpdateValue("set", field.get_db_prep_save(value, connection=connection))


def arithmetic(field: Any, expr: CombinedExpression, connection) -> UpdateValue | None:
    """F('same_field') + n, - n or * n: an atomic $inc/$mul (None: evaluate in Python)."""
    lhs, rhs = expr.lhs, expr.rhs
    # Only where the server's arithmetic is SQL's: exact integers and doubles
    # (a DecimalField stored as a double would drift; dates are not numbers).
    kind = field.get_internal_type()
    if (
        (kind.endswith("IntegerField") or kind == "FloatField")
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
