"""Scenarios: each module's ``cases(context)`` returns the cases it measures.

A scenario writes each piece of work once for the ORM (run against every ORM
variant's database alias) and once per raw driver family (pymongo-style for
MongoDB targets, DB-API SQL for MariaDB). Features that have not landed on this
build make a case report "not available on this build: <reason>" instead of a
number, and are measured as soon as they land.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.measure import Case, Variant
from bench.peers import Work
from bench.sizes import Sizes
from bench.targets import Opened

#: Which ORM alias holds the tables a raw variant reads and writes.
RAW_ALIASES = {"raw": "default", "raw-singlestoredb": "singlestore"}


@dataclass
class Context:
    opened: Opened
    sizes: Sizes
    #: model -> rows it currently holds in every alias, when known.
    filled: dict[Any, int] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.opened.kind

    @property
    def aliases(self) -> list[str]:
        return list(dict.fromkeys(self.opened.orm.values()))

    def variants(
        self,
        *,
        orm: Callable[[str, Any], int],
        raw: Callable[[Any, Any], int],
        orm_setup: Callable[[str], Any] | None = None,
        raw_setup: Callable[[Any], Any] | None = None,
        skip_orm: dict[str, str] | None = None,
    ) -> dict[str, Variant]:
        """Raw and ORM variants, interleaved in the order raw, ORM, raw, ORM..."""
        result = {}
        for name, alias in self.opened.orm.items():
            if skip_orm and name in skip_orm:
                continue
            raw_name = next(r for r, a in RAW_ALIASES.items() if a == alias)
            handle = self.opened.raw[raw_name]
            result[raw_name] = Variant(
                run=lambda state, h=handle: raw(h, state),
                setup=(lambda h=handle: raw_setup(h)) if raw_setup else (lambda: None),
                counter=self.opened.counters[raw_name],
            )
            result[name] = Variant(
                run=lambda state, a=alias: orm(a, state),
                setup=(lambda a=alias: orm_setup(a)) if orm_setup else (lambda: None),
                counter=self.opened.counters[name],
            )
        return result

    def case(
        self, scenario: str, label: str, unit: str = "row", work: Work | None = None, **kwargs: Any
    ) -> Case:
        """A case over every available variant; unavailable ORM variants are named.

        ``work`` names the case's work for the peers (``bench.peers``): each peer
        the target opened is measured beside the raw and ORM variants.
        """
        skip = dict(kwargs.get("skip_orm") or {})
        skip.update(self.opened.unavailable)
        variants = self.variants(**kwargs)
        if not any(name in self.opened.orm for name in variants):
            variants = {}
        if variants and work is not None:
            for peer in self.opened.peers:
                variants[peer.name] = peer.variant(work)
        return Case(scenario, label, variants, unavailable=skip, unit=unit)

    # -- table contents (untimed) ---------------------------------------------
    def empty(self, model) -> None:
        table = model._meta.db_table
        for alias in self.aliases:
            from django.db import connections

            connection = connections[alias]
            if self.kind == "mongodb":
                connection.database[table].delete_many({})
            else:
                with connection.cursor() as cursor:
                    cursor.execute(f"DELETE FROM {table}")
        self.filled[model] = 0

    def fill(self, model, count: int, make: Callable[[int], Any]) -> None:
        """Make every alias hold exactly ``count`` rows ``make(0..count-1)`` of ``model``."""
        if self.filled.get(model) == count:
            return
        self.empty(model)
        for alias in self.aliases:
            for start in range(0, count, 10_000):
                batch = [make(i) for i in range(start, min(count, start + 10_000))]
                model.objects.using(alias).bulk_create(batch)
        self.filled[model] = count

    def forget(self, model) -> None:
        self.filled.pop(model, None)


def scenario_modules() -> list:
    from bench.scenarios import cascade, counts, pages, reads, relations, testcase, writes

    return [writes, reads, relations, pages, cascade, counts, testcase]
