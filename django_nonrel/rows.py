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

from django_nonrel.exceptions import unsupported
from django_nonrel.paths import hashable
from django_nonrel.query import NonrelQuery

Row = dict[str, Any]
#: (base column, matches per key) of a filter that repeats rows as a JOIN does.
Weight = tuple[str, dict[Any, int]]


def bounded_fetch(store: Any, query: NonrelQuery, limit: int, what: str) -> list[Row]:
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


def repeat(documents: list[Row], weights: list[Weight]) -> list[Row]:
    """Each document as many times as the JOINs of its filter would give it."""
    if not weights:
        return documents
    repeated = []
    for document in documents:
        times = 1
        for column, counts in weights:
            times *= counts.get(hashable(document.get(column)), 1)
        repeated.extend([document] * times)
    return repeated
