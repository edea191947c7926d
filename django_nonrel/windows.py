"""Window functions (``Window(...)``, SQL's ``OVER``) evaluated in Python over a query's rows.

A nonrel store has no ``OVER`` clause (FerretDB v1 has no ``$setWindowFields``,
and MongoDB's has its own NULL ordering and frame rules), so a window is
computed here, with SQL's semantics, over the rows the query's WHERE keeps
(conditions on windows -- Django's QUALIFY -- apply after, then the query's
ordering and slice): the rows are split into partitions (``partition_by``,
NULLs forming one partition), each sorted by the window's ``order_by`` with
this backend's NULL placement (``django_nonrel.ordering.python_sorted``), rows
with equal sort values being peers. The frame defaults to RANGE UNBOUNDED
PRECEDING .. CURRENT ROW (through the current row's last peer) when the
window is ordered and to the whole partition otherwise
(``django_nonrel.window_frames``).

Ranking functions and Lag/Lead read the row's position in its partition;
FirstValue/LastValue/NthValue and aggregates read its frame (aggregates fold
with ``Partial``, as every aggregate of this backend does, growing the fold
while the frame only grows).

A compiled window (``WindowValue``) is a function of a row like any compiled
expression: ``compute`` fills its values for a list of rows (the whole
result, before QUALIFY and slicing), and calling it reads the value of one
of those rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Aggregate
from django.db.models.expressions import OrderBy, Window
from django.db.models.functions import (
    CumeDist,
    DenseRank,
    FirstValue,
    Lag,
    LastValue,
    Lead,
    NthValue,
    Ntile,
    PercentRank,
    Rank,
    RowNumber,
)

from django_nonrel.aggregation.over_rows import RowAggregate, row_aggregate
from django_nonrel.aggregation.partials import Partial
from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import Evaluator, ExpressionEvaluator, Row
from django_nonrel.ordering import SortKey, python_sorted
from django_nonrel.paths import hashable
from django_nonrel.sql_values import sort_order
from django_nonrel.window_frames import Frame, Partition, frame_of, peer_groups

#: A window function over a partition: the value at each index of it.
Function = Callable[[Partition, Frame], list[Any]]


class WindowValue:
    """One ``Window`` expression of a query: its value per row of the last ``compute``."""

    def __init__(
        self,
        function: Function,
        partition_by: list[Evaluator],
        order_by: list[SortKey],
        frame: Frame,
    ) -> None:
        self.function = function
        self.partition_by = partition_by
        self.order_by = order_by
        self.frame = frame
        self.values: dict[int, Any] = {}
        #: The rows computed (kept so that their ids, the keys of ``values``, stay theirs).
        self.rows: list[Row] = []

    def compute(self, rows: list[Row]) -> None:
        """The window's value for each of ``rows`` (all the rows of the result)."""
        partitions: dict[Any, list[Row]] = {}
        for row in rows:
            key = tuple(hashable(value(row)) for value in self.partition_by)
            partitions.setdefault(key, []).append(row)
        values: dict[int, Any] = {}
        for members in partitions.values():
            ordered = python_sorted(members, self.order_by) if self.order_by else members
            sort_values = [tuple(key(row) for key, *_ in self.order_by) for row in ordered]
            partition = Partition(ordered, sort_values, peer_groups(sort_values, same_values))
            for row, value in zip(ordered, self.function(partition, self.frame), strict=True):
                values[id(row)] = value
        self.values, self.rows = values, rows

    def __call__(self, row: Row) -> Any:
        return self.values[id(row)]


class ComputesWindows:
    """Mixin (first among the bases) for an ``ExpressionEvaluator`` whose rows are all
    at hand: window functions compile to ``WindowValue``s, which ``compute_windows``
    computes over those rows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The windows compiled, by the id of their expression (one per Window).
        self.windows: dict[int, WindowValue] = {}

    def _window(self, expr: Window) -> Evaluator:
        if not self.connection.features.supports_over_clause:
            return super()._window(expr)
        compiled = self.windows.get(id(expr))
        if compiled is None:
            compiled = self.windows[id(expr)] = compile_window(self, expr)
        return compiled

    def compute_windows(self, rows: list[Row]) -> None:
        """Compute the windows compiled so far over ``rows`` (the rows the WHERE
        keeps, before the conditions on windows, the ordering and the slice)."""
        self.prepare(rows)
        for window in self.windows.values():
            window.compute(rows)


class WindowEvaluator(ComputesWindows, ExpressionEvaluator):
    """The evaluator of a read: its windows are computed over the rows the read's
    WHERE keeps (``django_nonrel.planning``, ``django_nonrel.rows``)."""


def same_values(a: tuple, b: tuple) -> bool:
    """Whether two rows' sort values make them peers (NULLs are peers of each other)."""
    return all(
        (x is None and y is None) or (x is not None and y is not None and sort_order(x, y) == 0)
        for x, y in zip(a, b, strict=True)
    )


def compile_window(evaluator: ExpressionEvaluator, window: Window) -> WindowValue:
    """``window`` as a function of the rows ``evaluator`` compiles for."""
    partition_by = (
        [evaluator.compile(expr) for expr in window.partition_by.get_source_expressions()]
        if window.partition_by is not None
        else []
    )
    order_by = []
    for term in window.order_by.get_source_expressions() if window.order_by is not None else ():
        term = term if isinstance(term, OrderBy) else OrderBy(term)
        order_by.append(
            (
                evaluator.compile(term.expression),
                term.descending,
                bool(term.nulls_first),
                bool(term.nulls_last),
            )
        )
    frame = frame_of(
        evaluator.connection, window.frame, ordered=bool(order_by), descending=_descending(order_by)
    )
    function = _function(evaluator, window.source_expression)
    return WindowValue(function, partition_by, order_by, frame)


def _descending(order_by: list[SortKey]) -> bool | None:
    """The direction of a window's only sort key (RANGE offsets need exactly one)."""
    return order_by[0][1] if len(order_by) == 1 else None


def _function(evaluator: ExpressionEvaluator, expr: Any) -> Function:
    if isinstance(expr, Aggregate) or _is_aggregate_with_default(expr):
        return _aggregate(row_aggregate(evaluator.connection, "window", expr, evaluator))
    for cls, build in FUNCTIONS.items():
        if type(expr) is cls:
            return build(evaluator, expr)
    raise unsupported(
        f"The window function {type(expr).__name__}",
        "Use Django's window functions (RowNumber, Rank, DenseRank, PercentRank, CumeDist, "
        "Ntile, Lag, Lead, FirstValue, LastValue, NthValue) or an aggregate.",
    )


def _is_aggregate_with_default(expr: Any) -> bool:
    """``Sum(..., default=0)`` resolves to ``Coalesce(Sum(...), 0)``."""
    sources = expr.get_source_expressions() if hasattr(expr, "get_source_expressions") else []
    return type(expr).__name__ == "Coalesce" and bool(sources) and isinstance(sources[0], Aggregate)


def _constant(evaluator: ExpressionEvaluator, expr: Any) -> Any:
    """A literal argument (Ntile's buckets, Lag's offset, NthValue's n)."""
    return evaluator.compile(expr)({})


# -- the functions ----------------------------------------------------------------------
def _row_number(evaluator: ExpressionEvaluator, expr: Any) -> Function:
    return lambda partition, frame: list(range(1, len(partition.rows) + 1))


def _rank(evaluator: ExpressionEvaluator, expr: Any) -> Function:
    return lambda partition, frame: [first + 1 for first, _ in partition.peers]


def _dense_rank(evaluator: ExpressionEvaluator, expr: Any) -> Function:
    def dense(partition: Partition, frame: Frame) -> list[int]:
        ranks, rank, previous = [], 0, None
        for first, _ in partition.peers:
            if first != previous:
                rank, previous = rank + 1, first
            ranks.append(rank)
        return ranks

    return dense


def _percent_rank(evaluator: ExpressionEvaluator, expr: Any) -> Function:
    def percent(partition: Partition, frame: Frame) -> list[float]:
        size = len(partition.rows)
        return [first / (size - 1) if size > 1 else 0.0 for first, _ in partition.peers]

    return percent


def _cume_dist(evaluator: ExpressionEvaluator, expr: Any) -> Function:
    def cumulative(partition: Partition, frame: Frame) -> list[float]:
        size = len(partition.rows)
        return [(last + 1) / size for _, last in partition.peers]

    return cumulative


def _ntile(evaluator: ExpressionEvaluator, expr: Any) -> Function:
    (buckets_expr,) = expr.get_source_expressions()
    buckets = _constant(evaluator, buckets_expr)

    def ntile(partition: Partition, frame: Frame) -> list[int]:
        # As SQL: the first (size % buckets) buckets hold one row more than the others.
        size = len(partition.rows)
        small, larger = divmod(size, buckets)
        tiles = []
        for bucket in range(buckets):
            tiles += [bucket + 1] * (small + (1 if bucket < larger else 0))
        return tiles

    return ntile


def _lag_lead(evaluator: ExpressionEvaluator, expr: Any) -> Function:
    sources = expr.get_source_expressions()
    value = evaluator.compile(sources[0])
    offset = _constant(evaluator, sources[1])
    default = evaluator.compile(sources[2]) if len(sources) > 2 else (lambda row: None)
    step = -offset if isinstance(expr, Lag) else offset

    def shifted(partition: Partition, frame: Frame) -> list[Any]:
        rows = partition.rows
        return [
            value(rows[index + step]) if 0 <= index + step < len(rows) else default(row)
            for index, row in enumerate(rows)
        ]

    return shifted


def _nth(
    evaluator: ExpressionEvaluator, expr: Any, position: Callable[[list[int]], Any]
) -> Function:
    """A value of the row at ``position`` of each row's frame (None: no such row)."""
    value = evaluator.compile(expr.get_source_expressions()[0])

    def nth(partition: Partition, frame: Frame) -> list[Any]:
        results = []
        for index in range(len(partition.rows)):
            chosen = position(frame.rows(partition, index))
            results.append(None if chosen is None else value(partition.rows[chosen]))
        return results

    return nth


def _first_value(evaluator: ExpressionEvaluator, expr: Any) -> Function:
    return _nth(evaluator, expr, lambda rows: rows[0] if rows else None)


def _last_value(evaluator: ExpressionEvaluator, expr: Any) -> Function:
    return _nth(evaluator, expr, lambda rows: rows[-1] if rows else None)


def _nth_value(evaluator: ExpressionEvaluator, expr: Any) -> Function:
    n = _constant(evaluator, expr.get_source_expressions()[1])
    return _nth(evaluator, expr, lambda rows: rows[n - 1] if len(rows) >= n else None)


def _aggregate(fold: RowAggregate) -> Function:
    """An aggregate over each row's frame; the fold grows while the frame only grows."""

    def add(partial: Partial, row: Row) -> None:
        if fold.condition is None or fold.condition(row):
            partial.add(fold.compute(row), fold.spec)

    def result(partial: Partial) -> Any:
        value = partial.result(fold.spec)
        return fold.default if value is None else value

    def aggregate(partition: Partition, frame: Frame) -> list[Any]:
        rows = partition.rows
        results: list[Any] = []
        partial, covered = Partial(), (0, 0)
        for index in range(len(rows)):
            start, stop = frame.bounds(partition, index)
            if frame.exclusion is None and start == covered[0] and stop >= covered[1]:
                # The frame only grew (a running total): fold in the new rows.
                members: Any = range(covered[1], stop)
            else:
                partial = Partial()
                members = frame.rows(partition, index)
            for member in members:
                add(partial, rows[member])
            covered = (start, stop) if frame.exclusion is None else (-1, -1)
            results.append(result(partial))
        return results

    return aggregate


FUNCTIONS: dict[type, Callable[[ExpressionEvaluator, Any], Function]] = {
    RowNumber: _row_number,
    Rank: _rank,
    DenseRank: _dense_rank,
    PercentRank: _percent_rank,
    CumeDist: _cume_dist,
    Ntile: _ntile,
    Lag: _lag_lead,
    Lead: _lag_lead,
    FirstValue: _first_value,
    LastValue: _last_value,
    NthValue: _nth_value,
}
