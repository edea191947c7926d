"""One Django lookup on a column -> one filter ``Leaf`` (or a constant).

The lowest layer of filter translation: a ``Lookup`` whose left side is a
column of one table alias (``Col``), or a chain of transforms over one, becomes
a ``django_nonrel.query.Leaf``: the path into the stored row, the lookup name
and the value converted for the database by the field. Constant outcomes are
folded here (``pk__in=[]`` is False; an integer beyond the field's range decides
the lookup without a query).

Relations are not this module's business: ``django_nonrel.where`` decides which
alias a lookup is on and turns conditions on joined aliases into key lookups
(``django_nonrel.relations``), which use this module for a join's own
condition. Keeping leaves below both is what keeps the two free of a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import FullResultSet
from django.db import NotSupportedError
from django.db.models import Field, ForeignObjectRel, JSONField
from django.db.models.expressions import Col, ExpressionList, Value
from django.db.models.fields.json import ContainedBy, DataContains, KeyTransform
from django.db.models.functions import Extract, TruncDate, TruncTime
from django.db.models.lookups import (
    FieldGetDbPrepValueMixin,
    IntegerFieldOverflow,
    Lookup,
    Transform,
    UUIDTextMixin,
)
from django.db.models.sql.query import Query
from django.db.models.sql.where import AND, OR, NothingNode, WhereNode

from django_nonrel import json_keys
from django_nonrel.column_tuples import expand, is_multi_column
from django_nonrel.compile_warnings import warn_as_django_compiles
from django_nonrel.described_reads import StepValue
from django_nonrel.paths import path_segment
from django_nonrel.query import DATE_PARTS, Filter, Leaf, Node
from django_nonrel.subqueries import subquery_of

#: Lookups whose right-hand side is a list/tuple of values, each converted.
ITERABLE_LOOKUPS = frozenset({"in", "range"})
#: Lookups whose right-hand side is a raw string, never converted by the field.
STRING_LOOKUPS = frozenset(
    {
        "contains",
        "icontains",
        "startswith",
        "istartswith",
        "endswith",
        "iendswith",
        "regex",
        "iregex",
        "iexact",
    }
)


def column_alias(lhs: Any) -> str:
    """The table alias of the column a lookup's left side starts from ("" for none)."""
    node = lhs
    while not isinstance(node, Col):
        node = getattr(node, "lhs", None)
        if node is None:
            return ""
    return node.alias


def fold(connector: str, items: list[Any]) -> list[Any] | bool:
    """``items`` of an AND/OR without neutral constants; an absorbing constant decides it."""
    absorbing = connector == OR
    kept = []
    for item in items:
        if item is absorbing:
            return absorbing
        if item is not (not absorbing):
            kept.append(item)
    # Every child was neutral: AND() is True, OR() is False.
    return kept or (not absorbing)


def combine(connector: str, filters: list[Filter], negated: bool = False) -> Filter:
    """AND/OR (NOT when ``negated``) of ``filters``, constants folded."""
    kept = fold(connector, filters)
    if isinstance(kept, bool):
        return kept != negated
    if len(kept) == 1 and not negated:
        return kept[0]
    return Node(connector, kept, negated)


def conjunction(filters: list[Filter]) -> Filter:
    """AND of ``filters`` with constants folded (True when there are none)."""
    return combine(AND, filters)


def date_part(node: Any) -> str | None:
    """The date part a transform extracts or truncates to (None: not a date transform)."""
    if isinstance(node, Extract) and node.lookup_name in DATE_PARTS:
        return node.lookup_name
    if isinstance(node, TruncDate):
        return "date"
    if isinstance(node, TruncTime):
        return "time"
    return None


class LeafBuilder:
    """Translate lookups on columns of ``base_alias`` for one connection.

    ``resolve_subquery`` runs a queryset used as a value
    (``pk__in=Other.objects.values("x")``) and returns its values.
    """

    def __init__(
        self, connection, base_alias: str, resolve_subquery: Callable[[Query], list[Any]]
    ) -> None:
        self.connection = connection
        self.base_alias = base_alias
        self.resolve_subquery = resolve_subquery

    def build_tree(self, node: Any) -> Filter:
        """The filter of a tree of lookups that are all on ``base_alias``.

        For a relation's own join condition (``relations.join_restriction``):
        no other alias to follow, so no key lookups, only AND/OR/NOT of leaves.
        """
        if isinstance(node, WhereNode):
            if node.connector not in (AND, OR):
                raise NotSupportedError(
                    f"A join condition combining lookups with {node.connector} is not "
                    "supported on this backend; it can only use AND, OR and NOT."
                )
            children = [self.build_tree(child) for child in node.children]
            return combine(node.connector, children, node.negated)
        if isinstance(node, NothingNode):
            return False
        if not isinstance(node, Lookup):
            raise NotSupportedError(
                f"A join condition with {type(node).__name__} is not supported on this "
                "backend; it needs Django lookups on the related model's fields."
            )
        return self.build(node)

    def build(self, lookup: Lookup, negated: bool = False) -> Filter:
        """The leaf of ``lookup`` (an ``Exists`` left side is ``where``'s business).

        ``negated``: the lookup sits under an odd number of NOTs, which decides
        how a comparison SQL finds UNKNOWN is written two-valued.
        """
        if is_multi_column(lookup):
            return self.build_tree(self.expand_columns(lookup, negated))
        warn_as_django_compiles(lookup)
        path, transform, column_field = self._path(lookup.lhs, lookup)
        return self._build_leaf(lookup, path, transform, column_field, negated)

    def _build_leaf(self, lookup: Lookup, path, transform, column_field, negated: bool) -> Filter:
        if isinstance(lookup, (DataContains, ContainedBy)) and not (
            self.connection.features.supports_json_field_contains
        ):
            # Django's own refusal (and message) on backends without JSON containment;
            # read as a text "contains", a dict value would silently match nothing.
            raise NotSupportedError(
                f"{lookup.lookup_name} lookup is not supported on this database backend. "
                "Filter on the keys instead (field__key=value)."
            )
        constant = self._out_of_range(lookup)
        if constant is not None:
            return constant
        name = getattr(lookup, "nonrel_lookup", lookup.lookup_name)
        field = getattr(lookup.lhs, "output_field", None)
        if isinstance(field, ForeignObjectRel) and isinstance(lookup.lhs, Col):
            # A reverse relation (filter(article=5)) compares the joined key.
            field = lookup.lhs.target
        value = self._value(lookup, name, field)
        if subquery_of(lookup.rhs) is not None and unknown_by_null(name, value):
            # A NULL among a queryset's values: "x IN (...)" is UNKNOWN (not FALSE)
            # for every row it does not match, and "x = (NULL or no row)" for every
            # row. Two-valued that is FALSE for the rows left unmatched, and TRUE
            # under an odd number of negations, where NOT must not match them.
            if negated:
                return True
            if name == "exact":
                return False
        # A key transform may give text (KT(), iexact's KeyTextTransform): still a JSON path.
        json = isinstance(field, JSONField) or isinstance(lookup.lhs, KeyTransform)
        if name == "in" and not (json and len(path) > 1):
            # None under a JSON key is JSON null, a value (JSONNull() in the list).
            # Elsewhere None is SQL NULL, which IN never matches, but JSONNull()
            # in a JSONField's list is JSON null, stored as null (docs/mongodb.md).
            items = lookup.rhs
            if isinstance(items, ExpressionList):
                items = items.get_source_expressions()
            json_null = (
                json
                and isinstance(items, (list, tuple))
                and any(map(json_keys.is_json_null, items))
            )
            value = [v for v in value if v is not None] + ([None] if json_null else [])
            if not value:
                return False
        # A key inside a document is NULL in SQL when missing, and a comparison
        # with NULL is UNKNOWN: exclude() must not match the row either. Paths
        # through list elements are EXISTS tests, true or false.
        in_elements = getattr(lookup.lhs, "in_element_scope", None)
        unknown_when_null = (
            len(path) > 1 and name != "isnull" and not (in_elements and in_elements())
        )
        if transform is not None:
            # The stored field (a DateTimeField, a ListField) decides how the
            # backend evaluates the transform; the value is already converted.
            return Leaf(
                path=path,
                lookup=transform,
                value=value,
                field=column_field,
                transform=transform,
                compare=name,
                unknown_when_null=unknown_when_null,
                json=json,
            )
        return Leaf(
            path=path,
            lookup=name,
            value=value,
            field=field,
            unknown_when_null=unknown_when_null,
            json=json,
        )

    def _out_of_range(self, lookup: Lookup) -> bool | None:
        """Django's IntegerFieldOverflow: an integer beyond the field's range decides
        the lookup without a query (``pk=2**70`` matches nothing, ``< 2**70`` all)."""
        if not isinstance(lookup, IntegerFieldOverflow) or not isinstance(lookup.rhs, int):
            return None
        internal_type = lookup.lhs.output_field.get_internal_type()
        low, high = self.connection.ops.integer_field_range(internal_type)
        if low is not None and lookup.rhs < low:
            exception = lookup.underflow_exception
        elif high is not None and lookup.rhs > high:
            exception = lookup.overflow_exception
        else:
            return None
        return exception is FullResultSet

    def expand_columns(self, lookup: Lookup, negated: bool = False) -> Any:
        """A multi-column lookup as single-column lookups (``column_tuples``)."""
        return expand(lookup, self.connection, negated)

    def _path(self, lhs: Any, lookup: Lookup) -> tuple[tuple[str | int, ...], str | None, Any]:
        """(path, transform name or None, stored field at the path's root) of a lhs."""
        segments: list[str | int] = []
        transform: str | None = None
        node = lhs
        while True:
            if isinstance(node, Col):
                segments.append(node.target.column)
                break
            segment = path_segment(node)
            if segment is not None:
                segments.append(segment)
            elif getattr(node, "nonrel_transform", None) or date_part(node):
                if transform is not None or segments:
                    raise NotSupportedError(
                        f"The {lookup.lookup_name!r} lookup through more than one "
                        "transform is not supported on this backend."
                    )
                transform = getattr(node, "nonrel_transform", None) or date_part(node)
            else:
                name = getattr(node, "lookup_name", None) or type(node).__name__
                raise NotSupportedError(
                    f"The {name!r} transform/expression in a filter is not supported on "
                    "this backend. Filter on stored field values (annotate on "
                    "Python side, or store the computed value in a field)."
                )
            node = node.lhs if isinstance(node, Transform) else None
            if node is None:
                raise NotSupportedError("Filters must start from a model field on this backend.")
        # node is the Col the path starts from.
        segments.reverse()
        return tuple(segments), transform, node.target

    def _value(self, lookup: Lookup, name: str, field: Field | None) -> Any:
        if hasattr(lookup, "nonrel_value"):
            return lookup.nonrel_value(self.connection)
        rhs = lookup.rhs
        query = subquery_of(rhs)
        if query is not None:
            return self._subquery_values(query, lookup, field)
        if isinstance(rhs, ExpressionList) and all(
            isinstance(e, Value) for e in rhs.get_source_expressions()
        ):
            # Django 6.1 hands ``__in=<iterator>`` over as a list of Values.
            rhs = [e.value for e in rhs.get_source_expressions()]
        if hasattr(rhs, "resolve_expression"):
            if isinstance(rhs, Value):
                rhs = rhs.value
            else:
                raise NotSupportedError(
                    f"Comparing a field to {type(rhs).__name__} (F() expressions, other "
                    "columns, subquery expressions) is not supported in filters on this "
                    "backend. Compare to a literal value, or fetch the value first."
                )
        if name == "isnull":
            if not isinstance(rhs, bool):
                raise ValueError("The QuerySet value for an isnull lookup must be True or False.")
            return rhs
        if name in STRING_LOOKUPS:
            # UUIDs are stored as 32 hex digits; users type them with dashes.
            uuid_text = isinstance(lookup, UUIDTextMixin) and rhs is not None
            if uuid_text and not self.connection.features.has_native_uuid_field:
                return str(rhs).replace("-", "")
            return rhs if rhs is None else str(rhs)
        convert = self._converter(lookup, field)
        if name in ITERABLE_LOOKUPS:
            if any(hasattr(v, "resolve_expression") for v in rhs):
                raise NotSupportedError(
                    f"Expressions inside an {name!r} lookup are not supported on this "
                    "backend; pass literal values."
                )
            return [convert(v) for v in rhs] if name == "in" else tuple(convert(v) for v in rhs)
        return convert(rhs)

    def _converter(self, lookup: Lookup, field: Field | None) -> Callable[[Any], Any]:
        if field is None or not isinstance(lookup, FieldGetDbPrepValueMixin):
            return lambda value: value
        connection = self.connection
        return lambda value: field.get_db_prep_value(value, connection, prepared=True)

    def _subquery_values(self, query: Query, lookup: Lookup, field: Field | None) -> Any:
        """The values of a queryset used as the value of ``in``/``exact``, in stored form.

        The inner query returns Python values, as its model holds them (UUID
        objects, dates, Decimals, ObjectId strings); the outer column stores
        its own form of them (hex text, datetimes, Decimal128, ObjectIds). Each
        value is prepared as Django prepares a literal list for the same lookup
        (the outer field's ``get_prep_value``, then ``get_db_prep_value``), so
        ``pk__in=<queryset>`` matches what ``pk__in=list(<queryset>)`` matches.
        A query being described has no values yet: the step that would read
        them stands for them (``django_nonrel.described_reads``).
        """
        prepare = preparer(lookup)
        convert = self._converter(lookup, field)
        values = [
            value if value is None or isinstance(value, StepValue) else convert(prepare(value))
            for value in self._queryset_values(query, lookup)
        ]
        if lookup.lookup_name == "exact":
            if len(values) > 1:
                raise NotSupportedError(
                    "An exact lookup against a queryset returning more than one row."
                )
            return values[0] if values else None
        return values

    def _queryset_values(self, query: Query, lookup: Lookup) -> list[Any]:
        if lookup.lookup_name not in ("in", "exact"):
            raise NotSupportedError(
                f"A queryset as the value of {lookup.lookup_name!r} is not supported on "
                "this backend; use __in=queryset, or evaluate the queryset first."
            )
        db_rhs = getattr(query, "_db", None)
        if lookup.lookup_name == "in" and db_rhs is not None and db_rhs != self.connection.alias:
            # Django's own check (lookups.In.process_rhs): run anywhere else, the inner
            # queryset would silently read another database's rows.
            raise ValueError(
                "Subqueries aren't allowed across different databases. Force the "
                "inner query to be evaluated using `list(inner_query)`."
            )
        return self.resolve_subquery(query)


def unknown_by_null(name: str, value: Any) -> bool:
    """Whether a queryset's value makes the comparison UNKNOWN where it does not match."""
    return value is None if name == "exact" else any(v is None for v in value)


def preparer(lookup: Lookup) -> Callable[[Any], Any]:
    """Django's ``get_prep_lookup`` for one literal value of ``lookup``."""
    output_field = getattr(lookup.lhs, "output_field", None)
    if not lookup.prepare_rhs or not hasattr(output_field, "get_prep_value"):
        return lambda value: value
    return output_field.get_prep_value
