"""loaddata refuses a fixture whose foreign keys point at no row, on every tier.

Django loads a fixture with constraint checks off, then asks the backend's
``check_constraints()``; the MongoDB backend has no foreign key constraints and
answers by querying, as Django's SQLite and MySQL backends do.
"""

import json

import pytest
from django.core import management
from django.db import IntegrityError, connection

from tests.orm.models import Author, Book

pytestmark = pytest.mark.django_db(transaction=True)


def fixture(tmp_path, author_pk):
    path = tmp_path / "books.json"
    rows = [
        {"model": "orm.author", "pk": 1, "fields": {"name": "Ann"}},
        {"model": "orm.book", "pk": 1, "fields": {"title": "T", "author": author_pk}},
    ]
    path.write_text(json.dumps(rows))
    return str(path)


def test_a_fixture_with_a_dangling_foreign_key_is_refused(tmp_path):
    with pytest.raises(IntegrityError, match="Problem installing fixture") as refused:
        management.call_command("loaddata", fixture(tmp_path, 3), verbosity=0)
    assert "author_id" in str(refused.value)


def test_a_fixture_with_valid_foreign_keys_loads(tmp_path):
    management.call_command("loaddata", fixture(tmp_path, 1), verbosity=0)
    assert Book.objects.get().author == Author.objects.get(pk=1)
    connection.check_constraints(table_names=[Book._meta.db_table])


def test_check_constraints_names_the_row_and_the_missing_key(on_mongodb):
    ann = Author.objects.create(name="Ann")
    book = Book.objects.create(title="T", author=ann)
    Book.objects.create(title="U", author=ann)
    connection.check_constraints()
    connection.database[Author._meta.db_table].delete_one({"_id": ann.pk})
    message = (
        f"The row in table '{Book._meta.db_table}' with primary key '{book.pk}' has an "
        f"invalid foreign key: {Book._meta.db_table}.author_id contains a value '{ann.pk}'"
    )
    with pytest.raises(IntegrityError, match=message):
        connection.check_constraints(table_names=[Book._meta.db_table])
    connection.check_constraints(table_names=[Author._meta.db_table])
