"""order_by("?") on every tier: the rows the query returns, in a random order.

On the nonrel backends the matching rows are shuffled in Python (a random key
per row), keys before "?" still sort, and grouped querysets shuffle whole groups.
"""

import pytest
from django.db.models import Count

from tests.agg.models import Genre
from tests.test_aggregation import library, novels, publishers  # noqa: F401 -- fixture

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])


def test_random_ordering_returns_every_row_once(library):  # noqa: F811
    shuffled = list(novels("default").order_by("?").values_list("title", flat=True))
    assert sorted(shuffled) == ["Alpha", "Beta", "Delta", "Gamma", "Omega"]
    first_two = list(novels("default").order_by("?")[:2])
    assert len({novel.pk for novel in first_two}) == 2
    assert novels("default").order_by("?").count() == 5


def test_random_ordering_changes_the_order_between_reads(db):
    Genre.objects.bulk_create(Genre(name=f"g{i:02}", weight=i) for i in range(30))
    orders = {tuple(Genre.objects.order_by("?").values_list("weight", flat=True)) for _ in range(6)}
    assert all(sorted(order) == list(range(30)) for order in orders)
    assert len(orders) > 1  # 30 rows: the same order six times is a 1 in (30!)^5 event


def test_keys_before_random_still_sort(library):  # noqa: F811
    countries = list(publishers("default").order_by("country", "?").values_list("country", "name"))
    assert [country for country, _ in countries] == ["FR", "UK", "UK"]
    assert sorted(name for _, name in countries) == ["Acme", "Blue", "Cove"]


def test_grouped_querysets_shuffle_whole_groups(library):  # noqa: F811
    per_novel = novels("default").annotate(n=Count("genres")).order_by("?")
    assert {novel.title: novel.n for novel in per_novel} == {
        "Alpha": 2,
        "Beta": 1,
        "Gamma": 0,
        "Delta": 3,
        "Omega": 1,
    }
    per_publisher = (
        novels("default").values("publisher__name").annotate(c=Count("id")).order_by("?")
    )
    assert sorted((row["publisher__name"] or "", row["c"]) for row in per_publisher) == [
        ("", 1),
        ("Acme", 3),
        ("Blue", 1),
    ]
    assert per_publisher.count() == 3
