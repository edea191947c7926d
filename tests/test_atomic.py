"""atomic(), savepoints and on_commit as Django documents them, on every tier.

The same expectations hold on stock SQLite, MariaDB, the SingleStore backend
and the MongoDB backend (server transactions or the undo journal), so Django
code and third-party apps written against SQL behave the same here.
"""

import pytest
from django.db import Error, IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length
from django.db.transaction import TransactionManagementError
from django.test import TestCase, TransactionTestCase, skipUnlessDBFeature
from django.test.utils import CaptureQueriesContext

from tests.orm.models import Author, Book, Token

#: Django 6.1 renames savepoint() to savepoint_create() (the old name warns).
savepoint = getattr(transaction, "savepoint_create", transaction.savepoint)


class Boom(Exception):
    pass


def write_rows_python_decides(test, author: Author) -> None:
    """A guarded update, bulk_update() and a guarded delete of ``author``'s three books
    (pages 10, 20, 30), each seen applied, then Boom.

    On MongoDB each is decided in Python and written by key
    (``django_nonrel.guarded_writes``): filters on expressions of columns, a value
    no store computes (``Concat``), bulk_update()'s ``Case(When(pk=...))``.
    Whatever atomic() rolls back with (the undo journal, a server transaction,
    SQL) must take back those writes too.
    """
    books = list(Book.objects.filter(author=author).order_by("pages"))
    with CaptureQueriesContext(connection) as captured:
        renamed = Book.objects.filter(pages__lt=F("pages") + 1).update(
            title=Concat("title", Value("!"))
        )
        for book, pages in zip(books, (11, 21, 31), strict=True):
            book.pages = pages
        Book.objects.bulk_update(books, ["pages"])
        deleted, _ = Book.objects.filter(pages__lt=Length("title") * 15).delete()
    test.assertEqual((renamed, deleted), (3, 2))
    test.assertEqual(list(Book.objects.values_list("title", "pages")), [("C!", 31)])
    if connection.vendor == "mongodb":
        keyed = [q["sql"] for q in captured if "'_id': {'$in'" in q["sql"]]
        test.assertTrue(any(".updateMany(" in sql for sql in keyed), captured.captured_queries)
        test.assertTrue(any(".deleteMany(" in sql for sql in keyed), captured.captured_queries)
    raise Boom


def books_of(author: Author) -> list[Book]:
    return [
        Book.objects.create(title=title, author=author, pages=pages)
        for title, pages in (("A", 10), ("B", 20), ("C", 30))
    ]


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
    def test_an_inner_block_rolls_back_writes_decided_in_python(self):
        books_of(self.ann)
        with pytest.raises(Boom), transaction.atomic():
            write_rows_python_decides(self, self.ann)
        stored = list(Book.objects.order_by("pages").values_list("title", "pages"))
        self.assertEqual(stored, [("A", 10), ("B", 20), ("C", 30)])

    @skipUnlessDBFeature("uses_savepoints")
    def test_savepoints_nest_and_roll_back_to_the_one_named(self):
        outer = savepoint()
        Author.objects.create(name="One")
        inner = savepoint()
        Author.objects.create(name="Two")
        Author.objects.filter(name="Ann").delete()
        transaction.savepoint_rollback(inner)
        self.assertEqual(sorted(Author.objects.values_list("name", flat=True)), ["Ann", "One"])
        Author.objects.create(name="Three")
        transaction.savepoint_rollback(outer)
        self.assertEqual(list(Author.objects.values_list("name", flat=True)), ["Ann"])

    @skipUnlessDBFeature("uses_savepoints")
    def test_a_released_savepoint_keeps_its_writes_until_the_enclosing_one_rolls_back(self):
        outer = savepoint()
        with transaction.atomic():
            Author.objects.create(name="Released")
        self.assertTrue(Author.objects.filter(name="Released").exists())
        transaction.savepoint_rollback(outer)
        self.assertFalse(Author.objects.filter(name="Released").exists())

    @skipUnlessDBFeature("uses_savepoints")
    def test_each_savepoint_restores_a_row_saved_in_several_of_them(self):
        outer = savepoint()
        bob = Author.objects.create(name="Bob", age=1)
        bob.age = 2
        bob.save()
        inner = savepoint()
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
    def test_an_error_rolls_back_writes_decided_in_python(self):
        ann = Author.objects.create(name="Ann")
        books_of(ann)
        with pytest.raises(Boom), transaction.atomic():
            write_rows_python_decides(self, ann)
        stored = list(Book.objects.order_by("pages").values_list("title", "pages"))
        self.assertEqual(stored, [("A", 10), ("B", 20), ("C", 30)])

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
