"""Compilers that run Django queries on a ``DocumentStore`` instead of SQL.

A nonrel backend's ``DatabaseOperations.compiler_module`` points at a module
that exposes these classes under Django's names (``SQLCompiler``,
``SQLInsertCompiler``, ...). They are thin adapters: ``build_query`` turns
Django's ``Query`` into a read plan (``django_nonrel.read_plan``, built by
``django_nonrel.planning``) and the work is done by modules of functions over
the plan and the backend's store (``django_nonrel.store_contract``):

- ``rows``: the in-memory row engine (joins by key, JOIN row repetition,
  Python filters, ordering outside the store, distinct, slicing);
- ``ordering``, ``selections``, ``select_related``: how a read is ordered,
  what it returns, the related objects it loads;
- ``aggregation``: ``aggregate()``, ``count()``, ``annotate()`` and grouping;
- ``writes``: inserts, updates and deletes (``guarded_writes`` for those Python
  decides).

Reads yield *structured rows*::

    {"result": {attname: value}, "related_selection": {}, "annotations": {...},
     "extra_select": {}}

which the ``structured_rows`` patch feeds straight into model instances and
``values()`` dicts, with Django's converters already applied, so no
intermediate positional row is built.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import transaction
from django.db.models.sql import DeleteQuery
from django.db.models.sql import compiler as sql
from django.db.models.sql.constants import CURSOR, GET_ITERATOR_CHUNK_SIZE, MULTI, SINGLE
from django.db.models.sql.datastructures import Join
from django.db.models.sql.query import Query
from django.db.models.sql.where import WhereNode

from django_nonrel import literal_check
from django_nonrel.aggregation.grouped import GroupedRead
from django_nonrel.aggregation.plain import execute_aggregate
from django_nonrel.aggregation.planner import is_grouped
from django_nonrel.bulk_inserts import keep_returned_keys, refused
from django_nonrel.combined_reads import (
    combined_value_rows,
    describe_combined,
    has_combined_rows,
)
from django_nonrel.described_reads import StepValue, described_reads, is_describing, sent_reads
from django_nonrel.exceptions import PartialInsertError, unsupported
from django_nonrel.expressions import ExpressionEvaluator
from django_nonrel.extra_sql import extra_expressions
from django_nonrel.planning import build_read_plan
from django_nonrel.read_plan import ReadPlan
from django_nonrel.relations import chain_to
from django_nonrel.rows import base_documents, read_rows
from django_nonrel.select_related import RelatedStep, related_selections, related_steps
from django_nonrel.selections import (
    ExtraSelection,
    PlainRows,
    Selected,
    document_reader,
    extra_select_values,
    extra_selections,
    parent_aliases,
    row_reader,
    select,
    selected_chains,
)
from django_nonrel.window_descriptions import windows_step
from django_nonrel.writes import delete, insert, pin_related_ids, update

#: Per row of a read: (values in ``selected_names`` order, related selection,
#: annotations, extra select).
ValueRow = tuple[list[Any], dict, dict, dict]


#: Marks an exhausted iterator (a row may be any value).
_END = object()


def first_step_in(store: Any, rows: Iterator[Any]) -> Iterator[Any]:
    """``rows`` with its first step taken now, inside ``store.one_query()``.

    A compiler's rows are a generator that sends its commands when first
    advanced. Django's SQL compilers execute their statement when called; so
    does this, and the commands of the read are then logged as one query
    (``DocumentStore.one_query``) rather than whenever the caller first iterates.
    """
    with store.one_query():
        rows = iter(rows)
        first = next(rows, _END)
    return iter(()) if first is _END else _chained(first, rows)


def _chained(first: Any, rows: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rows


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


class RowsCursor(RowCountCursor):
    """A read's rows, read when it ran, as a DB-API cursor gives them: what
    ``execute_sql(CURSOR)`` returns for a read (code that fetches from the
    cursor; ``connection.ops.last_executed_query(cursor, ...)`` with ``cursor.db``)."""

    def __init__(self, connection: Any, rows: list[tuple]) -> None:
        super().__init__(len(rows))
        self.db = connection
        self._rows = iter(rows)

    def fetchone(self) -> tuple | None:
        return next(self._rows, None)

    def fetchmany(self, size: int = 1) -> list[tuple]:
        return list(itertools.islice(self._rows, size))

    def fetchall(self) -> list[tuple]:
        return list(self._rows)

    def __iter__(self) -> Iterator[tuple]:
        return self._rows

    def close(self) -> None:
        self._rows = iter(())

    def __exit__(self, *exc: object) -> None:
        self.close()


class NonrelCompiler(sql.SQLCompiler):
    """Reads: iteration, values(), count(), exists(), aggregate().

    The cached properties are what the compiler derives from its query once
    (what it selects and joins); the plan of each read is a value
    (``build_query``) handed to the steps that run it.
    """

    @property
    def store(self):
        """The connection's store (read each time: ``as_sql`` describes through
        ``django_nonrel.described_reads``)."""
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

    # -- what the query selects (django_nonrel.selections) --------------------
    @cached_property
    def selected(self) -> Selected:
        """The selections (computing them joins multi-table-inheritance parents)."""
        return select(self.query, self.base_alias)

    @property
    def selected_names(self) -> list[str]:
        return self.selected.names

    @cached_property
    def extra_selections(self) -> list[ExtraSelection] | None:
        return extra_selections(self.query)

    @cached_property
    def extra_expressions(self) -> dict[str, Any] | None:
        """``extra(select=...)`` as expressions, when they are not joined columns."""
        if self.extra_selections is not None:
            return None
        return extra_expressions(self.query, self.base_alias)

    @cached_property
    def selected_chains(self) -> list[list[str]]:
        chains = selected_chains(
            self.query, self.base_alias, self.selected.selections, self.extra_selections
        )
        # The joins of select_related() FilteredRelation()s, fetched with the rows.
        filtered = [step.alias for step in self.related_steps if step.alias is not None]
        return chains + [chain_to(self.query, self.base_alias, alias) for alias in filtered]

    @cached_property
    def parent_aliases(self) -> dict[Any, str]:
        return parent_aliases(self.query, self.base_alias, self.selected.selections)

    @cached_property
    def related_steps(self) -> list[RelatedStep]:
        """The select_related() tree (``django_nonrel.select_related``)."""
        return related_steps(self.query, self.base_alias)

    def resolve_subquery(self, subquery: Query) -> list[Any]:
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

    # -- the plan -----------------------------------------------------------------
    def build_query(self, *, with_projection: bool = True, in_rows: bool = False) -> ReadPlan:
        """The read plan of this read, update or delete (``django_nonrel.planning``)."""
        return build_read_plan(self, with_projection=with_projection, in_rows=in_rows)

    def read_plan(self) -> ReadPlan | None:
        """The plan of a read that fetches its rows; None when Django proved it empty."""
        try:
            return self.build_query(in_rows=True)
        except EmptyResultSet:
            return None

    # -- reading ------------------------------------------------------------------
    def results_iter(
        self,
        results: Any = None,
        tuple_expected: bool = False,
        chunked_fetch: bool = False,
        chunk_size: int = GET_ITERATOR_CHUNK_SIZE,
    ) -> Iterator[dict[str, Any]]:
        if results is not None:
            return iter(results)
        return first_step_in(self.store, self._structured_rows())

    def _structured_rows(self) -> Iterator[dict[str, Any]]:
        if self.query.combinator:
            yield from self._structured(combined_value_rows(self))
            return
        if is_describing(self.store):
            yield from self._structured(self._described_value_rows())
            return
        if is_grouped(self.query):
            yield from GroupedRead(self).structured_rows()
            return
        yield from self.structured_rows(self.read_plan())

    def structured_rows(self, plan: ReadPlan | None) -> Iterator[dict[str, Any]]:
        """The structured rows of ``plan`` (None: no rows)."""
        return self._structured(self.value_rows(plan))

    def _structured(self, rows: Iterable[ValueRow]) -> Iterator[dict[str, Any]]:
        names = self.selected_names
        for values, related, row_annotations, extra in rows:
            yield {
                "result": dict(zip(names, values, strict=True)),
                "related_selection": related,
                "annotations": row_annotations,
                "extra_select": extra,
            }

    def selected_value_rows(self) -> Iterator[ValueRow]:
        """Per row: (values in ``selected_names`` order, related selection, annotations,
        extra select) -- ``results_iter()``'s content without building its dicts, for
        callers that want the values in order (model instances)."""
        return first_step_in(self.store, self._selected_value_rows())

    def _selected_value_rows(self) -> Iterator[ValueRow]:
        if self.query.combinator:
            yield from combined_value_rows(self)
            return
        if is_describing(self.store):
            yield from self._described_value_rows()
            return
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
        yield from self.value_rows(self.read_plan())

    def fetch_values(self, chunk_size: int | None = None) -> tuple[bool, Iterator[Any]]:
        """(plain, rows) of this read. A read of base documents only (one store
        command; no related selection, annotation, extra select or join: most
        reads; never one with conditions, sort keys or values Python evaluates:
        ``rows.base_documents``) gives ``plain`` True and, per row, the values in
        ``selected_names`` order, skipping the row engine's per-row structures;
        any other read gives ``selected_value_rows()``'s rows. Run now, as one
        query (``first_step_in``). ``chunk_size`` (a chunked read,
        ``QuerySet.iterator()``): the rows are fetched in batches of that many."""
        if is_describing(self.store):
            # A queryset evaluated by code that runs while another read is
            # described (described_reads.sent_reads): its rows are real, read now.
            with sent_reads(self.connection):
                return False, iter(list(self.selected_value_rows()))
        with self.store.one_query():
            plain, rows = self._fetch_values(chunk_size)
            return plain, rows if plain else first_step_in(self.store, rows)

    def _fetch_values(self, chunk_size: int | None) -> tuple[bool, Iterator[Any]]:
        if self.query.combinator or is_grouped(self.query):
            return False, self.selected_value_rows()
        plan = self.read_plan()
        if plan is None or plan.query.matches_nothing:
            # No rows, and not plain: ``selected_names`` lacks the annotations a
            # values() read over them asks for (``dates()`` over a relation).
            return False, iter(())
        # The plan was built for this read alone: its command carries the batch size.
        plan.query.batch_size = chunk_size
        if not (
            self.related_steps
            or plan.annotations
            or plan.computed
            or plan.extra
            or plan.extra_values
        ):
            reader = document_reader(self.connection, self.base_alias, plan.selected)
            documents = None if reader is None else base_documents(plan, self.store)
            if documents is not None:
                return True, PlainRows(documents, reader)
        return False, self.value_rows(plan)

    def value_rows(self, plan: ReadPlan | None) -> Iterator[ValueRow]:
        """The rows ``plan`` reads, as ``selected_value_rows()`` yields them."""
        if plan is None or plan.query.matches_nothing:
            return
        annotations = plan.annotations
        read = row_reader(self.connection, self.base_alias, plan.selected, plan.computed)
        rows = read_rows(plan, self.store)
        extra_values = plan.extra_values
        if annotations or plan.computed or extra_values:
            plan.prepare(rows)
        related = self._related_selections(rows)
        extra = extra_select_values(plan.extra, rows)
        for index, row in enumerate(rows):
            yield (
                read(row),
                related[index] if related else {},
                {alias: evaluate(row) for alias, evaluate in annotations.items()},
                extra[index]
                if extra
                else {name: evaluate(row) for name, evaluate in extra_values.items()},
            )

    def _related_selections(self, rows: list[dict[str, Any]]) -> list[dict] | None:
        """Per row, the select_related() objects' values (None: nothing selected)."""
        if not self.related_steps or not rows:
            return None
        base = self.query.get_meta().concrete_model
        parents = self.parent_aliases.items()
        roots = [
            {base: row[self.base_alias], **{model: row.get(alias) for model, alias in parents}}
            for row in rows
        ]
        return related_selections(self.connection, self.related_steps, roots, rows)

    def has_results(self) -> bool:
        with self.store.one_query():
            if self.query.combinator:
                return has_combined_rows(self)
            if is_grouped(self.query):
                return bool(GroupedRead(self).rows())
            nq = self.build_query(with_projection=False).query
            return not nq.matches_nothing and self.store.exists(nq)

    def execute_sql(
        self, result_type=MULTI, chunked_fetch=False, chunk_size=GET_ITERATOR_CHUNK_SIZE
    ):
        if result_type == SINGLE:
            with self.store.one_query():
                if literal_check.is_literal_query(self.query):
                    # Q.check(): CheckConstraint and conditional UniqueConstraint validation
                    return literal_check.evaluate(self.query, self.connection)
                return execute_aggregate(self, self.query)
        if result_type == MULTI:
            rows = self.results_iter(chunked_fetch=chunked_fetch, chunk_size=chunk_size)
            # Django's contract: a list unless the caller asked for chunks and the
            # backend reads in chunks.
            if chunked_fetch and self.connection.features.can_use_chunked_reads:
                return rows
            return list(rows)
        if result_type == CURSOR:
            # SQL's column order: extra select, the model's columns, annotations.
            rows = [
                (*extra.values(), *values, *annotations.values())
                for values, _, annotations, extra in self.selected_value_rows()
            ]
            return RowsCursor(self.connection, rows)
        raise unsupported(f"execute_sql({result_type!r}) on a read", "")

    def explain_query(self):
        """QuerySet.explain(): Django's refusal where the backend has no EXPLAIN (the
        rows of the query were returned as its plan)."""
        info = self.query.explain_info
        self.connection.ops.explain_query_prefix(info.format, **info.options)
        yield from super().explain_query()

    def as_sql(self, with_limits=True, with_col_aliases=False):
        """``description()`` as SQL text with no parameters: Django renders
        ``str(queryset.query)`` as ``sql % params``, so a ``%`` in a value
        ("50% off") is written ``%%``, as in SQL text (it raised TypeError)."""
        return self.description().replace("%", "%%"), ()

    def description(self) -> str:
        """A readable description of the command (``str(queryset.query)``).

        The plan of a read that evaluates its Python conditions on the rows it
        fetches. Nothing is sent: the reads a plan starts with (key lookups
        across relations, querysets used as values) are described as steps
        before the main command, which refers to their results
        (``django_nonrel.described_reads``). A grouped query is described by the
        read of its rows (the aggregates are computed from them:
        ``django_nonrel.aggregation``).
        """
        with described_reads(self.connection) as steps:
            start = len(steps)
            main = self.describe_command()
            return "; ".join([*steps[start:], main])

    def describe_command(self) -> str:
        """The description of the command this read ends with; the reads it
        starts with are recorded as steps by the describing store (called
        within ``described_reads``)."""
        if self.query.combinator:
            return describe_combined(self)
        if is_grouped(self.query):
            rows = _without_aggregates(self.query).get_compiler(connection=self.connection)
            command = rows.describe_command()
        else:
            command = self.store.describe(self.build_query(in_rows=True).query)
        windows = windows_step(self.query)
        return f"{command}; {windows}" if windows else command

    def _described_value_rows(self) -> list[ValueRow]:
        """This read while another is described (a queryset used as its value):
        a step of its own, whose one row stands for the rows it would give."""
        try:
            command = self.describe_command()
        except EmptyResultSet:
            return []
        step = self.store.step(command)
        return [([StepValue(step, name) for name in self.selected_names], {}, {}, {})]


def _without_aggregates(query: Query) -> Query:
    """``query`` without its aggregates, their filters and its grouping: the rows a
    grouped read folds."""
    rows = query.clone()
    where, _, _ = rows.where.split_having_qualify(must_group_by=True)
    rows.where = where if where is not None else WhereNode()
    aggregated = {a for a, e in rows.annotations.items() if getattr(e, "contains_aggregate", False)}
    rows.set_annotation_mask([a for a in rows.annotation_select if a not in aggregated])
    rows.annotations = {a: e for a, e in rows.annotations.items() if a not in aggregated}
    rows.group_by = None
    return rows


class NonrelInsertCompiler(sql.SQLInsertCompiler):
    """save() of a new row and bulk_create(): one insert command per batch
    (``django_nonrel.writes.insert``; a batch stopped by a refused row:
    ``django_nonrel.bulk_inserts``)."""

    def execute_sql(self, returning_fields=None):
        query = self.query
        try:
            with self.connection.store.one_query():
                values = insert(query, self.connection, returning_fields)
        except PartialInsertError as error:
            pk = query.get_meta().pk
            keys = [key for (key,) in self._converted([(k,) for k in error.keys], [pk])]
            raise refused(query, self.connection, returning_fields, keys, error) from error
        values = self._converted(values, returning_fields)
        keep_returned_keys(query, self.connection, returning_fields, values)
        return values

    def _converted(self, values: list[tuple], fields: list[Any] | None) -> list[tuple]:
        """Stored ``values`` of ``fields`` through Django's converters."""
        if not values:
            return values
        cols = [f.get_col(self.query.get_meta().db_table) for f in fields]
        converters = self.get_converters(cols)
        return list(self.apply_converters(values, converters)) if converters else values


class NonrelDeleteCompiler(NonrelCompiler, sql.SQLDeleteCompiler):
    """QuerySet.delete() fast path and Collector batches: one delete command, or
    guarded ones when Python decides the rows (``django_nonrel.writes.delete``)."""

    def execute_sql(self, result_type=MULTI, **kwargs):
        with self.store.one_query():
            if _decided_by_aggregates(self.query):
                count = self._delete_by_keys()
            else:
                plan = self.build_query(with_projection=False, in_rows=True)
                count = delete(plan, self.connection)
        return RowCountCursor(count) if result_type == CURSOR else count

    def _delete_by_keys(self) -> int:
        """A fast delete filtered on an aggregate (``annotate(n=Count("rels"))
        .filter(n=0).delete()``): Django's SQL compiler deletes ``pk IN (the
        query's keys)``; here the keys are read first (the grouped read computes
        the aggregate), then deleted by key in one atomic block, as Django's
        Collector deletes the rows it collected."""
        model = self.query.model
        rows = model._base_manager.db_manager(self.using).all()
        rows.query = self.query.chain(klass=Query)
        with transaction.atomic(using=self.using, savepoint=False):
            keys = list(rows.order_by().values_list("pk", flat=True))
            return DeleteQuery(model).delete_batch(keys, self.using) if keys else 0


def _decided_by_aggregates(query: Query) -> bool:
    """Whether which rows a delete removes depends on an aggregate (HAVING) or on a
    window function (QUALIFY: computed over the rows a read selects)."""
    return (
        query.where.contains_aggregate
        or query.where.contains_over_clause
        or any(
            getattr(annotation, "contains_aggregate", False)
            for annotation in query.annotations.values()
        )
    )


class NonrelUpdateCompiler(NonrelCompiler, sql.SQLUpdateCompiler):
    """QuerySet.update(): one update command, F() arithmetic as $inc/$mul
    (``django_nonrel.writes.update``)."""

    def execute_sql(self, result_type):
        if self.query.where.contains_aggregate:
            # annotate(n=Count("rels")).filter(n=1).update(...): Django's SQL compiler
            # updates ``pk IN (the grouped query's keys)``; the keys are read first
            # through the grouped read (which computes the aggregate), then updated
            # by key in one atomic block, as a fast delete does.
            with transaction.atomic(using=self.using, savepoint=False):
                pin_related_ids(self.query, self.connection)
                return self._execute_update(result_type)
        if self.query.related_updates:
            # A query of its own, as Django's SQL compiler selects the keys first.
            pin_related_ids(self.query, self.connection)
        return self._execute_update(result_type)

    def _execute_update(self, result_type):
        with self.store.one_query():
            plan = self.build_query(with_projection=False, in_rows=True)
            evaluator = ExpressionEvaluator(self.connection, self.base_alias)
            count = update(plan, self.query, self.connection, evaluator)
        for related in self.query.get_related_updates():
            # As in Django: with nothing to write here, a parent's count is the result.
            related_count = related.get_compiler(self.using).execute_sql(None)
            if count is None and related_count:
                count = related_count
        count = count or 0
        return RowCountCursor(count) if result_type == CURSOR else count

    def pre_sql_setup(self):
        return None


class NonrelAggregateCompiler(NonrelCompiler):
    """aggregate()/count() over a sliced, distinct or annotated queryset."""

    def execute_sql(self, result_type=MULTI, **kwargs):
        with self.store.one_query():
            return execute_aggregate(self, self.query, self.query.inner_query)

    def as_sql(self, with_limits=True, with_col_aliases=False):
        inner = self.query.inner_query.get_compiler(connection=self.connection)
        return inner.as_sql()

    def description(self) -> str:
        return self.query.inner_query.get_compiler(connection=self.connection).description()
