"""QuerySet.union(), intersection() and difference(): what a user relies on.

Each combination runs on the tier under test and on stock SQLite over the same
rows (the library of ``tests.test_query_shapes``); both must agree, and the
answer is checked against the data. On the MongoDB backend each queryset is an
ordinary read and the rows are combined on the client
(django_nonrel.combined_reads): duplicate rows removed unless
``all=True``, set operations on whole rows, then the combination's ordering,
slice and count. Shapes Django itself refuses are refused with Django's
messages on every tier.
"""

import pytest
from django.db import DatabaseError, NotSupportedError, connection
from django.db.models import Exists, F, OuterRef, Subquery, Sum, Value

from tests.commands import CommandCapture
from tests.orm.models import Author, Book
from tests.relations.models import Label, Novel, Writer
from tests.test_query_shapes import agree, library  # noqa: F401 -- the rows used here

pytestmark = [
    pytest.mark.django_db(databases=["default", "sqlite"]),
    pytest.mark.usefixtures("library"),
]


def needs(feature):
    if not getattr(connection.features, feature):
        pytest.skip(f"{connection.vendor} has no {feature}")


def novels(using):
    return Novel.objects.using(using).order_by()


def test_union_removes_duplicate_rows_unless_all():
    def pages(using, **kwargs):
        short = novels(using).filter(pages__lt=200).values_list("pages", flat=True)
        long = novels(using).filter(pages__gte=120).values_list("pages", flat=True)
        return sorted(short.union(long, **kwargs))

    assert agree(pages) == [120, 250, 300]
    assert agree(lambda using: pages(using, all=True)) == [120, 120, 120, 120, 250, 300]


def test_union_of_model_instances_ordered_and_sliced():
    def titles(using):
        camus = novels(using).filter(writer__name="Camus")
        short = novels(using).filter(pages__lt=200)
        union = camus.union(short)
        return (
            [n.title for n in union.order_by("-pages", "title")],
            [n.title for n in union.order_by("title")[1:3]],
            union.order_by("title")[0].title,
            union.count(),
        )

    assert agree(titles) == (
        ["The Plague", "The Stranger", "The Waves"],
        ["The Stranger", "The Waves"],
        "The Plague",
        3,
    )


def test_instances_have_their_fields_and_annotations():
    def loaded(using):
        first = novels(using).filter(pages=300).annotate(kind=Value("long"))
        second = novels(using).filter(pages=250).annotate(kind=Value("mid"))
        return [
            (n.title, n.pages, n.writer.name, n.kind) for n in first.union(second).order_by("pages")
        ]

    assert agree(loaded) == [("Nausea", 250, "Sartre", "mid"), ("The Plague", 300, "Camus", "long")]


def test_columns_are_matched_by_position_across_models():
    def names(using):
        writers = Writer.objects.using(using).values_list("name", flat=True)
        labels = Label.objects.using(using).values_list("name")
        titles = novels(using).filter(pages=120).values_list("title")
        authors = novels(using).values_list("writer__name")
        return (
            sorted(writers.union(labels)),
            sorted(writers.union(labels, titles, all=True)),
            len(writers.union(authors)),
            len(writers.union(authors, all=True)),
        )

    assert agree(names) == (
        ["Camus", "Orwell", "Sartre", "Woolf", "classic", "modern", "short"],
        ["Camus", "Orwell", "Sartre", "The Stranger", "The Waves", "Woolf"]
        + ["classic", "modern", "short"],
        4,
        8,
    )


def test_values_after_union_names_the_first_querysets_columns():
    def rows(using):
        first = novels(using).filter(pages=300).values(size=F("pages"), name=F("title"))
        second = Writer.objects.using(using).filter(name="Woolf").values(n=Value(1), w=F("name"))
        return list(first.union(second).order_by("size"))

    assert agree(rows) == [{"size": 1, "name": "Woolf"}, {"size": 300, "name": "The Plague"}]


def test_ordering_by_a_column_none_of_them_selects():
    """Each queryset computes what the combination is ordered by, as Django's
    compiler adds the column to each."""

    def titles(using):
        union = novels(using).filter(pages=120).union(novels(using).filter(pages=300))
        return list(union.order_by("-writer__name", "pk").values_list("title", flat=True))

    assert agree(titles) == ["The Waves", "The Stranger", "The Plague"]


def test_intersection_and_difference_on_whole_rows():
    needs("supports_select_intersection")
    needs("supports_select_difference")

    def sets(using):
        camus = novels(using).filter(writer__name="Camus").values_list("pages", flat=True)
        short = novels(using).filter(pages__lt=200).values_list("pages", flat=True)
        return (
            sorted(camus.intersection(short)),
            sorted(camus.difference(short)),
            sorted(short.difference(camus)),
            camus.intersection(short).count(),
            short.difference(camus).exists(),
            novels(using).difference(novels(using)).exists(),
        )

    assert agree(sets) == ([120], [300], [], 1, False, False)


def test_combinations_of_combinations():
    needs("supports_select_intersection")
    needs("supports_select_difference")

    def titles(using):
        every = novels(using)
        camus_or_short = every.filter(writer__name="Camus").union(every.filter(pages__lt=200))
        long = every.filter(pages__gt=200)
        return (
            sorted(n.title for n in camus_or_short.intersection(long)),
            every.difference(camus_or_short).get().title,
        )

    assert agree(titles) == (["The Plague"], "Nausea")


def test_union_in_a_filter_and_a_correlated_subquery():
    def rows(using):
        every = novels(using)
        keys = every.filter(pages=300).union(every.filter(pages=250)).values("pk")
        inner = novels(using).filter(writer=OuterRef("pk"))
        first = inner.filter(pages__gt=200).union(inner.filter(pages__lt=200)).values("title")
        writers = Writer.objects.using(using).annotate(a=Subquery(first.order_by("title")[:1]))
        return (
            sorted(every.exclude(pk__in=keys).values_list("title", flat=True)),
            sorted(writers.values_list("name", "a")),
        )

    assert agree(rows) == (
        ["The Stranger", "The Waves"],
        [("Camus", "The Plague"), ("Orwell", None), ("Sartre", "Nausea"), ("Woolf", "The Waves")],
    )


def test_a_combined_queryset_reading_an_outer_queries_outer_column():
    """The second queryset's ``OuterRef(OuterRef())`` is bound like the first's
    (Django's get_external_cols() reads the first combined queryset only)."""

    def names(using):
        Label.objects.using(using).create(name="Sartre")
        labels = Label.objects.using(using).order_by()
        either = labels.filter(name=OuterRef("title")).union(
            labels.filter(name=OuterRef(OuterRef("name")))
        )
        novels_of = Novel.objects.using(using).filter(Exists(either), writer=OuterRef("pk"))
        return sorted(
            Writer.objects.using(using).filter(Exists(novels_of)).values_list("name", flat=True)
        )

    assert agree(names) == ["Sartre"]


def test_refusals_keep_djangos_messages():
    union = novels("default").union(novels("default"))
    with pytest.raises(NotSupportedError, match=r"Calling QuerySet.filter\(\) after union\(\)"):
        union.filter(pages=1)
    with pytest.raises(NotSupportedError, match=r"Calling QuerySet.get\(...\) with filters"):
        union.get(pages=1)
    values = novels("default").values("title")
    with pytest.raises(DatabaseError, match="ORDER BY term does not match any column"):
        list(values.union(values).order_by("pages"))


def test_reads_evaluated_in_python_are_bounded(on_mongodb, monkeypatch):
    monkeypatch.setattr(connection.features, "max_rows_evaluated_in_python", 3)
    union = novels("default").filter(pages__lt=200).union(novels("default").filter(pages__gt=200))
    with pytest.raises(NotSupportedError, match=r"QuerySet.union\(\) over more than 3 rows"):
        list(union)
    assert union.exists()
    monkeypatch.setattr(connection.features, "max_rows_evaluated_in_python", 4)
    assert len(union) == 4


def test_aggregates_other_than_a_count_are_refused(on_mongodb):
    """Django's compiler selects the aggregated column on the combination only
    (SQLite then fails); here the refusal says what to do instead."""
    union = novels("default").filter(pages__lt=200).union(novels("default").filter(pages=300))
    assert union.count() == 3
    with pytest.raises(NotSupportedError, match=r"aggregate\(\) over the columns of a union"):
        union.aggregate(Sum("pages"))


def test_exists_of_a_union_stops_at_the_first_queryset_with_a_row(on_mongodb):
    every = novels("default")
    union = every.filter(pages=300).union(every.filter(pages=250), every.filter(pages=1))
    with CommandCapture(connection) as commands:
        assert union.exists()
    assert len(commands) == 1
    assert not every.filter(pages=1).union(every.filter(pages=2)).exists()


def test_rows_with_document_values_are_compared_by_content(on_mongodb):
    needs("supports_select_intersection")
    author = Author.objects.create(name="Calvino")
    for title, data in (("If", {"tags": ["a", "b"]}), ("Cosmicomics", {"tags": ["c"]})):
        Book.objects.create(title=title, author=author, data=data)
    books = Book.objects.order_by()
    tagged = books.filter(title="If").values_list("data", flat=True)
    every = books.values_list("data", flat=True)
    assert list(every.intersection(tagged)) == [{"tags": ["a", "b"]}]
    assert list(every.difference(tagged)) == [{"tags": ["c"]}]
    assert sorted(map(str, every.union(tagged))) == ["{'tags': ['a', 'b']}", "{'tags': ['c']}"]


def test_the_description_shows_each_querysets_command(on_mongodb):
    every = novels("default")
    union = every.filter(pages=300).union(every.filter(pages=250), all=True)
    description = str(union.query)
    assert description.count("find(") == 2 and "300" in description and "250" in description
    assert " UNION ALL " in description
