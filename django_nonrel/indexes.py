"""``PathIndex``: a ``Meta.indexes`` entry on paths inside embedded, dict and list fields.

Django's system check refuses ``models.Index(fields=["address__city"])``
(models.E012: it only knows concrete fields), yet an index on a path inside a
document is one of the main reasons to model data as documents. ``PathIndex``
takes the same ``__`` paths that ``filter()`` takes, gives Django the root
fields so its checks and migrations work unchanged, and keeps the full paths
for the backend:

- MongoDB creates ``{"address.city": 1, "visits": -1}``; an index on a list
  path is a multikey index, so ``tags="x"`` and ``items__name="x"`` use it;
- SQL backends index the root columns (the JSON column), which is what they
  can do with a plain ``Index``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Index

LOOKUP_SEP = "__"


class PathIndex(Index):
    """``PathIndex(fields=["address__city", "-visits"], name="shop_city_visits")``."""

    def __init__(self, *, fields: list[str] | tuple[str, ...] = (), **kwargs: Any) -> None:
        if not fields:
            raise ValueError("PathIndex needs at least one path in fields.")
        if not all(isinstance(path, str) for path in fields):
            raise ValueError("PathIndex.fields must be a list of paths such as 'address__city'.")
        self.paths = list(fields)
        roots = [path.split(LOOKUP_SEP, 1)[0] for path in self.paths]
        super().__init__(fields=roots, **kwargs)

    @property
    def path_orders(self) -> list[tuple[str, int]]:
        """(path without its sign, 1 or -1) per path, in order."""
        return [(path.removeprefix("-"), -1 if path.startswith("-") else 1) for path in self.paths]

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        kwargs["fields"] = list(self.paths)
        return "django_nonrel.indexes.PathIndex", args, kwargs

    def clone(self) -> PathIndex:
        _, args, kwargs = self.deconstruct()
        return self.__class__(*args, **kwargs)
