"""atomic(), savepoints and on_commit as Django documents them, on every tier.

The same expectations hold on stock SQLite, MariaDB, the SingleStore backend
and the MongoDB backend (server transactions or the undo journal), so Django
code and third-party apps written against SQL behave the same here.
"""

import pytest
from django.db import Error, IntegrityError, connection, transaction
from django.db.models import F
from django.db.transaction import TransactionManagementError
from django.test import TestCase, TransactionTestCase, skipUnlessDBFeature

from tests.orm.models import Author, Book, Token


class Boom(Exception):
    pass


# Features are checked per test (a class decorator would query the server at collection).
class SavepointTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ann = Author.objects.create(name="Ann", age=30)

    @skipUnlessDBFeature("uses_savepoints")
    def test_an_inner_block_that_fails_rolls_back_only_its_own_writes(self):
        with transaction.atomic():
            Author.objects.create(name="Kept")
            with pytest.raises(Boom), transaction.atomic():
                Author.objects.create(name="Dropped")
                Author.objects.filter(pk=self.ann.pk).update(age=99)
                Book.objects.create(title="Dropped", author=self.ann)
                raise Boom
            Author.objects.create(name="Also kept")
        names = list(Author.objects.values_list("name", flat=True))
        self.assertEqual(names, ["Also kept", "Ann", "Kept"])
        self.assertEqual(Author.objects.get(pk=self.ann.pk).age, 30)
        self.assertFalse(Book.objects.exists())

    @skipUnlessDBFeature("uses_savepoints")
    def test_savepoints_nest_and_roll_back_to_the_one_named(self):
        outer = transaction.savepoint()
        Author.objects.create(name="One")
        inner = transaction.savepoint()
        Author.objects.create(name="Two")
        Author.objects.filter(name="Ann").delete()
        transaction.savepoint_rollback(inner)
        self.assertEqual(sorted(Author.objects.values_list("name", flat=True)), ["Ann", "One"])
        Author.objects.create(name="Three")
        transaction.savepoint_rollback(outer)
        self.assertEqual(list(Author.objects.values_list("name", flat=True)), ["Ann"])

    @skipUnlessDBFeature("uses_savepoints")
    def test_a_released_savepoint_keeps_its_writes_until_the_enclosing_one_rolls_back(self):
        outer = transaction.savepoint()
        with transaction.atomic():
            Author.objects.create(name="Released")
        self.assertTrue(Author.objects.filter(name="Released").exists())
        transaction.savepoint_rollback(outer)
        self.assertFalse(Author.objects.filter(name="Released").exists())

    @skipUnlessDBFeature("uses_savepoints")
    def test_each_savepoint_restores_a_row_saved_in_several_of_them(self):
        outer = transaction.savepoint()
        bob = Author.objects.create(name="Bob", age=1)
        bob.age = 2
        bob.save()
        inner = transaction.savepoint()
        bob.age = 3
        bob.save()
        Token.objects.create(key="inner")
        transaction.savepoint_rollback(inner)
        self.assertEqual(Author.objects.get(pk=bob.pk).age, 2)
        self.assertFalse(Token.objects.exists())
        with transaction.atomic():
            bob.age = 4
            bob.save()
        transaction.savepoint_rollback(outer)
        self.assertFalse(Author.objects.filter(pk=bob.pk).exists())

    @skipUnlessDBFeature("uses_savepoints")
    def test_get_or_create_recovers_from_a_conflict_inside_a_transaction(self):
        # The create runs in a savepoint: its IntegrityError leaves the block usable.
        with transaction.atomic():
            author, created = Author.objects.get_or_create(name="Ann", defaults={"age": 1})
            self.assertFalse(created)
            self.assertEqual(author.pk, self.ann.pk)
            Author.objects.create(name="After")
        self.assertTrue(Author.objects.filter(name="After").exists())

    @skipUnlessDBFeature("uses_savepoints")
    def test_on_commit_runs_the_callbacks_of_blocks_that_committed(self):
        ran = []
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            with transaction.atomic():
                transaction.on_commit(lambda: ran.append("outer"))
                with pytest.raises(Boom), transaction.atomic():
                    transaction.on_commit(lambda: ran.append("rolled back"))
                    raise Boom
                with transaction.atomic():
                    transaction.on_commit(lambda: ran.append("inner"))
            self.assertEqual(ran, [])
        self.assertEqual(len(callbacks), 2)
        self.assertEqual(ran, ["outer", "inner"])


class TestCaseIsolationTests(TestCase):
    """Each test sees the class's data only, whichever runs first."""

    @classmethod
    def setUpTestData(cls):
        cls.ann = Author.objects.create(name="Ann")

    def check_alone_then_write(self):
        self.assertEqual(list(Author.objects.values_list("name", flat=True)), ["Ann"])
        Author.objects.create(name="Bob")
        Token.objects.create(key="t", uses=1)
        Author.objects.filter(pk=self.ann.pk).update(age=5)

    def test_first(self):
        self.check_alone_then_write()

    def test_second(self):
        self.check_alone_then_write()

    def test_the_class_data_is_unchanged(self):
        self.assertIsNone(Author.objects.get(pk=self.ann.pk).age)
        self.assertFalse(Token.objects.exists())


class OutermostBlockTests(TransactionTestCase):
    available_apps = ["tests.orm"]

    @skipUnlessDBFeature("supports_transactions")
    def test_an_error_rolls_back_inserts_updates_and_deletes(self):
        ann = Author.objects.create(name="Ann", age=30)
        book = Book.objects.create(title="Kept", author=ann, pages=10)
        with pytest.raises(Boom), transaction.atomic():
            Author.objects.create(name="Gone")
            Book.objects.filter(pk=book.pk).update(pages=F("pages") + 1)
            ann.age = 31
            ann.save()
            Token.objects.create(key="gone")
            Book.objects.filter(pk=book.pk).delete()
            raise Boom
        self.assertEqual(list(Author.objects.values_list("name", "age")), [("Ann", 30)])
        self.assertEqual(Book.objects.get(pk=book.pk).pages, 10)
        self.assertFalse(Token.objects.exists())

    @skipUnlessDBFeature("supports_transactions")
    def test_on_commit_waits_for_the_outermost_block(self):
        ran = []
        with transaction.atomic():
            with transaction.atomic():
                transaction.on_commit(lambda: ran.append("inner"))
            self.assertEqual(ran, [])
        self.assertEqual(ran, ["inner"])
        with pytest.raises(Boom), transaction.atomic():
            transaction.on_commit(lambda: ran.append("never"))
            raise Boom
        self.assertEqual(ran, ["inner"])

    @skipUnlessDBFeature("supports_transactions")
    def test_a_failed_statement_without_a_savepoint_breaks_the_block(self):
        Author.objects.create(name="Ann")
        with transaction.atomic():
            with pytest.raises(IntegrityError), transaction.atomic(savepoint=False):
                Author.objects.create(name="Ann")
            with pytest.raises(TransactionManagementError, match="until the end of the 'atomic'"):
                Author.objects.count()
        self.assertEqual(Author.objects.count(), 1)

    @skipUnlessDBFeature("supports_transactions", "test_db_allows_multiple_connections")
    def test_closing_the_connection_inside_a_block_rolls_it_back(self):
        # (SQLite's in-memory test database is never closed.)
        with transaction.atomic():
            Author.objects.create(name="Gone")
            connection.close()
            with pytest.raises(Error):
                Author.objects.create(name="Refused")
        self.assertEqual(Author.objects.count(), 0)
