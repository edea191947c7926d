"""Hypothesis strategies: datasets for the differential models, and querysets over them.

A dataset is plain data (dicts of column values with explicit primary keys), so
the very same rows can be written to the oracle and to the backend under test.
A queryset is a :class:`QuerySpec`: a value that builds the same ``QuerySet`` on
any database alias and prints as the Python code a user would write, which is
what hypothesis shows for a minimised failure.

Values are drawn so that filters hit: most filter values come from the dataset
itself, the rest are fresh. Text mixes ASCII letters of both cases with the
characters that break naive translations (LIKE wildcards ``%`` ``_``, the
escape ``\\``, regex metacharacters, ``$`` and ``.``, quotes) and with non-ASCII
text (CJK, emoji, an accented lower-case letter; see DELIBERATE_DIFFERENCES in
``oracle.py`` for why no upper-case non-ASCII letter is drawn).
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Max, Min, Q, Sum
from hypothesis import strategies as st

UTC = datetime.UTC
ALPHABET = "aAbBzZ09 %_\\.*$'\"漢🙂€é"
TAG_ALPHABET = "abc"
CITIES = ["Oslo", "oslo", "Lyon", "漢口", "a_b", "a%b"]
#: Small integer pool so that equality and range filters hit.
SMALL_INTS = st.integers(-5, 5)


# -- datasets -------------------------------------------------------------------
def texts(max_size: int = 8) -> st.SearchStrategy[str]:
    return st.text(alphabet=ALPHABET, max_size=max_size)


def moments() -> st.SearchStrategy[datetime.datetime]:
    """Aware UTC datetimes with millisecond precision (BSON dates keep milliseconds),
    within MySQL's TIMESTAMP range: outside it MariaDB's CONVERT_TZ leaves a value
    in UTC, so date parts in the current time zone would differ there (by design)."""
    return st.builds(
        lambda day, ms: (
            datetime.datetime.combine(day, datetime.time(), tzinfo=UTC)
            + datetime.timedelta(milliseconds=ms)
        ),
        st.dates(datetime.date(1970, 1, 2), datetime.date(2038, 1, 18)),
        st.integers(0, 86_400_000 - 1),
    )


def uuids() -> st.SearchStrategy[uuid.UUID]:
    """Version-4 UUIDs: MariaDB's native uuid type refuses some other bit patterns
    (a version nibble above 5 with the NCS variant), as it would from any client."""
    return st.uuids(version=4)


def dates() -> st.SearchStrategy[datetime.date]:
    return st.dates(datetime.date(1900, 1, 1), datetime.date(2100, 12, 31))


def prices() -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=Decimal("-999999.99"),
        max_value=Decimal("999999.99"),
        places=2,
        allow_nan=False,
        allow_infinity=False,
    )


def floats() -> st.SearchStrategy[float]:
    return st.one_of(
        st.sampled_from([0.0, -1.5, 2.25, 1e-300, 1e300]),
        # |x| <= 1e300: a Sum/Avg of a dataset's values never overflows, where
        # servers differ (SQLite gives inf, MariaDB 0.0).
        st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, width=64),
    )


def nullable(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


def metas() -> st.SearchStrategy[dict[str, Any]]:
    """DictField values: each key keeps one JSON type (or null) across rows."""
    return st.fixed_dictionaries(
        {},
        optional={
            "n": nullable(SMALL_INTS),
            "s": nullable(texts(4)),
            "b": st.booleans(),
        },
    )


def places() -> st.SearchStrategy[dict[str, Any] | None]:
    return nullable(
        st.fixed_dictionaries({"city": st.sampled_from(CITIES), "floor": nullable(SMALL_INTS)})
    )


def item_rows(owner_ids: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "name": texts(),
            "note": nullable(texts(12)),
            "number": nullable(st.one_of(SMALL_INTS, st.integers(-(2**31), 2**31 - 1))),
            "big": nullable(st.integers(-(2**63), 2**63 - 1)),
            "ratio": nullable(floats()),
            "price": nullable(prices()),
            "flag": nullable(st.booleans()),
            "day": nullable(dates()),
            "moment": nullable(moments()),
            "code": nullable(uuids()),
            "tags": st.lists(st.text(TAG_ALPHABET, min_size=1, max_size=2), max_size=3),
            "meta": metas(),
            "place": places(),
            "owner_id": nullable(st.sampled_from(owner_ids)) if owner_ids else st.none(),
        }
    )


@dataclass
class Dataset:
    """Rows per model, each with its ``id``; ``links`` are (item id, label id) pairs."""

    teams: list[dict[str, Any]] = field(default_factory=list)
    owners: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    links: list[tuple[int, int]] = field(default_factory=list)
    badges: list[dict[str, Any]] = field(default_factory=list)
    slots: list[dict[str, Any]] = field(default_factory=list)

    def values(self, column: str) -> list[Any]:
        """Non-null values of an Item column, for filters that hit."""
        return [row[column] for row in self.items if row.get(column) is not None]


def numbered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": index, **row} for index, row in enumerate(rows, start=1)]


@st.composite
def datasets(draw, max_items: int = 12) -> Dataset:
    teams = numbered(draw(st.lists(st.builds(dict, name=texts(4)), min_size=1, max_size=3)))
    team_ids = [t["id"] for t in teams]
    owners = numbered(
        draw(
            st.lists(
                st.builds(dict, name=texts(4), team_id=nullable(st.sampled_from(team_ids))),
                max_size=4,
            )
        )
    )
    labels = numbered(draw(st.lists(st.builds(dict, name=texts(4)), max_size=3)))
    items = numbered(draw(st.lists(item_rows([o["id"] for o in owners]), max_size=max_items)))
    links = []
    if items and labels:
        pairs = st.tuples(
            st.sampled_from([i["id"] for i in items]), st.sampled_from([lb["id"] for lb in labels])
        )
        links = sorted(set(draw(st.lists(pairs, max_size=8))))
    return Dataset(teams, owners, labels, items, links)


# -- querysets ------------------------------------------------------------------
@dataclass(frozen=True)
class QuerySpec:
    """One generated queryset and what is asked of it.

    ``terminal`` is ``list``, ``count``, ``count_limit``, ``exists``,
    ``aggregate``, ``first`` or ``last``; ``shape`` is ``models``, ``values`` or
    ``values_list`` with ``fields``. Ordering always ends with ``pk``, so every
    ordered result is fully determined.

    ``grouped`` is ``values(*fields).annotate(**argument)``, then ``having``
    (a filter on the annotations) and ``ordering`` (every group field, so the
    groups come in one order). ``pages`` walks every page of
    ``BookmarkPaginator(queryset, per_page=argument)`` from the first.
    """

    model: str
    steps: tuple[tuple[str, Q], ...] = ()
    ordering: tuple[str, ...] | None = None
    window: tuple[int, int | None] | None = None
    shape: str = "models"
    fields: tuple[str, ...] = ()
    terminal: str = "list"
    argument: Any = None
    having: Q | None = None
    distinct: bool = False

    def __str__(self) -> str:
        code = f"{self.model}.objects"
        for method, q in self.steps:
            code += f".{method}({q!r})"
        if self.distinct:
            code += ".distinct()"
        if self.terminal == "grouped":
            code += f".values({', '.join(map(repr, self.fields))})"
            code += f".annotate(**{self.argument!r})"
            if self.having is not None:
                code += f".filter({self.having!r})"
            return code + f".order_by({', '.join(map(repr, self.ordering))})"
        if self.ordering is not None:
            code += f".order_by({', '.join(map(repr, self.ordering))})"
        if self.window is not None:
            low, high = self.window
            code += f"[{low}:{'' if high is None else high}]"
        if self.shape != "models":
            code += f".{self.shape}({', '.join(map(repr, self.fields))})"
        if self.terminal == "pages":
            return f"BookmarkPaginator({code}, per_page={self.argument}), every page"
        if self.terminal == "aggregate":
            code += f".aggregate(**{self.argument!r})"
        elif self.terminal == "count_limit":
            code += f".count(limit={self.argument})"
        elif self.terminal != "list":
            code += f".{self.terminal}()"
        return code

    @property
    def lookups(self) -> list[str]:
        """Every ``field__lookup`` keyword the filters use."""
        return q_lookups(q for _, q in self.steps)


def q_lookups(filters) -> list[str]:
    """Every ``field__lookup`` keyword of the ``Q`` objects ``filters``."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Q):
            for child in node.children:
                walk(child)
        else:
            found.append(node[0])

    for q in filters:
        walk(q)
    return found


#: Item filters: field path -> kind. The kind decides lookups and values.
ITEM_FIELDS = {
    "id": "int",
    "name": "text",
    "note": "text",
    "number": "int",
    "big": "int",
    "ratio": "float",
    "price": "decimal",
    "flag": "bool",
    "day": "date",
    "moment": "datetime",
    "code": "uuid",
    "tags": "list",
    "meta__n": "int",
    "meta__s": "text",
    "meta__b": "bool",
    "place__city": "text",
    "place__floor": "int",
    "owner_id": "fk",
}
#: Relation spans: filters that cross a relation (a JOIN on SQL).
SPANS = {
    "owner__name": "text",
    "owner__team__name": "text",
    "owner__team_id": "fk",
    "labels__name": "text",
    "labels__id": "int",
}
TEXT_LOOKUPS_SENSITIVE = ("contains", "startswith", "endswith")
TEXT_LOOKUPS_INSENSITIVE = ("iexact", "icontains", "istartswith", "iendswith")
ORDERED_LOOKUPS = ("exact", "in", "gt", "gte", "lt", "lte", "range", "isnull")
LOOKUPS = {
    "int": ORDERED_LOOKUPS,
    # Django's related lookups have no range.
    "fk": ("exact", "in", "gt", "gte", "lt", "lte", "isnull"),
    "float": ORDERED_LOOKUPS,
    "decimal": ORDERED_LOOKUPS,
    "text": ORDERED_LOOKUPS
    + TEXT_LOOKUPS_SENSITIVE
    + TEXT_LOOKUPS_INSENSITIVE
    + ("regex", "iregex"),
    "bool": ("exact", "in", "isnull"),
    "date": ORDERED_LOOKUPS + ("year", "year__gt", "year__lte", "month", "day", "week_day"),
    "datetime": ORDERED_LOOKUPS
    + ("year", "year__gte", "year__lt", "month", "day", "hour", "minute", "date"),
    "uuid": ("exact", "in", "isnull", "startswith", "icontains"),
    "list": ("exact", "contains", "overlap", "len", "len__gt", "0", "isnull"),
}
REGEXES = ["^a", "b$", "a.b", "[0-9]", "z|漢", "\\.", "^$", "%", "^[^a-z]*$", "é"]
ORDER_FIELDS = (
    "name",
    "note",
    "number",
    "big",
    "ratio",
    "price",
    "flag",
    "day",
    "moment",
    "code",
    "owner_id",
    "place__city",
    "meta__n",
)
VALUE_FIELDS = (
    "id",
    "name",
    "note",
    "number",
    "ratio",
    "price",
    "flag",
    "day",
    "moment",
    "code",
    "tags",
    "meta",
    "owner_id",
    "meta__s",
    "place__city",
)
#: Bookmark pages order by fields of the model itself (BookmarkPaginator refuses paths).
PAGE_ORDER_FIELDS = tuple(f for f in ORDER_FIELDS if "__" not in f)
#: values(...) fields of grouped aggregation: columns and document paths.
GROUP_FIELDS = ("name", "number", "flag", "day", "owner_id", "place__city", "meta__s")
AGGREGATES = {
    "n": lambda: Count("pk"),
    "n_number": lambda: Count("number"),
    "n_distinct_number": lambda: Count("number", distinct=True),
    "sum_number": lambda: Sum("number"),
    "sum_price": lambda: Sum("price"),
    "avg_ratio": lambda: Avg("ratio"),
    "avg_number": lambda: Avg("number"),
    "min_moment": lambda: Min("moment"),
    "max_name": lambda: Max("name"),
    "min_day": lambda: Min("day"),
    "max_price": lambda: Max("price"),
}
#: Per-group aggregates: those of aggregate() and a count across the many-to-many.
GROUP_AGGREGATES = {**AGGREGATES, "n_labels": lambda: Count("labels")}
#: Integer annotations: HAVING and ordering use these (sums of doubles may differ in
#: the last bits, which would reorder groups).
COUNTS = ("n", "n_number", "n_distinct_number", "n_labels")


def with_case(text: str, flips: list[bool]) -> str:
    """``text`` with some ASCII letters' case swapped (never a non-ASCII letter)."""
    return "".join(
        c.swapcase() if c.isascii() and flip else c
        for c, flip in zip(text, flips + [False] * len(text), strict=False)
    )


class QueryDrawer:
    """Draws querysets for one dataset (values come from it so that filters hit)."""

    def __init__(self, draw, dataset: Dataset, spans: bool = True) -> None:
        self.draw = draw
        self.dataset = dataset
        self.spans = spans

    # values -------------------------------------------------------------------
    def pool(self, path: str) -> list[Any]:
        data = self.dataset
        if path in ("id", "owner_id"):
            return data.values(path)
        if path.startswith("meta__"):
            key = path.split("__")[1]
            return [r["meta"][key] for r in data.items if r["meta"].get(key) is not None]
        if path.startswith("place__"):
            key = path.split("__")[1]
            return [r["place"][key] for r in data.items if r["place"] and r["place"][key]]
        if path == "owner__name" or path == "owner__team__name":
            source = data.owners if path == "owner__name" else data.teams
            return [r["name"] for r in source]
        if path == "owner__team_id":
            return [r["team_id"] for r in data.owners if r["team_id"]]
        if path == "labels__name":
            return [r["name"] for r in data.labels]
        if path == "labels__id":
            return [r["id"] for r in data.labels]
        return data.values(path)

    def fresh(self, kind: str) -> Any:
        return self.draw(
            {
                "int": SMALL_INTS,
                "fk": SMALL_INTS,
                "float": floats(),
                "decimal": prices(),
                "text": texts(4),
                "bool": st.booleans(),
                "date": dates(),
                "datetime": moments(),
                "uuid": uuids(),
                "list": st.text(TAG_ALPHABET, min_size=1, max_size=2),
            }[kind]
        )

    def value(self, path: str, kind: str) -> Any:
        pool = self.pool(path)
        if kind == "list":
            pool = [tag for tags in pool for tag in tags]
        if pool and self.draw(st.integers(0, 3)):
            return self.draw(st.sampled_from(pool))
        return self.fresh(kind)

    def text_value(self, path: str, lookup: str) -> str:
        text = self.value(path, "text")
        if lookup in ("contains", "icontains") and text:
            start = self.draw(st.integers(0, len(text) - 1))
            text = text[start : start + self.draw(st.integers(1, 3))]
        elif lookup in ("startswith", "istartswith"):
            text = text[: self.draw(st.integers(0, 3))]
        elif lookup in ("endswith", "iendswith"):
            text = text[-self.draw(st.integers(1, 3)) :] if text else text
        if lookup.startswith("i"):
            text = with_case(text, self.draw(st.lists(st.booleans(), max_size=len(text))))
        return text

    # filters ------------------------------------------------------------------
    def leaf(self, case_insensitive: bool) -> Q:
        fields = dict(ITEM_FIELDS)
        if self.spans:
            fields.update(SPANS)
        path = self.draw(st.sampled_from(sorted(fields)))
        kind = fields[path]
        # One queryset uses case-sensitive or case-insensitive pattern lookups (text
        # and UUID), not both: the oracle's LIKE folds case for all of them or none.
        lookups = [
            lookup
            for lookup in LOOKUPS[kind]
            if lookup
            not in (TEXT_LOOKUPS_SENSITIVE if case_insensitive else TEXT_LOOKUPS_INSENSITIVE)
        ]
        lookup = self.draw(st.sampled_from(lookups))
        return Q(**{f"{path}__{lookup}": self.lookup_value(path, kind, lookup)})

    def lookup_value(self, path: str, kind: str, lookup: str) -> Any:
        draw = self.draw
        if lookup == "isnull":
            return draw(st.booleans())
        if lookup == "in":
            values = [self.value(path, kind) for _ in range(draw(st.integers(0, 3)))]
            return values + ([None] if draw(st.integers(0, 5)) == 0 else [])
        if lookup == "range":
            low, high = sorted([self.value(path, kind), self.value(path, kind)])
            return (low, high)
        if lookup in ("regex", "iregex"):
            return draw(st.sampled_from(REGEXES))
        if kind == "text" and lookup != "exact" and lookup not in ORDERED_LOOKUPS:
            return self.text_value(path, lookup)
        if kind == "text" and lookup in ("gt", "gte", "lt", "lte", "exact"):
            return self.value(path, kind)
        if kind == "uuid" and lookup in ("startswith", "icontains"):
            code = self.value(path, kind)
            text = str(code)[: draw(st.integers(1, 10))]
            return text.upper() if lookup == "icontains" else text
        if kind in ("date", "datetime") and lookup.split("__")[0] in (
            "year",
            "month",
            "day",
            "week_day",
            "hour",
            "minute",
        ):
            moment = self.value(path, kind)
            part = lookup.split("__")[0]
            if part == "week_day":
                return moment.isoweekday() % 7 + 1
            return getattr(moment, part)
        if lookup == "date":
            return self.value(path, kind).date()
        if kind == "list":
            if lookup in ("contains", "overlap"):
                return [self.value(path, kind) for _ in range(draw(st.integers(0, 2)))]
            if lookup.startswith("len"):
                return draw(st.integers(0, 3))
            return self.value(path, kind)
        return self.value(path, kind)

    def q(self, depth: int = 0) -> Q:
        case_insensitive = self.draw(st.booleans())
        return self._q(depth, case_insensitive)

    def _q(self, depth: int, case_insensitive: bool) -> Q:
        choice = self.draw(st.integers(0, 5 if depth < 2 else 0))
        if choice <= 2:
            return self.leaf(case_insensitive)
        if choice == 3:
            return ~self._q(depth + 1, case_insensitive)
        left = self._q(depth + 1, case_insensitive)
        right = self._q(depth + 1, case_insensitive)
        return left | right if choice == 4 else left & right

    # querysets ----------------------------------------------------------------
    def steps(self) -> tuple[tuple[str, Q], ...]:
        draw = self.draw
        case_insensitive = draw(st.booleans())
        return tuple(
            (
                draw(st.sampled_from(["filter", "filter", "exclude"])),
                self._q(0, case_insensitive),
            )
            for _ in range(draw(st.integers(0, 2)))
        )

    def ordering(self, fields: tuple[str, ...], max_size: int = 2) -> tuple[str, ...]:
        """Up to ``max_size`` of ``fields``, each ascending or descending, then pk."""
        draw = self.draw
        keys = draw(st.lists(st.sampled_from(fields), max_size=max_size, unique=True))
        return tuple(k if draw(st.booleans()) else f"-{k}" for k in keys) + (
            draw(st.sampled_from(["pk", "-pk"])),
        )

    def spec(self) -> QuerySpec:
        draw = self.draw
        kind = draw(st.sampled_from(["plain"] * 8 + ["grouped", "pages"]))
        if kind == "grouped":
            return self.grouped_spec()
        if kind == "pages":
            return self.pages_spec()
        steps = self.steps()
        terminal = draw(
            st.sampled_from(
                ["list"] * 5 + ["count", "count_limit", "exists", "aggregate", "first", "last"]
            )
        )
        ordering = None
        if terminal in ("list", "first", "last") and draw(st.integers(0, 3)):
            ordering = self.ordering(ORDER_FIELDS)
        window = None
        if terminal != "aggregate" and (ordering or terminal != "list") and draw(st.booleans()):
            low = draw(st.integers(0, 4))
            high = draw(st.one_of(st.none(), st.integers(low, low + 6)))
            window = (low, high)
            if terminal in ("first", "last"):
                window = None
        shape, fields = "models", ()
        if terminal == "list" and draw(st.integers(0, 2)) == 0:
            shape = draw(st.sampled_from(["values", "values_list"]))
            fields = tuple(
                draw(st.lists(st.sampled_from(VALUE_FIELDS), min_size=1, max_size=3, unique=True))
            )
        argument = None
        if terminal == "count_limit":
            argument = draw(st.integers(0, 6))
        elif terminal == "aggregate":
            names = draw(st.lists(st.sampled_from(sorted(AGGREGATES)), min_size=1, max_size=3))
            argument = {name: AGGREGATES[name]() for name in dict.fromkeys(names)}
        # distinct() over model rows: with a filter across the many-to-many inside
        # OR/NOT, each row once instead of once per matching related row.
        distinct = shape == "models" and terminal in ("list", "count") and draw(st.booleans())
        return QuerySpec(
            model="Item",
            steps=steps,
            ordering=ordering,
            window=window,
            shape=shape,
            fields=fields,
            terminal=terminal,
            argument=argument,
            distinct=distinct,
        )

    def grouped_spec(self) -> QuerySpec:
        """``values(...).annotate(...)``: filters, grouping, HAVING and ordering."""
        draw = self.draw
        group = tuple(
            draw(st.lists(st.sampled_from(GROUP_FIELDS), min_size=1, max_size=2, unique=True))
        )
        names = draw(st.lists(st.sampled_from(sorted(GROUP_AGGREGATES)), min_size=1, max_size=3))
        if "n_labels" in names:
            # Beside Count("labels"), SQL aggregates the rows its JOIN multiplied (Django
            # documents that as a wrong result); the nonrel layer aggregates each on
            # its own rows. Deliberate; see docs/reliability.md.
            names = ["n_labels"]
        aggregates = {name: GROUP_AGGREGATES[name]() for name in dict.fromkeys(names)}
        counts = [name for name in aggregates if name in COUNTS]
        having = None
        if counts and draw(st.booleans()):
            lookup = draw(st.sampled_from(["gt", "gte", "lt", "exact"]))
            having = Q(**{f"{draw(st.sampled_from(counts))}__{lookup}": draw(st.integers(0, 3))})
        by_count: tuple[str, ...] = ()
        if counts and draw(st.booleans()):
            count = draw(st.sampled_from(counts))
            by_count = (count if draw(st.booleans()) else f"-{count}",)
        ordering = by_count + tuple(f if draw(st.booleans()) else f"-{f}" for f in group)
        return QuerySpec(
            model="Item",
            steps=self.steps(),
            ordering=ordering,
            shape="values",
            fields=group,
            terminal="grouped",
            argument=aggregates,
            having=having,
        )

    def pages_spec(self) -> QuerySpec:
        """Every page of a BookmarkPaginator over a filtered, ordered queryset."""
        draw = self.draw
        ordering = self.ordering(PAGE_ORDER_FIELDS)
        shape, fields = "models", ()
        if draw(st.integers(0, 2)) == 0:
            # A values() row must hold the ordering fields to make a bookmark.
            chosen = draw(st.lists(st.sampled_from(VALUE_FIELDS), max_size=2, unique=True))
            needed = ["id" if k == "pk" else k for k in (key.lstrip("-") for key in ordering)]
            shape, fields = "values", tuple(dict.fromkeys(chosen + needed))
        steps = self.steps()
        return QuerySpec(
            model="Item",
            steps=steps,
            ordering=ordering,
            shape=shape,
            fields=fields,
            terminal="pages",
            argument=draw(st.integers(1, 4)),
            # Keyset pages hold each row once: a JOIN's repeated rows (a filter across
            # the many-to-many) share every ordering value, so page a distinct() set.
            distinct=any("labels__" in lookup for lookup in QuerySpec("Item", steps=steps).lookups),
        )
