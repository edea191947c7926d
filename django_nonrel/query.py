"""The backend-neutral query a nonrel backend receives instead of SQL.

A nonrel compiler (``django_nonrel.compiler``) turns Django's ``Query`` into a
``NonrelQuery``; a backend translates that into its own commands. The backend
never parses SQL and never sees Django internals beyond these classes.

Filters are a tree: ``Node`` (AND/OR with a ``negated`` flag, any nesting) whose
children are ``Node`` or ``Leaf``. A ``Leaf`` names a path into the stored row
(the column, then dict keys / list indexes into a document), a lookup and a
value that has already been converted for the database.

Lookup names a backend must understand (Django's own names where they exist):

==================  =========================================================
exact               equality; on a list path it also matches when any element
                    equals the value (MongoDB semantics, emulated on SQL)
iexact              case-insensitive equality
contains, icontains, startswith, istartswith, endswith, iendswith
                    substring tests; the value is the raw string, not a pattern
regex, iregex       regular expression (Python/PCRE syntax)
gt, gte, lt, lte    comparisons
in                  value is a list
range               value is a 2-tuple (low, high), inclusive
isnull              value is a bool
all                 list path contains every item of the value (a list)
overlap             list path contains at least one item of the value
len                 with ``Leaf.compare``: the list's length compared to value
native              value is a filter in the store's own syntax, run as given
                    (MongoDB's ``raw_query()``; ``path`` is empty); a store
                    without such a syntax never receives one
==================  =========================================================

``Leaf.transform`` names a function applied to the stored value before the
comparison: ``year``, ``iso_year``, ``month``, ``day``, ``week_day``,
``iso_week_day``, ``week``, ``quarter``, ``hour``, ``minute``, ``second``,
``date``, ``time`` or ``len``; ``compare`` then holds the lookup applied to the
result (``exact``, ``gt``, …) and ``lookup`` equals ``transform``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

AND = "AND"
OR = "OR"
#: The lookup of a Leaf holding a filter in the store's own syntax (see the table).
NATIVE = "native"

#: Date/time parts a Leaf.transform can name.
DATE_PARTS = frozenset(
    {
        "year",
        "iso_year",
        "month",
        "day",
        "week_day",
        "iso_week_day",
        "week",
        "quarter",
        "hour",
        "minute",
        "second",
        "date",
        "time",
    }
)


@dataclass(frozen=True)
class Leaf:
    """One comparison: ``path`` ``lookup`` ``value``.

    ``path`` starts with the stored column name; further elements are dict keys
    (str) or list indexes (int) into a document. ``field`` is the Django field
    whose conversions produced ``value`` (None for keys into untyped dicts).

    ``unknown_when_null`` marks a comparison SQL evaluates to UNKNOWN when the
    value at ``path`` is null or missing (a key inside a document, which
    Django's exclude() does not guard with ``IS NOT NULL``): neither the
    condition nor its negation matches such a row, so ``NOT`` of it must only
    match rows where the value is there.

    ``json`` marks a lookup on a JSONField's value (the column or a key path
    into it): SQL's JSON path rules apply, so JSON null under a key is a value
    distinct from a missing key, and a name segment never reaches into arrays.
    """

    path: tuple[str | int, ...]
    lookup: str
    value: Any
    field: Any = None
    transform: str | None = None
    compare: str | None = None
    unknown_when_null: bool = False
    json: bool = False

    @property
    def column(self) -> str:
        return self.path[0]


@dataclass
class Node:
    """AND/OR of children; ``negated`` wraps the whole node in NOT."""

    connector: str = AND
    children: list[Node | Leaf] = field(default_factory=list)
    negated: bool = False

    def __bool__(self) -> bool:
        return bool(self.children)


#: A filter: a tree, or a constant (True: every row, False: none).
Filter = Node | Leaf | bool


@dataclass
class Ordering:
    """Sort by ``path`` (column, then document keys); ``descending`` reverses."""

    path: tuple[str | int, ...]
    descending: bool = False


@dataclass
class Aggregate:
    """``function`` (count, sum, avg, min, max) over ``path`` (None: count rows).

    ``alias`` is the name the result is returned under. ``filter`` (Django's
    ``filter=`` argument) restricts the rows this aggregate sees, on top of the
    query's own filter.
    """

    alias: str
    function: str
    path: tuple[str | int, ...] | None = None
    distinct: bool = False
    filter: Node | None = None
    #: StringAgg's separator.
    delimiter: str | None = None
    #: An ``order_by=`` of the aggregate (StringAgg), one ``OrderKey`` per term: the
    #: folded values then arrive as ``(value, keys)`` pairs, keys in this order.
    order: tuple[OrderKey, ...] = ()
    #: For ``function == "sql"`` (``django_nonrel.aggregation.sql_aggregates``): the
    #: value of the collected argument rows, as the aggregate's own SQL computes it.
    evaluate: Callable[[list[tuple]], Any] | None = None


@dataclass(frozen=True)
class OrderKey:
    """One term of an aggregate's ``order_by=``: its direction and where NULLs go
    (``nulls_first`` None: as the backend's ORDER BY puts them, lowest), and for an
    aggregate the store folds (over a relation) the path of the value it orders by."""

    descending: bool = False
    nulls_first: bool | None = None
    path: tuple[str | int, ...] | None = None


@dataclass
class NonrelQuery:
    """Everything a backend needs to run a read, update or delete.

    ``columns`` is the projection (stored column names); None means all. Rows a
    backend returns are dicts keyed by column name. ``low``/``high`` are Django's
    slice marks (``high`` None: no upper bound). ``matches_nothing`` is set when
    Django proved the filter empty (``pk__in=[]``): backends return no rows
    without asking the database.
    """

    table: str
    pk_column: str
    where: Node = field(default_factory=Node)
    ordering: list[Ordering] = field(default_factory=list)
    columns: list[str] | None = None
    #: ``columns`` name every field the model stores: whole documents hold
    #: nothing a read needs more, only fields it ignores (see ``projection``).
    whole_rows: bool = False
    low: int = 0
    high: int | None = None
    distinct: bool = False
    matches_nothing: bool = False
    #: Rows per batch a chunked read is fetched in (``QuerySet.iterator(chunk_size=)``,
    #: as Django's compilers fetch a cursor's rows); None: the store's own batches.
    batch_size: int | None = None

    @property
    def limit(self) -> int | None:
        """How many rows at most, after ``low`` are skipped (None: unlimited)."""
        return None if self.high is None else max(self.high - self.low, 0)

    def named_keys(self) -> list[Any] | None:
        """The keys the filter names, which every row it selects is among (None: not bounded).

        ``pk = k``, ``pk IN (...)``, an AND with such a condition, and an OR whose
        every branch has one (a guarded write's key sets) all name them.
        """
        keys = _bound(self.where, self.pk_column)
        return None if keys is None else list(dict.fromkeys(k for k in keys if k is not None))


def _bound(node: Node | Leaf, pk: str) -> list[Any] | None:
    if isinstance(node, Leaf):
        if node.path != (pk,) or node.value is None or node.transform or node.compare:
            return None
        if node.lookup == "exact":
            return [node.value]
        return list(node.value) if node.lookup == "in" else None
    if node.negated or not node.children:
        return None
    bounds = [_bound(child, pk) for child in node.children]
    if node.connector == AND:
        return next((bound for bound in bounds if bound is not None), None)
    if any(bound is None for bound in bounds):
        return None
    return [key for bound in bounds for key in bound]


@dataclass
class UpdateValue:
    """A value an update writes: a literal, or an arithmetic change of the stored value.

    ``operator`` is ``set`` (value is the literal), ``inc`` (add value),
    ``mul`` (multiply by value) or ``unset`` (remove the column; reads see
    None). Anything else in ``update()`` raises NotSupportedError before the
    backend is called.
    """

    operator: str
    value: Any
