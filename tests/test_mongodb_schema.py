"""Migrations on MongoDB keep data: defaults filled, columns renamed, indexes enforced."""

import pytest
from django.db import IntegrityError, connection, models

from tests.orm.models import Author

# Schema changes are not part of transactions (can_rollback_ddl is False), nor are the
# documents they rewrite: these tests flush afterwards instead of rolling back.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("on_mongodb")]


def document(pk):
    return connection.database[Author._meta.db_table].find_one({"_id": pk})


def new_field(field, name):
    field.set_attributes_from_name(name)
    field.model = Author
    return field


def test_add_field_writes_the_default_into_existing_documents():
    ann = Author.objects.create(name="Ann")
    score = new_field(models.IntegerField(default=7), "score")
    with connection.schema_editor() as editor:
        editor.add_field(Author, score)
    assert document(ann.pk)["score"] == 7
    with connection.schema_editor() as editor:
        editor.remove_field(Author, score)
    assert "score" not in document(ann.pk)


def test_renaming_a_column_renames_it_in_every_document():
    ann = Author.objects.create(name="Ann", email="ann@example.com")
    old = Author._meta.get_field("email")
    renamed = new_field(models.EmailField(blank=True, db_column="mail"), "email")
    with connection.schema_editor() as editor:
        editor.alter_field(Author, old, renamed)
    try:
        assert document(ann.pk)["mail"] == "ann@example.com"
        assert "email" not in document(ann.pk)
    finally:
        with connection.schema_editor() as editor:
            editor.alter_field(Author, renamed, old)
    assert document(ann.pk)["email"] == "ann@example.com"


def test_making_a_field_unique_creates_an_enforced_index():
    old = Author._meta.get_field("email")
    unique = new_field(models.EmailField(blank=True, unique=True), "email")
    with connection.schema_editor() as editor:
        editor.alter_field(Author, old, unique)
    try:
        Author.objects.create(name="A", email="same@example.com")
        with pytest.raises(IntegrityError):
            Author.objects.create(name="B", email="same@example.com")
    finally:
        with connection.schema_editor() as editor:
            editor.alter_field(Author, unique, old)
    Author.objects.create(name="C", email="same@example.com")


def test_renaming_a_table_keeps_documents_and_key_counter():
    ann = Author.objects.create(name="Ann")
    table = Author._meta.db_table
    with connection.schema_editor() as editor:
        editor.alter_db_table(Author, table, "renamed_author")
    try:
        assert connection.database["renamed_author"].find_one({"_id": ann.pk})["name"] == "Ann"
    finally:
        with connection.schema_editor() as editor:
            editor.alter_db_table(Author, "renamed_author", table)
    assert Author.objects.create(name="Bob").pk > ann.pk


def test_collect_sql_renders_commands_without_running_them():
    score = new_field(models.IntegerField(default=1, db_index=True), "score")
    with connection.schema_editor(collect_sql=True) as editor:
        editor.add_field(Author, score)
    assert any("updateMany" in line for line in editor.collected_sql)
    assert any("createIndex" in line for line in editor.collected_sql)
    indexes = connection.database[Author._meta.db_table].index_information()
    assert not any("score" in name for name in indexes)


def test_a_unique_constraint_written_with_field_expressions_is_enforced():
    """``UniqueConstraint("email", "age")`` names fields as expressions (F()):
    it is a plain compound unique index, not a refused expression index."""
    constraint = models.UniqueConstraint("email", "age", name="author_email_age_uniq")
    with connection.schema_editor() as editor:
        editor.add_constraint(Author, constraint)
    try:
        Author.objects.create(name="Ann", email="x@example.com", age=30)
        Author.objects.create(name="Bob", email="x@example.com", age=31)
        with pytest.raises(IntegrityError):
            Author.objects.create(name="Cy", email="x@example.com", age=30)
    finally:
        with connection.schema_editor() as editor:
            editor.remove_constraint(Author, constraint)
    Author.objects.create(name="Cy", email="x@example.com", age=30)


def test_an_index_written_with_field_expressions_keeps_their_order():
    index = models.Index(models.F("name"), models.F("email").desc(), name="author_name_email_idx")
    with connection.schema_editor() as editor:
        editor.add_index(Author, index)
    try:
        info = connection.database[Author._meta.db_table].index_information()
        assert info["author_name_email_idx"]["key"] == [("name", 1), ("email", -1)]
    finally:
        with connection.schema_editor() as editor:
            editor.remove_index(Author, index)


def test_a_unique_constraint_on_a_computed_expression_is_refused():
    from django.db import NotSupportedError
    from django.db.models.functions import Lower

    constraint = models.UniqueConstraint(Lower("name"), name="author_lower_name_uniq")
    refused = pytest.raises(NotSupportedError, match="field paths only")
    with refused, connection.schema_editor() as editor:
        editor.add_constraint(Author, constraint)


def test_a_table_dropped_and_made_again_starts_its_keys_at_one():
    from tests.orm.models import Alarm

    Alarm.objects.create(desc="before")  # this connection now holds a block of keys
    with connection.schema_editor() as editor:
        editor.delete_model(Alarm)
        editor.create_model(Alarm)
    assert [Alarm.objects.create(desc=f"after {n}").pk for n in range(3)] == [1, 2, 3]
