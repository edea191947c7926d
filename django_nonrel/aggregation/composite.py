"""Expressions over aggregates: ``Sum("a") + Sum("b")``, ``Coalesce(Sum("x"), F("y"))``,
``Case(When(Count("books__id")... ))``, ``Greatest(Max("a"), Max("b"))``.

SQL computes the aggregates and then the expression around them in one SELECT.
Here the aggregates inside such an annotation become hidden annotations of their
own (``split``): each is planned and computed like any aggregate (by the store,
across relations by hop, or folded in Python), and the expression around them is
evaluated in Python on the finished values (``Composite.value``) with
``django_nonrel.expressions``' SQL rules, so ``NULL`` and type rules match SQL's.
An aggregate's ``default=`` that is not a literal (``default=Now()``,
``default=F("x")`` in a grouped query) is such an expression: Django writes it as
``Coalesce(aggregate, default)``.

In a grouped query the expression can also read the group's own values (``F("pages")``
next to ``Count("books")`` per row, a grouped field); those come from the grouped row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models.aggregates import Aggregate as DjangoAggregate
from django.db.models.expressions import Col, Ref, Value
from django.db.models.functions import Coalesce

from django_nonrel.aggregation.sql_aggregates import is_sql_aggregate
from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import Evaluator, ExpressionEvaluator, Row

#: Where the evaluated row keeps the finished aggregate values and the group's values.
AGGREGATES = "__aggregates__"
GROUP = "__group__"


def is_aggregate(expr: Any) -> bool:
    """Whether ``expr`` is one aggregate the planner computes directly: an aggregate,
    an aggregate only its SQL defines (``Func(..., function="COUNT")`` marked
    ``contains_aggregate``), or an aggregate with a literal ``default=``
    (``Coalesce(aggregate, Value)``)."""
    if isinstance(expr, DjangoAggregate) or is_sql_aggregate(expr):
        return True
    if isinstance(expr, Coalesce):
        sources = expr.get_source_expressions()
        return (
            len(sources) == 2
            and isinstance(sources[0], DjangoAggregate)
            and isinstance(sources[1], Value)
        )
    return False


@dataclass
class Composite:
    """One annotation computed from finished aggregates (and the group's values)."""

    alias: str
    expr: Any
    #: The function of a row ``{AGGREGATES: {alias: value}, GROUP: {name: value}}``.
    evaluate: Evaluator
    #: The queried model's fields it reads from the group (annotate() per row reads them).
    fields: tuple[Any, ...] = ()
    #: The hidden aliases of the aggregates inside it.
    parts: tuple[str, ...] = ()

    def value(self, aggregates: dict[str, Any], group: dict[str, Any] | None = None) -> Any:
        return self.evaluate({AGGREGATES: aggregates, GROUP: group or {}})


class _OverAggregates(ExpressionEvaluator):
    """Compiles an expression whose aggregates (by identity) and references to other
    annotations read finished values, and whose columns read the grouped row."""

    def __init__(
        self,
        connection,
        base_alias: str,
        parts: dict[int, str],
        names: set[str],
        grouped: dict[str, Any],
    ):
        super().__init__(connection, base_alias)
        self.parts = parts
        self.names = names
        self.grouped = grouped
        self.fields: list[Any] = []

    def compile(self, expr: Any) -> Evaluator:
        alias = self.parts.get(id(expr))
        if alias is None and isinstance(expr, Ref) and expr.refs in self.names:
            alias = expr.refs
        if alias is not None:
            return lambda row: row[AGGREGATES][alias]
        if isinstance(expr, Ref):
            return self._group_value(expr.refs)
        if not isinstance(expr, (Col, Value)):
            # An annotation the group selects, inlined (Least("min_pages", "greatest")
            # reads Greatest("pages", 600), not a Ref to it): its value in the group.
            for name, annotation in self.grouped.items():
                if annotation == expr:
                    return self._group_value(name)
        if isinstance(expr, Col):
            if expr.alias not in (self.base_alias, None):
                # A related field SQL groups by: the group's value (computed groups name
                # it by alias and column).
                return self._group_value(f"{expr.alias}.{expr.target.column}")
            self.fields.append(expr.target)
            return self._group_value(expr.target.attname)
        return super().compile(expr)

    def _group_value(self, name: str) -> Evaluator:
        def read(row: Row) -> Any:
            group = row[GROUP]
            if name not in group:
                raise unsupported(
                    f"An expression over aggregates reading {name!r}, which the query does not "
                    "group by",
                    "Group by the field (values(...)) or compute the value in Python.",
                )
            return group[name]

        return read


def split(
    connection, base_alias: str, annotations: dict[str, Any], grouped: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[Composite]]:
    """The aggregates to compute (the annotations that are one aggregate, and the
    hidden ``__<alias>_<n>`` aggregates inside the others) and, in annotation order,
    the expressions computed from them. ``grouped``: the annotations a grouped row
    selects that are not aggregates (an expression may repeat one inline)."""
    aggregates: dict[str, Any] = {}
    composites: list[Composite] = []
    names: set[str] = set()
    for alias, expr in annotations.items():
        if is_aggregate(expr):
            aggregates[alias] = expr
            names.add(alias)
            continue
        expr.output_field  # noqa: B018 -- Django's FieldError for mixed types, as on SQL
        parts: dict[int, str] = {}
        for index, inner in enumerate(_aggregates_in(expr)):
            hidden = f"__{alias}_{index}"
            aggregates[hidden] = inner
            parts[id(inner)] = hidden
        evaluator = _OverAggregates(connection, base_alias, parts, set(names), grouped or {})
        evaluate = evaluator.compile(expr)
        composites.append(
            Composite(alias, expr, evaluate, tuple(evaluator.fields), tuple(parts.values()))
        )
        names.add(alias)
    return aggregates, composites


def _aggregates_in(expr: Any) -> list[Any]:
    """The outermost aggregates inside ``expr`` (not those behind a Ref to another
    annotation: that one is computed on its own)."""
    if isinstance(expr, DjangoAggregate) or is_sql_aggregate(expr):
        return [expr]
    if isinstance(expr, Ref) or not hasattr(expr, "get_source_expressions"):
        return []
    found = []
    for source in expr.get_source_expressions():
        if source is not None:
            found.extend(_aggregates_in(source))
    return found


def converted(connection, expr: Any, value: Any) -> Any:
    """``value`` as a read of ``expr`` returns it (the backend's and the field's converters)."""
    for function in connection.ops.get_db_converters(expr) + expr.get_db_converters(connection):
        value = function(value, expr, connection)
    return value


def evaluate_all(
    composites: list[Composite], values: dict[str, Any], group: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``values`` (converted aggregate values) with each composite's value added, in
    order: a later one may read an earlier one."""
    values = dict(values)
    for composite in composites:
        values[composite.alias] = composite.value(values, group)
    return values
