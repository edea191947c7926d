"""BookmarkPaginator: every row once, in order, at a cost independent of the page number."""

import datetime
from decimal import Decimal

import pytest
from django.db import NotSupportedError, connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from django_nonrel.pagination import BookmarkPaginator, InvalidBookmark
from tests.conc.models import Entry
from tests.orm.models import Author, Book

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries():
    """60 rows over 3 groups, with repeated scores and NULL scores: many ties."""
    rows = [
        Entry(group=i % 3, score=None if i % 7 == 0 else i % 5, title=f"e{i:02d}")
        for i in range(60)
    ]
    return Entry.objects.bulk_create(rows)


def walk(paginator):
    """Every page from the first until has_next is False."""
    pages, bookmark = [], None
    while True:
        page = paginator.page(bookmark)
        pages.append(page)
        if not page.has_next:
            return pages
        bookmark = page.next_bookmark


def pks(rows):
    return [row.pk if hasattr(row, "pk") else row["id"] for row in rows]


@pytest.mark.parametrize(
    "ordering",
    [
        (),  # Meta.ordering: group, -score (nullable)
        ("-group", "score", "title"),
        ("score",),
        ("-score", "-title"),
        ("title",),
        ("-pk",),
    ],
)
def test_walking_the_pages_yields_every_row_once_in_order(entries, ordering):
    queryset = Entry.objects.order_by(*ordering) if ordering else Entry.objects.all()
    expected = pks(queryset.order_by(*(ordering or ("group", "-score")), "pk"))
    if ordering == ("-pk",):
        expected = pks(queryset)
    pages = walk(BookmarkPaginator(queryset, per_page=7))
    seen = [pk for page in pages for pk in pks(page.object_list)]
    assert seen == expected and len(set(seen)) == 60
    assert [len(page) for page in pages] == [7] * 8 + [4]
    assert not pages[0].has_previous and all(page.has_previous for page in pages[1:])


def test_previous_bookmarks_walk_back(entries):
    paginator = BookmarkPaginator(Entry.objects.filter(group__in=[0, 1]), per_page=6)
    forward = walk(paginator)
    page = forward[-1]
    backward = [page]
    while page.has_previous:
        page = paginator.page(page.previous_bookmark)
        backward.append(page)
    assert [pks(p) for p in reversed(backward)] == [pks(p) for p in forward]
    assert not backward[-1].has_previous and backward[-1].has_next


def test_filters_and_values_rows(entries):
    queryset = Entry.objects.filter(group=1).values("id", "score", "group")
    pages = walk(BookmarkPaginator(queryset.order_by("-score"), per_page=4))
    seen = [row for page in pages for row in page.object_list]
    assert pks(seen) == pks(queryset.order_by("-score", "pk"))


def test_page_one_thousand_costs_what_page_one_costs():
    Entry.objects.bulk_create(
        [Entry(group=i // 500, score=i % 3, title=str(i)) for i in range(2001)]
    )
    queryset = Entry.objects.all()
    paginator = BookmarkPaginator(queryset, per_page=2)
    in_order = list(queryset.order_by("group", "-score", "pk"))
    # Page 1,000 starts after row 1,998; bookmark_after() makes the same
    # bookmark page 999's next_bookmark is (walking 999 pages on the embedded
    # store would only measure mongomock).
    bookmark = paginator.bookmark_after(in_order[1997])
    # signing.dumps() stamps the time, so compare what the bookmarks carry.
    same = paginator.bookmark_after(Entry.objects.get(pk=in_order[1997].pk))
    assert paginator._load(bookmark) == paginator._load(same)
    commands = []
    for page_bookmark in (None, bookmark):
        with CaptureQueriesContext(connection) as captured:
            page = paginator.page(page_bookmark)
        assert len(captured) == 1
        commands.append(captured[0]["sql"])
    assert pks(page) == pks(in_order[1998:2000]) and page.has_next
    for command in commands:
        assert "skip" not in command.lower() and "offset" not in command.lower(), command
        assert "limit" in command.lower(), command
    last = paginator.page(page.next_bookmark)
    assert pks(last) == [in_order[2000].pk] and not last.has_next and last.next_bookmark is None


def test_tampered_and_foreign_bookmarks_are_refused(entries):
    paginator = BookmarkPaginator(Entry.objects.filter(group=1), per_page=5)
    bookmark = paginator.page().next_bookmark
    tampered = bookmark[:-3] + ("AAA" if not bookmark.endswith("AAA") else "BBB")
    with pytest.raises(InvalidBookmark, match="altered"):
        paginator.page(tampered)
    for other in (
        BookmarkPaginator(Entry.objects.filter(group=2), per_page=5),
        BookmarkPaginator(Entry.objects.filter(group=1).order_by("title"), per_page=5),
        BookmarkPaginator(Author.objects.all(), per_page=5),
    ):
        with pytest.raises(InvalidBookmark, match="another queryset"):
            other.page(bookmark)
    assert isinstance(InvalidBookmark("x"), ValueError)
    assert pks(BookmarkPaginator(Entry.objects.filter(group=1), 5).page(bookmark))


def test_dates_decimals_and_nulls_round_trip_through_bookmarks():
    start = datetime.datetime(2024, 1, 1, 12, 0, 0, 123000, tzinfo=datetime.UTC)
    for i in range(12):
        Author.objects.create(
            name=f"a{i}",
            joined=None if i % 4 == 0 else start + datetime.timedelta(hours=i % 3),
            rating=None if i % 5 == 0 else Decimal(f"{i % 2}.25"),
        )
    for ordering in (("-joined",), ("rating", "-joined"), ("joined", "-rating")):
        queryset = Author.objects.order_by(*ordering)
        seen = [a.pk for page in walk(BookmarkPaginator(queryset, 5)) for a in page]
        assert seen == pks(queryset.order_by(*ordering, "pk"))


def test_orderings_that_cannot_be_seeked_are_refused():
    for queryset in (Entry.objects.order_by("?"), Book.objects.order_by("author__name")):
        with pytest.raises(NotSupportedError, match="order by fields"):
            BookmarkPaginator(queryset, 5)
    with pytest.raises(NotSupportedError, match="author_id"):
        BookmarkPaginator(Book.objects.order_by("author"), 5)  # Author.Meta.ordering applies
    BookmarkPaginator(Book.objects.order_by("author_id"), 5)
    with pytest.raises(NotSupportedError, match="values_list"):
        BookmarkPaginator(Entry.objects.values_list("id"), 5)
    with pytest.raises(NotSupportedError, match="sliced"):
        BookmarkPaginator(Entry.objects.all()[:5], 5)


def test_explicit_null_placement(entries):
    queryset = Entry.objects.order_by(F("score").asc(nulls_last=True))
    try:
        expected = pks(queryset.order_by(F("score").asc(nulls_last=True), "pk"))
    except NotSupportedError:
        pytest.skip(f"{connection.vendor} cannot order with nulls_last")
    seen = [pk for page in walk(BookmarkPaginator(queryset, 9)) for pk in pks(page)]
    assert seen == expected
