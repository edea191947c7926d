"""MongoDB backend promises: one-command saves, data safety, clear errors."""

import re
from decimal import Decimal

import pytest
from django.db import NotSupportedError, connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from django_nonrel.backends.mongodb.filters import key_equality
from tests.app.models import Address, LineItem, Order, Person
from tests.orm.models import Author, Book, Token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_mongodb")]


def commands(func):
    """The commands ``func`` sends, as connection.queries shows them (FerretDB's row
    claims are bookkeeping there, like the undo journal's commands)."""
    with CaptureQueriesContext(connection) as captured:
        func()
    return [q["sql"] for q in captured.captured_queries]


def test_save_of_existing_row_is_one_upsert():
    token = Token.objects.create(key="k1")
    token.uses = 5
    sent = commands(token.save)
    assert len(sent) == 1 and "updateOne" in sent[0] and "upsert=True" in sent[0]


def test_save_of_new_row_with_key_is_one_command_and_created_is_right():
    seen = []

    def record(sender, instance, created, **kwargs):
        seen.append(created)

    post_save.connect(record, sender=Token)
    try:
        assert len(commands(lambda: Token(key="new", uses=1).save())) == 1
        assert len(commands(lambda: Token(key="new", uses=2).save())) == 1
    finally:
        post_save.disconnect(record, sender=Token)
    assert seen == [True, False]
    assert Token.objects.get(pk="new").uses == 2


def test_save_keeps_document_fields_the_model_does_not_know():
    token = Token.objects.create(key="keep")
    connection.database["orm_token"].update_one({"_id": "keep"}, {"$set": {"legacy": [1, 2]}})
    token.uses = 9
    token.save()
    document = connection.database["orm_token"].find_one({"_id": "keep"})
    assert document["legacy"] == [1, 2] and document["uses"] == 9


def test_user_values_are_never_operators():
    Author.objects.create(name="$where", email="x")
    Author.objects.create(name="plain", email="y")
    assert Author.objects.filter(name={"$ne": None}).count() == 0
    assert [a.name for a in Author.objects.filter(name="$where")] == ["$where"]
    assert Author.objects.filter(name__in=[{"$gt": ""}]).count() == 0
    assert Author.objects.filter(name__startswith="$").count() == 1
    assert Author.objects.filter(email__regex="^x$").count() == 1


def test_new_rows_reserve_keys_ever_more_rarely():
    """Steady state: one command per save, at most two per bulk_create batch (on
    FerretDB a reservation is two commands: the counter and the claim of its chunks)."""
    sent = [
        commands(
            lambda b=b: Author.objects.bulk_create([Author(name=f"{b}.{i}") for i in range(100)])
        )
        for b in range(10)
    ]
    assert all("insertMany" in batch[-1] for batch in sent)
    assert sum(len(batch) for batch in sent) <= 2 * len(sent), sent
    assert len([c for batch in sent for c in batch if "findOneAndUpdate" in c]) <= 5
    saves = commands(lambda: [Author.objects.create(name=f"s{i}") for i in range(200)])
    assert len([c for c in saves if "findOneAndUpdate" in c]) <= 5
    assert len(saves) <= 210, len(saves)
    keys = list(Author.objects.order_by("pk").values_list("pk", flat=True))
    # Unique, and within one connection they follow on, batch after batch and save
    # after save.
    assert keys == list(range(1, 1201))


def test_key_equality_is_sent_as_a_plain_value_and_stays_data():
    Token.objects.create(key="$where")
    Token.objects.create(key="plain")
    sent = commands(lambda: Token.objects.get(pk="$where"))
    assert "{'_id': '$where'}" in sent[0]
    assert [t.key for t in Token.objects.filter(pk="$where")] == ["$where"]
    token = Token.objects.get(pk="plain")
    token.uses = 3
    (save,) = commands(token.save)
    assert save.startswith("db.orm_token.updateOne({'_id': 'plain'}")
    # Values that are not plain scalar keys keep their operator: never a pattern or array match.
    for value in ({"$ne": None}, [1], 1.5, True, re.compile("p"), None):
        assert key_equality(value) == {"$eq": value}


def test_key_equality_is_filtered_in_ferretdb_storage():
    """FerretDB runs ``{_id: value}`` (not ``{_id: {$eq: value}}``) in its storage
    rather than decoding every document: explain reports ``filterPushdown``."""
    if connection.is_embedded or not connection.server_info["ferretdb"]:
        pytest.skip("filterPushdown is FerretDB's explain field")
    Token.objects.create(key="k")
    query = Token.objects.filter(pk="k").query
    compiler = query.get_compiler(connection=connection)
    filter_doc = connection.store.filter_document(compiler.read_plan().query)
    explained = connection.database.command("explain", {"find": "orm_token", "filter": filter_doc})
    assert explained["filterPushdown"] is True


def test_keyed_writes_keep_the_key_filter_alone():
    """A write by one key sends ``{_id: key}`` and nothing beside it on every server
    (on FerretDB, where the write claims its row first, too): the form FerretDB runs
    in its storage, while the write still changes only that row."""
    Token.objects.create(key="k", uses=1)
    Token.objects.create(key="other", uses=1)
    (update,) = commands(lambda: Token.objects.filter(pk="k").update(uses=2))
    assert update.startswith("db.orm_token.updateMany({'_id': 'k'}, "), update
    (delete,) = commands(lambda: Token.objects.filter(pk="other").delete())
    assert "({'_id': 'other'}" in delete, delete
    assert [(t.key, t.uses) for t in Token.objects.all()] == [("k", 2)]


def test_reads_use_portable_commands_and_cascade_is_batched():
    ann = Author.objects.create(name="Ann")
    Book.objects.bulk_create([Book(title=str(i), author=ann) for i in range(300)])
    sent = commands(ann.delete)
    # collect books (1 find), reviews of those books (1 find), set-null editors (1 find),
    # delete books (1), delete author (1): not one command per child.
    assert len(sent) <= 6, sent
    assert Book.objects.count() == 0


def test_count_limit_is_pushed_down():
    Author.objects.bulk_create([Author(name=f"a{i}") for i in range(20)])
    sent = commands(lambda: Author.objects.count(limit=5))
    assert len(sent) == 1 and "'limit': 5" in sent[0]


def test_unsupported_shapes_say_what_to_do():
    with pytest.raises(NotSupportedError, match=r"values\(\*fields\)\.distinct\(\)"):
        list(Author.objects.distinct("name"))


def test_union_compares_embedded_values_by_content():
    # Embedded instances have no key (unhashable): rows are the same by their fields.
    def order(number, names):
        items = [LineItem(name=name, price=Decimal("1.50"), tags=[name]) for name in names]
        Order.objects.create(number=number, items=items, by_size={"s": items[0]})

    order(1, ["tea"])
    order(2, ["tea"])
    order(3, ["tea", "jam"])
    order(4, ["jam"])
    columns = ("items", "by_size")
    rows = Order.objects.values_list(*columns).union(Order.objects.values_list(*columns))
    assert sorted([item.name for item in row[0]] for row in rows) == [
        ["jam"],
        ["tea"],
        ["tea", "jam"],
    ]
    whole = Order.objects.filter(number__lte=2).union(Order.objects.filter(number=1))
    assert sorted(o.number for o in whole) == [1, 2]
    Person.objects.create(name="Ann", address=Address(city="Oslo"))
    assert [p.address.city for p in Person.objects.union(Person.objects.all())] == ["Oslo"]


def test_integer_keys_follow_explicit_keys():
    Author.objects.create(pk=1000, name="explicit")
    later = Author.objects.create(name="later")
    assert later.pk > 1000


@pytest.fixture
def counter_moves(monkeypatch):
    """The key counter commands sent (bookkeeping: connection.queries leaves them out,
    as a SQL server's sequence is part of its INSERT)."""
    moves = []
    store = connection.store
    original = store._move_counter

    def spy(table, operator, amount):
        moves.append((table, operator, amount))
        return original(table, operator, amount)

    monkeypatch.setattr(store, "_move_counter", spy)
    return moves


def test_key_allocation_is_not_in_connection_queries(counter_moves):
    """A new row is one query whether or not the connection's block of keys ran out."""
    for index in range(30):
        sent = commands(lambda index=index: Author.objects.create(name=f"n{index}"))
        assert len(sent) == 1 and "insert" in sent[0], sent
    assert counter_moves, "keys came from the counter"


def test_explicit_keys_below_a_counter_value_seen_send_no_counter_command(counter_moves):
    """The counter only grows: once this connection moved it past 1000, keys up to
    1000 (fixtures, force_insert of rows with known keys) are saved in one command."""
    Author.objects.create(pk=1000)
    assert len(counter_moves) == 1
    for pk in (999, 1000 - 500, 7):
        sent = commands(lambda pk=pk: Author.objects.create(pk=pk, name=str(pk)))
        assert len(sent) == 1, sent
    assert len(counter_moves) == 1
    assert Author.objects.create(name="auto").pk > 1000


def test_a_rolled_back_counter_move_is_not_trusted_afterwards(counter_moves):
    """The undo journal (or the server's transaction) takes the counter back: an
    explicit key after that moves it again, so automatic keys never repeat it."""
    with pytest.raises(RuntimeError), transaction.atomic():
        Author.objects.create(pk=5000, name="rolled back")
        raise RuntimeError
    counter_moves.clear()
    Author.objects.create(pk=4000)
    assert len(counter_moves) == 1
    assert Author.objects.create(name="auto").pk > 4000


def test_ordering_by_several_columns_of_a_relation_reads_it_once():
    """Ordering by ``author__age, author__name`` (a model's Meta.ordering often
    does this) reads each author once, not once per column."""
    old = Author.objects.create(name="Old", age=80)
    young = Author.objects.create(name="Young", age=20)
    twin = Author.objects.create(name="Twin", age=20)
    for author in (old, young, twin):
        Book.objects.create(title=f"by {author.name}", author=author)
    with CaptureQueriesContext(connection) as captured:
        titles = [b.title for b in Book.objects.order_by("author__age", "-author__name")]
    assert titles == ["by Young", "by Twin", "by Old"]
    author_reads = [q["sql"] for q in captured.captured_queries if "orm_author" in q["sql"]]
    assert len(author_reads) == 1, author_reads


def test_reads_that_match_nothing_send_no_command():
    """A related ordering over no rows, and any read or write whose filter is an
    empty key list, are answered without a command."""
    sent = commands(lambda: list(Book.objects.filter(title="none").order_by("author__name")))
    assert len(sent) == 1 and "orm_book" in sent[0], sent
    from django_nonrel.query import Leaf, Node, NonrelQuery

    nothing = NonrelQuery(
        table="orm_author", pk_column="id", where=Node(children=[Leaf(("id",), "in", [])])
    )
    store = connection.store
    assert commands(lambda: list(store.fetch(nothing))) == []
    assert commands(lambda: store.distinct_values(nothing, "name")) == []
    assert commands(lambda: store.delete(nothing)) == []


def test_conditions_reaching_the_same_rows_by_two_joins_read_them_once():
    """Two filter() calls over a multi-valued relation are two JOINs (each row
    repeats per pair of matches, as SQL gives); the identical key lookups behind
    them are one command (the admin's search over two paths does this)."""
    two = Author.objects.create(name="Two")
    one = Author.objects.create(name="One")
    Author.objects.create(name="None")
    for author, title in ((two, "x"), (two, "x"), (one, "x"), (one, "y")):
        Book.objects.create(title=title, author=author)
    queryset = Author.objects.filter(books__title="x").filter(books__title="x")
    with CaptureQueriesContext(connection) as captured:
        names = sorted(a.name for a in queryset)
    assert names == ["One", "Two", "Two", "Two", "Two"]
    book_reads = [q["sql"] for q in captured.captured_queries if "orm_book" in q["sql"]]
    assert len(book_reads) == 1, book_reads


def test_an_explicit_key_at_the_top_of_the_int64_range_saves(on_mongodb):
    """The key counter moves past explicit keys (in aligned chunks on FerretDB);
    a key at the end of BigAutoField's range must not push it past int64."""
    from tests.conc.models import Ledger

    top = 2**63 - 1
    Ledger.objects.create(pk=top, note="top")
    assert Ledger.objects.get(pk=top).note == "top"


def test_str_of_query_shows_the_command():
    text = str(Author.objects.filter(name__startswith="A").order_by("-age").query)
    assert "find(" in text and "$regex" in text and "('age', -1)" in text


def test_a_json_encoder_producing_invalid_json_is_a_data_error_and_writes_nothing():
    # SQL databases refuse such text (DataError or a JSON check constraint); a bare
    # JSONDecodeError would not be caught by code handling database errors.
    import json
    from unittest import mock

    from django.db import DataError

    author = Author.objects.create(name="Ann")
    faulty = mock.patch.object(json.JSONEncoder, "encode", return_value="{@!not json")
    # In its own atomic block, as on SQL: an error marks the enclosing block for rollback.
    with faulty, pytest.raises(DataError, match="produced invalid JSON"), transaction.atomic():
        Book.objects.create(title="Broken", author=author, data={"a": 1})
    assert not Book.objects.filter(title="Broken").exists()


def test_json_containment_is_refused_as_on_django_backends_without_it():
    # Read as a text search, a dict value would silently match nothing.
    author = Author.objects.create(name="Ann")
    Book.objects.create(title="Tagged", author=author, data={"tags": {"a": 1}})
    for lookup in ("data__contains", "data__contained_by"):
        with pytest.raises(NotSupportedError, match="lookup is not supported on this database"):
            list(Book.objects.filter(**{lookup: {"tags": {"a": 1}}}))
    assert Book.objects.filter(data__tags__a=1).count() == 1


def test_a_query_while_apps_load_warns_as_on_sql_backends(monkeypatch):
    """Django's cursors warn about queries in AppConfig.ready() or at import time;
    the MongoDB backend's commands warn the same way, and not once apps are ready."""
    from django.apps import apps

    Author.objects.create(name="early")
    with pytest.warns(RuntimeWarning, match="during app initialization"):
        monkeypatch.setattr(apps, "ready", False)
        monkeypatch.setattr(apps, "stored_app_configs", [])
        assert Author.objects.filter(name="early").count() == 1
    monkeypatch.undo()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert Author.objects.filter(name="early").count() == 1


def test_bulk_update_of_many_rows_is_answered(on_mongodb):
    """FerretDB v1.24 stops answering an update command of 100 or more statements
    (and every command after it): the guarded updates of bulk_update() go out in
    commands it answers."""
    authors = Author.objects.bulk_create([Author(name=f"bulk{i}") for i in range(230)])
    for index, author in enumerate(authors):
        author.age = index
    assert Author.objects.bulk_update(authors, ["age"]) == 230
    ages = dict(Author.objects.filter(name__startswith="bulk").values_list("name", "age"))
    assert ages == {f"bulk{i}": i for i in range(230)}
