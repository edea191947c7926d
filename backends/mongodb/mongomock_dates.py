"""mongomock computes the ISO week date operators MongoDB has.

``$isoWeekYear``, ``$isoWeek`` and ``$isoDayOfWeek`` are MongoDB aggregation
operators (Django's ``ExtractIsoYear``, ``ExtractWeek`` and
``ExtractIsoWeekDay`` become them) that mongomock lists but raises
NotImplementedError for, so those extracts failed on ``mongomock://`` only.
``apply()`` computes them from the date (in the given ``timezone``, as for the
other date operators) and leaves every other operator to mongomock; it is
applied once, when the first ``mongomock://`` client is made.
"""

from __future__ import annotations

from typing import Any

#: operator -> index in ``date.isocalendar()``.
ISO_OPERATORS = {"$isoWeekYear": 0, "$isoWeek": 1, "$isoDayOfWeek": 2}


def apply() -> None:
    """Wrap mongomock's date operators with the ISO ones (idempotent)."""
    from mongomock import aggregate

    parser = aggregate._Parser
    original = parser._handle_date_operator
    if getattr(original, "computes_iso_dates", False):
        return

    def _handle_date_operator(self: Any, operator: str, values: Any) -> Any:
        if operator not in ISO_OPERATORS:
            return original(self, operator, values)
        if isinstance(values, dict) and values.keys() == {"date", "timezone"}:
            import pytz

            date = self.parse(values["date"])
            if date is None:
                return None
            date = date.replace(tzinfo=pytz.utc).astimezone(pytz.timezone(values["timezone"]))
        else:
            date = self.parse(values)
            if date is None:
                return None
        return date.isocalendar()[ISO_OPERATORS[operator]]

    _handle_date_operator.computes_iso_dates = True
    parser._handle_date_operator = _handle_date_operator
