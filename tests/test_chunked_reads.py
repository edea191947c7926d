"""``QuerySet.iterator(chunk_size=N)``: the rows come in batches of N, on every tier.

On SQL the compiler fetches a cursor's rows N at a time; on MongoDB the
``find`` command is sent with ``batchSize`` N and its documents fetched N at a
time, all before the first row is used, so a loop that writes the rows it
iterates meets each row once (an open MongoDB cursor is not a snapshot).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.orm.models import Author

pytestmark = pytest.mark.django_db


@pytest.fixture
def authors():
    return [Author.objects.create(name=f"a{i:02}", age=i) for i in range(7)]


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 50])
def test_iterator_returns_every_row_once_in_order(authors, chunk_size):
    rows = list(Author.objects.order_by("age").iterator(chunk_size=chunk_size))
    assert rows == authors
    values = list(Author.objects.order_by("age").values_list("age", flat=True).iterator(2))
    assert values == list(range(7))


def test_a_loop_that_moves_the_rows_it_iterates_meets_each_once(authors):
    seen = []
    for author in Author.objects.order_by("age").iterator(chunk_size=2):
        seen.append(author.pk)
        Author.objects.filter(pk=author.pk).update(age=author.age + 100)
    assert sorted(seen) == sorted(a.pk for a in authors)
    assert len(seen) == len(authors)


def test_the_find_carries_the_chunk_size(authors, on_mongodb):
    with CaptureQueriesContext(connection) as captured:
        list(Author.objects.iterator(chunk_size=3))
        list(Author.objects.all())
    chunked, whole = (entry["sql"] for entry in captured.captured_queries)
    assert chunked.endswith(".batchSize(3)"), chunked
    assert "batchSize" not in whole
