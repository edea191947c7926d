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

from tests.differential import collation, oracle, writes
from tests.differential.oracle import TALLY, compare, load
from tests.differential.strategies import QueryDrawer, datasets

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])

#: Querysets per generated dataset: loading a dataset costs more than a query.
QUERIES_PER_DATASET = 20
FAST_PROFILE = 300
#: Writes and subquery reads per dataset (a write reloads the dataset after it).
WRITES_PER_DATASET = 6
FAST_WRITES_PROFILE = 160
SHRINK = os.environ.get("NONREL_DIFFERENTIAL_SHRINK") == "1"


def profile_size(fast: int = FAST_PROFILE, share: float = 1.0) -> tuple[int, bool]:
    """(querysets to run, derandomise): the env var selects the long profile."""
    wanted = os.environ.get("NONREL_DIFFERENTIAL_QUERYSETS")
    return (math.ceil(int(wanted) * share), False) if wanted else (fast, True)


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


def examples(count: int, derandomize: bool) -> settings:
    """Hypothesis settings for ``count`` generated datasets."""
    return settings(
        max_examples=count,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
        # Shrinking reruns a dozen querysets per step; the failure message names the
        # queryset and dataset already. NONREL_DIFFERENTIAL_SHRINK=1 turns it on.
        phases=[p for p in Phase if p is not Phase.shrink or SHRINK],
    )


def test_generated_querysets_answer_like_sqlite(backend_of_ours, capsys):
    querysets, derandomize = profile_size()
    oracle.TEXT_KEY = collation.install("default", "sqlite")

    @examples(math.ceil(querysets / QUERIES_PER_DATASET), derandomize)
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


def test_generated_writes_and_subquery_values_answer_like_sqlite(backend_of_ours, capsys):
    """bulk_update(), update() with expressions reading the key and other columns,
    update()/delete() filtered in Python, and querysets as filter values over
    integer, UUID and text keys: same counts, same rows left (writes.py)."""
    specs, derandomize = profile_size(FAST_WRITES_PROFILE, share=0.25)
    oracle.TEXT_KEY = collation.install("default", "sqlite")

    @examples(math.ceil(specs / WRITES_PER_DATASET), derandomize)
    @given(st.data())
    def check(data):
        dataset = data.draw(writes.write_datasets(), label="dataset")
        with transaction.atomic(using="sqlite"), transaction.atomic(using="default"):
            load(dataset, "sqlite")
            load(dataset, "default")
            writes.TALLY.datasets += 1
            drawer = writes.WriteDrawer(data.draw, dataset)
            for _ in range(WRITES_PER_DATASET):
                writes.compare(drawer.spec(), dataset)

    check()
    with capsys.disabled():
        print("\n" + writes.TALLY.summary(connection.display_name) + " (writes and subqueries)")
    assert writes.TALLY.total >= specs
