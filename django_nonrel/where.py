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
from dataclasses import dataclass, field
from typing import Any

from django.db import NotSupportedError
from django.db.models.expressions import Exists
from django.db.models.lookups import Lookup
from django.db.models.sql.constants import INNER, LOUTER
from django.db.models.sql.query import Query
from django.db.models.sql.where import AND, OR, XOR, NothingNode, WhereNode

from django_nonrel.column_tuples import is_multi_column
from django_nonrel.leaves import LeafBuilder, column_alias, combine, fold
from django_nonrel.native import NativeCondition, native_leaf
from django_nonrel.query import Filter, Leaf, Node
from django_nonrel.relations import (
    KeyLookups,
    chain_to,
    is_forward,
    is_single_valued,
    join_of,
    join_restriction,
    key_present,
)
from django_nonrel.sql_restrictions import as_lookups, is_sql_only, model_of_table
from django_nonrel.subqueries import base_alias, outer_references, semi_join


@dataclass(frozen=True)
class Related:
    """``condition`` on the rows of the joined aliases ``path`` (outermost first)."""

    path: tuple[str, ...]
    condition: Any  # Filter, or a Related relative to path[-1]


Item = Filter | Related
#: (base column, {key: how many related rows matched}) of one joined alias.
Weight = tuple[str, dict[Any, int]]


def _negated_children(node: WhereNode) -> WhereNode:
    """``NOT (a OR b ...)`` as ``NOT a AND NOT b ...``."""
    children = []
    for child in node.children:
        if isinstance(child, WhereNode):
            negated = child.create(child.children, child.connector, not child.negated)
        else:
            negated = WhereNode([child], connector=AND, negated=True)
        children.append(negated)
    return WhereNode(children, connector=AND)


@dataclass(frozen=True)
class BuiltFilter:
    """A translated WHERE: the filter the store runs, and what the JOINs it
    replaced would also have done (the read plan takes these over)."""

    #: The filter on the base table, related conditions already resolved to keys.
    condition: Filter
    #: Conditions an AND at the top put on a joined alias: values() and
    #: select of that alias see only the related rows the filter kept.
    alias_conditions: dict[str, Filter] = field(default_factory=dict)
    #: Per top-level multi-valued alias: (base column, {key: matching related
    #: rows}). A JOIN repeats a row once per related row that matched; a read
    #: repeats rows by these counts unless the query is distinct.
    row_weights: dict[str, Weight] = field(default_factory=dict)
    #: alias -> (columns read, rows) kept by key lookups on aliases the read
    #: selects (``keep_columns``), so the selection needs no second command.
    kept_rows: dict[str, tuple[list[str], list[dict[str, Any]]]] = field(default_factory=dict)
    #: Multi-valued aliases whose condition sits inside OR or NOT: a JOIN would
    #: repeat rows there by a count this layer does not compute (a read of such
    #: rows is refused unless the query is distinct()).
    unrepeated: tuple[str, ...] = ()


class WhereBuilder:
    """Translate one query's WHERE tree for one connection (one ``build`` per builder).

    ``base_alias`` is the alias of the queried table; a column from any other
    alias means Django added a JOIN. ``resolve_subquery`` runs a subquery used
    as a value (``pk__in=Other.objects.values("x")``) and returns its values.
    ``keep_columns`` names, per alias joined to the base that a read selects,
    the columns it reads there: a key lookup on such an alias keeps its rows.
    """

    def __init__(
        self,
        connection,
        base_alias: str,
        resolve_subquery: Callable[[Query], list[Any]],
        query: Query | None = None,
        keep_columns: dict[str, list[str]] | None = None,
    ) -> None:
        self.connection = connection
        self.base_alias = base_alias
        self.resolve_subquery = resolve_subquery
        self.query = query
        self.leaves = LeafBuilder(connection, base_alias, resolve_subquery)
        self.keep_columns = keep_columns or {}
        # What the build finds besides the filter (see BuiltFilter).
        self._alias_conditions: dict[str, Filter] = {}
        self._row_weights: dict[str, Weight] = {}
        self._kept_rows: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}
        #: The key lookups' reads, shared by every condition of this build.
        self._key_reads: dict[tuple, list] = {}
        self._unrepeated: list[str] = []
        #: INNER-joined chains whose conditions sit under a negation: a row
        #: without the related row is not in a JOIN's result at all, whatever
        #: the negations make of the condition.
        self._required_chains: dict[tuple[str, ...], None] = {}
        self._negations = 0

    # -- tree ---------------------------------------------------------------
    def build(self, node: Any) -> BuiltFilter:
        """The filter of ``node`` on the base table, and what its JOINs would have done."""
        return BuiltFilter(
            condition=self._condition(node),
            alias_conditions=self._alias_conditions,
            row_weights=self._row_weights,
            kept_rows=self._kept_rows,
            unrepeated=tuple(self._unrepeated),
        )

    def _condition(self, node: Any) -> Filter:
        item = self._build(node, top=True)
        if isinstance(item, Related):
            item = self._resolve_top(item)
        if not self._required_chains or item is False:
            return item
        required = [self._existence(chain) for chain in self._required_chains]
        children = fold(AND, [item, *required])
        if isinstance(children, bool):
            return children
        return children[0] if len(children) == 1 else Node(AND, children)

    def _existence(self, chain: tuple[str, ...]) -> Filter:
        """The base rows that have a related row at the end of the INNER-joined ``chain``.

        A forward hop needs only a non-null key (Django keeps keys pointing at
        existing rows); other hops are key lookups, one command each.
        """
        lookups = KeyLookups(self.connection, self.query, self._key_reads)
        condition: Filter = True
        for alias in reversed(chain):
            join = join_of(self.query, alias)
            if (
                condition is True
                and is_forward(join)
                and join_restriction(self.connection, join) == (True, True)
            ):
                condition = key_present(join)
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
        if is_sql_only(node):
            # A relation's SQL-only join restriction, moved here when exclude()
            # trims the join (Query.trim_start()).
            readable = as_lookups(node, self.connection, self._model_of_alias)
            if readable is not node:
                return self._build(readable, top)
        raise NotSupportedError(
            f"{type(node).__name__} conditions (extra(where=...), raw SQL, subquery "
            "expressions) are not supported on this backend. Express the condition "
            "with filter() lookups on the model's fields."
        )

    def _model_of_alias(self, alias: str) -> Any:
        table = self.query.alias_map.get(alias)
        return None if table is None else model_of_table(table.table_name)

    def _build_node(self, node: WhereNode, top: bool = False) -> Item:
        if node.connector == XOR:
            # needs_python() sends XOR to the evaluator; a store filter has no XOR.
            raise NotSupportedError("XOR of Q objects cannot be part of a store's filter.")
        connector = AND if node.connector == AND else OR
        if top and node.negated and len(node.children) == 1:
            (child,) = node.children
            if isinstance(child, WhereNode):
                # NOT (x) where x is a node: the negation belongs to x.
                flipped = child.create(child.children, child.connector, not child.negated)
                return self._build_node(flipped, top)
        if top and node.negated and connector == OR:
            # De Morgan (it holds in SQL's three-valued logic too): NOT (a OR b) at
            # the top is NOT a AND NOT b, whose conditions on a join the query has
            # merge with its other conditions on that join (exclude(Q(rel...) | ...)
            # after a related manager's filter: the same joined row).
            return self._build_node(_negated_children(node), top)
        # Children of a top-level AND are top-level too (chained filter() calls).
        nested_top = top and connector == AND and not node.negated
        items = []
        required_before = set(self._required_chains)
        self._negations += node.negated
        try:
            for child in node.children:
                item = self._build(child, nested_top)
                items.append(item)
                if item is (connector == OR):
                    break  # decided: later children (and their subqueries) need not run
        finally:
            self._negations -= node.negated
        result = self._combine(connector, items, node.negated, top)
        if node.negated and isinstance(result, Related):
            # The negation went inside the related condition: that condition needs
            # the joined rows itself, so the chains its leaves required (one read
            # of every related key each) are implied.
            crossed = tuple(self._aliases(result))
            for chain in [c for c in self._required_chains if c not in required_before]:
                if crossed[: len(chain)] == chain:
                    del self._required_chains[chain]
        return result

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
        items = fold(connector, items)
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
            children = fold(AND, plain + [self._resolve_top(item) for item in merged])
            if isinstance(children, bool):
                return children
            return children[0] if len(children) == 1 else Node(AND, children)
        if negated and merged and all(self._per_joined_row(item) for item in merged):
            # The negation applies per joined row: one related row, or the rows of
            # an INNER join the outer query has for another reason (exclude()
            # reusing a many-to-many manager's join: Django correlates its NOT
            # EXISTS to that join's rows). De Morgan takes it to the items.
            flipped = [self._negated(item) for item in plain]
            flipped += [Related(item.path, self._negated(item.condition)) for item in merged]
            return self._combine(OR if connector == AND else AND, flipped, False, top, on_base)
        if not plain and len(merged) == 1 and not negated:
            return merged[0]
        if on_base:
            self._unrepeated += [
                alias
                for item in merged
                for alias in self._aliases(item)
                if not is_single_valued(join_of(self.query, alias))
            ]
        children = fold(connector, plain + [self._resolve(item) for item in merged])
        if isinstance(children, bool):
            return self._negate(children, negated)
        if len(children) == 1 and not negated:
            return children[0]
        return Node(connector=connector, children=children, negated=negated)

    def _per_joined_row(self, item: Related) -> bool:
        """Whether a negation of ``item`` applies to each joined row: a single-valued
        join, or an INNER join (the outer query's rows are the joined rows)."""
        join = join_of(self.query, item.path[0])
        return is_single_valued(join) or join.join_type == INNER

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
        lookups = KeyLookups(self.connection, self.query, self._key_reads)
        condition, weights, column = self._resolve_weighted(item.condition, lookups)
        (alias,) = item.path
        self._alias_conditions[alias] = condition
        keep = self.keep_columns.get(alias)
        result, weights, column = lookups.resolve_weighted(alias, condition, weights, column, keep)
        self._kept_rows.update(lookups.kept)
        if weights:
            self._row_weights[alias] = (column, weights)
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
        lookups = KeyLookups(self.connection, self.query, self._key_reads)
        for alias in reversed(item.path):
            condition = lookups.resolve(alias, condition)
        return condition

    @staticmethod
    def _negate(value: bool, negated: bool) -> bool:
        return (not value) if negated else value

    # -- leaves -------------------------------------------------------------
    def _build_lookup(self, lookup: Lookup) -> Item:
        if isinstance(lookup.lhs, NativeCondition):
            return native_leaf(lookup)  # on the queried table, as the store runs it
        if isinstance(lookup.lhs, Exists) or isinstance(
            getattr(lookup.lhs, "expression", None), Exists
        ):
            return self._build_exists(lookup)
        negated = bool(self._negations % 2)
        if is_multi_column(lookup):
            # Each column's lookup goes to its own alias, as any other lookup.
            return self._build(self.leaves.expand_columns(lookup, negated))
        leaf = self.leaves.build(lookup, negated=negated)
        return self._on_alias(column_alias(lookup.lhs), leaf)

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
                self._required_chains[tuple(inner)] = None
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
                either = fold(OR, [self._resolve(Related(chain, condition)), missing])
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

    def _build_exists(self, lookup: Lookup) -> Item:
        """``Exists(correlated subquery)`` as a semi-join: outer key IN inner keys.

        Django builds these for ``exclude()`` across multi-valued relations
        (``WHERE NOT EXISTS(... child.parent_id = parent.id)``) and users write
        them with ``OuterRef``. Here the correlation is equalities between
        columns of the subquery's table and columns of one outer alias
        (``subqueries.semi_join``; other shapes are evaluated in Python): one
        command reads the inner rows' key values. An uncorrelated subquery is
        run once and decides the condition.
        """
        exists = lookup.lhs
        negated = not isinstance(exists, Exists) or getattr(exists, "negated", False)
        exists = exists if isinstance(exists, Exists) else exists.expression
        if lookup.lookup_name != "exact" or not isinstance(lookup.rhs, bool):
            raise NotSupportedError("Exists() can only be filtered on as a condition.")
        inner = exists.query
        matches = lookup.rhs != negated
        if not outer_references(inner):
            return inner.has_results(using=self.connection.alias) == matches
        found, children = semi_join(inner)
        inner_base = base_alias(inner)
        builder = WhereBuilder(self.connection, inner_base, self.resolve_subquery, inner)
        built = builder.build(WhereNode(children, connector=AND))
        condition = built.condition
        opts = found[0].inner.target.model._meta.concrete_model._meta
        lookups = KeyLookups(self.connection, inner, self._key_reads)
        if len(found) == 1:
            (correlation,) = found
            if built.unrepeated:
                # A multi-valued relation under OR/NOT: a key lookup would be a first
                # cut only (different related rows satisfying different branches).
                keys = self._keys_on_joined_rows(inner, children, correlation.inner)
            else:
                keys = lookups.keys(
                    opts.db_table, opts.pk.column, correlation.inner.target.column, condition
                )
            outer = (
                Leaf(
                    path=(correlation.outer.target.column,),
                    lookup="in",
                    value=keys,
                    field=correlation.outer.target,
                )
                if keys
                else False
            )
        else:
            tuples = lookups.key_tuples(
                opts.db_table, opts.pk.column, [c.inner.target.column for c in found], condition
            )
            outer = combine(
                OR,
                [
                    Node(
                        AND,
                        [
                            Leaf((c.outer.target.column,), "exact", value, field=c.outer.target)
                            for c, value in zip(found, values, strict=True)
                        ],
                    )
                    for values in tuples
                ],
            )
        result = outer if matches else self._negated(outer)
        return self._on_alias(found[0].outer.alias, result)

    def _keys_on_joined_rows(self, inner: Query, children: list[Any], column: Any) -> list[Any]:
        """The distinct ``column`` values of the inner rows matching ``children``, read
        as a queryset is (its conditions evaluated on the joined rows)."""
        keys = inner.clone()
        keys.where = WhereNode(children, connector=AND)
        keys.clear_limits()
        keys.clear_ordering(force=True)
        keys.select = (column,)
        keys.default_cols = False
        return list(dict.fromkeys(self.resolve_subquery(keys)))
