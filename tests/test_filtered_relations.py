"""FilteredRelation(): a relation joined under a condition, on every tier.

SQL puts the condition in the join's ON clause: it decides which related rows
the join finds, so filters, values() and aggregates across the alias see only
those. The nonrel backends follow relations by key lookups and add the
condition to the lookup of the joined rows. Stock SQLite answers the same
queries over the same rows.
"""

import pytest
from django.db import NotSupportedError, connections
from django.db.models import Count, F, FilteredRelation, Q, Sum
from django.test.utils import CaptureQueriesContext

from tests.orm.models import Author, Book
from tests.test_expressions import ALIASES, agree

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])

BOOKS = {"Ann": [("Alpha", 120), ("Beta", 40)], "Bob": [("Gamma", 30)], "Cy": []}


@pytest.fixture
def library():
    for using in ALIASES:
        for name, books in BOOKS.items():
            author = Author.objects.using(using).create(name=name)
            for title, pages in books:
                Book.objects.using(using).create(title=title, author=author, pages=pages)


def long_books(using):
    return Author.objects.using(using).annotate(
        long_books=FilteredRelation("books", condition=Q(books__pages__gte=100))
    )


def test_filter_across_a_filtered_relation(library):
    def names(using):
        return sorted(
            long_books(using).filter(long_books__title__endswith="a").values_list("name", flat=True)
        )

    assert agree(names) == ["Ann"]  # Beta ends with "a" too, but is not a long book


def test_isnull_on_a_filtered_relation(library):
    def without(using):
        return sorted(
            long_books(using).filter(long_books__isnull=True).values_list("name", flat=True)
        )

    assert agree(without) == ["Bob", "Cy"]


def test_values_through_a_filtered_relation(library):
    def rows(using):
        return sorted(long_books(using).values_list("name", "long_books__title"), key=str)

    assert agree(rows) == [("Ann", "Alpha"), ("Bob", None), ("Cy", None)]


def test_aggregates_over_a_filtered_relation(library):
    def counted(using):
        return sorted(
            long_books(using)
            .annotate(count=Count("long_books"), pages=Sum("long_books__pages"))
            .values_list("name", "count", "pages")
        )

    assert agree(counted) == [("Ann", 1, 120), ("Bob", 0, None), ("Cy", 0, None)]


def test_grouped_by_a_field_across_a_filtered_relation(library):
    def groups(using):
        grouped = long_books(using).values("long_books__title").annotate(n=Count("pk"))
        return sorted(grouped.values_list("long_books__title", "n"), key=str)

    assert agree(groups) == [("Alpha", 1), (None, 2)]


def test_ordering_across_a_filtered_relation_is_refused(library, on_mongodb):
    with pytest.raises(NotSupportedError, match="Ordering across the FilteredRelation"):
        list(long_books("default").order_by("long_books__pages"))


def test_condition_between_two_tables_is_refused(library, on_mongodb):
    queryset = Author.objects.annotate(
        named=FilteredRelation("books", condition=Q(books__title=F("name")))
    ).filter(named__pages__gte=1)
    with pytest.raises(NotSupportedError, match="reads fields of a table other than"):
        list(queryset)


def loaded(queryset, *paths):
    """Per object of ``queryset``, the name of each object along ``paths`` (attribute
    chains; None where the join found none: Django then sets no attribute), with
    the number of queries reading them took (select_related() loads them all)."""

    def name(obj):
        return None if obj is None else getattr(obj, "title", None) or obj.name

    with CaptureQueriesContext(connections[queryset.db]) as ctx:
        result = []
        for obj in queryset:
            names = [name(obj)]
            for path in paths:
                related = obj
                for attribute in path.split("."):
                    related = getattr(related, attribute, None)
                names.append(name(related))
            result.append(tuple(names))
    return sorted(result, key=str), len(ctx.captured_queries)


def test_select_related_of_a_filtered_relation(library):
    """The object the condition finds; the author key is NOT NULL, so the join is
    INNER and drops the books it finds nothing for, as on SQL."""

    def books(using):
        queryset = Book.objects.using(using).annotate(
            writer=FilteredRelation("author", condition=Q(author__name="Ann"))
        )
        return loaded(queryset.select_related("writer"), "writer")

    assert agree(books) == ([("Alpha", "Ann"), ("Beta", "Ann")], 1)


def test_select_related_of_a_filtered_reverse_relation(library):
    """A reverse foreign key repeats the row per related row (None: no match, LEFT
    OUTER); the related object caches the row it was selected from."""

    def authors(using):
        return loaded(
            long_books(using).select_related("long_books"), "long_books", "long_books.author"
        )

    assert agree(authors) == ([("Ann", "Alpha", "Ann"), ("Bob", None, None), ("Cy", None, None)], 1)

    def every_book(using):
        queryset = Author.objects.using(using).annotate(written=FilteredRelation("books"))
        return loaded(queryset.select_related("written"), "written")

    assert agree(every_book) == (
        [("Ann", "Alpha"), ("Ann", "Beta"), ("Bob", "Gamma"), ("Cy", None)],
        1,
    )


def test_select_related_of_a_multilevel_filtered_relation(library):
    """Over several relations, with relations selected below it (back to the
    queried model: a cycle)."""

    def books(using):
        queryset = Book.objects.using(using).annotate(
            short=FilteredRelation("author__books", condition=Q(author__books__pages__lt=100))
        )
        return loaded(queryset.select_related("short", "short__author"), "short", "short.author")

    assert agree(books) == (
        [("Alpha", "Beta", "Ann"), ("Beta", "Beta", "Ann"), ("Gamma", "Gamma", "Bob")],
        1,
    )


def test_select_related_of_filtered_relations_next_to_a_relation(library):
    def books(using):
        queryset = Book.objects.using(using).annotate(
            long=FilteredRelation("author__books", condition=Q(author__books__pages__gte=100)),
        )
        return loaded(queryset.select_related("author", "long"), "author", "long")

    assert agree(books) == (
        [("Alpha", "Ann", "Alpha"), ("Beta", "Ann", "Alpha"), ("Gamma", "Bob", None)],
        1,
    )
