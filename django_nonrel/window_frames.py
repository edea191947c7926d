"""Window frames (``RowRange``, ``ValueRange``, exclusions): which rows of its partition
a row's window aggregate or FirstValue/LastValue/NthValue reads.

As SQL: ROWS counts rows from the current one; RANGE counts sort values -- 0
(CURRENT ROW) is the current row's first or last peer, an offset ``n`` reaches
the rows whose (single) sort value is within ``n`` of the current one (a NULL
current value reaches its NULL peers only). Django's exclusions (5.1+) drop the
current row (CURRENT ROW), its peers (GROUP) or its peers but itself (TIES).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import DataError, NotSupportedError

from django_nonrel.exceptions import unsupported


@dataclass(frozen=True)
class Partition:
    """One partition's rows (``{alias: document}``) in window order, with what frames
    and ranks read."""

    rows: list[Any]
    #: Each row's sort values (``order_by`` terms), in ``rows`` order.
    values: list[tuple]
    #: Per row: (index of its first peer, index of its last peer).
    peers: list[tuple[int, int]]


@dataclass(frozen=True)
class Frame:
    """A window's frame: ROWS or RANGE between ``start`` and ``end`` (None: unbounded)."""

    kind: str
    start: int | None
    end: int | None
    #: SQL's EXCLUDE: "CURRENT ROW", "GROUP", "TIES" or None (NO OTHERS).
    exclusion: str | None = None
    #: The direction of the only sort key (RANGE offsets; None: not one key).
    descending: bool | None = None

    def bounds(self, partition: Partition, index: int) -> tuple[int, int]:
        """(first index, index past the last) of the frame of the row at ``index``."""
        size = len(partition.rows)
        if self.kind == "ROWS":
            start = 0 if self.start is None else max(index + self.start, 0)
            stop = size if self.end is None else min(index + self.end + 1, size)
            return start, max(start, stop)
        first, last = partition.peers[index]
        start = 0 if self.start is None else first if self.start == 0 else None
        stop = size if self.end is None else last + 1 if self.end == 0 else None
        if start is None:
            start = self._reach(partition, index, self.start, first)
        if stop is None:
            stop = self._reach(partition, index, self.end, last) + 1
        return start, max(start, stop)

    def _reach(self, partition: Partition, index: int, offset: int, peer: int) -> int:
        """The farthest index, towards ``offset``'s side, whose value is within it."""
        current = partition.values[index][0]
        if current is None:
            return peer
        step = -1 if offset < 0 else 1
        # Preceding rows hold smaller values in ascending order, larger in descending.
        sign = -step if self.descending else step
        try:
            limit = current + sign * abs(offset)
        except TypeError:
            raise unsupported(
                f"A RANGE frame offset on {type(current).__name__} values",
                "Order the window by a number, or use a ROWS frame (RowRange).",
            ) from None
        position = peer
        while 0 <= position + step < len(partition.rows):
            value = partition.values[position + step][0]
            if value is None or (value - limit) * sign > 0:
                break
            position += step
        return position

    def rows(self, partition: Partition, index: int) -> list[int]:
        """The indexes of the rows in the frame of the row at ``index``."""
        start, stop = self.bounds(partition, index)
        members = range(start, stop)
        if self.exclusion is None:
            return list(members)
        first, last = partition.peers[index]
        if self.exclusion == "CURRENT ROW":
            excluded = {index}
        elif self.exclusion == "GROUP":
            excluded = set(range(first, last + 1))
        else:  # TIES
            excluded = set(range(first, last + 1)) - {index}
        return [member for member in members if member not in excluded]


def frame_of(connection, frame: Any, *, ordered: bool, descending: bool | None) -> Frame:
    """The ``Frame`` of a window's ``frame`` (None: SQL's default for the window).

    Django's own checks of the bounds and of exclusions run first (the errors
    ``WindowFrame.as_sql`` raises on a SQL backend).
    """
    if frame is None:
        # SQL's default: through the current row's peers when ordered, else everything.
        return Frame("RANGE", None, 0 if ordered else None)
    start, end = frame.start.value, frame.end.value
    frame.window_frame_start_end(connection, start, end)
    if frame.exclusion and not connection.features.supports_frame_exclusion:
        raise NotSupportedError("This backend does not support window frame exclusions.")
    if frame.frame_type == "RANGE" and (start or end) and descending is None:
        raise DataError("A RANGE frame with an offset needs exactly one order_by expression.")
    exclusion = frame.exclusion
    exclusion = None if exclusion is None or exclusion.value == "NO OTHERS" else exclusion.value
    return Frame(frame.frame_type, start, end, exclusion, descending)


def peer_groups(values: list[tuple], same: Any) -> list[tuple[int, int]]:
    """Per row: (first, last) index of the rows with the same sort values (``same``)."""
    groups: list[tuple[int, int]] = []
    first = 0
    for index in range(1, len(values) + 1):
        if index == len(values) or not same(values[first], values[index]):
            groups += [(first, index - 1)] * (index - first)
            first = index
    return groups
