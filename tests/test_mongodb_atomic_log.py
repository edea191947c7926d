"""atomic() without server transactions logs no command it did not send."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from django_nonrel.backends.mongodb.atomicity import Atomicity
from tests.orm.models import Author

pytestmark = pytest.mark.django_db(transaction=True)


def test_atomic_without_transactions_logs_only_the_commands_sent(on_mongodb):
    if connection.atomicity is Atomicity.SERVER:
        pytest.skip("this MongoDB server has transactions; atomic() logs BEGIN there")
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        Author.objects.create(name="Ann", age=30)
    assert not any(q["sql"] == "BEGIN" for q in captured), captured.captured_queries
    assert Author.objects.filter(name="Ann").exists()
