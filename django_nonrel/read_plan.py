"""The read plan: what a read, count, update or delete runs, as one value.

A ``ReadPlan`` (built by ``django_nonrel.planning``) holds the ``NonrelQuery``
the store runs and everything the steps after the store need -- conditions
evaluated on the fetched rows, the ordering done outside the store, the rows a
SQL JOIN would have repeated, the joined aliases to fetch by key, the
annotations to evaluate. The steps (``django_nonrel.rows``,
``django_nonrel.aggregation``, ``django_nonrel.writes``) take the plan and the
store; nothing is left on the compiler for a later step to find.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django_nonrel.expressions import Evaluator, Row
from django_nonrel.ordering import OrderingPlan, OrderingSource
from django_nonrel.query import Filter, NonrelQuery
from django_nonrel.relations import KeyCast
from django_nonrel.selections import ExtraSelection, Selected
from django_nonrel.where import BuiltFilter, Weight


@dataclass(frozen=True)
class JoinStep:
    """A joined alias a read selects, fetched by key after the base rows (parents first).

    Rows of ``opts``' table whose ``column`` equals the parent row's
    ``parent_column``, read with ``columns``; ``outer`` (LEFT OUTER) keeps a row
    without a match, with None for the alias; ``restriction`` is the join's own
    condition (a generic relation's content type); ``parent_key`` converts a
    parent value to the type ``column`` stores (None: they store keys alike).
    """

    alias: str
    parent_alias: str
    parent_column: str
    column: str
    opts: Any
    outer: bool
    single_valued: bool
    restriction: Filter
    columns: list[str]
    parent_key: KeyCast | None = None
    parent_columns: tuple[str, ...] = ()
    key_columns: tuple[str, ...] = ()


@dataclass
class ReadPlan:
    """What the store runs for one query, and what the steps after it need."""

    #: The command the store runs.
    query: NonrelQuery
    base_alias: str
    #: The WHERE's findings besides the filter: row weights, kept rows, alias conditions.
    filter: BuiltFilter
    ordering: OrderingPlan
    #: Django's ``distinct()``.
    distinct: bool
    #: Aliases the read selects: their rows are joined one by one, never weighted.
    selected_aliases: frozenset[str] = frozenset()
    #: Conditions evaluated on the fetched rows, after the joins (a read that
    #: fetches anyway, or an update/delete that decides its rows in Python and
    #: writes them guarded).
    row_predicates: list[Evaluator] = field(default_factory=list)
    #: Conditions on window functions (SQL's QUALIFY), evaluated on the rows that
    #: pass ``row_predicates`` once ``compute_windows`` has run over all of them.
    window_predicates: list[Evaluator] = field(default_factory=list)
    #: Computes the read's window functions over the rows the WHERE keeps (None:
    #: the read has none; ``django_nonrel.windows``).
    compute_windows: Callable[[list[Row]], None] | None = None
    #: The stored columns of the queried table an update/delete's ``row_predicates``
    #: read, the keys of their joins included (its guard re-checks them).
    predicate_columns: list[str] = field(default_factory=list)
    #: Matching joined rows per key where a filter evaluated in Python found several
    #: (a JOIN's repetition, for counting): (base column, {key: count}).
    python_weights: Weight | None = None
    #: Runs the correlated subqueries of the plan's expressions for a batch of rows.
    prepare: Callable[[list[Row]], None] = lambda rows: None
    #: Rows Python may evaluate conditions or sort keys on.
    evaluation_limit: int = 10_000
    #: Keys one ``in`` command may carry (None: no limit).
    key_limit: int | None = None
    # -- what a read returns (plans built with their projection) ----------------
    selected: Selected | None = None
    extra: list[ExtraSelection] | None = None
    #: Per ``extra(select=...)`` name answered as an expression
    #: (``django_nonrel.extra_sql``), its value as a function of the row.
    extra_values: dict[str, Evaluator] = field(default_factory=dict)
    #: Per selected annotation, its value as a function of the row.
    annotations: dict[str, Evaluator] = field(default_factory=dict)
    #: Per values() name computed from an expression, its value as a function of the row.
    computed: dict[str, Evaluator] = field(default_factory=dict)
    #: The aliases joined by key to the fetched rows (of an update/delete deciding
    #: its rows in Python too: the ones its conditions read).
    joins: list[JoinStep] = field(default_factory=list)
    ordering_sources: list[OrderingSource] = field(default_factory=list)
    #: ``distinct()`` over selected values (not whole rows): done after the joins.
    distinct_values: bool = False

    @property
    def row_weights(self) -> list[Weight]:
        """(base column, matches per key) of filters that repeat rows as a JOIN does.

        A filter across a multi-valued relation repeats a row once per
        matching related row in SQL; not when the query is distinct(), and not
        for an alias the read joins (its rows are joined one by one already).
        A filter evaluated in Python counts its joined rows itself.
        """
        if self.distinct:
            return []
        weights = [
            weight
            for alias, weight in self.filter.row_weights.items()
            if alias not in self.selected_aliases
        ]
        return weights if self.python_weights is None else [*weights, self.python_weights]
