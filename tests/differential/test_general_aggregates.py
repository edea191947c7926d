"""Django 6.1's general aggregates, answered like stock SQLite.

BitAnd, BitOr, BitXor, AnyValue and StringAgg (with ``distinct=``, ``filter=``,
``default=`` and ``order_by=``) were PostgreSQL-only before Django 6.1; the MongoDB
backend folds them in Python. Each queryset runs on the backend under test and on
the ``sqlite`` alias over the same rows. The SQLite here predates aggregate
``ORDER BY`` (3.44), so an ordered StringAgg is compared with SQLite's own ORDER BY
of the same rows. Skipped on Django versions without the aggregates.
"""

import pytest
from django.db import models
from django.db.models import Count, F, Max, Q, Value
from django.db.models.functions import Concat, Lower

from tests.differential.models import Item, Owner
from tests.differential.test_aggregate_shapes import both, rows, same  # noqa: F401

BitAnd = getattr(models, "BitAnd", None)
BitOr = getattr(models, "BitOr", None)
BitXor = getattr(models, "BitXor", None)
AnyValue = getattr(models, "AnyValue", None)
StringAgg = getattr(models, "StringAgg", None)

pytestmark = [
    pytest.mark.skipif(
        None in (BitAnd, BitOr, BitXor, AnyValue, StringAgg),
        reason="BitAnd, BitOr, BitXor, AnyValue and StringAgg are general from Django 6.1",
    ),
    pytest.mark.django_db(databases=["default", "sqlite"]),
    pytest.mark.usefixtures("on_mongodb", "rows"),
]

BIT_AGGREGATES = ["BitAnd", "BitOr", "BitXor"]


def _items(alias):
    return Item.objects.using(alias)


@pytest.mark.parametrize("name", BIT_AGGREGATES)
def test_bit_aggregates_skip_nulls_and_are_null_without_values(name):
    function = getattr(models, name)
    actual, expected = both(
        lambda alias: _items(alias).aggregate(
            all=function("number"),
            none=function("big"),
            empty=function("number", filter=Q(name="zz")),
            default=function("number", filter=Q(name="zz"), default=21),
            some=function("number", filter=Q(name__in=["a", "d"])),
        )
    )
    assert expected["none"] is None and expected["default"] == 21
    assert same(expected, actual), (actual, expected)


@pytest.mark.parametrize("name", BIT_AGGREGATES)
def test_bit_aggregates_per_group(name):
    function = getattr(models, name)
    actual, expected = both(
        lambda alias: list(
            _items(alias).values("owner").annotate(x=function("number")).order_by("owner")
        )
    )
    assert same(expected, actual), (actual, expected)


def test_any_value_is_a_non_null_value_of_its_group():
    """SQLite's ANY_VALUE may answer a NULL of the group; PostgreSQL (and this backend)
    ignore NULLs like every SQL aggregate, NULL only for a group without values."""
    actual = list(Item.objects.values("owner").annotate(x=AnyValue("ratio"), y=AnyValue("big")))
    values = {}
    for owner, ratio in Item.objects.using("sqlite").values_list("owner", "ratio"):
        values.setdefault(owner, set()).add(ratio)
    assert {row["owner"] for row in actual} == set(values)
    for row in actual:
        assert row["x"] in values[row["owner"]] - {None}, row
        assert row["y"] is None
    assert Item.objects.filter(name="zz").aggregate(x=AnyValue("number")) == {"x": None}


def test_string_agg_unordered_holds_every_non_null_value():
    actual, expected = both(
        lambda alias: _items(alias).aggregate(
            names=StringAgg("name", Value(";")), notes=StringAgg("note", Value(";"))
        )
    )
    assert expected["notes"] is None and actual["notes"] is None
    assert sorted(actual["names"].split(";")) == sorted(expected["names"].split(";"))


def test_string_agg_distinct_filter_and_default():
    actual, expected = both(
        lambda alias: _items(alias).aggregate(
            owners=StringAgg("owner_id", Value(","), distinct=True),
            empty=StringAgg("name", Value(","), filter=Q(name="zz")),
            default=StringAgg("name", Value(","), filter=Q(name="zz"), default=Value("-")),
            one=StringAgg("name", Value(","), filter=Q(number__gt=6)),
        )
    )
    assert sorted(actual.pop("owners").split(",")) == sorted(expected.pop("owners").split(","))
    assert same(expected, actual), (actual, expected)


ORDERINGS = {
    "field": (["name"], ["name"]),
    "descending field": (["-name"], ["-name"]),
    "nulls lowest": ([F("number").asc()], ["number"]),
    "descending, nulls last": ([F("ratio").desc()], ["-ratio"]),
    "nulls last explicitly": ([F("number").asc(nulls_last=True)], None),
    "nulls first descending": ([F("ratio").desc(nulls_first=True)], None),
    "two terms": (["owner", "-name"], ["owner", "-name"]),
    "expression": ([Concat(Lower("name"), Value("@")).desc()], ["-name"]),
}


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_string_agg_order_by(ordering):
    """order_by= orders the values, as ORDER BY orders the same rows on SQLite."""
    terms, sqlite_terms = ORDERINGS[ordering]
    sqlite_terms = terms if sqlite_terms is None else sqlite_terms
    actual = Item.objects.aggregate(x=StringAgg("name", Value(";"), order_by=terms))["x"]
    expected = ";".join(_items("sqlite").order_by(*sqlite_terms).values_list("name", flat=True))
    assert actual == expected


def test_string_agg_order_by_per_group():
    actual = list(
        Item.objects.values("owner")
        .annotate(x=StringAgg("name", Value("|"), order_by="-number"))
        .order_by("owner")
        .values_list("owner", "x")
    )
    expected = {}
    for owner, name in _items("sqlite").order_by("-number").values_list("owner", "name"):
        expected.setdefault(owner, []).append(name)
    owners = list(_items("sqlite").values_list("owner", flat=True).distinct().order_by("owner"))
    assert actual == [(owner, "|".join(expected[owner])) for owner in owners]


def _labels_by_item(alias, *ordering):
    """{item name: [label names]} read from SQLite's ORDER BY of the joined rows."""
    labels = {}
    joined = _items(alias).filter(labels__isnull=False).order_by(*ordering)
    for name, label in joined.values_list("name", "labels__name"):
        labels.setdefault(name, []).append(label)
    return labels


@pytest.mark.parametrize("ordering", ["labels__name", "-labels__name"])
def test_string_agg_over_a_many_to_many_relation_ordered_by_its_field(ordering):
    actual = dict(
        Item.objects.annotate(x=StringAgg("labels__name", Value(";"), order_by=ordering))
        .order_by("name")
        .values_list("name", "x")
    )
    expected = _labels_by_item("sqlite", ordering)
    names = _items("sqlite").values_list("name", flat=True)
    assert actual == {name: ";".join(expected.get(name, [])) or None for name in names}


def test_bit_and_any_value_and_filtered_string_agg_over_relations():
    def build(alias):
        return list(
            _items(alias)
            .annotate(
                bits=BitOr("labels__id"),
                names=StringAgg("labels__name", Value(","), filter=~Q(labels__name="l2")),
            )
            .order_by("name")
            .values_list("name", "bits", "names")
        )

    actual, expected = both(build)
    normalise = lambda found: [  # noqa: E731 -- SQLite's GROUP_CONCAT has no order
        (name, bits, names and sorted(names.split(","))) for name, bits, names in found
    ]
    assert normalise(actual) == normalise(expected)
    owners, expected_owners = both(
        lambda alias: list(
            Owner.objects.using(alias)
            .annotate(n=AnyValue("items__number"), x=BitXor("items__number"))
            .order_by("id")
            .values_list("id", "n", "x")
        )
    )
    assert [(i, x) for i, _, x in owners] == [(i, x) for i, _, x in expected_owners]
    numbers = {}
    for owner, number in _items("sqlite").values_list("owner", "number"):
        numbers.setdefault(owner, set()).add(number)
    for owner, any_value, _ in owners:
        assert any_value in (numbers.get(owner, set()) - {None} or {None}), owner


def test_general_aggregates_over_a_grouped_queryset():
    """aggregate() over values().annotate(): the grouped rows are folded."""

    def build(alias):
        grouped = _items(alias).values("owner").annotate(n=Count("id"), top=Max("number"))
        return grouped.aggregate(
            bits=BitOr("n"),
            xor=BitXor("top"),
            any=AnyValue("top"),
            owners=StringAgg("n", Value(",")),
        )

    actual, expected = both(build)
    assert sorted(actual.pop("owners").split(",")) == sorted(expected.pop("owners").split(","))
    assert actual.pop("any") in {7, 5, 2}
    expected.pop("any")
    assert same(expected, actual), (actual, expected)
    ordered = (
        Item.objects.values("owner")
        .annotate(top=Max("number"))
        .aggregate(x=StringAgg("top", Value(";"), order_by="-top"))
    )
    tops = _items("sqlite").values("owner").annotate(top=Max("number")).order_by("-top")
    assert ordered["x"] == ";".join(str(row["top"]) for row in tops)
