"""VersionField: a stale save raises ConflictError and writes nothing, on every tier."""

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from django_nonrel.exceptions import ConflictError
from django_nonrel.fields import VersionField
from tests.conc.models import Account

pytestmark = pytest.mark.django_db


def stale(save, match=None):
    """Run a save expected to conflict; the atomic block keeps SQL tiers' test
    transaction usable, as around any database error in Django."""
    with pytest.raises(ConflictError, match=match), transaction.atomic():
        save()


def stored(pk):
    return Account.objects.values("owner", "balance", "version").get(pk=pk)


def test_each_save_increments_the_version():
    account = Account.objects.create(owner="ann")
    assert account.version == 1
    account.balance = 10
    account.save()
    assert account.version == 2
    assert stored(account.pk) == {"owner": "ann", "balance": 10, "version": 2}


def test_a_stale_save_raises_and_writes_nothing():
    first = Account.objects.create(owner="ann", balance=5)
    second = Account.objects.get(pk=first.pk)
    first.balance = 50
    first.save()
    second.balance = 7
    second.owner = "eve"
    stale(second.save, match="changed since it was loaded")
    assert stored(first.pk) == {"owner": "ann", "balance": 50, "version": 2}
    assert Account.objects.count() == 1
    assert second.version == 1  # the instance keeps the version it was loaded with
    second.refresh_from_db()
    second.balance = 8
    second.save()
    assert stored(first.pk)["balance"] == 8 and second.version == 3


def test_a_stale_save_with_update_fields_raises():
    first = Account.objects.create(owner="ann")
    second = Account.objects.get(pk=first.pk)
    first.save()
    second.balance = 3
    stale(lambda: second.save(update_fields=["balance"]))
    assert stored(first.pk) == {"owner": "ann", "balance": 0, "version": 2}
    first.balance = 4
    first.save(update_fields=["balance"])
    assert stored(first.pk) == {"owner": "ann", "balance": 4, "version": 3}


def test_a_new_instance_over_an_existing_key_is_a_conflict():
    Account.objects.create(pk=77, owner="ann")
    stale(Account(pk=77, owner="eve").save)
    assert Account.objects.count() == 1 and stored(77)["owner"] == "ann"


def test_a_deleted_row_is_saved_again_as_django_does():
    account = Account.objects.create(owner="ann")
    Account.objects.filter(pk=account.pk).delete()
    account.save()
    assert stored(account.pk)["version"] == 2


def test_queryset_update_does_not_touch_versions_unless_asked():
    account = Account.objects.create(owner="ann")
    Account.objects.filter(pk=account.pk).update(balance=9)
    account.save()  # update() left the version alone: this save is not stale
    Account.objects.filter(pk=account.pk).update(version=F("version") + 1)
    stale(account.save)


def test_the_mongodb_save_stays_one_command(on_mongodb):
    account = Account.objects.create(owner="ann")
    account.balance = 1
    with CaptureQueriesContext(connection) as captured:
        account.save()
    sent = [q["sql"] for q in captured]
    # On FerretDB the upsert runs between claiming and releasing the row
    # (row_claims.py): bookkeeping, not in connection.queries.
    assert len(sent) == 1 and "'version': 1" in sent[0]
    old = Account(pk=account.pk, owner="eve", version=1)
    with CaptureQueriesContext(connection) as captured:
        stale(old.save)
    sent = [q["sql"] for q in captured if q["sql"].startswith("db.")]
    assert len(sent) == 2, sent  # the refused upsert, and the read that tells why
    assert Account.objects.count() == 1


#: Documents written with pymongo directly are outside the undo journal that rolls
#: a test back: these tests flush instead.
raw_writes = pytest.mark.django_db(transaction=True)


@raw_writes
@pytest.mark.parametrize("update_fields", [None, ["balance"]], ids=["save", "update_fields"])
def test_a_row_stored_without_a_version_can_be_saved_and_is_guarded(on_mongodb, update_fields):
    """A document written before the VersionField was added (or by another program)
    loads with version None; its saves are guarded on the version still being absent
    and write version 1 (every save raised ConflictError, "version 0", before)."""
    collection = connection.database[Account._meta.db_table]
    collection.insert_one({"_id": 900, "owner": "legacy", "balance": 5})
    first = Account.objects.get(pk=900)
    second = Account.objects.get(pk=900)
    assert first.version is None
    first.balance = 6
    first.save(update_fields=update_fields)
    assert first.version == 1
    assert collection.find_one({"_id": 900})["version"] == 1
    second.balance = 7
    stale(lambda: second.save(update_fields=update_fields), match="no version")
    assert stored(900) == {"owner": "legacy", "balance": 6, "version": 1}
    second.refresh_from_db()
    second.balance = 8
    second.save(update_fields=update_fields)
    assert stored(900) == {"owner": "legacy", "balance": 8, "version": 2}


@raw_writes
def test_a_row_with_a_null_version_is_saved_the_same_way(on_mongodb):
    connection.database[Account._meta.db_table].insert_one(
        {"_id": 901, "owner": "legacy", "balance": 5, "version": None}
    )
    account = Account.objects.get(pk=901)
    account.save()
    assert stored(901)["version"] == 1


def test_deconstructs_for_migrations():
    name, path, args, kwargs = VersionField().deconstruct()
    assert path == "django_nonrel.fields.VersionField" and kwargs == {}
    field = Account._meta.get_field("version")
    assert field.default == 0 and not field.editable
