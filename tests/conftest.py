"""Shared fixtures: which tier is running, and command counting."""

import pytest
from django.db import connection


def pytest_report_header(config):
    from tests.settings import TARGET

    return f"django-nonrel test tier: NONREL_TEST_DB={TARGET}"


@pytest.fixture
def on_mongodb():
    """Skip (with the reason printed by -ra) unless the tier is the MongoDB backend."""
    if connection.vendor != "mongodb":
        pytest.skip(f"MongoDB backend behaviour; this tier runs {connection.vendor}")


@pytest.fixture(params=["as configured", "off"])
def transactions_setting(request, monkeypatch):
    """Each test as the tier is configured, and on MongoDB again with transactions off
    (OPTIONS["TRANSACTIONS"] = "off": writes applied at once, nothing rolled back)."""
    if request.param == "off":
        if connection.vendor != "mongodb":
            pytest.skip("OPTIONS['TRANSACTIONS'] is the MongoDB backend's setting")
        monkeypatch.setitem(connection.settings_dict["OPTIONS"], "TRANSACTIONS", "off")
    return request.param


@pytest.fixture
def mongos(django_db_blocker):
    """A simulated mongos (tests/sharding/mongos.py), connected as ``connections["mongos"]``."""
    from tests.sharding.mongos import ALIAS, SimulatedMongos, register, unregister

    simulated = SimulatedMongos()
    with django_db_blocker.unblock():
        register(ALIAS, simulated)
        try:
            yield simulated
        finally:
            unregister(ALIAS)


@pytest.fixture
def create_collections():
    """Create the collections of models a test defines (isolate_apps); drop them after."""
    created = []

    def create(*models):
        for model in models:
            with connection.schema_editor() as editor:
                editor.create_model(model)
            created.append(model)

    yield create
    for model in reversed(created):
        with connection.schema_editor() as editor:
            editor.delete_model(model)
