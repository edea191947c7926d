"""Aggregates of a subquery's rows, folded in Python.

Django wraps a query in a subquery (``AggregateQuery``) before aggregating when
the aggregates read its annotations (``annotate(n=Count(...)).aggregate(Sum("n"))``,
a ``Subquery`` annotation), or when it is sliced, distinct or grouped. The outer
aggregates then read the inner rows' columns by name (``Ref``): SQL computes
``SUM(CASE WHEN n > 1 THEN 1 END)``, ``COUNT(id) FILTER (WHERE year = 2008)``
or ``SUM(total / 1)`` over the subquery's rows.

A store aggregates only its stored fields, so these aggregates are folded here
over the inner rows as the inner query returns them (one read of that query):
each aggregate's argument and ``filter=`` are compiled with
``django_nonrel.expressions`` (SQL's NULL and type rules), a name reads the row's
value, and the values are folded with ``Partial`` as every other aggregate is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import StdDev, Variance
from django.db.models.expressions import Col, Ref, Star, Value
from django.db.models.functions import Coalesce

from django_nonrel.aggregation.composite import evaluate_all, split
from django_nonrel.aggregation.partials import Partial
from django_nonrel.aggregation.planner import (
    AGGREGATE_FUNCTIONS,
    FOLDED_FUNCTIONS,
    db_value,
    order_terms,
    string_agg_delimiter,
    with_order_keys,
)
from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import Evaluator, ExpressionEvaluator
from django_nonrel.query import Aggregate

#: One row of the inner query: selected names and annotations -> converted values.
NamedRow = dict[str, Any]


class NamedRowEvaluator(ExpressionEvaluator):
    """Compiles an outer aggregate's argument or condition: a ``Ref`` reads the inner
    row's value by name, a column (a field of an outer ``values()``) by attname."""

    def compile(self, expr: Any) -> Evaluator:
        if isinstance(expr, Ref):
            return _named(expr.refs)
        if isinstance(expr, Col):
            return _named(expr.target.attname)
        return super().compile(expr)


def _named(name: str) -> Evaluator:
    def read(row: NamedRow) -> Any:
        if name not in row:
            raise unsupported(
                f"An aggregate over {name!r}, which the aggregated query does not select",
                "Aggregate an annotation or a selected field.",
            )
        return row[name]

    return read


@dataclass
class RowAggregate:
    """One outer aggregate: what it folds per row, under which condition."""

    alias: str
    spec: Aggregate
    compute: Evaluator
    condition: Evaluator | None = None
    default: Any = None


def row_aggregate(
    connection, alias: str, expr: Any, evaluator: ExpressionEvaluator | None = None
) -> RowAggregate:
    """``expr`` (an aggregate, or one with a literal ``default=``) as a fold over rows:
    named rows of an inner query, or with ``evaluator``, the rows it compiles for
    (a window's frame, ``django_nonrel.windows``)."""
    aggregate, default = expr, None
    if isinstance(expr, Coalesce):
        aggregate, fallback = expr.get_source_expressions()
        default = db_value(fallback, connection)
    function = AGGREGATE_FUNCTIONS.get(type(aggregate)) or FOLDED_FUNCTIONS.get(type(aggregate))
    if type(aggregate) in (StdDev, Variance):
        function = aggregate.function.lower()  # stddev_pop, var_samp, ...
    if function is None:
        raise unsupported(
            f"The aggregate {alias!r} ({type(aggregate).__name__}) over an aggregated or "
            "sliced queryset",
            "Use Count, Sum, Avg, Min, Max, StdDev or Variance, or compute the value in Python.",
        )
    evaluator = evaluator or NamedRowEvaluator(connection, "")
    source = aggregate.get_source_expressions()[0]
    if isinstance(source, Star) or (isinstance(source, Value) and function == "count"):
        compute: Evaluator = lambda row: True  # noqa: E731 -- every row counts
    else:
        compute = evaluator.compile(source)
    condition = getattr(aggregate, "filter", None)
    condition = getattr(condition, "condition", condition)  # Django 6.1: AggregateFilter
    terms = order_terms(aggregate)
    compute = with_order_keys(compute, [evaluator.compile(expression) for expression, _ in terms])
    spec = Aggregate(
        alias=alias,
        function=function,
        path=("<row>",),
        distinct=bool(aggregate.distinct),
        delimiter=string_agg_delimiter(alias, aggregate, function),
        order=tuple(key for _, key in terms),
    )
    return RowAggregate(
        alias=alias,
        spec=spec,
        compute=compute,
        condition=evaluator.predicate(condition) if condition else None,
        default=default,
    )


def aggregate_rows(
    connection, rows: Iterable[NamedRow], annotations: dict[str, Any]
) -> dict[str, Any]:
    """The value of each of ``annotations`` (aggregates and expressions over them)
    over ``rows``, in one pass."""
    aggregates, composites = split(connection, "", annotations)
    folds = [row_aggregate(connection, alias, expr) for alias, expr in aggregates.items()]
    partials = {fold.alias: Partial() for fold in folds}
    for row in rows:
        for fold in folds:
            if fold.condition is None or fold.condition(row):
                partials[fold.alias].add(fold.compute(row), fold.spec)
    values = {}
    for fold in folds:
        value = partials[fold.alias].result(fold.spec)
        values[fold.alias] = fold.default if value is None else value
    return evaluate_all(composites, values)


def store_folds(base_alias: str, expr: Any) -> bool:
    """Whether the store's aggregation computes ``expr`` over a subquery's rows as it
    is: Count/Sum/Avg/Min/Max without ``filter=`` of ``*`` or of a stored field of the
    queried model (``plain.aggregate_spec``)."""
    if type(expr) not in AGGREGATE_FUNCTIONS:
        return False
    condition = getattr(expr, "filter", None)
    if getattr(condition, "condition", condition):
        return False
    source = expr.get_source_expressions()[0]
    while isinstance(source, Ref):
        source = source.source
    if isinstance(source, (Star, Value)):
        return True
    return isinstance(source, Col) and source.alias in (base_alias, None)


def inner_rows(compiler) -> list[NamedRow]:
    """The rows of a query as names -> converted values (selected fields and annotations)."""
    return [{**row["result"], **row["annotations"]} for row in compiler.results_iter()]
