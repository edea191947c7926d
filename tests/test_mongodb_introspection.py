"""Introspection on MongoDB: what migrations recorded, and what documents show.

Collections have no columns: a migrated collection is described from the
schema record the schema editor keeps, any other from a sample of its
documents. ``inspectdb`` works from both.
"""

import datetime
from io import StringIO

import pytest
from bson import ObjectId
from django.core.management import call_command
from django.db import DatabaseError, connection, models

from tests.orm.models import Author, Book, Token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("on_mongodb")]

introspection = connection.introspection


def field_type(column):
    """The Django field for a column; None where inspectdb would have to guess."""
    try:
        return introspection.get_field_type(column.type_code, column)
    except KeyError:
        return None


def describe(table):
    with connection.cursor() as cursor:
        return {
            column.name: (field_type(column), column)
            for column in introspection.get_table_description(cursor, table)
        }


def test_a_migrated_collection_is_described_as_its_model_declares():
    described = describe(Author._meta.db_table)
    assert list(described) == [field.column for field in Author._meta.fields]
    types = {name: kind for name, (kind, _) in described.items()}
    assert types == {
        "id": "AutoField",
        "name": "CharField",
        "email": "CharField",
        "age": "IntegerField",
        "born": "DateField",
        "joined": "DateTimeField",
        "rating": "DecimalField",
        "active": "BooleanField",
        "handle": "CharField",  # a SlugField is a CharField column, as on SQL
    }
    name, rating, age = described["name"][1], described["rating"][1], described["age"][1]
    assert (name.display_size, name.null_ok) == (100, False)
    assert (rating.precision, rating.scale) == (5, 2)
    assert age.null_ok is True


def test_keys_are_described_with_the_type_they_point_at_and_their_relation():
    assert describe(Book._meta.db_table)["author_id"][0] == "IntegerField"
    with connection.cursor() as cursor:
        relations = introspection.get_relations(cursor, Book._meta.db_table)
    assert relations["author_id"][:2] == ("id", Author._meta.db_table)


def test_the_description_follows_added_altered_and_removed_fields():
    score = models.IntegerField(null=True)
    score.set_attributes_from_name("score")
    wider = models.BigIntegerField(default=0)
    wider.set_attributes_from_name("score")
    with connection.schema_editor() as editor:
        editor.add_field(Author, score)
    assert describe(Author._meta.db_table)["score"][0] == "IntegerField"
    with connection.schema_editor() as editor:
        editor.alter_field(Author, score, wider)
    kind, column = describe(Author._meta.db_table)["score"]
    assert (kind, column.null_ok) == ("BigIntegerField", False)
    with connection.schema_editor() as editor:
        editor.remove_field(Author, wider)
    assert "score" not in describe(Author._meta.db_table)


@pytest.fixture
def foreign_collection():
    """A collection another program wrote: no migration, no record."""
    documents = connection.database["shop_orders"]
    documents.insert_many(
        [
            {
                "_id": ObjectId(),
                "ref": "A-1",
                "qty": 2,
                "total": 12.5,
                "views": 2**40,
                "paid": True,
                "at": datetime.datetime(2024, 1, 2),
                "lines": [{"sku": "x"}],
                "note": None,
            },
            {"_id": ObjectId(), "ref": "A-2", "qty": 3, "total": 4, "paid": False},
        ]
    )
    yield "shop_orders"
    connection.database.drop_collection("shop_orders")


def test_a_collection_without_a_record_is_described_from_its_documents(foreign_collection):
    described = describe(foreign_collection)
    types = {name: kind for name, (kind, _) in described.items()}
    assert types == {
        "id": "django_nonrel.backends.mongodb.fields.ObjectIdAutoField",
        "ref": "TextField",
        "qty": "IntegerField",
        "total": "FloatField",  # an int and a double: a double column
        "views": "BigIntegerField",
        "paid": "BooleanField",
        "at": "DateTimeField",
        "lines": "JSONField",
        "note": None,  # only nulls seen: inspectdb writes a TextField, marked as a guess
    }
    nullable = {name for name, (_, column) in described.items() if column.null_ok}
    assert nullable == {"views", "at", "lines", "note"}


def test_inspectdb_writes_models_for_recorded_and_sampled_collections(foreign_collection):
    out = StringIO()
    call_command("inspectdb", Book._meta.db_table, foreign_collection, stdout=out)
    models_py = out.getvalue()
    assert "title = models.CharField(max_length=200)" in models_py
    assert "author = models.ForeignKey('OrmAuthor', models.DO_NOTHING)" in models_py
    assert "pages = models.PositiveIntegerField()" in models_py
    assert (
        "id = django_nonrel.backends.mongodb.fields.ObjectIdAutoField(primary_key=True)"
        in models_py
    )
    assert "qty = models.IntegerField()" in models_py
    assert "views = models.BigIntegerField(blank=True, null=True)" in models_py
    assert "note = models.TextField(blank=True, null=True)  # This field type is a guess." in (
        models_py
    )


def test_indexes_are_listed_by_their_django_names():
    with connection.cursor() as cursor:
        found = introspection.get_constraints(cursor, Book._meta.db_table)
        assert introspection.get_primary_key_column(cursor, Book._meta.db_table) == "id"
    assert found["_id_"]["columns"] == ["id"] and found["_id_"]["primary_key"]
    assert found["book_pages_desc"]["orders"] == ["DESC"]
    by_columns = {tuple(c["columns"]): c for c in found.values()}
    assert by_columns[("title",)]["unique"] is False
    assert by_columns[("author_id",)]["index"] is True


def test_sequences_are_those_of_integer_keys():
    with connection.cursor() as cursor:
        assert introspection.get_sequences(cursor, Author._meta.db_table) == [
            {"table": Author._meta.db_table, "column": "id"}
        ]
        assert introspection.get_sequences(cursor, Token._meta.db_table) == []


def test_the_backends_own_collections_are_not_tables():
    Author.objects.create(name="Ann")  # uses the key counter collection
    tables = introspection.table_names()
    assert Author._meta.db_table in tables
    assert not [name for name in tables if name.startswith("django_nonrel_")]


def test_a_missing_collection_is_a_database_error():
    with pytest.raises(DatabaseError, match="does not exist"), connection.cursor() as cursor:
        introspection.get_table_description(cursor, "no_such_collection")
