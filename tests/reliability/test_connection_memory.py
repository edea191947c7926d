"""A closed connection is freed by reference counting, as Django's own backends are.

Django's backend helpers (features, ops, introspection, ...) drop their
reference to the connection in ``__del__`` so a closed connection (one per
thread, in a threaded server) leaves no reference cycle for the garbage
collector; Django 6.1's suite checks it with ``gc.DEBUG_SAVEALL``. The
backends' own helpers (the document store, its undo journal) must not bring
the cycle back.
"""

from __future__ import annotations

import gc

import django
import pytest
from django.db import connection


@pytest.fixture
def saved_garbage():
    gc.disable()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@pytest.mark.skipif(
    django.VERSION < (6, 1),
    reason="Django's own backend helpers break their reference cycles from Django 6.1 on",
)
@pytest.mark.django_db
def test_a_closed_connection_leaves_no_garbage(saved_garbage):
    copy = connection.copy()
    with copy.wrap_database_errors:
        assert copy.queries == []
    copy.close()
    copy = None
    gc.collect()
    assert [type(o).__qualname__ for o in saved_garbage] == []
