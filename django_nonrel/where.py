"""Django's ``WhereNode`` tree -> django-nonrel's ``Node``/``Leaf`` filter tree.

Django resolves ``filter()`` arguments into ``Lookup`` objects whose left side is
a column (``Col``) or a chain of transforms over one, and whose right side is a
value prepared by the field. This module walks that tree and produces the
backend-neutral filter of ``django_nonrel.query``, converting values for the
database on the way, so a backend only ever sees paths, lookup names and data.

Constant results are folded: ``pk__in=[]`` is ``False``, and AND/OR/NOT of
constants simplify, so backends never receive a filter that cannot match.
Anything that needs a JOIN, a correlated subquery or a comparison between two
columns raises ``NotSupportedError`` saying what to write instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import FullResultSet
from django.db import NotSupportedError
from django.db.models import Field
from django.db.models.expressions import Col, ColPairs, ExpressionList, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Extract, TruncDate, TruncTime
from django.db.models.lookups import (
    FieldGetDbPrepValueMixin,
    IntegerFieldOverflow,
    Lookup,
    Transform,
    UUIDTextMixin,
)
from django.db.models.sql.query import Query
from django.db.models.sql.where import AND, OR, XOR, NothingNode, WhereNode

from django_nonrel.query import DATE_PARTS, Leaf, Node

Filter = Node | Leaf | bool

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


class WhereBuilder:
    """Translate one query's WHERE tree for one connection.

    ``base_alias`` is the alias of the queried table; a column from any other
    alias means Django added a JOIN. ``resolve_subquery`` runs a subquery used
    as a value (``pk__in=Other.objects.values("x")``) and returns its values.
    """

    def __init__(
        self,
        connection,
        base_alias: str,
        resolve_subquery: Callable[[Query], list[Any]],
    ) -> None:
        self.connection = connection
        self.base_alias = base_alias
        self.resolve_subquery = resolve_subquery

    # -- tree ---------------------------------------------------------------
    def build(self, node: Any) -> Filter:
        if isinstance(node, WhereNode):
            return self._build_node(node)
        if isinstance(node, NothingNode):
            return False
        if isinstance(node, Lookup):
            return self._build_lookup(node)
        raise NotSupportedError(
            f"{type(node).__name__} conditions (extra(where=...), raw SQL, subquery "
            "expressions) are not supported on this backend. Express the condition "
            "with filter() lookups on the model's fields."
        )

    def _build_node(self, node: WhereNode) -> Filter:
        if node.connector == XOR:
            raise NotSupportedError(
                "XOR of Q objects is not supported on this backend. Rewrite "
                "a ^ b as (a & ~b) | (~a & b)."
            )
        children: list[Node | Leaf] = []
        absorbing = node.connector == OR  # the constant that decides the node
        for child in node.children:
            built = self.build(child)
            if built is absorbing:
                return self._negate(absorbing, node.negated)
            if built is (not absorbing):
                continue  # neutral element: drop it
            children.append(built)
        if not children:
            # Every child was neutral: AND() is True, OR() is False.
            return self._negate(not absorbing, node.negated)
        if len(children) == 1 and not node.negated:
            return children[0]
        return Node(
            connector=AND if node.connector == AND else OR, children=children, negated=node.negated
        )

    @staticmethod
    def _negate(value: bool, negated: bool) -> bool:
        return (not value) if negated else value

    # -- leaves -------------------------------------------------------------
    def _build_lookup(self, lookup: Lookup) -> Filter:
        if isinstance(lookup.lhs, ColPairs):
            return self._build_tuple_lookup(lookup)
        path, transform, column_field = self._path(lookup.lhs, lookup)
        constant = self._out_of_range(lookup)
        if constant is not None:
            return constant
        name = getattr(lookup, "nonrel_lookup", lookup.lookup_name)
        field = getattr(lookup.lhs, "output_field", None)
        value = self._value(lookup, name, field)
        if name == "in":
            value = [v for v in value if v is not None]
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
            )
        return Leaf(
            path=path,
            lookup=name,
            value=value,
            field=field,
            unknown_when_null=unknown_when_null,
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

    def _build_tuple_lookup(self, lookup: Lookup) -> Filter:
        """(a, b) IN ((1, 2), ...) and (a, b) = (1, 2): Django's multi-column lookups.

        Django 5.2 uses them for composite keys and for prefetching forward
        relations; one column becomes a plain ``in``/``exact`` leaf.
        """
        cols = lookup.lhs.get_cols()
        for col in cols:
            self._path(col, lookup)  # refuses columns of other tables
        name = lookup.lookup_name
        if name not in ("in", "exact") or hasattr(lookup.rhs, "resolve_expression"):
            raise NotSupportedError(
                f"The multi-column {name!r} lookup with this value is not supported on "
                "this backend; filter on each column."
            )
        rows = lookup.rhs if name == "in" else [lookup.rhs]
        rows = [row for row in rows if None not in row]
        if not rows:
            return False
        connection = self.connection

        def leaf(col: Col, value: Any, lookup_name: str = "exact") -> Leaf:
            field = col.target
            if lookup_name == "in":
                value = [field.get_db_prep_value(v, connection, prepared=True) for v in value]
            else:
                value = field.get_db_prep_value(value, connection, prepared=True)
            return Leaf(path=(field.column,), lookup=lookup_name, value=value, field=field)

        if len(cols) == 1:
            return leaf(cols[0], [row[0] for row in rows], "in")
        alternatives = [
            Node(connector=AND, children=[leaf(col, v) for col, v in zip(cols, row, strict=True)])
            for row in rows
        ]
        return alternatives[0] if len(alternatives) == 1 else Node(OR, alternatives)

    def _path(self, lhs: Any, lookup: Lookup) -> tuple[tuple[str | int, ...], str | None, Any]:
        """(path, transform name or None, stored field at the path's root) of a lhs."""
        segments: list[str | int] = []
        transform: str | None = None
        node = lhs
        while True:
            if isinstance(node, Col):
                if node.alias != self.base_alias:
                    raise NotSupportedError(
                        f"Filtering on {node.target.model.__name__}.{node.target.name} "
                        "needs a JOIN, which this backend does not run. Filter on the "
                        "related object's key instead (e.g. author_id__in=[...] or "
                        "author__in=Author.objects.filter(...))."
                    )
                segments.append(node.target.column)
                break
            segment = getattr(node, "nonrel_path_segment", None)
            if segment is None and isinstance(node, KeyTransform):
                segment = node.key_name
                if isinstance(segment, str) and segment.lstrip("-").isdigit():
                    segment = int(segment)
            if segment is not None:
                segments.append(segment)
            elif getattr(node, "nonrel_transform", None) or self._date_part(node):
                if transform is not None or segments:
                    raise NotSupportedError(
                        f"The {lookup.lookup_name!r} lookup through more than one "
                        "transform is not supported on this backend."
                    )
                transform = getattr(node, "nonrel_transform", None) or self._date_part(node)
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

    @staticmethod
    def _date_part(node: Any) -> str | None:
        if isinstance(node, Extract) and node.lookup_name in DATE_PARTS:
            return node.lookup_name
        if isinstance(node, TruncDate):
            return "date"
        if isinstance(node, TruncTime):
            return "time"
        return None

    def _value(self, lookup: Lookup, name: str, field: Field | None) -> Any:
        if hasattr(lookup, "nonrel_value"):
            return lookup.nonrel_value(self.connection)
        rhs = lookup.rhs
        if isinstance(rhs, Query):
            return self._subquery_values(rhs, lookup)
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

    def _subquery_values(self, query: Query, lookup: Lookup) -> list[Any]:
        if lookup.lookup_name not in ("in", "exact"):
            raise NotSupportedError(
                f"A queryset as the value of {lookup.lookup_name!r} is not supported on "
                "this backend; use __in=queryset, or evaluate the queryset first."
            )
        values = self.resolve_subquery(query)
        if lookup.lookup_name == "exact":
            if len(values) > 1:
                raise NotSupportedError(
                    "An exact lookup against a queryset returning more than one row."
                )
            return values[0] if values else None
        return values
