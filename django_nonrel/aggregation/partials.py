"""Mergeable partial aggregates: how grouped results are combined without SQL.

A nonrel store answers grouped aggregation with one ``Partial`` per group and
aggregate instead of a finished value, because the compiler often has to
combine several of them: a group of parent rows sums the partials of each
parent's children (annotations over relations), and MongoDB keeps a missing
key and a null key in separate ``$group`` groups where SQL has one NULL group.
Count, Sum, Avg, Min and Max are all derivable from the same five numbers, so
one shape serves every store and every merge.

``fold_groups`` is the portable way to produce them: a projected ``fetch`` of
the rows, folded in Python. Stores whose server has the accumulators do the
same work in the database (``MongoStore`` with ``$group``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django_nonrel.paths import Path, dig, hashable
from django_nonrel.query import Aggregate, Node, NonrelQuery

#: One group: the key values (in ``group_by`` order) and one Partial per aggregate alias.
Groups = dict[tuple, tuple[tuple, dict[str, "Partial"]]]


@dataclass
class Partial:
    """What is known about one aggregate over some rows.

    ``rows`` counts rows (``Count("*")``), ``count`` the non-null values,
    ``total``/``low``/``high`` their sum, minimum and maximum (None without
    values), ``values`` the distinct non-null values by hashable key (only for
    ``distinct=True`` aggregates).
    """

    rows: int = 0
    count: int = 0
    total: Any = None
    low: Any = None
    high: Any = None
    values: dict[Any, Any] | None = None
    #: For StdDev/Variance: the mean of the values and the sum of their squared
    #: deviations from it (Welford's running form, mergeable by Chan's formula).
    mean: float = 0.0
    deviations: float = 0.0
    #: For BitAnd/BitOr/BitXor: the values' bits combined each way (None without values).
    bits: dict[str, int] | None = None
    #: For StringAgg: ``(order keys, value)`` of each non-null value, in arrival order;
    #: for an aggregate only its SQL defines, ``((), argument values)`` of every row.
    items: list[tuple[tuple, Any]] | None = None

    def add(self, value: Any, spec: Aggregate) -> None:
        """Fold one row's value in for ``spec`` (only Sum/Avg add values up)."""
        self.rows += 1
        if spec.function == "sql":  # the arguments of every row, NULLs included
            self.items = [] if self.items is None else self.items
            self.items.append(((), value))
            return
        keys: tuple = ()
        if spec.order:
            value, keys = value
        if value is None:
            return
        self.count += 1
        if spec.function in BITS:
            self._merge_bits({name: int(value) for name in BITS})
        if spec.function == "string_agg":
            self.items = [*(self.items or ()), (tuple(keys), value)]
            return
        if spec.function in ("sum", "avg"):
            self.total = value if self.total is None else _plus(self.total, value)
        if spec.function in SPREADS:
            delta = float(value) - self.mean
            self.mean += delta / self.count
            self.deviations += delta * (float(value) - self.mean)
        self.low = value if self.low is None or value < self.low else self.low
        self.high = value if self.high is None or value > self.high else self.high
        if spec.distinct and spec.function in ("count", "sum", "avg"):
            if self.values is None:
                self.values = {}
            self.values.setdefault(hashable(value), value)

    def merge(self, other: Partial) -> None:
        """Combine with the partial of other rows (as if their rows were added)."""
        if other.count:
            count = self.count + other.count
            delta = other.mean - self.mean
            self.deviations += other.deviations + delta * delta * self.count * other.count / count
            self.mean += delta * other.count / count
        self.rows += other.rows
        self.count += other.count
        if other.total is not None:
            self.total = other.total if self.total is None else _plus(self.total, other.total)
        if other.low is not None and (self.low is None or other.low < self.low):
            self.low = other.low
        if other.high is not None and (self.high is None or other.high > self.high):
            self.high = other.high
        if other.values:
            self.values = {**(self.values or {}), **other.values}
        if other.bits is not None:
            self._merge_bits(other.bits)
        if other.items:
            self.items = [*(self.items or ()), *other.items]

    def _merge_bits(self, bits: dict[str, int]) -> None:
        if self.bits is None:
            self.bits = dict(bits)
            return
        self.bits = {name: BITS[name](self.bits[name], bits[name]) for name in BITS}

    def result(self, spec: Aggregate) -> Any:
        """The aggregate's value as SQL computes it (NULL for Sum/Avg/Min/Max of nothing)."""
        function = spec.function
        if spec.distinct and function in ("count", "sum", "avg"):
            values = list((self.values or {}).values())
            if function == "count":
                return len(values)
            if not values:
                return None
            total = values[0]
            for value in values[1:]:
                total = _plus(total, value)
            return total if function == "sum" else total / len(values)
        if function == "count":
            return self.rows if spec.path is None else self.count
        if function in SPREADS:
            return self._spread(function)
        if function == "sql":
            assert spec.evaluate is not None
            return spec.evaluate([value for _, value in self.items or ()])
        if not self.count:
            return None
        if function in BITS:
            return self.bits[function] if self.bits is not None else None
        if function == "string_agg":
            return joined(self.items or [], spec)
        if function == "any_value":  # any non-null value of the group: its least
            return self.low
        if function == "sum":
            return self.total
        if function == "avg":
            return self.total / self.count
        return self.low if function == "min" else self.high

    def _spread(self, function: str) -> float | None:
        """Variance or standard deviation, of the population or of a sample (NULL
        without values; a sample's without two)."""
        sample = function.endswith("_samp")
        if self.count < (2 if sample else 1):
            return None
        variance = self.deviations / (self.count - 1 if sample else self.count)
        return math.sqrt(variance) if function.startswith("stddev") else variance


#: Aggregates of the spread of the values: StdDev and Variance (sample=False/True).
SPREADS = frozenset({"stddev_pop", "stddev_samp", "var_pop", "var_samp"})

#: The bitwise aggregates (Django 6.1's BitAnd, BitOr, BitXor) by how they combine two values.
BITS = {"bit_and": operator.and_, "bit_or": operator.or_, "bit_xor": operator.xor}

#: Aggregates only ``Partial.add`` computes (no accumulator of FerretDB v1 or mongomock).
ROW_FOLDED = frozenset({*BITS, "string_agg"})


def joined(items: list[tuple[tuple, Any]], spec: Aggregate) -> str:
    """StringAgg's result: the values in ``spec.order`` (arrival order without one),
    repeated values dropped for ``distinct=True``, joined by the delimiter."""
    items = list(items)
    # Stable sorts from the last term to the first give the order of all terms.
    for index in reversed(range(len(spec.order))):
        term = spec.order[index]
        present = [item for item in items if item[0][index] is not None]
        nulls = [item for item in items if item[0][index] is None]
        present.sort(key=lambda item: item[0][index], reverse=term.descending)
        nulls_first = (not term.descending) if term.nulls_first is None else term.nulls_first
        items = [*nulls, *present] if nulls_first else [*present, *nulls]
    texts = [value if isinstance(value, str) else str(value) for _, value in items]
    if spec.distinct:
        texts = list(dict.fromkeys(texts))
    return (spec.delimiter or "").join(texts)


def _plus(a: Any, b: Any) -> Any:
    try:
        return a + b
    except TypeError:  # Decimal128 read back as Decimal beside doubles
        return float(a) + float(b)


def add_group(groups: Groups, key_values: tuple, partials: dict[str, Partial]) -> None:
    """Merge ``partials`` into the group ``key_values`` (created when new)."""
    key = tuple(hashable(v) for v in key_values)
    if key not in groups:
        groups[key] = (key_values, {alias: Partial() for alias in partials})
    existing = groups[key][1]
    for alias, partial in partials.items():
        existing.setdefault(alias, Partial()).merge(partial)


def by_filter(specs: Sequence[Aggregate]) -> list[tuple[Node | None, list[Aggregate]]]:
    """Aggregates grouped by their ``filter=`` (None first): one pass over the rows each."""
    passes: dict[str, tuple[Node | None, list[Aggregate]]] = {"": (None, [])}
    for spec in specs:
        key = "" if spec.filter is None else repr(spec.filter)
        passes.setdefault(key, (spec.filter, []))[1].append(spec)
    return list(passes.values())


def restricted(query: NonrelQuery, extra: Node | None, columns: list[str] | None) -> NonrelQuery:
    """``query`` with ``extra`` ANDed to its filter and ``columns`` projected."""
    where = query.where
    if extra is not None:
        where = Node(children=[c for c in (query.where, extra) if c])
    return replace(query, where=where, columns=columns, distinct=False)


def fold_groups(
    store: Any, query: NonrelQuery, specs: Sequence[Aggregate], group_by: Sequence[Path]
) -> Groups:
    """Partials per group from projected ``fetch`` commands, one per distinct ``filter=``.

    The first pass (no aggregate filter) also finds every group, so a group
    whose rows all fail an aggregate's filter still appears, with empty partials.
    """
    groups: Groups = {}
    if not group_by:
        groups[()] = ((), {spec.alias: Partial() for spec in specs})
    for extra, members in by_filter(specs):
        if extra is None and not members and not group_by:
            continue
        paths = [*group_by, *(spec.path for spec in members if spec.path is not None)]
        paths += [key.path for spec in members for key in spec.order if key.path is not None]
        columns = list(dict.fromkeys(str(path[0]) for path in paths)) or [query.pk_column]
        for row in store.fetch(restricted(query, extra, columns)):
            key_values = tuple(dig(row, path) for path in group_by)
            partials = {}
            for spec in members:
                partial = Partial()
                value = 1 if spec.path is None else dig(row, spec.path)
                if spec.order:  # StringAgg(order_by=) over a relation: the keys' paths
                    value = (value, tuple(dig(row, key.path) for key in spec.order))
                partial.add(value, spec)
                partials[spec.alias] = partial
            add_group(groups, key_values, partials)
    for _, partials in groups.values():
        for spec in specs:
            partials.setdefault(spec.alias, Partial())
    return groups


def finish(groups: Groups, specs: Iterable[Aggregate]) -> list[tuple[tuple, dict[str, Any]]]:
    """(key values, {alias: value}) per group, in the order the groups were found."""
    specs = list(specs)
    return [
        (key_values, {spec.alias: partials[spec.alias].result(spec) for spec in specs})
        for key_values, partials in groups.values()
    ]
