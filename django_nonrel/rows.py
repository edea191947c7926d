"""The in-memory row engine: what a read does with rows after the store returned them.

A store runs filters, ordering, slicing and projection on one table. Where a
read needs more -- conditions or sort keys only Python evaluates, rows joined
by key from other tables, the repetition of rows a SQL JOIN would give,
``distinct()`` over joined values -- the rows are fetched (bounded) and the rest
happens here, on ``{alias: document}`` rows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django_nonrel.collector import collector_paused
from django_nonrel.described_reads import is_describing
from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import Document, Row
from django_nonrel.ordering import python_sorted, random_key, sorted_by_related
from django_nonrel.paths import Path, dig, hashable
from django_nonrel.query import NonrelQuery
from django_nonrel.read_plan import JoinStep, ReadPlan
from django_nonrel.relations import fetch_by_keys, restricted, row_key
from django_nonrel.where import BuiltFilter, Weight


def bounded_fetch(store: Any, query: NonrelQuery, limit: int, what: str) -> list[Document]:
    """The rows of ``query`` (unsliced), refusing more than ``limit`` of them.

    Used wherever Python evaluates something on every matching row: ``what``
    names it in the refusal.
    """
    query = replace(query, low=0, high=limit + 1)
    documents = [] if query.matches_nothing else list(store.fetch(query))
    if len(documents) > limit:
        raise unsupported(
            f"{what} over more than {limit} rows",
            "Narrow the queryset with filters the database runs (on stored field "
            "values) first, or raise connection.features.max_rows_evaluated_in_python.",
        )
    return documents


def repetitions(document: Document, weights: list[Weight]) -> int:
    """How many times the JOINs of a filter would give ``document``."""
    times = 1
    for column, counts in weights:
        times *= counts.get(hashable(document.get(column)), 1)
    return times


def repeat(documents: list[Document], weights: list[Weight]) -> list[Document]:
    """Each document as many times as the JOINs of its filter would give it."""
    if not weights:
        return documents
    return [d for d in documents for _ in range(repetitions(d, weights))]


def store_does_all(plan: ReadPlan) -> bool:
    """Whether the store's one command gives the read's rows in their final order and
    number: nothing to evaluate, sort, repeat or make distinct here (joins by key
    may still follow)."""
    ordering = plan.ordering
    return not (
        plan.distinct_values
        or ordering.related
        or ordering.python
        or plan.row_predicates
        or plan.compute_windows
        or plan.row_weights
        or any(not step.single_valued for step in plan.joins)
    )


def base_documents(plan: ReadPlan, store: Any) -> list[Document] | None:
    """The documents of a read that is one store command and nothing else (no join,
    no step of the row engine); None for any other read (use ``read_rows``)."""
    if plan.joins or not store_does_all(plan):
        return None
    # Decoding makes every document's dicts and lists, all kept: collector.py.
    with collector_paused():
        return list(store.fetch(plan.query))


def matching_documents(plan: ReadPlan, store: Any, documents: list[Document]) -> list[Document]:
    """The ``documents`` that pass ``plan``'s conditions evaluated in Python (an
    update/delete deciding its rows).

    Each document is joined with the related rows its conditions read and the
    correlated subqueries run for all of them at once; a document passes where
    one of its joined rows does (SQL's WHERE over the JOIN: each row is written
    once however many joined rows match).
    """
    rows = _join(plan, store, documents)
    plan.prepare(rows)
    predicates = plan.row_predicates
    base = plan.base_alias
    describing = is_describing(store)
    passing = {
        id(row[base])
        for row in rows
        if describing or all(predicate(row) for predicate in predicates)
    }
    return [document for document in documents if id(document) in passing]


def read_rows(plan: ReadPlan, store: Any) -> list[Row]:
    """The rows of a read as ``{alias: document}``, ordered, made distinct and sliced.

    Ordering by related models' values, distinct ``values()`` and selections
    across multi-valued relations (one row per related row, as a JOIN gives)
    are done client-side over the filtered rows (one extra ``in`` command per
    relation hop), so slicing is applied after them.
    """
    query = plan.query
    ordering = plan.ordering
    weights = plan.row_weights
    in_python = bool(ordering.python or plan.row_predicates or plan.compute_windows)
    if store_does_all(plan):
        return _join(plan, store, list(store.fetch(query)))
    low, high = query.low, query.high
    query = replace(query, low=0, high=None)
    # As in SQL, ordering columns take part in DISTINCT (Django documents
    # this); order_by() without arguments removes them.
    ordering_paths = [order.path for order in query.ordering]
    ordering_paths += [order.path for hops, order in ordering.related if not hops]
    sources = plan.ordering_sources
    if query.columns is not None:
        needed = [source.column for source in sources if source.alias == plan.base_alias]
        if plan.distinct_values:
            needed = [path[0] for path in ordering_paths] + needed
        query = replace(query, columns=list(dict.fromkeys([*query.columns, *needed])))
    extra: dict[str, list[str]] = {}
    for source in sources:
        extra.setdefault(source.alias, []).append(source.column)
    if in_python:
        what = "Ordering" if ordering.python else "A filter" if plan.row_predicates else "A window"
        documents = bounded_fetch(
            store, query, plan.evaluation_limit, f"{what} evaluated in Python"
        )
    else:
        documents = list(store.fetch(query))
    rows = _join(plan, store, repeat(documents, weights), extra)
    if plan.row_predicates:
        plan.prepare(rows)
        predicates = plan.row_predicates
        describing = is_describing(store)
        rows = [
            row for row in rows if describing or all(predicate(row) for predicate in predicates)
        ]
        if plan.distinct and not plan.distinct_values:
            # The conditions were evaluated per joined row; DISTINCT keeps each
            # document once (distinct values() dedupe on their values below).
            rows = _once_per_document(rows, plan.base_alias)
    if plan.compute_windows:
        rows = _windowed(plan, rows, is_describing(store))
    sort_values = None
    if ordering.related:
        rows, sort_values = sorted_by_related(store, rows, ordering.related, sources)
    if ordering.python:
        plan.prepare(rows)
        rows = python_sorted(rows, ordering.python)
    if plan.distinct_values:
        rows = _distinct(plan, rows, ordering_paths, sort_values)
    return rows[low:high]


def _windowed(plan: ReadPlan, rows: list[Row], describing: bool) -> list[Row]:
    """``rows`` (those the WHERE keeps) with the window functions computed over them,
    then the conditions on windows (SQL's QUALIFY) applied."""
    assert plan.compute_windows is not None
    plan.compute_windows(rows)
    if describing or not plan.window_predicates:
        return rows
    return [row for row in rows if all(predicate(row) for predicate in plan.window_predicates)]


def _once_per_document(rows: list[Row], base: str) -> list[Row]:
    """The first row of each base document, in order."""
    seen: set[int] = set()
    kept = []
    for row in rows:
        if id(row[base]) not in seen:
            seen.add(id(row[base]))
            kept.append(row)
    return kept


def _distinct(
    plan: ReadPlan, rows: list[Row], ordering_paths: list[Path], sort_values: list[tuple] | None
) -> list[Row]:
    """Rows once per distinct (selected values, ordering values, annotations); with
    ``sort_values``, each row's related ordering values too (in ``rows`` order)."""
    base = plan.base_alias
    selections = plan.selected.selections if plan.selected else []
    # As SQL adds ORDER BY expressions to a DISTINCT select, so do the sort keys.
    # A random key (order_by("?")) would make every row distinct: it only shuffles.
    sort_keys = [key for key, *_ in plan.ordering.python if key is not random_key]
    annotations = [*plan.annotations.values(), *plan.extra_values.values(), *sort_keys]
    seen = set()
    unique = []
    for index, row in enumerate(rows):
        key = repr(
            [dig(row.get(a) or {}, (c, *p)) for _, a, c, p, _ in selections]
            + [dig(row[base], path) for path in ordering_paths]
            + [evaluate(row) for evaluate in annotations]
            + list(sort_values[index] if sort_values else ())
        )
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def _join(
    plan: ReadPlan, store: Any, documents: list[Document], extra: dict[str, list[str]] | None = None
) -> list[Row]:
    return join_rows(
        store, plan.base_alias, documents, plan.joins, plan.filter, plan.key_limit, extra
    )


def join_rows(
    store: Any,
    base: str,
    documents: list[Document],
    steps: list[JoinStep],
    built: BuiltFilter,
    key_limit: int | None,
    extra: dict[str, list[str]] | None = None,
) -> list[Row]:
    """The rows ``{alias: document}`` of ``documents`` joined along ``steps``: one
    ``in`` command per alias.

    Django's join types decide rows without a match: an INNER join drops
    the row, a LEFT OUTER join keeps it with NULLs. Conditions the filter
    (``built``) put on the same alias (``filter(books__title=...).values("books__pages")``)
    restrict the related rows, as the shared JOIN does in SQL. ``extra``
    names more columns to read per alias (for client-side ordering).
    """
    rows = [{base: document} for document in documents]
    if not steps or not rows:
        return rows
    conditions = built.alias_conditions
    kept = built.kept_rows
    for step in steps:
        alias, column = step.alias, step.column
        columns = list(dict.fromkeys([*(extra or {}).get(alias, ()), *step.columns]))
        composite = len(step.key_columns) > 1
        if alias in kept and set(columns) <= set(kept[alias][0]):
            # The filter's key lookup already read these rows.
            found: dict[Any, list[Document]] = {}
            for related in kept[alias][1]:
                found.setdefault(row_key(related, step.key_columns), []).append(related)
        else:
            keys = [_join_key(step, row.get(step.parent_alias)) for row in rows]
            condition = restricted(conditions.get(alias, True), step.restriction)
            found = fetch_by_keys(
                store,
                key_limit,
                step.opts,
                step.key_columns if composite else column,
                keys,
                columns,
                condition,
            )
        joined = []
        for row in rows:
            source = row.get(step.parent_alias)
            key = _join_key(step, source)
            matches = found.get(hashable(key)) if source is not None else None
            if matches:
                joined.extend({**row, alias: match} for match in matches)
            elif step.outer:
                joined.append({**row, alias: None})
        rows = joined
    return rows


def _join_key(step: JoinStep, source: Document | None) -> Any:
    """The key a parent row ``source`` joins ``step`` by, as the joined rows store
    it (a tuple over a composite join; None joins nothing)."""
    if len(step.key_columns) > 1:
        return row_key(source, step.parent_columns)
    key = None if source is None else source.get(step.parent_column)
    return key if step.parent_key is None else step.parent_key(key)
