"""GROUP BY without SQL: ``annotate()`` and ``values().annotate()``.

Django expresses grouping as a ``Query`` with ``group_by`` set and aggregate
annotations, often over JOINs. A nonrel store has neither, so ``GroupedRead``
reads that ``Query`` and answers it with the store's primitives:

- aggregates over the queried model's own fields are grouped by the store
  (``DocumentStore.aggregate_groups``: ``$group`` on MongoDB, a projected
  ``find`` folded in Python where the server lacks the accumulators);
- aggregates over relations (``Count("books")``, ``Sum("books__pages")``,
  M2M through tables) become one batched command per relation hop
  (``django_nonrel.aggregation.hops``), never one command per parent;
- filters on aggregates (HAVING), ordering by aggregates and the slice are
  applied to the grouped rows in Python, because they need the aggregated
  values, which only exist after grouping.

Results are what SQL gives, with one deliberate difference: several
aggregates over *different* multi-valued relations (``Count("books"),
Count("reviews")``) are each computed on their own relation, where a SQL JOIN
multiplies the rows and inflates both counts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import replace
from typing import Any

from django.core.exceptions import FieldError
from django.db.models.expressions import Col, Ref, Value
from django.db.models.lookups import Lookup
from django.db.models.sql.datastructures import MultiJoin
from django.db.models.sql.where import AND, OR, XOR, NothingNode, WhereNode

from django_nonrel.aggregation.composite import evaluate_all, split
from django_nonrel.aggregation.computed_groups import (
    computed_groups,
    group_keys,
    is_stored_path,
    key_index,
    row_fold,
    row_partials,
)
from django_nonrel.aggregation.group_order import (
    distinct_rows,
    explicit_ordering,
    order_name,
    sort_rows,
)
from django_nonrel.aggregation.group_windows import (
    over_groups,
    window_columns,
    window_fields,
    windowed_groups,
)
from django_nonrel.aggregation.hops import related_partials
from django_nonrel.aggregation.over_rows import aggregate_rows
from django_nonrel.aggregation.partials import Groups, Partial, add_group
from django_nonrel.aggregation.planner import (
    AggregatePlanner,
    AnnotationPlan,
    filters_aggregated_relation,
)
from django_nonrel.evaluation_scope import aliases_in
from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import ExpressionEvaluator
from django_nonrel.extra_sql import extra_expressions
from django_nonrel.paths import dig, hashable
from django_nonrel.planning import evaluated_rows
from django_nonrel.query import Leaf, Node, NonrelQuery
from django_nonrel.read_plan import ReadPlan
from django_nonrel.relations import chain_to, is_single_valued, join_of
from django_nonrel.subqueries import outer_references, subquery_of

COMPARISONS = {
    "exact": lambda a, b: a == b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "in": lambda a, b: a in b,
    "range": lambda a, b: b[0] <= a <= b[1],
}


def _refuse_repeated_rows(plan: ReadPlan | None, joined: Collection[str] = ()) -> None:
    """Refuse grouped aggregates over rows a many-to-many filter repeats.

    SQL's JOIN gives a row once per matching related row and GROUP BY then
    aggregates every copy (a Sum counts a price twice for an item with two
    matching labels). The grouped read takes each row once, so it would answer
    differently (found by the differential tests); ``aggregate()`` without
    grouping does repeat the rows. Rows joined across the filtered relation
    (``joined``: the aliases a computed grouping joins) are repeated already.
    """
    if plan is None or not plan.row_weights:
        return
    unjoined = [
        alias
        for alias in plan.filter.row_weights
        if alias not in plan.selected_aliases and alias not in joined
    ]
    if unjoined or plan.python_weights is not None:
        raise unsupported(
            "Grouped aggregates over a field of the queried model after a filter across a "
            "many-to-many or reverse relation (SQL's JOIN repeats each row once per matching "
            "related row, and the aggregates count every copy)",
            "Filter with pk__in=<that filtered queryset>.values('pk') to aggregate each row "
            "once, or use aggregate() without values()/annotate().",
        )


class GroupedRead:
    """Rows of a grouped read, as structured rows (see ``django_nonrel.compiler``)."""

    def __init__(self, compiler) -> None:
        self.compiler = compiler
        self.query = compiler.query
        self.connection = compiler.connection
        self.store = compiler.store
        where, having, qualify = self.query.where.split_having_qualify(must_group_by=True)
        #: Conditions on window functions (QUALIFY): with the read of the rows.
        self.qualify = qualify
        self.where = where
        self.having = having
        planner = AggregatePlanner(compiler)
        annotations = self.query.annotations
        aggregates, self.composites = split(
            self.connection,
            compiler.base_alias,
            {a: e for a, e in annotations.items() if getattr(e, "contains_aggregate", False)},
            {a: e for a, e in annotations.items() if not getattr(e, "contains_aggregate", False)},
        )
        self.plans = {alias: planner.plan(alias, expr) for alias, expr in aggregates.items()}
        #: The annotations computed after grouping (aggregates, expressions over them).
        self.aggregated = {*self.plans, *(c.alias for c in self.composites)}
        self.having_aliases: dict[int, str] = {}
        #: HAVING operands without aggregates (``F("num_awards") / 2``, a related field,
        #: a Subquery): hidden annotations the rows' read computes, by name.
        self.having_values: dict[str, Any] = {}
        #: ``pk__in=<queryset>`` under HAVING: the queryset's values, read once.
        self.having_constants: dict[int, list[Any]] = {}
        if having is not None:
            self._plan_having(having, planner)
        #: Compiles the aggregates of expressions (folded in Python after one read).
        self.evaluator = planner.evaluator
        #: The selected ``extra(select=...)`` values as expressions (None: other SQL):
        #: SQL groups by them as by any selected value (``django_nonrel.extra_sql``).
        self.extra_values = extra_expressions(self.query, compiler.base_alias)
        #: What SQL groups by (``computed_groups.group_keys``).
        self.keys = group_keys(
            compiler, having, [*(self.extra_values or {}).values(), *window_columns(self.query)]
        )
        #: A group value read across a many-to-many or reverse relation (an annotation
        #: over it, ``values("books")``): SQL groups the rows its JOIN repeats, one group
        #: per related value, and every aggregate folds those rows.
        self.joined = any(self.reads_repeated_rows(key) for key in self.keys)
        # filter(books__price__lt=40).annotate(Count("books")): the JOIN is shared, the
        # aggregates fold the related rows the filter keeps.
        self.joined |= filters_aggregated_relation(self.where, self.plans.values(), self.query)
        self._check_repeated_reads()
        #: Windows computed over the grouped rows (after HAVING), not by the read.
        self.group_windows = over_groups(
            self.query, self.having, self.qualify, self.per_row and not self.joined
        )
        if self.group_windows:
            self.aggregated |= {
                a for a, e in self.query.annotations.items() if e.contains_over_clause
            }

    # -- planning -------------------------------------------------------------
    def _window_fields(self) -> list[Any]:
        """The model's fields the windows computed over grouped rows read."""
        if not self.group_windows:
            return []
        return window_fields(self.query, self.compiler.base_alias, self.qualify)

    def _check_repeated_reads(self) -> None:
        """Answer as SQL over the rows its JOIN repeats.

        An aggregate of an expression reading a multi-valued relation
        (``Sum(F("age") + F("friends__age"))``) folds the joined rows, once per
        related row, and so do the model's own aggregates next to it (SQL repeats
        those fields once per related row too). An expression over aggregates of
        different relations (``Sum("age") + Sum("friends__age")``) needs the same
        product: then every aggregate folds the joined rows."""
        base = self.compiler.base_alias
        combined = any(
            len({tuple(hop.alias for hop in self.plans[alias].hops) for alias in c.parts}) > 1
            for c in self.composites
        )
        repeated = any(
            plan.compute is not None and _reads_repeated_rows(self.query, base, plan.expr)
            for plan in self.plans.values()
        )
        every = combined or self.joined
        if every or repeated:
            self.plans = {
                alias: plan if plan.hops and not every else row_fold(self.evaluator, plan)
                for alias, plan in self.plans.items()
            }

    def _plan_having(self, node: Any, planner: AggregatePlanner) -> None:
        if isinstance(node, WhereNode):
            for child in node.children:
                self._plan_having(child, planner)
            return
        if isinstance(node, NothingNode):
            return
        if not isinstance(node, Lookup):
            raise unsupported(f"Filtering on {type(node).__name__}", "Filter in Python.")
        if node.lookup_name not in COMPARISONS and node.lookup_name != "isnull":
            raise unsupported(
                f"The lookup {node.lookup_name!r} next to an aggregate filter",
                f"Use one of {', '.join(sorted(COMPARISONS))} or isnull.",
            )
        self._plan_operand(node.lhs, planner)
        query = subquery_of(node.rhs)
        if node.lookup_name == "in" and query is not None and not outer_references(query):
            self.having_constants[id(node.rhs)] = self.compiler.resolve_subquery(query)
        elif hasattr(node.rhs, "resolve_expression"):
            self._plan_operand(node.rhs, planner)

    def _plan_operand(self, expr: Any, planner: AggregatePlanner) -> None:
        """Name where a HAVING operand's value is found in a grouped row."""
        if isinstance(expr, Value):
            return
        if isinstance(expr, Ref) and expr.refs in self.aggregated:
            self.having_aliases[id(expr)] = expr.refs
            return
        if isinstance(expr, Col) and expr.alias == self.compiler.base_alias:
            self.having_aliases[id(expr)] = expr.target.attname
            return
        if not getattr(expr, "contains_aggregate", False):
            # Computed with the rows (per row), or a group value (values().annotate()).
            name = f"__having_value{len(self.having_values)}"
            self.having_values[name] = expr
            self.having_aliases[id(expr)] = name
            return
        for alias, plan in self.plans.items():
            if plan.expr == expr:
                self.having_aliases[id(expr)] = alias
                return
        alias = f"__having{len(self.having_aliases)}"
        aggregates, composites = split(self.connection, self.compiler.base_alias, {alias: expr})
        self.plans.update(
            (name, planner.plan(name, aggregate)) for name, aggregate in aggregates.items()
        )
        self.composites.extend(composites)
        self.aggregated.update({*aggregates, alias})
        self.having_aliases[id(expr)] = alias

    @property
    def per_row(self) -> bool:
        """Each row of the model is its own group (annotate() on a model queryset)."""
        group_by = self.query.group_by
        if group_by is True:
            return True
        pk = self.query.get_meta().pk
        base = self.compiler.base_alias
        if not any(
            isinstance(expr, Col) and expr.alias == base and expr.target == pk for expr in group_by
        ):
            return False
        # values("id", "book__rating").annotate(...): one group per parent AND related
        # value, computed (``_grouped``).
        return not any(isinstance(expr, Col) and expr.alias != base for expr in group_by)

    # -- running --------------------------------------------------------------
    def rows(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(result, annotations) per group, filtered by HAVING, ordered and sliced."""
        per_row = self.per_row and not self.joined
        distinct = self.query.distinct and not self.query.distinct_fields
        post = (
            self.having is not None
            or self._orders_by_annotation()
            or not per_row
            or distinct
            or self.group_windows
        )
        base = self._base_query(keep_order_and_slice=not post)
        if per_row:
            rows = self._per_row(base)
        elif self.query.extra_select and self.extra_values is None:
            raise unsupported(
                "extra(select=...) with SQL other than columns, literals, %s and + - * / "
                "next to aggregates over groups of rows",
                "Annotate the value with annotate().",
            )
        else:
            rows = self._grouped(base)
        if self.having is not None:
            rows = [row for row in rows if self._matches(self.having, row)]
        if self.group_windows:
            rows = windowed_groups(
                self.connection,
                self.compiler.base_alias,
                self.query.annotations,
                self.qualify,
                rows,
            )
        if distinct:
            rows = distinct_rows(rows, self.compiler.selected_names, self.query.annotation_select)
        if post:
            rows = sort_rows(self.query, self.connection, rows)
            rows = rows[self.query.low_mark : self.query.high_mark]
        return rows

    def structured_rows(self) -> Iterator[dict[str, Any]]:
        selected = self.query.annotation_select
        extra = self.query.extra_select
        for result, values in self.rows():
            yield {
                "result": result,
                "related_selection": {},
                "annotations": {alias: values[alias] for alias in selected},
                "extra_select": {name: values[name] for name in extra},
            }

    def _orders_by_annotation(self) -> bool:
        for item in explicit_ordering(self.query):
            name = order_name(item)[0]
            if name is None or name in self.query.annotations:
                return True
        return False

    def _base_query(self, *, keep_order_and_slice: bool):
        """The query without its aggregates: which rows (and groups) there are."""
        base = self.query.clone()
        base.where = self.where if self.where is not None else WhereNode()
        if self.qualify is not None and not self.group_windows:
            # One row per group: the read computes the windows and filters on them.
            base.where = WhereNode([base.where, self.qualify])
        base.group_by = None
        base.default_ordering = False  # Meta.ordering does not apply to GROUP BY (as in SQL)
        aggregated = self.aggregated
        base.annotations = {
            **{a: e for a, e in base.annotations.items() if a not in aggregated},
            **self.having_values,
        }
        base.set_annotation_mask(
            [
                *(a for a in self.query.annotation_select if a not in aggregated),
                *self.having_values,
            ]
        )
        if not keep_order_and_slice:
            base.clear_ordering(force=True)
            base.clear_limits()
        return base

    def _join_fields(self, base) -> list[Any]:
        opts = base.get_meta()
        columns = {hop.parent_column for p in self.plans.values() for hop in p.hops[:1]}
        return [f for f in opts.concrete_fields if f.column in columns]

    def _per_row(self, base) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        join_fields = self._join_fields(base)
        # The primary key too: a condition on joined rows can repeat a row, and the
        # GROUP BY collapses the repeats (_one_per_key).
        pk = base.get_meta().pk
        read = [field for composite in self.composites for field in composite.fields]
        read += self._window_fields()
        keyed = list(dict.fromkeys([*join_fields, *([] if base.default_cols else [pk]), *read]))
        extra = self._select_extra(base, keyed)
        compiler = base.get_compiler(connection=self.connection)
        plan = compiler.read_plan()
        fetched = _one_per_key(base, compiler.structured_rows(plan))
        keys_by_column = {
            field.column: [
                field.get_db_prep_value(row["result"][field.attname], self.connection)
                for row in fetched
            ]
            for field in join_fields
        }
        own = [p for p in self.plans.values() if not p.hops]
        if own:
            _refuse_repeated_rows(plan)
        computed = [p for p in own if p.compute is not None]
        own = [p for p in own if p.compute is None]
        computed_groups = (
            self._computed_groups(compiler, plan, computed, [(pk.column,)]) if computed else {}
        )
        own_groups: Groups = {}
        if own and fetched:
            pk = base.get_meta().pk
            keys = (
                [
                    pk.get_db_prep_value(row["result"][pk.attname], self.connection)
                    for row in fetched
                ]
                if pk.attname in fetched[0]["result"]
                else None
            )
            if keys is None:
                raise unsupported(
                    "annotate() with aggregates over the model's own fields after only()/values() "
                    "without the primary key",
                    "Include the primary key.",
                )
            own_groups = self._own_groups(base, own, [(pk.column,)], keys)
        related = self.relation_partials(keys_by_column)
        rows = []
        for index, row in enumerate(fetched):
            result = {k: v for k, v in row["result"].items() if k not in extra}
            partials: dict[str, Partial] = {}
            if own:
                key = hashable(keys[index])
                partials.update(own_groups.get((key,), ((), {}))[1])
            if computed:
                key = hashable(pk.get_db_prep_value(row["result"][pk.attname], self.connection))
                partials.update(computed_groups.get((key,), ((), {}))[1])
            for alias, (column, by_key) in related.items():
                partials[alias] = by_key.get(hashable(keys_by_column[column][index])) or Partial()
            annotations = row["annotations"]
            values = self._finish(partials, row["result"], annotations)
            # A row per group: its extra(select=...) values are the row's.
            # The fields the windows read, by name, whether selected or not.
            windowed = {f.attname: row["result"][f.attname] for f in self._window_fields()}
            rows.append((result, {**windowed, **row["extra_select"], **annotations, **values}))
        return rows

    def _select_extra(self, base, fields: list[Any]) -> set[str]:
        """Select the join key fields too (values() queries may not); return what was added."""
        if base.default_cols:
            mask = base.get_select_mask()
            if mask and any(f not in mask for f in fields):
                raise unsupported(
                    "annotate() over a relation with only()/defer() of its key",
                    "Do not defer the key field.",
                )
            return set()
        if not base.values_select and base.select:
            # Columns selected without values() (Django's inner aggregation queries).
            base.values_select = tuple(
                getattr(getattr(expr, "target", None), "attname", f"col{i}")
                for i, expr in enumerate(base.select)
            )
        names = set(base.values_select)
        extra = [f for f in fields if f.attname not in names]
        alias = self.compiler.base_alias
        base.values_select = (*base.values_select, *(f.attname for f in extra))
        base.select = (*base.select, *(f.get_col(alias) for f in extra))
        return {f.attname for f in extra}

    def _grouped(self, base) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """values(...).annotate(...): groups keyed by the stored values of the GROUP BY paths."""
        planner = AggregatePlanner(self.compiler)
        keys = self.keys
        if self.joined or not all(is_stored_path(self.compiler, planner, key) for key in keys):
            return self._grouped_computed(base, keys)
        paths: list[tuple[str | int, ...]] = []
        for key in keys:
            _, path = planner._path("GROUP BY", key)
            if path not in paths:
                paths.append(path)

        def position(name: str, expr: Any) -> int | None:
            column_alias, path = planner._path(name, expr)
            if column_alias != self.compiler.base_alias or path not in paths:
                return None
            return paths.index(path)

        outputs = self._outputs(position, converted=False)
        for expr in keys:
            # Group columns that are not selected can still order and filter the groups.
            if isinstance(expr, Col) and expr.alias == self.compiler.base_alias:
                index = paths.index((expr.target.column,))
                functions = self.connection.ops.get_db_converters(expr) + expr.get_db_converters(
                    self.connection
                )
                for name in dict.fromkeys((expr.target.attname, expr.target.name)):
                    if not any(name == output[0] for output in outputs):
                        outputs.append((name, index, functions, expr, True))
        own = [p for p in self.plans.values() if not p.hops and p.compute is None]
        computed = [p for p in self.plans.values() if p.compute is not None]
        relation = [p for p in self.plans.values() if p.hops]
        base_compiler = base.get_compiler(connection=self.connection)
        plan = base_compiler.build_query(with_projection=False)
        nq = plan.query
        if own or computed:
            _refuse_repeated_rows(plan)
        groups: Groups = {}
        if not nq.matches_nothing:
            if own or not (relation or computed):
                groups = self.store.aggregate_groups(nq, [p.spec for p in own], paths)
            if computed:
                for key_values, partials in self._computed_groups(
                    base_compiler, plan, computed, paths
                ).values():
                    add_group(groups, key_values, partials)
            if relation:
                self._add_related_groups(nq, paths, groups)
        return self._group_rows(groups, outputs)

    def _outputs(self, position, *, converted: bool):
        """(name, index into the group key or None for a constant, converters, expression,
        whether it is an annotation) per value a grouped row returns; ``position(name,
        expr)`` is the index of a grouped value (None: not grouped by), ``converted``
        whether the key values are already Python values (no converters then)."""
        connection = self.connection
        outputs = []
        selected = [(name, expr, False) for name, *_, expr in self.compiler.selected.selections]
        selected += [
            (alias, expr, True)
            for alias, expr in self.query.annotation_select.items()
            if alias not in self.aggregated
        ]
        selected += [(name, expr, True) for name, expr in (self.extra_values or {}).items()]
        for name, expr, is_annotation in selected:
            functions = connection.ops.get_db_converters(expr) + expr.get_db_converters(connection)
            if _constant(expr):
                outputs.append((name, None, functions, expr, is_annotation))
                continue
            if not (
                expr.get_group_by_cols()
                or aliases_in(expr)
                or getattr(expr, "contains_subquery", False)
            ):
                # A value of no column (Case(default=Value("x")) without cases): computed once.
                value = ExpressionEvaluator(connection, self.compiler.base_alias).compile(expr)({})
                outputs.append((name, None, [], Value(value), is_annotation))
                continue
            index = position(name, expr)
            if index is None:
                raise unsupported(
                    f"Selecting {name!r}, which the query does not group by",
                    "Select only the values(...) fields and aggregates; compute other "
                    "values in Python.",
                )
            outputs.append((name, index, [] if converted else functions, expr, is_annotation))
        return outputs

    def _grouped_computed(self, base, keys) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """values(...).annotate(...) grouped by expressions or related fields: the group
        values computed per row (``django_nonrel.aggregation.computed_groups``)."""
        outputs = self._outputs(lambda name, expr: key_index(keys, expr), converted=True)
        base_alias = self.compiler.base_alias
        for index, key in enumerate(keys):
            # Group columns that are not selected can still order the groups; expressions
            # over aggregates read related ones as "alias.column".
            if not isinstance(key, Col):
                continue
            names = (
                (key.target.attname, key.target.name)
                if key.alias == base_alias
                else (f"{key.alias}.{key.target.column}",)
            )
            for name in dict.fromkeys(names):
                if not any(name == output[0] for output in outputs):
                    outputs.append((name, index, [], key, True))
        for item in explicit_ordering(self.query):
            # order_by("book__id"): a group value named by its lookup path.
            name = order_name(item)[0]
            if name is None or "__" not in name or any(name == o[0] for o in outputs):
                continue
            try:
                index = key_index(keys, self.query.clone().resolve_ref(name, allow_joins=True))
            except (FieldError, MultiJoin):
                continue
            if index is not None:
                outputs.append((name, index, [], keys[index], True))
        for alias, expr in {**self.query.annotations, **self.having_values}.items():
            # Grouped annotations that are not selected: expressions over aggregates
            # and HAVING read them.
            index = key_index(keys, expr)
            if index is not None and not any(alias == output[0] for output in outputs):
                outputs.append((alias, index, [], keys[index], True))
        base_compiler = base.get_compiler(connection=self.connection)
        plan = base_compiler.build_query(with_projection=False)
        if any(not p.hops for p in self.plans.values()):
            _refuse_repeated_rows(plan, self.evaluator.joined)
        groups: Groups = {}
        if not plan.query.matches_nothing:
            groups = computed_groups(self, base_compiler, plan, keys)
        return self._group_rows(groups, outputs)

    def reads_repeated_rows(self, expr: Any) -> bool:
        """Whether ``expr`` reads a table joined across a multi-valued relation."""
        return _reads_repeated_rows(self.query, self.compiler.base_alias, expr)

    def _group_rows(self, groups: Groups, outputs) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(result, annotations) per group: its selected values and its aggregates."""
        rows = []
        for key_values, partials in groups.values():
            result, annotations = {}, {}
            for name, index, functions, expr, is_annotation in outputs:
                value = expr.value if index is None else key_values[index]
                for function in functions:
                    value = function(value, expr, self.connection)
                (annotations if is_annotation else result)[name] = value
            rows.append((result, {**annotations, **self._finish(partials, result, annotations)}))
        return rows

    def _add_related_groups(self, nq: NonrelQuery, paths, groups: Groups) -> None:
        """Partials of the relation aggregates per group: the parents' stored group values
        and keys (one command), then one command per relation hop."""
        columns = [str(path[0]) for path in paths]
        columns += [p.hops[0].parent_column for p in self.plans.values() if p.hops]
        parents = list(self.store.fetch(replace(nq, columns=list(dict.fromkeys(columns)))))
        related = self.relation_partials(
            {
                column: [row.get(column) for row in parents]
                for column in {p.hops[0].parent_column for p in self.plans.values() if p.hops}
            }
        )
        for row in parents:
            key_values = tuple(dig(row, path) for path in paths)
            partials = {}
            for alias, (column, by_key) in related.items():
                partials[alias] = by_key.get(hashable(row.get(column))) or Partial()
            add_group(groups, key_values, partials)

    def _computed_groups(self, compiler, plan: ReadPlan, plans, group_by) -> Groups:
        """Partials of aggregates of expressions (``Sum(F("a") * F("b"))``, StdDev) per
        group: one bounded read of the rows and the columns they need, folded here."""
        base = compiler.base_alias
        columns = tuple(dict.fromkeys(str(path[0]) for path in group_by))
        rows, _ = evaluated_rows(
            compiler,
            plan.query,
            self.evaluator,
            plan.filter,
            "Aggregates of expressions in a grouped query",
            columns,
        )
        groups: Groups = {}
        for row in rows:
            key_values = tuple(dig(row[base], path) for path in group_by)
            add_group(groups, key_values, row_partials(plans, row))
        return groups

    def _own_groups(self, base, plans, group_by, keys) -> Groups:
        nq = base.get_compiler(connection=self.connection).build_query(with_projection=False).query
        nq = replace(
            nq, low=0, high=None, ordering=[], where=Node(children=[Leaf(group_by[0], "in", keys)])
        )
        found = self.store.aggregate_groups(nq, [p.spec for p in plans], group_by)
        return {(hashable(values[0]),): (values, partials) for values, partials in found.values()}

    def relation_partials(self, keys_by_column) -> dict[str, tuple[str, dict[Any, Partial]]]:
        """alias -> (parent column, {parent key: Partial}); one command per hop and chain."""
        chains: dict[tuple[str, ...], list[AnnotationPlan]] = {}
        for plan in self.plans.values():
            if plan.hops:
                chains.setdefault(tuple(h.alias for h in plan.hops), []).append(plan)
        answer = {}
        for plans in chains.values():
            hops = plans[0].hops
            keys = [k for k in keys_by_column[hops[0].parent_column] if k is not None]
            by_key = related_partials(self.store, hops, [p.spec for p in plans], keys)
            for plan in plans:
                answer[plan.alias] = (
                    hops[0].parent_column,
                    {key: partials[plan.alias] for key, partials in by_key.items()},
                )
        return answer

    def _finish(
        self, partials: dict[str, Partial], result: dict[str, Any], annotations: dict[str, Any]
    ) -> dict[str, Any]:
        """The group's aggregates and the expressions over them (which may read
        the group's ``result`` fields and other ``annotations``)."""
        values = {}
        connection = self.connection
        for alias, plan in self.plans.items():
            value = partials.get(alias, Partial()).result(plan.spec)
            if value is None:
                value = plan.default
            expr = plan.expr
            for function in connection.ops.get_db_converters(expr) + expr.get_db_converters(
                connection
            ):
                value = function(value, expr, connection)
            values[alias] = value
        return evaluate_all(self.composites, values, {**result, **annotations})

    # -- HAVING and ordering ------------------------------------------------
    def _matches(self, node: Any, row: tuple[dict[str, Any], dict[str, Any]]) -> bool:
        if isinstance(node, NothingNode):
            return False
        if isinstance(node, WhereNode):
            results = [self._matches(child, row) for child in node.children]
            if node.connector == AND:
                matched = all(results)
            elif node.connector == OR:
                matched = any(results)
            else:
                assert node.connector == XOR
                matched = sum(results) % 2 == 1
            return not matched if node.negated else matched
        value = self._operand(node.lhs, row)
        rhs = self._operand(node.rhs, row) if hasattr(node.rhs, "resolve_expression") else node.rhs
        if node.lookup_name == "isnull":
            return (value is None) == bool(rhs)
        if value is None or rhs is None:
            return False
        return COMPARISONS[node.lookup_name](value, rhs)

    def _operand(self, expr: Any, row: tuple[dict[str, Any], dict[str, Any]]) -> Any:
        if isinstance(expr, Value):
            return expr.value
        if id(expr) in self.having_constants:
            return self.having_constants[id(expr)]
        name = self.having_aliases[id(expr)]
        result, annotations = row
        if name in annotations:
            return annotations[name]
        if name not in result:
            raise unsupported(
                f"Filtering a grouped query on {self.having_values.get(name, name)!r}, which "
                "it does not select or group by",
                "Filter before annotate(), or select the field.",
            )
        return result[name]


def _reads_repeated_rows(query, base_alias: str, expr: Any) -> bool:
    """Whether ``expr`` reads a table joined across a multi-valued relation."""
    return any(
        not is_single_valued(join_of(query, alias))
        for read in set(aliases_in(expr)) - {base_alias, None}
        for alias in chain_to(query, base_alias, read)
    )


def _one_per_key(base, rows) -> list[dict[str, Any]]:
    """Rows once per primary key: a filter across a multi-valued relation can repeat a
    parent row, and a GROUP BY on the primary key collapses such repeats."""
    attname = base.get_meta().pk.attname
    seen: set[Any] = set()
    unique = []
    for row in rows:
        key = row["result"].get(attname, row)
        if isinstance(key, dict):  # the key is not selected: nothing to collapse on
            unique.append(row)
            continue
        if hashable(key) not in seen:
            seen.add(hashable(key))
            unique.append(row)
    return unique


def aggregate_grouped(compiler, inner_query, outer_annotations) -> dict[str, Any]:
    """aggregate()/count() over a grouped queryset: the grouped rows, folded in Python
    (``django_nonrel.aggregation.over_rows``)."""
    inner = inner_query.get_compiler(connection=compiler.connection)
    rows = [{**result, **annotations} for result, annotations in GroupedRead(inner).rows()]
    return aggregate_rows(compiler.connection, rows, outer_annotations)


def _constant(expr: Any) -> bool:
    return isinstance(expr, Value)
