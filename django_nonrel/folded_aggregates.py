"""SQL aggregates written as ``Func`` in a subquery: ``Func(F("pk"), function="Count")``.

Django does not know such a ``Func`` aggregates, so it adds no GROUP BY, and the
SQL server then aggregates every row the subquery selects into one row:
django-treebeard counts a node's children and descendants this way
(``Subquery(Node.objects.filter(path__startswith=OuterRef("path")).annotate(
count=Func(F("pk"), function="Count")).values("count"))``). Evaluated per row,
as other functions are, it would give each row its own value (``COUNT(x)`` of
one row is 1), so elsewhere it is refused (``sqlite_evaluation``). In a
subquery that selects only it and groups nothing, its meaning is clear: the
subquery reads the argument's values and they are folded here, per outer row,
as the SQL aggregate folds them.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import fmean
from typing import Any

from django.db.models import Func
from django.db.models.aggregates import Aggregate
from django.db.models.sql.query import Query


def _count(values: list[Any]) -> int:
    return sum(value is not None for value in values)


def _folding(function: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    """SQL's SUM/AVG/MIN/MAX: NULLs ignored, NULL when no value is left."""

    def fold(values: list[Any]) -> Any:
        present = [value for value in values if value is not None]
        return function(present) if present else None

    return fold


#: The SQL aggregate functions of one argument, as each folds a column's values.
FOLDS: dict[str, Callable[[list[Any]], Any]] = {
    "COUNT": _count,
    "SUM": _folding(sum),
    "TOTAL": lambda values: float(sum(value for value in values if value is not None)),
    "AVG": _folding(fmean),
    "MIN": _folding(min),
    "MAX": _folding(max),
}


def folded_aggregate(query: Query) -> tuple[Query, Callable[[list[Any]], Any]] | None:
    """(``query`` selecting the aggregate's argument instead, its fold), or None.

    Only for the shape whose SQL meaning is one aggregate over all the rows: one
    selected column that is a plain ``Func`` naming an aggregate function over
    one expression, no grouping, no Django aggregate, no slice past the first row
    (the SQL result has one row; the slice is applied to it by the caller's fold).
    """
    selected = query.annotation_select
    if query.group_by is not None or query.values_select or len(selected) != 1:
        return None
    if query.select or query.default_cols or query.low_mark:
        return None
    ((name, expr),) = selected.items()
    if type(expr) is not Func or isinstance(expr, Aggregate):
        return None
    if expr.extra.get("template", expr.template) != Func.template:
        return None  # SQL of its own (DISTINCT, FILTER, ...): not only the function
    fold = FOLDS.get(str(expr.extra.get("function") or expr.function or "").upper())
    sources = expr.get_source_expressions()
    if fold is None or len(sources) != 1 or sources[0].contains_aggregate:
        return None
    query = query.clone()
    query.annotations[name] = sources[0]
    query.set_annotation_mask(query.annotation_select_mask)  # drops the cached selection
    query.clear_limits()  # SQL slices the one aggregated row, not the rows folded
    return query, fold
