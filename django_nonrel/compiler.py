"""Compilers that run Django queries on a ``DocumentStore`` instead of SQL.

A nonrel backend's ``DatabaseOperations.compiler_module`` points at a module
that exposes these classes under Django's names (``SQLCompiler``,
``SQLInsertCompiler``, ...). They turn Django's ``Query`` into a
``NonrelQuery`` and call the backend's store primitives (see
``django_nonrel.store``).

Reads yield *structured rows*::

    {"result": {attname: value}, "related_selection": {}, "annotations": {...},
     "extra_select": {}}

which the ``structured_rows`` patch feeds straight into model instances and
``values()`` dicts, with Django's converters already applied, so no
intermediate positional row is built.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, FieldError
from django.db import NotSupportedError
from django.db.models import Avg as AvgAggregate
from django.db.models import Count, Max, Min, Sum
from django.db.models.aggregates import Aggregate as DjangoAggregate
from django.db.models.expressions import (
    Col,
    CombinedExpression,
    DatabaseDefault,
    F,
    OrderBy,
    Ref,
    Star,
    Value,
)
from django.db.models.query_utils import select_related_descend
from django.db.models.sql import compiler as sql
from django.db.models.sql.constants import CURSOR, GET_ITERATOR_CHUNK_SIZE, LOUTER, MULTI, SINGLE
from django.db.models.sql.datastructures import Join
from django.db.models.sql.query import Query, get_field_names_from_opts
from django.db.models.sql.where import WhereNode

from django_nonrel import literal_check
from django_nonrel.aggregation import (
    GroupedRead,
    aggregate_all,
    aggregate_grouped,
    is_grouped,
    needs_planning,
)
from django_nonrel.expressions import ExpressionEvaluator, needs_python, output_value, sort_order
from django_nonrel.nulls import (
    absent_when_null,
    check_not_null,
    check_required,
    not_null_fields,
)
from django_nonrel.partials import Partial, dig
from django_nonrel.passthrough import passthrough_type
from django_nonrel.paths import column_path
from django_nonrel.query import Aggregate, Leaf, Node, NonrelQuery, Ordering, UpdateValue
from django_nonrel.relations import (
    chain_to,
    fetch_by_keys,
    is_single_valued,
    join_of,
    join_restriction,
    joined_opts,
    restricted,
)
from django_nonrel.sharding import refuse_shard_key_change, routes_by_shard_key
from django_nonrel.where import WhereBuilder

#: AutoField types whose keys the store allocates as integers.
INTEGER_AUTO_FIELDS = frozenset({"AutoField", "BigAutoField", "SmallAutoField"})
#: Rows a read evaluates filters or sort keys on in Python, unless the
#: backend's features say otherwise (``max_rows_evaluated_in_python``).
PYTHON_EVALUATION_LIMIT = 10_000
#: ``extra(select=...)`` text that names a column of a joined table.
EXTRA_COLUMN = re.compile(r'"?(?P<alias>\w+)"?\."?(?P<column>\w+)"?')
AGGREGATE_FUNCTIONS = {Count: "count", Sum: "sum", AvgAggregate: "avg", Min: "min", Max: "max"}


class RowCountCursor:
    """What Django's CURSOR/ROW_COUNT callers need from a write: a rowcount."""

    def __init__(self, rowcount: int) -> None:
        self.rowcount = rowcount

    def close(self) -> None:
        pass

    def __enter__(self) -> RowCountCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _unsupported(what: str, instead: str) -> NotSupportedError:
    return NotSupportedError(f"{what} is not supported on this backend. {instead}")


class NonrelCompiler(sql.SQLCompiler):
    """Reads: iteration, values(), count(), exists(), aggregate()."""

    returns_structured_rows = True
    #: Sort keys evaluated in Python (see ``_python_ordering``); empty: the store sorts.
    python_ordering: list[tuple[Any, bool, bool, bool]] = []
    #: Stored paths those sort keys read.
    python_ordering_paths: list[Ordering] = []

    @cached_property
    def store(self):
        return self.connection.store

    @cached_property
    def base_alias(self) -> str:
        # Not Query.base_table: it caches None when read before the first alias
        # exists, which breaks every later compile of the same query.
        query = self.query
        for alias, table in query.alias_map.items():
            if not isinstance(table, Join) and query.alias_refcount.get(alias, 1):
                return alias
        return query.get_initial_alias()

    # -- building the NonrelQuery ------------------------------------------
    #: Conditions a read evaluates on the rows it fetches (see ``build_query``).
    row_predicates: list[Any] = []

    def build_query(self, *, with_projection: bool = True, in_rows: bool = False) -> NonrelQuery:
        """The NonrelQuery of this read, update or delete.

        Conditions the store cannot run are evaluated in Python: with
        ``in_rows`` (a read that fetches the rows anyway) on those rows,
        in the same command; otherwise they are resolved to a key list first.
        """
        query = self.query
        self._reject_unsupported()
        opts = query.get_meta()
        nq = NonrelQuery(table=opts.db_table, pk_column=opts.pk.column)
        if with_projection:
            self.selections  # noqa: B018 -- joins parent tables (MTI) before the WHERE
        builder = WhereBuilder(self.connection, self.base_alias, self._subquery_values, query)
        if with_projection:
            columns = self._join_columns()
            builder.select_columns = {
                chain[0]: columns[chain[0]] for chain in self.selected_chains if chain
            }
        self.where_builder = builder
        pushed, residual = self._split_where(query.where)
        built = builder.build(pushed)
        if built is False:
            nq.matches_nothing = True
        elif built is not True:
            nq.where = built if isinstance(built, Node) else Node(children=[built])
        nq.native_filter = getattr(query, "nonrel_native_filter", None)
        if residual and in_rows:
            self.row_predicates = [self.evaluator.predicate(node) for node in residual]
        elif residual:
            self._filter_in_python(nq, residual)
        nq.low, nq.high = query.low_mark, query.high_mark
        nq.ordering = self._ordering()
        nq.distinct = query.distinct
        if with_projection:
            base = [column for _, alias, column, *_ in self.selections if alias == self.base_alias]
            self.selected_annotations  # noqa: B018 -- the evaluator learns the columns it reads
            base += self.evaluator.columns
            base += [order.path[0] for order in self.python_ordering_paths]
            hops = [join_of(query, chain[0]).join_cols[0][0] for chain in self.selected_chains]
            weights = [column for column, _ in self.row_weights]
            nq.columns = list(
                dict.fromkeys([*base, *hops, *weights, *self._select_related_columns()])
            )
            nq.whole_rows = (
                query.default_cols
                and not query.get_select_mask()
                and all(alias == self.base_alias for _, alias, *_ in self.selections)
            )
        return nq

    @cached_property
    def evaluator(self) -> ExpressionEvaluator:
        """Compiles this query's expressions into Python (``django_nonrel.expressions``)."""
        return ExpressionEvaluator(self.connection, self.base_alias, self._subquery_values)

    @property
    def python_evaluation_limit(self) -> int:
        features = self.connection.features
        return getattr(features, "max_rows_evaluated_in_python", PYTHON_EVALUATION_LIMIT)

    def _split_where(self, where: Any) -> tuple[Any, list[Any]]:
        """(the part of the WHERE the store runs, conditions evaluated in Python).

        Conditions ANDed at the top are split one by one; a condition the
        store cannot run anywhere else (inside OR/NOT) takes its whole
        top-level branch to Python.
        """
        date_parts = getattr(self.connection.features, "supports_date_part_expressions", True)
        if not needs_python(where, date_parts):
            return where, []
        if where.connector != "AND" or where.negated:
            return WhereNode([], connector="AND"), [where]
        pushed = [child for child in where.children if not needs_python(child, date_parts)]
        residual = [child for child in where.children if needs_python(child, date_parts)]
        return WhereNode(pushed, connector="AND"), residual

    def _bounded_fetch(self, nq: NonrelQuery, what: str) -> list[dict[str, Any]]:
        """The rows of ``nq`` (unsliced), refusing more than the evaluation limit."""
        limit = self.python_evaluation_limit
        nq.low, nq.high = 0, limit + 1
        documents = [] if nq.matches_nothing else list(self.store.fetch(nq))
        if len(documents) > limit:
            raise _unsupported(
                f"{what} over more than {limit} rows",
                "Narrow the queryset with filters the database runs (on stored field "
                "values) first, or raise connection.features.max_rows_evaluated_in_python.",
            )
        return documents

    def _filter_in_python(self, nq: NonrelQuery, residual: list[Any]) -> None:
        """Conditions the store cannot run become a key list: one bounded read first.

        The rows matching the rest of the filter are read, projected to the
        key and the columns the conditions need; the conditions are evaluated
        on them (SQL's UNKNOWN excludes a row, as in a WHERE), and ``nq`` then
        selects the matching keys, so ordering, slicing, counting, updates and
        deletes all run on the store as usual.
        """
        evaluator = ExpressionEvaluator(self.connection, self.base_alias, self._subquery_values)
        predicates = [evaluator.predicate(node) for node in residual]
        pk = nq.pk_column
        probe = NonrelQuery(
            table=nq.table,
            pk_column=pk,
            where=nq.where,
            columns=list(dict.fromkeys([pk, *evaluator.columns])),
            matches_nothing=nq.matches_nothing,
            native_filter=nq.native_filter,
        )
        documents = self._bounded_fetch(probe, "A filter evaluated in Python")
        keys = [d[pk] for d in documents if all(predicate(d) for predicate in predicates)]
        nq.where = Node(children=[Leaf((pk,), "in", keys, field=self.query.get_meta().pk)])
        nq.native_filter = None
        nq.matches_nothing = not keys

    @property
    def row_weights(self) -> list[tuple[str, dict[Any, int]]]:
        """(base column, matches per key) of filters that repeat rows as a JOIN does.

        A filter across a multi-valued relation repeats a row once per
        matching related row in SQL; not when the query is distinct(), and not
        for an alias the read selects (its rows are joined one by one already).
        """
        builder = getattr(self, "where_builder", None)
        if builder is not None and builder.unrepeated and not self.query.distinct:
            raise _unsupported(
                "A filter across a many-to-many or reverse relation inside OR or NOT "
                "(where SQL's JOIN repeats a row once per matching related row)",
                "Add .distinct() to get each row once, or evaluate the alternatives of "
                "the OR as separate querysets.",
            )
        if builder is None or not builder.row_weights or self.query.distinct:
            return []
        selected = {alias for chain in self.selected_chains for alias in chain}
        return [weight for alias, weight in builder.row_weights.items() if alias not in selected]

    def _repeat(self, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each document as many times as the JOINs of its filter would give it."""
        weights = self.row_weights
        repeated = []
        for document in documents:
            times = 1
            for column, counts in weights:
                times *= counts.get(_hashable_key(document.get(column)), 1)
            repeated.extend([document] * times)
        return repeated

    def _reject_unsupported(self) -> None:
        query = self.query
        if query.combinator:
            raise _unsupported(
                f"QuerySet.{query.combinator}()", "Evaluate the querysets separately."
            )
        if query.extra_tables or (query.extra_select and self.extra_selections is None):
            raise _unsupported("QuerySet.extra()", "Use filter() and annotate() instead.")
        if query.distinct_fields:
            raise _unsupported("distinct(*fields)", "Use values(*fields).distinct().")

    def _subquery_values(self, subquery: Query) -> list[Any]:
        """Run a queryset used as a filter value and return its single column."""
        subquery = subquery.clone()
        subquery.subquery = False
        if not subquery.select and subquery.default_cols:
            subquery.clear_select_fields()
            subquery.add_fields([subquery.get_meta().pk.name])
        compiler = subquery.get_compiler(connection=self.connection)
        return [
            next(iter({**row["result"], **row["annotations"]}.values()))
            for row in compiler.results_iter()
        ]

    def _ordering(self) -> list[Ordering]:
        """Server-side ordering; relation-spanning items go to ``related_ordering``."""
        query = self.query
        if query.extra_order_by:
            raise _unsupported("extra(order_by=...)", "Use order_by().")
        items = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
        self.python_ordering = self._python_ordering(items)
        if self.python_ordering:
            self.related_ordering = []
            return []
        ordering: list[Ordering] = []
        related: list[tuple[list[Any], Ordering]] = []
        for item in items:
            for hops, order in self._ordering_items(item):
                if not query.standard_ordering:
                    order.descending = not order.descending
                if hops or related:
                    related.append((hops, order))
                else:
                    ordering.append(order)
        if related:
            # Sorting by a related model's value happens client-side, after one
            # batched key lookup per hop; earlier plain keys sort there too.
            related = [([], order) for order in ordering] + related
            ordering = []
        self.related_ordering = related
        return ordering

    def _sorts_in_python(self, item: Any) -> bool:
        """Whether an order_by() item needs a sort key the store cannot compute."""
        if isinstance(item, OrderBy):
            if item.nulls_first or item.nulls_last:
                return True
            item = item.expression
        if isinstance(item, F):
            item = item.name
        if not isinstance(item, str):
            return True
        annotation = self.query.annotations.get(item.lstrip("-"))
        return annotation is not None and not (
            isinstance(annotation, Col) and annotation.alias == self.base_alias
        )

    def _python_ordering(self, items: Any) -> list[tuple[Any, bool, bool, bool]]:
        """(sort key of a stored row, descending, nulls first, nulls last) per item.

        Used when an item orders by an expression, a computed annotation or
        with nulls_first/nulls_last: the whole ordering is then done in Python
        on the (bounded) matching rows, each key with SQL's NULL placement.
        Plain field items read the stored value at their path.
        """
        if not any(self._sorts_in_python(item) for item in items):
            return []
        self.python_ordering_paths = []
        keys = []
        for item in items:
            descending = nulls_first = nulls_last = False
            if isinstance(item, OrderBy):
                descending, nulls_first, nulls_last = (
                    item.descending,
                    bool(item.nulls_first),
                    bool(item.nulls_last),
                )
                item = item.expression
            if isinstance(item, str) and item.startswith("-"):
                descending, item = not descending, item[1:]
            if isinstance(item, str) and item in self.query.annotations:
                key = self.evaluator.compile(self.query.annotations[item])
            elif isinstance(item, str):
                entries = self._ordering_items(item)
                if any(hops for hops, _ in entries):
                    raise _unsupported(
                        f"Ordering by the related field {item!r} together with an expression",
                        "Order by the model's own fields and expressions over them.",
                    )
                for _, order in entries:
                    self.python_ordering_paths.append(order)
                    keys.append(
                        (
                            lambda doc, path=order.path: _dig(doc, path),
                            order.descending != descending,
                            nulls_first,
                            nulls_last,
                        )
                    )
                continue
            else:
                resolved = item.resolve_expression(self.query, allow_joins=True, reuse=None)
                if isinstance(resolved, OrderBy):
                    descending = resolved.descending != descending
                    nulls_first = nulls_first or bool(resolved.nulls_first)
                    nulls_last = nulls_last or bool(resolved.nulls_last)
                    resolved = resolved.expression
                key = self.evaluator.compile(resolved)
            keys.append((key, descending, nulls_first, nulls_last))
        if not self.query.standard_ordering:
            keys = [(key, not desc, last, first) for key, desc, first, last in keys]
        return keys

    def _python_sorted(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows in the order of ``python_ordering`` (a stable sort, like the store's)."""
        base = self.base_alias
        keys = self.python_ordering
        values = [[key(row[base]) for key, *_ in keys] for row in rows]

        def compare(i: int, j: int) -> int:
            for index, (_, descending, nulls_first, nulls_last) in enumerate(keys):
                a, b = values[i][index], values[j][index]
                if a is None or b is None:
                    if a is None and b is None:
                        continue
                    # This backend's default: NULL is the smallest value.
                    null_first = nulls_first or (not nulls_last and not descending)
                    return (-1 if null_first else 1) if a is None else (1 if null_first else -1)
                order = sort_order(a, b)
                if order:
                    return -order if descending else order
            return 0

        positions = sorted(range(len(rows)), key=functools.cmp_to_key(compare))
        return [rows[i] for i in positions]

    def _ordering_items(
        self, item: Any, opts: Any = None, hops: tuple = (), flip: bool = False, seen=frozenset()
    ) -> list[tuple[list[Any], Ordering]]:
        """(relation fields crossed, ordering on the final model's stored path) per sort key.

        Ordering by a relation without a field (``order_by("author")``) sorts by
        the related model's whole ``Meta.ordering``, as Django does.
        """
        descending = False
        if isinstance(item, OrderBy):
            if item.nulls_first or item.nulls_last:
                raise _unsupported(
                    "order_by() with nulls_first/nulls_last",
                    "NULLs sort first ascending and last descending on this backend.",
                )
            descending = item.descending
            item = item.expression
        if isinstance(item, F):
            item = item.name
        if not isinstance(item, str):
            raise _unsupported(
                f"Ordering by {type(item).__name__}", "Order by field names or F('field')."
            )
        if item == "?":
            raise _unsupported("Random ordering (order_by('?'))", "Shuffle in Python.")
        if item.startswith("-"):
            descending, item = not descending, item[1:]
        descending = descending != flip
        annotation = None if hops else self.query.annotations.get(item)
        if isinstance(annotation, Col) and annotation.alias == self.base_alias:
            # annotate(x=F("field")): ordering by the annotation is ordering by the field.
            item = annotation.target.attname
        elif annotation is not None:
            raise _unsupported(f"Ordering by the annotation {item!r}", "Sort in Python.")
        opts = opts or self.query.get_meta()
        parts = item.split("__")
        hops = list(hops)
        while True:
            name = opts.pk.name if parts[0] == "pk" else parts[0]
            field = next((f for f in opts.concrete_fields if f.attname == name), None)
            try:
                field = field or opts.get_field(name)
            except FieldDoesNotExist:
                # The same choices as Django's own message (names and attnames).
                names = sorted(get_field_names_from_opts(opts))
                raise FieldError(
                    f"Cannot resolve keyword {name!r} into field. Choices are: {', '.join(names)}."
                ) from None
            if field.is_relation and not field.concrete:
                raise _unsupported(f"Ordering by the reverse relation {name!r}", "Sort in Python.")
            owner = field.model._meta.concrete_model
            if field.concrete and owner is not opts.concrete_model:
                # An inherited field lives in the parent's documents: hop
                # through the parent links (multi-table inheritance).
                for parent in opts.get_base_chain(owner):
                    link = opts.get_ancestor_link(parent)
                    if link is not None:
                        hops.append(link)
                    opts = parent._meta
            if (
                field.is_relation
                and parts[0] != "pk"
                and field.attname != name
                and (len(parts) > 1 or field.related_model._meta.ordering)
            ):
                hops.append(field)
                opts = field.related_model._meta
                if len(parts) > 1:
                    parts = parts[1:]
                    continue
                if opts.model in seen:
                    raise FieldError("Infinite loop caused by ordering.")
                return [
                    entry
                    for sub in opts.ordering
                    for entry in self._ordering_items(
                        sub, opts, tuple(hops), descending, seen | {opts.model}
                    )
                ]
            path = (field.column, *self._document_path(parts[1:]))
            return [(hops, Ordering(path=path, descending=descending))]

    @staticmethod
    def _document_path(parts: list[str]) -> list[str | int]:
        return [int(p) if p.isdigit() else p for p in parts]

    # -- what a read returns ------------------------------------------------
    @cached_property
    def selections(self) -> list[tuple[str, str, str, tuple[str | int, ...], Any]]:
        """(name in the row, table alias, stored column, path inside it, expression).

        Fields of a multi-table inheritance parent live in the parent's
        documents: like Django's ``get_default_columns`` they are read through
        the join to the parent table (``join_parent_model``), which
        ``_join_rows`` then fetches by key.
        """
        query = self.query
        opts = query.get_meta()
        alias = self.base_alias
        if query.default_cols:
            mask = query.get_select_mask()
            seen = {None: alias}
            selections = []
            for field in opts.concrete_fields:
                if mask and field not in mask:
                    continue
                model = field.model._meta.concrete_model
                if model == opts.model:
                    model = None
                field_alias = query.join_parent_model(opts, model, alias, seen)
                selections.append(
                    (field.attname, field_alias, field.column, (), field.get_col(field_alias))
                )
            return selections
        if not query.select:
            # count() of a values() queryset: Django cleared the select, not values_select.
            return []
        names = list(query.values_select) or [
            getattr(getattr(expr, "target", None), "attname", f"col{i}")
            for i, expr in enumerate(query.select)
        ]
        return [
            (name, *self._selection_path(name, expr), expr)
            for name, expr in zip(names, query.select, strict=True)
        ]

    @cached_property
    def extra_selections(self) -> list[tuple[str, str, str]] | None:
        """(name, alias, column) of ``extra(select=...)`` entries naming a joined column.

        Django's many-to-many prefetch selects the through table's source key
        this way (``_prefetch_related_val_<attname>``: "table"."column"); any
        other SQL snippet is refused (None).
        """
        selections = []
        for name, (sql_text, params) in self.query.extra_select.items():
            match = EXTRA_COLUMN.fullmatch(sql_text)
            if params or match is None or match["alias"] not in self.query.alias_map:
                return None
            selections.append((name, match["alias"], match["column"]))
        return selections

    def _extra_select(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        extra = self.extra_selections
        if not extra:
            return None
        return [
            {
                name: None if row.get(alias) is None else row[alias].get(column)
                for name, alias, column in extra
            }
            for row in rows
        ]

    @cached_property
    def selected_chains(self) -> list[list[str]]:
        """Join aliases (outermost first) leading to each joined alias a read selects."""
        chains = {}
        selected = [alias for _, alias, *_ in self.selections]
        selected += [alias for _, alias, _ in self.extra_selections or ()]
        for alias in selected:
            if alias != self.base_alias and alias not in chains:
                chains[alias] = chain_to(self.query, self.base_alias, alias)
        return list(chains.values())

    @cached_property
    def computed_selections(self) -> dict[str, Any]:
        """values() names whose value is an expression evaluated on the row
        (``values("published__month")``) -> its function of the stored row."""
        return {}

    def _selection_path(self, name: str, expr: Any) -> tuple[str, str, tuple[str | int, ...]]:
        """The table alias, stored column and document path a values() expression reads."""
        try:
            col, segments = column_path(expr, lambda node: LookupError())
        except LookupError:
            evaluate = self.evaluator.compile(expr)
            self.computed_selections[name] = evaluate
            return self.base_alias, self.query.get_meta().pk.column, ()
        return col.alias, col.target.column, segments

    @property
    def selected_names(self) -> list[str]:
        return [name for name, *_ in self.selections]

    @cached_property
    def selected_annotations(self) -> dict[str, Any]:
        """Per selected annotation, a function of the stored row giving its value.

        Values, columns and expressions over the queried model's fields are
        evaluated in Python on the fetched row (``django_nonrel.expressions``);
        aggregates are grouped reads (``django_nonrel.aggregation``).
        """
        result = {}
        for alias, expr in self.query.annotation_select.items():
            expr.output_field  # noqa: B018 -- Django's FieldError / OutputFieldIsNoneError
            if isinstance(expr, Value):
                result[alias] = lambda document, value=expr.value: value
            elif getattr(expr, "contains_aggregate", False):
                raise _unsupported(
                    f"The annotation {alias!r} ({type(expr).__name__}) next to this query's "
                    "grouping",
                    "Aggregate with aggregate(), or annotate() aggregates on their own.",
                )
            else:
                evaluate = self.evaluator.compile(expr)
                result[alias] = lambda document, f=evaluate, e=expr: output_value(f(document), e)
        return result

    @cached_property
    def converters(self) -> list[tuple[str, str, str, tuple, list, Any]]:
        """(row name, alias, column, path, converter functions, expression) per selection."""
        ops, connection = self.connection.ops, self.connection
        return [
            (
                name,
                alias,
                column,
                path,
                ops.get_db_converters(expr) + expr.get_db_converters(connection),
                expr,
            )
            for name, alias, column, path, expr in self.selections
        ]

    def results_iter(
        self,
        results: Any = None,
        tuple_expected: bool = False,
        chunked_fetch: bool = False,
        chunk_size: int = GET_ITERATOR_CHUNK_SIZE,
    ) -> Iterator[dict[str, Any]]:
        if results is not None:
            yield from results
            return
        if is_grouped(self.query):
            yield from GroupedRead(self).structured_rows()
            return
        names = self.selected_names
        for values, related, row_annotations, extra in self.selected_value_rows():
            yield {
                "result": dict(zip(names, values, strict=True)),
                "related_selection": related,
                "annotations": row_annotations,
                "extra_select": extra,
            }

    def selected_value_rows(self) -> Iterator[tuple[list[Any], dict, dict, dict]]:
        """Per row: (values in ``selected_names`` order, related selection, annotations,
        extra select) -- ``results_iter()``'s content without building its dicts, for
        callers that want the values in order (model instances)."""
        if is_grouped(self.query):
            names = self.selected_names
            for row in GroupedRead(self).structured_rows():
                result = row["result"]
                yield (
                    [result[name] for name in names],
                    row["related_selection"],
                    row["annotations"],
                    row["extra_select"],
                )
            return
        try:
            nq = self.build_query(in_rows=True)
        except EmptyResultSet:
            return
        if nq.matches_nothing:
            return
        annotations = self.selected_annotations
        read = self.row_reader()
        base = self.base_alias
        rows = self._rows(nq)
        related = self._related_selections(rows)
        extra = self._extra_select(rows)
        for index, row in enumerate(rows):
            document = row[base]
            yield (
                read(row),
                related[index] if related else {},
                {alias: evaluate(document) for alias, evaluate in annotations.items()},
                extra[index] if extra else {},
            )

    def row_reader(self) -> Callable[[dict[str, Any]], list[Any]]:
        """A function from a row (``{alias: document}``) to its selected values, converted.

        Built once per read: rows whose selections are all top-level columns of
        the base document (every model read without joins) are read with one
        ``map`` over the document, and only columns with converters run them.
        Selections computed from expressions (``values("published__month")``)
        are evaluated on the base document instead.
        """
        connection = self.connection
        base = self.base_alias
        entries = self.converters
        computed = self.computed_selections
        converted = [
            (index, functions[0] if len(functions) == 1 else None, functions, expr)
            for index, (name, _, _, _, functions, expr) in enumerate(entries)
            if functions and name not in computed
        ]

        def convert(values: list[Any]) -> list[Any]:
            for index, only, functions, expr in converted:
                value = values[index]
                if only is not None:
                    values[index] = only(value, expr, connection)
                    continue
                for function in functions:
                    value = function(value, expr, connection)
                values[index] = value
            return values

        plain = all(alias == base and not path for _, alias, _, path, _, _ in entries)
        if plain and not computed:
            columns = [column for _, _, column, _, _, _ in entries]
            if not converted:
                return lambda row: list(map(row[base].get, columns))
            return lambda row: convert(list(map(row[base].get, columns)))

        def read(row: dict[str, Any]) -> list[Any]:
            values = []
            for name, alias, column, path, _, expr in entries:
                if name in computed:
                    values.append(output_value(computed[name](row[base]), expr))
                    continue
                source = row.get(alias)
                if source is None:
                    values.append(None)
                else:
                    values.append(_dig(source, (column, *path)) if path else source.get(column))
            return convert(values)

        return read

    def _rows(self, nq: NonrelQuery) -> list[dict[str, Any]]:
        """The rows of a read as ``{alias: document}``, ordered, made distinct and sliced.

        Ordering by related models' values, distinct ``values()`` and selections
        across multi-valued relations (one row per related row, as a JOIN gives)
        are done client-side over the filtered rows (one extra ``in`` command per
        relation hop), so slicing is applied after them.
        """
        query = self.query
        distinct = query.distinct and not query.default_cols
        chains = self.selected_chains
        expands = any(
            not is_single_valued(join_of(query, alias)) for chain in chains for alias in chain
        )
        repeats = bool(self.row_weights)
        in_python = bool(self.python_ordering or self.row_predicates)
        if not (distinct or self.related_ordering or expands or repeats or in_python):
            return self._join_rows(list(self.store.fetch(nq)))
        low, high = nq.low, nq.high
        nq.low, nq.high = 0, None
        # As in SQL, ordering columns take part in DISTINCT (Django documents
        # this); order_by() without arguments removes them.
        ordering_paths = [order.path for order in nq.ordering]
        ordering_paths += [order.path for hops, order in self.related_ordering if not hops]
        if distinct and nq.columns is not None:
            nq.columns += [p[0] for p in ordering_paths if p[0] not in nq.columns]
        sources = self._ordering_sources()
        if nq.columns is not None:
            needed = [c for alias, c, _, _ in sources if alias == self.base_alias]
            nq.columns += [c for c in dict.fromkeys(needed) if c not in nq.columns]
        extra = {}
        for alias, column, _, _ in sources:
            extra.setdefault(alias, []).append(column)
        if in_python:
            what = "Ordering" if self.python_ordering else "A filter"
            documents = self._bounded_fetch(nq, f"{what} evaluated in Python")
            nq.high = None
            predicates = self.row_predicates
            documents = [d for d in documents if all(p(d) for p in predicates)]
        else:
            documents = list(self.store.fetch(nq))
        rows = self._join_rows(self._repeat(documents) if repeats else documents, extra)
        if self.related_ordering:
            rows = self._sorted_rows(rows, sources)
        if self.python_ordering:
            rows = self._python_sorted(rows)
        if distinct:
            seen = set()
            unique = []
            base = self.base_alias
            annotations = list(self.selected_annotations.values())
            for row in rows:
                key = repr(
                    [_dig(row.get(a) or {}, (c, *p)) for _, a, c, p, _ in self.selections]
                    + [_dig(row[base], path) for path in ordering_paths]
                    + [evaluate(row[base]) for evaluate in annotations]
                )
                if key not in seen:
                    seen.add(key)
                    unique.append(row)
            rows = unique
        return rows[low:high]

    def _join_rows(
        self, documents: list[dict[str, Any]], extra: dict[str, list[str]] | None = None
    ) -> list[dict[str, Any]]:
        """Attach the joined rows a read selects: one ``$in`` command per alias.

        Django's join types decide rows without a match: an INNER join drops
        the row, a LEFT OUTER join keeps it with NULLs. Conditions the filter
        put on the same alias (``filter(books__title=...).values("books__pages")``)
        restrict the related rows, as the shared JOIN does in SQL. ``extra``
        names more columns to read per alias (for client-side ordering).
        """
        base = self.base_alias
        rows = [{base: document} for document in documents]
        chains = self.selected_chains
        if not chains or not rows:
            return rows
        query = self.query
        columns = self._join_columns(extra)
        builder = getattr(self, "where_builder", None)
        conditions = builder.alias_conditions if builder else {}
        kept = builder.kept_rows if builder else {}
        limit = getattr(self.connection.features, "max_keys_per_command", None)
        for alias in columns:
            join = join_of(query, alias)
            parent_column, column = join.join_cols[0]
            parent = join.parent_alias
            if alias in kept and set(columns[alias]) <= set(kept[alias][0]):
                # The filter's key lookup already read these rows.
                found = {}
                for related in kept[alias][1]:
                    found.setdefault(_hashable_key(related.get(column)), []).append(related)
            else:
                keys = [row[parent].get(parent_column) for row in rows if row.get(parent)]
                found = fetch_by_keys(
                    self.store,
                    limit,
                    joined_opts(join),
                    column,
                    keys,
                    columns[alias],
                    restricted(
                        conditions.get(alias, True),
                        join_restriction(self.connection, query, join)[0],
                    ),
                )
            joined = []
            for row in rows:
                source = row.get(parent)
                matches = found.get(source.get(parent_column)) if source is not None else None
                if matches:
                    joined.extend({**row, alias: match} for match in matches)
                elif join.join_type == LOUTER:
                    joined.append({**row, alias: None})
            rows = joined
        return rows

    def _join_columns(self, extra: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
        """Joined aliases a read selects (parents first) -> the columns to read there."""
        query = self.query
        order = dict.fromkeys(alias for chain in self.selected_chains for alias in chain)
        columns: dict[str, list[str]] = {
            alias: list((extra or {}).get(alias, ())) for alias in order
        }
        for _, alias, column, *_ in self.selections:
            if alias in columns:
                columns[alias].append(column)
        for _, alias, column in self.extra_selections or ():
            if alias in columns:
                columns[alias].append(column)
        for alias in order:
            join = join_of(query, alias)
            columns[alias].append(join.join_cols[0][1])
            if join.parent_alias in columns:
                columns[join.parent_alias].append(join.join_cols[0][0])
        return {alias: list(dict.fromkeys(names)) for alias, names in columns.items()}

    @cached_property
    def parent_aliases(self) -> dict[Any, str]:
        """Concrete parent model -> alias of its joined documents (multi-table inheritance)."""
        aliases = {}
        for _, alias, _, _, expr in self.selections:
            if alias != self.base_alias and isinstance(expr, Col):
                join = self.query.alias_map.get(alias)
                field = getattr(join, "join_field", None)
                if getattr(getattr(field, "remote_field", None), "parent_link", False):
                    aliases[expr.target.model._meta.concrete_model] = alias
        return aliases

    def _ordering_sources(self) -> list[tuple[str, str, list[Any], tuple]]:
        """Per related ordering: (alias it starts from, column read there, hops left, path).

        Hops through multi-table-inheritance parents the read already joins
        are taken from those documents, so ordering by an inherited field costs
        no extra command.
        """
        sources = []
        for hops, order in self.related_ordering:
            alias = self.base_alias
            while hops and getattr(hops[0].remote_field, "parent_link", False):
                parent = self.parent_aliases.get(hops[0].related_model._meta.concrete_model)
                if parent is None or self.query.alias_map[parent].parent_alias != alias:
                    break
                alias, hops = parent, hops[1:]
            column = hops[0].column if hops else order.path[0]
            sources.append((alias, column, hops, order.path))
        return sources

    def _sorted_rows(self, rows, sources) -> list[dict[str, Any]]:
        """Rows ordered by related models' values: one ``in`` command per remaining hop."""
        positions = list(range(len(rows)))
        orders = [order for _, order in self.related_ordering]
        for (alias, _, hops, path), order in reversed(list(zip(sources, orders, strict=True))):
            documents = [row.get(alias) or {} for row in rows]
            values = self._ordering_values(documents, hops, path)
            positions.sort(
                key=lambda i, v=values: (v[i] is not None, v[i]), reverse=order.descending
            )
        return [rows[i] for i in positions]

    def _ordering_values(self, documents, hops, path) -> list[Any]:
        if not hops:
            return [_dig(document, path) for document in documents]
        current = [document.get(hops[0].column) for document in documents]
        for index, hop in enumerate(hops):
            opts = hop.related_model._meta
            target = hop.target_field.column
            next_path = (hops[index + 1].column,) if index + 1 < len(hops) else path
            keys = list({value for value in current if value is not None})
            lookup = NonrelQuery(
                table=opts.db_table,
                pk_column=opts.pk.column,
                where=Node(children=[Leaf((target,), "in", keys)]),
                columns=list(dict.fromkeys([target, next_path[0]])),
                matches_nothing=not keys,
            )
            found = {row[target]: _dig(row, next_path) for row in self.store.fetch(lookup)}
            current = [found.get(value) for value in current]
        return current

    # -- select_related ------------------------------------------------------
    @cached_property
    def related_steps(self) -> list[RelatedStep]:
        """The select_related() tree, parents before children (Django's rules).

        Without arguments: every non-null forward FK/one-to-one, down to
        ``query.max_depth``. With names: those forward relations and reverse
        one-to-ones, at any depth.
        """
        query = self.query
        if not query.select_related:
            return []
        steps: list[RelatedStep] = []
        requested = query.select_related if isinstance(query.select_related, dict) else None
        self._walk_related(steps, query.get_meta(), (), requested, 1, query.get_select_mask())
        return steps

    def _walk_related(self, steps, opts, prefix, requested, depth, mask) -> None:
        restricted = requested is not None
        if not restricted and depth > self.query.max_depth:
            return
        found = set()
        for field in opts.fields:
            found.add(field.name)
            if restricted and not field.is_relation and field.name in requested:
                raise FieldError(
                    f"Non-relational field given in select_related: '{field.name}'. "
                    f"Choices are: {', '.join(_relation_choices(opts)) or '(none)'}"
                )
            if not select_related_descend(field, restricted, requested, mask):
                continue
            path = (*prefix, field.name)
            related_mask = mask.get(field) or {}
            steps.append(
                RelatedStep(path, prefix, field, False, field.remote_field.model, related_mask)
            )
            nested = requested.get(field.name, {}) if restricted else None
            self._walk_related(
                steps,
                field.remote_field.model._meta,
                path,
                nested,
                depth + 1,
                related_mask,
            )
        if not restricted:
            return
        for rel in opts.related_objects:
            if not rel.field.unique or rel.many_to_many:
                continue
            if not select_related_descend(rel, restricted, requested, mask):
                continue
            name = rel.field.related_query_name()
            found.add(name)
            path = (*prefix, name)
            related_mask = mask.get(rel) or {}
            steps.append(
                RelatedStep(path, prefix, rel.field, True, rel.related_model, related_mask)
            )
            nested = requested.get(name, {})
            self._walk_related(
                steps, rel.related_model._meta, path, nested, depth + 1, related_mask
            )
        invalid = set(requested) - found
        if invalid:
            raise FieldError(
                "Invalid field name(s) given in select_related: "
                f"{', '.join(sorted(repr(n) for n in invalid))}. "
                f"Choices are: {', '.join(_relation_choices(opts)) or '(none)'}"
            )

    def _select_related_columns(self) -> list[str]:
        """Base columns select_related() follows (the keys of the first hops)."""
        opts = self.query.get_meta()
        return [
            step.parent_key.column
            for step in self.related_steps
            if not step.parent and step.parent_key.model._meta.concrete_model is opts.concrete_model
        ]

    def _related_selections(self, rows: list[dict[str, Any]]) -> list[dict] | None:
        """Per row, ``{"author": {attname: value} | None, "author__agent": ...}``.

        One ``$in`` command per select_related() step (plus one per
        multi-table-inheritance parent of a related model that the parent
        row does not already hold), whatever the number of rows.
        """
        steps = self.related_steps
        if not steps or not rows:
            return None
        limit = getattr(self.connection.features, "max_keys_per_command", None)
        base = self.query.get_meta().concrete_model
        root = [
            {
                base: row[self.base_alias],
                **{model: row.get(alias) for model, alias in self.parent_aliases.items()},
            }
            for row in rows
        ]
        # Per path: for each row, the stored documents of the related object by
        # concrete model (its own and its parents'), or None.
        sources: dict[tuple, list[Any]] = {(): root}
        selections: dict[tuple, list[Any]] = {}
        for step in steps:
            parents = sources[step.parent]
            owner = step.parent_key.model._meta.concrete_model
            parent_column, column = step.parent_key.column, step.key.column

            def key(parent, owner=owner, column=parent_column):
                document = parent.get(owner) if parent is not None else None
                return None if document is None else document.get(column)

            keys = [key(parent) for parent in parents]
            opts = step.model._meta.concrete_model._meta
            own_model = opts.concrete_model
            columns = [f.column for f in step.fields if f.model._meta.concrete_model is own_model]
            columns += [
                child.parent_key.column
                for child in steps
                if child.parent == step.path
                and child.parent_key.model._meta.concrete_model is own_model
            ]
            columns.append(opts.pk.column)
            found = fetch_by_keys(self.store, limit, opts, column, keys, columns)
            own = [(found.get(k) or [None])[0] if k is not None else None for k in keys]
            known = parents if step.reverse and step.field.remote_field.parent_link else None
            sources[step.path] = self._with_parents(step.model, own, limit, known)
            selections[step.path] = self._model_values(step, sources[step.path])
        return [
            {"__".join(path): values[index] for path, values in selections.items()}
            for index in range(len(rows))
        ]

    def _with_parents(self, model, documents, limit, known=None) -> list[Any]:
        """Per stored row of ``model``: ``{concrete model: document}`` with its MTI parents.

        Parents come from ``known`` (the row we came from, when following a
        parent link in reverse) or are fetched by the shared key, one command
        per parent model.
        """
        opts = model._meta
        inherited = known or [None] * len(documents)
        result = [
            None if d is None else {**(k or {}), opts.concrete_model: d}
            for d, k in zip(documents, inherited, strict=True)
        ]
        pk_column = opts.pk.column
        for parent in opts.get_parent_list():
            parent = parent._meta.concrete_model
            if known is not None and all(r is None or parent in r for r in result):
                continue
            parent_opts = parent._meta
            keys = [d.get(pk_column) for d in documents if d is not None]
            found = fetch_by_keys(self.store, limit, parent_opts, parent_opts.pk.column, keys)
            for entry, document in zip(result, documents, strict=True):
                if entry is not None:
                    entry[parent] = (found.get(document.get(pk_column)) or [None])[0]
        return result

    def _model_values(self, step: RelatedStep, sources: list[Any]) -> list[Any]:
        """``{attname: value}`` per related object (None stays None), converters applied."""
        connection, ops = self.connection, self.connection.ops
        fields = []
        for field in step.fields:
            col = field.get_col("related")
            functions = ops.get_db_converters(col) + col.get_db_converters(connection)
            fields.append((field, field.model._meta.concrete_model, functions, col))
        values = []
        for source in sources:
            if source is None:
                values.append(None)
                continue
            row = {}
            for field, owner, functions, col in fields:
                stored = source.get(owner)
                value = None if stored is None else stored.get(field.column)
                for function in functions:
                    value = function(value, col, connection)
                row[field.attname] = value
            values.append(row)
        return values

    def has_results(self) -> bool:
        if is_grouped(self.query):
            return bool(GroupedRead(self).rows())
        nq = self.build_query(with_projection=False)
        return not nq.matches_nothing and self.store.exists(nq)

    def execute_sql(
        self, result_type=MULTI, chunked_fetch=False, chunk_size=GET_ITERATOR_CHUNK_SIZE
    ):
        if result_type == SINGLE:
            if literal_check.is_literal_query(self.query):
                # Q.check(): CheckConstraint and conditional UniqueConstraint validation
                return literal_check.evaluate(self.query, self.connection)
            return self.execute_aggregate(self.query)
        if result_type == MULTI:
            return self.results_iter(chunked_fetch=chunked_fetch, chunk_size=chunk_size)
        raise _unsupported(f"execute_sql({result_type!r}) on a read", "")

    # -- aggregation --------------------------------------------------------
    def execute_aggregate(self, query: Query, source_query: Query | None = None) -> tuple:
        """aggregate()/count() of ``source_query``'s rows: one value per annotation."""
        source_query = source_query or query
        annotations = query.annotation_select
        if is_grouped(source_query):
            row = aggregate_grouped(self, source_query, annotations)
            return tuple(row[alias] for alias in annotations)
        compiler = (
            self if source_query is query else source_query.get_compiler(connection=self.connection)
        )
        if source_query is query and needs_planning(self, annotations):
            row = aggregate_all(self, annotations)
            return tuple(row[alias] for alias in annotations)
        specs = [self._aggregate_spec(alias, expr) for alias, expr in annotations.items()]
        distinct_rows = source_query is not query and source_query.distinct and source_query.select
        if distinct_rows and not all(isinstance(col, Col) for col in source_query.select):
            # values("meta__key").distinct().count(): distinct over document paths
            # or expressions; the rows are read made distinct, and counted.
            if not all(s.function == "count" and s.path is None for s in specs):
                raise _unsupported(
                    "Aggregating a distinct values() over document paths or expressions",
                    "Aggregate the values in Python.",
                )
            total = sum(1 for _ in compiler.results_iter())
            return tuple(total for _ in annotations)
        nq = compiler.build_query(with_projection=False)
        if distinct_rows:
            nq.columns = [col.target.column for col in source_query.select]
        if nq.matches_nothing:
            row = {spec.alias: (0 if spec.function == "count" else None) for spec in specs}
        elif all(s.function == "count" and s.path is None for s in specs) and not (
            nq.distinct and nq.columns
        ):
            total = compiler._count(nq)
            row = {spec.alias: total for spec in specs}
        elif compiler.row_weights:
            row = compiler._weighted_aggregate(nq, specs)
        else:
            row = self.store.aggregate(nq, specs)[0]
        return tuple(row[alias] for alias in annotations)

    def _weighted_aggregate(self, nq: NonrelQuery, specs: list[Aggregate]) -> dict[str, Any]:
        """Aggregates over rows a JOIN-like filter repeats: each row counts as often as
        SQL's JOIN gives it (one projected read, folded in Python)."""
        paths = [spec.path for spec in specs if spec.path is not None]
        weights = [column for column, _ in self.row_weights]
        nq.columns = list(dict.fromkeys([*(str(path[0]) for path in paths), *weights]))
        rows = self._repeat(list(self.store.fetch(replace(nq, low=0, high=None))))
        rows = rows[nq.low or 0 : nq.high]
        partials = {spec.alias: Partial() for spec in specs}
        for row in rows:
            for spec in specs:
                partials[spec.alias].add(1 if spec.path is None else dig(row, spec.path), spec)
        return {spec.alias: partials[spec.alias].result(spec) for spec in specs}

    def _count(self, nq: NonrelQuery) -> int:
        """count(): one count command, or the repeated rows of a JOIN-like filter."""
        weights = self.row_weights
        if not weights:
            return self.store.count(nq)
        low, high = nq.low, nq.high
        nq.low, nq.high, nq.columns = 0, None, [column for column, _ in weights]
        total = len(self._repeat(list(self.store.fetch(nq))))
        total = total if high is None else min(total, high)
        return max(total - low, 0)

    def _aggregate_spec(self, alias: str, expr: Any) -> Aggregate:
        function = next(
            (name for cls, name in AGGREGATE_FUNCTIONS.items() if type(expr) is cls), None
        )
        if function is None or not isinstance(expr, DjangoAggregate):
            raise _unsupported(
                f"The aggregate {alias!r} ({type(expr).__name__})",
                "Use Count, Sum, Avg, Min or Max over a model field.",
            )
        condition = getattr(expr, "filter", None)
        if getattr(condition, "condition", condition):  # Django 6.1: AggregateFilter
            raise _unsupported("Aggregates with filter=", "Filter the queryset before aggregating.")
        source = expr.get_source_expressions()[0]
        while isinstance(source, Ref):
            source = source.source
        if isinstance(source, Star) or (isinstance(source, Value) and function == "count"):
            return Aggregate(alias=alias, function=function, distinct=expr.distinct)
        if isinstance(source, Col) and source.alias not in (self.base_alias, None):
            raise _unsupported(
                f"The aggregate {alias!r} over a related model's field",
                "Aggregate the related model's queryset, filtered by key.",
            )
        if isinstance(source, Col):
            return Aggregate(
                alias=alias,
                function=function,
                path=(source.target.column,),
                distinct=expr.distinct,
            )
        raise _unsupported(
            f"The aggregate {alias!r} over {type(source).__name__}",
            "Aggregate over a model field.",
        )

    def as_sql(self, with_limits=True, with_col_aliases=False):
        """A readable description of the command (``str(queryset.query)``)."""
        return self.store.describe(self.build_query()), ()


@dataclass(frozen=True)
class RelatedStep:
    """One select_related() hop: ``path`` (names from the queried model), its parent path,
    the FK/one-to-one ``field``, whether it is followed in ``reverse`` and the target model."""

    path: tuple[str, ...]
    parent: tuple[str, ...]
    field: Any
    reverse: bool
    model: Any
    #: Django's select mask of the related model (only()/defer()); empty: every field.
    mask: Any = None

    @property
    def fields(self) -> list[Any]:
        """The related model's concrete fields this step loads (deferred ones are not)."""
        fields = self.model._meta.concrete_fields
        return [f for f in fields if not self.mask or f in self.mask]

    @property
    def parent_key(self):
        """The field whose value on the parent row is the key to look up."""
        return self.field.target_field if self.reverse else self.field

    @property
    def key(self):
        """The field of the related model the key is matched against."""
        return self.field if self.reverse else self.field.target_field


def _relation_choices(opts) -> list[str]:
    direct = [f.name for f in opts.fields if f.is_relation]
    reverse = [r.field.related_query_name() for r in opts.related_objects if r.field.unique]
    return direct + reverse


def _hashable_key(value: Any) -> Any:
    return value if not isinstance(value, (list, dict)) else repr(value)


def _dig(document: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    """The value at ``path`` inside a stored row, comparable in Python."""
    value: Any = document
    for segment in path:
        try:
            value = value[segment]
        except (KeyError, IndexError, TypeError):
            return None
    return value.to_decimal() if hasattr(value, "to_decimal") else value


class NonrelInsertCompiler(sql.SQLInsertCompiler):
    """save() of a new row and bulk_create(): one insert command per batch."""

    def prepare_value(self, field, value):
        """A literal, or an expression without columns (``Lower(Value("x"))``, ``Now()``,
        an expression db_default) evaluated in Python, as Django's checks allow."""
        if isinstance(value, DatabaseDefault):
            value = field._db_default_expression
        if hasattr(value, "resolve_expression"):
            value = value.resolve_expression(self.query, allow_joins=False, for_save=True)
            # Django's own checks (SQLInsertCompiler.prepare_value), same messages.
            if value.contains_column_references:
                raise ValueError(
                    f'Failed to insert expression "{value}" on {field}. F() expressions '
                    "can only be used to update, not to insert."
                )
            if value.contains_aggregate:
                raise FieldError(
                    f"Aggregate functions are not allowed in this query ({field.name}={value!r})."
                )
            if value.contains_over_clause:
                raise FieldError(
                    f"Window expressions are not allowed in this query ({field.name}={value!r})."
                )
            if isinstance(value, Value):
                value = value.value
            else:
                evaluator = ExpressionEvaluator(
                    self.connection, self.query.get_meta().db_table, None
                )
                value = output_value(evaluator.compile(value)({}), value)
        return field.get_db_prep_save(value, connection=self.connection)

    def _rows(self, fields: list[Any]) -> list[dict[str, Any]]:
        """The stored row of each object: pre_save, then the field's save preparation.

        Stock scalar fields holding a value of their own Python type are copied
        as they are: Django's preparation returns such values unchanged, and
        skipping it is most of the client time of a bulk insert.
        """
        plan = [
            (field, field.column, field.attname, passthrough_type(field, self.connection))
            for field in fields
        ]
        rows = []
        for obj in self.query.objs:
            row = {}
            for field, column, attname, kind in plan:
                if kind is not None:
                    value = getattr(obj, attname)
                    if type(value) is kind:
                        row[column] = value
                        continue
                else:
                    value = self.pre_save_val(field, obj)
                row[column] = self.prepare_value(field, value)
            rows.append(row)
        return rows

    def execute_sql(self, returning_fields=None):
        query = self.query
        opts = query.get_meta()
        store = self.connection.store
        fields = list(query.fields)
        rows = self._rows(fields)
        auto = opts.auto_field
        integer_keys = auto is not None and auto.get_internal_type() in INTEGER_AUTO_FIELDS
        if integer_keys and auto not in fields and rows:
            pks = store.allocate_keys(opts.db_table, auto, len(rows))
            for row, pk in zip(rows, pks, strict=True):
                row[auto.column] = pk
        elif integer_keys:
            store.note_explicit_keys(opts.db_table, [row.get(auto.column) for row in rows])
        features = self.connection.features
        if getattr(features, "checks_not_null", False):
            required = not_null_fields(query.model, fields)
            for row in rows:
                check_required(query.model, row, required)
        if getattr(features, "stores_unique_nulls_as_absent", False):
            absent = absent_when_null(query.model)
            rows = [
                {k: v for k, v in row.items() if v is not None or k not in absent} for row in rows
            ]
        on_conflict = getattr(query, "on_conflict", None)
        pks = (
            store.insert(
                opts.db_table,
                rows,
                opts.pk.column,
                ignore_conflicts=on_conflict is not None and on_conflict.name == "IGNORE",
            )
            if rows
            else []
        )
        if on_conflict is not None and on_conflict.name == "UPDATE":
            raise _unsupported("bulk_create(update_conflicts=True)", "Use update_or_create().")
        if not returning_fields:
            return []
        values = []
        for pk, row in zip(pks, rows, strict=True):
            values.append(
                tuple(pk if f.primary_key else row.get(f.column) for f in returning_fields)
            )
        cols = [f.get_col(opts.db_table) for f in returning_fields]
        converters = self.get_converters(cols)
        if converters:
            values = list(self.apply_converters(values, converters))
        return values


class NonrelDeleteCompiler(NonrelCompiler, sql.SQLDeleteCompiler):
    """QuerySet.delete() fast path and Collector batches: one delete command."""

    def execute_sql(self, result_type=MULTI, **kwargs):
        nq = self.build_query(with_projection=False)
        count = 0 if nq.matches_nothing else self.store.delete(nq)
        return RowCountCursor(count) if result_type == CURSOR else count


class NonrelUpdateCompiler(NonrelCompiler, sql.SQLUpdateCompiler):
    """QuerySet.update(): one update command, F() arithmetic as $inc/$mul."""

    def execute_sql(self, result_type):
        if self.query.related_updates:
            self._pin_related_ids()
        nq = self.build_query(with_projection=False)
        values = {}
        fields = {}
        computed = {}
        for field, _model, value in self.query.values:
            update = self._update_value(field, value)
            if callable(update):
                computed[field.column] = update
            else:
                values[field.column] = update
            fields[field.column] = field
        if routes_by_shard_key(self.connection):
            refuse_shard_key_change(self.query.model, nq.where, {**values, **computed})
        count = None
        if computed and not nq.matches_nothing:
            count = self._update_in_python(nq, values, computed, fields)
        elif values and not nq.matches_nothing:
            count = self.store.update(nq, self._writable(values, fields))
        for related in self.query.get_related_updates():
            # As in Django: with nothing to write here, a parent's count is the result.
            related_count = related.get_compiler(self.using).execute_sql(None)
            if count is None and related_count:
                count = related_count
        count = count or 0
        return RowCountCursor(count) if result_type == CURSOR else count

    def _writable(self, values: dict[str, UpdateValue], fields: dict[str, Any]):
        """``values`` checked for NOT NULL, NULLs of unique fields written as absent."""
        features = self.connection.features
        if getattr(features, "checks_not_null", False):
            literal = {c: v.value for c, v in values.items() if v.operator == "set"}
            check_not_null(self.query.model, literal, [fields[c] for c in values])
        if getattr(features, "stores_unique_nulls_as_absent", False):
            absent = absent_when_null(self.query.model)
            for column, value in values.items():
                if column in absent and value.operator == "set" and value.value is None:
                    values[column] = UpdateValue("unset", None)
        return values

    def _update_in_python(self, nq, values, computed, fields) -> int:
        """update() with expressions: evaluated on the rows read, written back guarded.

        The matching rows are read once (bounded, projected to the columns
        the expressions read); rows that read the same values get the same new
        values, so there is one update command per distinct combination. Each
        command also requires those columns to still hold what was read: a
        row another writer changed in between is left alone and not counted,
        instead of being overwritten with a value computed from stale data.
        """
        evaluator = self.evaluator
        pk = nq.pk_column
        read = [column for column in evaluator.columns if column != pk]
        nq.columns = [pk, *read]
        documents = self._bounded_fetch(nq, "update() with expressions evaluated in Python")
        groups: dict[str, tuple[dict[str, Any], list[Any]]] = {}
        for document in documents:
            key = repr([_hashable_key(document.get(column)) for column in read])
            groups.setdefault(key, (document, []))[1].append(document[pk])
        count = 0
        pk_field = self.query.get_meta().pk
        for document, keys in groups.values():
            changes = dict(values)
            for column, evaluate in computed.items():
                changes[column] = UpdateValue(
                    "set", fields[column].get_db_prep_save(evaluate(document), self.connection)
                )
            guard = [Leaf((pk,), "in", keys, field=pk_field)]
            for column in read:
                stored = document.get(column)
                guard.append(
                    Leaf((column,), "isnull", True)
                    if stored is None
                    else Leaf((column,), "exact", stored)
                )
            target = NonrelQuery(table=nq.table, pk_column=pk, where=Node(children=guard))
            count += self.store.update(target, self._writable(changes, fields))
        return count

    def _update_value(self, field, value) -> UpdateValue | Any:
        """The write for ``field``: an UpdateValue, or a function of the stored row."""
        if hasattr(value, "resolve_expression"):
            value = value.resolve_expression(self.query, allow_joins=False, for_save=True)
            arithmetic = (
                self._arithmetic(field, value) if isinstance(value, CombinedExpression) else None
            )
            if arithmetic is not None:
                return arithmetic
            if not isinstance(value, Value):
                evaluate = self.evaluator.compile(value)
                return lambda document, e=value: output_value(evaluate(document), e)
            value = value.value
        if hasattr(value, "prepare_database_save"):
            value = value.prepare_database_save(field) if field.remote_field else value
        return UpdateValue("set", field.get_db_prep_save(value, connection=self.connection))

    def _arithmetic(self, field, expr: CombinedExpression) -> UpdateValue | None:
        """F('same_field') + n, - n or * n: an atomic $inc/$mul (None: evaluate in Python)."""
        lhs, rhs = expr.lhs, expr.rhs
        # Only where the server's arithmetic is SQL's: exact integers and doubles
        # (a DecimalField stored as a double would drift; dates are not numbers).
        kind = field.get_internal_type()
        if (
            (kind.endswith("IntegerField") or kind == "FloatField")
            and isinstance(rhs.value if isinstance(rhs, Value) else None, (int, float))
            and isinstance(lhs, Col)
            and lhs.target.column == field.column
            and isinstance(rhs, Value)
            and expr.connector in ("+", "-", "*")
        ):
            amount = rhs.value
            if expr.connector == "-":
                amount = -amount
            operator = "mul" if expr.connector == "*" else "inc"
            return UpdateValue(operator, field.get_db_prep_save(amount, self.connection))
        return None

    def _pin_related_ids(self) -> None:
        """Updates of inherited fields go to the parents' collections by key.

        As Django's SQL compiler does, the matching keys are read once, so
        the child and each parent update the same rows (a child and its
        multi-table-inheritance parents share the key).
        """
        query = self.query.chain(klass=Query)
        query.select_related = False
        query.clear_ordering(force=True)
        query.clear_select_fields()
        meta = query.get_meta()
        names = [meta.pk.name]
        index = {}
        for parent in self.query.related_updates:
            index[parent] = 0
            # A parent outside the primary-key chain (multiple inheritance)
            # has keys of its own, read through the join to it.
            if not all(p.join_field.primary_key for p in meta.get_path_to_parent(parent)):
                index[parent] = len(names)
                names.append(parent._meta.pk.name)
        query.add_fields(names)
        compiler = query.get_compiler(connection=self.connection)
        rows = [list(row["result"].values()) for row in compiler.results_iter()]
        self.query.clear_where()
        self.query.add_filter("pk__in", [row[0] for row in rows])
        self.query.related_ids = {
            parent: [row[position] for row in rows] for parent, position in index.items()
        }

    def pre_sql_setup(self):
        return None


class NonrelAggregateCompiler(NonrelCompiler):
    """aggregate()/count() over a sliced, distinct or annotated queryset."""

    def execute_sql(self, result_type=MULTI, **kwargs):
        return self.execute_aggregate(self.query, self.query.inner_query)

    def as_sql(self, with_limits=True, with_col_aliases=False):
        inner = self.query.inner_query.get_compiler(connection=self.connection)
        return inner.as_sql()
