"""JSONField lookups SQL answers on JSON text or paths, evaluated in Python.

Pattern lookups on the column itself (``value__icontains="bax"``) match SQL's
text of the JSON document, keys included, which no MongoDB filter reads: they
are evaluated on the rows read, on ``json.dumps`` of the value (the text Django
writes to SQL backends).

``has_key``/``has_keys``/``has_any_keys``:

Used where a filter or an annotation is evaluated on the rows read
(``django_nonrel.expressions``): a key given as an expression
(``value__has_key=F("value__baz__a")``, ``KeyTransform("b", KeyTransform(1,
"value"))``) or a lookup on a literal ``Value({...}, JSONField())``. As in
Django's ``HasKeyLookup``, a key given as a key transform names the *path* of
that transform (its keys, not its value), relative to the left-hand side; the
segments before the last follow SQL's JSON path (digits index an array), the
last is always an object member (``compile_json_path_final_key``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db.models import JSONField
from django.db.models.expressions import Col, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.lookups import IExact, Lookup, PatternLookup, Regex

#: The lookups this module answers, and whether every key (True) or any key must exist.
KEY_LOOKUPS = {"has_key": True, "has_keys": True, "has_any_keys": False}


def key_paths(rhs: Any) -> list[list[str]]:
    """The key paths a has_key lookup's right-hand side names."""
    keys = rhs if isinstance(rhs, list | tuple) else [rhs]
    return [_path_of(key) for key in keys]


def _path_of(key: Any) -> list[str]:
    if not isinstance(key, KeyTransform):
        return [str(key)]
    path = []
    node = key
    while isinstance(node, KeyTransform):
        path.append(str(node.key_name))
        node = node.lhs
    return path[::-1]


def has_path(value: Any, path: list[str]) -> bool:
    """Whether the JSON ``value`` has ``path`` (SQL's JSON path, final key a member)."""
    *steps, last = path
    for step in steps:
        if isinstance(value, list) and _index(step) is not None:
            index = _index(step)
            if not -len(value) <= index < len(value):
                return False
            value = value[index]
        elif isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return False
    return isinstance(value, dict) and last in value


def _index(step: str) -> int | None:
    try:
        return int(step)
    except ValueError:
        return None


def has_keys(value: Any, paths: list[list[str]], every: bool) -> bool:
    """has_key/has_keys (``every``) or has_any_keys of ``value``."""
    found = (has_path(value, path) for path in paths)
    return all(found) if every else any(found)


def is_pattern_on_json_column(lookup: Lookup) -> bool:
    """A text pattern (``contains``, ``icontains``, ``regex``...) on a JSONField
    column, which SQL matches against the document's JSON text."""
    return (
        isinstance(lookup, PatternLookup | IExact | Regex)
        and isinstance(lookup.lhs, Col)
        and isinstance(lookup.lhs.output_field, JSONField)
    )


def as_json_text(value: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The JSON text of the value ``value(row)`` returns (None stays SQL NULL)."""

    def text(row: Any) -> Any:
        found = value(row)
        return None if found is None else json.dumps(found)

    return text


def is_json_null(value: Any) -> bool:
    """Whether ``value`` is JSON null as Django writes it in a query:
    ``Value(None, JSONField())`` or Django 6.1's ``JSONNull()``."""
    return (
        isinstance(value, Value)
        and value.value is None
        and isinstance(value._output_field_or_none, JSONField)
    )
