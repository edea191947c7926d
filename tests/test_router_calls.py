"""Reads ask the database routers once per query, as Django does on every backend.

The structured-rows patch chooses between its reader and Django's; choosing
must not consult the routers a second time (a router that counts or logs its
calls, or answers differently each time, would see the difference).
"""

from unittest import mock

import pytest
from django.test import override_settings

from tests.orm.models import Author


@pytest.mark.django_db
@pytest.mark.parametrize("read", ["instances", "values", "values_list", "flat", "refresh"])
def test_a_read_routes_once(read):
    author = Author.objects.create(name="Ann")
    router = mock.Mock()
    router.db_for_read.return_value = None
    with override_settings(DATABASE_ROUTERS=[router]):
        if read == "instances":
            list(Author.objects.filter(pk=author.pk))
        elif read == "values":
            list(Author.objects.filter(pk=author.pk).values("name"))
        elif read == "values_list":
            list(Author.objects.filter(pk=author.pk).values_list("name"))
        elif read == "flat":
            list(Author.objects.filter(pk=author.pk).values_list("name", flat=True))
        else:
            author.refresh_from_db()
    assert router.db_for_read.call_count == 1
