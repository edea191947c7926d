"""Mismatches the differential tests found, minimised: each stays fixed on every tier."""

from decimal import Decimal

import pytest
from django.db.models import Avg, Max, Q, Sum

from tests.differential.models import Item, Label, Owner, Spot, Team

pytestmark = pytest.mark.django_db


def test_values_of_a_dict_key_ordered_by_a_path():
    """Ordering by a document path with values() of another path hashed an inner
    field without a model (AttributeError on SQL backends)."""
    Item.objects.create(name="b", meta={"n": 2, "s": "two"}, place=Spot(city="Oslo"))
    Item.objects.create(name="a", meta={"n": 1, "s": "one"}, place=Spot(city="Lyon"))
    assert list(Item.objects.order_by("meta__n").values_list("meta__s", flat=True)) == [
        "one",
        "two",
    ]
    assert list(Item.objects.order_by("place__city").values("meta__s")) == [
        {"meta__s": "one"},
        {"meta__s": "two"},
    ]


def test_exclude_on_a_missing_or_null_key_matches_nothing_as_in_sql():
    """A comparison on a missing or null document key is UNKNOWN in SQL, and so is
    its negation: the row matches neither filter() nor exclude() (MongoDB's $nor
    matched it)."""
    Item.objects.create(name="no key", meta={})
    Item.objects.create(name="null", meta={"s": None})
    Item.objects.create(name="z", meta={"s": "z"})
    Item.objects.create(name="a", meta={"s": "a"})
    assert [i.name for i in Item.objects.exclude(meta__s__gte="m")] == ["a"]
    assert [i.name for i in Item.objects.filter(~Q(meta__s="z") & Q(name__gt=""))] == ["a"]
    assert [i.name for i in Item.objects.exclude(Q(meta__s="z") | Q(name="null"))] == ["a"]
    # Double negation is the condition itself; isnull is never UNKNOWN.
    assert [i.name for i in Item.objects.exclude(~Q(meta__s__gte="m"))] == ["z"]
    assert sorted(i.name for i in Item.objects.exclude(meta__s__isnull=True)) == ["a", "z"]


def test_exclude_on_a_missing_list_index_matches_nothing_as_in_sql():
    """tags__0 of an empty list is NULL in SQL (mongomock matched a missing index
    with $ne: null)."""
    Item.objects.create(name="empty", tags=[])
    Item.objects.create(name="c", tags=["c"])
    Item.objects.create(name="b", tags=["b"])
    assert [i.name for i in Item.objects.exclude(tags__0="b")] == ["c"]


def test_big_integers_read_back_as_plain_int():
    """pymongo decodes BSON int64 as bson.Int64; a BigIntegerField gives int."""
    Item.objects.create(name="big", big=-(2**63), tags=[])
    big = Item.objects.get().big
    assert big == -(2**63) and type(big) is int
    assert type(Item.objects.values_list("big", flat=True).get()) is int


def test_sums_and_averages_of_several_fields_in_one_aggregate():
    """FerretDB v1 answers 0 for the second $sum of one $group (Avg of a float
    field came back 0.0 next to an Avg of an integer field)."""
    Item.objects.create(name="a", ratio=2.5, number=4, price=Decimal("1.25"), tags=[])
    Item.objects.create(name="b", ratio=1.0, number=1, price=Decimal("2.00"), tags=[])
    assert Item.objects.aggregate(
        avg_ratio=Avg("ratio"), avg_number=Avg("number"), sum_price=Sum("price")
    ) == {"avg_ratio": 1.75, "avg_number": 2.5, "sum_price": Decimal("3.25")}


def test_sum_of_decimals_beyond_the_fields_max_digits():
    """Sum of DecimalField(max_digits=8) values needs more digits than the field;
    the converter quantized with the field's precision (decimal.InvalidOperation)."""
    for name in "abc":
        Item.objects.create(name=name, price=Decimal("999999.99"), tags=[])
    total = Item.objects.aggregate(total=Sum("price"))["total"]
    assert total == Decimal("2999999.97")
    assert Item.objects.aggregate(most=Max("price"))["most"] == Decimal("999999.99")


def test_isnull_on_a_key_of_a_null_embedded_document():
    """place__floor is NULL when place is NULL (mongomock did not match
    {"place.floor": null} for a null place)."""
    Item.objects.create(name="no place", tags=[])
    Item.objects.create(name="no floor", place=Spot(city="Oslo"), tags=[])
    Item.objects.create(name="floor", place=Spot(city="Oslo", floor=2), tags=[])
    assert sorted(i.name for i in Item.objects.filter(place__floor__isnull=True)) == [
        "no floor",
        "no place",
    ]
    assert [i.name for i in Item.objects.filter(place__floor__isnull=False)] == ["floor"]


@pytest.mark.xfail(
    strict=True,
    reason="open: a relation span under two negations is two-valued on the nonrel "
    "backends, three-valued (UNKNOWN for a NULL related value) on SQL",
)
def test_relation_span_under_double_negation(on_mongodb):
    team = Team.objects.create(name="t")
    with_team = Owner.objects.create(name="with team", team=team)
    without_team = Owner.objects.create(name="without team")
    Item.objects.create(name="no owner", tags=[], ratio=-1.0)
    Item.objects.create(name="owner with team", tags=[], ratio=-1.0, owner=with_team)
    Item.objects.create(name="owner without team", tags=[], ratio=-1.0, owner=without_team)
    excluded = Item.objects.exclude(~Q(owner__team_id__gte=-2) | Q(ratio__gte=0))
    # SQLite: only the item whose owner has a team; the other two are UNKNOWN.
    assert [i.name for i in excluded] == ["owner with team"]


@pytest.mark.xfail(
    strict=True,
    reason="open: a many-to-many span inside OR does not repeat rows as SQL's JOIN does",
)
def test_many_to_many_span_inside_or_repeats_rows_as_a_join(on_mongodb):
    first, second = Label.objects.create(name="a"), Label.objects.create(name="b")
    item = Item.objects.create(name="two labels", tags=[])
    item.labels.add(first, second)
    names = [i.name for i in Item.objects.filter(Q(labels__name__gte="a") | Q(name="none"))]
    assert names == ["two labels", "two labels"]  # SQLite: one row per matching label
