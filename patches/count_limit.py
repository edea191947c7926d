"""``QuerySet.count(limit=N)``: an upper bound computed by the database.

Wraps ``django.db.models.QuerySet.count``. Counting every match to show "100+"
costs a full scan on any database; ``count(limit=100)`` counts at most 100
rows. It is ``self[:limit].count()`` under the hood, which Django already
pushes down (``SELECT COUNT(*) FROM (... LIMIT n)`` on SQL) and nonrel stores
run as a limited count (``count_documents(limit=n)`` on MongoDB). Without
``limit`` Django's ``count()`` runs unchanged, on every backend.
"""

from django.db.models import QuerySet

from django_nonrel.patches.versions import wrap

PATCH = "count_limit"


def _make_count(original):
    def count(self, limit: int | None = None) -> int:
        """Number of rows, or ``min(rows, limit)`` counted by the database."""
        if limit is None:
            return original(self)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"count(limit=...) takes a non-negative integer, not {limit!r}.")
        if self._result_cache is not None:
            return min(len(self._result_cache), limit)
        return original(self[:limit])

    return count


def apply() -> None:
    wrap(QuerySet, "count", PATCH, _make_count)
