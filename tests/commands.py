"""Counting the commands a block sends, as opposed to the queries Django logs.

``connection.queries`` (and so ``CaptureQueriesContext``/``assertNumQueries``)
holds one entry per ORM query: on MongoDB the commands of a query that follows
relations by key are one entry (backends/mongodb/query_log.py). Tests about how
many commands a shape costs count them here instead, through
``connection.execute_wrapper()``, which sees every command (and every SQL
statement on SQL backends) one by one; bookkeeping commands (the undo journal,
FerretDB's row claims, key counters) pass no wrapper, as they are not logged.
"""

from __future__ import annotations

from typing import Any

from django.db import connection as default_connection


class CommandCapture:
    """A context manager listing what was sent inside, one ``{"sql": ...}`` per command.

    Shaped like Django's ``CaptureQueriesContext`` (``captured_queries``,
    ``len()``, iteration, indexing), so a test reads the same either way.
    """

    def __init__(self, connection=default_connection) -> None:
        self.connection = connection
        self.captured_queries: list[dict[str, Any]] = []

    def __enter__(self) -> CommandCapture:
        self.captured_queries = []
        self._wrapper = self.connection.execute_wrapper(self._record)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._wrapper.__exit__(*exc)

    def _record(self, execute, sql, params, many, context):
        self.captured_queries.append({"sql": sql})
        return execute(sql, params, many, context)

    def __len__(self) -> int:
        return len(self.captured_queries)

    def __iter__(self):
        return iter(self.captured_queries)

    def __getitem__(self, index):
        return self.captured_queries[index]
