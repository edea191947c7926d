"""Concurrency on the MongoDB backend: key allocation and upserts from many threads.

Every thread has its own Django connection (Django's connections are
per-thread), as request threads of a web server do. Integer AutoField keys come
from a counters collection (one atomic ``$inc`` per block of keys); a save is an
upsert by primary key. Neither may hand out a key twice or leave two documents
for one key, on a server (FerretDB) or in the embedded store (mongomock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction

from django_nonrel.exceptions import ConflictError
from tests.conc.models import Account
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
    through version claims (backends/mongodb/version_claims.py); mongomock
    serialises commands per process; MariaDB runs a conditional UPDATE.
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
    """The version-claims collection, emptied around the test."""
    from backends.mongodb.version_claims import VERSION_CLAIMS

    collection = connection.database[VERSION_CLAIMS]
    collection.delete_many({})
    yield collection
    collection.delete_many({})


def test_a_version_claim_held_by_another_saver_refuses_the_save(claims):
    """While a saver holds the claim on a version, a second saver from that
    version is stale: ConflictError, nothing written, the holder's claim kept."""
    from backends.mongodb.version_claims import version_claim

    account = Account.objects.create(owner="held", balance=5)
    table, expected = Account._meta.db_table, {"version": account.version}
    with version_claim(connection.store, table, account.pk, expected):
        refused = pytest.raises(ConflictError, match="being saved by another connection")
        with refused, version_claim(connection.store, table, account.pk, expected):
            pytest.fail("a second claim on one version was granted")
        assert claims.count_documents({}) == 1
    assert claims.count_documents({}) == 0  # released once the write is done
    assert Account.objects.get(pk=account.pk).balance == 5


def test_a_claim_abandoned_for_a_lease_is_taken_over(claims):
    """A saver that died between claim and write must not block the row forever."""
    import datetime

    from backends.mongodb.version_claims import LEASE_SECONDS, claim_id, version_claim

    account = Account.objects.create(owner="abandoned")
    table, expected = Account._meta.db_table, {"version": account.version}
    key = claim_id(table, account.pk, expected)
    now = datetime.datetime.now(datetime.UTC)
    claims.insert_one({"_id": key, "table": table, "owner": "fresh", "at": now})
    with pytest.raises(ConflictError), version_claim(connection.store, table, account.pk, expected):
        pass
    gone = now - datetime.timedelta(seconds=LEASE_SECONDS + 5)
    claims.update_one({"_id": key}, {"$set": {"at": gone}})
    with version_claim(connection.store, table, account.pk, expected):
        assert claims.find_one({"_id": key})["owner"] != "fresh"
    assert claims.count_documents({}) == 0


def test_versioned_saves_on_ferretdb_leave_no_claims_behind(claims):
    if not connection.server_info["ferretdb"]:
        pytest.skip(
            "version claims are taken on FerretDB only (atomic conditional updates elsewhere)"
        )
    account = Account.objects.create(owner="tidy")
    for _ in range(3):
        account.balance += 1
        account.save()
    stale = Account.objects.get(pk=account.pk)
    account.save()
    # In a block of its own, as on SQL: the conflict marks the enclosing block for rollback.
    with pytest.raises(ConflictError), transaction.atomic():
        stale.save()
    assert claims.count_documents({}) == 0
    assert Account.objects.get(pk=account.pk).version == 5


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
