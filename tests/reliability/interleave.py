"""Another connection's write, landed deterministically inside an update() or delete().

``between_read_and_write(write)`` runs ``write`` once, just before the
operation under test sends its first write:

- on the MongoDB backend that is after the rows were read and decided in
  Python (the read-then-write window of a filter or expression the store
  cannot run), and ``write`` goes through a second database alias on the same
  database: another client, as another process would be;
- on SQL backends the statement reads and writes at once, so the write lands
  just before it, on the test's own connection (the test's transaction would
  hide a second connection's view). The outcome SQL gives there is the
  reference the MongoDB tiers must match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, connections
from django.db.models.deletion import Collector
from django.db.utils import load_backend

#: The alias of the other connection on the MongoDB tiers.
OTHER = "other_writer"
WRITE_STATEMENTS = ("UPDATE", "DELETE")


@contextmanager
def other_connection() -> Iterator[str]:
    """An alias for the tier's database through a connection of its own (MongoDB),
    or the test's own alias (SQL: see the module docstring).

    The connection is not added to the settings: Django's test isolation only
    lets a test use the aliases it declares, and this one is, like a connection
    of another process, outside the test -- also outside the undo journal that
    rolls the test back on mongomock and FerretDB: a test whose other connection
    creates rows runs with ``django_db(transaction=True)`` (a flush).
    """
    if connection.vendor != "mongodb":
        yield "default"
        return
    settings_dict = dict(connection.settings_dict)
    other = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, OTHER)
    connections[OTHER] = other
    try:
        yield OTHER
    finally:
        other.close()
        del connections[OTHER]


@contextmanager
def between_read_and_write(write: Callable[[str], object], times: int = 1) -> Iterator[None]:
    """Run ``write(alias)`` before each of the next ``times`` write commands of ``default``."""
    with other_connection() as alias:
        remaining = [times]

        def interfere() -> None:
            if remaining[0] > 0:
                remaining[0] -= 1
                write(alias)

        if connection.vendor == "mongodb":
            with _before_store_writes(interfere):
                yield
            return

        busy = [False]

        def wrapper(execute, sql, params, many, context):
            if not busy[0] and sql.lstrip().upper().startswith(WRITE_STATEMENTS):
                busy[0] = True
                try:
                    interfere()
                finally:
                    busy[0] = False
            return execute(sql, params, many, context)

        with connection.execute_wrapper(wrapper):
            yield


@contextmanager
def _before_store_writes(interfere: Callable[[], None]) -> Iterator[None]:
    store = connections["default"].store
    originals = {name: getattr(store, name) for name in ("update", "update_each", "delete")}
    # update_each of one write is an update: one command, interfered with once.
    busy = [False]

    def hooked(name: str):
        def write(*args, **kwargs):
            if busy[0]:
                return originals[name](*args, **kwargs)
            interfere()
            busy[0] = True
            try:
                return originals[name](*args, **kwargs)
            finally:
                busy[0] = False

        return write

    for name in originals:
        setattr(store, name, hooked(name))
    try:
        yield
    finally:
        for name in originals:
            delattr(store, name)


@contextmanager
def between_collect_and_delete(write: Callable[[str], object]) -> Iterator[None]:
    """Run ``write(alias)`` once, after a delete has planned its cascade (read the rows
    it deletes, on every backend: Django's collector and the key-set cascade alike)
    and before it runs any of its commands."""
    with other_connection() as alias:
        planned = Collector.delete
        remaining = [1]

        def delete(collector):
            if remaining[0]:
                remaining[0] = 0
                write(alias)
            return planned(collector)

        Collector.delete = delete
        try:
            yield
        finally:
            Collector.delete = planned
