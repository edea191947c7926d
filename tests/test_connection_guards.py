"""Queries pass Django's connection gates as on SQL backends.

Django guards ``cursor()``: it refuses async contexts (SynchronousOnlyOperation),
and the test runner wraps it in tests that do not declare a database
(DatabaseOperationForbidden, "Database queries to ... are not allowed"). The
MongoDB backend sends commands without SQL cursors; every command still goes
through ``cursor()`` first, so both gates hold for it too.
"""

import threading

import pytest
from django.core.exceptions import SynchronousOnlyOperation
from django.db import connection, connections
from django.test import SimpleTestCase
from django.test.testcases import DatabaseOperationForbidden

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
