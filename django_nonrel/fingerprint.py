"""A canonical digest of everything that decides which rows a Django query returns.

Bookmarks (``django_nonrel.pagination``) are bound to their queryset by this
digest, so it must be

- **whole**: filters at any depth with their values, subqueries
  (``pk__in=<queryset>``, ``Exists``, ``Subquery``) with their own filters,
  ordering and slices, expressions (``F()`` comparisons, functions, ``Q`` in
  ``When``), annotations and aliases, joins, ``distinct``, ``values()``, and
  ``raw_query()`` filters of the MongoDB backend -- two querysets that can
  return different rows must get different digests;
- **deterministic**: the same queryset gets the same digest in every process.
  Nothing goes in by ``repr()`` or ``id()``; sets (whose iteration order
  follows ``PYTHONHASHSEED`` for strings) are sorted, and so are the values of
  lookups whose order means nothing (``in``, ``overlap``...), which Django
  turns from a set into a list in the set's iteration order.

:func:`query_fingerprint` walks the ``Query`` into a JSON structure of tagged
values and hashes its text. It never runs a query.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import hashlib
import inspect
import json
import uuid
from typing import Any

from django.db.models import Field, Model, QuerySet
from django.db.models.expressions import BaseExpression
from django.db.models.lookups import Lookup
from django.db.models.sql.datastructures import BaseTable, Join
from django.db.models.sql.query import Query
from django.utils import tree
from django.utils.functional import cached_property

#: Lookups whose right-hand side is a collection in no particular order.
UNORDERED_LOOKUPS = frozenset({"in", "overlap", "contains", "all", "has_keys", "has_any_keys"})
#: Query attributes that decide which rows (and which values of them) come back.
QUERY_PARTS = (
    "where",
    "distinct",
    "distinct_fields",
    "select",
    "values_select",
    "default_cols",
    "group_by",
    "low_mark",
    "high_mark",
    "order_by",
    "extra_order_by",
    "default_ordering",
    "standard_ordering",
    "extra",
    "extra_tables",
    "combinator",
    "combinator_all",
    "combined_queries",
)


def query_fingerprint(query: Query, *context: str) -> str:
    """A hex digest of ``query`` (and of ``context`` strings: alias, ordering...)."""
    text = json.dumps([list(context), canonical(query)], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def canonical(value: Any, path: tuple[int, ...] = ()) -> Any:
    """``value`` as JSON data that is equal for equal values in any process.

    Every value carries its type, so ``1``, ``1.0``, ``True`` and ``"1"`` differ.
    ``path`` holds the ids of the objects being walked (a cycle is cut, not followed).
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return ["str", str(value)]
    if isinstance(value, int):
        return ["int", int(value)]
    if isinstance(value, float):
        return ["float", repr(float(value))]
    if isinstance(value, decimal.Decimal | uuid.UUID | datetime.timedelta):
        return [type(value).__name__, str(value)]
    if isinstance(value, datetime.date | datetime.time):
        return [type(value).__name__, value.isoformat()]
    if isinstance(value, bytes | bytearray | memoryview):
        return ["bytes", bytes(value).hex()]
    if isinstance(value, type):
        return ["type", f"{value.__module__}.{value.__qualname__}"]
    if id(value) in path:
        return ["cycle"]
    path = (*path, id(value))
    if isinstance(value, list | tuple):
        return ["list", [canonical(item, path) for item in value]]
    if isinstance(value, set | frozenset):
        return ["set", _sorted(canonical(item, path) for item in value)]
    if isinstance(value, dict):
        return ["dict", [[canonical(k, path), canonical(v, path)] for k, v in value.items()]]
    if isinstance(value, QuerySet):
        return canonical(value.query, path)
    if isinstance(value, Query):
        return _query(value, path)
    if isinstance(value, Lookup):
        return _lookup(value, path)
    if isinstance(value, Field):
        return _field(value)
    if isinstance(value, Model):
        return ["instance", value._meta.label, canonical(value.pk, path)]
    if isinstance(value, Join):
        return [
            "join",
            value.table_name,
            value.parent_alias,
            value.table_alias,
            value.join_type,
            canonical(value.join_cols, path),
            value.nullable,
            canonical(value.filtered_relation, path),
        ]
    if isinstance(value, BaseTable):
        return ["table", value.table_name, value.table_alias]
    if isinstance(value, tree.Node):  # WhereNode, Q
        return [
            type(value).__qualname__,
            value.connector,
            value.negated,
            [canonical(child, path) for child in value.children],
        ]
    if isinstance(value, BaseExpression) or hasattr(value, "__dict__"):
        return _object(value, path)
    return [type(value).__qualname__, repr(value)]


def _sorted(items: Any) -> list[Any]:
    return sorted(items, key=lambda item: json.dumps(item, separators=(",", ":")))


def _query(query: Query, path: tuple[int, ...]) -> list[Any]:
    parts = {name: canonical(getattr(query, name), path) for name in QUERY_PARTS}
    parts["model"] = query.model._meta.label if query.model is not None else None
    parts["joins"] = [canonical(join, path) for join in query.alias_map.values()]
    parts["annotations"] = canonical(dict(query.annotations), path)
    mask = query.annotation_select_mask
    parts["annotation_mask"] = None if mask is None else sorted(mask)
    return ["query", sorted(parts.items())]


def _lookup(lookup: Lookup, path: tuple[int, ...]) -> list[Any]:
    rhs = canonical(lookup.rhs, path)
    if lookup.lookup_name in UNORDERED_LOOKUPS and isinstance(lookup.rhs, list | tuple):
        rhs = ["set", _sorted(rhs[1])]
    return ["lookup", type(lookup).__qualname__, canonical(lookup.lhs, path), rhs]


def _field(field: Field) -> list[Any]:
    model = vars(field).get("model")
    return ["field", model._meta.label if model else "", field.name, type(field).__qualname__]


def _object(value: Any, path: tuple[int, ...]) -> list[Any]:
    """An expression (or other object) by its class and public attributes.

    What an expression computes is in its class and its public attributes
    (source expressions, connector, value, function, template, output
    field...). Left out: private ones (constructor bookkeeping) and values of
    cached properties, which appear once something read them -- a field's
    ``Col`` is shared by every query, so they depend on what ran before.
    """
    kind = type(value)
    attributes = {
        name: canonical(item, path)
        for name, item in sorted(vars(value).items())
        if not name.startswith("_") and not _is_cache(kind, name)
    }
    return [f"{kind.__module__}.{kind.__qualname__}", sorted(attributes.items())]


def _is_cache(kind: type, name: str) -> bool:
    """Whether ``name`` is a cached property of ``kind`` (its value a computed copy)."""
    attribute = inspect.getattr_static(kind, name, None)
    return isinstance(attribute, functools.cached_property | cached_property)
