"""Expressions in annotate(), filter(), order_by() and update() on every tier.

Each query runs on the tier under test and on stock SQLite over the same rows;
both must agree, and the answer is also checked against the data. On the
nonrel backends these expressions are evaluated in Python
(django_nonrel.expressions), so the answers must follow SQL's rules: NULL in,
NULL out, integer division truncating, UNKNOWN comparisons excluding rows.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import NotSupportedError, connection
from django.db.models import (
    CASCADE,
    Case,
    CharField,
    ExpressionWrapper,
    F,
    FloatField,
    ForeignKey,
    IntegerField,
    JSONField,
    OneToOneField,
    Q,
    Value,
    When,
)
from django.db.models.functions import (
    Abs,
    Cast,
    Coalesce,
    Concat,
    ExtractMonth,
    ExtractYear,
    Greatest,
    Left,
    Length,
    Lower,
    NullIf,
    Right,
    Round,
    Substr,
    Trim,
    TruncMonth,
    Upper,
)
from django.db.models.lookups import GreaterThan, LessThan
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.agg.models import Novel
from tests.orm.models import Author, Book

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])

ALIASES = ("default", "sqlite")
NOVELS = [
    ("Alpha", 100, "9.50", 4.0),
    ("beta", 300, "20.00", None),
    ("  Gamma ", None, None, 2.5),
    ("delta", 7, "15.25", 5.0),
]


@pytest.fixture
def novels():
    for using in ALIASES:
        for title, pages, price, rating in NOVELS:
            Novel.objects.using(using).create(
                title=title,
                pages=pages,
                price=None if price is None else Decimal(price),
                rating=rating,
            )


def agree(make):
    """``make(alias)`` on the tier under test, after checking stock SQLite agrees."""
    ours, sqlite = (make(using) for using in ALIASES)
    assert ours == sqlite, f"tier gives {ours!r}, SQLite gives {sqlite!r}"
    return ours


def rows(using, *names, order=("title",), **annotations):
    """values_list(*names) of every novel, with ``annotations``, in ``order``."""
    queryset = Novel.objects.using(using).annotate(**annotations)
    return queryset.order_by(*order).values_list(*names)


# Titles sort the same in binary and case-insensitive collations (MariaDB's
# default), so ordering by title agrees on every tier.
# -- annotations -------------------------------------------------------------------
def test_arithmetic_follows_sql_null_and_integer_division(novels):
    result = agree(
        lambda u: list(
            rows(
                u,
                "title",
                "plus",
                "half",
                "ratio",
                plus=F("pages") + 1,
                half=F("pages") / 2,
                ratio=ExpressionWrapper(F("rating") * 2, output_field=FloatField()),
            )
        )
    )
    assert result == [
        ("  Gamma ", None, None, 5.0),
        ("Alpha", 101, 50, 8.0),
        ("beta", 301, 150, None),
        ("delta", 8, 3, 10.0),
    ]


def test_text_functions(novels):
    result = agree(
        lambda u: list(
            rows(
                u,
                "low",
                "up",
                "n",
                "trim",
                "sub",
                "left",
                "right",
                "joined",
                low=Lower("title"),
                up=Upper("title"),
                n=Length("title"),
                trim=Trim("title"),
                sub=Substr("title", 2, 3),
                left=Left("title", 2),
                right=Right("title", 2),
                joined=Concat("title", Value("/"), Cast("pages", CharField())),
            )
        )
    )
    assert result[0] == ("  gamma ", "  GAMMA ", 8, "Gamma", " Ga", "  ", "a ", "  Gamma /")
    assert result[1] == ("alpha", "ALPHA", 5, "Alpha", "lph", "Al", "ha", "Alpha/100")


def test_case_coalesce_and_lookups_as_values(novels):
    result = agree(
        lambda u: list(
            rows(
                u,
                "size",
                "pages_or_zero",
                "long",
                "short",
                "same",
                size=Case(
                    When(pages__gte=100, then=Value("long")),
                    When(pages__isnull=True, then=Value("unknown")),
                    default=Value("short"),
                ),
                pages_or_zero=Coalesce("pages", Value(0)),
                long=GreaterThan(F("pages"), 150),
                short=LessThan(F("pages"), F("rating")),
                same=NullIf("title", Value("Alpha")),
            )
        )
    )
    assert result == [
        ("unknown", 0, None, None, "  Gamma "),
        ("long", 100, False, False, None),
        ("long", 300, True, None, "beta"),
        ("short", 7, False, False, "delta"),
    ]


def test_math_and_cast(novels):
    result = agree(
        lambda u: list(
            rows(
                u,
                "rounded",
                "absolute",
                "biggest",
                "as_int",
                rounded=Round("price", 1),
                absolute=Abs(F("pages") - 200),
                biggest=Greatest("pages", Value(50)),
                as_int=Cast("rating", IntegerField()),
            )
        )
    )
    assert result == [
        (None, None, None, 2),
        (Decimal("9.5"), 100, 100, 4),
        (Decimal("20.0"), 100, 300, None),
        (Decimal("15.3"), 193, 50, 5),
    ]


def test_cast_to_a_foreign_key_is_a_cast_to_its_target_type(novels):
    """SQL casts to a ForeignKey as to the column type of the key it refers to."""
    as_key = Cast("rating", ForeignKey(Novel, on_delete=CASCADE))
    text_key = Cast(Value("7"), OneToOneField(Novel, on_delete=CASCADE))
    result = agree(lambda u: list(rows(u, "title", "k", "t", k=as_key, t=text_key)))
    assert result == [("  Gamma ", 2, 7), ("Alpha", 4, 7), ("beta", None, 7), ("delta", 5, 7)]


def test_dates_are_extracted_and_truncated_in_the_current_time_zone():
    # 03:30 UTC on 1 April is still 31 March in the current time zone (America/Chicago).
    joined = datetime.datetime(2024, 4, 1, 3, 30, tzinfo=datetime.UTC)
    for using in ALIASES:
        Author.objects.using(using).create(
            name="Ann", joined=joined, born=datetime.date(1990, 7, 4)
        )
    result = agree(
        lambda u: list(
            Author.objects.using(u)
            .annotate(y=ExtractYear("born"), m=ExtractMonth("joined"), t=TruncMonth("joined"))
            .values_list("y", "m", "t")
        )
    )
    assert result == [(1990, 3, timezone.make_aware(datetime.datetime(2024, 3, 1)))]


def test_model_instances_carry_the_annotation(novels):
    novel = Novel.objects.annotate(shout=Upper("title")).get(title="Alpha")
    assert novel.shout == "ALPHA"


def test_mixed_types_raise_djangos_field_error(novels):
    from django.core.exceptions import FieldError

    for using in ALIASES:
        with pytest.raises(FieldError, match="You must set output_field"):
            list(Novel.objects.using(using).annotate(x=F("title") + F("pages")))


# -- filters and ordering ----------------------------------------------------------
def test_filter_comparing_two_fields_and_expressions(novels):
    assert agree(
        lambda u: sorted(
            Novel.objects.using(u)
            .filter(pages__gt=F("rating") * 20)
            .values_list("title", flat=True)
        )
    ) == ["Alpha"]
    assert agree(
        lambda u: sorted(
            Novel.objects.using(u)
            .filter(GreaterThan(F("pages"), 50))
            .values_list("title", flat=True)
        )
    ) == ["Alpha", "beta"]
    assert agree(
        lambda u: sorted(
            Novel.objects.using(u)
            .alias(low=Lower("title"))
            .filter(Q(low__startswith="b") | Q(low__contains="gam"))
            .values_list("title", flat=True)
        )
    ) == ["  Gamma ", "beta"]


def test_exclude_of_a_comparison_with_null_keeps_the_row(novels):
    # pages > rating is UNKNOWN where either is NULL: filter() drops such rows, and
    # exclude() keeps them (Django guards the negation with IS NOT NULL).
    assert agree(
        lambda u: sorted(
            Novel.objects.using(u).exclude(pages__gt=F("rating")).values_list("title", flat=True)
        )
    ) == ["  Gamma ", "beta"]
    assert agree(lambda u: Novel.objects.using(u).filter(pages__lt=F("rating")).count()) == 0


def test_filtered_by_expression_then_sliced_counted_and_deleted(novels):
    def run(u):
        qs = Novel.objects.using(u).alias(n=Length("title")).filter(n__lte=5)
        head = list(qs.order_by("-title").values_list("title", flat=True)[:1])
        return head, qs.count(), qs.exists(), qs.delete()[0], Novel.objects.using(u).count()

    assert agree(run) == (["delta"], 3, True, 3, 1)


def test_order_by_expressions_and_nulls_placement(novels):
    assert agree(lambda u: list(rows(u, "title", order=[Length("title").desc(), "title"]))) == [
        ("  Gamma ",),
        ("Alpha",),
        ("delta",),
        ("beta",),
    ]
    assert agree(
        lambda u: list(
            Novel.objects.using(u)
            .order_by(F("pages").desc(nulls_last=True))
            .values_list("pages", flat=True)
        )
    ) == [300, 100, 7, None]
    assert agree(
        lambda u: list(
            Novel.objects.using(u)
            .annotate(score=Coalesce("rating", Value(0.0)) * 10)
            .order_by("-score")
            .values_list("title", flat=True)[:2]
        )
    ) == ["delta", "Alpha"]


# -- update() ----------------------------------------------------------------------
def test_update_with_expressions(novels):
    def run(u):
        count = (
            Novel.objects.using(u)
            .filter(pages__isnull=False)
            .update(
                title=Upper("title"),
                pages=Case(When(pages__gt=50, then=F("pages") * 2), default=Value(0)),
            )
        )
        return count, list(rows(u, "title", "pages"))

    assert agree(run) == (
        3,
        [("  Gamma ", None), ("ALPHA", 200), ("BETA", 600), ("DELTA", 0)],
    )


def test_update_copies_one_field_into_another(novels):
    def run(u):
        Novel.objects.using(u).update(rating=Cast("pages", FloatField()))
        return list(rows(u, "rating"))

    assert agree(run) == [(None,), (100.0,), (300.0,), (7.0,)]


def test_update_recomputes_rows_another_writer_changed_in_between(novels, on_mongodb):
    """The write is guarded by the values read: a row changed in between is read
    again and its value computed from what it holds now, as SQL's UPDATE does
    (it is neither overwritten with a stale value nor skipped)."""
    store = connection.store
    original = store.fetch

    def fetch_then_concurrent_write(query):
        documents = list(original(query))
        store.fetch = original
        Novel.objects.filter(title="Alpha").update(pages=1)  # another writer, after our read
        return iter(documents)

    store.fetch = fetch_then_concurrent_write
    try:
        count = Novel.objects.filter(pages__isnull=False).update(pages=F("pages") + F("pages"))
    finally:
        store.fetch = original
    assert count == 3
    assert dict(Novel.objects.values_list("title", "pages")) == {
        "Alpha": 2,
        "beta": 600,
        "  Gamma ": None,
        "delta": 14,
    }


# -- limits and refusals ------------------------------------------------------------
def test_python_evaluation_is_bounded(novels, on_mongodb):
    features = connection.features
    features.max_rows_evaluated_in_python = 2
    try:
        with pytest.raises(NotSupportedError, match="more than 2 rows"):
            list(Novel.objects.alias(n=Length("title")).filter(n__gt=4))
        with pytest.raises(NotSupportedError, match="more than 2 rows"):
            list(Novel.objects.order_by(Lower("title")))
        # Filters the database runs narrow the rows first: within the bound.
        assert list(
            Novel.objects.filter(pages__gte=100)
            .alias(n=Length("title"))
            .filter(n__gt=4)
            .values_list("title", flat=True)
        ) == ["Alpha"]
    finally:
        del features.max_rows_evaluated_in_python


def test_annotation_reads_only_the_columns_it_needs(novels, on_mongodb):
    with CaptureQueriesContext(connection) as queries:
        values = list(Novel.objects.annotate(n=Length("title")).values_list("n", flat=True))
    assert sorted(values) == [4, 5, 5, 8]
    assert len(queries) == 1


# -- aggregates of expressions -----------------------------------------------------
def test_aggregate_of_expressions(novels):
    from django.db.models import Avg, Count, Sum

    result = agree(
        lambda u: Novel.objects.using(u).aggregate(
            weighted=Sum(F("pages") * 2),
            long=Count(Case(When(pages__gte=100, then=Value(1)))),
            mean=Avg(Coalesce("rating", Value(0.0))),
            short=Sum("pages", filter=Q(pages__lt=F("rating") * 10)),
            text=Sum(Length("title"), filter=Q(pages__isnull=False)),
        )
    )
    assert result == {"weighted": 814, "long": 2, "mean": 2.875, "short": 7, "text": 14}


def test_aggregates_of_expressions_in_grouped_queries(novels):
    from django.db.models import Sum

    grouped = Novel.objects.values("rating").annotate(s=Sum(F("pages") * 2)).order_by("rating")
    expected = {}
    for novel in Novel.objects.all():
        if novel.pages is not None:
            expected[novel.rating] = expected.get(novel.rating, 0) + novel.pages * 2
        else:
            expected.setdefault(novel.rating, None)
    assert {row["rating"]: row["s"] for row in grouped} == expected
    per_row = Novel.objects.annotate(s=Sum(F("pages") * 2)).order_by("pk")
    assert [n.s for n in per_row] == [
        None if n.pages is None else n.pages * 2 for n in Novel.objects.order_by("pk")
    ]


def test_case_when_a_json_key_holds_null():
    """``When(data__key=None)`` / ``Value(None, JSONField())`` tests for JSON null
    under the key (SQL's JSON_TYPE(...) = 'null'), not for a missing key."""
    cases = {"null": {"key": None}, "missing": {"other": 1}, "set": {"key": "x"}}
    for using in ALIASES:
        author = Author.objects.using(using).create(name="Ann")
        for title, data in cases.items():
            Book.objects.using(using).create(title=title, author=author, data=data)
    for rhs in (None, Value(None, JSONField())):
        labelled = agree(
            lambda using, rhs=rhs: dict(
                Book.objects.using(using)
                .annotate(holds_null=Case(When(data__key=rhs, then=True), default=False))
                .values_list("title", "holds_null")
            )
        )
        assert labelled == {"null": True, "missing": False, "set": False}
    absent = agree(
        lambda using: dict(
            Book.objects.using(using)
            .annotate(absent=Case(When(data__key__isnull=True, then=True), default=False))
            .values_list("title", "absent")
        )
    )
    assert absent == {"null": False, "missing": True, "set": False}  # as has_key
    replaced = {"key": "replaced"}
    for using in ALIASES:
        updated = Book.objects.using(using).update(
            data=Case(
                When(data__key=Value(None, JSONField()), then=Value(replaced, JSONField())),
                default=F("data"),
            )
        )
        assert updated == 3
    assert agree(lambda using: sorted(Book.objects.using(using).values_list("title", "data"))) == [
        ("missing", cases["missing"]),
        ("null", replaced),
        ("set", cases["set"]),
    ]
