"""Describing a read without running it: ``str(queryset.query)`` sends nothing.

A read across relations starts with key reads (``django_nonrel.relations``):
the keys of the related rows matching a condition, then the main ``find`` on
``key IN (those keys)``; a queryset used as a filter value is read first the
same way. Building the plan of such a read runs those first steps. Rendering
the command (``str(qs.query)``, ``compiler.as_sql()``) must not: Django calls
it where no query is allowed (``SimpleTestCase``, logging, debugging a query
whose first steps are expensive), and SQL renders a JOIN or a subquery as text.

``described_reads(connection)`` swaps the connection's store for one that
records the description of each read instead of sending it, and answers with
placeholders: a ``distinct`` gives one ``StepValue`` standing for "the values
of this column read by step N", a projected ``find`` one row of them. The plan
built from them is the plan of the real read with each key list replaced by
its step, so the description reads as the sequence of commands that would run.
Conditions Python evaluates on the rows a step reads keep the placeholder
row (``is_describing``): they run on the real rows when the read does. Only
the placeholder's rendering is approximate (a count or an existence check is
described and taken as non-empty); nothing of the described read is sent.

A queryset that Python code evaluates while the plan is built is not a step of
the described read but a value the code needs: a generic relation's join
restriction asks ``ContentType.objects.get_for_model()``, which reads (and
caches) the content type. ``sent_reads`` runs such a read on the real store;
given placeholders, the code would fail on them or, worse, cache them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import NotSupportedError

from django_nonrel.query import NonrelQuery


class StepValue:
    """The values of ``column`` that described step ``step`` (1-based) would read."""

    __slots__ = ("column", "step")

    def __init__(self, step: int, column: str) -> None:
        self.step = step
        self.column = column

    def __repr__(self) -> str:
        return f"<{self.column!r} of step {self.step}>"


def is_describing(store: Any) -> bool:
    """Whether ``store`` describes reads instead of running them: the conditions
    Python evaluates on the rows of a step then keep its placeholder row (they
    run on the real rows when the read does, not on placeholders)."""
    return isinstance(store, DescribedReads)


class DescribedReads:
    """A store that describes reads instead of sending them (see the module docstring).

    Descriptions are the wrapped store's (``describe``); writes are refused:
    rendering a query never writes.
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        #: The description of each read a plan started with, in order.
        self.steps: list[str] = []

    def describe(self, query: NonrelQuery) -> str:
        return self.store.describe(query)

    def one_query(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def step(self, description: str) -> int:
        """Record a step; its number (1-based)."""
        self.steps.append(description)
        return len(self.steps)

    def fetch(self, query: NonrelQuery) -> Iterator[dict[str, Any]]:
        step = self.step(self.store.describe(query))
        if query.matches_nothing or not query.columns:
            return iter(())
        return iter([{column: StepValue(step, column) for column in query.columns}])

    def distinct_values(self, query: NonrelQuery, column: str) -> list[Any]:
        step = self.step(f"distinct {column!r} of {self.store.describe(query)}")
        return [StepValue(step, column)]

    def count(self, query: NonrelQuery) -> int:
        self.step(f"count of {self.store.describe(query)}")
        return 1

    def exists(self, query: NonrelQuery) -> bool:
        self.step(f"exists {self.store.describe(query)}")
        return True

    def aggregate(self, query: NonrelQuery, aggregates: Sequence[Any], group_by=()) -> list:
        self.step(f"aggregate of {self.store.describe(query)}")
        return [{}]

    def aggregate_groups(self, query: NonrelQuery, aggregates: Sequence[Any], group_by=()):
        self.step(f"grouped aggregates of {self.store.describe(query)}")
        return {}

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupportedError("Describing a query (str(queryset.query)) never writes.")

    insert = update = update_each = update_document = upsert = delete = delete_all = _refuse


@contextlib.contextmanager
def sent_reads(connection: Any) -> Iterator[None]:
    """Within the block, reads on ``connection`` are sent even while a query is
    described (see the module docstring): a queryset evaluated to instances or
    values by code the planning calls."""
    store = connection.store
    if not isinstance(store, DescribedReads):
        yield
        return
    connection.store = store.store
    try:
        yield
    finally:
        connection.store = store


@contextlib.contextmanager
def described_reads(connection: Any) -> Iterator[list[str]]:
    """Within the block, reads planned on ``connection`` are described, not sent;
    yields the list the descriptions are appended to (in the order they would run).

    Nested (a subquery described while describing its outer query), the outer
    block's list is used.
    """
    store = connection.store
    if isinstance(store, DescribedReads):
        yield store.steps
        return
    describing = DescribedReads(store)
    connection.store = describing
    try:
        yield describing.steps
    finally:
        connection.store = store
