"""``aggregate()`` and ``count()`` of a queryset without grouping.

Aggregates over the model's own stored fields go to the store in one command;
those over relations, with ``filter=``, ``default=`` or over expressions take
the planned path (``django_nonrel.aggregation.planner``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from django.db.models.aggregates import Aggregate as DjangoAggregate
from django.db.models.expressions import Col, Ref, Star, Value
from django.db.models.sql.query import Query

from django_nonrel.aggregation.composite import converted, evaluate_all, split
from django_nonrel.aggregation.grouped import aggregate_grouped
from django_nonrel.aggregation.hops import related_partials
from django_nonrel.aggregation.over_rows import aggregate_rows, inner_rows, store_folds
from django_nonrel.aggregation.partials import Partial
from django_nonrel.aggregation.planner import (
    AGGREGATE_FUNCTIONS,
    AggregatePlanner,
    AnnotationPlan,
    check_where,
    is_grouped,
    needs_planning,
)
from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import ExpressionEvaluator
from django_nonrel.paths import dig, hashable
from django_nonrel.planning import evaluated_rows
from django_nonrel.query import Aggregate, NonrelQuery
from django_nonrel.read_plan import ReadPlan
from django_nonrel.rows import repeat, repetitions


def aggregate_all(compiler, annotations) -> dict[str, Any]:
    """aggregate() of a queryset without grouping, through the planned path.

    Aggregates over the model's own fields are one ungrouped store call;
    those over relations read the parents' keys (one command) and then one
    command per relation hop, merged over every parent row as a JOIN would.
    """
    planner = AggregatePlanner(compiler)
    plans = {alias: planner.plan(alias, expr) for alias, expr in annotations.items()}
    check_where(compiler.query.where, plans.values(), compiler.query)
    read = compiler.build_query(with_projection=False)
    nq = read.query
    totals = {alias: Partial() for alias in plans}
    if not nq.matches_nothing:
        store = compiler.store
        own = [p.spec for p in plans.values() if not p.hops and p.compute is None]
        computed = [p for p in plans.values() if p.compute is not None]
        if computed:
            _fold_computed(compiler, read, planner.evaluator, computed, totals)
        if own:
            (_, partials), *_ = store.aggregate_groups(nq, own, ()).values()
            for alias, partial in partials.items():
                totals[alias].merge(partial)
        chains: dict[tuple[str, ...], list[AnnotationPlan]] = {}
        for plan in plans.values():
            if plan.hops:
                chains.setdefault(tuple(h.alias for h in plan.hops), []).append(plan)
        if chains:
            columns = list(dict.fromkeys(p[0].hops[0].parent_column for p in chains.values()))
            parents = list(store.fetch(replace(nq, columns=columns, distinct=False)))
            for members in chains.values():
                column = members[0].hops[0].parent_column
                keys = [row.get(column) for row in parents]
                specs = [p.spec for p in members]
                present = [k for k in keys if k is not None]
                by_key = related_partials(store, members[0].hops, specs, present)
                for key in keys:
                    for alias, partial in by_key.get(hashable(key), {}).items():
                        totals[alias].merge(partial)
    values = {}
    for alias, plan in plans.items():
        value = totals[alias].result(plan.spec)
        values[alias] = plan.default if value is None else value
    return values


def _fold_computed(
    compiler, plan: ReadPlan, evaluator: ExpressionEvaluator, plans: list[AnnotationPlan], totals
) -> None:
    """Aggregates of expressions: one bounded read of the columns they need (and the
    related rows they read, joined by key), folded here."""
    weights = plan.row_weights
    rows, _ = evaluated_rows(
        compiler,
        plan.query,
        evaluator,
        plan.filter,
        "Aggregates of expressions",
        tuple(column for column, _ in weights),
    )
    base = compiler.base_alias
    for row in rows:
        for _ in range(repetitions(row[base], weights)):
            for annotation in plans:
                if annotation.condition is None or annotation.condition(row):
                    totals[annotation.alias].add(annotation.compute(row), annotation.spec)


def execute_aggregate(compiler, query: Query, source_query: Query | None = None) -> tuple:
    """aggregate()/count() of ``source_query``'s rows: one value per annotation.

    Expressions over aggregates (``Sum("a") - Value(1)``) are computed from the
    values of the aggregates inside them (``django_nonrel.aggregation.composite``).
    """
    annotations = query.annotation_select
    connection = compiler.connection
    aggregates, composites = split(connection, compiler.base_alias, annotations)
    if not composites:
        return _aggregate_values(compiler, query, source_query, annotations)
    found = _aggregate_values(compiler, query, source_query, aggregates)
    row = dict(zip(aggregates, found, strict=True))
    values = {alias: converted(connection, aggregates[alias], v) for alias, v in row.items()}
    computed = evaluate_all(composites, values)
    # Django converts what this returns: the aggregates as read, the rest computed.
    return tuple(row[alias] if alias in row else computed[alias] for alias in annotations)


def _aggregate_values(compiler, query: Query, source_query: Query | None, annotations) -> tuple:
    """The values of ``annotations``, aggregates each."""
    source_query = source_query or query
    if is_grouped(source_query):
        row = aggregate_grouped(compiler, source_query, annotations)
        return tuple(row[alias] for alias in annotations)
    source = (
        compiler
        if source_query is query
        else source_query.get_compiler(connection=compiler.connection)
    )
    if source_query is not query and (
        source_query.combinator
        or not all(store_folds(compiler.base_alias, expr) for expr in annotations.values())
    ):
        # Over a subquery's annotations (filter=, Case, a Subquery's value) or a
        # union()'s rows (django_nonrel.combined_reads): its rows.
        row = aggregate_rows(compiler.connection, inner_rows(source), annotations)
        return tuple(row[alias] for alias in annotations)
    if source_query is query and needs_planning(compiler, annotations):
        row = aggregate_all(compiler, annotations)
        return tuple(row[alias] for alias in annotations)
    specs = [
        aggregate_spec(compiler.base_alias, alias, expr) for alias, expr in annotations.items()
    ]
    distinct_rows = (
        source_query is not query and source_query.distinct and not source_query.default_cols
    )
    selected_query = _selected_only(source_query) if distinct_rows else source_query
    columns = _distinct_columns(source, selected_query) if distinct_rows else None
    if distinct_rows and columns is None:
        # values("meta__key").distinct().count(), datetimes().count(),
        # values("owner__name").distinct().count(): distinct over document
        # paths, expressions or a related model's columns; the rows are read
        # made distinct, and counted.
        if not all(s.function == "count" and s.path is None for s in specs):
            raise unsupported(
                "Aggregating a distinct values() over paths, expressions or related fields",
                "Aggregate the values in Python.",
            )
        rows = selected_query.get_compiler(connection=compiler.connection)
        total = sum(1 for _ in rows.results_iter())
        return tuple(total for _ in annotations)
    plan = source.build_query(with_projection=False)
    nq = plan.query
    if distinct_rows:
        nq.columns = columns
    store = compiler.store
    if nq.matches_nothing:
        row = {spec.alias: (0 if spec.function == "count" else None) for spec in specs}
    elif all(s.function == "count" and s.path is None for s in specs) and not (
        nq.distinct and nq.columns
    ):
        total = count_rows(plan, store)
        row = {spec.alias: total for spec in specs}
    elif plan.row_weights:
        row = weighted_aggregate(plan, store, specs)
    elif distinct_rows and not all(s.function == "count" for s in specs):
        # values(...).distinct().aggregate(Sum(...)): the distinct rows, folded here
        # (the store's ungrouped aggregation reads every row).
        row = fold(distinct(store, nq), specs)
    else:
        row = store.aggregate(nq, specs)[0]
    return tuple(row[alias] for alias in annotations)


def _selected_only(query: Query) -> Query:
    """``query`` without the key Django adds to an aggregated subquery that selects
    no field (``values("extra_name").distinct().count()``): SQL renders only the
    names ``Query.selected`` lists (Django 5.2+), so rows are distinct over those."""
    selected = getattr(query, "selected", None)
    if selected is None:
        return query
    kept = {i for i in selected.values() if isinstance(i, int)}
    if len(kept) == len(query.select):
        return query
    clone = query.clone()
    clone.select = tuple(col for i, col in enumerate(query.select) if i in kept)
    return clone


def _distinct_columns(source, source_query: Query) -> list[str] | None:
    """The stored columns of its own table a distinct subquery's rows are distinct
    over (what it selects, and the columns Django moved into it for the outer
    aggregates); None when they include an annotation, an extra select, a document
    path or a related model's column (values the store cannot make distinct)."""
    if source_query.extra_select:
        return None
    selected = [*source_query.select, *source_query.annotation_select.values()]
    if not all(isinstance(col, Col) and col.alias == source.base_alias for col in selected):
        return None
    return list(dict.fromkeys(col.target.column for col in selected))


def weighted_aggregate(plan: ReadPlan, store: Any, specs: list[Aggregate]) -> dict[str, Any]:
    """Aggregates over rows a JOIN-like filter repeats: each row counts as often as
    SQL's JOIN gives it (one projected read, folded in Python)."""
    nq = plan.query
    weights = plan.row_weights
    paths = [spec.path for spec in specs if spec.path is not None]
    columns = [*(str(path[0]) for path in paths), *(column for column, _ in weights)]
    read = replace(nq, low=0, high=None, columns=list(dict.fromkeys(columns)))
    return fold(repeat(list(store.fetch(read)), weights)[nq.low or 0 : nq.high], specs)


def fold(rows: Iterable[dict[str, Any]], specs: list[Aggregate]) -> dict[str, Any]:
    """The aggregates of stored rows, folded in Python."""
    partials = {spec.alias: Partial() for spec in specs}
    for row in rows:
        for spec in specs:
            partials[spec.alias].add(1 if spec.path is None else dig(row, spec.path), spec)
    return {spec.alias: partials[spec.alias].result(spec) for spec in specs}


def distinct(store: Any, nq: NonrelQuery) -> list[dict[str, Any]]:
    """The rows of ``nq`` once per distinct value of its columns, then sliced (SQL's
    SELECT DISTINCT ... LIMIT)."""
    rows: dict[Any, dict[str, Any]] = {}
    for row in store.fetch(replace(nq, low=0, high=None)):
        rows.setdefault(hashable(tuple(row.get(column) for column in nq.columns)), row)
    return list(rows.values())[nq.low or 0 : nq.high]


def count_rows(plan: ReadPlan, store: Any) -> int:
    """count(): one count command, or the repeated rows of a JOIN-like filter."""
    nq = plan.query
    weights = plan.row_weights
    if not weights:
        return store.count(nq)
    read = replace(nq, low=0, high=None, columns=[column for column, _ in weights])
    total = len(repeat(list(store.fetch(read)), weights))
    total = total if nq.high is None else min(total, nq.high)
    return max(total - nq.low, 0)


def aggregate_spec(base_alias: str, alias: str, expr: Any) -> Aggregate:
    function = next((name for cls, name in AGGREGATE_FUNCTIONS.items() if type(expr) is cls), None)
    if function is None or not isinstance(expr, DjangoAggregate):
        raise unsupported(
            f"The aggregate {alias!r} ({type(expr).__name__})",
            "Use Count, Sum, Avg, Min or Max over a model field.",
        )
    condition = getattr(expr, "filter", None)
    if getattr(condition, "condition", condition):  # Django 6.1: AggregateFilter
        raise unsupported("Aggregates with filter=", "Filter the queryset before aggregating.")
    source = expr.get_source_expressions()[0]
    while isinstance(source, Ref):
        source = source.source
    if isinstance(source, Star) or (isinstance(source, Value) and function == "count"):
        return Aggregate(alias=alias, function=function, distinct=expr.distinct)
    if isinstance(source, Col) and source.alias not in (base_alias, None):
        raise unsupported(
            f"The aggregate {alias!r} over a related model's field",
            "Aggregate the related model's queryset, filtered by key.",
        )
    if isinstance(source, Col):
        return Aggregate(
            alias=alias,
            function=function,
            path=(source.target.column,),
            distinct=expr.distinct,
        )
    raise unsupported(
        f"The aggregate {alias!r} over {type(source).__name__}",
        "Aggregate over a model field.",
    )
