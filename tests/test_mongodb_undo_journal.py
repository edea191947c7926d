"""The undo journal: what atomic() and savepoints restore on MongoDB stores without
transactions, and the keys a rolled-back or flushed table hands out next."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import IntegrityError, NotSupportedError, connection, connections, transaction
from django.test import TestCase, TransactionTestCase
from django.test.utils import CaptureQueriesContext

from django_nonrel.backends.mongodb import creation
from django_nonrel.backends.mongodb.atomicity import Atomicity, choose_atomicity
from django_nonrel.backends.mongodb.gridfs_storage import GridFSStorage
from tests.agg.models import Shop, Venue
from tests.orm.models import Author, Book, Token

#: Django 6.1 renames savepoint() to savepoint_create() (the old name warns).
savepoint = getattr(transaction, "savepoint_create", transaction.savepoint)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_mongodb")]
#: Tests that need the outermost atomic block (no test-wide transaction around them).
outermost = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


def stored(model, pk) -> dict | None:
    """The raw document of ``model`` row ``pk``."""
    return connection.database[model._meta.db_table].find_one({"_id": pk})


@pytest.fixture
def journaled(on_mongodb):
    if connection.atomicity is not Atomicity.JOURNAL:
        pytest.skip(f"atomic() here is {connection.atomicity.value}, not the undo journal")


# -- documents ------------------------------------------------------------------------
def test_updates_and_deletes_restore_whole_documents_with_unknown_fields(journaled):
    ann = Author.objects.create(name="Ann", age=30)
    bob = Author.objects.create(name="Bob", age=40)
    authors = connection.database[Author._meta.db_table]
    authors.update_many({}, {"$set": {"legacy": {"note": "kept", "tags": [1, 2]}}})
    keys = (ann.pk, bob.pk)
    before = {pk: stored(Author, pk) for pk in keys}
    with pytest.raises(Boom), transaction.atomic():
        Author.objects.filter(pk=ann.pk).update(age=31)
        authors.update_one({"_id": ann.pk}, {"$unset": {"legacy": ""}})  # outside the ORM
        Author.objects.filter(pk=ann.pk).update(age=32)  # recorded again: the first wins
        bob.delete()
        raise Boom
    # Whole documents come back, the field changed outside the ORM included.
    assert {pk: stored(Author, pk) for pk in keys} == before
    assert before[ann.pk]["legacy"] == {"note": "kept", "tags": [1, 2]}


def test_deleted_rows_come_back_in_their_place_in_unordered_reads(journaled):
    # A rolled-back delete moves nothing on SQL: unordered reads after it (the
    # next TestCase test's Model.objects.all()[0]) see the rows as before.
    names = ["Dee", "Ann", "Cid", "Bob"]  # created in this order: ascending keys
    for name in names:
        Author.objects.create(name=name)
    unordered = Author.objects.order_by()  # Author's Meta.ordering cleared
    with pytest.raises(Boom), transaction.atomic():
        Author.objects.filter(name__in=["Ann", "Cid"]).delete()
        raise Boom
    assert list(unordered.values_list("name", flat=True)) == names
    with transaction.atomic():
        sid = savepoint()
        Author.objects.filter(name="Dee").delete()
        transaction.savepoint_rollback(sid)
    assert list(unordered.values_list("name", flat=True)) == names


def test_upserts_restore_the_prior_document_or_remove_the_new_one(journaled):
    Token.objects.create(key="old", uses=1)
    with pytest.raises(Boom), transaction.atomic():
        Token(key="old", uses=2).save()
        Token(key="new", uses=3).save()
        raise Boom
    assert list(Token.objects.values_list("key", "uses")) == [("old", 1)]


def test_raw_update_and_gridfs_files_are_undone_too(journaled):
    shop = Shop.objects.create(name="North", address=Venue(city="Oslo"), tags=["a"], visits=1)
    storage = GridFSStorage(bucket="journal")
    storage.save("kept.txt", _content(b"kept"))
    with pytest.raises(Boom), transaction.atomic():
        Shop.objects.filter(pk=shop.pk).raw_update(None, {"$push": {"tags": "b"}})
        storage.save("gone.txt", _content(b"gone" * 100_000))
        storage.delete("kept.txt")
        raise Boom
    assert Shop.objects.get(pk=shop.pk).tags == ["a"]
    assert storage.exists("kept.txt") and not storage.exists("gone.txt")
    assert storage.open("kept.txt").read() == b"kept"
    assert connection.database["journal.chunks"].count_documents({}) == 1


def _content(data: bytes):
    from django.core.files.base import ContentFile

    return ContentFile(data)


def test_ignored_conflicts_leave_the_existing_documents_alone(journaled):
    Token.objects.create(key="mine", uses=1)
    with pytest.raises(Boom), transaction.atomic():
        Token.objects.bulk_create(
            [Token(key="mine", uses=9), Token(key="fresh", uses=2)], ignore_conflicts=True
        )
        raise Boom
    assert list(Token.objects.values_list("key", "uses")) == [("mine", 1)]


def test_an_insert_that_fails_part_way_undoes_only_what_it_wrote(journaled):
    Token.objects.create(key="b", uses=1)
    with transaction.atomic():
        with pytest.raises(IntegrityError), transaction.atomic():
            Token.objects.bulk_create([Token(key="a"), Token(key="b", uses=5), Token(key="c")])
        assert list(Token.objects.values_list("key", "uses")) == [("b", 1)]


def test_swapped_unique_values_are_restored(journaled):
    ann = Author.objects.create(name="Ann", handle="first")
    bob = Author.objects.create(name="Bob", handle="second")
    with pytest.raises(Boom), transaction.atomic():
        Author.objects.filter(pk=ann.pk).update(handle="spare")
        Author.objects.filter(pk=bob.pk).update(handle="first")
        Author.objects.filter(pk=ann.pk).update(handle="second")
        raise Boom
    assert dict(Author.objects.values_list("name", "handle")) == {"Ann": "first", "Bob": "second"}


def test_the_journal_is_not_counted_as_queries(journaled):
    ann = Author.objects.create(name="Ann")
    with CaptureQueriesContext(connection) as outside:
        Author.objects.filter(pk=ann.pk).update(age=1)
        ann.save()
    with CaptureQueriesContext(connection) as inside, transaction.atomic():
        Author.objects.filter(pk=ann.pk).update(age=2)
        ann.save()
    # The block's own SAVEPOINT/RELEASE are logged, as SQL backends log them; the
    # journal's commands are not.
    commands = [q for q in inside if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(commands) == len(outside) == len(inside) - 2
    # FerretDB's row claims (row_claims.py) are bookkeeping too: not logged.
    assert len(commands) == 2


# -- keys -----------------------------------------------------------------------------
def test_a_rollback_hands_out_the_same_keys_again(journaled):
    first = Author.objects.create(name="Before").pk
    book = Book.objects.create(title="Before", author_id=first).pk
    with pytest.raises(Boom), transaction.atomic():
        # More than one block of keys: the counter itself moves.
        inside = [Author.objects.create(name=f"In {n}").pk for n in range(25)]
        Book.objects.bulk_create([Book(title=f"b{n}", author_id=first) for n in range(30)])
        raise Boom
    assert inside == list(range(first + 1, first + 26))
    assert Author.objects.create(name="After").pk == first + 1
    assert Book.objects.create(title="After", author_id=first).pk == book + 1


def test_a_single_row_after_a_batch_gets_the_next_key(on_mongodb):
    # FerretDB reserves whole chunks of keys for a batch: the rest are not skipped.
    Author.objects.bulk_create([Author(name=f"Batch {n}") for n in range(3)])
    assert Author.objects.create(name="Next").pk == 4


def test_explicit_keys_rolled_back_stop_reserving_their_range(journaled):
    with pytest.raises(Boom), transaction.atomic():
        Author.objects.create(pk=500, name="Explicit")
        raise Boom
    assert Author.objects.create(name="Next").pk == 1


@outermost
def test_keys_another_connection_took_meanwhile_are_never_handed_out_again(journaled):
    taken = []

    def other_connection():
        taken.append(Author.objects.create(name="Other").pk)
        connections.close_all()

    with pytest.raises(Boom), transaction.atomic():
        mine = Author.objects.create(name="Mine").pk
        worker = threading.Thread(target=other_connection)
        worker.start()
        worker.join()
        raise Boom
    after = Author.objects.create(name="After").pk
    assert after not in taken and after > taken[0] > mine


@outermost
def test_flush_restarts_keys_on_every_connection_of_the_process(on_mongodb):
    Author.objects.create(name="Ann")
    keys = []

    def other_connection():
        keys.append(Author.objects.create(name="Other").pk)
        call_command("flush", interactive=False, reset_sequences=False, verbosity=0)
        keys.append(Author.objects.create(name="First after flush").pk)
        connections.close_all()

    worker = threading.Thread(target=other_connection)
    worker.start()
    worker.join()
    assert keys[1] == 1
    # This thread's block of keys (2 on) was retired too: the other connection's new
    # block holds those keys now, and this thread reserves the keys after it.
    counter = connection.database["django_nonrel_sequences"].find_one({"_id": "orm_author"})
    second = Author.objects.create(name="Second after flush").pk
    assert second == counter["value"] + 1


class HardCodedKeysTests(TestCase):
    """As on SQL: each test starts from the class's rows and the keys a fresh table gives."""

    @classmethod
    def setUpTestData(cls):
        Author.objects.create(name="Ann")

    def check(self):
        self.assertEqual(Author.objects.get(pk=1).name, "Ann")
        Author.objects.create(name="Bob")
        Book.objects.create(title="t", author_id=2)
        self.assertEqual(Book.objects.get(pk=1).author.name, "Bob")

    def test_one(self):
        self.check()

    def test_two(self):
        self.check()


class HardCodedKeysAfterFlushTests(TransactionTestCase):
    """TransactionTestCase flushes between tests: the counters restart with the collections."""

    available_apps = ["tests.orm"]

    def check(self):
        Author.objects.create(name="Ann")
        self.assertEqual(Author.objects.get(pk=1).name, "Ann")

    def test_one(self):
        self.check()

    def test_two(self):
        self.check()


# -- which connections have it ---------------------------------------------------------------
def test_atomicity_by_mode_server_and_test_database():
    def choose(mode, server=False, embedded=False, test=False):
        return choose_atomicity(
            mode, server_transactions=server, embedded=embedded, test_database=test
        )

    assert choose("auto", server=True) is Atomicity.SERVER
    assert choose("auto", embedded=True) is Atomicity.JOURNAL
    assert choose("auto", test=True) is Atomicity.JOURNAL
    assert choose("auto") is Atomicity.NONE
    assert choose("journal") is choose("journal", server=True) is Atomicity.JOURNAL
    assert choose("required", test=True) is Atomicity.JOURNAL
    assert choose("required", embedded=True) is Atomicity.NONE
    assert choose("off", server=True, embedded=True, test=True) is Atomicity.NONE


def test_the_test_database_has_transactions_and_savepoints():
    assert connection.features.supports_transactions and connection.features.uses_savepoints
    assert creation.is_test_database(connection.settings_dict)


@outermost
def test_features_follow_each_connections_settings(monkeypatch):
    monkeypatch.setattr(creation, "TEST_DATABASES", set())
    options = connection.settings_dict["OPTIONS"]
    monkeypatch.setitem(options, "TRANSACTIONS", "off")
    assert not connection.features.supports_transactions
    assert not connection.features.uses_savepoints
    other = connections["default"].__class__(
        {**connection.settings_dict, "OPTIONS": {"TRANSACTIONS": "journal"}}, alias="other"
    )
    try:
        assert other.features.supports_transactions and other.features.uses_savepoints
    finally:
        other.close()
    with pytest.raises(Boom), transaction.atomic():
        Author.objects.create(name="Off: kept")
        raise Boom
    assert Author.objects.filter(name="Off: kept").exists()


@outermost
def test_journal_is_opt_in_outside_test_databases(monkeypatch):
    monkeypatch.setattr(creation, "TEST_DATABASES", set())
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "TRANSACTIONS", "journal")
    with pytest.raises(Boom), transaction.atomic():
        Author.objects.create(name="Gone")
        with transaction.atomic():
            Token.objects.create(key="gone")
        raise Boom
    assert not Author.objects.exists() and not Token.objects.exists()


@outermost
def test_required_refuses_atomic_where_only_the_journal_could_roll_back(monkeypatch):
    if connection.atomicity is Atomicity.SERVER:
        pytest.skip("this MongoDB server has transactions")
    monkeypatch.setattr(creation, "TEST_DATABASES", set())
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "TRANSACTIONS", "required")
    with pytest.raises(NotSupportedError, match="replica set"), transaction.atomic():
        Author.objects.create(name="never")
    assert not Author.objects.filter(name="never").exists()
    assert connection.get_autocommit() and not connection.in_atomic_block
