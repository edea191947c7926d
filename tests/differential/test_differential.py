"""Differential query testing: the backend under test must answer like stock SQLite.

The fast profile runs with the normal suite on every tier (a few hundred
querysets, derandomised so the suite is reproducible); the long profile is the
nox session ``differential`` (``NONREL_DIFFERENTIAL_QUERYSETS``, default
10,000, with random seeds). On the SQLite tier the backend under test is
SQLite with the overlay active, which checks that the overlay leaves stock
Django's answers unchanged. On the SingleStore backend's tier the oracle
compares text by the server's collation (collation.py).
"""

import math
import os

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.differential import collation, oracle
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
def backend_of_ours():
    """The backends this project ships (and SQLite, to check the overlay changes nothing)."""
    ours = (
        connection.vendor in ("mongodb", "sqlite")
        or connection.settings_dict["ENGINE"] == "django_nonrel.backends.singlestore"
    )
    if not ours:
        pytest.skip(
            f"the differential profile compares this project's backends (and the overlay "
            f"on SQLite) with SQLite; stock {connection.vendor} has its own documented "
            "differences"
        )


def test_generated_querysets_answer_like_sqlite(backend_of_ours, capsys):
    querysets, derandomize = profile_size()
    oracle.TEXT_KEY = collation.install("default", "sqlite")

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
        # A savepoint per example: a database error fails this example with its own
        # message, and the replay of the example starts from a usable transaction.
        with transaction.atomic(using="sqlite"), transaction.atomic(using="default"):
            load(dataset, "sqlite")
            load(dataset, "default")
            TALLY.datasets += 1
            drawer = QueryDrawer(data.draw, dataset)
            for _ in range(QUERIES_PER_DATASET):
                compare(drawer.spec(), dataset)

    check()
    with capsys.disabled():
        print("\n" + TALLY.summary(connection.display_name))
    assert TALLY.total >= querysets
