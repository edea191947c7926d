"""aggregate(), annotate() and values().annotate() on every tier.

Each query runs on the tier under test and on stock SQLite (the ``sqlite``
alias) over the same rows; both must give the same answer, and the answer is
also checked against what the data says.
"""

from decimal import Decimal

import pytest
from django.db import NotSupportedError, connection
from django.db.models import Aggregate, Avg, Count, F, Max, Min, Q, Sum

from tests.agg.models import Genre, Novel, Publisher
from tests.commands import CommandCapture

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])

ALIASES = ("default", "sqlite")


def _populate(using):
    acme = Publisher.objects.using(using).create(name="Acme", country="UK")
    blue = Publisher.objects.using(using).create(name="Blue", country="UK")
    Publisher.objects.using(using).create(name="Cove", country="FR")  # no novels
    drama, farce, epic = (
        Genre.objects.using(using).create(name=n, weight=w)
        for n, w in (("drama", 1), ("farce", 2), ("epic", 5))
    )
    rows = [
        ("Alpha", acme, 100, "9.50", 4.0, [drama, epic], {"lang": "en"}),
        ("Beta", acme, 300, "20.00", 3.0, [drama], {"lang": "fr"}),
        ("Gamma", acme, None, None, None, [], {"lang": "en"}),
        ("Delta", blue, 200, "15.25", 5.0, [farce, epic, drama], {}),
        ("Omega", None, 50, "5.00", 2.0, [farce], {"lang": "en"}),
    ]
    for title, publisher, pages, price, rating, genres, meta in rows:
        novel = Novel.objects.using(using).create(
            title=title,
            publisher=publisher,
            pages=pages,
            price=None if price is None else Decimal(price),
            rating=rating,
            meta=meta,
        )
        # Through rows directly: the M2M manager's own queries filter across
        # the relation, which is not what these tests are about.
        Novel.genres.through.objects.using(using).bulk_create(
            Novel.genres.through(novel=novel, genre=genre) for genre in genres
        )


@pytest.fixture
def library():
    for using in ALIASES:
        _populate(using)


def agree(make):
    """The result of ``make(alias)`` on the tier under test, after checking SQLite agrees."""
    ours, sqlite = (make(using) for using in ALIASES)
    assert ours == sqlite, f"tier gives {ours!r}, SQLite gives {sqlite!r}"
    return ours


def novels(using):
    return Novel.objects.using(using)


def publishers(using):
    return Publisher.objects.using(using)


# -- aggregate() ----------------------------------------------------------------
def test_aggregate_all_functions(library):
    result = agree(
        lambda u: novels(u).aggregate(
            n=Count("*"),
            priced=Count("price"),
            total=Sum("pages"),
            low=Min("pages"),
            high=Max("pages"),
            mean=Avg("rating"),
        )
    )
    assert result == {
        "n": 5,
        "priced": 4,
        "total": 650,
        "low": 50,
        "high": 300,
        "mean": 3.5,
    }


def test_aggregate_decimal_sum_and_empty_default(library):
    result = agree(
        lambda u: novels(u).aggregate(
            total=Sum("price"),
            none=Sum("pages", filter=Q(title="nothing")),
            zero=Sum("pages", filter=Q(title="nothing"), default=0),
        )
    )
    assert result == {"total": Decimal("49.75"), "none": None, "zero": 0}


def test_aggregate_with_filter_argument(library):
    result = agree(
        lambda u: novels(u).aggregate(
            long=Count("pk", filter=Q(pages__gte=200)),
            long_pages=Sum("pages", filter=Q(pages__gte=200)),
            all_pages=Sum("pages"),
        )
    )
    assert result == {"long": 2, "long_pages": 500, "all_pages": 650}


def test_aggregate_distinct(library):
    result = agree(
        lambda u: novels(u).aggregate(
            publishers=Count("publisher", distinct=True),
            distinct_ratings=Sum("rating", distinct=True),
        )
    )
    assert result == {"publishers": 2, "distinct_ratings": 14.0}


def test_aggregate_over_reverse_relation(library):
    result = agree(
        lambda u: (
            publishers(u)
            .filter(country="UK")
            .aggregate(n=Count("novels"), pages=Sum("novels__pages"))
        )
    )
    assert result == {"n": 4, "pages": 600}


# -- values().annotate(): GROUP BY --------------------------------------------
def test_values_annotate_groups(library):
    def grouped(using):
        names = dict(publishers(using).values_list("pk", "name"))  # keys differ per database
        rows = (
            novels(using)
            .values("publisher")
            .annotate(n=Count("id"), total=Sum("pages"), mean=Avg("pages"), top=Max("rating"))
            .order_by("publisher")
        )
        return [{**row, "publisher": names.get(row["publisher"])} for row in rows]

    assert agree(grouped) == [
        {"publisher": None, "n": 1, "total": 50, "mean": 50.0, "top": 2.0},
        {"publisher": "Acme", "n": 3, "total": 400, "mean": 200.0, "top": 4.0},
        {"publisher": "Blue", "n": 1, "total": 200, "mean": 200.0, "top": 5.0},
    ]


def test_values_list_order_by_aggregate_and_having(library):
    rows = agree(
        lambda u: list(
            novels(u)
            .values_list("publisher")
            .annotate(n=Count("*"))
            .filter(n__gte=1)
            .order_by("-n", "publisher")
            .values_list("n", flat=True)
        )
    )
    assert rows == [3, 1, 1]
    having = agree(
        lambda u: list(
            novels(u)
            .values("publisher")
            .annotate(n=Count("*"), total=Sum("pages"))
            .filter(Q(n__gt=1) | Q(total__lt=100))
            .order_by("total")
            .values_list("total", "n")
        )
    )
    assert having == [(50, 1), (400, 3)]


def test_group_by_dict_key_path(library, on_mongodb):
    # MongoDB only: on SQL backends Django hashes the key transform's output
    # field while building GROUP BY, and the DictField's inner RawValueField
    # has no .model (a fields-module limitation, not an aggregation one).
    rows = sorted(
        novels("default").values("meta__lang").annotate(n=Count("id")),
        key=lambda row: (-row["n"], str(row["meta__lang"])),
    )
    assert rows == [
        {"meta__lang": "en", "n": 3},
        {"meta__lang": None, "n": 1},
        {"meta__lang": "fr", "n": 1},
    ]


def test_grouped_count_and_aggregate_over_groups(library):
    grouped = lambda u: novels(u).values("publisher").annotate(n=Count("id"))  # noqa: E731
    assert agree(lambda u: grouped(u).count()) == 3
    assert agree(lambda u: grouped(u).filter(n__gt=1).count()) == 1
    assert agree(lambda u: grouped(u).aggregate(most=Max("n"), total=Sum("n"))) == {
        "most": 3,
        "total": 5,
    }


def test_values_annotate_is_one_command_on_mongodb(library, on_mongodb):
    with CommandCapture(connection) as captured:
        list(novels("default").values("publisher").annotate(n=Count("id"), p=Sum("pages")))
    assert len(captured) == 1


# -- annotate() on model rows and across relations ------------------------------
def test_annotate_reverse_foreign_key(library):
    rows = agree(
        lambda u: [
            (p.name, p.n, p.pages, p.top)
            for p in publishers(u)
            .annotate(n=Count("novels"), pages=Sum("novels__pages"), top=Max("novels__rating"))
            .order_by("name")
        ]
    )
    assert rows == [("Acme", 3, 400, 4.0), ("Blue", 1, 200, 5.0), ("Cove", 0, None, None)]


def test_annotate_relation_order_filter_and_slice(library):
    names = agree(
        lambda u: list(
            publishers(u)
            .annotate(n=Count("novels"))
            .filter(n__lt=3)
            .order_by("-n", "name")
            .values_list("name", "n")[:5]
        )
    )
    assert names == [("Blue", 1), ("Cove", 0)]
    first = agree(
        lambda u: publishers(u).annotate(pages=Sum("novels__pages")).order_by("-pages")[0].name
    )
    assert first == "Acme"


def test_annotate_relation_with_filter_and_default(library):
    rows = agree(
        lambda u: list(
            publishers(u)
            .annotate(
                long=Count("novels", filter=Q(novels__pages__gte=200)),
                pages=Sum("novels__pages", default=0),
            )
            .order_by("name")
            .values_list("name", "long", "pages")
        )
    )
    assert rows == [("Acme", 1, 400), ("Blue", 1, 200), ("Cove", 0, 0)]


def test_annotate_many_to_many(library):
    rows = agree(
        lambda u: list(
            novels(u)
            .annotate(g=Count("genres"), w=Sum("genres__weight"))
            .order_by("title")
            .values_list("title", "g", "w")
        )
    )
    assert rows == [
        ("Alpha", 2, 6),
        ("Beta", 1, 1),
        ("Delta", 3, 8),
        ("Gamma", 0, None),
        ("Omega", 1, 2),
    ]
    reverse = agree(
        lambda u: list(
            Genre.objects.using(u)
            .annotate(n=Count("novels"))
            .order_by("name")
            .values_list("name", "n")
        )
    )
    assert reverse == [("drama", 3), ("epic", 2), ("farce", 2)]


def test_values_annotate_across_relation(library):
    rows = agree(
        lambda u: list(
            publishers(u).values("country").annotate(n=Count("novels")).order_by("country")
        )
    )
    assert rows == [{"country": "FR", "n": 0}, {"country": "UK", "n": 4}]


def test_annotate_then_aggregate(library):
    # Rounded: MySQL/MariaDB compute AVG over a derived table to 4 decimal places.
    result = agree(
        lambda u: {
            name: round(value, 4)
            for name, value in publishers(u)
            .annotate(n=Count("novels"))
            .aggregate(mean=Avg("n"), top=Max("n"))
            .items()
        }
    )
    assert result == {"mean": round(4 / 3, 4), "top": 3}


def test_relation_annotation_is_batched(library, on_mongodb):
    for name in ("Dawn", "Eve", "Fox"):
        Publisher.objects.create(name=name, country="DE")
    with CommandCapture(connection) as captured:
        rows = list(Publisher.objects.annotate(n=Count("novels"), p=Sum("novels__pages")))
    assert len(rows) == 6
    assert len(captured) == 2  # the publishers, then one grouped command on the novels
    with CommandCapture(connection) as captured:
        list(Novel.objects.annotate(g=Count("genres"), w=Sum("genres__weight")))
    # The novels; Count("genres") groups the through rows; Sum("genres__weight")
    # reads the through rows, then groups the genres: one command per hop.
    assert len(captured) == 4


def test_filter_on_aggregated_relation_restricts_the_aggregated_rows(library):
    """SQL shares the JOIN: the aggregates fold only the related rows the filter keeps."""
    rows = agree(
        lambda u: list(
            publishers(u)
            .filter(novels__pages__gt=150)
            .annotate(n=Count("novels"), pages=Sum("novels__pages"), most=Max("novels__pages"))
            .order_by("pk")
            .values_list("name", "n", "pages", "most")
        )
    )
    assert rows


def test_filter_through_the_aggregated_relation_restricts_the_aggregated_rows(library):
    """Count("novels") of a genre counts its through rows (Django trims the join to
    the novel table), and a filter on the novels, or on their publishers, keeps
    only the through rows it matches: SQL joins them once (django-taggit's
    ``most_common(extra_filters=...)``)."""
    by_title = agree(
        lambda u: list(
            Genre.objects.using(u)
            .filter(novels__title__in=["Alpha", "Delta"])
            .annotate(n=Count("novels"))
            .order_by("-n", "name")
            .values_list("name", "n")
        )
    )
    assert by_title == [("drama", 2), ("epic", 2), ("farce", 1)]
    by_country = agree(
        lambda u: list(
            Genre.objects.using(u)
            .filter(novels__publisher__country="UK")
            .annotate(n=Count("novels"))
            .order_by("name")
            .values_list("name", "n")
        )
    )
    assert by_country == [("drama", 3), ("epic", 2), ("farce", 1)]


def test_filter_through_the_aggregated_relation_is_refused_by_aggregate(library, on_mongodb):
    with pytest.raises(NotSupportedError, match="filter=Q"):
        Genre.objects.filter(novels__title="Alpha").aggregate(n=Count("novels"))


def test_filter_on_aggregated_relation_is_refused_by_aggregate(library, on_mongodb):
    with pytest.raises(NotSupportedError, match="filter=Q"):
        Publisher.objects.filter(novels__pages__gt=10).aggregate(n=Count("novels"))


class Median(Aggregate):
    """An aggregate function neither this backend nor SQLite knows."""

    function = "MEDIAN"


def test_expression_over_aggregates_is_computed(library):
    counts = Novel.objects.values("publisher").annotate(n=Count("id")).order_by("publisher")
    doubled = Novel.objects.values("publisher").annotate(x=Count("id") * 2).order_by("publisher")
    assert [row["x"] for row in doubled] == [row["n"] * 2 for row in counts]


def test_unsupported_annotation_says_what_to_do(library, on_mongodb):
    # Its SQL is run by SQLite over each group's values, which has no MEDIAN.
    with pytest.raises(NotSupportedError, match="MEDIAN.*compute the value in Python"):
        list(Novel.objects.values("publisher").annotate(x=Median("pages") * 2))
    with pytest.raises(NotSupportedError, match="MEDIAN"):
        Novel.objects.filter(pages__gt=10_000).aggregate(x=Median("pages"))


def test_having_on_a_field_groups_by_it_too(library):
    """SQL adds a HAVING operand's column to the GROUP BY: one group per (publisher, pages)."""

    def groups(using):
        # Keys differ between databases (a SQL server's counters are not reset
        # between tests): compare the publishers by name.
        names = dict(publishers(using).values_list("pk", "name"))
        rows = (
            novels(using)
            .values("publisher")
            .annotate(n=Count("id"))
            .filter(n__lte=F("pages"))
            .values_list("publisher", "n")
        )
        return sorted(((names.get(publisher) or ""), n) for publisher, n in rows)

    rows = agree(groups)
    assert rows


def test_aggregate_over_annotation_and_own_fields(library):
    result = agree(
        lambda u: (
            novels(u)
            .annotate(g=Count("genres"))
            .aggregate(longest=Max("pages"), genres=Sum("g"), mean=Avg("g"))
        )
    )
    assert result == {"longest": 300, "genres": 7, "mean": 1.4}


def test_having_mixing_aggregates_and_fields(library):
    rows = agree(
        lambda u: sorted(
            publishers(u)
            .annotate(n=Count("novels"))
            .filter(Q(n__gte=3) | Q(name="Cove"))
            .values_list("name", flat=True)
        )
    )
    assert rows == ["Acme", "Cove"]
    compared = agree(
        lambda u: list(
            novels(u)
            .values("publisher")
            .annotate(n=Count("id"), low=Min("pages"))
            .filter(low__gt=F("n"))
            .order_by("low")
            .values_list("low", flat=True)
        )
    )
    assert compared == [50, 100, 200]


def test_min_max_of_text_and_grouped_subquery(library):
    assert agree(lambda u: novels(u).aggregate(first=Min("title"), last=Max("title"))) == {
        "first": "Alpha",
        "last": "Omega",
    }
    longest = agree(
        lambda u: list(
            novels(u)
            .filter(
                pages__in=novels(u)
                .values("publisher")
                .annotate(m=Max("pages"))
                .values_list("m", flat=True)
            )
            .values_list("title", flat=True)
        )
    )
    assert longest == ["Beta", "Delta", "Omega"]


def test_empty_filter_and_order_by_field_annotation(library):
    assert agree(lambda u: novels(u).aggregate(n=Count("pk", filter=Q()))) == {"n": 5}
    titles = agree(
        lambda u: list(
            novels(u)
            .annotate(p=F("pages"))
            .filter(p__isnull=False)
            .order_by("-p")
            .values_list("title", flat=True)
        )
    )
    assert titles == ["Beta", "Delta", "Alpha", "Omega"]


def test_exists_and_count_of_annotated_querysets(library):
    annotated = lambda u: publishers(u).annotate(n=Count("novels"))  # noqa: E731
    assert agree(lambda u: annotated(u).filter(n__gt=2).exists()) is True
    assert agree(lambda u: annotated(u).filter(n__gt=5).exists()) is False
    assert agree(lambda u: annotated(u).filter(n=0).count()) == 1
    assert agree(lambda u: annotated(u).count()) == 3


def test_annotation_then_filter_across_the_relation_keeps_one_row_per_parent(library):
    names = agree(
        lambda u: list(
            publishers(u)
            .annotate(n=Count("novels"))
            .filter(novels__pages__gte=100)
            .order_by("name")
            .values_list("name", flat=True)
        )
    )
    assert names == ["Acme", "Blue"]
