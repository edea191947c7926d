"""A Django ``condition`` (``Q``) as a MongoDB ``partialFilterExpression``, where exact.

A partial index covers the documents its filter selects; MongoDB accepts only
a small filter language there (equality, ``$exists: true``, ``$gt``/``$gte``/
``$lt``/``$lte``, ``$type``, and ``$and`` at the top; ``$or``, ``$in`` and any
negation are refused on the servers this backend supports). A condition is
translated only when the filter selects exactly the rows SQL's ``WHERE
condition`` would:

- an AND of ``exact``, ``gt``/``gte``/``lt``/``lte``, ``range`` and ``isnull``
  lookups on the model's own scalar fields (no joins, transforms, keys inside
  JSON or list fields -- equality there would also match list elements);
- ``isnull=True`` is ``{"$eq": None}``, true for null and for absent keys, as
  NULL is both; ``isnull=False`` only on a column whose NULL is stored absent
  (``django_nonrel.nulls``), where it is ``{"$exists": True}``;
- comparisons never select null or absent values in MongoDB, as NULL
  comparisons are never true in SQL.

Anything else returns None: the caller does not create a partial index and
the system check says so (``validation``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import NotSupportedError
from django.db.models import Q
from django.db.models.sql import Query

from django_nonrel.leaves import LeafBuilder
from django_nonrel.nulls import absent_when_null
from django_nonrel.query import AND, Leaf, Node

from .filters import field_path

COMPARISONS = {"exact": "$eq", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
#: Fields whose stored value may be a list or document: equality there matches
#: list elements and sub-documents, which SQL's comparison of the column does not.
STRUCTURED = frozenset(
    {"JSONField", "ListField", "SetField", "DictField", "EmbeddedModelField", "BinaryField"}
)


def partial_filter(model, condition: Q, connection) -> dict[str, Any] | None:
    """The partialFilterExpression selecting the rows ``condition`` holds for, or None."""
    query = Query(model=model, alias_cols=False)
    try:
        where = query.build_where(condition)
        # build_where() allows no joins: every lookup is on the model's own columns.
        tree = LeafBuilder(connection, None, _no_subquery).build_tree(where)
    except (FieldError, NotSupportedError):
        return None
    if isinstance(tree, bool):
        return {} if tree else None
    leaves = _conjunction(tree)
    if leaves is None:
        return None
    absent = absent_when_null(model)
    pk_column = model._meta.pk.column
    clauses = []
    for leaf in leaves:
        clause = _clause(leaf, absent)
        if clause is None:
            return None
        clauses.append({field_path(leaf.path, pk_column): clause})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _no_subquery(subquery):
    raise NotSupportedError("A partial index condition cannot hold a subquery.")


def _conjunction(tree: Node | Leaf) -> list[Leaf] | None:
    """The leaves of an AND of leaves (nested ANDs flattened), or None."""
    if isinstance(tree, Leaf):
        return [tree]
    if tree.negated or tree.connector != AND:
        return None
    leaves = []
    for child in tree.children:
        found = _conjunction(child)
        if found is None:
            return None
        leaves.extend(found)
    return leaves


def _clause(leaf: Leaf, absent: frozenset[str]) -> dict[str, Any] | None:
    """The operator document of one leaf, or None when it has no exact form."""
    if leaf.transform is not None or len(leaf.path) != 1 or leaf.field is None:
        return None
    if leaf.field.get_internal_type() in STRUCTURED:
        return None
    if leaf.lookup == "isnull":
        if leaf.value:
            return {"$eq": None}
        return {"$exists": True} if leaf.column in absent else None
    if isinstance(leaf.value, (list, tuple, dict, set)) and leaf.lookup != "range":
        return None
    if leaf.lookup == "range":
        low, high = leaf.value
        return {"$gte": low, "$lte": high}
    operator = COMPARISONS.get(leaf.lookup)
    if operator is None or leaf.value is None:
        return None
    return {operator: leaf.value}
