"""Mismatches the differential tests found, minimised: each stays fixed on every tier."""

from decimal import Decimal

import pytest
from django.db import NotSupportedError, connection
from django.db.models import Avg, Count, Max, Q, Sum

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


def test_relation_span_under_double_negation_keeps_the_inner_join():
    """exclude(~Q(owner__...) | ...) joins the owner with an INNER JOIN (the span is
    positive after two negations): an item without an owner is not in the result,
    whatever the negations make of the condition (the relation layer matched it)."""
    team = Team.objects.create(name="t")
    with_team = Owner.objects.create(name="with team", team=team)
    without_team = Owner.objects.create(name="without team")
    Item.objects.create(name="no owner", tags=[], ratio=-1.0)
    Item.objects.create(name="owner with team", tags=[], ratio=-1.0, owner=with_team)
    Item.objects.create(name="owner without team", tags=[], ratio=-1.0, owner=without_team)
    excluded = Item.objects.exclude(~Q(owner__team_id__gte=-2) | Q(ratio__gte=0))
    # SQLite: only the item whose owner has a team; the other two are UNKNOWN or not joined.
    assert [i.name for i in excluded] == ["owner with team"]
    assert Item.objects.exclude(~Q(owner__name="with team")).get().name == "owner with team"


def test_aggregate_over_rows_a_many_to_many_filter_repeats():
    """filter(labels__...) repeats an item once per matching label, as SQL's JOIN
    does, and aggregate() counts and sums the repeated rows too (it read each item
    once)."""
    first, second = Label.objects.create(name="a"), Label.objects.create(name="b")
    item = Item.objects.create(name="two labels", number=5, tags=[])
    item.labels.add(first, second)
    Item.objects.create(name="no labels", number=7, tags=[])
    repeated = Item.objects.filter(labels__name__gte="a")
    assert repeated.count() == 2
    assert repeated.values("name").count() == 2  # crashed: values_select without select
    assert repeated.aggregate(n=Count("pk"), total=Sum("number"), top=Max("number")) == {
        "n": 2,
        "total": 10,
        "top": 5,
    }


def test_count_distinct_per_group_keeps_zero():
    """Count(distinct=True) per group counted a 0 as null on mongomock ($addToSet)."""
    Item.objects.create(name="a", number=0, tags=[])
    Item.objects.create(name="b", number=0, tags=[])
    Item.objects.create(name="c", number=2, tags=[])
    grouped = Item.objects.values("number").annotate(n=Count("number", distinct=True))
    assert list(grouped.order_by("number")) == [{"number": 0, "n": 1}, {"number": 2, "n": 1}]


def test_many_to_many_span_inside_or_repeats_rows_as_a_join_does():
    """SQL's JOIN repeats a row once per related row that makes the OR true, which
    depends on the other alternatives (the relation layer refused the shape unless
    distinct(); now the condition is evaluated on the joined rows)."""
    first, second = Label.objects.create(name="a"), Label.objects.create(name="b")
    item = Item.objects.create(name="two labels", tags=[])
    item.labels.add(first, second)
    Item.objects.create(name="one label", tags=[]).labels.add(first)
    Item.objects.create(name="none", tags=[])
    either = Item.objects.filter(Q(labels__name__gte="a") | Q(name="none"))
    assert sorted(i.name for i in either) == ["none", "one label", "two labels", "two labels"]
    assert either.count() == 4
    assert either.exists()
    assert sorted(i.name for i in either.distinct()) == ["none", "one label", "two labels"]
    assert either.distinct().count() == 3
    # The other alternative decides how often a row with two labels repeats.
    only_b = Item.objects.filter(Q(labels__name="b") | Q(name="one label"))
    assert sorted(only_b.values_list("name", flat=True)) == ["one label", "two labels"]
    negated = Item.objects.exclude(~Q(labels__name="a") & ~Q(name="none")).order_by("name")
    assert list(negated.values_list("name", flat=True)) == ["none", "one label", "two labels"]


def on_djangos_mysql_backend() -> bool:
    return connection.settings_dict["ENGINE"] == "django.db.backends.mysql"


def test_iregex_on_a_document_key_ignores_case(request):
    """iregex on a DictField key matched case-sensitively on the SingleStore backend
    over MariaDB (Django's MariaDB SQL leaves iregex to the collation; JSON values
    are utf8mb4_bin). Fixed in the SingleStore backend; OPEN for the nonrel fields
    on Django's own mysql backend, whose SQL we do not render."""
    if on_djangos_mysql_backend():
        request.applymarker(
            pytest.mark.xfail(strict=True, reason="open on Django's mysql backend (MariaDB)")
        )
    Item.objects.create(name="upper", meta={"s": "A"}, tags=[])
    Item.objects.create(name="digits", meta={"s": "09"}, tags=[])
    assert [i.name for i in Item.objects.filter(meta__s__iregex="^a$")] == ["upper"]
    assert [i.name for i in Item.objects.exclude(meta__s__iregex="^[^a-z]*$")] == ["upper"]
    assert [i.name for i in Item.objects.filter(meta__s__regex="^a$")] == []


def test_ordering_by_a_numeric_document_key_is_numeric(request):
    """meta__n orders by number on SQLite and MongoDB; the SingleStore backend on
    MariaDB orders the key's JSON text ('-1' before '-2', '10' before '9').
    OPEN, found by the long differential run: strict xfail on that tier."""
    if (
        connection.settings_dict["ENGINE"] == "django_nonrel.backends.singlestore"
        or on_djangos_mysql_backend()
    ):
        request.applymarker(
            pytest.mark.xfail(strict=True, reason="open: a document key sorts as JSON text")
        )
    for n in (10, -1, 9, -2):
        Item.objects.create(name=str(n), meta={"n": n}, tags=[])
    ordered = Item.objects.order_by("meta__n", "pk").values_list("name", flat=True)
    assert list(ordered) == ["-2", "-1", "9", "10"]


def test_distinct_values_of_a_document_path_are_counted():
    """count() of values("meta__s").distinct() (a bookmark page's total) read the
    projection as plain columns and failed on the path (AttributeError)."""
    for name, s in [("a", "x"), ("b", "x"), ("c", "y"), ("d", None)]:
        Item.objects.create(name=name, meta={"s": s}, tags=[])
    distinct = Item.objects.values("meta__s").distinct()
    assert distinct.count() == 3
    assert Item.objects.values("name", "meta__s").distinct().count() == 4
    assert Item.objects.filter(name__gt="a").values("meta__s").distinct().count() == 3


@pytest.fixture
def owned_and_unowned():
    team = Team.objects.create(name="T")
    owner = Owner.objects.create(name="o", team=team)
    Item.objects.create(name="no owner", tags=[])
    Item.objects.create(name="owned", owner=owner, tags=[])


def test_a_negated_relation_span_alone_keeps_rows_without_the_related_row(owned_and_unowned):
    """Django adds IS NOT NULL to a negated lookup across a LEFT OUTER join:
    NOT (team.name > 'T' AND team.name IS NOT NULL) keeps the item without owner."""
    names = sorted(
        Item.objects.filter(~Q(owner__team__name__gt="T")).values_list("name", flat=True)
    )
    assert names == ["no owner", "owned"]


def test_a_negated_relation_span_inside_or_leaves_out_rows_without_the_related_row(
    owned_and_unowned,
):
    """Inside an OR Django builds the join INNER and promotes it afterwards, so
    the guard is missing: NOT (team.name > 'T') is UNKNOWN without a team and
    SQL leaves the row out (the relation layer kept it)."""
    queryset = Item.objects.filter(
        (Q(number=5) & Q(owner__team_id__gt=1)) | ~Q(owner__team__name__gt="T")
    )
    assert sorted(queryset.values_list("name", flat=True)) == ["owned"]


def test_grouped_sums_after_a_many_to_many_filter_are_refused_not_undercounted():
    """SQL sums an item once per matching label (the JOIN repeats it); the
    grouped read took it once. Refused on the nonrel backends, with the way to
    aggregate each row once, which gives the same answer everywhere."""
    first, second = Label.objects.create(name="a1"), Label.objects.create(name="a2")
    two = Item.objects.create(name="two", price=Decimal("1.50"), place=Spot(city="Oslo"), tags=[])
    two.labels.set([first, second])
    one = Item.objects.create(name="one", price=Decimal("2.00"), place=Spot(city="Oslo"), tags=[])
    one.labels.set([first])
    filtered = Item.objects.filter(labels__name__startswith="a")
    grouped = filtered.values("place__city").annotate(total=Sum("price"))
    if connection.vendor == "mongodb":
        with pytest.raises(NotSupportedError, match="pk__in"):
            list(grouped)
    else:
        assert [row["total"] for row in grouped] == [Decimal("5.00")]
    once = Item.objects.filter(pk__in=filtered.values("pk"))
    rows = once.values("place__city").annotate(total=Sum("price"))
    assert [(row["place__city"], row["total"]) for row in rows] == [("Oslo", Decimal("3.50"))]
