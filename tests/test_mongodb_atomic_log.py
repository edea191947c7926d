"""What atomic() logs: BEGIN, COMMIT and ROLLBACK where it has a transaction, as
Django's SQL backends log them; nothing where it has none.

``connection.queries``, ``CaptureQueriesContext`` and the ``django.db.backends``
logger are how users (and debug toolbars) see what a request did, and Django's
``assertNumQueries`` counts on SQL backends include these entries. On MongoDB a
transaction is the server's or the undo journal's (a test database, mongomock://);
with ``OPTIONS["TRANSACTIONS"] = "off"`` atomic() sends and undoes nothing, so it
logs nothing either.
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.orm.models import Author

pytestmark = pytest.mark.django_db(transaction=True)

LOGGER = "django.db.backends"


@pytest.fixture
def with_transactions():
    if not connection.features.supports_transactions:
        pytest.skip(f"atomic() has no transaction on this tier ({connection.vendor})")


def test_atomic_logs_begin_and_commit_around_its_commands(with_transactions, caplog):
    with (
        caplog.at_level("DEBUG", logger=LOGGER),
        CaptureQueriesContext(connection) as captured,
        transaction.atomic(),
    ):
        Author.objects.create(name="Ann", age=30)
    # MySQL/MariaDB connections log their set-up (SET SESSION ...) when they open.
    statements = [query["sql"] for query in captured if not query["sql"].startswith("SET ")]
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT", statements
    assert len(statements) >= 3, statements  # the insert between them
    logged = [
        record.sql
        for record in caplog.records
        if record.name == LOGGER and not record.sql.startswith("SET ")
    ]
    assert logged[0] == "BEGIN" and logged[-1] == "COMMIT", logged
    assert Author.objects.filter(name="Ann").exists()


def test_atomic_logs_rollback_when_its_block_raises(with_transactions, caplog):
    with (
        caplog.at_level("DEBUG", logger=LOGGER),
        CaptureQueriesContext(connection) as captured,
        pytest.raises(ZeroDivisionError),
        transaction.atomic(),
    ):
        Author.objects.create(name="Ann", age=30)
        1 / 0  # noqa: B018
    assert captured[-1]["sql"] == "ROLLBACK", captured.captured_queries
    logged = [record.sql for record in caplog.records if record.name == LOGGER]
    assert logged[-1] == "ROLLBACK", logged
    assert not Author.objects.filter(name="Ann").exists()


def test_atomic_without_a_transaction_logs_only_the_commands_sent(on_mongodb, monkeypatch):
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "TRANSACTIONS", "off")
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        Author.objects.create(name="Ann", age=30)
    statements = [query["sql"] for query in captured]
    assert not {"BEGIN", "COMMIT", "ROLLBACK"} & set(statements), statements
    assert statements, "the insert is logged"
    assert Author.objects.filter(name="Ann").exists()


def test_savepoints_are_logged_as_sql_backends_log_them():
    """get_or_create() and nested atomic() blocks: SAVEPOINT, RELEASE SAVEPOINT and
    ROLLBACK TO SAVEPOINT entries, as Django's SQL backends execute them, so a
    project's assertNumQueries around them counts the same on every backend."""
    from django.db import IntegrityError

    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            with transaction.atomic():
                Author.objects.create(name="kept")
            try:
                with transaction.atomic():
                    Author.objects.create(name="undone")
                    raise IntegrityError("undo the block")
            except IntegrityError:
                pass
        assert list(Author.objects.values_list("name", flat=True)) == ["kept"]
        statements = [q["sql"].split(" ")[0] for q in captured]
    if not connection.features.uses_savepoints:
        assert len(statements) == 2  # the two inserts: no savepoint exists
        return
    assert statements[0] == "SAVEPOINT" and statements[2] == "RELEASE"
    assert statements[3] == "SAVEPOINT" and statements[5:] == ["ROLLBACK", "RELEASE"]
    assert len(captured) == 7
