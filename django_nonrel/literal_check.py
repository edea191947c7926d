"""Conditions over literal values, evaluated in Python: ``Q(...).check(values)``.

Django validates a ``CheckConstraint`` (``Model.full_clean()``, ModelForm and admin
validation) with ``Q(condition).check(against)``: a query without a model whose
annotations are the instance's values and whose WHERE is the condition, run as
``SELECT 1 WHERE ...``. A document store has no table-less SELECT, and a database
error there makes Django log a warning and treat the constraint as satisfied — every
value would pass. Such a query touches no stored data, so it is evaluated here, in
Python, with SQL's three-valued logic (a comparison with NULL is unknown, and a
CHECK constraint passes when its condition is unknown, as on SQL databases).
Shapes outside the supported lookups raise NotSupportedError naming what is
missing (Django then logs that warning, as before).

``UniqueConstraint.validate()`` with a ``condition`` checks
``condition & Exists(rows that would collide)`` the same way: the ``Exists``
is a query on the model's table, run on the backend as ``exists()`` (a
refusal there would make Django report every instance as a violation).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from django.db import NotSupportedError
from django.db.models.expressions import (
    Exists,
    ExpressionWrapper,
    NegatedExpression,
    Ref,
    Value,
)
from django.db.models.fields.json import KeyTransform
from django.db.models.lookups import Lookup
from django.db.models.sql.query import Query
from django.db.models.sql.where import AND, OR, XOR, NothingNode, WhereNode

#: Unknown (SQL NULL) in three-valued logic.
UNKNOWN = None


def _contains(a: Any, b: Any) -> bool:
    return str(b) in str(a)


def _icontains(a: Any, b: Any) -> bool:
    return str(b).lower() in str(a).lower()


LOOKUPS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": operator.eq,
    "iexact": lambda a, b: str(a).lower() == str(b).lower(),
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "in": lambda a, b: a in b,
    "range": lambda a, b: b[0] <= a <= b[1],
    "contains": _contains,
    "icontains": _icontains,
    "startswith": lambda a, b: str(a).startswith(str(b)),
    "istartswith": lambda a, b: str(a).lower().startswith(str(b).lower()),
    "endswith": lambda a, b: str(a).endswith(str(b)),
    "iendswith": lambda a, b: str(a).lower().endswith(str(b).lower()),
}


def is_literal_query(query: Query) -> bool:
    """A query with no model: Django's ``Q.check()``."""
    return query.model is None


def evaluate(query: Query, connection) -> tuple | None:
    """The selected annotations' values when the WHERE holds (or is unknown), else None."""
    verdict = _node(query.where, connection)
    if verdict is False:
        return None
    return tuple(_value(expression, connection) for expression in query.annotation_select.values())


def _node(node: Any, connection) -> bool | None:
    if isinstance(node, NothingNode):
        return False
    if isinstance(node, WhereNode):
        results = [_node(child, connection) for child in node.children]
        if node.connector == AND:
            verdict = False if False in results else (UNKNOWN if UNKNOWN in results else True)
        elif node.connector == OR:
            verdict = True if True in results else (UNKNOWN if UNKNOWN in results else False)
        elif node.connector == XOR:
            verdict = UNKNOWN if UNKNOWN in results else sum(results) % 2 == 1
        else:  # pragma: no cover - Django has no other connector
            raise NotSupportedError(f"Connector {node.connector!r} in a literal condition.")
        if node.negated and verdict is not UNKNOWN:
            verdict = not verdict
        return verdict
    if isinstance(node, Lookup):
        return _lookup(node, connection)
    raise NotSupportedError(
        f"{type(node).__name__} in a check over literal values is not supported on this backend."
    )


def _lookup(lookup: Lookup, connection) -> bool | None:
    lhs = _value(lookup.lhs, connection)
    rhs = lookup.rhs
    if isinstance(rhs, (list, tuple)):
        rhs = [_value(item, connection) for item in rhs]
    else:
        rhs = _value(rhs, connection)
    if lookup.lookup_name == "isnull":
        return (lhs is None) == bool(rhs)
    compare = LOOKUPS.get(lookup.lookup_name)
    if compare is None:
        raise NotSupportedError(
            f"The {lookup.lookup_name!r} lookup in a check over literal values is not "
            "supported on this backend."
        )
    if lhs is None or rhs is None:
        return UNKNOWN
    try:
        return bool(compare(lhs, rhs))
    except TypeError as exc:
        raise NotSupportedError(f"Cannot compare {lhs!r} with {rhs!r}: {exc}") from exc


def _value(expression: Any, connection) -> Any:
    while isinstance(expression, (Ref, ExpressionWrapper)):
        expression = expression.source if isinstance(expression, Ref) else expression.expression
    if isinstance(expression, Value):
        return expression.value
    if isinstance(expression, Exists):
        return expression.query.get_compiler(connection=connection).has_results()
    if isinstance(expression, NegatedExpression):
        inner = _value(expression.expression, connection)
        return UNKNOWN if inner is UNKNOWN else not inner
    if isinstance(expression, WhereNode):  # a condition used as a value (ExpressionWrapper(Q))
        return _node(expression, connection)
    if isinstance(expression, KeyTransform):  # JSONField key: data__version
        document = _value(expression.lhs, connection)
        key = expression.key_name
        if isinstance(document, list) and key.lstrip("-").isdigit():
            index = int(key)
            return document[index] if -len(document) <= index < len(document) else UNKNOWN
        return document.get(key) if isinstance(document, dict) else UNKNOWN
    if hasattr(expression, "resolve_expression"):
        raise NotSupportedError(
            f"{type(expression).__name__} in a check over literal values is not supported on "
            "this backend."
        )
    return expression
