"""How each aggregate of a query is computed: the plan, before anything is read.

``AggregatePlanner`` turns one Django aggregate expression (``Count("books")``,
``Sum("meta__w", filter=Q(...), default=0)``, ``Avg(F("a") * F("b"))``) into an
``AnnotationPlan``: the ``Aggregate`` spec a store folds, the relation hops to
follow first (``django_nonrel.aggregation.hops``), or a Python function of the
stored row for an aggregate of an expression. ``needs_planning`` says whether a
plain ``aggregate()`` can go to the store's ungrouped aggregation as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from django.apps import apps
from django.db import NotSupportedError
from django.db.models import Avg, Count, Max, Min, StdDev, Sum, Variance
from django.db.models import aggregates as django_aggregates
from django.db.models.aggregates import Aggregate as DjangoAggregate
from django.db.models.expressions import Col, OrderBy, Ref, Star, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import Lookup
from django.db.models.sql.datastructures import Join
from django.db.models.sql.where import NothingNode, WhereNode

from django_nonrel.aggregation.hops import Hop
from django_nonrel.aggregation.sql_aggregates import arguments, is_sql_aggregate, sql_aggregate
from django_nonrel.evaluation_scope import needs_python
from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import ExpressionEvaluator
from django_nonrel.paths import column_path
from django_nonrel.query import Aggregate, Filter, Leaf, Node, OrderKey
from django_nonrel.relations import join_restriction
from django_nonrel.where import WhereBuilder

AGGREGATE_FUNCTIONS = {Count: "count", Sum: "sum", Avg: "avg", Min: "min", Max: "max"}

#: Django 6.1's general aggregates (absent from 5.2), folded in Python from the rows
#: (partials.py): FerretDB v1 and mongomock have no $bitAnd/$bitOr/$bitXor
#: accumulators, and ANY_VALUE and STRING_AGG ignore NULLs where $first/$push do not.
FOLDED_FUNCTIONS = {
    getattr(django_aggregates, name): function
    for name, function in (
        ("BitAnd", "bit_and"),
        ("BitOr", "bit_or"),
        ("BitXor", "bit_xor"),
        ("AnyValue", "any_value"),
        ("StringAgg", "string_agg"),
    )
    if hasattr(django_aggregates, name)
}


def db_value(value: Value, connection) -> Any:
    """A literal ``default=`` as SQL returns it: prepared for the database as
    ``Value.as_sql`` does, so the read's converters turn it back (a DurationField's
    ``timedelta`` default reads back as one)."""
    field = value._output_field_or_none
    if field is None:
        return value.value
    return field.get_db_prep_value(value.value, connection=connection)


def _is_path(source: Any) -> bool:
    """Whether an aggregate's source is a column or a path into one (the store aggregates it)."""
    try:
        column_path(source, lambda node: LookupError())
    except LookupError:
        return False
    return True


def is_grouped(query) -> bool:
    """Whether a read must group: ``group_by`` is set and an annotation aggregates."""
    return query.group_by is not None and any(
        getattr(expr, "contains_aggregate", False) for expr in query.annotations.values()
    )


@dataclass
class AnnotationPlan:
    """How one aggregate annotation is computed."""

    alias: str
    expr: Any
    spec: Aggregate
    default: Any = None
    hops: tuple[Hop, ...] = ()
    #: For an aggregate of an expression (``Sum(F("a") * F("b"))``, ``Count(Case(...))``):
    #: the expression and its ``filter=`` as functions of a stored row, evaluated in
    #: Python (django_nonrel.expressions); None for aggregates the store computes.
    compute: Any = None
    condition: Any = None


def _table_models() -> dict[str, Any]:
    return {m._meta.db_table: m for m in apps.get_models(include_auto_created=True)}


class AggregatePlanner:
    """Turns Django aggregate expressions of one query into ``AnnotationPlan`` objects."""

    def __init__(self, compiler) -> None:
        self.compiler = compiler
        self.query = compiler.query
        self.connection = compiler.connection
        self.base_alias = compiler.base_alias
        #: Compiles aggregates of expressions; its ``columns`` are what they read.
        self.evaluator = ExpressionEvaluator(compiler.connection, compiler.base_alias)

    def plan(self, alias: str, expr: Any) -> AnnotationPlan:
        aggregate, default = expr, None
        if isinstance(expr, Coalesce):
            first, *rest = expr.get_source_expressions()
            if isinstance(first, DjangoAggregate) and len(rest) == 1:
                if not isinstance(rest[0], Value):
                    raise unsupported(
                        f"The aggregate {alias!r} with a non-literal default",
                        "Use a literal default=.",
                    )
                aggregate, default = first, db_value(rest[0], self.connection)
        function = next(
            (name for cls, name in AGGREGATE_FUNCTIONS.items() if type(aggregate) is cls), None
        )
        if type(aggregate) in (StdDev, Variance):
            # No accumulator every server has (FerretDB v1 lacks $stdDevPop): folded here.
            source = aggregate.get_source_expressions()[0]
            spread = aggregate.function.lower()
            return self._computed(alias, expr, aggregate, spread, source, default)
        order: tuple[OrderKey, ...] | None = ()
        if type(aggregate) in FOLDED_FUNCTIONS:
            function = FOLDED_FUNCTIONS[type(aggregate)]
            source = aggregate.get_source_expressions()[0]
            order = self._related_order(aggregate, source)
            if order is None:  # over the model's own rows
                return self._computed(alias, expr, aggregate, function, source, default)
        if function is None and is_sql_aggregate(aggregate):
            return self._sql_computed(alias, expr, aggregate, default)
        if function is None:
            raise unsupported(
                f"The annotation {alias!r} ({type(aggregate).__name__})",
                "Use Count, Sum, Avg, Min or Max over a field (optionally with default=), "
                "and compute other values in Python.",
            )
        source = aggregate.get_source_expressions()[0]
        while isinstance(source, Ref):
            source = source.source
        if self._filters_in_python(aggregate):
            return self._computed(alias, expr, aggregate, function, source, default)
        if isinstance(source, Star) or (isinstance(source, Value) and function == "count"):
            column_alias, path = self.base_alias, None
        elif not _is_path(source):
            return self._computed(alias, expr, aggregate, function, source, default)
        else:
            column_alias, path = self._path(alias, source)
        hops = self._hops(alias, column_alias)
        try:
            condition = self._filter(alias, aggregate, column_alias)
        except NotSupportedError:
            # A filter= the related table's own filter cannot say (it reads tables the
            # aggregate's rows do not reach, friends__book__publisher__name beside
            # Sum("friends__book__pages")): evaluated on the rows joined by key.
            return self._computed(alias, expr, aggregate, function, source, default)
        spec = Aggregate(
            alias=alias,
            function=function,
            path=path,
            distinct=bool(aggregate.distinct),
            filter=condition,
            delimiter=string_agg_delimiter(alias, aggregate, function),
            order=order,
        )
        return AnnotationPlan(alias=alias, expr=expr, spec=spec, default=default, hops=hops)

    def _filters_in_python(self, aggregate: Any) -> bool:
        """Whether the aggregate's filter= has a condition only Python evaluates."""
        condition = getattr(aggregate, "filter", None)
        condition = getattr(condition, "condition", condition)
        if not condition:
            return False
        features = self.connection.features
        return needs_python(condition, features.supports_date_part_expressions) or _expressions_in(
            condition
        )

    def _computed(self, alias, expr, aggregate, function, source, default) -> AnnotationPlan:
        """An aggregate of an expression over the model's own fields, folded in Python."""
        if getattr(source, "contains_aggregate", False):
            raise unsupported(f"The aggregate {alias!r} of an aggregate", "Aggregate fields.")
        evaluator = self.evaluator
        if isinstance(source, Star):
            compute = lambda row: True  # noqa: E731 -- Count("*"): every row counts
        else:
            compute = evaluator.compile(source)
        condition = getattr(aggregate, "filter", None)
        condition = getattr(condition, "condition", condition)  # Django 6.1: AggregateFilter
        order, keys = self._order(alias, aggregate)
        compute = with_order_keys(compute, keys)
        spec = Aggregate(
            alias=alias,
            function=function,
            path=("<expression>",),
            distinct=bool(aggregate.distinct),
            delimiter=string_agg_delimiter(alias, aggregate, function),
            order=order,
        )
        return AnnotationPlan(
            alias=alias,
            expr=expr,
            spec=spec,
            default=default,
            compute=compute,
            condition=evaluator.predicate(condition) if condition else None,
        )

    def _sql_computed(self, alias, expr, aggregate, default) -> AnnotationPlan:
        """An aggregate only its SQL defines (``sql_aggregates``): its arguments per row,
        folded by SQLite running that SQL over them."""
        evaluate = sql_aggregate(alias, aggregate)
        compiled = [self.evaluator.compile(source) for source in arguments(aggregate)]
        condition = getattr(aggregate, "filter", None)
        condition = getattr(condition, "condition", condition)  # Django 6.1: AggregateFilter
        spec = Aggregate(alias=alias, function="sql", path=("<expression>",), evaluate=evaluate)
        return AnnotationPlan(
            alias=alias,
            expr=expr,
            spec=spec,
            default=default,
            compute=lambda row: tuple(argument(row) for argument in compiled),
            condition=self.evaluator.predicate(condition) if condition else None,
        )

    def _related_order(self, aggregate: Any, source: Any) -> tuple[OrderKey, ...] | None:
        """For a folded aggregate of a related field (``StringAgg("authors__name")``),
        ordered by fields of the same relation if at all, its order terms: the store
        folds the related rows (``fold_groups``) like Count/Sum over a relation.
        None for anything else (folded from the model's own rows by ``_computed``)."""
        while isinstance(source, Ref):
            source = source.source
        if not _is_path(source) or self._filters_in_python(aggregate):
            return None
        refuse = lambda node: LookupError()  # noqa: E731
        column = column_path(source, refuse)[0].alias
        if column == self.base_alias:
            return None
        order = []
        for expression, key in order_terms(aggregate):
            if not _is_path(expression):
                return None
            col, segments = column_path(expression, refuse)
            if col.alias != column:
                return None
            order.append(replace(key, path=(col.target.column, *segments)))
        return tuple(order)

    def _order(self, alias: str, aggregate: Any) -> tuple[tuple[OrderKey, ...], list[Any]]:
        """An aggregate's ``order_by=`` (Django 6.1): its terms and, per term, the
        function of a row giving the value it orders by."""
        order, keys = [], []
        for expression, key in order_terms(aggregate):
            if getattr(expression, "contains_aggregate", False):
                raise unsupported(
                    f"The aggregate {alias!r} ordered by an aggregate", "Order by fields."
                )
            order.append(key)
            keys.append(self.evaluator.compile(expression))
        return tuple(order), keys

    def _path(self, alias: str, source: Any) -> tuple[str, tuple[str | int, ...]]:
        col, segments = column_path(
            source,
            lambda node: unsupported(
                f"The aggregate {alias!r} over {type(node).__name__}",
                "Aggregate over a model field, a path into one, or a related field.",
            ),
        )
        return col.alias, (col.target.column, *segments)

    def _hops(self, alias: str, column_alias: str) -> tuple[Hop, ...]:
        hops: list[Hop] = []
        models = None
        current = column_alias
        while current != self.base_alias:
            join = self.query.alias_map.get(current)
            if not isinstance(join, Join) or len(join.join_cols) != 1:
                raise unsupported(
                    f"The aggregate {alias!r} across this relation",
                    "Aggregate over a foreign key, reverse foreign key or many-to-many relation.",
                )
            models = models or _table_models()
            model = models[join.table_name]
            (parent_column, child_column), *_ = join.join_cols
            hops.append(
                Hop(
                    alias=current,
                    table=join.table_name,
                    pk_column=model._meta.pk.column,
                    parent_column=parent_column,
                    child_column=child_column,
                    condition=self._join_condition(join),
                )
            )
            current = join.parent_alias
        return tuple(reversed(hops))

    def _join_condition(self, join: Join) -> Node | None:
        """The relation's own condition (a generic relation's content type) and a
        FilteredRelation()'s, or None."""
        return _restriction_node(join_restriction(self.connection, join)[0])

    def _filter(self, alias: str, aggregate: Any, column_alias: str) -> Node | None:
        condition = getattr(aggregate, "filter", None)
        # Django 6.1 wraps the condition in AggregateFilter.
        condition = getattr(condition, "condition", condition)
        if not condition:  # None, or an empty Q() that Django leaves unresolved
            return None
        # The query's joins: a condition across relations resolves to keys.
        builder = WhereBuilder(
            self.connection, column_alias, self.compiler.resolve_subquery, self.query
        )
        return _restriction_node(builder.build(condition).condition)


def order_terms(aggregate: Any) -> list[tuple[Any, OrderKey]]:
    """An aggregate's ``order_by=`` terms (Django 6.1): (expression, its OrderKey)."""
    order_by = getattr(aggregate, "order_by", None)
    terms = []
    for term in order_by.get_source_expressions() if order_by else ():
        term = term if isinstance(term, OrderBy) else OrderBy(term)
        nulls_first = True if term.nulls_first else False if term.nulls_last else None
        terms.append((term.expression, OrderKey(term.descending, nulls_first)))
    return terms


def with_order_keys(compute: Any, keys: list[Any]) -> Any:
    """``compute`` of a row, with the values an ``order_by=`` sorts it by when there
    are any (StringAgg folds ``(value, keys)`` pairs: partials.py)."""
    if not keys:
        return compute
    return lambda row: (compute(row), tuple(key(row) for key in keys))


def string_agg_delimiter(alias: str, aggregate: Any, function: str) -> str | None:
    """StringAgg's delimiter: a literal (``Value(";")``), as SQL databases require
    (None for every other aggregate)."""
    if function != "string_agg":
        return None
    delimiter = aggregate.get_source_expressions()[1]
    literal = next(iter(delimiter.get_source_expressions()), None)
    if not isinstance(literal, Value) or not isinstance(literal.value, str):
        raise unsupported(
            f"The aggregate {alias!r} with a delimiter that is not a literal string",
            'Pass the delimiter as Value(";").',
        )
    return literal.value


def _expressions_in(node: Any) -> bool:
    """Whether a condition has a boolean expression for a child (``filter=Exists(...)``),
    not a lookup: the filter translators take lookups only."""
    if isinstance(node, WhereNode):
        return any(_expressions_in(child) for child in node.children)
    return not isinstance(node, (Lookup, NothingNode))


def _restriction_node(condition: Filter) -> Node | None:
    """A filter as the extra condition of an aggregate's rows (None: no restriction)."""
    if condition is True:
        return None
    if condition is False:
        return Node(children=[Leaf(("__never__",), "in", [])])
    return condition if isinstance(condition, Node) else Node(children=[condition])


def needs_planning(compiler, annotations) -> bool:
    """Whether aggregate() needs this module (relations, filter=, default=, paths,
    distinct Sum/Avg) rather than the store's plain ungrouped aggregation."""
    planner = AggregatePlanner(compiler)
    for alias, expr in annotations.items():
        plan = planner.plan(alias, expr)
        spec = plan.spec
        condition = getattr(expr, "filter", None)
        if (
            plan.compute is not None
            or plan.hops
            or spec.filter is not None
            # A filter= that always holds (~Q(x__in=[])) plans to no restriction.
            or getattr(condition, "condition", condition)
            or plan.default is not None
            or (spec.distinct and spec.function != "count")
            or (spec.path is not None and len(spec.path) > 1)
        ):
            return True
    return False


def _columns(node: Any) -> Iterator[Col]:
    if isinstance(node, Col):
        yield node
    for child in getattr(node, "children", None) or []:
        yield from _columns(child)
    if isinstance(node, Lookup):
        yield from _columns(node.lhs)
        if hasattr(node.rhs, "get_source_expressions"):
            yield from _columns(node.rhs)
    elif hasattr(node, "get_source_expressions"):
        for source in node.get_source_expressions():
            if source is not None:
                yield from _columns(source)


def filters_aggregated_relation(where, plans, query) -> bool:
    """Whether ``where`` filters a relation an aggregate reads (SQL shares the JOIN:
    the filter restricts the related rows the aggregate folds).

    A condition on a table joined through that relation filters it too:
    ``filter(novels__title="x").annotate(Count("novels"))`` counts the
    many-to-many's rows (Django trims the join to the novel table from the
    count) yet keeps only those whose novel is titled "x", and a tagged item's
    ``content_type__model`` restricts the items a tag's count folds."""
    aliases = {hop.alias for plan in plans for hop in plan.hops}
    if not aliases or where is None:
        return False
    return any(_joined_through(query, col.alias, aliases) for col in _columns(where))


def _joined_through(query, alias: str, aliases: set[str]) -> bool:
    """Whether ``alias`` is one of ``aliases`` or joined (at any depth) from one."""
    seen = set()
    while alias not in seen:
        if alias in aliases:
            return True
        seen.add(alias)
        join = query.alias_map.get(alias)
        if not isinstance(join, Join) or join.parent_alias is None:
            return False
        alias = join.parent_alias
    return False


def check_where(where, plans, query) -> None:
    """Refuse a filter on the relation an aggregate reads (SQL would share the JOIN)."""
    if filters_aggregated_relation(where, plans, query):
        raise unsupported(
            "filter() on the relation an annotation aggregates",
            "Put the condition in the aggregate instead, e.g. "
            "Count('books', filter=Q(books__pages__gt=100)).",
        )
