"""update()/delete() whose filter or values are evaluated in Python: right values, guarded writes.

On the MongoDB backend such a write reads the matching rows, decides in Python
and writes by key (django_nonrel.guarded_writes). Each row must get the value
computed from that row (bulk_update() wrote the first object's value into every
row), and a row another connection changes between the read and the write must
be judged on its new values, as SQL's UPDATE/DELETE ... WHERE judges it: not
deleted or overwritten when it no longer matches, still written when it does.
Every test runs on every tier; SQL backends (SQLite, MariaDB) are the reference.
"""

from __future__ import annotations

import math

import pytest
from django.db import connection, transaction
from django.db.models import CharField, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat, Upper

from django_nonrel.exceptions import ContentionError
from tests.commands import CommandCapture
from tests.conc.models import Account, Board, Entry, Post, Thread
from tests.differential.models import Item, Label
from tests.reliability.interleave import (
    between_collect_and_delete,
    between_read_and_write,
    other_connection,
)

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])
#: For a ContentionError whose partial writes the test inspects: outside a
#: transaction, as they stay where nothing rolls back. (Inside one the error
#: marks the block for rollback, as any database error does.)
autocommit = pytest.mark.django_db(transaction=True)

ALIASES = ("default", "sqlite")


def agree(make):
    """``make(alias)`` on the tier under test, after checking stock SQLite agrees."""
    ours, sqlite = (make(using) for using in ALIASES)
    assert ours == sqlite, f"tier gives {ours!r}, SQLite gives {sqlite!r}"
    return ours


def items(using: str, count: int = 5) -> list[Item]:
    return [
        Item.objects.using(using).create(id=n, name=f"Question {n}", number=n * 10, big=25)
        for n in range(1, count + 1)
    ]


def stored(using: str, *fields: str) -> list[tuple]:
    return list(Item.objects.using(using).order_by("pk").values_list("pk", *fields))


# -- item 0: every row gets its own value --------------------------------------------
def test_bulk_update_writes_each_objects_own_value():
    def run(using):
        objs = items(using)
        objs[2].name = "changed"
        for obj in objs:
            obj.number = obj.pk * 7
        Item.objects.using(using).bulk_update(objs, ["name", "number"])
        return stored(using, "name", "number")

    assert agree(run) == [
        (1, "Question 1", 7),
        (2, "Question 2", 14),
        (3, "changed", 21),
        (4, "Question 4", 28),
        (5, "Question 5", 35),
    ]


def test_bulk_update_of_objects_sharing_values_and_in_batches():
    def run(using):
        objs = items(using, 7)
        for obj in objs:
            obj.name = "even" if obj.pk % 2 == 0 else "odd"
            obj.flag = obj.pk > 3
        count = Item.objects.using(using).bulk_update(objs, ["name", "flag"], batch_size=3)
        return count, stored(using, "name", "flag")

    count, rows = agree(run)
    assert count == 7
    assert rows == [(n, "even" if n % 2 == 0 else "odd", n > 3) for n in range(1, 8)]


def test_update_with_an_expression_reading_the_primary_key():
    def run(using):
        items(using, 3)
        Item.objects.using(using).update(name=Concat(Value("id-"), Cast(F("id"), CharField())))
        return stored(using, "name")

    assert agree(run) == [(1, "id-1"), (2, "id-2"), (3, "id-3")]


def test_update_with_expressions_reading_the_key_and_other_columns():
    """Rows that read the same non-key values still differ by their key."""

    def run(using):
        items(using, 4)
        Item.objects.using(using).update(
            number=F("big") + F("id"),
            note=Concat(Upper("name"), Value("#"), Cast(F("id") * 2, CharField())),
        )
        return stored(using, "number", "note")

    assert agree(run) == [
        (1, 26, "QUESTION 1#2"),
        (2, 27, "QUESTION 2#4"),
        (3, 28, "QUESTION 3#6"),
        (4, 29, "QUESTION 4#8"),
    ]


def test_arithmetic_on_a_nullable_column_keeps_null_as_sql_does():
    """F("x") + 1 and * 2 leave NULL as NULL; a server's $inc/$mul would fail on null
    (or give a missing field a value), so nullable columns are computed per row."""

    def run(using):
        items(using, 2)
        Item.objects.using(using).filter(pk=1).update(ratio=1.5, number=None)
        count = Item.objects.using(using).update(ratio=F("ratio") * 2, number=F("number") + 1)
        return count, stored(using, "ratio", "number")

    assert agree(run) == (2, [(1, 3.0, None), (2, None, 21)])


def test_update_with_a_python_filter_is_one_read_and_one_write(on_mongodb):
    """Rows that get the same values share one guarded command."""
    items("default", 6)
    with CommandCapture(connection) as queries:
        count = Item.objects.filter(number__gt=F("big")).update(name="big")
    assert count == 4
    sent = [q["sql"].split("(")[0] for q in queries.captured_queries]
    assert [s.rsplit(".", 1)[-1] for s in sent] == ["find", "updateMany"]


def commands(queries: CommandCapture) -> list[str]:
    """The command names a block sent (``find``, ``bulkWrite``...)."""
    return [q["sql"].split("(")[0].rsplit(".", 1)[-1] for q in queries.captured_queries]


def test_bulk_update_of_rows_named_by_key_is_one_command_per_batch(on_mongodb):
    """Each row's value depends on its key alone (Case(When(pk=...))): nothing is
    read, as SQL's UPDATE ... CASE; the rows of a batch go in one command."""
    objs = items("default", 6)
    for obj in objs:
        obj.name = f"new {obj.pk}"
    with CommandCapture(connection) as queries:
        count = Item.objects.bulk_update(objs, ["name"], batch_size=4)
    assert count == 6
    assert commands(queries) == ["bulkWrite", "bulkWrite"]
    assert stored("default", "name") == [(n, f"new {n}") for n in range(1, 7)]


def test_bulk_update_leaves_rows_deleted_before_it_alone(on_mongodb):
    objs = items("default", 3)
    for obj in objs:
        obj.name = f"new {obj.pk}"
    Item.objects.filter(pk=2).delete()
    assert Item.objects.bulk_update(objs, ["name"]) == 2
    assert stored("default", "name") == [(1, "new 1"), (3, "new 3")]


def test_an_update_of_distinct_values_is_one_read_and_one_write(on_mongodb):
    """Rows that get different values are written guarded in one command."""
    items("default", 6)
    with CommandCapture(connection) as queries:
        count = Item.objects.filter(number__gt=F("big")).update(note=Upper("name"))
    assert count == 4
    assert commands(queries) == ["find", "bulkWrite"]
    assert [note for _, note in stored("default", "note")][2:] == [
        f"QUESTION {n}" for n in range(3, 7)
    ]


def test_a_batch_writes_its_rows_and_recomputes_the_one_changed_in_between():
    """One command writes the rows as read; the row another connection renamed
    just before it fails its guard, is read again and gets the value of its new name."""

    def run(using):
        items(using)
        rename = lambda alias: Item.objects.using(alias).filter(pk=4).update(name="other")  # noqa: E731
        if using == "default":
            with between_read_and_write(rename):
                count = Item.objects.filter(number__gt=F("big")).update(note=Upper("name"))
        else:
            rename(using)
            count = Item.objects.using(using).filter(number__gt=F("big")).update(note=Upper("name"))
        return count, stored(using, "note")

    count, rows = agree(run)
    assert count == 3
    assert [note for _, note in rows][2:] == ["QUESTION 3", "OTHER", "QUESTION 5"]


# -- item 1: a row another connection changes between the read and the write -----------
def make_unmatched(pk: int):
    """Another connection's write that takes row ``pk`` out of ``number > big``."""
    return lambda alias: Item.objects.using(alias).filter(pk=pk).update(number=-1, name="mine")


def entries() -> None:
    """Rows of a model no other model refers to: SQL deletes them with one DELETE."""
    for n in range(1, 6):
        Entry.objects.create(id=n, group=25, score=n * 10, title=f"Entry {n}")


def test_delete_keeps_a_row_that_stopped_matching():
    entries()
    unmatch = lambda alias: Entry.objects.using(alias).filter(pk=4).update(score=-1)  # noqa: E731
    with between_read_and_write(unmatch):
        deleted, _ = Entry.objects.filter(score__gt=F("group")).delete()
    assert deleted == 2
    assert sorted(Entry.objects.values_list("pk", "score")) == [(1, 10), (2, 20), (4, -1)]


def test_delete_still_deletes_a_row_that_changed_but_matches():
    entries()
    bump = lambda alias: Entry.objects.using(alias).filter(pk=4).update(score=99)  # noqa: E731
    with between_read_and_write(bump):
        deleted, _ = Entry.objects.filter(score__gt=F("group")).delete()
    assert deleted == 3
    assert sorted(Entry.objects.values_list("pk", flat=True)) == [1, 2]


# Filters only Python evaluates on MongoDB (django_nonrel.subqueries, expressions):
# the write they decide is guarded like any other.
def test_delete_with_a_xor_filter_keeps_a_row_that_stopped_matching():
    """XOR: true for an odd number of TRUE conditions (row 5 has both, so it stays).
    Row 4 gets both in between: still within the OR the server filters by, out of
    the XOR."""
    entries()
    unmatch = lambda alias: Entry.objects.using(alias).filter(pk=4).update(title="Entry 5")  # noqa: E731
    with between_read_and_write(unmatch):
        deleted, _ = Entry.objects.filter(Q(score__gt=25) ^ Q(title="Entry 5")).delete()
    assert deleted == 1
    assert sorted(Entry.objects.values_list("pk", "title")) == [
        (1, "Entry 1"),
        (2, "Entry 2"),
        (4, "Entry 5"),
        (5, "Entry 5"),
    ]


def test_update_with_a_xor_filter_does_not_overwrite_a_row_that_stopped_matching():
    entries()
    unmatch = lambda alias: Entry.objects.using(alias).filter(pk=3).update(title="Entry 5")  # noqa: E731
    with between_read_and_write(unmatch):
        count = Entry.objects.filter(Q(score__gt=25) ^ Q(title="Entry 5")).update(group=0)
    assert count == 1
    assert sorted(Entry.objects.values_list("pk", "group")) == [
        (1, 25),
        (2, 25),
        (3, 25),
        (4, 0),
        (5, 25),
    ]


def test_delete_with_a_correlated_exists_keeps_a_row_that_stopped_matching():
    """Exists() correlated by a comparison (evaluated per outer value, not a semi-join)."""
    entries()
    Account.objects.create(owner="ann", balance=35)
    unmatch = lambda alias: Entry.objects.using(alias).filter(pk=2).update(score=40)  # noqa: E731
    richer = Account.objects.filter(balance__gt=OuterRef("score"))
    with between_read_and_write(unmatch):
        deleted, _ = Entry.objects.filter(Exists(richer)).delete()
    assert deleted == 2
    assert sorted(Entry.objects.values_list("pk", "score")) == [(2, 40), (4, 40), (5, 50)]


def test_update_comparing_a_related_field_does_not_write_a_row_moved_away(on_mongodb):
    """F() across a relation: the guard re-checks the key the join starts from, so a
    row moved to another parent in between is decided again on its new parent.
    (On MySQL-family servers Django reads such an UPDATE's keys first, so the
    write lands between its two statements: the comparison is on this backend.)"""
    first, second = Board.objects.create(name="a"), Board.objects.create(name="b")
    threads = [Thread.objects.create(board=first, title="a") for _ in range(2)]
    Thread.objects.create(board=second, title="a")
    move = lambda alias: Thread.objects.using(alias).filter(pk=threads[1].pk).update(board=second)  # noqa: E731
    with between_read_and_write(move):
        count = Thread.objects.filter(title=F("board__name")).update(title="same")
    assert count == 1
    assert sorted(Thread.objects.values_list("board__name", "title")) == [
        ("a", "same"),
        ("b", "a"),
        ("b", "a"),
    ]


def test_delete_with_cascades_keeps_a_row_that_stopped_matching():
    """Item has a many-to-many: Django's collector reads the rows, then deletes their
    relations and them by key, on SQL too (there the row is deleted). The MongoDB
    backend's key-set cascade re-checks the filter when it deletes."""
    items("default")
    with between_read_and_write(make_unmatched(4)):
        deleted, _ = Item.objects.filter(number__gt=F("big")).delete()
    if connection.vendor == "mongodb":
        assert deleted == 2
        assert stored("default", "name", "number") == [
            (1, "Question 1", 10),
            (2, "Question 2", 20),
            (4, "mine", -1),
        ]
    else:
        assert deleted == 3


def test_update_does_not_overwrite_a_row_that_stopped_matching():
    items("default")
    with between_read_and_write(make_unmatched(5)):
        count = Item.objects.filter(number__gt=F("big")).update(name="updated")
    assert count == 2
    assert stored("default", "name") == [
        (1, "Question 1"),
        (2, "Question 2"),
        (3, "updated"),
        (4, "updated"),
        (5, "mine"),
    ]


def test_update_with_an_expression_recomputes_a_row_changed_in_between():
    """The value is computed from what the row holds when it is written."""
    items("default")
    rename = lambda alias: Item.objects.using(alias).filter(pk=2).update(name="renamed")  # noqa: E731
    with between_read_and_write(rename):
        count = Item.objects.filter(number__gte=20).update(name=Concat("name", Value("!")))
    assert count == 4
    assert stored("default", "name") == [
        (1, "Question 1"),
        (2, "renamed!"),
        (3, "Question 3!"),
        (4, "Question 4!"),
        (5, "Question 5!"),
    ]


def test_arithmetic_update_with_a_python_filter_applies_once_per_row():
    items("default")
    bump = lambda alias: Item.objects.using(alias).filter(pk=3).update(number=F("number") + 1)  # noqa: E731
    with between_read_and_write(bump):
        count = Item.objects.filter(number__gt=F("big")).update(number=F("number") * 2)
    assert count == 3
    assert stored("default", "number") == [(1, 10), (2, 20), (3, 62), (4, 80), (5, 100)]


def test_bulk_update_is_not_lost_to_a_concurrent_write_of_the_same_field():
    """bulk_update() sets each row to its object's value, also over a concurrent write
    of that field (last writer wins, as in SQL); the others keep their own values."""
    objs = items("default", 3)
    for obj in objs:
        obj.name = f"bulk {obj.pk}"
    rename = lambda alias: Item.objects.using(alias).filter(pk=2).update(name="other")  # noqa: E731
    with between_read_and_write(rename):
        Item.objects.bulk_update(objs, ["name"])
    assert stored("default", "name") == [(1, "bulk 1"), (2, "bulk 2"), (3, "bulk 3")]


def test_a_row_deleted_in_between_is_not_counted_or_recreated():
    items("default")
    drop = lambda alias: Item.objects.using(alias).filter(pk=3).delete()  # noqa: E731
    with between_read_and_write(drop):
        count = Item.objects.filter(number__gt=F("big")).update(name=Upper("name"))
    assert count == 2
    assert stored("default", "name") == [
        (1, "Question 1"),
        (2, "Question 2"),
        (4, "QUESTION 4"),
        (5, "QUESTION 5"),
    ]


def whole_rows(model) -> list:
    """Every stored row of ``model`` as stored: whole documents on MongoDB (fields the
    model does not know included), the model's values on SQL."""
    if connection.vendor == "mongodb":
        documents = connection.database[model._meta.db_table].find()
        return sorted(documents, key=lambda document: document["_id"])
    return list(model.objects.order_by("pk").values())


class Abandon(Exception):
    """Raised to leave an atomic() block, which rolls it back."""


@autocommit
@pytest.mark.parametrize("nested", [False, True], ids=["transaction", "savepoint"])
def test_guarded_writes_inside_atomic_roll_back_exactly(nested):
    """A guarded update (with a row decided twice: another connection changed it in
    between), a guarded delete and bulk_update() inside atomic() are undone by its
    rollback to the last field -- a server transaction, SQL's, or the undo journal
    of MongoDB stores without transactions. The other connection's own write is not
    the block's to undo: it stays (on SQL it runs inside the block, and goes)."""
    if not connection.features.supports_transactions:
        pytest.skip("atomic() rolls nothing back here (OPTIONS['TRANSACTIONS'] = 'off')")
    entries()
    objs = items("default")
    if connection.vendor == "mongodb":
        table = connection.database[Entry._meta.db_table]
        table.update_one({"_id": 3}, {"$set": {"unknown": {"kept": [1, 2]}}})
    entries_before, items_before = whole_rows(Entry), whole_rows(Item)
    retitle = lambda alias: Entry.objects.using(alias).filter(pk=4).update(title="other")  # noqa: E731

    def work():
        with between_read_and_write(retitle):
            updated = Entry.objects.filter(score__gt=F("group")).update(
                title=Concat("title", Value("!"))
            )
        assert updated == 3
        assert Entry.objects.get(pk=4).title == "other!"  # decided again, on its new title
        deleted, _ = Entry.objects.filter(score__gt=F("group"), score__lt=50).delete()
        assert deleted == 2
        for obj in objs:
            obj.name, obj.number = f"bulk {obj.pk}", -obj.pk
        Item.objects.bulk_update(objs, ["name", "number"])
        assert stored("default", "number") == [(n, -n) for n in range(1, 6)]
        raise Abandon

    if nested:
        with transaction.atomic(), pytest.raises(Abandon), transaction.atomic():
            work()
    else:
        with pytest.raises(Abandon), transaction.atomic():
            work()
    if connection.vendor == "mongodb":
        entries_before[3]["title"] = "other"  # row 4: the other connection's write
    assert whole_rows(Entry) == entries_before
    assert whole_rows(Item) == items_before


@autocommit
def test_rows_that_keep_changing_end_in_a_clear_error(on_mongodb):
    """Another writer changing a row before every attempt: bounded, then ContentionError
    saying what was written (never a silent skip)."""
    items("default")
    churn = lambda alias: Item.objects.using(alias).filter(pk=5).update(big=F("big") - 1)  # noqa: E731
    with between_read_and_write(churn, times=1000), pytest.raises(ContentionError) as raised:
        Item.objects.filter(number__gt=F("big")).update(name="x")
    message = str(raised.value)
    assert "kept changing" in message and "keys 5" in message and "2 rows were written" in message
    assert stored("default", "name")[2:4] == [(3, "x"), (4, "x")]


def test_a_nan_in_a_guarded_column_still_matches_its_guard(on_mongodb):
    """NaN equals nothing on some stores, not even NaN (mongomock): the guard on the
    old value of a column holding NaN must still match the row."""
    if not connection.is_embedded and connection.server_info["ferretdb"]:
        pytest.skip("FerretDB v1 cannot store NaN (refused with DataError before sending)")
    Item.objects.create(id=1, name="nan", ratio=math.nan, number=30, big=25)
    Item.objects.create(id=2, name="one", ratio=1.0, number=30, big=25)
    assert Item.objects.filter(number__gt=F("big")).update(ratio=2.5) == 2
    assert stored("default", "ratio") == [(1, 2.5), (2, 2.5)]


# -- cascades: children go only with a parent that went -----------------------------
def orphans() -> tuple[int, int]:
    """(threads whose board is gone, posts whose thread is gone): never any."""
    boards = set(Board.objects.values_list("pk", flat=True))
    threads = set(Thread.objects.values_list("pk", flat=True))
    return (
        Thread.objects.exclude(board__in=boards).count(),
        Post.objects.exclude(thread__in=threads).count(),
    )


def forum() -> tuple[Board, Board, list[Thread]]:
    main, other = Board.objects.create(name="main"), Board.objects.create(name="other")
    threads = [Thread.objects.create(board=main, title=f"t{n}") for n in range(3)]
    for thread in threads:
        Post.objects.create(thread=thread, body="x")
    return main, other, threads


def test_queryset_delete_keeps_a_parent_that_stopped_matching_and_its_children():
    """SQL's Django deletes the collected rows by key; the MongoDB backend's key-set
    cascade re-checks the queryset's filter, and keeps the children of a row it keeps."""
    main, _, _ = forum()
    rename = lambda alias: Board.objects.using(alias).filter(pk=main.pk).update(name="kept")  # noqa: E731
    with between_collect_and_delete(rename):
        Board.objects.filter(name="main").delete()
    assert orphans() == (0, 0)
    if connection.vendor == "mongodb":
        assert Board.objects.filter(pk=main.pk).exists()
        assert Thread.objects.filter(board=main).count() == 3
        assert Post.objects.count() == 3


def test_a_child_moved_to_another_parent_mid_cascade_keeps_its_own_children():
    main, other, threads = forum()
    move = lambda alias: Thread.objects.using(alias).filter(pk=threads[0].pk).update(board=other)  # noqa: E731
    with between_collect_and_delete(move):
        main.delete()
    assert orphans() == (0, 0)
    assert not Board.objects.filter(name="main").exists()
    if connection.vendor == "mongodb":
        assert list(Thread.objects.values_list("pk", flat=True)) == [threads[0].pk]
        assert Post.objects.get().thread_id == threads[0].pk


# -- update_or_create ----------------------------------------------------------------
# SQL databases hold the found row with select_for_update() until the save, so the
# other connection's write waits for it (SQLite, which has no row locks, raises
# "Save with update_fields did not affect any rows" for a row deleted in between).
# Without locks the save is conditional on the lookup, and a row that changed or
# went away in between is looked up again: as if the other write came first.
def test_update_or_create_does_not_update_a_row_that_stopped_matching(on_mongodb):
    Account.objects.create(owner="ann", balance=1)
    rename = lambda alias: Account.objects.using(alias).filter(owner="ann").update(owner="bob")  # noqa: E731
    with between_read_and_write(rename):
        account, created = Account.objects.update_or_create(owner="ann", defaults={"balance": 7})
    assert created and account.owner == "ann"
    assert sorted(Account.objects.values_list("owner", "balance")) == [("ann", 7), ("bob", 1)]


def test_update_or_create_of_a_row_deleted_in_between_creates_it(on_mongodb):
    Account.objects.create(owner="ann", balance=1)
    drop = lambda alias: Account.objects.using(alias).filter(owner="ann").delete()  # noqa: E731
    with between_read_and_write(drop):
        _, created = Account.objects.update_or_create(owner="ann", defaults={"balance": 7})
    assert created
    assert list(Account.objects.values_list("owner", "balance")) == [("ann", 7)]


@autocommit  # the other connection's rows are outside the undo journal that rolls back
def test_update_or_create_gives_up_on_a_row_that_keeps_changing(on_mongodb):
    """Replaced by a new row before every save: bounded, then a clear error."""
    Account.objects.create(owner="ann", balance=1)

    def replace(alias):
        Account.objects.using(alias).filter(owner="ann").delete()
        Account.objects.using(alias).create(owner="ann", balance=1)

    with between_read_and_write(replace, times=1000), pytest.raises(ContentionError) as raised:
        Account.objects.update_or_create(owner="ann", defaults={"balance": 7})
    assert "changed or went away before each of 10 saves" in str(raised.value)
    assert list(Account.objects.values_list("owner", "balance")) == [("ann", 1)]


def test_a_queryset_filtered_across_a_relation_the_cascade_deletes_is_deleted_whole():
    """filter(labels__id=...) joins the through rows the delete removes first: its rows
    are deleted by the keys read (found by the generated writes on FerretDB: the
    item's through row went and the item stayed)."""

    def run(using):
        label = Label.objects.using(using).create(id=1, name="l")
        for n in (1, 2):
            item = Item.objects.using(using).create(id=n, name=f"i{n}", number=5, big=1)
            item.labels.add(label)
        deleted = Item.objects.using(using).filter(labels__id=1, number__gt=F("big")).delete()
        return deleted, stored(using), Item.labels.through.objects.using(using).count()

    assert agree(run) == (
        (4, {"differential.Item_labels": 2, "differential.Item": 2}),
        [],
        0,
    )


@autocommit
def test_a_write_that_cannot_tell_which_rows_it_changed_says_so(on_mongodb, monkeypatch):
    """One command guards three rows; another connection changes one just before it
    and another just after it. A store reports only how many rows a command
    reached, so the re-read cannot tell which changed row this update wrote; its
    value reads the column it writes (writing it twice would apply it twice), so
    it raises ContentionError naming the rows instead of guessing."""
    for n in (1, 2, 3):
        Item.objects.create(id=n, name="x", number=30, big=25)
    store = connection.store
    update_each = store.update_each

    def around_the_first_command(writes):
        monkeypatch.setattr(store, "update_each", update_each)
        Item.objects.using(alias).filter(pk=1).update(number=31)  # before: unwritten
        matched = update_each(writes)
        Item.objects.using(alias).filter(pk=2).update(name="y")  # after: written
        return matched

    with other_connection() as alias:
        monkeypatch.setattr(store, "update_each", around_the_first_command)
        with pytest.raises(ContentionError, match="cannot tell which of them"):
            Item.objects.filter(number__gt=F("big")).update(name=Concat("name", Value("!")))
    assert stored("default", "name") == [(1, "x"), (2, "y"), (3, "x!")]
