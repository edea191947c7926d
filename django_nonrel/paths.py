"""Document paths read by an expression: a stored column and the keys below it.

``values("address__city")``, ``Sum("meta__dims__w")`` and ``order_by`` of a path
all arrive as a chain of transforms over a ``Col``. The compiler and the
aggregation planner read the chain the same way; only what they say when a
link is not a path segment differs, so the caller supplies that error.
"""

from collections.abc import Callable
from typing import Any

from django.db.models.expressions import Col
from django.db.models.fields.json import KeyTransform


def column_path(expr: Any, refuse: Callable[[Any], Exception]) -> tuple[Col, tuple[str | int, ...]]:
    """The ``Col`` under ``expr`` and the path segments from it to ``expr``.

    Nonrel field transforms name their segment ``nonrel_path_segment``; Django's
    JSONField key transforms their ``key_name``. Any other link raises
    ``refuse(link)``.
    """
    segments: list[str | int] = []
    node = expr
    while not isinstance(node, Col):
        segment = getattr(node, "nonrel_path_segment", None)
        if segment is None and isinstance(node, KeyTransform):
            segment = node.key_name
        if segment is None:
            raise refuse(node)
        segments.append(segment)
        node = node.lhs
    return node, tuple(reversed(segments))
