"""Multi-column lookups -> the single-column lookups they mean.

A relation over several columns (``ForeignObject(from_fields=[a, b], ...)``,
Django 6.1's composite primary keys) is compared with tuple lookups:
``customer=obj`` is ``(customer_code, company_code) = (1, "a")`` and
``customer__in=[...]`` is ``(a, b) IN ((1, "a"), (2, "b"))``. SQL runs row
values; a document filter has none, so each tuple lookup is rewritten into
the ``WhereNode`` Django itself uses on backends without tuple support
(``get_fallback_sql`` of ``django.db.models.fields.tuple_lookups``): an AND of
equalities per tuple, an OR of those for ``in``, the lexicographic
``a > x OR (a = x AND b > y)`` for comparisons. The rewritten node goes back
through the ordinary filter translation, so every column may sit on its own
join alias and every value is converted (and kept data) by its own field.

A queryset as the right side (``TupleIn(lhs, qs.query)``, ``customer__in=qs``)
is run first and its rows become the tuples, as a single-column ``__in=qs``
runs first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import NotSupportedError
from django.db.models.expressions import ColPairs, Value
from django.db.models.fields.related_lookups import (
    RelatedIn,
    RelatedLookupMixin,
    get_normalized_value,
)
from django.db.models.fields.tuple_lookups import Tuple, tuple_lookups
from django.db.models.lookups import Exact, GreaterThan, IsNull, LessThan, Lookup
from django.db.models.sql.query import Query
from django.db.models.sql.where import AND, OR, NothingNode, WhereNode

from django_nonrel.described_reads import StepValue
from django_nonrel.subqueries import outer_references

#: The strict comparison each tuple comparison is built of, and whether the
#: last column may also be equal.
COMPARISONS = {
    "gt": (GreaterThan, False),
    "gte": (GreaterThan, True),
    "lt": (LessThan, False),
    "lte": (LessThan, True),
}


def is_multi_column(lookup: Lookup) -> bool:
    """Whether ``lookup`` compares several columns at once (a tuple lookup)."""
    return isinstance(lookup.lhs, (ColPairs, Tuple))


def runs_subquery_first(lookup: Lookup) -> bool | None:
    """For a multi-column lookup against a queryset: whether it can run first (an
    uncorrelated queryset as an ``in``/``exact`` value); None without a queryset."""
    if not isinstance(lookup.rhs, Query):
        return None
    return lookup.lookup_name in ("in", "exact") and not outer_references(lookup.rhs)


def expand(lookup: Lookup, connection, negated: bool | None = None) -> Any:
    """The ``WhereNode`` of single-column lookups equivalent to the tuple ``lookup``.

    ``negated``: for a two-valued filter, whether the lookup sits under an odd
    number of NOTs. SQL finds a comparison with NULL UNKNOWN, which no NOT
    turns true; two-valued, such a comparison is the constant that makes the
    row not match at this parity. None (a three-valued evaluation) keeps it a
    comparison with None, which the evaluator finds UNKNOWN itself.
    """
    lookup = _as_tuple_lookup(lookup)
    cols = list(lookup.lhs)
    name = lookup.lookup_name
    if name == "isnull":
        rhs = lookup.rhs
        return WhereNode([IsNull(col, rhs) for col in cols], connector=OR if rhs else AND)
    rows = _rows(lookup, connection)
    if name == "in":
        # A tuple with a NULL equals nothing (Django drops it too).
        return WhereNode(
            [_equal(cols, row, negated) for row in rows if None not in row], connector=OR
        )
    if len(rows) > 1:
        raise NotSupportedError(
            f"The multi-column {name!r} lookup compares with a queryset returning more "
            "than one row; slice the queryset to one row."
        )
    if not rows:
        return _unknown(negated)
    (row,) = rows
    if name == "exact":
        return _equal(cols, row, negated)
    if name in COMPARISONS:
        return _compare(cols, row, *COMPARISONS[name], negated)
    raise NotSupportedError(
        f"The multi-column {name!r} lookup is not supported on this backend; use exact, "
        "in, lt, lte, gt, gte or isnull, or filter on each column."
    )


def _as_tuple_lookup(lookup: Lookup) -> Lookup:
    """A related lookup over several columns as the tuple lookup Django compiles it
    to (``RelatedLookupMixin.as_sql``), without changing ``lookup`` itself."""
    if not isinstance(lookup.lhs, ColPairs):
        return lookup
    if isinstance(lookup, RelatedIn):
        rhs = lookup.rhs
        if lookup.rhs_is_direct_value():
            rhs = [get_normalized_value(value, lookup.lhs) for value in rhs]
        return tuple_lookups["in"](lookup.lhs, rhs)
    if isinstance(lookup, RelatedLookupMixin):
        if not lookup.rhs_is_direct_value():
            raise ValueError(f"'{lookup.lookup_name}' doesn't support multi-column subqueries.")
        rhs = get_normalized_value(lookup.rhs, lookup.lhs)
        return tuple_lookups[lookup.lookup_name](lookup.lhs, rhs)
    return lookup


def queryset_rows(query: Query, connection) -> list[tuple[Any, ...]]:
    """The rows of a queryset used as a multi-column value, as tuples."""
    query = query.clone()
    query.subquery = False
    compiler = query.get_compiler(connection=connection)
    return [tuple(values) for values, *_ in compiler.selected_value_rows()]


def _rows(lookup: Lookup, connection) -> list[Sequence[Any]]:
    """The tuples ``lookup`` compares with (a queryset's rows, bounded by what one
    command may carry)."""
    rhs = lookup.rhs
    if isinstance(rhs, Query):
        if runs_subquery_first(lookup) is False:
            raise NotSupportedError(
                f"The multi-column {lookup.lookup_name!r} lookup against a correlated "
                "queryset (OuterRef) is not supported on this backend; filter on each "
                "column with OuterRef instead."
            )
        rows = [list(map(_stand_in, row)) for row in queryset_rows(rhs, connection)]
        limit = connection.features.max_keys_per_command
        if limit is not None and len(rows) > limit:
            raise NotSupportedError(
                f"A multi-column {lookup.lookup_name!r} lookup's queryset returned "
                f"{len(rows)} rows, more than one command may carry ({limit}). Narrow "
                "the queryset."
            )
        return rows
    if isinstance(rhs, (ColPairs, Tuple)):
        return [list(rhs)]
    if hasattr(rhs, "resolve_expression"):
        raise NotSupportedError(
            f"A multi-column {lookup.lookup_name!r} lookup against "
            f"{type(rhs).__name__} is not supported on this backend; compare with a "
            "tuple of values, a tuple of columns or a queryset."
        )
    return list(rhs) if lookup.lookup_name == "in" else [rhs]


def _stand_in(value: Any) -> Any:
    """A value of a queryset's row, or, while the read is only described
    (``django_nonrel.described_reads``), the step standing for its values as a
    ``Value``: the lookups a tuple expands into keep it as given, where Django
    would prepare a literal with the column's field."""
    return Value(value) if isinstance(value, StepValue) else value


def _unknown(negated: bool | None) -> WhereNode | NothingNode:
    """A comparison SQL finds UNKNOWN: no row matches, under NOT either."""
    return WhereNode() if negated else NothingNode()


def _lookup(cls: type[Lookup], col: Any, value: Any, negated: bool | None) -> Any:
    """``cls(col, value)``; in a two-valued filter a comparison with NULL is the
    constant ``_unknown`` gives, and under an odd number of NOTs a NULL column
    makes it true too (so the NOT leaves the row out, as SQL's UNKNOWN does;
    Django's own guard for this, ``IS NOT NULL`` under exclude(), is added per
    column by ``build_filter``, which a tuple's columns do not pass through)."""
    if negated is None:
        return cls(col, value)
    if value is None:
        return _unknown(negated)
    if negated:
        return WhereNode([cls(col, value), IsNull(col, True)], connector=OR)
    return cls(col, value)


def _equal(cols: list[Any], row: Sequence[Any], negated: bool | None) -> WhereNode:
    return WhereNode(
        [_lookup(Exact, col, value, negated) for col, value in zip(cols, row, strict=True)]
    )


def _compare(
    cols: list[Any], row: Sequence[Any], strict, or_equal: bool, negated: bool | None
) -> Any:
    """``(a, b, c) > (x, y, z)``: ``a > x OR (a = x AND (b > y OR (b = y AND c > z)))``."""
    *heads, last = zip(cols, row, strict=True)
    node: Any = WhereNode([_lookup(strict, *last, negated)], connector=OR)
    if or_equal:
        node.children.append(_lookup(Exact, *last, negated))
    for col, value in reversed(heads):
        node = WhereNode(
            [
                _lookup(strict, col, value, negated),
                WhereNode([_lookup(Exact, col, value, negated), node]),
            ],
            connector=OR,
        )
    return node
