"""Aggregates over subquery rows and groupings by computed values, answered like stock SQLite.

Django wraps an annotated, sliced or distinct queryset in a subquery before
``aggregate()``; the MongoDB backend folds such aggregates (``filter=`` on an
annotation, ``Case``, a ``Subquery`` annotation) over the inner rows in Python. It
also groups by expressions and foreign keys' related fields by computing the group
values per row, and, as SQL does, adds the columns of selected values and HAVING
operands to the grouping. Each queryset runs on the backend under test and on the
``sqlite`` alias over the same rows; the results must be equal.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError
from django.db.models import (
    Case,
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, Greatest, Least, Mod, Now

from tests.differential.models import Item, Label, Owner, Team
from tests.differential.test_aggregate_shapes import both, rows, same  # noqa: F401 -- fixture

pytestmark = [
    pytest.mark.django_db(databases=["default", "sqlite"]),
    pytest.mark.usefixtures("on_mongodb"),
]


def _first_label(alias):
    return Subquery(
        Label.objects.using(alias).filter(items=OuterRef("pk")).order_by("id").values("id")[:1]
    )


OVER_ROWS = {
    "filter= on an annotation": lambda qs, alias: qs.annotate(n=Count("labels")).aggregate(
        x=Sum("number", filter=Q(n__gte=2))
    ),
    "case over an annotation of a grouped queryset": lambda qs, alias: (
        qs.annotate(n=Count("labels")).values("pk").aggregate(x=Sum(Case(When(n__gt=1, then=1))))
    ),
    "case over a sliced queryset": lambda qs, alias: qs.order_by("id")[:4].aggregate(
        x=Sum(Case(When(number__lte=4, then=1))), m=Max("ratio")
    ),
    "subquery annotation, counted under a filter and summed": lambda qs, alias: qs.annotate(
        first=_first_label(alias)
    ).aggregate(c=Count("pk", filter=Q(first=1)), s=Sum("first"), m=Max("first")),
    "arithmetic over a subquery annotation": lambda qs, alias: (
        qs.annotate(first=_first_label(alias), twice=F("first") * 2)
        .values("pk", "twice")
        .aggregate(s=Sum("twice"))
    ),
    "filter= comparing with another annotation": lambda qs, alias: qs.annotate(
        top=Max("labels__id")
    ).aggregate(n=Count("id", filter=Q(id__lte=F("top"))), k=Count("id", filter=Q(top__in=[2, 3]))),
    "filter= that always holds": lambda qs, alias: qs.aggregate(
        x=Max("number", filter=~Q(number__in=[]))
    ),
    "literal default over a filtered annotation": lambda qs, alias: qs.annotate(
        n=Count("labels")
    ).aggregate(x=Sum("number", filter=Q(n__gt=9), default=0)),
}


@pytest.mark.parametrize("shape", OVER_ROWS)
def test_aggregates_over_the_rows_of_a_subquery(rows, shape):  # noqa: F811 -- fixture
    build = OVER_ROWS[shape]
    actual, expected = both(lambda alias: build(Item.objects.using(alias), alias))
    assert same(expected, actual), (actual, expected)


GROUPINGS = {
    "by an arithmetic function": lambda qs: (
        qs.values(m=Mod("number", 2)).annotate(n=Count("*"), s=Sum("ratio")).order_by("m")
    ),
    "by a case": lambda qs: (
        qs.values(k=Case(When(number__gt=3, then=Value("big")), default=Value("small")))
        .annotate(s=Sum("number"), n=Count("id"))
        .order_by("k")
    ),
    "by a case, a relation counted per group": lambda qs: (
        qs.values(k=Case(When(number__gt=3, then=Value("big")), default=Value("small")))
        .annotate(n=Count("labels"), top=Max("labels__id"))
        .order_by("k")
    ),
    "by a cast and a concatenation": lambda qs: (
        qs.values(c=Concat(Value("n"), Cast("number", CharField())))
        .annotate(n=Count("id"))
        .order_by("c")
    ),
    "by a date transform": lambda qs: (
        qs.values("day__day").annotate(n=Count("id"), top=Max("number")).order_by("day__day")
    ),
    "by a foreign key's related field": lambda qs: (
        qs.values("owner__name").annotate(n=Count("id"), s=Sum("number")).order_by("owner__name")
    ),
    "by a foreign key's related field, a relation counted per group": lambda qs: (
        qs.values("owner__name").annotate(labels=Count("labels")).order_by("owner__name")
    ),
    "by a field two foreign keys away": lambda qs: (
        qs.values("owner__team__name").annotate(n=Count("id")).order_by("owner__team__name")
    ),
    "expression over an aggregate and the grouped expression": lambda qs: (
        qs.annotate(g=Greatest("number", Value(4)))
        .values("g")
        .annotate(low=Min("number"), least=Least("low", "g"))
        .order_by("g")
        .values_list("least", flat=True)
    ),
    "a constant case without conditions": lambda qs: (
        qs.values("owner")
        .annotate(k=Case(default=Value("x")), s=Sum("number"))
        .order_by("owner")
        .values_list("owner", "k", "s")
    ),
    "selected primary key joins the grouping": lambda qs: (
        qs.values("owner").annotate(n=Count("labels")).values_list("pk", "n").order_by("pk")
    ),
    "ordering by an unselected field groups by it too": lambda qs: (
        qs.values("owner").annotate(n=Count("id")).order_by("number", "owner")
    ),
    "having on an unselected field": lambda qs: (
        qs.values("owner")
        .annotate(n=Count("labels"))
        .filter(number__gt=F("n"))
        .values_list("owner", "n")
        .order_by("owner", "n")
    ),
}


@pytest.mark.parametrize("shape", GROUPINGS)
def test_groupings_by_computed_values(rows, shape):  # noqa: F811 -- fixture
    build = GROUPINGS[shape]
    actual, expected = both(lambda alias: list(build(Item.objects.using(alias))))
    assert same(expected, actual), (actual, expected)


def compare(build) -> None:
    """``build(owners, items)`` on both aliases: equal results (rows, a dict or a count)."""

    def run(alias):
        value = build(Owner.objects.using(alias), Item.objects.using(alias))
        return value if isinstance(value, (dict, int)) else list(value)

    actual, expected = both(run)
    assert same(expected, actual), (actual, expected)


ACROSS_RELATIONS = {
    "expression over a reverse relation, per row": lambda owners, items: (
        owners.annotate(x=Sum(F("id") + F("items__number"))).order_by("id").values_list("name", "x")
    ),
    "own aggregate next to it counts the joined rows": lambda owners, items: (
        owners.annotate(x=Sum(F("items__number") * 2), n=Count("id"), top=Max("id"))
        .order_by("id")
        .values_list("name", "x", "n", "top")
    ),
    "case with a negated condition on a many-to-many": lambda owners, items: (
        items.annotate(x=Sum(Case(When(~Q(labels__id=1), then=1), default=2)))
        .order_by("id")
        .values_list("name", "x")
    ),
    "filter= comparing the related row with the own row": lambda owners, items: (
        items.annotate(n=Count("labels", filter=Q(labels__id__lt=F("number"))))
        .order_by("id")
        .values_list("name", "n")
    ),
    "sum of own plus sum across the relation": lambda owners, items: (
        owners.annotate(x=Sum("id") + Sum("items__number")).order_by("id").values_list("name", "x")
    ),
    "grouped by a field, expression over a many-to-many": lambda owners, items: (
        items.values("owner").annotate(x=Sum(F("number") + F("labels__id"))).order_by("owner")
    ),
    "aggregate over such an annotation": lambda owners, items: owners.annotate(
        x=Sum(F("id") + F("items__number"))
    ).aggregate(top=Max("x"), total=Sum("x")),
}


@pytest.mark.parametrize("shape", ACROSS_RELATIONS)
def test_aggregates_of_expressions_across_relations(rows, shape):  # noqa: F811 -- fixture
    """SQL's JOIN gives one row per related row: every aggregate of the query folds them."""
    compare(ACROSS_RELATIONS[shape])


HAVING = {
    "against arithmetic over a field": lambda owners, items: (
        owners.annotate(n=Count("items")).filter(n__lt=F("id") * 2).order_by("id")
    ),
    "against a related model's field": lambda owners, items: (
        items.annotate(n=Count("labels")).filter(n__gte=F("owner__team_id")).order_by("id")
    ),
    "or with a queryset of keys": lambda owners, items: (
        owners.annotate(n=Count("items"))
        .filter(Q(n__gt=1) | Q(pk__in=items.filter(number__lt=4).values("owner")))
        .order_by("id")
    ),
    "against a correlated subquery": lambda owners, items: (
        owners.annotate(n=Count("items"))
        .filter(
            n=Subquery(
                items.filter(owner=OuterRef("pk"), number__gt=2)
                .values("owner")
                .annotate(c=Count("pk"))
                .values("c")[:1]
            )
        )
        .order_by("id")
    ),
    "grouped, against arithmetic over a field": lambda owners, items: (
        items.values("owner")
        .annotate(n=Count("id"))
        .filter(n__lte=F("number") - 4)
        .order_by("owner", "n")
    ),
}


@pytest.mark.parametrize("shape", HAVING)
def test_aggregate_filters_against_expressions(rows, shape):  # noqa: F811 -- fixture
    build = HAVING[shape]
    actual, expected = both(
        lambda alias: [
            row if isinstance(row, dict) else (row.pk, row.n)
            for row in build(Owner.objects.using(alias), Item.objects.using(alias))
        ]
    )
    assert same(expected, actual), (actual, expected)


def _duration():
    return ExpressionWrapper(F("moment") - F("moment"), output_field=DurationField())


@pytest.mark.parametrize(
    "default",
    [datetime.timedelta(0), datetime.timedelta(seconds=3)],
    ids=["zero", "three seconds"],
)
def test_duration_default_from_python(rows, default):  # noqa: F811 -- fixture
    """A literal default of a DurationField aggregate reads back as the timedelta."""
    actual, expected = both(
        lambda alias: (
            Item.objects.using(alias)
            .filter(name="zz")
            .aggregate(x=Max(_duration(), default=default))
        )
    )
    assert same(expected, actual) and actual == {"x": default}, (actual, expected)


def test_now_is_one_value_per_query(rows):  # noqa: F811 -- fixture
    """As SQL's CURRENT_TIMESTAMP: Now() - Now() is zero, in a default and per row."""
    actual, expected = both(
        lambda alias: (
            Item.objects.using(alias)
            .filter(name="zz")
            .aggregate(x=Max(_duration(), default=Now() - Now()))
        )
    )
    assert same(expected, actual) and actual == {"x": datetime.timedelta(0)}, (actual, expected)
    gaps = Item.objects.annotate(
        gap=ExpressionWrapper(Now() - Now(), output_field=DurationField())
    ).values_list("gap", flat=True)
    assert set(gaps) == {datetime.timedelta(0)}


JOINED_GROUPS = {
    "by a many-to-many field": lambda owners, items: (
        items.values("labels__name")
        .annotate(n=Count("id"), s=Sum("number"))
        .order_by("labels__name")
    ),
    "by a reverse foreign key, counting it, ordered by its key": lambda owners, items: (
        owners.values("items")
        .annotate(Count("items"))
        .order_by("items__count", "items__id")
        .values_list("items", flat=True)
    ),
    "an annotation across the relation splits the rows' groups": lambda owners, items: (
        owners.annotate(
            s=Sum("items__number"),
            big=Case(When(items__number__gt=4, then=Value(True)), default=Value(False)),
        )
        .order_by("name", "big")
        .values_list("name", "s", "big")
    ),
    "the primary key and a related field": lambda owners, items: (
        owners.values("id", "items__number").annotate(t=Sum("items__number")).order_by("id", "t")
    ),
    "an expression over an aggregate and a related field": lambda owners, items: (
        items.values("name")
        .annotate(x=Sum("number") + F("labels__id"))
        .order_by("name", "x")
        .values_list("name", "x")
    ),
    "ordered by an expression over an aggregate": lambda owners, items: (
        items.values("owner").annotate(s=Sum("number")).order_by(Mod("s", 4), "owner")
    ),
    "distinct dates of an annotated queryset": lambda owners, items: items.annotate(
        n=Count("labels")
    ).dates("day", "month"),
    "aggregate filtered by Exists": lambda owners, items: items.aggregate(
        top=Max(
            "number",
            filter=Exists(Label.objects.using(items.db).filter(items=OuterRef("pk"), id__gte=3)),
        ),
        n=Count("id", filter=~Exists(Label.objects.using(items.db).filter(items=OuterRef("pk")))),
    ),
    "counted": lambda owners, items: owners.annotate(
        s=Sum("items__number"),
        big=Case(When(items__number__gt=4, then=Value(True)), default=Value(False)),
    ).count(),
}


@pytest.mark.parametrize("shape", JOINED_GROUPS)
def test_groupings_across_many_valued_relations(rows, shape):  # noqa: F811 -- fixture
    """One group per related value, every aggregate over the joined rows, as SQL."""
    compare(JOINED_GROUPS[shape])


def test_duration_scaled_by_a_decimal(rows):  # noqa: F811 -- fixture
    """A duration times (or divided by) a Decimal, as on SQLite; a date times a
    duration is refused by the database (DataError), as SQL refuses the operator."""
    three = datetime.timedelta(seconds=3)

    def scaled(alias):
        return list(
            Item.objects.using(alias)
            .filter(name="a")
            .annotate(
                times=ExpressionWrapper(
                    Value(Decimal("1.5")) * Value(datetime.timedelta(seconds=2)),
                    output_field=DurationField(),
                ),
                over=ExpressionWrapper(
                    Value(datetime.timedelta(seconds=6)) / Value(Decimal("2")),
                    output_field=DurationField(),
                ),
            )
            .values_list("times", "over")
        )

    actual, expected = both(scaled)
    assert actual == expected == [(three, three)], (actual, expected)
    with pytest.raises(DatabaseError):
        list(
            Item.objects.annotate(
                at=Value(datetime.datetime(2024, 1, 1)),
                wrong=ExpressionWrapper(
                    F("at") * datetime.timedelta(0), output_field=DurationField()
                ),
            )
        )


def _across_chain():
    return Sum(
        "owners__items__number",
        filter=Q(owners__items__labels__name="l2") & ~Q(owners__name="bob"),
    )


def test_filter_reading_tables_past_the_aggregated_one(rows):  # noqa: F811 -- fixture
    """filter= across a chain the aggregated table's own filter cannot say: evaluated on
    the rows joined by key, as SQL's JOIN gives them."""
    actual, expected = both(
        lambda alias: (
            Team.objects.using(alias).aggregate(x=_across_chain()),
            list(
                Team.objects.using(alias)
                .annotate(x=_across_chain())
                .order_by("id")
                .values_list("name", "x")
            ),
        )
    )
    assert same(expected, actual) and actual[0]["x"] is not None, (actual, expected)
