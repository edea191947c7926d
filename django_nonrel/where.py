"""Django's ``WhereNode`` tree -> django-nonrel's ``Node``/``Leaf`` filter tree.

Django resolves ``filter()`` arguments into ``Lookup`` objects whose left side is
a column (``Col``) or a chain of transforms over one, and whose right side is a
value prepared by the field. This module walks that tree and produces the
backend-neutral filter of ``django_nonrel.query``, converting values for the
database on the way, so a backend only ever sees paths, lookup names and data.

Constant results are folded: ``pk__in=[]`` is ``False``, and AND/OR/NOT of
constants simplify, so backends never receive a filter that cannot match.

Conditions on joined tables (``author__name``, ``books__labels__name``, the
``Exists`` subqueries Django builds for ``exclude()`` over multi-valued
relations) become key lookups (``django_nonrel.relations``): conditions that
Django put on the same join alias are combined first, so "one ``filter()`` call
means the same related row" holds, while chained ``filter()`` calls (separate
aliases) stay independent. Comparisons between two columns raise
``NotSupportedError`` saying what to write instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FullResultSet
from django.db import NotSupportedError
from django.db.models import Field, ForeignObjectRel
from django.db.models.expressions import Col, ColPairs, Exists, ExpressionList, Value
from django.db.models.fields.json import ContainedBy, DataContains, KeyTransform
from django.db.models.functions import Extract, TruncDate, TruncTime
from django.db.models.lookups import (
    FieldGetDbPrepValueMixin,
    IntegerFieldOverflow,
    Lookup,
    Transform,
    UUIDTextMixin,
)
from django.db.models.sql.constants import INNER, LOUTER
from django.db.models.sql.datastructures import Join
from django.db.models.sql.query import Query
from django.db.models.sql.where import AND, OR, XOR, NothingNode, WhereNode

from django_nonrel.query import DATE_PARTS, Leaf, Node
from django_nonrel.relations import (
    KeyLookups,
    chain_to,
    is_forward,
    is_single_valued,
    join_of,
    join_restriction,
)

Filter = Node | Leaf | bool


@dataclass(frozen=True)
class Related:
    """``condition`` on the rows of the joined aliases ``path`` (outermost first)."""

    path: tuple[str, ...]
    condition: Any  # Filter, or a Related relative to path[-1]


Item = Filter | Related

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
        query: Query | None = None,
    ) -> None:
        self.connection = connection
        self.base_alias = base_alias
        self.resolve_subquery = resolve_subquery
        self.query = query
        #: Conditions an AND at the top put on a joined alias: values() and
        #: select of that alias see only the related rows the filter kept.
        self.alias_conditions: dict[str, Filter] = {}
        #: Per top-level multi-valued alias: (base column, {key: matching related
        #: rows}). A JOIN repeats a row once per related row that matched; the
        #: compiler repeats rows by these counts unless the query is distinct.
        self.row_weights: dict[str, tuple[str, dict[Any, int]]] = {}
        #: Columns the read selects from aliases joined to the base (set by the
        #: compiler): a key lookup on such an alias keeps its rows for the read.
        self.select_columns: dict[str, list[str]] = {}
        #: alias -> (columns read, rows) kept by those lookups.
        self.kept_rows: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}
        #: Multi-valued aliases whose condition sits inside OR or NOT: a JOIN would
        #: repeat rows there by a count this layer does not compute (the compiler
        #: refuses to read such rows unless the query is distinct()).
        self.unrepeated: list[str] = []
        #: INNER-joined chains whose conditions sit under a negation: a row
        #: without the related row is not in a JOIN's result at all, whatever
        #: the negations make of the condition.
        self.required_chains: dict[tuple[str, ...], None] = {}
        self._negations = 0

    # -- tree ---------------------------------------------------------------
    def build(self, node: Any) -> Filter:
        """The filter on the base table; related conditions already resolved to keys."""
        item = self._build(node, top=True)
        if isinstance(item, Related):
            item = self._resolve_top(item)
        if not self.required_chains or item is False:
            return item
        required = [self._existence(chain) for chain in self.required_chains]
        children = self._fold(AND, [item, *required])
        if isinstance(children, bool):
            return children
        return children[0] if len(children) == 1 else Node(AND, children)

    def _existence(self, chain: tuple[str, ...]) -> Filter:
        """The base rows that have a related row at the end of the INNER-joined ``chain``.

        A forward hop needs only a non-null key (Django keeps keys pointing at
        existing rows); other hops are key lookups, one command each.
        """
        lookups = KeyLookups(self.connection, self.query)
        condition: Filter = True
        for alias in reversed(chain):
            join = join_of(self.query, alias)
            if (
                condition is True
                and is_forward(join)
                and join_restriction(self.connection, self.query, join) == (True, True)
            ):
                field = join.join_fields[0][0] if join.join_fields else None
                condition = Leaf(
                    path=(join.join_cols[0][0],), lookup="isnull", value=False, field=field
                )
            else:
                condition = lookups.resolve(alias, condition)
        return condition

    def _build(self, node: Any, top: bool = False) -> Item:
        if isinstance(node, WhereNode):
            return self._build_node(node, top)
        if isinstance(node, NothingNode):
            return False
        if isinstance(node, Lookup):
            return self._build_lookup(node)
        raise NotSupportedError(
            f"{type(node).__name__} conditions (extra(where=...), raw SQL, subquery "
            "expressions) are not supported on this backend. Express the condition "
            "with filter() lookups on the model's fields."
        )

    def _build_node(self, node: WhereNode, top: bool = False) -> Item:
        if node.connector == XOR:
            raise NotSupportedError(
                "XOR of Q objects is not supported on this backend. Rewrite "
                "a ^ b as (a & ~b) | (~a & b)."
            )
        connector = AND if node.connector == AND else OR
        # Children of a top-level AND are top-level too (chained filter() calls).
        nested_top = top and connector == AND and not node.negated
        items = []
        self._negations += node.negated
        try:
            for child in node.children:
                item = self._build(child, nested_top)
                items.append(item)
                if item is (connector == OR):
                    break  # decided: later children (and their subqueries) need not run
        finally:
            self._negations -= node.negated
        return self._combine(connector, items, node.negated, top)

    def _combine(
        self,
        connector: str,
        items: list[Item],
        negated: bool,
        top: bool = False,
        on_base: bool = True,
    ) -> Item:
        """AND/OR of ``items``: constants folded, conditions on one join alias merged.

        Items on the same first alias become one key lookup (the same related
        row must satisfy them all, as with a JOIN). When every item is on one
        single-valued alias, the whole node stays on that alias so an enclosing
        node can merge it further.
        """
        items = self._fold(connector, items)
        if isinstance(items, bool):
            return self._negate(items, negated)
        plain: list[Item] = []
        groups: dict[str, list[Item]] = {}
        for item in items:
            if isinstance(item, Related):
                inner = Related(item.path[1:], item.condition) if len(item.path) > 1 else None
                groups.setdefault(item.path[0], []).append(inner or item.condition)
            else:
                plain.append(item)
        merged = [
            Related(
                (alias,),
                members[0]
                if len(members) == 1
                else self._combine(connector, members, False, on_base=False),
            )
            for alias, members in groups.items()
        ]
        if top and connector == AND and not negated and (plain or len(merged) > 1):
            children = self._fold(AND, plain + [self._resolve_top(item) for item in merged])
            if isinstance(children, bool):
                return children
            return children[0] if len(children) == 1 else Node(AND, children)
        if not plain and len(merged) == 1:
            only = merged[0]
            if not negated:
                return only
            if is_single_valued(join_of(self.query, only.path[0])):
                return Related(only.path, self._negated(only.condition))
        if on_base:
            self.unrepeated += [
                alias
                for item in merged
                for alias in self._aliases(item)
                if not is_single_valued(join_of(self.query, alias))
            ]
        children = self._fold(connector, plain + [self._resolve(item) for item in merged])
        if isinstance(children, bool):
            return self._negate(children, negated)
        if len(children) == 1 and not negated:
            return children[0]
        return Node(connector=connector, children=children, negated=negated)

    @staticmethod
    def _fold(connector: str, items: list[Item]) -> list[Item] | bool:
        """Drop neutral constants; an absorbing constant decides the node."""
        absorbing = connector == OR
        kept = []
        for item in items:
            if item is absorbing:
                return absorbing
            if item is not (not absorbing):
                kept.append(item)
        # Every child was neutral: AND() is True, OR() is False.
        return kept or (not absorbing)

    def _negated(self, item: Item) -> Item:
        if isinstance(item, bool):
            return not item
        if isinstance(item, Related):
            return Related(item.path, self._negated(item.condition))
        if isinstance(item, Node):
            return Node(item.connector, item.children, not item.negated)
        return Node(AND, [item], negated=True)

    def _resolve_top(self, item: Related) -> Filter:
        """A related condition ANDed at the top of the WHERE: also records what a JOIN would.

        The condition on the alias is kept for selections of that alias, and
        how many related rows matched per key (a JOIN's row multiplicity).
        """
        lookups = KeyLookups(self.connection, self.query)
        condition, weights, column = self._resolve_weighted(item.condition, lookups)
        (alias,) = item.path
        self.alias_conditions[alias] = condition
        keep = self.select_columns.get(alias)
        result, weights, column = lookups.resolve_weighted(alias, condition, weights, column, keep)
        self.kept_rows.update(lookups.kept)
        if weights:
            self.row_weights[alias] = (column, weights)
        return result

    def _resolve_weighted(self, item: Item, lookups: KeyLookups):
        """(condition, matches per key or None, the column the keys are of)."""
        if not isinstance(item, Related):
            return item, None, None
        condition, weights, column = self._resolve_weighted(item.condition, lookups)
        for alias in reversed(item.path):
            condition, weights, column = lookups.resolve_weighted(alias, condition, weights, column)
        return condition, weights, column

    @classmethod
    def _aliases(cls, item: Item) -> list[str]:
        """The join aliases a related condition crosses, outermost first."""
        if not isinstance(item, Related):
            return []
        return [*item.path, *cls._aliases(item.condition)]

    def _resolve(self, item: Item) -> Filter:
        """A related condition as a condition on the scope it hangs from: one command per hop."""
        if not isinstance(item, Related):
            return item
        condition = self._resolve(item.condition)
        lookups = KeyLookups(self.connection, self.query)
        for alias in reversed(item.path):
            condition = lookups.resolve(alias, condition)
        return condition

    @staticmethod
    def _negate(value: bool, negated: bool) -> bool:
        return (not value) if negated else value

    # -- leaves -------------------------------------------------------------
    def _build_lookup(self, lookup: Lookup) -> Item:
        if isinstance(lookup.lhs, ColPairs):
            return self._build_tuple_lookup(lookup)
        if isinstance(lookup.lhs, Exists) or isinstance(
            getattr(lookup.lhs, "expression", None), Exists
        ):
            return self._build_exists(lookup)
        alias, (path, transform, column_field) = (
            self._alias(lookup.lhs),
            self._path(lookup.lhs, lookup),
        )
        leaf = self._build_leaf(lookup, path, transform, column_field)
        return self._on_alias(alias, leaf)

    def _on_alias(self, alias: str, condition: Filter) -> Item:
        if alias == self.base_alias or isinstance(condition, bool):
            return condition
        chain = tuple(chain_to(self.query, self.base_alias, alias))
        if self._negations:
            inner = []
            for hop in chain:
                if join_of(self.query, hop).join_type != INNER:
                    break
                inner.append(hop)
            if inner:
                self.required_chains[tuple(inner)] = None
            if self._negations % 2 and self._unknown_when_missing(chain, condition):
                # SQL: the comparison is UNKNOWN for a row without the related
                # row, and stays UNKNOWN through NOT, so the row is left out.
                # Two-valued, that is "true" under an odd number of negations
                # (the literal the negations make of it is then false), i.e.
                # condition OR no related row.
                exists = self._existence(chain)
                missing = (
                    not exists
                    if isinstance(exists, bool)
                    else Node(connector=AND, children=[exists], negated=True)
                )
                either = self._fold(OR, [self._resolve(Related(chain, condition)), missing])
                if isinstance(either, bool):
                    return either
                return either[0] if len(either) == 1 else Node(connector=OR, children=either)
        return Related(chain, condition)

    def _unknown_when_missing(self, chain: tuple[str, ...], condition: Filter) -> bool:
        """Whether SQL gives UNKNOWN (not FALSE) for base rows without the related row.

        Along single-valued LEFT OUTER joins a missing related row reads as NULLs;
        a comparison with NULL is UNKNOWN, an ``isnull`` test is not (which is
        also why Django's ``IS NOT NULL`` guard on a negated lookup, where it adds
        one, still decides the row: FALSE, so NOT gives TRUE).
        """
        joins = [join_of(self.query, hop) for hop in chain]
        return (
            any(join.join_type == LOUTER for join in joins)
            and all(is_single_valued(join) for join in joins)
            and isinstance(condition, Leaf)
            and condition.lookup != "isnull"
        )

    @staticmethod
    def _alias(lhs: Any) -> str:
        node = lhs
        while not isinstance(node, Col):
            node = getattr(node, "lhs", None)
            if node is None:
                return ""
        return node.alias

    def _build_exists(self, lookup: Lookup) -> Item:
        """``Exists(correlated subquery)`` as a semi-join: outer key IN inner keys.

        Django builds these for ``exclude()`` across multi-valued relations
        (``WHERE NOT EXISTS(... child.parent_id = parent.id)``) and users write
        them with ``OuterRef``. The correlation must be an equality between a
        column of the subquery's table and one of the outer query.
        """
        exists = lookup.lhs
        negated = not isinstance(exists, Exists) or getattr(exists, "negated", False)
        exists = exists if isinstance(exists, Exists) else exists.expression
        if lookup.lookup_name != "exact" or not isinstance(lookup.rhs, bool):
            raise NotSupportedError("Exists() can only be filtered on as a condition.")
        inner = exists.query
        correlations = []
        children = []
        for child in inner.where.children:
            rhs = getattr(child, "rhs", None)
            if (
                isinstance(child, Lookup)
                and child.lookup_name == "exact"
                and isinstance(rhs, Col)
                and isinstance(child.lhs, Col)
                and (rhs.alias not in inner.alias_map or rhs.alias in inner.external_aliases)
            ):
                correlations.append((child.lhs, rhs))
            else:
                children.append(child)
        if inner.where.connector != AND or inner.where.negated or len(correlations) != 1:
            raise NotSupportedError(
                "Exists() subqueries must be correlated by one equality with the outer "
                "query (field=OuterRef('...')) on this backend; use __in=queryset instead."
            )
        inner_col, outer_col = correlations[0]
        # trim_start() leaves the trimmed joins in alias_map, unreferenced.
        inner_base = next(
            (
                a
                for a, j in inner.alias_map.items()
                if not isinstance(j, Join) and inner.alias_refcount[a]
            ),
            None,
        )
        if inner_col.alias != inner_base:
            raise NotSupportedError(
                "Exists() correlated through a joined table is not supported on this "
                "backend; correlate on a field of the subquery's model."
            )
        builder = WhereBuilder(self.connection, inner_base, self.resolve_subquery, inner)
        condition = builder.build(WhereNode(children, connector=AND))
        opts = inner_col.target.model._meta.concrete_model._meta
        keys = KeyLookups(self.connection, inner).keys(
            opts.db_table, opts.pk.column, inner_col.target.column, condition
        )
        outer = (
            Leaf(path=(outer_col.target.column,), lookup="in", value=keys, field=outer_col.target)
            if keys
            else False
        )
        matches = lookup.rhs != negated
        result = outer if matches else self._negated(outer)
        return self._on_alias(outer_col.alias, result)

    def _build_leaf(self, lookup: Lookup, path, transform, column_field) -> Filter:
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
        if isinstance(lookup.rhs, Query) and self._unknown_by_null(name, value):
            # A NULL among a queryset's values: "x IN (...)" is UNKNOWN (not FALSE)
            # for every row it does not match, and "x = (NULL or no row)" for every
            # row. Two-valued that is FALSE for the rows left unmatched, and TRUE
            # under an odd number of negations, where NOT must not match them.
            if self._negations % 2:
                return True
            if name == "exact":
                return False
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

    @staticmethod
    def _unknown_by_null(name: str, value: Any) -> bool:
        """Whether a queryset's value makes the comparison UNKNOWN where it does not match."""
        return value is None if name == "exact" else any(v is None for v in value)

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
            if col.alias != self.base_alias:
                raise NotSupportedError(
                    "Multi-column lookups across a relation are not supported on this "
                    "backend; filter on each related field."
                )
        name = lookup.lookup_name
        if name == "isnull":
            # (a, b) IS NULL: any column NULL; IS NOT NULL: every column set.
            if not isinstance(lookup.rhs, bool):
                raise ValueError("The QuerySet value for an isnull lookup must be True or False.")
            leaves = [
                Leaf(path=(col.target.column,), lookup="isnull", value=lookup.rhs, field=col.target)
                for col in cols
            ]
            return leaves[0] if len(leaves) == 1 else Node(OR if lookup.rhs else AND, leaves)
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
            return self._subquery_values(rhs, lookup, field)
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
        """
        prepare = self._preparer(lookup)
        convert = self._converter(lookup, field)
        values = [
            None if value is None else convert(prepare(value))
            for value in self._queryset_values(query, lookup)
        ]
        if lookup.lookup_name == "exact":
            if len(values) > 1:
                raise NotSupportedError(
                    "An exact lookup against a queryset returning more than one row."
                )
            return values[0] if values else None
        return values

    @staticmethod
    def _preparer(lookup: Lookup) -> Callable[[Any], Any]:
        """Django's ``get_prep_lookup`` for one literal value of ``lookup``."""
        output_field = getattr(lookup.lhs, "output_field", None)
        if not lookup.prepare_rhs or not hasattr(output_field, "get_prep_value"):
            return lambda value: value
        return output_field.get_prep_value

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
