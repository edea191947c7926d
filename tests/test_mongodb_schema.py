"""Migrations on MongoDB keep data: defaults filled, columns renamed, keys moved."""

from decimal import Decimal

import pytest
from bson import ObjectId
from django.db import (
    DatabaseError,
    IntegrityError,
    NotSupportedError,
    connection,
    models,
    transaction,
)
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext, isolate_apps
from pymongo.errors import DuplicateKeyError

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


def collection(model):
    return connection.database[model._meta.db_table]


def seat_model():
    """A model with a unique_together (define it inside isolate_apps)."""

    class Seat(models.Model):
        row = models.CharField(max_length=2)
        number = models.IntegerField()

        class Meta:
            app_label = "app"
            unique_together = [("row", "number")]

    return Seat


@isolate_apps("tests.app")
def test_renaming_a_column_rebuilds_the_indexes_on_it(create_collections):
    """A MongoDB index names document keys: it must be rebuilt for the renamed key,
    or a unique_together on it would silently stop refusing duplicates."""

    Seat = seat_model()
    create_collections(Seat)
    old = Seat._meta.get_field("row")
    renamed = models.CharField(max_length=2, db_column="line")
    renamed.set_attributes_from_name("row")
    renamed.model = Seat
    Seat.objects.create(row="A", number=1)
    with connection.schema_editor() as editor:
        editor.alter_field(Seat, old, renamed)
    assert collection(Seat).find_one({}, {"_id": 0}) == {"line": "A", "number": 1}
    keys = [info["key"] for info in collection(Seat).index_information().values()]
    assert [("line", 1), ("number", 1)] in keys
    with pytest.raises(DuplicateKeyError):
        collection(Seat).insert_one({"line": "A", "number": 1})


@isolate_apps("tests.app")
def test_removing_a_field_drops_the_indexes_containing_it(create_collections):
    Seat = seat_model()
    create_collections(Seat)
    Seat.objects.create(row="A", number=1)
    with connection.schema_editor() as editor:
        editor.remove_field(Seat, Seat._meta.get_field("row"))
    assert list(collection(Seat).index_information()) == ["_id_"]
    collection(Seat).insert_one({"number": 1})  # no longer unique: the index went with it


@isolate_apps("tests.app")
def test_moving_the_primary_key_rewrites_the_documents_keys(create_collections):
    class Badge(models.Model):
        code = models.CharField(max_length=10, unique=True)
        label = models.CharField(max_length=20)

        class Meta:
            app_label = "app"

    create_collections(Badge)
    first = Badge.objects.create(code="A1", label="gold")
    Badge.objects.create(code="B2", label="silver")
    old_id = Badge._meta.get_field("id")
    plain_id = models.IntegerField(null=True)
    plain_id.set_attributes_from_name("id")
    code_key = models.CharField(max_length=10, primary_key=True)
    code_key.set_attributes_from_name("code")
    with connection.schema_editor() as editor:
        editor.alter_field(Badge, old_id, plain_id)
        editor.alter_field(Badge, Badge._meta.get_field("code"), code_key)
    assert collection(Badge).find_one({"_id": "A1"}) == {
        "_id": "A1",
        "id": first.pk,
        "label": "gold",
    }
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, "app_badge")
        assert connection.introspection.get_primary_key_column(cursor, "app_badge") == "code"
    assert [column.name for column in description] == ["id", "code", "label"]
    with pytest.raises(DuplicateKeyError):  # _id enforces the new key
        collection(Badge).insert_one({"_id": "A1", "label": "again"})


@isolate_apps("tests.app")
def test_a_key_with_duplicates_is_refused_and_the_collection_kept(create_collections):
    class Badge(models.Model):
        code = models.CharField(max_length=10)

        class Meta:
            app_label = "app"

    create_collections(Badge)
    keys = sorted(Badge.objects.create(code="A1").pk for _ in range(2))
    code_key = models.CharField(max_length=10, primary_key=True)
    code_key.set_attributes_from_name("code")
    refused = pytest.raises(IntegrityError, match="cannot become the primary key")
    with refused, connection.schema_editor() as editor:
        editor.alter_field(Badge, Badge._meta.get_field("code"), code_key)
    assert sorted(d["_id"] for d in collection(Badge).find()) == keys
    assert "app_badge__django_nonrel_rekey" not in connection.database.list_collection_names()


@isolate_apps("tests.app")
def test_a_composite_primary_key_is_unique(create_collections):
    class Stock(models.Model):
        pk = models.CompositePrimaryKey("shop", "item")
        shop = models.IntegerField()
        item = models.IntegerField()
        count = models.IntegerField(default=0)

        class Meta:
            app_label = "app"

    create_collections(Stock)
    Stock.objects.create(shop=1, item=1)
    Stock.objects.create(shop=1, item=2)
    with pytest.raises(IntegrityError):
        Stock.objects.create(shop=1, item=1)
    with connection.cursor() as cursor:
        columns = connection.introspection.get_primary_key_columns(cursor, "app_stock")
    assert columns == ["shop", "item"]


@isolate_apps("tests.app")
def test_ordering_by_a_composite_primary_key_sorts_by_each_column(create_collections):
    # The key has no column of its own: it sorted by nothing (insertion order).
    class Line(models.Model):
        pk = models.CompositePrimaryKey("order", "number")
        order = models.IntegerField()
        number = models.IntegerField()

        class Meta:
            app_label = "app"

    create_collections(Line)
    for order, number in [(2, 1), (1, 3), (1, 1), (2, 0), (1, 2)]:
        Line.objects.create(order=order, number=number)
    ascending = [(1, 1), (1, 2), (1, 3), (2, 0), (2, 1)]
    assert [line.pk for line in Line.objects.order_by("pk")] == ascending
    assert [line.pk for line in Line.objects.order_by("-pk")] == ascending[::-1]
    after = Line.objects.filter(pk__gt=(1, 2)).order_by("pk")
    assert [line.pk for line in after] == ascending[2:]


@isolate_apps("tests.app")
def test_a_nullable_field_unique_through_a_constraint_allows_many_nulls(create_collections):
    """As on SQL: NULLs are distinct. None is stored absent and the index is sparse."""

    class Member(models.Model):
        email = models.CharField(max_length=50, null=True)

        class Meta:
            app_label = "app"
            constraints = [models.UniqueConstraint(fields=["email"], name="member_email_uniq")]

    create_collections(Member)
    Member.objects.create(email=None)
    Member.objects.create(email=None)
    Member.objects.create(email="a@example.com")
    with pytest.raises(IntegrityError):
        Member.objects.create(email="a@example.com")
    assert Member.objects.filter(email__isnull=True).count() == 2


@isolate_apps("tests.app")
def test_a_field_made_unique_and_nullable_drops_its_stored_nulls(create_collections):
    class Member(models.Model):
        email = models.CharField(max_length=50, null=True)

        class Meta:
            app_label = "app"

    create_collections(Member)
    Member.objects.create(email=None)
    Member.objects.create(email=None)
    assert collection(Member).count_documents({"email": {"$exists": True}}) == 2
    unique = models.CharField(max_length=50, null=True, unique=True)
    unique.set_attributes_from_name("email")
    with connection.schema_editor() as editor:
        editor.alter_field(Member, Member._meta.get_field("email"), unique)
    # Stored nulls would collide in the new unique index: they became absent keys.
    assert collection(Member).count_documents({"email": {"$exists": True}}) == 0
    collection(Member).insert_one({"email": "a@example.com"})
    with pytest.raises(DuplicateKeyError):
        collection(Member).insert_one({"email": "a@example.com"})


@isolate_apps("tests.app")
def test_creating_an_existing_collection_is_an_error(create_collections):
    """As creating an existing table is on SQL (migrate --fake-initial relies on it)."""

    class Log(models.Model):
        line = models.TextField()

        class Meta:
            app_label = "app"

    create_collections(Log)
    with pytest.raises(DatabaseError, match="already exists"), connection.schema_editor() as editor:
        editor.create_model(Log)


@isolate_apps("tests.app")
def test_schema_commands_are_logged_and_refused_inside_atomic(create_collections):
    class Log(models.Model):
        line = models.TextField(db_index=True)

        class Meta:
            app_label = "app"

    with CaptureQueriesContext(connection) as ctx:
        create_collections(Log)
    assert [q["sql"].split("(")[0] for q in ctx.captured_queries] == [
        "db.createCollection",
        "db.app_log.createIndex",
    ]
    refused = pytest.raises(TransactionManagementError)
    with refused, transaction.atomic(), connection.schema_editor() as editor:
        editor.remove_field(Log, Log._meta.get_field("line"))
    assert "line_" in " ".join(collection(Log).index_information())


def test_sql_is_refused_with_what_to_do_instead():
    with pytest.raises(NotSupportedError, match="RunPython"), connection.schema_editor() as editor:
        editor.execute("ALTER TABLE orm_author ADD COLUMN x integer")


@isolate_apps("tests.app")
def test_the_drop_table_template_drops_the_collection_and_its_record():
    """Code written for SQL backends drops a table with ``editor.sql_delete_table``."""

    class Log(models.Model):
        line = models.TextField()

        class Meta:
            app_label = "app"

    with connection.schema_editor() as editor:
        editor.create_model(Log)
    Log.objects.create(line="x")
    with connection.schema_editor() as editor:
        editor.execute(editor.sql_delete_table % {"table": "app_log"})
    assert "app_log" not in connection.introspection.table_names()
    assert connection.database["django_nonrel_schema"].find_one({"_id": "app_log"}) is None
    assert connection.database["django_nonrel_sequences"].find_one({"_id": "app_log"}) is None


@isolate_apps("tests.app")
def test_the_drop_table_template_read_from_the_editor_class_drops_through_flush():
    """django-test-migrations drops every table with
    ``connection.SchemaEditorClass.sql_delete_table % {...}`` run by
    ``connection.ops.execute_sql_flush()``: the class's template works there too."""

    class Note(models.Model):
        line = models.TextField()

        class Meta:
            app_label = "app"

    with connection.schema_editor() as editor:
        editor.create_model(Note)
    Note.objects.create(line="x")
    template = connection.SchemaEditorClass.sql_delete_table
    commands = [template % {"table": "app_note"}]
    assert commands == ["db.app_note.drop()"]
    connection.ops.execute_sql_flush(commands)
    assert "app_note" not in connection.introspection.table_names()
    assert connection.database["django_nonrel_schema"].find_one({"_id": "app_note"}) is None


def test_a_test_database_clone_keeps_every_index_option():
    """A sparse unique index copied as a plain one would refuse a second NULL."""
    Author.objects.create(name="Ann")
    client = connection.connection
    table = Author._meta.db_table
    target = connection.creation.get_test_db_clone_settings("clone1")["NAME"]
    try:
        connection.creation._clone_test_db("clone1", verbosity=0)
        source = client[connection.settings_dict["NAME"]][table].index_information()
        assert client[target][table].index_information() == source
        client[target][table].insert_one({"_id": ObjectId(), "name": "Bob"})  # handle: NULL
    finally:
        client.drop_database(target)


def test_a_table_dropped_and_made_again_starts_its_keys_at_one():
    from tests.orm.models import Alarm

    Alarm.objects.create(desc="before")  # this connection now holds a block of keys
    with connection.schema_editor() as editor:
        editor.delete_model(Alarm)
        editor.create_model(Alarm)
    assert [Alarm.objects.create(desc=f"after {n}").pk for n in range(3)] == [1, 2, 3]


@pytest.mark.parametrize(
    ("db_default", "stored"),
    [
        (models.Value(7), 7),
        (7, 7),
        (models.Value("it's %s"), "it's %s"),
    ],
)
def test_add_field_with_a_database_default_fills_existing_documents(db_default, stored):
    ann = Author.objects.create(name="Ann")
    field_class = models.IntegerField if stored == 7 else models.CharField
    options = {} if stored == 7 else {"max_length": 20}
    score = new_field(field_class(db_default=db_default, **options), "score")
    with connection.schema_editor() as editor:
        editor.add_field(Author, score)
    try:
        assert document(ann.pk)["score"] == stored
    finally:
        with connection.schema_editor() as editor:
            editor.remove_field(Author, score)


def test_a_nullable_field_given_a_database_default_and_not_null_fills_its_nulls():
    ann = Author.objects.create(name="Ann")
    digits = {"max_digits": 5, "decimal_places": 2}
    nullable = new_field(models.DecimalField(null=True, **digits), "price")
    price = models.Value(Decimal("1.25"))
    filled = new_field(models.DecimalField(db_default=price, **digits), "price")
    with connection.schema_editor() as editor:
        editor.add_field(Author, nullable)
    try:
        with connection.schema_editor() as editor:
            editor.alter_field(Author, nullable, filled)
        # As an insert of the field's db_default would store it.
        assert document(ann.pk)["price"] == filled.get_db_prep_save(Decimal("1.25"), connection)
    finally:
        with connection.schema_editor() as editor:
            editor.remove_field(Author, filled)
