"""How many database commands a variant issues, counted where the commands go.

- MongoDB servers: pymongo's command monitoring (every command on the wire
  except ``getMore``, which fetches further batches of a query already
  counted), for the ORM and the raw driver alike.
- mongomock: nothing goes on a wire. The ORM's commands are what its
  ``execute_wrapper()`` hooks see (one call per store command); the raw driver's are
  its calls of command methods, counted by a thin proxy. The ``BEGIN`` Django
  logs when atomic() starts is not a command and is not counted.
- MariaDB: the server's own per-session ``Questions`` status counter, read
  before and after on the connection the variant uses (the ``SHOW STATUS``
  itself is subtracted), so multi-row INSERTs count as what the server saw.

Counting runs only in the warm-up pass, never in a timed repeat.
"""

from __future__ import annotations

from typing import Any, Protocol

from pymongo import monitoring


class CommandCounter(Protocol):
    def start(self) -> None: ...

    def stop(self) -> int: ...


class Tally:
    """A count that grows only between ``start()`` and ``stop()``."""

    def __init__(self) -> None:
        self.enabled = False
        self.count = 0

    def start(self) -> None:
        self.count = 0
        self.enabled = True

    def stop(self) -> int:
        self.enabled = False
        return self.count


class WireCommands(Tally, monitoring.CommandListener):
    """Counts every command pymongo sends from this process while enabled."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        # getMore continues a query's cursor in further batches: not a new query.
        if self.enabled and event.command_name != "getMore":
            self.count += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


#: Registered before any client is created (pymongo only monitors clients made after).
WIRE = WireCommands()
monitoring.register(WIRE)


#: What Django's atomic() logs around a block; the MongoDB backend sends nothing for them.
TRANSACTION_MARKERS = frozenset({"BEGIN", "COMMIT", "ROLLBACK"})


class LoggedQueries:
    """Commands a Django connection sends, as its ``execute_wrapper()`` hooks see them.

    Not ``connection.queries``: the MongoDB backend logs the commands of one ORM
    query as one entry there (as SQL's JOIN is one statement), while a wrapper
    sees each command, as it sees each SQL statement. Bookkeeping commands (the
    undo journal's, key counters) pass no wrapper, as they are not logged.
    Installed directly in ``connection.execute_wrappers`` so that it stays in
    place across the tests of a TestCase run.
    """

    def __init__(self, connection) -> None:
        self.connection = connection
        self.commands = 0

    def _count(self, execute, sql, params, many, context):
        if sql not in TRANSACTION_MARKERS:
            self.commands += 1
        return execute(sql, params, many, context)

    def start(self) -> None:
        self.commands = 0
        self.connection.execute_wrappers.append(self._count)

    def stop(self) -> int:
        self.connection.execute_wrappers.remove(self._count)
        return self.commands


#: mongomock Collection methods that are one server command each on a real server.
COMMAND_METHODS = frozenset(
    {
        "find",
        "find_one",
        "insert_one",
        "insert_many",
        "update_one",
        "update_many",
        "replace_one",
        "delete_one",
        "delete_many",
        "count_documents",
        "distinct",
        "aggregate",
        "find_one_and_update",
        "bulk_write",
    }
)


class CountingDatabase(Tally):
    """A mongomock Database whose collections count their command calls."""

    def __init__(self, database) -> None:
        super().__init__()
        self._database = database

    def __getitem__(self, name: str) -> CountingCollection:
        return CountingCollection(self._database[name], self)


class CountingCollection:
    def __init__(self, collection, counter: CountingDatabase) -> None:
        self._collection = collection
        self._counter = counter

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if name in COMMAND_METHODS and self._counter.enabled:
            self._counter.count += 1
        return attribute


class SessionStatements:
    """Statements the server counted for one DB-API connection (``Questions``)."""

    def __init__(self, cursor_factory) -> None:
        self.cursor_factory = cursor_factory
        self.before = 0

    def _questions(self) -> int:
        cursor = self.cursor_factory()
        try:
            cursor.execute("SHOW SESSION STATUS LIKE 'Questions'")
            return int(cursor.fetchone()[1])
        finally:
            cursor.close()

    def start(self) -> None:
        self.before = self._questions()

    def stop(self) -> int:
        # The second SHOW STATUS is counted before it answers.
        return self._questions() - self.before - 1
