"""Queries pass Django's connection gates and hooks as on SQL backends.

Django guards ``cursor()``: it refuses async contexts (SynchronousOnlyOperation),
and the test runner wraps it in tests that do not declare a database
(DatabaseOperationForbidden, "Database queries to ... are not allowed"). The
MongoDB backend sends commands without SQL cursors; every command still goes
through ``cursor()`` first, so both gates hold for it too; it passes through
``connection.execute_wrapper()`` hooks (instrumentation, query blockers) and is
logged on ``django.db.backends`` under DEBUG, as SQL statements are.
"""

import logging
import threading

import pytest
from django.core.exceptions import SynchronousOnlyOperation
from django.db import connection, connections
from django.test import SimpleTestCase
from django.test.testcases import DatabaseOperationForbidden
from django.test.utils import CaptureQueriesContext

from tests.orm.models import Author


@pytest.mark.django_db(transaction=True)
def test_a_connection_made_in_another_thread_is_its_own():
    Author.objects.create(name="Ann")
    names = []

    def read():
        try:
            names.extend(Author.objects.values_list("name", flat=True))
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert names == ["Ann"]


@pytest.mark.django_db(transaction=True)
def test_each_threads_connection_has_a_client_of_its_own():
    """Django tells connections apart by their ``connection`` (the driver's
    client here): the clients of two threads' connections are two, even though
    the drivers compare clients of one server as equal."""
    Author.objects.exists()
    clients = [connection.connection]

    def connect():
        try:
            Author.objects.exists()
            clients.append(connections["default"].connection)
        finally:
            connections.close_all()

    thread = threading.Thread(target=connect)
    thread.start()
    thread.join()
    assert len(clients) == 2 and len(set(clients)) == 2
    assert clients[0] != clients[1] and clients[0] == clients[0]


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_is_not_usable(on_mongodb):
    """A connection whose client was closed under it is not usable (mongomock's
    closed client kept answering). Django's SQLite backend always says usable."""
    Author.objects.exists()
    assert connection.is_usable()
    connection._close()
    try:
        assert not connection.is_usable()
    finally:
        connection.close()
    assert Author.objects.count() == 0


@pytest.mark.django_db
def test_execute_wrappers_see_and_can_block_every_command():
    seen = []

    def record(execute, sql, params, many, context):
        seen.append((sql, context["connection"].alias))
        return execute(f"/* traced */ {sql}", params, many, context)

    def block(execute, sql, params, many, context):
        raise RuntimeError(f"no queries here: {sql}")

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(record):
        Author.objects.create(name="Ann")
        assert Author.objects.get().name == "Ann"
    table = Author._meta.db_table
    assert seen and all(alias == connection.alias for _, alias in seen)
    assert any(table in sql for sql, _ in seen)
    logged = [query["sql"] for query in queries.captured_queries]
    if connection.vendor == "mongodb":
        # What a wrapper passed on is logged (SQLite logs the statement it was given).
        assert logged and all(sql.startswith("/* traced */") for sql in logged)
    with connection.execute_wrapper(block), pytest.raises(RuntimeError, match="no queries"):
        Author.objects.count()


@pytest.mark.django_db
def test_commands_are_logged_under_debug(caplog):
    debug = caplog.at_level(logging.DEBUG, logger="django.db.backends")
    with debug, CaptureQueriesContext(connection) as queries:
        Author.objects.filter(name="Ann").exists()
    logged = [r for r in caplog.records if r.name == "django.db.backends" and hasattr(r, "sql")]
    assert [r.sql for r in logged][-1] == queries.captured_queries[-1]["sql"]
    assert logged[-1].alias == connection.alias


class DisallowedDatabaseTests(SimpleTestCase):
    """A SimpleTestCase declares no database: its queries are refused with
    Django's message, whether the connection is open already or not."""

    def test_reads_and_iterators_are_refused(self):
        message = "Database queries to 'default' are not allowed in SimpleTestCase"
        for read in (Author.objects.first, lambda: next(Author.objects.iterator())):
            with self.assertRaisesMessage(DatabaseOperationForbidden, message):
                read()

    def test_writes_are_refused(self):
        with self.assertRaisesMessage(DatabaseOperationForbidden, "Database queries"):
            Author.objects.create(name="Ann")

    def test_a_closed_connection_is_refused_as_a_query(self):
        connection.close()
        with self.assertRaisesMessage(DatabaseOperationForbidden, "Database queries"):
            Author.objects.filter(name="Ann").exists()

    async def test_a_query_from_async_code_is_refused_as_unsafe(self):
        """Async code is refused first, as Django's SQL backends refuse it, even on
        this thread's connection that the test runner guards too."""
        with self.assertRaises(SynchronousOnlyOperation):
            list(Author.objects.all())
