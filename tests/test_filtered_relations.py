"""FilteredRelation(): a relation joined under a condition, on every tier.

SQL puts the condition in the join's ON clause: it decides which related rows
the join finds, so filters, values() and aggregates across the alias see only
those. The nonrel backends follow relations by key lookups and add the
condition to the lookup of the joined rows. Stock SQLite answers the same
queries over the same rows.
"""

import pytest
from django.db import NotSupportedError
from django.db.models import Count, F, FilteredRelation, Q, Sum

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


def test_select_related_of_a_filtered_relation_is_refused(library, on_mongodb):
    queryset = Book.objects.annotate(
        writer=FilteredRelation("author", condition=Q(author__name="Ann"))
    ).select_related("writer")
    with pytest.raises(NotSupportedError, match="select_related"):
        list(queryset)
