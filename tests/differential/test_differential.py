"""Differential query testing: the backend under test must answer like stock SQLite.

The fast profile runs with the normal suite on every tier (a few hundred
querysets, derandomised so the suite is reproducible); the long profile is the
nox session ``differential`` (``NONREL_DIFFERENTIAL_QUERYSETS``, default
10,000, with random seeds). On the SQLite tier the backend under test is
SQLite with the overlay active, which checks that the overlay leaves stock
Django's answers unchanged.
"""

import math
import os

import pytest
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.differential.oracle import TALLY, compare, load
from tests.differential.strategies import QueryDrawer, datasets

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])

#: Querysets per generated dataset: loading a dataset costs more than a query.
QUERIES_PER_DATASET = 20
FAST_PROFILE = 300
SHRINK = os.environ.get("NONREL_DIFFERENTIAL_SHRINK") == "1"


def profile_size() -> tuple[int, bool]:
    """(querysets to run, derandomise): the env var selects the long profile."""
    wanted = os.environ.get("NONREL_DIFFERENTIAL_QUERYSETS")
    return (int(wanted), False) if wanted else (FAST_PROFILE, True)


@pytest.fixture
def nonrel_or_sqlite():
    if connection.vendor not in ("mongodb", "sqlite"):
        pytest.skip(
            f"the differential profile compares nonrel backends (and the overlay on SQLite) "
            f"with SQLite; stock {connection.vendor} has its own documented differences"
        )


def test_generated_querysets_answer_like_sqlite(nonrel_or_sqlite, capsys):
    querysets, derandomize = profile_size()

    @settings(
        max_examples=math.ceil(querysets / QUERIES_PER_DATASET),
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
        # Shrinking reruns a dozen querysets per step; the failure message names the
        # queryset and dataset already. NONREL_DIFFERENTIAL_SHRINK=1 turns it on.
        phases=[p for p in Phase if p is not Phase.shrink or SHRINK],
    )
    @given(st.data())
    def check(data):
        dataset = data.draw(datasets(), label="dataset")
        load(dataset, "sqlite")
        load(dataset, "default")
        TALLY.datasets += 1
        drawer = QueryDrawer(data.draw, dataset)
        for _ in range(QUERIES_PER_DATASET):
            compare(drawer.spec(), dataset)

    check()
    with capsys.disabled():
        print("\n" + TALLY.summary(connection.vendor))
    assert TALLY.total >= querysets
