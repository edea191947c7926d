"""BookmarkPaginator: every row once, in order, at a cost independent of the page number."""

import datetime
import math
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.db import NotSupportedError, connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from django_nonrel.features import nonrel_features
from django_nonrel.pagination import BookmarkPaginator, InvalidBookmark
from tests.conc.models import Entry
from tests.differential.models import Item
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


def test_nulls_last_orderings_page_correctly_in_both_directions(entries):
    """docs/pagination.md: nulls_first/nulls_last work on every backend (MongoDB sorts
    such an ordering in Python, on the rows after the bookmark)."""
    for ordering in (
        (F("score").asc(nulls_last=True), "-title"),
        (F("score").desc(nulls_first=True), "title"),
        (F("score").desc(nulls_last=True),),
    ):
        queryset = Entry.objects.order_by(*ordering)
        paginator = BookmarkPaginator(queryset, 8)
        forward = walk(paginator)
        assert [pk for page in forward for pk in pks(page)] == pks(
            queryset.order_by(*ordering, "pk")
        )
        page, backward = forward[-1], []
        while page.has_previous:
            page = paginator.page(page.previous_bookmark)
            backward.append(pks(page))
        assert list(reversed(backward)) == [pks(p) for p in forward[:-1]]


# -- NaN -------------------------------------------------------------------------------


NAN = float("nan")


def mongodb_order(rows, descending, nulls_first):
    """Rows as MongoDB sorts a double: NaN below every number (ties by ascending pk),
    NULLs first or last."""

    def key(item):
        kind, value = (0, 0.0) if math.isnan(item.ratio) else (1, item.ratio)
        return ((-kind, -value) if descending else (kind, value)), item.pk

    nulls = sorted((r for r in rows if r.ratio is None), key=lambda item: item.pk)
    others = sorted((r for r in rows if r.ratio is not None), key=key)
    return nulls + others if nulls_first else others + nulls


@pytest.fixture
def nan_rows():
    if not nonrel_features(connection).sorts_nan_below_numbers:
        pytest.skip(
            f"{connection.vendor} stores no NaN here (SQLite stores NULL; MariaDB and "
            "FerretDB v1 refuse it, tests/reliability/test_bad_input.py)"
        )
    ratios = [1.0, NAN, 2.0, 3.0, NAN, 0.5, 7.0, None, 8.0, NAN, -math.inf, math.inf, 2.0]
    return [Item.objects.create(name=f"n{i}", tags=[], ratio=r) for i, r in enumerate(ratios)]


@pytest.mark.parametrize(
    "ordering",
    [
        ("ratio",),
        ("-ratio",),
        (F("ratio").asc(nulls_last=True),),
        (F("ratio").desc(nulls_first=True),),
    ],
    ids=["asc", "desc", "asc nulls last", "desc nulls first"],
)
@pytest.mark.parametrize("per_page", [1, 2, 5])
def test_nan_rows_are_paged_where_the_database_sorts_them(nan_rows, ordering, per_page):
    """MongoDB sorts NaN below every number, yet finds no number greater than NaN:
    the seek names NaN rows explicitly, so none is skipped or repeated (before: 7 of 9
    rows after a NaN were never shown)."""
    queryset = Item.objects.order_by(*ordering)
    order = ordering[0]
    if isinstance(order, str):
        descending, nulls_first = order.startswith("-"), not order.startswith("-")
    else:
        descending, nulls_first = order.descending, bool(order.nulls_first)
    expected = mongodb_order(nan_rows, descending, nulls_first)
    assert pks(queryset.order_by(*ordering, "pk")) == pks(expected), "the server's own order"
    seen = [pk for page in walk(BookmarkPaginator(queryset, per_page)) for pk in pks(page)]
    assert seen == pks(expected)


def test_comparisons_with_nan_follow_mongodb(nan_rows):
    names = lambda qs: sorted(qs.values_list("name", flat=True))  # noqa: E731
    nan_names = sorted(i.name for i in nan_rows if i.ratio is not None and math.isnan(i.ratio))
    assert names(Item.objects.filter(ratio=NAN)) == nan_names
    assert names(Item.objects.filter(ratio__gte=NAN)) == nan_names
    assert names(Item.objects.filter(ratio__gt=NAN)) == []
    assert names(Item.objects.filter(ratio__in=[NAN, 0.5])) == sorted([*nan_names, "n5"])
    # Django's exclude() of a nullable column keeps NULL rows (NOT (... AND IS NOT NULL)).
    assert len(names(Item.objects.exclude(ratio=NAN))) == len(nan_rows) - len(nan_names)


# -- what a bookmark is bound to ------------------------------------------------------


def refused_by(queryset, bookmark):
    with pytest.raises(InvalidBookmark, match="another queryset"):
        BookmarkPaginator(queryset, 5).page(bookmark)


def test_bookmarks_are_bound_to_subqueries(entries):
    group = lambda g: Entry.objects.filter(pk__in=Entry.objects.filter(group=g).values("pk"))  # noqa: E731
    bookmark = BookmarkPaginator(group(1), 5).page().next_bookmark
    assert pks(BookmarkPaginator(group(1), 5).page(bookmark))
    refused_by(group(2), bookmark)
    sliced = Entry.objects.filter(pk__in=Entry.objects.filter(group=1).order_by("pk")[:3])
    refused_by(sliced, bookmark)


def test_bookmarks_are_bound_to_expressions(entries):
    queryset = Entry.objects.filter(score__lt=F("group"))
    bookmark = BookmarkPaginator(queryset, 2).page().next_bookmark
    assert BookmarkPaginator(Entry.objects.filter(score__lt=F("group")), 2).page(bookmark)
    refused_by(Entry.objects.filter(score__lt=F("pk")), bookmark)
    refused_by(Entry.objects.filter(score__lt=F("group") + 1), bookmark)
    refused_by(Entry.objects.filter(score__lt=F("group") * 2), bookmark)


def test_bookmarks_are_bound_to_exists_and_subquery_filters():
    """The digest covers what an Exists()/Subquery() filter selects (no query is run)."""
    from django.db.models import Exists, OuterRef

    from tests.conc.models import Board, Thread

    def boards(title):
        return Board.objects.filter(
            Exists(Thread.objects.filter(board=OuterRef("pk"), title=title))
        )

    first, second = BookmarkPaginator(boards("a"), 5), BookmarkPaginator(boards("b"), 5)
    assert first.fingerprint != second.fingerprint
    assert first.fingerprint == BookmarkPaginator(boards("a"), 5).fingerprint
    bookmark = first.bookmark_after({"id": 1})
    with pytest.raises(InvalidBookmark, match="another queryset"):
        second.page(bookmark)


def test_bookmarks_are_bound_to_raw_query_filters(on_mongodb):
    from tests.agg.models import Shop

    for visits in range(6):
        Shop.objects.create(name=f"s{visits}", visits=visits)
    few = Shop.objects.raw_query({"visits": {"$lt": 4}}).order_by("visits")
    bookmark = BookmarkPaginator(few, 2).page().next_bookmark
    assert pks(
        BookmarkPaginator(
            Shop.objects.raw_query({"visits": {"$lt": 4}}).order_by("visits"), 2
        ).page(bookmark)
    )
    refused_by(Shop.objects.raw_query({"visits": {"$lt": 5}}).order_by("visits"), bookmark)
    refused_by(Shop.objects.order_by("visits"), bookmark)


def test_bookmarks_do_not_depend_on_the_hash_seed(entries):
    """A bookmark made in another process (another PYTHONHASHSEED, so another set
    order) for ``title__in=<set>`` is accepted here."""
    titles = {f"e{i:02d}" for i in range(0, 60, 4)}
    code = (
        "import django; django.setup()\n"
        "from django_nonrel.pagination import BookmarkPaginator\n"
        "from tests.conc.models import Entry\n"
        f"qs = Entry.objects.filter(title__in={sorted(titles)!r} and set({sorted(titles)!r}))\n"
        "print(BookmarkPaginator(qs.order_by('title'), 3).bookmark_after("
        "{'id': 2**31, 'title': 'e00'}))\n"
    )
    bookmarks = []
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "DJANGO_SETTINGS_MODULE": "tests.settings"}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        bookmarks.append(result.stdout.strip())
    paginator = BookmarkPaginator(Entry.objects.filter(title__in=titles).order_by("title"), 3)
    for bookmark in bookmarks:
        assert [e.title for e in paginator.page(bookmark)] == ["e04", "e08", "e12"]


def test_the_binding_does_not_change_once_querysets_have_run(entries):
    """Django shares objects between queries (a field's Col) and caches on them as they
    are compiled; the digest must not see that, or bookmarks die after other queries."""

    def make():
        return Entry.objects.filter(title__in={"e01", "e02"}, score__lt=F("group") + 1)

    before = BookmarkPaginator(make().order_by("title"), 3).fingerprint
    list(make()), list(make().values("title")), make().count(), list(Entry.objects.all())
    assert BookmarkPaginator(make().order_by("title"), 3).fingerprint == before


@pytest.mark.parametrize(
    "bookmark",
    [12345, 1.5, b"bytes", ["a"], {"k": 1}, "not a bookmark", "a:b:c", "\u00e9\u00e9:x"],
    ids=repr,
)
def test_malformed_bookmarks_are_the_paginators_error(entries, bookmark):
    with pytest.raises(InvalidBookmark):
        BookmarkPaginator(Entry.objects.all(), 5).page(bookmark)


def test_bookmarks_with_a_forged_payload_shape_are_refused(entries):
    """Signed with our key but of another shape (an older release, a bug): still InvalidBookmark."""
    from django.core import signing

    from django_nonrel.pagination import SALT

    paginator = BookmarkPaginator(Entry.objects.all(), 5)
    for payload in (
        [1, 2],
        {"q": paginator.fingerprint},
        {"q": paginator.fingerprint, "k": [1]},
        {"q": paginator.fingerprint, "k": [{"x": 1}, "nan", 3]},
        {"q": paginator.fingerprint, "k": ["x", None, "y"]},
    ):
        with pytest.raises(InvalidBookmark):
            paginator.page(signing.dumps(payload, salt=SALT))
