"""Concurrency on the MongoDB backend: key allocation and upserts from many threads.

Every thread has its own Django connection (Django's connections are
per-thread), as request threads of a web server do. Integer AutoField keys come
from a counters collection (one atomic ``$inc`` per block of keys); a save is an
upsert by primary key. Neither may hand out a key twice or leave two documents
for one key, on a server (FerretDB) or in the embedded store (mongomock).
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable, Iterator

import pytest
from django.db import connection, connections, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext

from django_nonrel.exceptions import ConflictError, ContentionError
from tests.conc.models import Account, Entry
from tests.differential.models import Team
from tests.orm.models import Token

pytestmark = pytest.mark.django_db
#: Other threads write through connections of their own, which no test transaction
#: covers (as on SQL): these tests flush afterwards instead of rolling back.
threaded = pytest.mark.django_db(transaction=True)

THREADS = 8


def in_threads(work: Callable[[int], list], threads: int = THREADS) -> list:
    """Run ``work(i)`` in ``threads`` threads started together; all results, or the first error."""
    barrier = threading.Barrier(threads)
    results: list[list] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as error:  # reported in the main thread
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(w.is_alive() for w in workers), "a thread hung"
    if errors:
        raise errors[0]
    return [item for result in results for item in result]


@threaded
def test_concurrent_autofield_allocation_never_repeats_a_key(on_mongodb):
    def work(i: int) -> list[int]:
        keys = [Team.objects.create(name=f"save-{i}-{n}").pk for n in range(30)]
        created = Team.objects.bulk_create([Team(name=f"bulk-{i}-{n}") for n in range(15)])
        return keys + [team.pk for team in created]

    keys = in_threads(work)
    assert all(isinstance(key, int) for key in keys)
    assert len(keys) == len(set(keys)) == THREADS * 45
    stored = dict(Team.objects.values_list("pk", "name"))
    assert set(stored) == set(keys)
    assert len(stored) == THREADS * 45


@threaded
def test_concurrent_upserts_of_one_key_leave_one_document(on_mongodb):
    def work(i: int) -> list[bool]:
        for n in range(25):
            Token(key="shared", uses=i * 100 + n).save()
            Team(id=4242, name=f"thread {i}").save()
        return []

    in_threads(work)
    assert Token.objects.filter(key="shared").count() == 1
    assert Team.objects.filter(pk=4242).count() == 1
    # Counted on the raw collection too: no second document under the same _id.
    assert connection.database[Token._meta.db_table].count_documents({"_id": "shared"}) == 1
    last = Token.objects.get(key="shared").uses
    assert last % 100 == 24  # the document holds one thread's last complete save


@threaded
def test_read_modify_write_with_a_version_field_loses_no_update():
    """Each thread loads the account, adds 1 and saves; a stale save raises
    ConflictError and is retried, so every increment lands exactly once.

    On FerretDB v1, whose conditional upsert is a read then a write, this holds
    through row claims (backends/mongodb/row_claims.py); mongomock serialises
    commands per process; MariaDB runs a conditional UPDATE.
    """
    if connection.vendor == "sqlite":
        pytest.skip("in-memory SQLite is one connection per thread; MariaDB covers SQL")
    account = Account.objects.create(owner="shared")
    per_thread = 15

    def work(i: int) -> list[int]:
        conflicts = 0
        for _ in range(per_thread):
            while True:
                current = Account.objects.get(pk=account.pk)
                current.balance += 1
                try:
                    current.save()
                    break
                except ConflictError:
                    conflicts += 1
        return [conflicts]

    conflicts = sum(in_threads(work))
    stored = Account.objects.get(pk=account.pk)
    assert stored.balance == THREADS * per_thread, f"lost updates ({conflicts} conflicts seen)"
    assert stored.version == THREADS * per_thread + 1


@pytest.fixture
def claims(on_mongodb):
    """The row-claims collection, emptied around the test."""
    from django_nonrel.backends.mongodb.mongo_store import ROW_CLAIMS

    collection = connection.database[ROW_CLAIMS]
    collection.delete_many({})
    yield collection
    collection.delete_many({})


@pytest.fixture
def short_wait(monkeypatch):
    """Writers wait 0.3 s for a claimed row instead of 10 s."""
    from django_nonrel.backends.mongodb import row_claims

    monkeypatch.setattr(row_claims, "CLAIM_WAIT", 0.3)


def test_a_row_claimed_by_another_writer_waits_then_is_refused(claims, short_wait):
    """While a writer holds a row, another writer of it waits; past the wait it gets
    ContentionError, writes nothing, and the holder's claim stays (all or none: it
    holds none of the rows it asked for either)."""
    from django_nonrel.backends.mongodb.row_claims import row_claims

    first, second = Account.objects.create(owner="held"), Account.objects.create(owner="free")
    table = Account._meta.db_table
    with row_claims(connection.store, table, [first.pk]):
        refused = pytest.raises(ContentionError, match="stayed claimed by another connection")
        with refused, row_claims(connection.store, table, [second.pk, first.pk]):
            pytest.fail("a second claim on one row was granted")
        assert claims.count_documents({}) == 1
    assert claims.count_documents({}) == 0  # released once the write is done
    with row_claims(connection.store, table, [second.pk, first.pk]):
        assert claims.count_documents({}) == 2


def test_a_claim_abandoned_for_a_lease_is_taken_over(claims, short_wait):
    """A writer that died between claim and release must not block the row forever."""
    import datetime

    from django_nonrel.backends.mongodb.row_claims import LEASE_SECONDS, claim_id, row_claims

    account = Account.objects.create(owner="abandoned")
    table = Account._meta.db_table
    key = claim_id(table, account.pk)
    now = datetime.datetime.now(datetime.UTC)
    claims.insert_one({"_id": key, "owner": "fresh", "at": now})
    with pytest.raises(ContentionError), row_claims(connection.store, table, [account.pk]):
        pass
    gone = now - datetime.timedelta(seconds=LEASE_SECONDS + 5)
    claims.update_one({"_id": key}, {"$set": {"at": gone}})
    with row_claims(connection.store, table, [account.pk]):
        assert claims.find_one({"_id": key})["owner"] != "fresh"
    assert claims.count_documents({}) == 0


def test_writes_on_ferretdb_claim_their_rows_and_leave_no_claims_behind(claims, monkeypatch):
    """The claim (and the read of the keys it needs) is bookkeeping: connection.queries
    shows the one write every server runs, as Django's query-count tests expect."""
    if not connection.server_info["ferretdb"]:
        pytest.skip("rows are claimed on FerretDB only (atomic writes elsewhere)")
    from django_nonrel.backends.mongodb import row_claims

    taken = []
    take = row_claims._take
    monkeypatch.setattr(
        row_claims, "_take", lambda found, ids, owner: taken.append(ids) or take(found, ids, owner)
    )
    account = Account.objects.create(owner="tidy")
    with CaptureQueriesContext(connection) as captured:
        Account.objects.filter(owner="tidy").update(balance=F("balance") + 1)
    assert [q["sql"].split("(", 1)[0] for q in captured] == [
        f"db.{Account._meta.db_table}.updateMany"
    ]
    assert taken == [[row_claims.claim_id(Account._meta.db_table, account.pk)]]
    for _ in range(3):
        account.refresh_from_db()
        account.balance += 1
        account.save()
    stale = Account.objects.get(pk=account.pk)
    account.save()
    # In a block of its own, as on SQL: the conflict marks the enclosing block for rollback.
    with pytest.raises(ConflictError), transaction.atomic():
        stale.save()
    Account.objects.filter(pk=account.pk).delete()
    assert claims.count_documents({}) == 0


@threaded
def test_update_fields_saves_with_a_version_field_lose_no_update():
    """The same read-modify-write through save(update_fields=...), which Django
    runs as a conditional UPDATE (update_many on MongoDB), not as an upsert."""
    if connection.vendor == "sqlite":
        pytest.skip("in-memory SQLite is one connection per thread; MariaDB covers SQL")
    account = Account.objects.create(owner="fields")
    per_thread = 10

    def work(i: int) -> list[int]:
        for _ in range(per_thread):
            while True:
                current = Account.objects.get(pk=account.pk)
                current.balance += 1
                try:
                    current.save(update_fields=["balance"])
                    break
                except ConflictError:
                    pass
        return []

    in_threads(work)
    stored = Account.objects.get(pk=account.pk)
    assert stored.balance == THREADS * per_thread
    assert stored.version == THREADS * per_thread + 1


def switching_often(rounds: range) -> Iterator[int]:
    """``rounds``, with Python threads switching every 10 microseconds meanwhile
    (5 ms by default): the other threads' writes then land inside a write's
    read-then-write window in a few rounds, on an in-process store too."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield from rounds
    finally:
        sys.setswitchinterval(interval)


#: Rounds and rows of the read-then-write stress test (a few seconds per tier).
STRESS_ROUNDS = 4
STRESS_ROWS = 60
STRESS_OPERATIONS = {
    "delete": lambda rows: rows.delete(),
    "update": lambda rows: rows.update(title="overwritten"),
    "update with an expression": lambda rows: rows.update(title=Concat("title", Value("!"))),
}


@threaded
@pytest.mark.parametrize("operation", sorted(STRESS_OPERATIONS))
def test_python_filtered_writes_leave_rows_that_stopped_matching_alone(operation, capsys):
    """One thread deletes or updates ``score > group`` (an F() comparison, evaluated
    in Python on MongoDB: read, decide, write by key) while three others take rows
    out of that filter, one at a time, each recording the rows its write reached.
    A row taken out before the delete/update wrote it must survive untouched: SQL's
    WHERE re-checks each row it writes, and so must the guarded write."""
    if connection.vendor == "sqlite":
        pytest.skip("in-memory SQLite is one connection per thread; MariaDB covers SQL")
    write = STRESS_OPERATIONS[operation]
    protected: set[int] = set()
    wrong: set[int] = set()
    for _ in switching_often(range(STRESS_ROUNDS)):
        Entry.objects.all().delete()
        Entry.objects.bulk_create(
            Entry(group=0, score=n, title=f"row {n}") for n in range(1, STRESS_ROWS + 1)
        )
        keys = list(Entry.objects.values_list("pk", flat=True))
        done = threading.Event()

        def work(i: int, keys=keys, done=done) -> list[int]:
            if i == 0:
                try:
                    write(Entry.objects.filter(score__gt=F("group")))
                finally:
                    done.set()
                return []
            mine = []
            order = random.Random(i).sample(keys, len(keys))
            for key in order:
                if done.is_set():
                    break
                if Entry.objects.filter(pk=key).update(score=-1, title="mine"):
                    mine.append(key)
            return mine

        reached = set(in_threads(work, threads=4))
        titles = dict(Entry.objects.filter(pk__in=reached).values_list("pk", "title"))
        protected |= reached
        wrong |= {key for key in reached if titles.get(key) != "mine"}
    with capsys.disabled():
        print(
            f"\n{operation} on {connection.display_name}: {len(wrong)} of "
            f"{len(protected)} rows taken out of the filter mid-write were changed anyway"
        )
    assert protected, "no interleaving happened: make the rounds larger"
    assert not wrong, f"{len(wrong)} of {len(protected)} protected rows were deleted or overwritten"


@threaded
def test_concurrent_expression_updates_of_one_row_lose_no_increment():
    """``update(balance=F("balance") + 1)`` from several connections at once adds
    every increment, as SQL's ``UPDATE ... SET n = n + 1`` does.

    FerretDB v1 applies an update as a read then a write of the whole document
    (pymongo alone loses ``$inc``s there); the backend's row claims make the
    writers of one row take turns.
    """
    if connection.vendor == "sqlite":
        pytest.skip("in-memory SQLite is one connection per thread; MariaDB covers SQL")
    account = Account.objects.create(owner="counted")
    per_thread = 25

    def work(i: int) -> list[int]:
        return [
            Account.objects.filter(pk=account.pk).update(balance=F("balance") + 1)
            for _ in range(per_thread)
        ]

    applied = in_threads(work, threads=4)
    assert applied == [1] * (4 * per_thread)
    assert Account.objects.get(pk=account.pk).balance == 4 * per_thread
