"""Paths into stored rows: which path an expression reads, and the value found there.

A path is the stored column, then the keys (str) and list indexes (int) below
it. ``values("address__city")``, ``Sum("meta__dims__w")``, ``order_by`` of a
path and a filter on one all arrive as a chain of transforms over a ``Col``;
the filter translator (``django_nonrel.leaves``), the read's selections and the
aggregation planner read the chain with the same ``path_segment``, so a JSON key
that is a whole number indexes a list everywhere, as Django's own
``compile_json_path`` makes it do in SQL (``data__sizes__0`` is ``$.sizes[0]``).
"""

from collections.abc import Callable
from typing import Any

from django.db.models.expressions import Col
from django.db.models.fields.json import KeyTransform

Path = tuple[str | int, ...]


def key_segment(key: str | int) -> str | int:
    """A key written in a lookup (``"0"``, ``"-1"``, ``"city"``) as a path segment."""
    if isinstance(key, str) and key.lstrip("-").isdigit():
        return int(key)
    return key


def path_segment(node: Any) -> str | int | None:
    """The segment a transform steps into, or None when it is not a step into a path.

    Nonrel field transforms name their segment ``nonrel_path_segment``; Django's
    JSONField key transforms their ``key_name``.
    """
    segment = getattr(node, "nonrel_path_segment", None)
    if segment is None and isinstance(node, KeyTransform):
        segment = key_segment(node.key_name)
    return segment


def column_path(expr: Any, refuse: Callable[[Any], Exception]) -> tuple[Col, Path]:
    """The ``Col`` under ``expr`` and the path segments from it to ``expr``.

    Any link that is not a path step raises ``refuse(link)``; what a caller
    says then differs (the compiler computes the value instead, the
    aggregation planner refuses), the reading does not.
    """
    segments: list[str | int] = []
    node = expr
    while not isinstance(node, Col):
        segment = path_segment(node)
        if segment is None:
            raise refuse(node)
        segments.append(segment)
        node = node.lhs
    return node, tuple(reversed(segments))


def dig(document: dict[str, Any], path: Path) -> Any:
    """The value at ``path`` inside a stored row (missing is None), comparable in Python.

    A JSONField key of digits (``data__d__0``, the segment ``"0"``) indexes a
    list, as SQL's JSON path ``$.d[0]`` does."""
    value: Any = document
    for segment in path:
        if isinstance(value, list) and isinstance(segment, str) and segment.isdigit():
            segment = int(segment)
        if isinstance(value, str | bytes):
            return None  # text has no keys or elements (not its characters)
        try:
            value = value[segment]
        except (KeyError, IndexError, TypeError):
            return None
    return value.to_decimal() if hasattr(value, "to_decimal") else value


def hashable(value: Any) -> Any:
    """A dict key standing for a stored value (lists and dicts are keyed by their content)."""
    if isinstance(value, (dict, list)):
        return repr(value)
    return value
