"""Aggregates across relations without JOINs: one command per relation hop.

``Count("books")`` or ``Sum("books__labels__weight")`` of a set of parent rows
is answered from the parents' keys: intermediate hops (many-to-many through
tables, chains) read (key, next key) pairs with one ``in`` command each, the
last hop is grouped by its foreign key in the store, and the partials are
merged back up to each parent key -- never one command per parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django_nonrel.aggregation.partials import Partial
from django_nonrel.paths import hashable
from django_nonrel.query import Leaf, Node, NonrelQuery


@dataclass
class Hop:
    """One relation step: rows of ``table`` whose ``child_column`` equals the parent's
    ``parent_column``."""

    alias: str
    table: str
    pk_column: str
    parent_column: str
    child_column: str
    #: The relation's own condition (GenericRelation's content type), or None.
    condition: Node | None = None


def related_partials(store, hops, specs, keys) -> dict[Any, dict[str, Partial]]:
    """Partials of ``specs`` per parent key, following ``hops``: one command per hop.

    Intermediate hops (M2M through tables, chains) fetch (key, next key)
    pairs; the last hop is grouped by its foreign key in the store.
    """
    if not keys:
        return {}
    *middle, last = hops
    mappings = []
    current = list(dict.fromkeys(keys))
    for index, hop in enumerate(middle):
        next_column = hops[index + 1].parent_column
        columns = list(dict.fromkeys([hop.child_column, next_column]))
        query = NonrelQuery(
            table=hop.table,
            pk_column=hop.pk_column,
            where=_keyed(hop, current),
            columns=columns,
        )
        pairs: dict[Any, list[Any]] = {}
        for row in store.fetch(query):
            pairs.setdefault(hashable(row.get(hop.child_column)), []).append(row.get(next_column))
        mappings.append(pairs)
        found = {hashable(v): v for vs in pairs.values() for v in vs if v is not None}
        current = list(found.values())
    groups: dict[Any, dict[str, Partial]] = {}
    if current:
        query = NonrelQuery(table=last.table, pk_column=last.pk_column, where=_keyed(last, current))
        found = store.aggregate_groups(query, specs, [(last.child_column,)])
        groups = {hashable(values[0]): partials for values, partials in found.values()}
    for pairs in reversed(mappings):
        upper: dict[Any, dict[str, Partial]] = {}
        for key, next_keys in pairs.items():
            merged = {spec.alias: Partial() for spec in specs}
            for next_key in next_keys:
                for alias, partial in groups.get(hashable(next_key), {}).items():
                    merged[alias].merge(partial)
            upper[key] = merged
        groups = upper
    return groups


def _keyed(hop: Hop, keys: list[Any]) -> Node:
    """Rows of ``hop``'s table whose foreign key is in ``keys`` (and its condition)."""
    children: list[Node | Leaf] = [Leaf((hop.child_column,), "in", keys)]
    if hop.condition is not None:
        children.append(hop.condition)
    return Node(children=children)
