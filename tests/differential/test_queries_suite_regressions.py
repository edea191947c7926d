"""Wrong answers Django's own ``queries`` app found, minimised on our models: each
test asserts what stock SQLite answers and runs on every tier."""

import datetime

import pytest
from django.db import NotSupportedError, connection
from django.db.models import Count, F, Q
from django.db.models.functions import Lower

from tests.differential.models import Item, Label, Owner, Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned_items():
    team = Team.objects.create(name="T")
    first = Owner.objects.create(name="o1", team=team)
    second = Owner.objects.create(name="o2", team=team)
    for number, (owner, month) in enumerate([(first, 1), (first, 1), (second, 2), (None, 2)]):
        Item.objects.create(
            name=f"i{number}",
            number=number % 2,
            owner=owner,
            tags=[],
            moment=datetime.datetime(2020, month, 10 + number, 12, tzinfo=datetime.UTC),
            day=datetime.date(2020, month, 10 + number),
        )


def test_count_of_distinct_truncated_dates(owned_items):
    """datetimes()/dates() are distinct values of an annotation: count() counted
    every row (4) instead of the distinct months (2)."""
    assert Item.objects.datetimes("moment", "month").count() == 2
    assert Item.objects.dates("day", "month").count() == 2
    assert Item.objects.dates("day", "day").count() == 4


def test_count_of_distinct_values_of_an_annotation(owned_items):
    distinct = Item.objects.annotate(next=F("number") + 1).values("next").distinct()
    assert distinct.count() == 2 == len(distinct)


def test_count_of_distinct_values_of_a_related_field(owned_items):
    """values("owner__name").distinct(): the related column was read as the item's
    own column of that name, and the items' names counted."""
    assert Item.objects.values("owner__name").distinct().count() == 3
    assert Item.objects.values("owner__team__name").distinct().count() == 2
    assert Item.objects.values("owner__name", "number").distinct().count() == 4


@pytest.fixture
def labelled():
    a, b = Label.objects.create(name="a"), Label.objects.create(name="b")
    Item.objects.create(name="a only", tags=[]).labels.add(a)
    Item.objects.create(name="a and b", tags=[]).labels.add(a, b)
    Item.objects.create(name="b only", tags=[]).labels.add(b)
    return a, b


def test_exclude_through_a_related_managers_join_applies_to_the_joined_row(labelled):
    """A related manager's join is reused by exclude(): Django correlates the NOT
    EXISTS to that joined row, so an item is excluded only when the row the manager
    joined matches (the relation layer excluded items with any matching label)."""
    a, b = labelled
    assert sorted(a.items.exclude(labels__name="b").values_list("name", flat=True)) == [
        "a and b",
        "a only",
    ]
    assert list(a.items.exclude(labels__name="a")) == []
    # An OR inside the exclude(): NOT (a OR b) is NOT a AND NOT b on the same row.
    Item.objects.filter(name="a and b").update(number=3)
    either = a.items.exclude(Q(labels__name="b") | Q(number=3))
    assert list(either.values_list("name", flat=True)) == ["a only"]
    # An AND: NOT (a AND b) on the joined row keeps "a and b" (its joined row is
    # label a, which is not b), whatever its other labels.
    neither = a.items.exclude(Q(labels__name="b") & Q(number=3))
    assert sorted(neither.values_list("name", flat=True)) == ["a and b", "a only"]
    both = a.items.filter(Q(labels__name="a") & ~Q(labels__name="b"))
    assert sorted(both.values_list("name", flat=True)) == ["a and b", "a only"]
    # Without a reused join, exclude() still means "no related row matches".
    assert sorted(Item.objects.exclude(labels__name="b").values_list("name", flat=True)) == [
        "a only"
    ]


@pytest.fixture
def numbered():
    for name, number in [("a", 3), ("b", None), ("c", 1), ("d", 2)]:
        Item.objects.create(name=name, number=number, tags=[])


def test_extra_select_of_columns_params_and_literals(numbered):
    """extra(select=...) of a column, %s, literals and + - * (/ below) is runnable (it was
    refused whole); NULL in gives NULL out, as in SQL."""
    rows = Item.objects.extra(
        select={
            "plus": "number + %s",
            "twice": f"2 * {connection.ops.quote_name('number')} - 1",
            "text": "'%%s x'",
        },
        select_params=(10,),
    ).order_by("name")
    assert list(rows.values_list("name", "plus", "twice", "text")) == [
        ("a", 13, 5, "%s x"),
        ("b", None, None, "%s x"),
        ("c", 11, 1, "%s x"),
        ("d", 12, 3, "%s x"),
    ]
    assert rows[0].plus == 13 and rows[0].text == "%s x"
    qualified = f"{connection.ops.quote_name(Item._meta.db_table)}.number * 2"
    doubled = Item.objects.extra(select={"doubled": qualified}).order_by("name")
    assert list(doubled.values_list("doubled", flat=True)) == [6, None, 2, 4]


def test_ordering_by_extra_select_names(numbered):
    """order_by() and extra(order_by=...) naming an extra select entry sort by its
    value (FieldError before); extra(order_by=...) wins over Meta/order_by()."""
    ordered = Item.objects.filter(number__isnull=False).extra(
        select={"negated": "-number"}, order_by=["negated"]
    )
    assert list(ordered.values_list("name", flat=True)) == ["a", "d", "c"]
    by_name = Item.objects.extra(select={"n": "number - %s"}, select_params=(1,))
    by_name = by_name.filter(number__gte=1).order_by("-n")
    assert list(by_name.values_list("name", flat=True)) == ["a", "d", "c"]
    assert list(Item.objects.extra(order_by=["-name"]).values_list("name", flat=True)) == [
        "d",
        "c",
        "b",
        "a",
    ]


def test_extra_ordering_by_a_column_of_the_queried_table(numbered):
    """extra(order_by=["app_item.name"]) names a column of the queried model's
    table, as Django's docs show it: it sorts by that column (it was refused);
    another table's column is refused on the nonrel backends, saying what to do."""
    table = Item._meta.db_table
    ordered = Item.objects.extra(order_by=[f"-{table}.name"])
    assert list(ordered.values_list("name", flat=True)) == ["d", "c", "b", "a"]
    if connection.vendor == "mongodb":
        with pytest.raises(NotSupportedError, match="queried model's own table"):
            list(Item.objects.extra(order_by=[f"{Label._meta.db_table}.name"]))


def test_distinct_values_with_an_extra_select(numbered):
    rows = Item.objects.extra(select={"one": "%s"}, select_params=(1,)).values("one")
    assert rows.distinct().count() == 1
    assert list(rows.distinct()) == [{"one": 1}]


def test_extra_select_division_and_grouping(numbered):
    """``/`` divides as annotate(F(...) / ...) does (it was refused), and next to
    aggregates the selected extra values are grouped by, as SQL groups by them."""
    halves = Item.objects.extra(select={"h": "(number + %s) / %s"}, select_params=(1, 2))
    assert [
        (name, None if h is None else int(h))
        for name, h in halves.order_by("name").values_list("name", "h")
    ] == [("a", 2), ("b", None), ("c", 1), ("d", 1)]
    grouped = (
        Item.objects.extra(select={"parity": "number - number / 2 * 2", "n2": "number * 2"})
        .filter(number__isnull=False)
        .values("parity")
        .annotate(Count("id"))
        .order_by("parity")
    )
    assert [(int(row["parity"]), row["id__count"]) for row in grouped] in (
        [(0, 1), (1, 2)],  # integer division (SQLite, PostgreSQL, this backend)
        [(0, 3)],  # MySQL/MariaDB divide into decimals: number - number is 0
    )


def test_extra_order_by_joins_the_group_by(numbered):
    """A grouped queryset ordered by a field groups by it too, whether the ordering
    comes from order_by() or extra(order_by=...): count() agrees with len()."""
    Item.objects.create(name="a", number=3, tags=[])
    grouped = Item.objects.values("name").annotate(n=Count("id"))
    assert grouped.count() == 4
    by_order_by, by_extra = grouped.order_by("id"), grouped.extra(order_by=["id"])
    assert len(by_order_by) == len(by_extra) == 5
    assert by_order_by.count() == by_extra.count() == 5


def test_extra_select_of_other_sql_is_refused(numbered):
    """Functions and CASE are SQL text a nonrel backend does not interpret."""
    for snippet in ("LOWER(name)", "CASE WHEN number > 1 THEN 1 ELSE 0 END"):
        queryset = Item.objects.extra(select={"x": snippet}).order_by("name")
        if connection.vendor == "mongodb":
            with pytest.raises(NotSupportedError, match="extra"):
                list(queryset)
        else:
            assert len(list(queryset)) == 4


def test_distinct_values_of_an_annotation_alone_ignore_the_key(numbered):
    """Django selects the key in an aggregated subquery that selects no field, but
    SQL renders only the values() names: the rows are distinct over those."""
    doubled = Item.objects.annotate(d=F("number") * 0).values("d").distinct()
    assert doubled.count() == 2 == len(doubled)
    assert Item.objects.annotate(n=F("number")).values("n").distinct().count() == 4


def test_explain_is_refused_where_the_backend_has_no_explain(numbered):
    """explain() returned the query's rows as its plan on the nonrel backends."""
    queryset = Item.objects.filter(name="a")
    if connection.features.supports_explaining_query_execution:
        assert queryset.explain()
    else:
        with pytest.raises(NotSupportedError, match="does not support explaining"):
            queryset.explain()


def test_execute_sql_gives_a_list_unless_reading_in_chunks(numbered, monkeypatch):
    """Django's compiler contract: execute_sql() returns a list, except for a
    chunked read on a backend that reads in chunks (a generator was returned)."""
    compiler = Item.objects.all().query.get_compiler(using="default")
    assert isinstance(compiler.execute_sql(), list)
    monkeypatch.setattr(connection.features, "can_use_chunked_reads", False)
    assert isinstance(compiler.execute_sql(chunked_fetch=True), list)


def test_distinct_values_keep_the_sort_keys_evaluated_in_python():
    """SQL adds ORDER BY expressions to a DISTINCT select: rows that differ only in
    a sort key are distinct (rows were made distinct on the values alone)."""
    for name, note in [("a", "Q"), ("a", "r"), ("b", "p")]:
        Item.objects.create(name=name, note=note, tags=[])
    names = Item.objects.values_list("name", flat=True).distinct()
    assert list(names.order_by(Lower("note"))) == ["b", "a", "a"]
    lowered = Item.objects.annotate(low=Lower("note")).values_list("name", flat=True)
    assert list(lowered.distinct().order_by("low")) == ["b", "a", "a"]
    extra = Item.objects.extra(select={"n": "number"}).values_list("name", flat=True)
    Item.objects.filter(note="Q").update(number=2)
    Item.objects.filter(note="r").update(number=1)
    Item.objects.filter(note="p").update(number=3)
    assert list(extra.distinct().order_by("-n")) == ["b", "a", "a"]


def test_distinct_values_keep_the_related_sort_values():
    """order_by("owner__name") on a distinct values(): the related value is part
    of each row, as SQL selects it (rows were made distinct without it)."""
    first, second = Owner.objects.create(name="o1"), Owner.objects.create(name="o2")
    for number, owner in [(0, first), (0, second), (1, first), (1, None)]:
        Item.objects.create(name="x", number=number, owner=owner, tags=[])
    numbers = Item.objects.values_list("number", flat=True).distinct()
    assert sorted(numbers.order_by("owner__name")) == [0, 0, 1, 1]
    assert sorted(numbers.order_by("number")) == [0, 1]


def test_extra_select_next_to_aggregates_per_row(labelled):
    """annotate(Count(...)) groups by the row: its extra(select=...) values are the
    row's (the grouped read returned none: KeyError)."""
    Item.objects.filter(name="a only").update(number=4)
    rows = (
        Item.objects.extra(select={"next": "number + 1"})
        .annotate(labels_count=Count("labels"))
        .order_by("name")
    )
    assert [(i.name, i.next, i.labels_count) for i in rows] == [
        ("a and b", None, 2),
        ("a only", 5, 1),
        ("b only", None, 1),
    ]
    named = rows.values_list("name", "next", named=True).first()
    assert named._fields == ("name", "next") and named.next is None


def test_a_computed_column_in_a_queryset_of_values(owned_items):
    """django-guardian's get_objects_for_user(): ``annotate(s=Cast("pk",
    CharField())).filter(s__in=<queryset of text keys>)``. A queryset value runs
    first as the value, but the comparison is on a computed column, so it runs on
    the rows (it was translated as a stored field and refused)."""
    from django.db.models import CharField
    from django.db.models.functions import Cast

    wanted = [str(pk) for pk in Item.objects.filter(number=1).values_list("pk", flat=True)]
    texts = Owner.objects.filter(name="o1").annotate(t=Cast("pk", CharField()))
    keyed = Item.objects.annotate(s=Cast("pk", CharField()))
    found = keyed.filter(
        s__in=Item.objects.filter(number=1)
        .annotate(t=Cast("pk", CharField()))
        .values_list("t", flat=True)
    )
    assert sorted(found.values_list("s", flat=True)) == sorted(wanted)
    either = keyed.filter(
        Q(s__in=Item.objects.filter(name="i0").annotate(t=Cast("pk", CharField())).values("t"))
        | Q(owner__in=texts.values("pk"))
    )
    assert sorted(either.values_list("name", flat=True)) == ["i0", "i1"]
    assert not keyed.filter(s__in=Item.objects.none().values_list("pk", flat=True)).exists()
