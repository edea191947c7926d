"""Query shapes a mature backend runs: subqueries, expressions over related fields,
column comparisons, multi-valued relations inside OR/NOT.

Each query runs on the tier under test and on stock SQLite over the same rows;
both must agree (and the answer is checked against the data). On the nonrel
backends correlated subqueries run as queries of the backend per outer binding
or batched (django_nonrel.subqueries), and expressions reading related fields
join the related rows by key before evaluating (django_nonrel.expressions).
"""

import pytest
from django.db import connection
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Concat, Length, Lower, Upper

from tests.commands import CommandCapture
from tests.relations.models import Country, Label, Novel, Publisher, Writer

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])

ALIASES = ("default", "sqlite")


@pytest.fixture
def library():
    for using in ALIASES:
        fr, uk = (Country.objects.using(using).create(name=n) for n in ("France", "UK"))
        gallimard = Publisher.objects.using(using).create(name="Gallimard", country=fr)
        penguin = Publisher.objects.using(using).create(name="Penguin", country=uk)
        writers = Writer.objects.using(using)
        camus = writers.create(name="Camus", publisher=gallimard)
        sartre = writers.create(name="Sartre", publisher=gallimard, mentor=camus)
        woolf = writers.create(name="Woolf", publisher=penguin)
        writers.create(name="Orwell", publisher=penguin, mentor=woolf)
        labels = Label.objects.using(using)
        classic, short, modern = (labels.create(name=n) for n in ("classic", "short", "modern"))
        novels = Novel.objects.using(using)
        stranger = novels.create(title="The Stranger", pages=120, writer=camus)
        plague = novels.create(title="The Plague", pages=300, writer=camus)
        novels.create(title="Nausea", pages=250, writer=sartre)
        waves = novels.create(title="The Waves", pages=120, writer=woolf)
        stranger.labels.set([classic, short])
        plague.labels.set([classic])
        waves.labels.set([modern, short])


def agree(make):
    """``make(alias)`` on the tier under test, after checking stock SQLite agrees."""
    ours, sqlite = (make(using) for using in ALIASES)
    assert ours == sqlite, f"tier gives {ours!r}, SQLite gives {sqlite!r}"
    return ours


# -- Subquery and Exists -------------------------------------------------------------
def test_correlated_subquery_annotation(library):
    def longest(using):
        novels = Novel.objects.using(using).filter(writer=OuterRef("pk")).order_by("-pages")
        writers = Writer.objects.using(using).annotate(longest=Subquery(novels.values("title")[:1]))
        return list(writers.order_by("name").values_list("name", "longest"))

    assert agree(longest) == [
        ("Camus", "The Plague"),
        ("Orwell", None),
        ("Sartre", "Nausea"),
        ("Woolf", "The Waves"),
    ]


def test_correlated_subquery_runs_once_for_all_outer_rows(library, on_mongodb):
    """The usual shape (an equality to OuterRef at the top of the filter) is one
    query for every outer row, not one per row."""
    novels = Novel.objects.filter(writer=OuterRef("pk")).order_by("-pages")
    writers = Writer.objects.annotate(longest=Subquery(novels.values("pages")[:1]))
    with CommandCapture(connection) as queries:
        result = sorted(writers.values_list("name", "longest"))
    assert result == [("Camus", 300), ("Orwell", None), ("Sartre", 250), ("Woolf", 120)]
    assert len(queries) == 2


def test_subquery_correlated_inside_a_condition(library):
    """An outer reference inside a comparison (not an equality) runs per binding."""

    def next_longer(using):
        novels = Novel.objects.using(using)
        longer = novels.filter(pages__gt=OuterRef("pages")).order_by("pages", "title")
        annotated = novels.annotate(next_longer=Subquery(longer.values("title")[:1]))
        return list(annotated.order_by("title").values_list("title", "next_longer"))

    assert agree(next_longer) == [
        ("Nausea", "The Plague"),
        ("The Plague", None),
        ("The Stranger", "Nausea"),
        ("The Waves", "Nausea"),
    ]


def test_aggregate_subquery_per_outer_row(library):
    def pages(using):
        total = (
            Novel.objects.using(using)
            .filter(writer=OuterRef("pk"))
            .values("writer")
            .annotate(total=Sum("pages"))
            .values("total")
        )
        writers = Writer.objects.using(using).annotate(pages=Coalesce(Subquery(total), 0))
        return list(writers.order_by("name").values_list("name", "pages"))

    assert agree(pages) == [("Camus", 420), ("Orwell", 0), ("Sartre", 250), ("Woolf", 120)]


def test_grouped_values_after_a_condition_on_joined_rows_collapse_repeats(library):
    """A subquery correlated through a multi-valued relation is evaluated once per
    joined row; the GROUP BY (here of values() without the key) gives each row once."""

    def grouped(using):
        same_length = Novel.objects.using(using).filter(pages=OuterRef("writer__novels__pages"))
        novels = (
            Novel.objects.using(using)
            .annotate(twin=Subquery(same_length.order_by("pk").values("pk")[:1]))
            .filter(twin__isnull=False)
            .annotate(shortest=Min("writer__novels__pages"))
            .values("title", "shortest")
            .order_by("title")
        )
        return list(novels)

    assert agree(grouped) == [
        {"title": "Nausea", "shortest": 250},
        {"title": "The Plague", "shortest": 120},
        {"title": "The Stranger", "shortest": 120},
        {"title": "The Waves", "shortest": 120},
    ]


def test_exists_in_filters_and_annotations(library):
    def writing(using):
        long_novels = Novel.objects.using(using).filter(writer=OuterRef("pk"), pages__gt=200)
        writers = Writer.objects.using(using)
        return (
            sorted(writers.filter(Exists(long_novels)).values_list("name", flat=True)),
            sorted(writers.filter(~Exists(long_novels)).values_list("name", flat=True)),
            sorted(writers.annotate(long=Exists(long_novels)).values_list("name", "long")),
        )

    assert agree(writing) == (
        ["Camus", "Sartre"],
        ["Orwell", "Woolf"],
        [("Camus", True), ("Orwell", False), ("Sartre", True), ("Woolf", False)],
    )


def test_exists_correlated_on_two_equalities(library):
    def mentors_at_home(using):
        writers = Writer.objects.using(using)
        pupil_here = writers.filter(mentor=OuterRef("pk"), publisher=OuterRef("publisher"))
        return sorted(writers.filter(Exists(pupil_here)).values_list("name", flat=True))

    assert agree(mentors_at_home) == ["Camus", "Woolf"]


def test_exists_correlated_through_a_join(library):
    """A correlation on a joined model's column is evaluated per outer row."""

    def labelled(using):
        same_writer = Novel.objects.using(using).filter(
            writer__publisher=OuterRef("writer__publisher"), labels__name="modern"
        )
        novels = Novel.objects.using(using).filter(Exists(same_writer))
        return sorted(novels.values_list("title", flat=True))

    assert agree(labelled) == ["The Waves"]


def test_exclude_across_a_multi_valued_relation_compared_with_an_outer_field(library):
    """Django runs these as NOT EXISTS over the related (or through) table, correlated
    with the outer row's fields (its subquery starts at the joined table)."""

    def excluded(using):
        woolf = Writer.objects.using(using).get(name="Woolf")
        diary = Novel.objects.using(using).create(title="Woolf's diary", writer=woolf)
        diary.labels.add(Label.objects.using(using).create(name="Woolf's diary, vol. 1"))
        writers = Writer.objects.using(using).exclude(novels__title__contains=F("name"))
        novels = Novel.objects.using(using).exclude(labels__name__startswith=F("title"))
        return (
            sorted(writers.values_list("name", flat=True)),
            sorted(novels.values_list("title", flat=True)),
        )

    assert agree(excluded) == (
        ["Camus", "Orwell", "Sartre"],
        ["Nausea", "The Plague", "The Stranger", "The Waves"],
    )


def test_uncorrelated_subqueries(library):
    def shapes(using):
        writers = Writer.objects.using(using).filter(name__startswith="S").values("pk")
        novels = Novel.objects.using(using)
        return (
            sorted(novels.filter(writer__in=Subquery(writers)).values_list("title", flat=True)),
            sorted(novels.filter(writer=Subquery(writers[:1])).values_list("title", flat=True)),
            novels.filter(Exists(Label.objects.using(using).filter(name="modern"))).count(),
        )

    assert agree(shapes) == (["Nausea"], ["Nausea"], 4)


def test_a_queryset_with_an_outer_reference_alone_is_refused_as_in_django(library):
    with pytest.raises(ValueError, match="reference to an outer query"):
        list(Novel.objects.filter(writer=OuterRef("pk")))


# -- expressions over related fields -------------------------------------------------
def test_expressions_over_related_fields(library):
    def shapes(using):
        novels = Novel.objects.using(using)
        annotated = novels.annotate(
            by=Concat(Upper("writer__name"), Value(" / "), "writer__publisher__name")
        )
        return (
            sorted(annotated.values_list("title", "by")),
            list(novels.order_by(Lower("writer__name").desc(), "title").values_list("title")),
            sorted(novels.values_list(Length("writer__name"), flat=True)),
        )

    by, ordered, lengths = agree(shapes)
    assert ("Nausea", "SARTRE / Gallimard") in by
    assert ordered[0] == ("The Waves",)
    assert lengths == [5, 5, 5, 6]


def test_expression_over_a_nullable_relation_is_null_without_a_row(library):
    def mentors(using):
        writers = Writer.objects.using(using).annotate(
            m=Coalesce(Upper("mentor__name"), Value("-"))
        )
        return sorted(writers.values_list("name", "m"))

    assert agree(mentors) == [
        ("Camus", "-"),
        ("Orwell", "WOOLF"),
        ("Sartre", "CAMUS"),
        ("Woolf", "-"),
    ]


def test_column_comparisons_in_filters(library):
    def compared(using):
        writers = Writer.objects.using(using)
        novels = Novel.objects.using(using)
        return (
            sorted(writers.filter(mentor__name__lt=F("name")).values_list("name", flat=True)),
            sorted(writers.filter(name__gt=F("publisher__name")).values_list("name", flat=True)),
            sorted(novels.filter(pages__lt=Length("title") * 20).values_list("title", flat=True)),
            sorted(
                novels.exclude(title__startswith=F("writer__name")).values_list("title", flat=True)
            ),
        )

    assert agree(compared) == (
        ["Sartre"],
        ["Sartre", "Woolf"],
        ["The Stranger", "The Waves"],
        ["Nausea", "The Plague", "The Stranger", "The Waves"],
    )


def test_aggregates_of_expressions_over_related_fields(library):
    def totals(using):
        return Novel.objects.using(using).aggregate(
            letters=Sum(Length("writer__name")),
            most=Max(Coalesce("writer__mentor__name", Value(""))),
            gallimard=Count("pk", filter=Q(writer__publisher__name="Gallimard")),
        )

    assert agree(totals) == {"letters": 21, "most": "Camus", "gallimard": 3}


# -- multi-valued relations inside OR / NOT ----------------------------------------
def test_many_to_many_span_inside_or_and_not(library):
    def shapes(using):
        novels = Novel.objects.using(using)
        either = novels.filter(Q(labels__name__in=["classic", "short"]) | Q(pages=250))
        return (
            sorted(either.values_list("title", flat=True)),
            either.count(),
            sorted(either.distinct().values_list("title", flat=True)),
            sorted(novels.exclude(~Q(labels__name="short")).values_list("title", flat=True)),
        )

    assert agree(shapes) == (
        ["Nausea", "The Plague", "The Stranger", "The Stranger", "The Waves"],
        5,
        ["Nausea", "The Plague", "The Stranger", "The Waves"],
        ["The Stranger", "The Waves"],
    )


# -- XOR -----------------------------------------------------------------------------
def test_xor_of_q_objects(library):
    """An odd number of TRUE children, as Django writes XOR for SQLite and PostgreSQL
    (a comparison with NULL counts as not TRUE)."""

    def shapes(using):
        novels = Novel.objects.using(using)
        writers = Writer.objects.using(using)
        two = Q(pages=120) ^ Q(writer__name="Camus")
        three = Q(pages__gt=100) ^ Q(labels__name="short") ^ Q(title__startswith="The")
        return (
            sorted(novels.filter(two).values_list("title", flat=True)),
            sorted(novels.exclude(two).values_list("title", flat=True)),
            sorted(novels.filter(three).values_list("title", flat=True)),
            novels.filter(two).count(),
            sorted(writers.filter(Q(mentor__name="Camus") ^ Q(name="Woolf")).values_list("name")),
            sorted(writers.filter(Q(mentor__name__gt="A") ^ Q(name="Camus")).values_list("name")),
            novels.filter(Q(pages=120) ^ Q(pages=300), title__contains="e").update(pages=1),
        )

    if connection.features.supports_logical_xor:
        # MySQL's own XOR (Django's mysql backend, unchanged by the overlay): NULL XOR x
        # is NULL, so rows whose conditions meet a NULL (no label, no mentor) drop out.
        assert shapes("default") == (
            ["The Plague", "The Waves"],
            ["Nausea", "The Stranger"],
            ["The Stranger", "The Waves"],
            2,
            [("Sartre",)],
            [("Orwell",), ("Sartre",)],
            3,
        )
        return
    assert agree(shapes) == (
        ["The Plague", "The Waves"],
        ["Nausea", "The Stranger"],
        ["Nausea", "The Stranger", "The Waves"],
        2,
        [("Sartre",), ("Woolf",)],
        [("Camus",), ("Orwell",), ("Sartre",)],
        3,
    )


def test_xor_in_exists_and_aggregate_filters(library):
    def shapes(using):
        novels = Novel.objects.using(using)
        inner = novels.filter(Q(pages=120) ^ Q(pages__gt=200), writer=OuterRef("pk"))
        return (
            sorted(Writer.objects.using(using).filter(Exists(inner)).values_list("name")),
            novels.aggregate(n=Count("pk", filter=Q(pages=120) ^ Q(writer__name="Camus"))),
        )

    assert agree(shapes) == ([("Camus",), ("Sartre",), ("Woolf",)], {"n": 2})


# -- ordering across multi-valued relations ----------------------------------------
def test_ordering_by_a_reverse_or_many_to_many_relation_repeats_rows_as_a_join(library):
    """A row comes once per related row (none: once, with NULL), sorted by it."""

    def shapes(using):
        writers = Writer.objects.using(using)
        novels = Novel.objects.using(using)
        labels = Label.objects.using(using)
        return (
            list(writers.order_by("novels__pages", "name").values_list("name", flat=True)),
            list(writers.order_by("-novels__title").values_list("name", flat=True)),
            list(novels.order_by("labels__name", "title").values_list("title", "labels__name")),
            list(labels.order_by("-novels__pages", "name").values_list("name", flat=True)),
            [w.name for w in writers.order_by("pupils__name", "name")[1:4]],
            [
                w.name
                for w in writers.order_by(
                    "novels__writer__publisher__name", "name", "novels__pages"
                )
            ],
        )

    by_pages, by_title, by_label, labels, sliced, deep = agree(shapes)
    assert by_pages == ["Orwell", "Camus", "Woolf", "Sartre", "Camus"]
    assert by_title == ["Woolf", "Camus", "Camus", "Sartre", "Orwell"]
    assert by_label[:2] == [("Nausea", None), ("The Plague", "classic")]
    assert labels == ["classic", "classic", "modern", "short", "short"]
    assert len(sliced) == 3
    assert deep == ["Orwell", "Camus", "Camus", "Sartre", "Woolf"]


def test_ordering_by_a_through_tables_key_keeps_insertion_order(library):
    """As tag managers order a relation by the through table's key."""
    from tests.relations.models import Club, Membership

    def members(using):
        writers = Writer.objects.using(using)
        club = Club.objects.using(using).create(name="club")
        for name in ("Woolf", "Camus", "Sartre"):
            Membership.objects.using(using).create(club=club, writer=writers.get(name=name))
        return (
            list(club.members.order_by("membership__id").values_list("name", flat=True)),
            list(club.members.order_by("-membership").values_list("name", flat=True)),
        )

    assert agree(members) == (["Woolf", "Camus", "Sartre"], ["Sartre", "Camus", "Woolf"])


def test_ordering_by_a_reverse_relation_uses_its_models_meta_ordering(library):
    from tests.relations.models import Place

    def countries(using):
        france = Country.objects.using(using).get(name="France")
        uk = Country.objects.using(using).get(name="UK")
        for name, country in (("b", france), ("c", uk), ("a", uk)):
            Place.objects.using(using).create(name=name, city="x", country=country)
        ordered = Country.objects.using(using).order_by("-places", "name")
        return list(ordered.values_list("name", flat=True))

    assert agree(countries) == ["UK", "France", "UK"]


def test_ordering_across_a_forward_relation_with_an_expression(library):
    def ordered(using):
        novels = Novel.objects.using(using)
        return list(
            novels.order_by(Length("title").desc(), "writer__name").values_list("title", flat=True)
        )

    assert agree(ordered) == ["The Stranger", "The Plague", "The Waves", "Nausea"]


def test_an_annotation_over_a_reverse_relation_next_to_aggregates_groups_by_it(library):
    """SQL groups by the annotation's value per related row, splitting a row's
    aggregates (Camus twice: one group per value of long); so does the grouped read."""
    from django.db.models import Case, When

    def writers(using):
        return (
            Writer.objects.using(using)
            .annotate(
                pages=Sum("novels__pages"),
                long=Case(When(novels__pages__gt=200, then=Value(True)), default=Value(False)),
            )
            .order_by("name", "long")
        )

    assert agree(lambda u: writers(u).count()) == 5
    assert len(agree(lambda u: [(w.name, w.pages, w.long) for w in writers(u)])) == 5


# -- lookups on date parts ----------------------------------------------------------
def test_text_and_list_lookups_on_date_parts(library):
    """SQL runs ``year__iexact``/``year__startswith`` on the part's text and
    ``month__in`` as a list; the store filters compare parts only, so these are
    evaluated in Python on the rows matching the rest of the filter."""
    import datetime

    from tests.orm.models import Author

    def parts(using):
        authors = Author.objects.using(using)
        authors.create(name="a", born=datetime.date(1990, 5, 3))
        authors.create(name="b", born=datetime.date(1991, 7, 3))
        authors.create(name="c", born=None)

        def names(**lookup):
            return sorted(authors.filter(**lookup).values_list("name", flat=True))

        return (
            names(born__year__iexact="1990"),
            names(born__year__startswith="199"),
            names(born__year__contains="91"),
            names(born__month__in=[7, 8]),
            names(born__day__range=(1, 5), born__month__gte=6),
            sorted(authors.exclude(born__year__endswith="0").values_list("name", flat=True)),
            authors.filter(born__month__in=[5]).count(),
        )

    assert agree(parts) == (["a"], ["a", "b"], ["b"], ["b"], ["b"], ["b", "c"], 1)
