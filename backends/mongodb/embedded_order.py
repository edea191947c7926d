"""mongomock sorts NaN where MongoDB does.

MongoDB orders a NaN double below every other number (and above null), and
NaN ties with NaN. mongomock compares sort keys with Python's operators, for
which every comparison with NaN is false, so ``sort()`` over a column holding
NaN returns the rows in an arbitrary order -- and bookmark pages, which seek
by that order, skipped rows. ``apply()`` makes mongomock's sort key (the one
``find().sort()`` and ``$sort`` use) order NaN as MongoDB does; it changes
nothing else and is applied once, when the first ``mongomock://`` client is made.
"""

from __future__ import annotations

import numbers
from typing import Any


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


def apply() -> None:
    """Swap mongomock's sort-key class for one that orders NaN (idempotent)."""
    from mongomock import filtering

    original = filtering.BsonComparable
    if getattr(original, "orders_nan", False):
        return

    class NaNOrderedComparable(original):
        """A sort key: NaN below every other number, equal to NaN; else mongomock's order."""

        orders_nan = True

        def __lt__(self, other: Any) -> bool:
            a, b = self.obj, other.obj
            if (_is_nan(a) or _is_nan(b)) and _is_number(a) and _is_number(b):
                return _is_nan(a) and not _is_nan(b)
            return super().__lt__(other)

    filtering.BsonComparable = NaNOrderedComparable
