"""What happens to grouped rows after grouping: SELECT DISTINCT and ORDER BY.

A grouped read (``django_nonrel.aggregation.grouped``) has the aggregated values
only after grouping, so a grouped query ordered by an aggregate, by an expression
over its values (``order_by(Mod("total", 4))``, a transform of an annotation) or
made distinct (``dates()`` of an annotated queryset) is ordered and deduplicated
here, on the grouped rows: ``(result, annotations)`` pairs of names -> values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldError
from django.db import NotSupportedError
from django.db.models.expressions import Col, OrderBy, Ref, Value

from django_nonrel.aggregation.over_rows import NamedRowEvaluator
from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import Evaluator
from django_nonrel.ordering import random_key
from django_nonrel.paths import hashable

#: One grouped row: (the selected fields, the annotations), names -> values.
GroupedRow = tuple[dict[str, Any], dict[str, Any]]


def distinct_rows(
    rows: list[GroupedRow], names: Iterable[str], selected: Iterable[str]
) -> list[GroupedRow]:
    """SELECT DISTINCT over grouped rows: the first row of each distinct combination
    of the fields ``names`` and annotations ``selected`` the query returns."""
    names, selected = list(names), list(selected)
    seen: set[Any] = set()
    unique = []
    for result, values in rows:
        key = hashable(
            (
                tuple(result.get(name) for name in names),
                tuple(values.get(alias) for alias in selected),
            )
        )
        if key not in seen:
            seen.add(key)
            unique.append((result, values))
    return unique


def sort_rows(query, connection, rows: list[GroupedRow]) -> list[GroupedRow]:
    """``rows`` in ``query``'s order (NULLs first ascending, as SQLite)."""
    items = explicit_ordering(query)
    if not query.standard_ordering:
        items = [reverse_item(item) for item in items]
    for item in reversed(items):
        name, descending = order_name(item)
        if name == "pk":
            name = query.get_meta().pk.attname
        if not rows:
            return rows
        if name == "?":
            # order_by("?"): the groups shuffled (a new random key per group).
            key = random_key
        elif name is None or not (name in rows[0][0] or name in rows[0][1]):
            # An expression (a transform of an annotation, order_by(F("n") * 2)),
            # computed on the grouped row.
            evaluate = _order_value(query, connection, item, name)

            def key(row, evaluate=evaluate):
                value = evaluate({**row[0], **row[1]})
                return (value is not None, value)

        else:

            def key(row, name=name):
                value = row[1][name] if name in row[1] else row[0][name]
                return (value is not None, value)

        rows = sorted(rows, key=key, reverse=descending)
    return rows


def _order_value(query, connection, item: Any, name: str | None) -> Evaluator:
    """The function of a grouped row (names -> values) an ordering item sorts by."""
    expr = item.expression if isinstance(item, OrderBy) else item
    try:
        if name is not None:
            expr = query.clone().resolve_ref(name, allow_joins=False)
        elif hasattr(expr, "resolve_expression"):
            expr = expr.resolve_expression(query.clone(), allow_joins=False)
        return GroupRowEvaluator(connection, query.annotations).compile(expr)
    except (FieldError, NotSupportedError):
        raise unsupported(
            f"Ordering a grouped query by {item!r}",
            "Order by a selected field, an annotation or an expression over them.",
        ) from None


class GroupRowEvaluator(NamedRowEvaluator):
    """Compiles an expression over a grouped row: names and columns read its values,
    an annotation repeated inline (``Sum("pages")`` under a transform) reads its own."""

    def __init__(self, connection, annotations: dict[str, Any]) -> None:
        super().__init__(connection, "")
        self.annotations = annotations

    def compile(self, expr: Any) -> Evaluator:
        for alias, annotation in self.annotations.items():
            if annotation is expr or (not isinstance(expr, (Col, Value)) and annotation == expr):
                return super().compile(Ref(alias, annotation))
        return super().compile(expr)


def explicit_ordering(query) -> list[Any]:
    """The ordering items a grouped query sorts by and groups by too, with Django's
    precedence: ``extra(order_by=...)`` replaces ``order_by()`` (Meta.ordering
    never applies to GROUP BY)."""
    return list(query.extra_order_by or query.order_by)


def order_name(item: Any) -> tuple[str | None, bool]:
    descending = False
    if isinstance(item, OrderBy):
        descending = item.descending
        item = item.expression
    if isinstance(item, Ref):
        return item.refs, descending
    name = getattr(item, "name", item)
    if not isinstance(name, str):
        return None, descending
    if name.startswith("-"):
        return name[1:], not descending
    return name, descending


def reverse_item(item: Any) -> Any:
    if isinstance(item, str):
        return item[1:] if item.startswith("-") else f"-{item}"
    if isinstance(item, OrderBy):
        return OrderBy(item.expression, descending=not item.descending)
    return OrderBy(item, descending=True)
