"""GROUP BY values the store does not hold: expressions and related models' fields.

``values(pages_mod=Mod("pages", 10)).annotate(Count("*"))``,
``values("original_opening__date").annotate(...)``,
``values("publisher__name").annotate(Avg("price"))`` or a ``Case``/``Cast``/``Concat``
annotation used as a group: SQL computes the value per row (across the JOIN to
the related row) and groups by it. The store groups only by stored paths of the
queried collection, so such a grouping is computed here:

- one bounded read of the queried rows, projected to the columns the group values
  and the aggregates read, with the related rows of foreign keys joined by key
  (one ``in`` command per relation, ``django_nonrel.planning.evaluated_rows``);
- the group values and the aggregates' arguments evaluated per row with SQL's
  rules (``django_nonrel.expressions``), folded per group with ``Partial``;
- aggregates over relations (``Count("books")``) by the parents' keys, one command
  per relation hop (``django_nonrel.aggregation.hops``), merged into each group.

Grouping by a value across a many-to-many or reverse relation (one group per
related value: ``values("books")``, an annotation over the relation next to
aggregates) groups the rows the JOIN repeats, and then every aggregate of the
query folds those joined rows (the ``GroupedRead`` plans them so), as in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldError
from django.db import NotSupportedError
from django.db.models.aggregates import Aggregate as DjangoAggregate
from django.db.models.expressions import Ref, Star, Value
from django.db.models.functions import Coalesce
from django.db.models.sql.datastructures import MultiJoin

from django_nonrel.aggregation.group_order import explicit_ordering
from django_nonrel.aggregation.partials import Groups, Partial, add_group
from django_nonrel.aggregation.planner import AnnotationPlan
from django_nonrel.evaluation_scope import aliases_in
from django_nonrel.expressions import Evaluator, ExpressionEvaluator
from django_nonrel.paths import hashable
from django_nonrel.planning import evaluated_rows
from django_nonrel.query import Aggregate
from django_nonrel.read_plan import ReadPlan


def _source(expr: Any) -> Any:
    while isinstance(expr, Ref):
        expr = expr.source
    return expr


def group_keys(compiler, having, extra: Iterable[Any] = ()) -> list[Any]:
    """What SQL groups by, distinct and in order: the query's ``group_by``, and the
    columns of every selected value and HAVING operand that is not an aggregate
    (Django's SQL compiler adds them to the GROUP BY: ``values("name").annotate(n=...)
    .values_list("pk")`` groups by name and pk), the selected ``extra(select=...)``
    values (``extra``, as expressions) among them."""
    query = compiler.query
    found: list[Any] = []
    refs = set()
    # group_by True (annotate() on a model): the selected columns below.
    for expr in () if query.group_by is True else query.group_by:
        if isinstance(expr, Ref):
            refs.add(expr.refs)
        found.append(expr)
    for *_, expr in compiler.selected.selections:
        found.extend(expr.get_group_by_cols())
    for alias, expr in query.annotation_select.items():
        if alias not in refs:
            found.extend(expr.get_group_by_cols())
    for expr in extra:
        found.extend(expr.get_group_by_cols())
    if having is not None:
        found.extend(having.get_group_by_cols())
    found.extend(_ordering_columns(query))
    keys: list[Any] = []
    for expr in found:
        source = _source(expr)
        if (
            isinstance(source, Value)
            # A window (Django groups by its alias): computed over the groups.
            or getattr(source, "contains_over_clause", False)
            or any(source == key for key in keys)
        ):
            continue
        keys.append(source)
    return keys


def _ordering_columns(query) -> list[Any]:
    """The columns an explicit order_by() adds to SQL's GROUP BY (``order_by("id")``
    of ``values("name").annotate(...)`` groups by id too); those of joins the query
    does not have are left out (the ordering then refuses them)."""
    columns: list[Any] = []
    for item in explicit_ordering(query):
        if isinstance(item, str):
            name = item.lstrip("-")
            if name == "?" or name in query.annotations:
                continue
            try:
                expr = query.clone().resolve_ref(name, allow_joins=True)
            except (FieldError, MultiJoin):
                continue
        else:
            try:
                expr = item.resolve_expression(query.clone(), allow_joins=True)
            except FieldError:
                continue
        for col in expr.get_group_by_cols():
            if all(alias in query.alias_map for alias in aliases_in(col)):
                columns.append(col)
    return columns


def key_index(keys: list[Any], expr: Any) -> int | None:
    """The position of ``expr`` among the group ``keys`` (None: not grouped by)."""
    source = _source(expr)
    for index, key in enumerate(keys):
        if key == source:
            return index
    return None


def row_fold(evaluator: ExpressionEvaluator, plan: AnnotationPlan) -> AnnotationPlan:
    """A plan whose value is computed on the row: aggregates of the queried model's
    own fields (the store would fold them by stored path) read the evaluated row."""
    if plan.compute is not None:
        return plan
    aggregate = plan.expr
    if isinstance(aggregate, Coalesce):
        aggregate = aggregate.get_source_expressions()[0]
    assert isinstance(aggregate, DjangoAggregate)
    source = _source(aggregate.get_source_expressions()[0])
    spec = plan.spec
    if spec.path is None or isinstance(source, Star):
        compute: Evaluator = lambda row: True  # noqa: E731 -- Count("*"): every row
    else:
        compute = evaluator.compile(source)
    condition = getattr(aggregate, "filter", None)
    condition = getattr(condition, "condition", condition)  # Django 6.1: AggregateFilter
    return AnnotationPlan(
        alias=plan.alias,
        expr=plan.expr,
        spec=Aggregate(
            alias=spec.alias,
            function=spec.function,
            path=None if spec.path is None else ("<expression>",),
            distinct=spec.distinct,
        ),
        default=plan.default,
        compute=compute,
        condition=evaluator.predicate(condition) if condition else None,
    )


def row_partials(plans: list[AnnotationPlan], row: Any) -> dict[str, Partial]:
    """One evaluated row's partial of each aggregate of ``plans`` (those computed on
    the row: ``compute`` and ``condition`` set)."""
    partials = {p.alias: Partial() for p in plans}
    for annotation in plans:
        if annotation.condition is None or annotation.condition(row):
            partials[annotation.alias].add(annotation.compute(row), annotation.spec)
    return partials


def computed_groups(read, compiler, plan: ReadPlan, keys: list[Any]) -> Groups:
    """Partials per group of ``keys``' values (``read``: the ``GroupedRead``)."""
    evaluator: ExpressionEvaluator = read.evaluator
    base = compiler.base_alias
    values = [evaluator.compile(key) for key in keys]
    own = [row_fold(evaluator, p) for p in read.plans.values() if not p.hops]
    relation = [p for p in read.plans.values() if p.hops]
    parent_columns = list(dict.fromkeys(p.hops[0].parent_column for p in relation))
    rows, _ = evaluated_rows(
        compiler,
        plan.query,
        evaluator,
        plan.filter,
        "Grouping by an expression or a related model's field",
        tuple(parent_columns),
    )
    related = read.relation_partials(
        {column: [row[base].get(column) for row in rows] for column in parent_columns}
    )
    groups: Groups = {}
    for row in rows:
        partials = row_partials(own, row)
        for alias, (column, by_key) in related.items():
            partials[alias] = by_key.get(hashable(row[base].get(column))) or Partial()
        add_group(groups, tuple(value(row) for value in values), partials)
    return groups


def is_stored_path(compiler, planner, expr: Any) -> bool:
    """Whether the store groups by ``expr`` itself: a constant, or a stored path
    (a field, a key inside one) of the queried model."""
    source = _source(expr)
    if isinstance(source, Value):
        return True
    try:
        column_alias, _ = planner._path("GROUP BY", source)
    except NotSupportedError:  # an expression: computed here
        return False
    return column_alias == compiler.base_alias
