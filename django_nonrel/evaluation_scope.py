"""Which conditions and expressions the store answers, and which run in Python.

A filter, ordering or annotation goes to the server when every node of it is
something each MongoDB-compatible server evaluates the way SQL does (a column
compared with a value, ``year``/``date`` as ranges, pattern lookups on text
columns); anything else -- a function, a comparison of two columns, a
subquery the store cannot answer first, a project's own SQL-only lookup, a
pattern on a number -- is evaluated on the rows read by
``django_nonrel.expressions``. ``needs_python`` decides; ``aliases_in`` says
which tables' rows such an evaluation reads.
"""

from __future__ import annotations

from typing import Any

from django.db.models.expressions import (
    Col,
    ColPairs,
    Exists,
    ExpressionList,
    Value,
)
from django.db.models.fields.json import KeyTransform
from django.db.models.lookups import IExact, Lookup, PatternLookup, Regex
from django.db.models.sql.where import XOR, WhereNode

from django_nonrel.column_tuples import expand, is_multi_column, runs_subquery_first
from django_nonrel.json_keys import is_pattern_on_json_column
from django_nonrel.leaves import date_part
from django_nonrel.native import NativeCondition
from django_nonrel.subqueries import outer_references, semi_join, subquery_of

#: Date parts a filter can push to every server (``year`` as a range, ``date``
#: as day ranges); others need ``$expr`` date operators.
PORTABLE_PARTS = frozenset({"year", "date"})


# -- which filters need Python ---------------------------------------------------
def needs_python(node: Any, date_parts: bool) -> bool:
    """Whether a WHERE node has a condition the filter translator cannot push down.

    ``date_parts`` says whether the server evaluates month/day/hour... parts
    (``$expr`` date operators); without them those lookups are evaluated here.
    """
    if isinstance(node, WhereNode):
        # XOR counts the TRUE children: the filter translators have no such connector.
        return node.connector == XOR or any(needs_python(c, date_parts) for c in node.children)
    if not isinstance(node, Lookup):
        return False
    if is_multi_column(node):
        first = runs_subquery_first(node)
        if first is not None:
            return not first
        # Values only: the connection runs no queryset here.
        return needs_python(expand(node, None), date_parts)
    if user_defined(node):
        return True  # its meaning is its own SQL (or a built-in name's rule): never a filter
    rhs = node.rhs
    query = subquery_of(rhs)
    if query is not None:
        # An uncorrelated queryset as an ``in``/``exact`` value runs first, as the
        # value; the left-hand side still decides where the comparison runs
        # (``annotate(s=Cast("pk", CharField())).filter(s__in=...)``).
        if outer_references(query) or node.lookup_name not in ("in", "exact"):
            return True
        return not _native_lhs(node.lhs, date_parts)
    if isinstance(rhs, ExpressionList) and not all(
        isinstance(e, Value) for e in rhs.get_source_expressions()
    ):
        return True
    if (
        hasattr(rhs, "resolve_expression")
        and not isinstance(rhs, (Value, ExpressionList))
        and not getattr(rhs, "nonrel_native", False)
    ):
        return True
    if isinstance(rhs, (list, tuple)) and any(
        hasattr(v, "resolve_expression") and not isinstance(v, Value) for v in rhs
    ):
        return True
    if _pattern_on_a_number(node) or is_pattern_on_json_column(node):
        return True
    return not _native_lhs(node.lhs, date_parts) or not _native_part_lookup(node)


#: Fields stored as numbers, booleans or dates: a regular expression matches text only.
NON_TEXT_FIELDS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "FloatField",
        "DecimalField",
        "BooleanField",
        "DateField",
        "DateTimeField",
        "DurationField",
    }
)


def _pattern_on_a_number(lookup: Lookup) -> bool:
    """A pattern lookup (``contains``, ``iexact``, ``regex``...) on a column stored as
    a number or date: SQL matches the column's text (``age LIKE '%19%'``, the
    admin's search on ``group__pk``), a stored regular expression never matches a
    number, so it is evaluated here on the value's text."""
    if not isinstance(lookup, (PatternLookup, IExact, Regex)) or not isinstance(lookup.lhs, Col):
        return False
    field = lookup.lhs.output_field
    while getattr(field, "target_field", None) is not None and field.is_relation:
        field = field.target_field
    return field.get_internal_type() in NON_TEXT_FIELDS


def user_defined(lookup: Lookup) -> bool:
    """Whether ``lookup``'s class is a project's own (``register_lookup``), not
    Django's or this package's: the filter translators know only those."""
    return type(lookup).__module__.partition(".")[0] not in ("django", "django_nonrel")


def _native_part_lookup(lookup: Lookup) -> bool:
    """Whether the filter translators run ``lookup`` on a date part: comparisons
    (``in``/``range`` of years and dates too); ``year__iexact``, ``month__in`` and
    the text lookups SQL runs on the part's text are evaluated here."""
    part = date_part(lookup.lhs)
    if part is None or part == "time":
        return True
    source = getattr(lookup.lhs.lhs, "output_field", None)
    if source is not None and source.get_internal_type() == "TimeField":
        return True  # stored as text: the translator's own rules and messages
    native = {"exact", "gt", "gte", "lt", "lte"}
    return lookup.lookup_name in (native | {"in", "range"} if part in PORTABLE_PARTS else native)


def aliases_in(node: Any) -> list[str]:
    """The table aliases of the columns ``node`` reads (of a subquery: the outer
    columns it references)."""
    if isinstance(node, Col):
        return [node.alias]
    query = subquery_of(node)
    if query is not None:
        return [col.alias for col in outer_references(query)]
    if isinstance(node, WhereNode):
        children = node.children
    elif isinstance(node, Lookup):
        children = [node.lhs, node.rhs]
    elif isinstance(node, (list, tuple)):
        children = list(node)
    else:
        children = node.get_source_expressions() if hasattr(node, "get_source_expressions") else []
    return [alias for child in children if child is not None for alias in aliases_in(child)]


def _native_lhs(lhs: Any, date_parts: bool) -> bool:
    node = lhs
    while True:
        if isinstance(node, (Col, ColPairs, NativeCondition)):
            return True
        exists = getattr(node, "expression", node)  # ~Exists() is a NegatedExpression
        if isinstance(exists, Exists):
            # Run once, or a semi-join the filter runs (outer key IN inner keys,
            # the inner conditions pushed down); anything else is evaluated here.
            if not outer_references(exists.query):
                return True
            joined = semi_join(exists.query)
            return joined is not None and not needs_python(WhereNode(joined[1]), date_parts)
        if isinstance(node, KeyTransform) and str(node.key_name).startswith("-"):
            return False  # a negative array index (data__-1): no MongoDB path names it
        if getattr(node, "nonrel_path_segment", None) is not None or isinstance(node, KeyTransform):
            node = node.lhs
            continue
        if getattr(node, "nonrel_transform", None):
            node = node.lhs
            continue
        part = date_part(node)
        if part is not None:
            source = getattr(node.lhs, "output_field", None)
            on_time = source is not None and source.get_internal_type() == "TimeField"
            if not (date_parts or part in PORTABLE_PARTS or on_time):
                return False
            if part == "quarter":
                return False
            node = node.lhs
            continue
        return False
