"""Window functions (``Window(...)``) on every tier, checked against stock SQLite.

On the nonrel backends windows are computed in Python over the query's rows
(django_nonrel.windows): partitions, SQL's NULL placement in the window's
ordering, peers sharing a rank and a RANGE frame, the default frame (through
the current row's peers when ordered, the whole partition otherwise), and
filters on windows applied after them (QUALIFY), then the query's ordering
and slice. Each query runs on the tier under test and on SQLite over the same
rows; both must agree, and the answer is checked against the data.
"""

from decimal import Decimal

import pytest
from django.db import NotSupportedError, connection, transaction
from django.db.models import Avg, Count, F, Func, Max, Min, Prefetch, Q, Sum, Value, Window
from django.db.models.expressions import RowRange, ValueRange, WindowFrameExclusion
from django.db.models.functions import (
    CumeDist,
    DenseRank,
    FirstValue,
    Lag,
    LastValue,
    Lead,
    NthValue,
    Ntile,
    PercentRank,
    Rank,
    RowNumber,
)

from tests.agg.models import Novel, Publisher

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])

ALIASES = ("default", "sqlite")
#: (title, publisher, pages, price): ties in pages (peers), NULL pages, no publisher.
NOVELS = [
    ("Alpha", "North", 100, "9.50"),
    ("Beta", "North", 300, "20.00"),
    ("Gamma", "North", None, None),
    ("Delta", "North", 100, "15.25"),
    ("Epsilon", "South", 50, "5.00"),
    ("Zeta", "South", 70, "7.00"),
    ("Eta", None, 20, "2.00"),
]


def need(feature: str) -> None:
    """Skip unless the tier's database has ``feature`` (read in the test: some
    servers' features are known once connected)."""
    if not getattr(connection.features, feature):
        pytest.skip(f"this tier's database lacks {feature}")


@pytest.fixture
def novels():
    need("supports_over_clause")
    for using in ALIASES:
        publishers = {
            name: Publisher.objects.using(using).create(name=name, country="X")
            for name in ("North", "South")
        }
        for title, publisher, pages, price in NOVELS:
            Novel.objects.using(using).create(
                title=title,
                publisher=publishers.get(publisher),
                pages=pages,
                price=None if price is None else Decimal(price),
            )


def agree(make):
    """``make(alias)`` on the tier under test, after checking stock SQLite agrees
    (floats to 4 places: MariaDB returns its DOUBLE results rounded)."""
    ours, sqlite = (rounded(make(using)) for using in ALIASES)
    assert ours == sqlite, f"tier gives {ours!r}, SQLite gives {sqlite!r}"
    return ours


def rounded(value):
    """``value`` with every float in it rounded to 4 places."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, (list, tuple)):
        return type(value)(rounded(item) for item in value)
    return value


def titled(using, name, window, *, order=("title",)):
    """(title, window value) of every novel, in ``order``."""
    queryset = Novel.objects.using(using).annotate(**{name: window}).order_by(*order)
    return list(queryset.values_list("title", name))


def test_rank_per_partition_with_peers_and_nulls(novels):
    by_pages = {"partition_by": F("publisher"), "order_by": F("pages").desc()}
    result = agree(
        lambda u: list(
            Novel.objects.using(u)
            .annotate(
                rank=Window(Rank(), **by_pages),
                dense=Window(DenseRank(), **by_pages),
                number=Window(RowNumber(), partition_by=F("publisher"), order_by="title"),
            )
            .order_by("title")
            .values_list("title", "rank", "dense", "number")
        )
    )
    # Descending: NULL pages sort last on this backend as on SQLite.
    assert result == [
        ("Alpha", 2, 2, 1),
        ("Beta", 1, 1, 2),
        ("Delta", 2, 2, 3),
        ("Epsilon", 2, 2, 1),
        ("Eta", 1, 1, 1),
        ("Gamma", 4, 3, 4),
        ("Zeta", 1, 1, 2),
    ]


def test_running_total_default_frame_includes_peers(novels):
    result = agree(
        lambda u: titled(
            u, "total", Window(Sum("pages"), partition_by="publisher", order_by="pages")
        )
    )
    # North by pages: Gamma (NULL) first, then the peers Alpha and Delta together.
    assert result == [
        ("Alpha", 200),
        ("Beta", 500),
        ("Delta", 200),
        ("Epsilon", 50),
        ("Eta", 20),
        ("Gamma", None),
        ("Zeta", 120),
    ]


def test_frames_rows_and_range_offsets(novels):
    ordered = {"partition_by": "publisher", "order_by": [F("pages").asc(), "title"]}
    result = agree(
        lambda u: list(
            Novel.objects.using(u)
            .annotate(
                moving=Window(Sum("pages"), frame=RowRange(-1, 0), **ordered),
                ahead=Window(Max("pages"), frame=RowRange(1, 2), **ordered),
                near=Window(
                    Count("pk"),
                    partition_by="publisher",
                    order_by="pages",
                    frame=ValueRange(-100, 100),
                ),
                whole=Window(Min("pages"), partition_by="publisher", frame=ValueRange()),
                average=Window(Avg("pages"), partition_by="publisher"),
            )
            .order_by("title")
            .values_list("title", "moving", "ahead", "near", "whole", "average")
        )
    )
    assert result == [
        ("Alpha", 100, 300, 2, 100, 166.6667),
        ("Beta", 400, None, 1, 100, 166.6667),
        ("Delta", 200, 300, 2, 100, 166.6667),
        ("Epsilon", 50, 70, 2, 50, 60.0),
        ("Eta", 20, None, 1, 20, 20.0),
        ("Gamma", None, 100, 1, 100, 166.6667),
        ("Zeta", 120, None, 2, 50, 60.0),
    ]


def test_lag_lead_default_is_evaluated_per_row(novels):
    need("supports_default_in_lead_lag")
    result = agree(
        lambda u: titled(
            u,
            "before",
            Window(
                Lag("pages", 2, default=F("pages") * 10), partition_by="publisher", order_by="title"
            ),
        )
    )
    assert result == [
        ("Alpha", 1000),
        ("Beta", 3000),
        ("Delta", 100),
        ("Epsilon", 500),
        ("Eta", 200),
        ("Gamma", 300),
        ("Zeta", 700),
    ]


def test_lag_lead_and_values_of_the_frame(novels):
    ordered = {"partition_by": "publisher", "order_by": "title"}
    result = agree(
        lambda u: list(
            Novel.objects.using(u)
            .annotate(
                previous=Window(Lag("pages"), **ordered),
                following=Window(Lead("title", offset=2), **ordered),
                first=Window(FirstValue("title"), **ordered),
                last=Window(LastValue("title"), **ordered),
                last_of_all=Window(LastValue("title"), frame=RowRange(None, None), **ordered),
                second=Window(NthValue("title", 2), **ordered),
            )
            .order_by("title")
            .values_list("title", "previous", "following", "first", "last", "last_of_all", "second")
        )
    )
    assert result == [
        ("Alpha", None, "Delta", "Alpha", "Alpha", "Gamma", None),
        ("Beta", 100, "Gamma", "Alpha", "Beta", "Gamma", "Beta"),
        ("Delta", 300, None, "Alpha", "Delta", "Gamma", "Beta"),
        ("Epsilon", None, None, "Epsilon", "Epsilon", "Zeta", None),
        ("Eta", None, None, "Eta", "Eta", "Eta", None),
        ("Gamma", 100, None, "Alpha", "Gamma", "Gamma", "Beta"),
        ("Zeta", 50, None, "Epsilon", "Zeta", "Zeta", "Zeta"),
    ]


def test_ntile_percent_rank_and_cume_dist(novels):
    result = agree(
        lambda u: list(
            Novel.objects.using(u)
            .annotate(
                tile=Window(Ntile(3), order_by="title"),
                percent=Window(PercentRank(), order_by="pages"),
                cumulative=Window(CumeDist(), order_by="pages"),
            )
            .order_by("title")
            .values_list("title", "tile", "percent", "cumulative")
        )
    )
    # Seven rows in three tiles: 3, 2, 2 (the first tiles take the remainder).
    assert [tile for _, tile, _, _ in result] == [1, 1, 1, 2, 2, 3, 3]
    assert result[0] == ("Alpha", 1, round(4 / 6, 4), round(6 / 7, 4))  # peers with Delta
    assert result[5] == ("Gamma", 3, 0.0, round(1 / 7, 4))  # NULL sorts first


def test_filter_on_window_applies_after_the_where(novels):
    def query(using):
        ranked = Novel.objects.using(using).annotate(
            rank=Window(RowNumber(), partition_by="publisher", order_by=F("pages").desc())
        )
        # The WHERE (pages > 60) runs first: Zeta becomes South's first.
        top = ranked.filter(pages__gt=60, rank=1).order_by("title")
        either = ranked.filter(Q(rank=1) | Q(title="Alpha")).order_by("title")
        excluded = ranked.exclude(rank__lte=1).order_by("-title")[:2]
        return (
            [n.title for n in top],
            [n.title for n in either],
            [n.title for n in excluded],
            ranked.filter(rank=1).count(),
        )

    assert agree(query) == (
        ["Beta", "Zeta"],
        ["Alpha", "Beta", "Eta", "Zeta"],
        ["Gamma", "Epsilon"],
        3,
    )


def test_order_by_window_and_values(novels):
    result = agree(
        lambda u: list(
            Novel.objects.using(u)
            .values("publisher__name")
            .annotate(
                share=Window(Sum("price"), partition_by="publisher"),
                position=Window(RowNumber(), order_by=[F("price").desc(), "title"]),
            )
            .order_by("-position")[:3]
            .values_list("title", "publisher__name", "share", "position")
        )
    )
    assert result == [
        ("Gamma", "North", Decimal("44.75"), 7),
        ("Eta", None, Decimal("2.00"), 6),
        ("Epsilon", "South", Decimal("12.00"), 5),
    ]


def test_window_over_an_expression_and_in_an_expression(novels):
    result = agree(
        lambda u: titled(
            u,
            "gap",
            F("pages") - Window(Min(F("pages") + Value(1)), partition_by="publisher"),
            order=("title",),
        )
    )
    assert result == [
        ("Alpha", -1),
        ("Beta", 199),
        ("Delta", -1),
        ("Epsilon", -1),
        ("Eta", -1),
        ("Gamma", None),
        ("Zeta", 19),
    ]


def test_window_next_to_an_aggregate_per_row(novels):
    def query(using):
        rows = Novel.objects.using(using).annotate(
            genres_count=Count("genres"),
            first=Window(RowNumber(), partition_by="publisher", order_by="-title"),
        )
        return list(rows.filter(first=1).order_by("title").values_list("title", "genres_count"))

    assert agree(query) == [("Eta", 0), ("Gamma", 0), ("Zeta", 0)]


def test_other_reads_of_a_windowed_queryset(novels):
    def query(using):
        ranked = Novel.objects.using(using).annotate(
            rank=Window(Rank(), partition_by="publisher", order_by=F("pages").desc())
        )
        firsts = ranked.filter(rank=1)
        return (
            firsts.exists(),
            ranked.filter(rank=9).exists(),
            ranked.count(),
            [n.title for n in firsts.order_by("title")[1:2]],
            sorted(ranked.order_by().values_list("rank", flat=True).distinct()),
            ranked.aggregate(total=Sum("rank"), top=Max("rank")),
            [n.title for n in firsts.order_by("title").iterator(chunk_size=2)],
            list(
                Novel.objects.using(using)
                .order_by(Window(RowNumber(), order_by="title").desc())
                .values_list("title", flat=True)[:2]
            ),
        )

    assert agree(query) == (
        True,
        False,
        7,
        ["Eta"],
        [1, 2, 4],
        {"total": 13, "top": 4},
        ["Beta", "Eta", "Zeta"],
        ["Zeta", "Gamma"],
    )


def test_windows_over_groups(novels):
    def query(using):
        totals = (
            Novel.objects.using(using)
            .values("publisher__name")
            .annotate(
                total=Sum("pages"),
                rank=Window(Rank(), order_by=F("total").desc()),
                tile=Window(Ntile(2), order_by=F("total").desc()),
            )
            .order_by("rank")
        )
        counted = Novel.objects.using(using).annotate(
            genres_count=Count("genres"),
            rank=Window(Rank(), partition_by="publisher", order_by="-pages"),
        )
        return (
            list(totals.values_list("publisher__name", "total", "rank", "tile")),
            list(totals.filter(rank__gt=1).values_list("publisher__name", flat=True)),
            sorted(counted.filter(rank=1, genres_count__lt=1).values_list("title", flat=True)),
            sorted(
                counted.filter(Q(rank=2) | Q(genres_count__gte=1)).values_list("title", flat=True)
            ),
        )

    assert agree(query) == (
        [("North", 500, 1, 1), ("South", 120, 2, 1), (None, 20, 3, 2)],
        ["South", None],
        ["Beta", "Eta", "Zeta"],
        ["Alpha", "Delta", "Epsilon"],
    )


def test_sliced_prefetch_related(novels):
    def query(using):
        longest = Novel.objects.using(using).order_by(F("pages").desc(nulls_last=True), "title")
        publishers = Publisher.objects.using(using).prefetch_related(
            Prefetch("novels", queryset=longest[:2], to_attr="longest")
        )
        return [(p.name, [n.title for n in p.longest]) for p in publishers.order_by("name")]

    assert agree(query) == [("North", ["Beta", "Alpha"]), ("South", ["Zeta", "Epsilon"])]


def test_frame_exclusion(novels):
    need("supports_frame_exclusion")

    def frame(exclusion):
        return Window(
            Sum("pages"),
            partition_by="publisher",
            order_by="pages",
            frame=ValueRange(None, None, exclusion=exclusion),
        )

    result = agree(
        lambda u: list(
            Novel.objects.using(u)
            .filter(publisher__name="North")
            .annotate(
                current=frame(WindowFrameExclusion.CURRENT_ROW),
                group=frame(WindowFrameExclusion.GROUP),
                ties=frame(WindowFrameExclusion.TIES),
            )
            .order_by("title")
            .values_list("title", "current", "group", "ties")
        )
    )
    assert result == [
        ("Alpha", 400, 300, 400),
        ("Beta", 200, 200, 500),
        ("Delta", 400, 300, 400),
        ("Gamma", 500, 500, 500),
    ]


def test_window_in_update_is_refused_as_django_does(novels):
    with pytest.raises(Exception, match="Window expressions are not allowed in this query"):
        Novel.objects.update(pages=Window(Max("pages")))


def test_delete_filtered_on_a_window(novels):
    def query(using):
        ranked = Novel.objects.using(using).annotate(
            rank=Window(RowNumber(), partition_by="publisher", order_by="title")
        )
        ranked.filter(rank=1).delete()
        return list(Novel.objects.using(using).order_by("title").values_list("title", flat=True))

    assert agree(query) == ["Beta", "Delta", "Gamma", "Zeta"]


@pytest.mark.skipif(connection.vendor != "mongodb", reason="SQL's own error differs per server")
def test_update_filtered_on_a_window_says_what_to_do(novels):
    ranked = Novel.objects.annotate(rank=Window(RowNumber(), order_by="title"))
    with pytest.raises(NotSupportedError, match="values_list"), transaction.atomic():
        ranked.filter(rank=1).update(pages=1)
    assert not Novel.objects.filter(pages=1).exists()


@pytest.mark.skipif(connection.vendor != "mongodb", reason="SQL servers compute these")
def test_shapes_not_computed_say_what_to_do(novels):
    class Median(Func):
        function = "MEDIAN"
        window_compatible = True

    with pytest.raises(NotSupportedError, match="window function Median.*Use Django's"):
        list(Novel.objects.annotate(m=Window(Median("pages"))))


@pytest.mark.skipif(connection.vendor != "mongodb", reason="SQL servers compute windows")
def test_windows_read_their_rows_under_the_bound(novels, monkeypatch):
    monkeypatch.setattr(connection.features, "max_rows_evaluated_in_python", 3)
    ranked = Novel.objects.annotate(rank=Window(RowNumber(), order_by="title"))
    with pytest.raises(NotSupportedError, match="A window evaluated in Python over more than 3"):
        list(ranked)
    assert [n.rank for n in ranked.filter(pages__gte=100)] == [1, 2, 3]
