"""Run one generated queryset on the oracle (stock SQLite) and on the backend under test.

``load`` writes a dataset to a database alias; ``compare`` evaluates a
:class:`~tests.differential.strategies.QuerySpec` on both aliases, normalises
only the documented deliberate differences below, and raises AssertionError
with the queryset's code and both results when they differ. A
NotSupportedError from the backend under test is accepted only when the shape
is in :data:`UNSUPPORTED` (each entry names where it is documented); every
outcome is counted in :data:`TALLY`.
"""

from __future__ import annotations

import datetime
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import NotSupportedError, connections
from django.db.models import Model, QuerySet

from django_nonrel.features import nonrel_features
from django_nonrel.pagination import BookmarkPaginator
from tests.differential.models import Badge, Item, Label, Owner, Slot, Spot, Team
from tests.differential.strategies import SPANS, Dataset, QuerySpec

ORACLE = "sqlite"
#: Filter prefixes that cross a multi-valued relation.
MULTI_VALUED = ("labels__",)
UNDER_TEST = "default"
#: The server's text sort key when it compares text by a collation (collation.py):
#: MIN/MAX of collation-equal values ('a', 'A') may return either.
TEXT_KEY: Callable[[str], bytes] | None = None
#: Result names holding text of a collated column (a group key, MAX of one).
COLLATED = frozenset({"name", "note", "max_name"})

#: Where the backend under test may differ from SQLite on purpose, and why.
#: ``oracle.py`` and ``strategies.py`` apply these; docs/reliability.md lists them.
DELIBERATE_DIFFERENCES = {
    "datetime precision": (
        "BSON dates keep milliseconds; generated datetimes have millisecond precision."
    ),
    "case-sensitive LIKE on SQLite": (
        "Django on SQLite runs contains/startswith/endswith as LIKE, which SQLite folds "
        "for ASCII (Django documents this); the oracle sets PRAGMA case_sensitive_like "
        "for querysets using the case-sensitive lookups."
    ),
    "non-ASCII case folding": (
        "SQLite's LIKE folds ASCII letters only, MongoDB's regex options fold Unicode; "
        "generated text has no upper-case non-ASCII letter."
    ),
    "server collation": (
        "MariaDB/MySQL/SingleStore compare and sort text columns by the column's "
        "collation (utf8mb4_unicode_ci here: case- and accent-insensitive, trailing "
        "spaces ignored, UCA order); the oracle's text columns use a SQLite collation "
        "built from the server's weights (collation.py)."
    ),
    "MariaDB uuid": (
        "MariaDB's native uuid type sorts by the groups in reverse order and refuses "
        "some non-RFC bit patterns; the oracle sorts its uuid column the same way, "
        "generated UUIDs are version 4."
    ),
    "time zones outside TIMESTAMP range": (
        "MariaDB's CONVERT_TZ leaves datetimes outside 1970-2038 in UTC, so their date "
        "parts in the current time zone differ; generated datetimes lie within it."
    ),
    "sum and average of doubles": (
        "Sum/Avg over FloatField, and over DecimalField stored as doubles, may differ "
        "in the last bits (accumulation order); compared to a relative 1e-9."
    ),
}


@dataclass(frozen=True)
class Unsupported:
    """A query shape the backend refuses on purpose, and where that is documented."""

    name: str
    documented_in: str
    messages: tuple[str, ...]  # substrings of the NotSupportedError message

    def matches(self, spec: QuerySpec, error: NotSupportedError, connection) -> bool:
        if not any(message in str(error) for message in self.messages):
            return False
        lookups = spec.lookups
        if self.name == "relation spans":
            return any(lookup.startswith(tuple(f"{s}__" for s in SPANS)) for lookup in lookups)
        if self.name == "Python-evaluated filter beside a span or document path":
            return not nonrel_features(connection).supports_date_part_expressions and any(
                not DATE_PARTS.isdisjoint(lookup.split("__")[1:]) for lookup in lookups
            )
        if self.name == "date parts without $expr":
            return not nonrel_features(connection).supports_date_part_expressions
        if self.name == "field comparison beside a span or document path":
            # Only generated writes compare fields (writes.py); reads never do.
            return getattr(spec, "compares_fields", False) and any(
                lookup.split("__")[0] in NOT_PYTHON_EVALUABLE for lookup in lookups
            )
        if self.name == "datetime __date":
            return any(lookup == "moment__date" for lookup in lookups)
        if self.name == "grouped aggregates over rows a many-to-many filter repeats":
            return spec.terminal == "grouped" and any(
                lookup.startswith(MULTI_VALUED) for lookup in lookups
            )
        if self.name == "filter on the relation an annotation aggregates":
            return spec.terminal == "grouped" and any(
                lookup.startswith(MULTI_VALUED) for lookup in lookups
            )
        return False


#: Date-part lookups (``moment__month``) that FerretDB v1 cannot run server-side.
DATE_PARTS = frozenset(
    {
        "year",
        "iso_year",
        "month",
        "day",
        "week",
        "week_day",
        "iso_week_day",
        "quarter",
        "hour",
        "minute",
        "second",
    }
)


#: First segments of lookups Python cannot evaluate beside a field comparison inside
#: OR/NOT: relation spans, and embedded, dict and list paths (MongoDB's matching rules).
NOT_PYTHON_EVALUABLE = frozenset({"owner", "labels", "meta", "place", "tags"})

UNSUPPORTED = (
    # A span is a JOIN; a negated span over a multi-valued relation is Django's
    # EXISTS subquery.
    Unsupported(
        "relation spans", "docs/mongodb.md (Relations)", ("needs a JOIN", "'Exists' transform")
    ),
    Unsupported(
        "date parts without $expr", "docs/mongodb.md (Date parts per server)", ("need $expr",)
    ),
    # A filter the server cannot run (date parts on FerretDB v1) is evaluated in
    # Python on the fetched rows; combined by OR/NOT with a relation span or a
    # document-path lookup it would need related rows or MongoDB's path matching
    # there too.
    Unsupported(
        "Python-evaluated filter beside a span or document path",
        "docs/mongodb.md (Expressions)",
        ("The expression KeyTransform", "The expression"),
    ),
    # The same with a field compared with another field (F()), which no server runs
    # in a filter: its OR/NOT branch goes to Python with the span or path beside it.
    Unsupported(
        "field comparison beside a span or document path",
        "docs/mongodb.md (Expressions)",
        ("An expression over the related field", "The expression"),
    ),
    Unsupported(
        "datetime __date",
        "docs/mongodb.md (Date parts per server)",
        ("'date' transform is not supported",),
    ),
    # filter(labels__...) then annotate(Count("labels")): SQL counts only the
    # filtered related rows; the aggregation layer asks for filter= instead.
    Unsupported(
        "filter on the relation an annotation aggregates",
        "docs/mongodb.md (Aggregation)",
        ("filter() on the relation an annotation aggregates",),
    ),
    # SQL's JOIN repeats a row per matching related row and GROUP BY aggregates
    # every copy; the grouped read takes each row once, so it refuses.
    Unsupported(
        "grouped aggregates over rows a many-to-many filter repeats",
        "docs/mongodb.md (Aggregation)",
        ("Grouped aggregates over a field of the queried model after a filter across",),
    ),
)


@dataclass
class Tally:
    """What the differential runs did, for the report and docs/reliability.md."""

    compared: Counter = field(default_factory=Counter)
    unsupported: Counter = field(default_factory=Counter)
    open_mismatches: Counter = field(default_factory=Counter)
    datasets: int = 0

    @property
    def total(self) -> int:
        return (
            sum(self.compared.values())
            + sum(self.unsupported.values())
            + sum(self.open_mismatches.values())
        )

    def summary(self, vendor: str) -> str:
        lines = [
            f"differential ({vendor} vs stock SQLite): {self.total} querysets on "
            f"{self.datasets} datasets, {sum(self.compared.values())} compared equal, "
            f"{sum(self.unsupported.values())} refused as documented"
        ]
        lines += [f"  compared {k}: {v}" for k, v in sorted(self.compared.items())]
        lines += [f"  refused ({k}): {v}" for k, v in sorted(self.unsupported.items())]
        lines += [f"  OPEN MISMATCH ({k}): {v}" for k, v in sorted(self.open_mismatches.items())]
        return "\n".join(lines)


TALLY = Tally()


# -- data -------------------------------------------------------------------------
def load(dataset: Dataset, alias: str) -> None:
    """Replace every differential table's rows on ``alias`` with ``dataset``."""
    through = Item.labels.through
    for model in (Slot, Badge, through, Item, Owner, Label, Team):
        model.objects.using(alias).all()._raw_delete(alias)
    manager = lambda model: model.objects.using(alias)  # noqa: E731
    manager(Team).bulk_create([Team(**row) for row in dataset.teams])
    manager(Owner).bulk_create([Owner(**row) for row in dataset.owners])
    manager(Label).bulk_create([Label(**row) for row in dataset.labels])
    manager(Item).bulk_create([item(row) for row in dataset.items])
    manager(through).bulk_create(
        [through(id=n, item_id=i, label_id=lb) for n, (i, lb) in enumerate(dataset.links, 1)]
    )
    manager(Badge).bulk_create([Badge(**row) for row in dataset.badges])
    manager(Slot).bulk_create([Slot(**row) for row in dataset.slots])


def item(row: dict[str, Any]) -> Item:
    values = dict(row)
    if values["place"] is not None:
        values["place"] = Spot(**values["place"])
    return Item(**values)


# -- evaluation ---------------------------------------------------------------------
def evaluate(spec: QuerySpec, alias: str) -> Any:
    """The result of ``spec`` on ``alias``, normalised for comparison."""
    queryset = Item.objects.using(alias).all()
    for method, q in spec.steps:
        queryset = getattr(queryset, method)(q)
    if spec.distinct:
        queryset = queryset.distinct()
    if spec.terminal == "grouped":
        queryset = queryset.values(*spec.fields).annotate(**spec.argument)
        if spec.having is not None:
            queryset = queryset.filter(spec.having)
        return [normal(row) for row in queryset.order_by(*spec.ordering)]
    if spec.ordering is not None:
        queryset = queryset.order_by(*spec.ordering)
    if spec.shape == "values":
        queryset = queryset.values(*spec.fields)
    elif spec.shape == "values_list":
        queryset = queryset.values_list(*spec.fields)
    if spec.terminal == "pages":
        return pages(queryset, spec.argument, walk=alias != ORACLE)
    if spec.window is not None:
        low, high = spec.window
        queryset = queryset[low:high]
    if spec.terminal == "count":
        return queryset.count()
    if spec.terminal == "count_limit":
        return queryset.count(limit=spec.argument)
    if spec.terminal == "exists":
        return queryset.exists()
    if spec.terminal == "aggregate":
        return {k: normal(v) for k, v in queryset.aggregate(**spec.argument).items()}
    if spec.terminal in ("first", "last"):
        return normal(getattr(queryset, spec.terminal)())
    rows = [normal(row) for row in queryset]
    if spec.ordering is None:
        rows.sort(key=repr)
    return rows


def pages(queryset: QuerySet, per_page: int, walk: bool) -> list[tuple[list[Any], bool]]:
    """(rows, has_next) of every page, from the first until has_next is False.

    ``walk`` follows the bookmarks with BookmarkPaginator (the backend under
    test); otherwise the pages are cut from the whole ordered queryset (the
    oracle): the walk must give exactly those rows, none lost or repeated.
    """
    if not walk:
        rows = [normal(row) for row in queryset]
        cut = [rows[i : i + per_page] for i in range(0, len(rows), per_page)] or [[]]
        return [(page, n < len(cut) - 1) for n, page in enumerate(cut)]
    paginator = BookmarkPaginator(queryset, per_page=per_page)
    page = paginator.page()
    walked = [([normal(row) for row in page], page.has_next)]
    # A walk that never ends is a mismatch, not a hang: stop one page past the rows.
    limit = queryset.count() // per_page + 2
    while page.has_next and len(walked) < limit:
        page = paginator.page(page.next_bookmark)
        walked.append(([normal(row) for row in page], page.has_next))
    return walked


def numeric_key_ordering_on_sql(spec: QuerySpec, connection) -> bool:
    """Ordering by a numeric document key on the SingleStore backend (an open mismatch)."""
    ordered = any(key.lstrip("-") == "meta__n" for key in spec.ordering or ())
    return ordered and connection.settings_dict["ENGINE"] == "django_nonrel.backends.singlestore"


def normal(value: Any) -> Any:
    """A plain, comparable form of a result value."""
    if isinstance(value, Model):
        return tuple(
            (f.attname, normal(getattr(value, f.attname))) for f in value._meta.concrete_fields
        )
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(normal(v) for v in value)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC)
    return value


def types(value: Any) -> Any:
    """The type structure of a normalised result: 1 and 1.0 or Decimal("1") differ."""
    if isinstance(value, dict):
        return {k: types(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [types(v) for v in value]
    return type(value).__name__


def difference(expected: Any, actual: Any, where: str = "result") -> str:
    """The first place two results differ, for a readable failure."""
    if isinstance(expected, (list, tuple)) and isinstance(actual, (list, tuple)):
        if len(expected) != len(actual):
            return f"{where}: {len(expected)} items on SQLite, {len(actual)} here"
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            if e != a or types(e) != types(a):
                return difference(e, a, f"{where}[{index}]")
    return f"{where}: SQLite {expected!r} ({types(expected)}), here {actual!r} ({types(actual)})"


def same_row(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    """aggregate() results, or one group of values().annotate(), compared by name."""
    return expected.keys() == actual.keys() and all(
        same_aggregate(k, expected[k], actual[k]) for k in expected
    )


def same_aggregate(name: str, expected: Any, actual: Any) -> bool:
    if TEXT_KEY is not None and name in COLLATED and isinstance(expected, str):
        return isinstance(actual, str) and TEXT_KEY(expected) == TEXT_KEY(actual)
    if name.startswith(("sum_", "avg_")) and isinstance(expected, (float, Decimal)):
        if actual is None:
            return False
        return math.isclose(float(expected), float(actual), rel_tol=1e-9, abs_tol=1e-9)
    return expected == actual and type(expected) is type(actual)


def set_oracle_case_sensitivity(spec: QuerySpec) -> None:
    """PRAGMA case_sensitive_like on the oracle for contains/startswith/endswith."""
    sensitive = any(
        lookup.rsplit("__", 1)[-1] in ("contains", "startswith", "endswith")
        for lookup in spec.lookups
    )
    for alias in (ORACLE, UNDER_TEST):
        if connections[alias].vendor == "sqlite":  # the SQLite tier tests SQLite too
            with connections[alias].cursor() as cursor:
                cursor.execute(f"PRAGMA case_sensitive_like = {'ON' if sensitive else 'OFF'}")


def compare(spec: QuerySpec, dataset: Dataset) -> None:
    """Evaluate ``spec`` on both aliases; AssertionError naming the queryset if they differ."""
    set_oracle_case_sensitivity(spec)
    expected = evaluate(spec, ORACLE)
    connection = connections[UNDER_TEST]
    try:
        actual = evaluate(spec, UNDER_TEST)
    except NotSupportedError as error:
        TALLY.unsupported[documented_refusal(spec, error, dataset)] += 1
        return
    if spec.terminal == "aggregate":
        equal = same_row(expected, actual)
    elif spec.terminal == "grouped":
        equal = len(expected) == len(actual) and all(
            same_row(e, a) for e, a in zip(expected, actual, strict=True)
        )
    else:
        equal = expected == actual and types(expected) == types(actual)
    if not equal and numeric_key_ordering_on_sql(spec, connection):
        # OPEN: the SingleStore backend on MariaDB orders a document key by its JSON
        # text ('-1' before '-2'); test_regressions.py (strict xfail on that tier).
        TALLY.open_mismatches["document key ordered as JSON text"] += 1
        return
    if not equal:
        raise AssertionError(
            f"{spec}\n  {difference(expected, actual)}\n  SQLite: {expected!r}\n"
            f"  {connection.vendor}: {actual!r}\ndataset: {dataset}"
        )
    kind = spec.terminal if spec.shape == "models" or spec.terminal != "list" else spec.shape
    TALLY.compared[kind] += 1


def documented_refusal(spec: Any, error: NotSupportedError, dataset: Dataset) -> str:
    """The name of the documented shape ``error`` refuses; AssertionError if none is."""
    connection = connections[UNDER_TEST]
    known = next((u for u in UNSUPPORTED if u.matches(spec, error, connection)), None)
    if known is None:
        raise AssertionError(
            f"{spec}\nraised NotSupportedError on {connection.vendor}, and the shape is "
            f"not in the documented unsupported list:\n{error}\ndataset: {dataset}"
        ) from error
    return known.name
