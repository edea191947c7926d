"""``aggregate()`` and ``count()`` of a queryset without grouping.

Aggregates over the model's own stored fields go to the store in one command;
those over relations, with ``filter=``, ``default=`` or over expressions take
the planned path (``django_nonrel.aggregation.planner``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django_nonrel.aggregation.hops import related_partials
from django_nonrel.aggregation.partials import Partial
from django_nonrel.aggregation.planner import AggregatePlanner, AnnotationPlan, check_where
from django_nonrel.paths import hashable
from django_nonrel.query import NonrelQuery


def aggregate_all(compiler, annotations) -> dict[str, Any]:
    """aggregate() of a queryset without grouping, through the planned path.

    Aggregates over the model's own fields are one ungrouped store call;
    those over relations read the parents' keys (one command) and then one
    command per relation hop, merged over every parent row as a JOIN would.
    """
    planner = AggregatePlanner(compiler)
    plans = {alias: planner.plan(alias, expr) for alias, expr in annotations.items()}
    check_where(compiler.query.where, plans.values())
    nq = compiler.build_query(with_projection=False)
    totals = {alias: Partial() for alias in plans}
    if not nq.matches_nothing:
        store = compiler.store
        own = [p.spec for p in plans.values() if not p.hops and p.compute is None]
        computed = [p for p in plans.values() if p.compute is not None]
        if computed:
            _fold_computed(compiler, nq, computed, totals)
        if own:
            (_, partials), *_ = store.aggregate_groups(nq, own, ()).values()
            for alias, partial in partials.items():
                totals[alias].merge(partial)
        chains: dict[tuple[str, ...], list[AnnotationPlan]] = {}
        for plan in plans.values():
            if plan.hops:
                chains.setdefault(tuple(h.alias for h in plan.hops), []).append(plan)
        if chains:
            columns = list(dict.fromkeys(p[0].hops[0].parent_column for p in chains.values()))
            parents = list(store.fetch(replace(nq, columns=columns, distinct=False)))
            for members in chains.values():
                column = members[0].hops[0].parent_column
                keys = [row.get(column) for row in parents]
                specs = [p.spec for p in members]
                present = [k for k in keys if k is not None]
                by_key = related_partials(store, members[0].hops, specs, present)
                for key in keys:
                    for alias, partial in by_key.get(hashable(key), {}).items():
                        totals[alias].merge(partial)
    values = {}
    for alias, plan in plans.items():
        value = totals[alias].result(plan.spec)
        values[alias] = plan.default if value is None else value
    return values


def _fold_computed(compiler, nq: NonrelQuery, plans: list[AnnotationPlan], totals) -> None:
    """Aggregates of expressions: one bounded read of the columns they need, folded here."""
    columns = [nq.pk_column, *compiler.evaluator.columns]
    probe = replace(nq, columns=list(dict.fromkeys(columns)), distinct=False, ordering=[])
    for document in compiler._bounded_fetch(probe, "Aggregates of expressions"):
        for plan in plans:
            if plan.condition is None or plan.condition(document):
                totals[plan.alias].add(plan.compute(document), plan.spec)
