"""``connection.queries``: one entry per query the ORM runs, listing its commands.

Django counts queries (``assertNumQueries``, ``CaptureQueriesContext``, the debug
toolbar) as the statements its compilers execute: a ``select_related()`` read,
a many-to-many prefetch or a filter across a relation is one SQL statement with
JOINs. This backend follows relations by key instead: such a query sends one
command for its rows and one batched ``$in`` read per relation hop (never one
per row). Logged one entry per command, a project's query-count tests would
count the hops of every JOIN and fail on each ``select_related()``, though the
number of commands is fixed by the query's shape, not by its rows (an N+1 loop
is still N+1 entries).

So the compilers run each query inside ``QueryLog.one_query()``: the first
command logged in it appends an entry, and every later command of the same
query is added to that entry — its ``sql`` lists the commands in the order
they were sent, separated by ``"; "``, and its ``time`` is their total. Every
command is still sent, passed to ``connection.execute_wrapper()`` hooks and
logged on ``django.db.backends`` one by one; only the count of entries follows
Django's notion of a query. Commands outside a query (schema changes, raw
``connection.database`` use, the ORM patches' one-command writes) are one entry
each, as before.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

from django_nonrel.query import NonrelQuery

logger = logging.getLogger("django.db.backends")

#: A command's shell form, or a function building it (a read's, built only when used).
Description = str | Callable[[], str]


def find_text(
    query: NonrelQuery,
    filter_doc: dict[str, Any],
    projection: dict[str, int] | None,
    sort: list[tuple[str, int]],
) -> str:
    """The shell form of the find ``query`` sends with these filter, projection and sort."""
    parts = [f"db.{query.table}.find({filter_doc!r}"]
    parts.append(f", {projection!r})" if projection else ")")
    if query.ordering:
        parts.append(f".sort({sort!r})")
    if query.low:
        parts.append(f".skip({query.low})")
    if query.limit is not None:
        parts.append(f".limit({query.limit})")
    if query.batch_size:
        parts.append(f".batchSize({query.batch_size})")
    return "".join(parts)


def described(description: Description) -> str:
    """The text of ``description``."""
    return description if isinstance(description, str) else description()


class QueryLog:
    """Where one connection's commands are logged (``MongoStore.log``)."""

    __slots__ = ("_open", "_entry")

    def __init__(self) -> None:
        #: Whether a query is running (``one_query``); its entry once it logged one.
        self._open = False
        self._entry: dict[str, str] | None = None

    @contextlib.contextmanager
    def one_query(self) -> Iterator[None]:
        """Log the commands sent inside as one ``connection.queries`` entry.

        Re-entrant: a query run while computing another (a subquery's rows, the
        keys a relation filter reads) is part of the outer one, as a subquery is
        part of its SQL statement.
        """
        if self._open:
            yield
            return
        self._open, self._entry = True, None
        try:
            yield
        finally:
            self._open, self._entry = False, None

    def command(self, connection, logged: Description, duration: float) -> None:
        """Record one command of ``connection`` that took ``duration`` seconds."""
        if not connection.queries_logged:
            return
        logged = described(logged)
        entry = self._entry
        if entry is None:
            entry = {"sql": logged, "time": f"{duration:.3f}"}
            connection.queries_log.append(entry)
            if self._open:
                self._entry = entry
        else:
            entry["sql"] = f"{entry['sql']}; {logged}"
            entry["time"] = f"{float(entry['time']) + duration:.3f}"
        # As Django's CursorDebugWrapper logs each statement.
        logger.debug(
            "(%.3f) %s; args=%s; alias=%s",
            duration,
            logged,
            None,
            connection.alias,
            extra={"duration": duration, "sql": logged, "params": None, "alias": connection.alias},
        )
