"""Aggregation shapes Django's suite uses, answered like stock SQLite.

Expressions over aggregates (``Sum("a") + Sum("b")``, ``Coalesce`` with a
non-literal ``default=``, ``Case`` over a count, ``Greatest``), in ``aggregate()``,
``annotate()`` per row and ``values().annotate()``: each queryset runs on the
backend under test and on the ``sqlite`` alias over the same rows, and the results
must be equal (floats within rounding).
"""

import datetime
import math
from decimal import Decimal

import pytest
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    StdDev,
    Sum,
    Value,
    Variance,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least, Now, Pi
from django.db.models.lookups import GreaterThan
from django.test import override_settings

from tests.differential.models import Item, Label, Owner, Team

# What the MongoDB backend computes in Python, compared with SQLite; on the SQL tiers
# the same querysets would compare two SQL engines, not this project's code.
pytestmark = [
    pytest.mark.django_db(databases=["default", "sqlite"]),
    pytest.mark.usefixtures("on_mongodb"),
]

ALIASES = ("default", "sqlite")


@pytest.fixture
def rows():
    """The same teams, owners, items and labels on both aliases."""
    for alias in ALIASES:
        teams = [Team.objects.using(alias).create(id=n, name=f"t{n}") for n in (1, 2)]
        owners = [
            Owner.objects.using(alias).create(id=1, name="ann", team=teams[0]),
            Owner.objects.using(alias).create(id=2, name="bob", team=teams[1]),
            Owner.objects.using(alias).create(id=3, name="cy", team=None),
        ]
        labels = [Label.objects.using(alias).create(id=n, name=f"l{n}") for n in (1, 2, 3)]
        specs = [
            ("a", 3, 1.5, "2.50", owners[0], [0, 1]),
            ("b", 5, None, "1.25", owners[0], [1]),
            ("c", None, 4.0, None, owners[1], []),
            ("d", 7, 2.0, "3.00", owners[1], [0, 1, 2]),
            ("e", 2, 0.5, "0.75", None, [2]),
        ]
        for index, (name, number, ratio, price, owner, label_indexes) in enumerate(specs, 1):
            item = Item.objects.using(alias).create(
                id=index,
                name=name,
                number=number,
                ratio=ratio,
                price=None if price is None else Decimal(price),
                owner=owner,
                day=datetime.date(2024, 1, index),
                tags=[],
            )
            item.labels.set([labels[i] for i in label_indexes])


def same(expected, actual) -> bool:
    if isinstance(expected, dict):
        return expected.keys() == actual.keys() and all(
            same(expected[k], actual[k]) for k in expected
        )
    if isinstance(expected, (list, tuple)):
        return len(expected) == len(actual) and all(
            same(e, a) for e, a in zip(expected, actual, strict=True)
        )
    if isinstance(expected, float) and isinstance(actual, (int, float)):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    return expected == actual and type(expected) is type(actual)


def both(build):
    """``build(alias)`` on the backend under test and on SQLite: (actual, expected)."""
    return build("default"), build("sqlite")


AGGREGATES = {
    "sum plus sum": lambda qs: qs.aggregate(total=Sum("number") + Sum("number")),
    "avg times literal": lambda qs: qs.aggregate(x=Avg("number") * 2),
    "sum over count": lambda qs: qs.aggregate(x=Sum("number") / Count("id")),
    "max minus min": lambda qs: qs.aggregate(spread=Max("number") - Min("number")),
    "default from another aggregate": lambda qs: qs.filter(name="zz").aggregate(
        x=Sum("number", default=Count("id"))
    ),
    "default compound": lambda qs: qs.filter(name="zz").aggregate(
        x=Sum("number", default=Value(2) * 3)
    ),
    "coalesce of two aggregates": lambda qs: qs.filter(number__isnull=True).aggregate(
        x=Coalesce(Max("number"), Min("ratio"), output_field=FloatField())
    ),
    "greatest of aggregates": lambda qs: qs.aggregate(
        x=Greatest(Max("number"), Max("ratio"), output_field=FloatField())
    ),
    "least of aggregates": lambda qs: qs.aggregate(
        x=Least(Min("number"), Min("ratio"), output_field=FloatField())
    ),
    "case over a count": lambda qs: qs.aggregate(
        x=Case(
            When(GreaterThan(Count("id"), 3), then=Count("id") + 1),
            default=Value(0),
            output_field=IntegerField(),
        )
    ),
    "decimal sum plus literal": lambda qs: qs.aggregate(
        x=Sum("price") + Value(Decimal("1.00"), output_field=DecimalField())
    ),
    "sum over distinct values": lambda qs: (
        qs.values("owner", "name")
        .distinct()
        .aggregate(x=Sum("owner"), y=Avg("owner"), n=Count("owner"))
    ),
    "expression over a sum of distinct values": lambda qs: (
        qs.values("owner").distinct().aggregate(x=Sum("owner") - Value(1))
    ),
    "aggregate and expression over it": lambda qs: qs.aggregate(n=Count("id"), x=Count("id") * 10),
    # A computed decimal is not rounded to the places of the field that typed it.
    "decimal default computed unrounded": lambda qs: qs.filter(name="zz").aggregate(
        x=Sum("price", default=Pi())
    ),
}


@pytest.mark.parametrize("shape", AGGREGATES)
def test_aggregate_of_expressions_over_aggregates(rows, shape):
    build = AGGREGATES[shape]
    actual, expected = both(lambda alias: build(Item.objects.using(alias)))
    assert same(expected, actual), (actual, expected)


def test_non_literal_default_is_computed_when_there_are_no_rows(rows):
    """default=Now() is the server's time when nothing matches (a datetime, not a refusal)."""
    before = datetime.datetime.now(datetime.UTC)
    value = Item.objects.filter(name="zz").aggregate(x=Max("moment", default=Now()))["x"]
    assert value is not None and value >= before - datetime.timedelta(seconds=1)


def test_now_without_time_zone_support_is_the_servers_utc_clock(rows):
    """With USE_TZ = False, Now() is a naive UTC time on SQLite, as on the server: not
    the local time of TIME_ZONE (hours apart in any zone but UTC)."""
    with override_settings(USE_TZ=False, TIME_ZONE="America/Chicago"):
        actual, expected = both(
            lambda alias: (
                Item.objects.using(alias)
                .filter(name="zz")
                .aggregate(x=Max("moment", default=Now()))["x"]
            )
        )
    assert actual.tzinfo is None and expected.tzinfo is None
    assert abs(actual - expected) < datetime.timedelta(seconds=5), (actual, expected)


GROUPED = {
    "per row: count plus field": lambda qs: (
        qs.annotate(x=Count("labels") + F("number")).order_by("id").values_list("name", "x")
    ),
    "per row: case over count": lambda qs: (
        qs.annotate(n=Count("labels"))
        .annotate(
            kind=Case(
                When(n__gt=1, then=Value("many")),
                When(n=1, then=Value("one")),
                default=Value("none"),
            )
        )
        .order_by("id")
        .values_list("name", "n", "kind")
    ),
    "per row: default from a field": lambda qs: (
        qs.annotate(x=Sum("labels__id", default=F("number")))
        .order_by("id")
        .values_list("name", "x")
    ),
    "values: sum minus sum": lambda qs: (
        qs.values("owner").annotate(x=Sum("number") - Min("number")).order_by("owner")
    ),
    "values: expression with the group's field": lambda qs: (
        qs.values("number").annotate(x=Count("id") + F("number")).order_by("number")
    ),
    "values: filter on an expression over aggregates": lambda qs: (
        qs.values("owner").annotate(x=Count("id") * 2).filter(x__gt=2).order_by("owner")
    ),
    "values: order by an expression over aggregates": lambda qs: (
        qs.values("owner").annotate(x=Max("number") - Min("number")).order_by("-x", "owner")
    ),
    "aggregate over a grouped expression": lambda qs: (
        qs.values("owner").annotate(x=Count("id") * 2).aggregate(total=Sum("x"), twice=Max("x") * 2)
    ),
}


@pytest.mark.parametrize("shape", GROUPED)
def test_grouped_expressions_over_aggregates(rows, shape):
    build = GROUPED[shape]
    actual, expected = both(lambda alias: build(Item.objects.using(alias)))
    if not isinstance(expected, dict):
        actual, expected = list(actual), list(expected)
    assert same(expected, actual), (actual, expected)


@pytest.mark.parametrize("function", [StdDev, Variance])
@pytest.mark.parametrize("sample", [False, True])
def test_standard_deviation_and_variance(rows, function, sample):
    """SQLite's own StdDev/Variance fail on NULL values: both read the rows without."""
    actual, expected = both(
        lambda alias: (
            Item.objects.using(alias)
            .filter(number__isnull=False, ratio__isnull=False)
            .aggregate(x=function("number", sample=sample), y=function("ratio", sample=sample))
        )
    )
    assert same(expected, actual), (actual, expected)


def test_standard_deviation_per_group(rows):
    actual, expected = both(
        lambda alias: list(
            Item.objects.using(alias)
            .filter(number__isnull=False)
            .values("owner")
            .annotate(x=StdDev("number"), y=Variance("number"), z=Sum("number") * StdDev("number"))
            .order_by("owner")
        )
    )
    assert same(expected, actual), (actual, expected)


def test_standard_deviation_skips_nulls_and_a_sample_needs_two_values(rows):
    """As on PostgreSQL: NULLs are ignored, a sample of one value has no deviation."""
    values = Item.objects.filter(owner_id=2).aggregate(
        pop=StdDev("number"), sample=StdDev("number", sample=True), var=Variance("number")
    )
    assert values == {"pop": 0.0, "sample": None, "var": 0.0}
    per_owner = Item.objects.filter(owner__isnull=False).values("owner").order_by("owner")
    assert list(per_owner.annotate(x=Variance("number", sample=True))) == [
        {"owner": 1, "x": 2.0},
        {"owner": 2, "x": None},
    ]
