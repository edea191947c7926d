"""Building the read plan from a compiled Django query (``build_read_plan``).

The compiler's ``build_query`` calls this: the selections first (they join
multi-table-inheritance parents into the query), then the WHERE
(``django_nonrel.where``), the conditions only Python evaluates, the ordering
(``django_nonrel.ordering``) and, for a read, what it returns and the columns
the store projects for it.

Building the plan already runs commands where a condition needs them: a
filter across a relation becomes a key lookup, and a condition only Python
evaluates is, outside a read that fetches the rows anyway, resolved to a key
list with one bounded read (``filter_in_python``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from django.db.models.sql.constants import LOUTER
from django.db.models.sql.query import Query
from django.db.models.sql.where import XOR, WhereNode

from django_nonrel.described_reads import is_describing
from django_nonrel.evaluation_scope import aliases_in, needs_python
from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import ExpressionEvaluator, Row
from django_nonrel.ordering import ordering_sources, plan_ordering
from django_nonrel.paths import hashable
from django_nonrel.query import Leaf, Node, NonrelQuery
from django_nonrel.read_plan import JoinStep, ReadPlan
from django_nonrel.relations import (
    chain_to,
    is_single_valued,
    join_of,
    join_restriction,
    joined_opts,
    key_casts,
)
from django_nonrel.rows import bounded_fetch, join_rows
from django_nonrel.select_related import RelatedStep, filtered_reads, select_related_columns
from django_nonrel.selections import (
    ExtraSelection,
    Selected,
    selected_annotations,
    selected_values,
)
from django_nonrel.where import BuiltFilter, Weight, WhereBuilder
from django_nonrel.windows import WindowEvaluator


class CompiledQuery(Protocol):
    """What the plan is built from: a Django query and what its compiler derived."""

    query: Query
    connection: Any
    base_alias: str
    #: The read's selections (computing them joins multi-table parents first).
    selected: Selected
    extra_selections: list[ExtraSelection] | None
    #: ``extra(select=...)`` entries as expressions (when they are not joined columns).
    extra_expressions: dict[str, Any] | None
    selected_chains: list[list[str]]
    parent_aliases: dict[Any, str]
    related_steps: list[RelatedStep]

    def resolve_subquery(self, subquery: Query) -> list[Any]:
        """The single column of a queryset used as a filter value."""


def build_read_plan(
    compiled: CompiledQuery, *, with_projection: bool = True, in_rows: bool = False
) -> ReadPlan:
    """The plan of this read, update or delete.

    Conditions the store cannot run are evaluated in Python: with ``in_rows``
    (a read that fetches the rows anyway, or an update/delete that writes the
    rows it decides guarded, ``django_nonrel.guarded_writes``) on those rows;
    otherwise they are resolved to a key list first. ``with_projection`` plans
    what a read returns (not needed to count, update or delete). Expressions
    reading related models' fields join those models' rows by key first.
    """
    query, connection, base_alias = compiled.query, compiled.connection, compiled.base_alias
    features = connection.features
    reject_unsupported(query, compiled.extra_selections, compiled.extra_expressions)
    opts = query.get_meta()
    nq = NonrelQuery(table=opts.db_table, pk_column=opts.pk.column)
    if with_projection:
        selected = compiled.selected  # joins parent tables (MTI) before the WHERE
    evaluator = WindowEvaluator(connection, base_alias)
    where, qualify = split_qualify(query.where)
    if qualify and in_rows and not with_projection:
        # A delete reads its keys first (NonrelDeleteCompiler); SQL has no window
        # in an UPDATE's WHERE either.
        raise unsupported(
            "An update filtered on a window function",
            "Read the keys of the rows first (values_list('pk', flat=True)) and filter on them.",
        )
    pushed, residual = split_where(where, features.supports_date_part_expressions)
    # A read that fetches its rows, and an update/delete deciding its rows,
    # evaluate the conditions on them; other plans resolve them to keys first.
    row_predicates = [evaluator.predicate(node) for node in residual] if in_rows else []
    ordering = plan_ordering(query, base_alias, evaluator)
    keep_columns: dict[str, list[str]] = {}
    if with_projection:
        computed = {name: evaluator.compile(expr) for name, expr in selected.computed.items()}
        annotations = selected_annotations(query, evaluator)
        extra_values = selected_values(compiled.extra_expressions or {}, evaluator)
        reads = selection_reads(selected, compiled.extra_selections)
        reads += filtered_reads(compiled.related_steps)
        selected_columns = join_columns(query, compiled.selected_chains, reads)
        keep_columns = {
            chain[0]: selected_columns[chain[0]] for chain in compiled.selected_chains if chain
        }
    builder = WhereBuilder(connection, base_alias, compiled.resolve_subquery, query, keep_columns)
    built = builder.build(pushed)
    if built.unrepeated:
        # SQL repeats a row once per combination of related rows that makes the
        # condition true: it is evaluated on the joined rows (the store's
        # filter, which has the same rows once each, stays as a first cut).
        repeated = repeated_conditions(query, base_alias, pushed, built.unrepeated)
        residual = [*residual, *repeated]
        if in_rows:
            row_predicates += [evaluator.predicate(node) for node in repeated]
        built = replace(built, unrepeated=())
    # The related rows the read's own expressions, or an update/delete's
    # conditions, need (a count orders nothing).
    joined = evaluator.joined if with_projection or in_rows else {}
    chains = [chain_to(query, base_alias, alias) for alias in joined]
    if built.condition is False:
        nq.matches_nothing = True
    elif built.condition is not True:
        condition = built.condition
        nq.where = condition if isinstance(condition, Node) else Node(children=[condition])
    python_weights = None
    if (residual or qualify) and not in_rows:
        python_weights, evaluated = filter_in_python(compiled, nq, residual, built, qualify)
        chains += evaluated
    nq.low, nq.high = query.low_mark, query.high_mark
    nq.ordering = ordering.store
    nq.distinct = query.distinct
    # The aliases a read selects matter for projections and for row weights only.
    selects = with_projection or (built.row_weights and not query.distinct)
    plan = ReadPlan(
        query=nq,
        base_alias=base_alias,
        filter=built,
        ordering=ordering,
        distinct=query.distinct,
        selected_aliases=frozenset(
            alias
            for chain in [*(compiled.selected_chains if selects else ()), *chains]
            for alias in chain
        ),
        row_predicates=row_predicates,
        window_predicates=[evaluator.predicate(node) for node in qualify] if in_rows else [],
        python_weights=python_weights,
        prepare=evaluator.prepare,
        evaluation_limit=features.max_rows_evaluated_in_python,
        key_limit=features.max_keys_per_command,
    )
    plan.compute_windows = evaluator.compute_windows if evaluator.windows else None
    joined_reads = [(alias, column) for alias, names in joined.items() for column in names]
    if not with_projection:
        if in_rows:
            # An update/delete deciding its rows: the joins its conditions read, and
            # the stored columns its guard re-checks (the joins' keys among them).
            plan.joins = join_steps(connection, query, join_columns(query, chains, joined_reads))
            plan.predicate_columns = list(
                dict.fromkeys([*evaluator.columns, *start_columns(query, chains)])
            )
        return plan
    reads += joined_reads
    chains = [*compiled.selected_chains, *chains]
    plan.joins = join_steps(connection, query, join_columns(query, chains, reads))
    plan.selected = selected
    plan.extra = compiled.extra_selections
    plan.extra_values = extra_values
    plan.annotations = annotations
    plan.computed = computed
    plan.ordering_sources = ordering_sources(
        ordering.related,
        base_alias,
        compiled.parent_aliases,
        {step.alias: step.parent_alias for step in plan.joins},
    )
    plan.distinct_values = query.distinct and not query.default_cols
    nq.columns = list(
        dict.fromkeys(
            [
                *(column for _, alias, column, *_ in selected.selections if alias == base_alias),
                *evaluator.columns,  # conditions, sort keys, annotations, values() expressions
                *(order.path[0] for order in ordering.python_paths),
                # the keys the joined aliases and the select_related() steps start from
                *start_columns(query, chains),
                *(column for column, _ in plan.row_weights),
                *select_related_columns(opts, compiled.related_steps),
            ]
        )
    )
    nq.whole_rows = (
        query.default_cols
        and not query.get_select_mask()
        and all(alias == base_alias for _, alias, *_ in selected.selections)
    )
    return plan


def reject_unsupported(
    query: Query, extra: list[ExtraSelection] | None, expressions: dict[str, Any] | None
) -> None:
    """Refuse query shapes no step can answer, saying what to do instead."""
    if query.combinator:
        raise unsupported(f"QuerySet.{query.combinator}()", "Evaluate the querysets separately.")
    if query.extra_tables:
        raise unsupported("QuerySet.extra(tables=...)", "Use filter() across relations instead.")
    if query.extra_select and extra is None and expressions is None:
        raise unsupported(
            "QuerySet.extra() with SQL other than columns, literals, %s and + - * /",
            "Use filter() and annotate() instead.",
        )
    if query.distinct_fields:
        raise unsupported("distinct(*fields)", "Use values(*fields).distinct().")


def split_qualify(where: WhereNode) -> tuple[WhereNode, list[Any]]:
    """(the WHERE without conditions on window functions, those conditions).

    As SQL's QUALIFY (Django's ``WhereNode.split_having_qualify``): a condition
    reading a window function is evaluated after the windows are computed over
    the rows the rest of the WHERE keeps; under OR/NOT with one, other
    conditions go with it.
    """
    if not where.contains_over_clause:
        return where, []
    kept, _, qualify = where.split_having_qualify()
    return kept if kept is not None else WhereNode(), [qualify]


def split_where(where: Any, date_parts: bool) -> tuple[Any, list[Any]]:
    """(the part of the WHERE the store runs, conditions evaluated in Python).

    Conditions ANDed at the top are split one by one; a condition the
    store cannot run anywhere else (inside OR/NOT) takes its whole
    top-level branch to Python. ``date_parts``: the store filters on date
    parts (``features.supports_date_part_expressions``).
    """
    if not needs_python(where, date_parts):
        return where, []
    pushed, residual = [], [where]
    if where.connector == "AND" and not where.negated:
        pushed = [child for child in where.children if not needs_python(child, date_parts)]
        residual = [child for child in where.children if needs_python(child, date_parts)]
    for child in residual:
        # A XOR is true only where one of its children is: the store cuts by their OR.
        either = WhereNode(child.children, connector="OR") if _is_xor(child) else None
        if either is not None and not needs_python(either, date_parts):
            pushed.append(either)
    return WhereNode(pushed, connector="AND"), residual


def _is_xor(node: Any) -> bool:
    return isinstance(node, WhereNode) and node.connector == XOR and not node.negated


def repeated_conditions(
    query: Query, base_alias: str, where: Any, aliases: tuple[str, ...]
) -> list[Any]:
    """The top-level conditions of ``where`` that cross one of ``aliases``."""
    nodes = where.children if where.connector == "AND" and not where.negated else [where]
    wanted = set(aliases)

    def crosses(node: Any) -> bool:
        return any(
            wanted.intersection(chain_to(query, base_alias, alias))
            for alias in set(aliases_in(node)) - {base_alias}
        )

    return [node for node in nodes if crosses(node)]


def filter_in_python(
    compiled: CompiledQuery,
    nq: NonrelQuery,
    residual: list[Any],
    built: BuiltFilter,
    qualify: list[Any] = (),
) -> tuple[Weight | None, list[list[str]]]:
    """Conditions the store cannot run become a key list: one bounded read first.

    The rows matching the rest of the filter are read, projected to the
    key and the columns the conditions need, joined (by key) with the
    related rows the conditions read; the conditions are evaluated on them
    (SQL's UNKNOWN excludes a row, as in a WHERE), and ``nq`` then selects
    the matching keys, so ordering, slicing, counting, updates and deletes
    all run on the store as usual. Returns how many joined rows matched per
    key where that is more than one (a JOIN's repetition, for counts and
    aggregates) and the chains of aliases joined. Conditions on window
    functions (``qualify``) are evaluated after the windows are computed over
    the rows the other conditions keep.
    """
    connection, query, base = compiled.connection, compiled.query, compiled.base_alias
    evaluator = WindowEvaluator(connection, base)
    predicates = [evaluator.predicate(node) for node in residual]
    windowed = [evaluator.predicate(node) for node in qualify]
    rows, chains = evaluated_rows(compiled, nq, evaluator, built, "A filter evaluated in Python")
    pk = nq.pk_column
    counts: dict[Any, int] = {}
    keys: dict[Any, Any] = {}
    describing = is_describing(connection.store)
    if not describing:
        rows = [row for row in rows if all(predicate(row) for predicate in predicates)]
        if windowed:
            evaluator.compute_windows(rows)
            rows = [row for row in rows if all(predicate(row) for predicate in windowed)]
    for row in rows:
        key = row[base][pk]
        keys.setdefault(hashable(key), key)
        counts[hashable(key)] = counts.get(hashable(key), 0) + 1
    pk_field = query.get_meta().pk
    nq.where = Node(children=[Leaf((pk,), "in", list(keys.values()), field=pk_field)])
    nq.matches_nothing = not keys
    repeated = any(count > 1 for count in counts.values())
    return ((pk, counts) if repeated else None), chains


def evaluated_rows(
    compiled: CompiledQuery,
    nq: NonrelQuery,
    evaluator: ExpressionEvaluator,
    built: BuiltFilter,
    what: str,
    columns: tuple[str, ...] = (),
) -> tuple[list[Row], list[list[str]]]:
    """The rows of ``nq`` (bounded: ``what`` names the evaluation in the refusal),
    projected to the key, ``columns`` and what ``evaluator``'s functions read,
    joined with the related rows they read (their chains of aliases returned
    too), the correlated subqueries run for all of them."""
    connection, query, base = compiled.connection, compiled.query, compiled.base_alias
    chains = [chain_to(query, base, alias) for alias in evaluator.joined]
    reads = [(alias, column) for alias, names in evaluator.joined.items() for column in names]
    steps = join_steps(connection, query, join_columns(query, chains, reads))
    starts = start_columns(query, chains)
    probe = replace(
        nq,
        columns=list(dict.fromkeys([nq.pk_column, *columns, *evaluator.columns, *starts])),
        ordering=[],
        low=0,
        high=None,
        distinct=False,
    )
    features = connection.features
    documents = bounded_fetch(connection.store, probe, features.max_rows_evaluated_in_python, what)
    rows = join_rows(connection.store, base, documents, steps, built, features.max_keys_per_command)
    evaluator.prepare(rows)
    return rows, chains


def start_columns(query: Query, chains: list[list[str]]) -> list[str]:
    """The columns of the queried table the joins of ``chains`` start from."""
    return [
        parent_column
        for chain in chains
        if chain
        for parent_column, _ in join_of(query, chain[0]).join_cols
    ]


def selection_reads(
    selected: Selected, extra: list[ExtraSelection] | None
) -> list[tuple[str, str]]:
    """(alias, column) of every stored column a read's selections read."""
    reads = [(alias, column) for _, alias, column, *_ in selected.selections]
    return reads + [(alias, column) for _, alias, column in extra or ()]


def join_columns(
    query: Query, chains: list[list[str]], reads: list[tuple[str, str]]
) -> dict[str, list[str]]:
    """Joined aliases (parents first) -> the columns to read there: ``reads``
    (alias, column) on them, and the keys each join and its children need."""
    order = dict.fromkeys(alias for chain in chains for alias in chain)
    columns: dict[str, list[str]] = {alias: [] for alias in order}
    for alias, column in reads:
        if alias in columns:
            columns[alias].append(column)
    for alias in order:
        join = join_of(query, alias)
        for parent_column, column in join.join_cols:
            columns[alias].append(column)
            if join.parent_alias in columns:
                columns[join.parent_alias].append(parent_column)
    return {alias: list(dict.fromkeys(names)) for alias, names in columns.items()}


def join_steps(connection, query: Query, columns: dict[str, list[str]]) -> list[JoinStep]:
    """The joined aliases a read selects (``columns``: alias -> columns, parents first)."""
    steps = []
    for alias, read in columns.items():
        join = join_of(query, alias)
        parent_column, column = join.join_cols[0]
        steps.append(
            JoinStep(
                alias=alias,
                parent_alias=join.parent_alias,
                parent_column=parent_column,
                column=column,
                opts=joined_opts(join),
                outer=join.join_type == LOUTER,
                single_valued=is_single_valued(join),
                restriction=join_restriction(connection, join)[0],
                columns=read,
                parent_key=key_casts(connection, join)[1],
                parent_columns=tuple(pair[0] for pair in join.join_cols),
                key_columns=tuple(pair[1] for pair in join.join_cols),
            )
        )
    return steps
