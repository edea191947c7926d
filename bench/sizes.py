"""How much data each scenario uses: the issue's sizes, and smaller ones for --quick."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    mode: str
    #: Rows per bulk_create, iteration and filter case.
    rows: int
    #: save() calls on existing rows, and as many on new rows.
    saves: int
    #: Rows read with their related object (select_related / prefetch_related).
    related: int
    #: Rows per page, and the deep page number (page N needs per_page * N rows).
    per_page: int
    deep_page: int
    #: Rows the count(limit=...) case counts over, and the limit.
    count_rows: int
    count_limit: int
    #: Children of the parent a cascade delete removes.
    children: int
    #: Tests in the TestCase suite (each a few queries on the class's rows).
    tests: int
    #: Timed repeats per variant after the warm-up.
    repeats: int


FULL = Sizes(
    mode="full",
    rows=10_000,
    saves=1_000,
    related=1_000,
    per_page=10,
    deep_page=1_000,
    count_rows=100_000,
    count_limit=100,
    children=10_000,
    tests=200,
    repeats=5,
)
#: Sized so that all three targets finish in under two minutes on a 2-core machine
#: (FerretDB on SQLite is the slow one).
QUICK = Sizes(
    mode="quick",
    rows=300,
    saves=100,
    related=200,
    per_page=10,
    deep_page=30,
    count_rows=3_000,
    count_limit=100,
    children=300,
    tests=50,
    repeats=3,
)
