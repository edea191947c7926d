"""run_in_transaction and atomic(): retries, rollback where there are transactions,
and exactly what happens where there are none."""

import contextlib
import os
import warnings

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from pymongo.errors import OperationFailure

from django_nonrel.backends.mongodb.atomicity import Atomicity
from django_nonrel.exceptions import ConflictError
from django_nonrel.transaction import (
    TransactionsUnavailableWarning,
    is_retryable,
    run_in_transaction,
)
from tests.conc.models import Account

pytestmark = pytest.mark.django_db
#: Retrying needs the outermost atomic block; SQL tiers otherwise run each test in one.
retrying = pytest.mark.django_db(transaction=True)


def concurrent_deposit(pk, amount):
    """Another process saving the same row (through its own loaded instance)."""
    other = Account.objects.get(pk=pk)
    other.balance += amount
    other.save()


def quietly(func, *args, **kwargs):
    """run_in_transaction with its no-transactions warning checked and silenced."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    unavailable = [w for w in caught if w.category is TransactionsUnavailableWarning]
    assert bool(unavailable) == (not connection.features.supports_transactions)
    return result


@retrying
def test_a_conflict_is_retried_from_fresh_reads(transactions_setting):
    account = Account.objects.create(owner="ann", balance=100)
    loaded_earlier = Account.objects.get(pk=account.pk)
    concurrent_deposit(account.pk, 5)
    attempts = []

    def withdraw(amount):
        # The first attempt works on the instance loaded before the deposit.
        loaded = Account.objects.get(pk=account.pk) if attempts else loaded_earlier
        attempts.append(loaded.balance)
        loaded.balance -= amount
        loaded.save()
        return loaded.balance

    assert quietly(run_in_transaction, withdraw, 30) == 75
    assert attempts == [100, 105]
    assert Account.objects.values_list("balance", "version").get(pk=account.pk) == (75, 3)


@retrying
def test_an_attempt_that_already_wrote_is_retried_only_with_transactions(transactions_setting):
    account = Account.objects.create(owner="ann")
    calls = []

    def log_then_conflict():
        calls.append(1)
        Account.objects.create(owner=f"log{len(calls)}")
        if len(calls) == 1:
            Account(pk=account.pk, owner="x", version=0).save()

    logs = Account.objects.filter(owner__startswith="log")
    if connection.features.supports_transactions:
        quietly(run_in_transaction, log_then_conflict)
        assert len(calls) == 2 and list(logs.values_list("owner", flat=True)) == ["log2"]
    else:
        # Running it again would write log1 twice: the conflict is the caller's.
        with pytest.raises(ConflictError):
            quietly(run_in_transaction, log_then_conflict)
        assert len(calls) == 1 and list(logs.values_list("owner", flat=True)) == ["log1"]


@pytest.mark.django_db(transaction=True, databases=["default", "sqlite"])
def test_work_that_wrote_through_another_alias_is_not_retried():
    """atomic(using="default") does not cover the "sqlite" database: a retry would write
    that row again, with or without transactions on "default" (issue 17, item 9)."""
    account = Account.objects.create(owner="ann")
    calls = []

    def log_elsewhere_then_conflict():
        calls.append(1)
        Account.objects.using("sqlite").create(owner=f"log{len(calls)}")
        Account(pk=account.pk, owner="x", version=0).save()

    with pytest.raises(ConflictError):
        quietly(run_in_transaction, log_elsewhere_then_conflict)
    assert len(calls) == 1
    assert list(Account.objects.using("sqlite").values_list("owner", flat=True)) == ["log1"]


@pytest.fixture
def two_document_databases(on_mongodb, django_db_blocker):
    """Two aliases on the tier's MongoDB server (databases of their own, dropped after)."""
    from tests.reliability.faults import database_alias

    settings = dict(connection.settings_dict)
    names = [f"nonrel_txn_{os.getpid()}_{side}" for side in ("a", "b")]
    with django_db_blocker.unblock(), contextlib.ExitStack() as scope:
        aliases = [
            scope.enter_context(database_alias(f"txn_{name[-1]}", {**settings, "NAME": name}))
            for name in names
        ]
        for alias in aliases:
            with connections[alias].schema_editor() as editor:
                editor.create_model(Account)
        yield aliases
        for alias, name in zip(aliases, names, strict=True):
            connections[alias].connection.drop_database(name)


def test_work_that_wrote_through_another_document_store_is_not_retried(two_document_databases):
    """The same across two MongoDB aliases: the other store's accepted writes count."""
    using, other = two_document_databases
    target = Account.objects.using(using).create(owner="ann")
    calls = []

    def log_elsewhere_then_conflict():
        calls.append(1)
        Account.objects.using(other).create(owner=f"log{len(calls)}")
        Account(pk=target.pk, owner="x", version=0).save(using=using)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransactionsUnavailableWarning)
        with pytest.raises(ConflictError):
            run_in_transaction(log_elsewhere_then_conflict, using=using)
    assert len(calls) == 1
    assert list(Account.objects.using(other).values_list("owner", flat=True)) == ["log1"]


@pytest.mark.django_db(transaction=True, databases=["default", "sqlite"])
def test_reads_through_another_alias_do_not_stop_a_retry():
    account = Account.objects.create(owner="ann")
    calls = []

    def read_elsewhere_then_conflict():
        calls.append(1)
        Account.objects.using("sqlite").count()
        if len(calls) == 1:
            Account(pk=account.pk, owner="x", version=0).save()

    quietly(run_in_transaction, read_elsewhere_then_conflict)
    assert len(calls) == 2


@retrying
def test_conflicts_are_retried_until_retries_run_out(transactions_setting):
    account = Account.objects.create(owner="ann")
    calls = []

    def always_stale():
        calls.append(1)
        stale = Account(pk=account.pk, owner="x", version=0)
        stale.save()

    with pytest.raises(ConflictError):
        quietly(run_in_transaction, always_stale, retries=2)
    assert len(calls) == 3
    assert Account.objects.get(pk=account.pk).owner == "ann"


def test_inside_an_outer_atomic_block_the_work_runs_once():
    account = Account.objects.create(owner="ann")
    calls = []

    def stale_save():
        calls.append(1)
        Account(pk=account.pk, owner="x", version=0).save()

    with pytest.raises(ConflictError), transaction.atomic():
        run_in_transaction(stale_save)
    assert calls == [1]


def test_other_errors_are_not_retried():
    calls = []

    def broken():
        calls.append(1)
        raise KeyError("no")

    with pytest.raises(KeyError):
        quietly(run_in_transaction, broken)
    assert calls == [1]


def test_transient_transaction_errors_are_retryable():
    error = OperationFailure("WriteConflict", 112, {"errorLabels": ["TransientTransactionError"]})
    assert is_retryable(error)
    assert not is_retryable(OperationFailure("bad", 2, {}))
    try:
        try:
            raise error
        except OperationFailure as cause:
            raise RuntimeError("wrapped") from cause
    except RuntimeError as wrapped:
        assert is_retryable(wrapped)


@retrying
def test_atomic_rolls_back_exactly_where_there_are_transactions(transactions_setting):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        Account.objects.create(owner="kept?")
        raise Boom
    kept = Account.objects.filter(owner="kept?").exists()
    assert kept is (not connection.features.supports_transactions)


class FakeSession:
    """Records what the backend asks of a pymongo session (no replica set needed)."""

    def __init__(self):
        self.events = []
        self.in_transaction = False

    def start_transaction(self):
        self.events.append("start")
        self.in_transaction = True

    def commit_transaction(self):
        self.events.append("commit")
        self.in_transaction = False

    def abort_transaction(self):
        self.events.append("abort")
        self.in_transaction = False

    def end_session(self):
        self.events.append("end")

    def bind(self, end_session=True):
        assert end_session is False
        self.events.append("bind")
        return contextlib.nullcontext(self)


@pytest.fixture
def fake_session(on_mongodb, monkeypatch):
    """The MongoDB connection told its server has transactions, with a recording session."""
    session = FakeSession()
    connection.ensure_connection()
    monkeypatch.setitem(connection.features.__dict__, "supports_multi_document_transactions", True)
    monkeypatch.setattr(connection.connection, "start_session", lambda: session)
    return session


@retrying
def test_atomic_runs_every_command_in_the_session(fake_session, monkeypatch):
    # Every command: those connection.queries shows and the bookkeeping ones
    # (the key counter's) alike.
    sent = []
    run = connection.store.run

    def counted(description, *args, **kwargs):
        sent.append(description)
        return run(description, *args, **kwargs)

    monkeypatch.setattr(connection.store, "run", counted)
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        Account.objects.create(owner="a")
        assert Account.objects.filter(owner="a").count() == 1
    assert len(sent) > len([q for q in captured if q["sql"].startswith("db.")])
    assert fake_session.events == ["start"] + ["bind"] * len(sent) + ["commit", "end"]


@retrying
def test_an_error_aborts_the_session_transaction(fake_session):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        Account.objects.create(owner="a")
        1 / 0  # noqa: B018
    assert fake_session.events[0] == "start" and fake_session.events[-2:] == ["abort", "end"]
    assert "commit" not in fake_session.events


class Boom(Exception):
    pass


def roll_back_an_inner_block() -> None:
    """A row written, then a savepoint whose insert and update of it are rolled back."""
    kept = Account.objects.create(owner="kept", balance=1)
    with pytest.raises(Boom), transaction.atomic():
        Account.objects.create(owner="inner")
        Account.objects.filter(pk=kept.pk).update(balance=5)
        raise Boom
    assert list(Account.objects.values_list("owner", "balance")) == [("kept", 1)]


@retrying
def test_savepoints_in_a_server_transaction_roll_back_through_the_journal(fake_session):
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        roll_back_an_inner_block()
    commands = [q for q in captured if q["sql"].startswith("db.")]
    # The journal read and restored documents inside the same server transaction.
    assert fake_session.events.count("bind") > len(commands)
    assert fake_session.events[0] == "start" and fake_session.events[-2:] == ["commit", "end"]


@retrying
def test_a_server_abort_is_left_to_the_server_and_key_blocks_follow_it(fake_session):
    Account.objects.create(owner="before")
    table = Account._meta.db_table
    block = list(connection.store.key_blocks[table])
    with pytest.raises(Boom), transaction.atomic():
        Account.objects.bulk_create([Account(owner=f"in {n}") for n in range(30)])
        Account.objects.create(owner="inside")
        raise Boom
    # The recording session undoes nothing; a server's abort removes these rows and
    # restores the key counter, so this connection's reserved keys go back with it.
    assert Account.objects.filter(owner="inside").exists()
    assert connection.store.key_blocks[table] == block
    assert fake_session.events[-2:] == ["abort", "end"]


@retrying
def test_run_in_transaction_retries_transient_errors_in_a_new_transaction(fake_session):
    calls = []

    def flaky():
        calls.append(1)
        # Explicit keys: the fake session's abort undoes no write, as a server's would.
        Account.objects.create(pk=100 + len(calls), owner=f"try{len(calls)}")
        if len(calls) == 1:
            raise OperationFailure(
                "WriteConflict", 112, {"errorLabels": ["TransientTransactionError"]}
            )
        return "done"

    with warnings.catch_warnings():
        warnings.simplefilter("error", TransactionsUnavailableWarning)
        assert run_in_transaction(flaky) == "done"
    assert fake_session.events.count("start") == 2
    assert fake_session.events.count("abort") == 1 and fake_session.events.count("commit") == 1


#: The real-server tier: a replica set named by MONGODB_URI (and NONREL_TEST_DB).
real_replica_set = pytest.mark.skipif(
    not os.environ.get("MONGODB_URI"),
    reason="real transactions need a MongoDB replica set: set MONGODB_URI and NONREL_TEST_DB",
)


@pytest.fixture
def server_transactions(on_mongodb):
    if connection.atomicity is not Atomicity.SERVER:
        pytest.skip("NONREL_TEST_DB is not a replica set or sharded cluster")


@real_replica_set
@retrying
def test_a_replica_set_rolls_back(server_transactions):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        Account.objects.create(owner="gone")
        assert Account.objects.filter(owner="gone").exists()  # read in the transaction
        1 / 0  # noqa: B018
    assert not Account.objects.filter(owner="gone").exists()


@real_replica_set
def test_a_replica_set_rolls_back_to_savepoints(server_transactions):
    # The test itself runs in a server transaction (TestCase); the block is a savepoint.
    roll_back_an_inner_block()
