"""Building the read plan from a compiled Django query (``build_read_plan``).

The compiler's ``build_query`` calls this: the selections first (they join
multi-table-inheritance parents into the query), then the WHERE
(``django_nonrel.where``), the conditions only Python evaluates, the ordering
(``django_nonrel.ordering``) and, for a read, what it returns and the columns
the store projects for it.

Building the plan already runs commands where a condition needs them: a
filter across a relation becomes a key lookup, and a condition only Python
evaluates is, outside a read that fetches the rows anyway, resolved to a key
list with one bounded read (``filter_in_python``).
"""

from __future__ import annotations

from typing import Any, Protocol

from django.db.models.sql.constants import LOUTER
from django.db.models.sql.query import Query
from django.db.models.sql.where import WhereNode

from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import ExpressionEvaluator, needs_python
from django_nonrel.ordering import ordering_sources, plan_ordering
from django_nonrel.query import Leaf, Node, NonrelQuery
from django_nonrel.read_plan import JoinStep, ReadPlan
from django_nonrel.relations import (
    is_single_valued,
    join_of,
    join_restriction,
    joined_opts,
    key_casts,
)
from django_nonrel.rows import bounded_fetch
from django_nonrel.select_related import RelatedStep, select_related_columns
from django_nonrel.selections import ExtraSelection, Selected, selected_annotations
from django_nonrel.where import WhereBuilder


class CompiledQuery(Protocol):
    """What the plan is built from: a Django query and what its compiler derived."""

    query: Query
    connection: Any
    base_alias: str
    #: The read's selections (computing them joins multi-table parents first).
    selected: Selected
    extra_selections: list[ExtraSelection] | None
    selected_chains: list[list[str]]
    parent_aliases: dict[Any, str]
    related_steps: list[RelatedStep]

    def resolve_subquery(self, subquery: Query) -> list[Any]:
        """The single column of a queryset used as a filter value."""


def build_read_plan(
    compiled: CompiledQuery, *, with_projection: bool = True, in_rows: bool = False
) -> ReadPlan:
    """The plan of this read, update or delete.

    Conditions the store cannot run are evaluated in Python: with ``in_rows``
    (a read that fetches the rows anyway, or an update/delete that writes the
    rows it decides guarded, ``django_nonrel.guarded_writes``) on those rows;
    otherwise they are resolved to a key list first. ``with_projection`` plans
    what a read returns (not needed to count, update or delete).
    """
    query, connection, base_alias = compiled.query, compiled.connection, compiled.base_alias
    features = connection.features
    reject_unsupported(query, compiled.extra_selections)
    opts = query.get_meta()
    nq = NonrelQuery(table=opts.db_table, pk_column=opts.pk.column)
    columns: dict[str, list[str]] = {}
    keep_columns: dict[str, list[str]] = {}
    if with_projection:
        selected = compiled.selected  # joins parent tables (MTI) before the WHERE
        chains = compiled.selected_chains
        columns = join_columns(query, chains, selected, compiled.extra_selections)
        keep_columns = {chain[0]: columns[chain[0]] for chain in chains if chain}
    builder = WhereBuilder(connection, base_alias, compiled.resolve_subquery, query, keep_columns)
    pushed, residual = split_where(query.where, features.supports_date_part_expressions)
    built = builder.build(pushed)
    if built.condition is False:
        nq.matches_nothing = True
    elif built.condition is not True:
        condition = built.condition
        nq.where = condition if isinstance(condition, Node) else Node(children=[condition])
    evaluator = ExpressionEvaluator(connection, base_alias, compiled.resolve_subquery)
    row_predicates = []
    if residual and in_rows:
        row_predicates = [evaluator.predicate(node) for node in residual]
    elif residual:
        filter_in_python(compiled, nq, residual)
    predicate_columns = list(evaluator.columns)
    nq.low, nq.high = query.low_mark, query.high_mark
    ordering = plan_ordering(
        query,
        base_alias,
        ExpressionEvaluator(connection, base_alias, compiled.resolve_subquery),
    )
    nq.ordering = ordering.store
    nq.distinct = query.distinct
    # The aliases a read selects matter for projections and for row weights only.
    selects = with_projection or (built.row_weights and not query.distinct)
    plan = ReadPlan(
        query=nq,
        base_alias=base_alias,
        filter=built,
        ordering=ordering,
        distinct=query.distinct,
        selected_aliases=frozenset(
            alias for chain in (compiled.selected_chains if selects else ()) for alias in chain
        ),
        row_predicates=row_predicates,
        predicate_columns=predicate_columns,
        evaluation_limit=features.max_rows_evaluated_in_python,
        key_limit=features.max_keys_per_command,
    )
    if not with_projection:
        return plan
    plan.selected = selected
    plan.extra = compiled.extra_selections
    plan.annotations = selected_annotations(query, evaluator)
    plan.joins = join_steps(connection, query, columns)
    plan.ordering_sources = ordering_sources(
        ordering.related,
        base_alias,
        compiled.parent_aliases,
        {step.alias: step.parent_alias for step in plan.joins},
    )
    plan.distinct_values = query.distinct and not query.default_cols
    nq.columns = list(
        dict.fromkeys(
            [
                *(column for _, alias, column, *_ in selected.selections if alias == base_alias),
                *selected.computed_columns,
                *predicate_columns,
                *ordering.evaluated_columns,
                *evaluator.columns,  # the annotations'
                *(order.path[0] for order in ordering.python_paths),
                # the keys the joined aliases and the select_related() steps start from
                *(join_of(query, chain[0]).join_cols[0][0] for chain in compiled.selected_chains),
                *(column for column, _ in plan.row_weights),
                *select_related_columns(opts, compiled.related_steps),
            ]
        )
    )
    nq.whole_rows = (
        query.default_cols
        and not query.get_select_mask()
        and all(alias == base_alias for _, alias, *_ in selected.selections)
    )
    return plan


def reject_unsupported(query: Query, extra: list[ExtraSelection] | None) -> None:
    """Refuse query shapes no step can answer, saying what to do instead."""
    if query.combinator:
        raise unsupported(f"QuerySet.{query.combinator}()", "Evaluate the querysets separately.")
    if query.extra_tables or (query.extra_select and extra is None):
        raise unsupported("QuerySet.extra()", "Use filter() and annotate() instead.")
    if query.distinct_fields:
        raise unsupported("distinct(*fields)", "Use values(*fields).distinct().")


def split_where(where: Any, date_parts: bool) -> tuple[Any, list[Any]]:
    """(the part of the WHERE the store runs, conditions evaluated in Python).

    Conditions ANDed at the top are split one by one; a condition the
    store cannot run anywhere else (inside OR/NOT) takes its whole
    top-level branch to Python. ``date_parts``: the store filters on date
    parts (``features.supports_date_part_expressions``).
    """
    if not needs_python(where, date_parts):
        return where, []
    if where.connector != "AND" or where.negated:
        return WhereNode([], connector="AND"), [where]
    pushed = [child for child in where.children if not needs_python(child, date_parts)]
    residual = [child for child in where.children if needs_python(child, date_parts)]
    return WhereNode(pushed, connector="AND"), residual


def filter_in_python(compiled: CompiledQuery, nq: NonrelQuery, residual: list[Any]) -> None:
    """Conditions the store cannot run become a key list: one bounded read first.

    The rows matching the rest of the filter are read, projected to the
    key and the columns the conditions need; the conditions are evaluated
    on them (SQL's UNKNOWN excludes a row, as in a WHERE), and ``nq`` then
    selects the matching keys, so ordering, slicing, counting, updates and
    deletes all run on the store as usual.
    """
    connection = compiled.connection
    evaluator = ExpressionEvaluator(connection, compiled.base_alias, compiled.resolve_subquery)
    predicates = [evaluator.predicate(node) for node in residual]
    pk = nq.pk_column
    probe = NonrelQuery(
        table=nq.table,
        pk_column=pk,
        where=nq.where,
        columns=list(dict.fromkeys([pk, *evaluator.columns])),
        matches_nothing=nq.matches_nothing,
    )
    limit = connection.features.max_rows_evaluated_in_python
    documents = bounded_fetch(connection.store, probe, limit, "A filter evaluated in Python")
    keys = [d[pk] for d in documents if all(predicate(d) for predicate in predicates)]
    nq.where = Node(children=[Leaf((pk,), "in", keys, field=compiled.query.get_meta().pk)])
    nq.matches_nothing = not keys


def join_columns(
    query: Query,
    chains: list[list[str]],
    selected: Selected,
    extra: list[ExtraSelection] | None,
) -> dict[str, list[str]]:
    """Joined aliases a read selects (parents first) -> the columns to read there."""
    order = dict.fromkeys(alias for chain in chains for alias in chain)
    columns: dict[str, list[str]] = {alias: [] for alias in order}
    for _, alias, column, *_ in selected.selections:
        if alias in columns:
            columns[alias].append(column)
    for _, alias, column in extra or ():
        if alias in columns:
            columns[alias].append(column)
    for alias in order:
        join = join_of(query, alias)
        columns[alias].append(join.join_cols[0][1])
        if join.parent_alias in columns:
            columns[join.parent_alias].append(join.join_cols[0][0])
    return {alias: list(dict.fromkeys(names)) for alias, names in columns.items()}


def join_steps(connection, query: Query, columns: dict[str, list[str]]) -> list[JoinStep]:
    """The joined aliases a read selects (``columns``: alias -> columns, parents first)."""
    steps = []
    for alias, read in columns.items():
        join = join_of(query, alias)
        parent_column, column = join.join_cols[0]
        steps.append(
            JoinStep(
                alias=alias,
                parent_alias=join.parent_alias,
                parent_column=parent_column,
                column=column,
                opts=joined_opts(join),
                outer=join.join_type == LOUTER,
                single_valued=is_single_valued(join),
                restriction=join_restriction(connection, join)[0],
                columns=read,
                parent_key=key_casts(connection, join)[1],
            )
        )
    return steps
