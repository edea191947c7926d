"""Window functions over grouped rows: ``values("x").annotate(total=Sum(...),
rank=Window(Rank(), order_by=F("total").desc()))``.

SQL computes windows after GROUP BY and HAVING, over the groups, and filters on
them (QUALIFY) after that; the query's ordering and slice come last. A grouped
read (``django_nonrel.aggregation.grouped``) has its groups as ``(result,
annotations)`` rows of names -> values only after grouping, so its windows are
computed here, on those rows: a window's partition, order and argument read
the group's values by name (a grouped field, an aggregate, another
annotation), as the grouped ordering does (``group_order.GroupRowEvaluator``).
"""

from __future__ import annotations

from typing import Any

from django.db.models.expressions import Col, Window
from django.db.models.sql.where import WhereNode

from django_nonrel.aggregation.group_order import GroupedRow, GroupRowEvaluator
from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import Evaluator
from django_nonrel.windows import ComputesWindows


class GroupWindowEvaluator(ComputesWindows, GroupRowEvaluator):
    """Compiles windows over grouped rows (names -> values), computed all at once.

    A related model's field reads the group's value of it (grouped rows name those
    ``alias.column``), never a field of the queried model with the same name."""

    def __init__(self, connection, annotations: dict[str, Any], base_alias: str) -> None:
        super().__init__(connection, annotations)
        self.queried_alias = base_alias

    def compile(self, expr: Any) -> Evaluator:
        if isinstance(expr, Col) and expr.alias not in (self.queried_alias, None):
            return _related_value(f"{expr.alias}.{expr.target.column}", expr.target.name)
        return super().compile(expr)


def _related_value(key: str, name: str) -> Evaluator:
    def read(row: dict[str, Any]) -> Any:
        if key not in row:
            raise unsupported(
                f"A window over grouped rows reading the related field {name!r}, which the "
                "query does not group by",
                "Add the field to values(...) so that the query groups by it.",
            )
        return row[key]

    return read


def windowed_groups(
    connection, base_alias: str, annotations: dict[str, Any], qualify: Any, rows: list[GroupedRow]
) -> list[GroupedRow]:
    """``rows`` (after HAVING) with the window ``annotations`` computed over them,
    then those passing ``qualify`` (None: no condition on windows)."""
    windows = {alias: expr for alias, expr in annotations.items() if expr.contains_over_clause}
    # The other annotations are read by name; a window annotation is computed, not
    # read from the row it is computed for.
    others = {alias: expr for alias, expr in annotations.items() if alias not in windows}
    evaluator = GroupWindowEvaluator(connection, others, base_alias)
    compiled = {alias: evaluator.compile(expr) for alias, expr in windows.items()}
    condition = evaluator.predicate(qualify) if qualify is not None else None
    named = [{**result, **values} for result, values in rows]
    evaluator.compute_windows(named)
    kept = []
    for (result, values), row in zip(rows, named, strict=True):
        computed = {alias: evaluate(row) for alias, evaluate in compiled.items()}
        values.update(computed)
        row.update(computed)
        if condition is None or condition(row):
            kept.append((result, values))
    return kept


def over_groups(query, having: Any, qualify: Any, one_row_per_group: bool) -> bool:
    """Whether ``query``'s windows (and conditions on them) are computed over its
    grouped rows rather than by the read of the rows.

    The read computes them right where each row is its own group (annotate() on
    a model queryset), no HAVING removes groups first, and neither they nor a
    condition on them (QUALIFY) read an aggregate; the grouped rows answer every
    other shape, as SQL computes windows after GROUP BY and HAVING."""
    windows = _windows(query)
    if not windows and qualify is None:
        return False
    return (
        not one_row_per_group
        or having is not None
        or any(reads_aggregates(window) for window in windows)
        or (qualify is not None and qualify.contains_aggregate)
    )


def window_columns(query) -> list[Any]:
    """The columns ``query``'s windows partition and order by: SQL groups by them too
    (whether or not the window is selected), so the grouped rows have them."""
    return [
        col
        for window in _windows(query)
        for col in window.get_group_by_cols()
        if not getattr(col, "contains_aggregate", False)
    ]


def window_fields(query, base_alias: str, qualify: Any) -> list[Any]:
    """The queried model's fields the windows and ``qualify`` read (a grouped row of
    annotate() on a model carries them by attname, selected or not)."""
    exprs = [*_windows(query), *(_leaves(qualify) if qualify is not None else [])]
    return list(
        dict.fromkeys(
            col.target
            for expr in exprs
            for col in expr.flatten()
            if isinstance(col, Col) and col.alias == base_alias
        )
    )


def _windows(query) -> list[Any]:
    return [expr for expr in query.annotations.values() if expr.contains_over_clause]


def _leaves(node: Any) -> list[Any]:
    """The conditions of a WHERE node (its expressions flatten, the node does not)."""
    if isinstance(node, WhereNode):
        return [leaf for child in node.children for leaf in _leaves(child)]
    return [node]


def reads_aggregates(expr: Any) -> bool:
    """Whether a window function in ``expr`` partitions, orders or computes over an
    aggregate of the query (its own aggregate over the frame does not count)."""
    if isinstance(expr, Window):
        function = expr.source_expression
        return any(
            getattr(part, "contains_aggregate", False)
            for part in [expr.partition_by, expr.order_by, *function.get_source_expressions()]
        )
    return any(reads_aggregates(source) for source in expr.get_source_expressions() if source)
