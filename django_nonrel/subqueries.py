"""Subqueries evaluated for the rows of an outer query: ``Subquery``, ``Exists``, ``OuterRef``.

SQL runs a correlated subquery once per outer row; a document store runs no
subquery at all. A subquery here is an ordinary query of this backend, run
with the outer row's values bound where the subquery reads ``OuterRef``:

- **batched** (the usual shape: the outer references are equalities ANDed at
  the top of the subquery's filter, ``filter(book=OuterRef("pk"))``, on a
  column of the subquery's own model): one query for all outer rows, the
  correlation becoming ``column IN (the outer rows' values)``; its rows are
  grouped by the correlation columns in Python, and the subquery's slice
  (``[:1]``) and grouping apply per group, as they would per outer row;
- **per binding** (any other shape: references inside expressions, OR, joins
  of the subquery, aggregates grouped by something else): one query per
  distinct combination of the outer values the subquery reads.

The outer values are read like every value Python evaluates (converted by
their field), so they go into the subquery as literals (``Value``) and its
filter runs on the server as usual. ``semi_join`` says when an ``Exists()``
in a filter needs no evaluation at all: it becomes "outer key IN inner keys"
(``django_nonrel.where``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models.expressions import Col, Exists, Value
from django.db.models.lookups import Exact, In, Lookup
from django.db.models.sql.datastructures import Join
from django.db.models.sql.query import Query
from django.db.models.sql.where import AND, WhereNode

from django_nonrel.folded_aggregates import folded_aggregate
from django_nonrel.paths import hashable

#: A function of an outer row (``{alias: document}``) giving a value.
Reader = Callable[[dict[str, Any]], Any]

#: What a subquery gives an outer row: its first value (``Subquery``), whether it
#: has rows (``Exists``), or its values (the right side of ``__in``).
SCALAR, EXISTS, VALUES = "scalar", "exists", "values"

#: Annotation names the batched query selects the correlation columns under.
KEY_PREFIX = "__nonrel_outer_key"


def subquery_of(expr: Any) -> Query | None:
    """The query of a subquery expression (``Subquery``/``Exists``, or, as Django 6.1
    resolves ``Subquery(queryset)``, the ``Query`` itself); None otherwise."""
    if isinstance(expr, Query):
        return expr
    query = getattr(expr, "query", None)
    return query if isinstance(query, Query) and getattr(expr, "subquery", False) else None


def outer_references(query: Query) -> list[Col]:
    """The columns of enclosing queries ``query`` reads (``OuterRef``), each once
    (those of the querysets a ``union()`` combines too)."""
    unique: dict[tuple[str, Any], Col] = {}
    for col in query.get_external_cols():
        unique.setdefault((col.alias, col.target), col)
    for combined in query.combined_queries:
        for col in outer_references(combined):
            unique.setdefault((col.alias, col.target), col)
    # Django's get_external_cols() reads a nested subquery's first combined
    # queryset only: the others' references to this query's outer ones too.
    for nested in _nested_queries([*query.annotations.values(), query.where]):
        for combined in nested.combined_queries:
            for col in outer_references(combined):
                if col.alias in query.external_aliases:
                    unique.setdefault((col.alias, col.target), col)
    return list(unique.values())


def _nested_queries(nodes: Iterable[Any]) -> Iterable[Query]:
    """The queries used as expressions inside ``nodes`` (not inside those)."""
    for node in nodes:
        if isinstance(node, Query):
            yield node
        elif isinstance(node, WhereNode):
            yield from _nested_queries(node.children)
        elif hasattr(node, "get_source_expressions"):
            yield from _nested_queries(s for s in node.get_source_expressions() if s is not None)


def base_alias(query: Query) -> str | None:
    """The alias of a query's own table (trim_start() leaves unreferenced joins behind)."""
    return next(
        (
            alias
            for alias, join in query.alias_map.items()
            if not isinstance(join, Join) and query.alias_refcount[alias]
        ),
        None,
    )


def on_own_table(query: Query) -> Query:
    """``query`` as a query of the model its rows come from.

    ``trim_start()`` (Django's ``exclude()`` across a multi-valued relation)
    starts a subquery at a joined table, a many-to-many's through table say,
    while its model stays the outer one; run as it is, it would read the
    outer model's table.
    """
    alias = base_alias(query)
    table = query.alias_map[alias].table_name if alias is not None else None
    if table is None or table == query.get_meta().db_table:
        return query
    clone = query.clone()
    clone.model = next(
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.db_table == table
    )
    return clone


@dataclass(frozen=True)
class Correlation:
    """``inner = outer`` ANDed at the top of a subquery's filter."""

    inner: Col
    outer: Col


def correlations(query: Query) -> tuple[list[Correlation], list[Any]] | None:
    """(the ``inner = OuterRef`` equalities, the other top-level conditions) of a
    subquery whose only outer references are such equalities on its own table's
    columns; None for any other shape (a ``union()`` of querysets among them)."""
    where = query.where
    if query.combinator or where.connector != AND or where.negated:
        return None
    own = base_alias(query)
    found, others = [], []
    for child in where.children:
        rhs = getattr(child, "rhs", None)
        if (
            isinstance(child, Exact)
            and isinstance(child.lhs, Col)
            and child.lhs.alias == own
            and isinstance(rhs, Col)
            and rhs.alias in query.external_aliases
        ):
            found.append(Correlation(child.lhs, rhs))
        else:
            others.append(child)
    references = [(col.alias, col.target) for col in query.get_external_cols()]
    if (
        not found
        or len(references) != len(found)
        or len(outer_references(query)) > len(set(references))
    ):
        # an outer reference elsewhere: in an expression, under OR, nested (in
        # a combined queryset too)
        return None
    return found, others


def semi_join(query: Query) -> tuple[list[Correlation], list[Any]] | None:
    """The correlations of an ``Exists()`` the filter can run as outer key IN inner keys:
    equalities on the subquery's own columns, all to columns of one outer alias."""
    found = correlations(query)
    if found is None or len({c.outer.alias for c in found[0]}) != 1:
        return None
    return found


def bind(node: Any, values: dict[tuple[str, Any], Value]) -> Any:
    """``node`` with the outer columns in ``values`` replaced by those literals."""
    if isinstance(node, Col):
        return values.get((node.alias, node.target), node)
    if isinstance(node, Query):
        return _bind_query(node, values)
    if isinstance(node, WhereNode):
        clone = node.create(connector=node.connector, negated=node.negated)
        clone.children = [bind(child, values) for child in node.children]
        return clone
    if not hasattr(node, "get_source_expressions"):
        return node
    sources = node.get_source_expressions()
    if not sources:
        return node
    clone = node.copy()
    clone.set_source_expressions([None if s is None else bind(s, values) for s in sources])
    if isinstance(clone, In) and isinstance(clone.rhs, Value) and clone.rhs is not node.rhs:
        # ``field__in=OuterRef("pk")``: SQL's ``IN (outer.pk)``, a list of one value.
        value = clone.rhs.value
        clone.rhs = value if isinstance(value, (list, tuple)) else [value]
    return clone


def _bind_query(query: Query, values: dict[tuple[str, Any], Value]) -> Query:
    clone = query.clone()
    clone.where = bind(clone.where, values)
    clone.annotations = {name: bind(expr, values) for name, expr in clone.annotations.items()}
    clone.select = tuple(bind(expr, values) for expr in clone.select)
    clone.order_by = tuple(
        bind(item, values) if hasattr(item, "resolve_expression") else item
        for item in clone.order_by
    )
    if isinstance(clone.group_by, tuple):
        clone.group_by = tuple(bind(expr, values) for expr in clone.group_by)
    clone.combined_queries = tuple(_bind_query(q, values) for q in clone.combined_queries)
    return clone


class CorrelatedSubquery:
    """The value of one subquery per outer row, computed once per distinct binding.

    ``references`` are the outer columns the subquery reads, each with the
    function reading it from an outer row. Call it on an outer row; give it
    all the rows first (``prepare``) and a batchable subquery runs once.
    """

    def __init__(
        self,
        connection,
        query: Query,
        kind: str,
        references: list[tuple[Col, Reader]],
        key_limit: int | None,
    ) -> None:
        self.connection = connection
        query = on_own_table(query)
        #: How an SQL aggregate written as a Func folds the values read (or None).
        self.fold = None
        folded = folded_aggregate(query) if kind == SCALAR else None
        if folded is not None:
            query, self.fold = folded
        self.query = query
        self.kind = kind
        self.references = references
        self.key_limit = key_limit
        self.batch = _batchable(query, [col for col, _ in references])
        self.cache: dict[tuple, Any] = {}

    def __call__(self, row: dict[str, Any]) -> Any:
        values = tuple(read(row) for _, read in self.references)
        key = tuple(hashable(value) for value in values)
        if key not in self.cache:
            self._run([values])
        return self.cache[key]

    def prepare(self, rows: Iterable[dict[str, Any]]) -> None:
        """Compute the values of every binding ``rows`` need that is not known yet."""
        pending: dict[tuple, tuple] = {}
        for row in rows:
            values = tuple(read(row) for _, read in self.references)
            key = tuple(hashable(value) for value in values)
            if key not in self.cache:
                pending.setdefault(key, values)
        if pending:
            self._run(list(pending.values()))

    # -- running ---------------------------------------------------------------
    def _run(self, bindings: list[tuple]) -> None:
        if self.batch is None:
            for values in bindings:
                self._run_bound(values)
            return
        step = self.key_limit or len(bindings)
        for offset in range(0, len(bindings), step):
            self._run_batched(bindings[offset : offset + step])

    def _run_bound(self, values: tuple) -> None:
        literals = {
            (col.alias, col.target): Value(value, output_field=col.output_field)
            for (col, _), value in zip(self.references, values, strict=True)
        }
        rows = _read(self.connection, _selecting(bind(self.query, literals), self.kind), ())
        self.cache[tuple(hashable(v) for v in values)] = self._value([v for _, v in rows])

    def _run_batched(self, bindings: list[tuple]) -> None:
        """One query for ``bindings``: the correlations as ``IN``, rows grouped by them."""
        found, others = self.batch
        position = {(col.alias, col.target): i for i, (col, _) in enumerate(self.references)}
        query = self.query.clone()
        low, high = query.low_mark, query.high_mark
        query.clear_limits()
        query.where = WhereNode(list(others), connector=AND)
        names = []
        for index, correlation in enumerate(found):
            outer = position[(correlation.outer.alias, correlation.outer.target)]
            wanted = list({hashable(v[outer]): v[outer] for v in bindings}.values())
            query.where.add(In(correlation.inner, [v for v in wanted if v is not None]), AND)
            name = f"{KEY_PREFIX}{index}"
            query.add_annotation(correlation.inner, name)
            names.append((name, outer))
        groups: dict[tuple, list[Any]] = {}
        for keys, value in _read(self.connection, _selecting(query, self.kind), names):
            groups.setdefault(keys, []).append(value)
        for values in bindings:
            keys = tuple(hashable(values[outer]) for _, outer in names)
            group = groups.get(keys, [])[low:high]
            self.cache[tuple(hashable(v) for v in values)] = self._value(group)

    def _value(self, values: list[Any]) -> Any:
        if self.kind == EXISTS:
            return bool(values)
        if self.kind == VALUES:
            return values
        if self.fold is not None:
            return self.fold(values)
        return values[0] if values else None


def _batchable(query: Query, references: list[Col]) -> tuple[list[Correlation], list] | None:
    """The correlations to run ``query`` batched by, or None (one run per binding).

    The subquery's grouping must keep outer rows apart: no grouping, one group
    per row, or a grouping by every correlation column.
    """
    if query.distinct_fields:
        return None
    found = correlations(query)
    if found is None:
        return None
    group_by = query.group_by
    if isinstance(group_by, tuple) and any(c.inner not in group_by for c in found[0]):
        return None
    return found


def _selecting(query: Query, kind: str) -> Query:
    """``query`` selecting one column (its primary key when it selects whole rows)."""
    query = query.clone()
    query.subquery = False
    if kind != EXISTS and not query.select and query.default_cols:
        query.clear_select_fields()
        query.add_fields([query.get_meta().pk.name])
    return query


def _read(connection, query: Query, keys: list[tuple[str, int]]) -> list[tuple[tuple, Any]]:
    """(hashable correlation values, first selected value) per row of ``query``."""
    skip = {name for name, _ in keys}
    rows = []
    for row in query.get_compiler(connection=connection).results_iter():
        annotations = row["annotations"]
        values = [
            value
            for source in (row["result"], annotations)
            for name, value in source.items()
            if name not in skip
        ]
        rows.append(
            (
                tuple(hashable(annotations[name]) for name, _ in keys),
                values[0] if values else None,
            )
        )
    return rows


def is_exists(expr: Any) -> bool:
    """Whether ``expr`` is an ``Exists()`` (its value is whether the subquery has rows)."""
    return isinstance(expr, Exists)


def lookup_subquery(lookup: Lookup) -> Query | None:
    """The uncorrelated subquery on the right of ``lookup`` (``pk__in=Subquery(qs)``), if any."""
    query = subquery_of(lookup.rhs)
    if query is None or outer_references(query):
        return None
    return query
