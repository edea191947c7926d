"""Fault injection: servers that stop mid-workload, closed ports, sockets that never answer.

Required of the backends (docs/reliability.md): an operation against a server
that is gone fails with Django's OperationalError/DatabaseError within the
configured timeouts (never hangs), work resumes by itself once the server is
back (MongoDB: the driver reconnects; SQL: Django's usual reconnect at the next
request boundary), and no acknowledged write is lost -- every row whose save()
returned is there afterwards, with its content.

Each test starts servers of its own (tests.servers) and stops them; the tier's
shared server is never touched. They run on the tier of the server they need:
the FerretDB tests on the MongoDB-wire tier, the MariaDB tests on the SQL-wire
tier (elsewhere they are skipped with the reason shown by ``-ra``).
"""

from __future__ import annotations

import threading
import time
import uuid
from urllib.parse import urlsplit

import pytest
from django.db import DatabaseError, OperationalError, connections

from tests.differential.models import Team
from tests.reliability.faults import (
    MONGODB_TIMEOUTS,
    MYSQL_TIMEOUTS,
    SLACK,
    Outcome,
    blackhole,
    database_alias,
    mongodb_settings,
    mysql_settings,
    write_until,
)
from tests.servers.ports import free_port
from tests.settings import TARGET

SCHEME = urlsplit(TARGET).scheme
on_mongodb_wire = pytest.mark.skipif(
    SCHEME not in ("mongodb", "mongodb+srv"),
    reason="FerretDB fault injection runs once, on the MongoDB-wire tier; this tier is "
    f"{SCHEME}://",
)
on_mysql_wire = pytest.mark.skipif(
    SCHEME != "mysql",
    reason=f"MariaDB fault injection runs once, on the SQL-wire tier; this tier is {SCHEME}://",
)
#: Server stops per test.
ROUNDS = 2
SELECTION_TIMEOUT = MONGODB_TIMEOUTS["serverSelectionTimeoutMS"] / 1000
#: Faults injected and writes verified, for docs/reliability.md (printed with -s).
FAULT_LOG: list[str] = []


@pytest.fixture(autouse=True)
def database_access(django_db_blocker):
    """These tests use aliases of their own, never the test databases."""
    with django_db_blocker.unblock():
        yield


def scratch() -> str:
    return f"nonrel_faults_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module", autouse=True)
def fault_report(request):
    """Print what was injected and verified (the numbers in docs/reliability.md)."""
    yield
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if FAULT_LOG and capture is not None:
        with capture.global_and_fixture_disabled():
            print("\n" + "\n".join(f"fault injection: {line}" for line in FAULT_LOG))


@pytest.fixture(scope="module")
def own_ferretdb():
    from tests.servers import ferretdb

    server = ferretdb.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def own_mariadb():
    from tests.servers import mariadb

    server = mariadb.start(durable=True)
    try:
        yield server
    finally:
        server.stop()


def run_workload_through_restarts(
    alias, restart, halt, write, rounds=ROUNDS, kill=False
) -> Outcome:
    """Write continuously while the server is halted and restarted ``rounds`` times."""
    outcome = Outcome()
    stop = threading.Event()
    worker = threading.Thread(target=write_until, args=(write, outcome, stop, "w"), daemon=True)
    worker.start()
    try:
        for _ in range(rounds):
            time.sleep(1.0)  # writes are acknowledged
            before = len(outcome.acknowledged)
            halt(kill=kill)
            failures = len(outcome.failures)
            deadline = time.monotonic() + 30
            while len(outcome.failures) == failures and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(outcome.failures) > failures, "no write failed while the server was down"
            restart()
            # Recovery is automatic: writes are acknowledged again.
            deadline = time.monotonic() + 30
            while len(outcome.acknowledged) <= before + 5 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(outcome.acknowledged) > before + 5, "writes did not resume after restart"
    finally:
        stop.set()
        worker.join(timeout=60)
    assert not worker.is_alive(), "the workload hung"
    return outcome


def check_no_acknowledged_write_lost(
    alias: str, outcome: Outcome, timeout: float, rounds: int, how: str
) -> None:
    stored = {team.name: team.pk for team in Team.objects.using(alias).all()}
    lost = sorted(set(outcome.acknowledged) - set(stored))
    assert not lost, f"{len(lost)} acknowledged writes lost: {lost[:10]}"
    wrong = [n for n, pk in outcome.acknowledged.items() if stored[n] != pk]
    assert not wrong, f"rows stored under other keys: {wrong[:10]}"
    # Integer keys stayed unique through the restarts (the counters survived).
    assert len(set(stored.values())) == len(stored)
    for error_class, seconds in outcome.failures:
        assert issubclass(error_class, DatabaseError)
        assert seconds <= timeout + SLACK, f"a failing write took {seconds:.1f} s"
    FAULT_LOG.append(
        f"{connections[alias].vendor}, {rounds} stops ({how}): {outcome.attempts} writes "
        f"attempted, {len(outcome.acknowledged)} "
        f"acknowledged and verified, {len(outcome.failures)} failed cleanly "
        f"(slowest {max(s for _, s in outcome.failures):.1f} s)"
    )


@on_mongodb_wire
@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "sigkill"])
def test_ferretdb_stopped_mid_workload(own_ferretdb, kill):
    from tests.servers import ferretdb

    with database_alias("faults", mongodb_settings(own_ferretdb.uri, scratch())) as alias:

        def write(name: str):
            return Team.objects.using(alias).create(name=name).pk

        outcome = run_workload_through_restarts(
            alias,
            restart=lambda: ferretdb.restart(own_ferretdb),
            halt=own_ferretdb.halt,
            write=write,
            kill=kill,
        )
        check_no_acknowledged_write_lost(
            alias, outcome, SELECTION_TIMEOUT, ROUNDS, "SIGKILL" if kill else "SIGTERM"
        )
        # Server errors surface as Django's OperationalError, not driver classes.
        assert any(issubclass(e, OperationalError) for e, _ in outcome.failures)


@on_mysql_wire
@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "sigkill"])
def test_mariadb_stopped_mid_workload(own_mariadb, kill):
    import MySQLdb

    from tests.servers import mariadb

    name = scratch()
    url = urlsplit(own_mariadb.uri)
    admin = MySQLdb.connect(
        host=url.hostname, port=url.port, user=url.username, password=url.password
    )
    admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    admin.close()
    with database_alias("faults", mysql_settings(own_mariadb.uri, name)) as alias:
        with connections[alias].schema_editor() as editor:
            editor.create_model(Team)

        def write(name: str):
            # What Django does at each request boundary: drop a broken connection.
            connections[alias].close_if_unusable_or_obsolete()
            return Team.objects.using(alias).create(name=name).pk

        outcome = run_workload_through_restarts(
            alias,
            restart=lambda: mariadb.restart(own_mariadb),
            halt=own_mariadb.halt,
            write=write,
            kill=kill,
        )
        connections[alias].close()
        check_no_acknowledged_write_lost(
            alias,
            outcome,
            MYSQL_TIMEOUTS["connect_timeout"],
            ROUNDS,
            "SIGKILL" if kill else "SIGTERM",
        )


def timed_failure(operation) -> tuple[type, float]:
    started = time.monotonic()
    with pytest.raises(DatabaseError) as raised:
        operation()
    return raised.type, time.monotonic() - started


@pytest.mark.parametrize("where", ["closed port", "blackholed socket"])
def test_mongodb_unreachable_fails_within_the_timeout(where):
    """No server, or one that never answers: OperationalError after serverSelectionTimeoutMS."""
    pytest.importorskip("pymongo")
    with blackhole() as silent_port:
        port = free_port() if where == "closed port" else silent_port
        settings_dict = mongodb_settings(f"mongodb://127.0.0.1:{port}", scratch())
        with database_alias("unreachable", settings_dict) as alias:
            error, seconds = timed_failure(lambda: Team.objects.using(alias).create(name="x"))
            assert issubclass(error, OperationalError)
            assert seconds <= SELECTION_TIMEOUT + SLACK
            error, seconds = timed_failure(lambda: list(Team.objects.using(alias).all()))
            assert issubclass(error, OperationalError)
            assert seconds <= SELECTION_TIMEOUT + SLACK
    FAULT_LOG.append(f"MongoDB {where}: OperationalError in {seconds:.1f} s")


@pytest.mark.parametrize("where", ["closed port", "blackholed socket"])
def test_mysql_unreachable_fails_within_the_timeout(where):
    pytest.importorskip("MySQLdb", reason="mysqlclient is installed on the SQL-wire tier")
    with blackhole() as silent_port:
        port = free_port() if where == "closed port" else silent_port
        settings_dict = mysql_settings(f"mysql://nonrel:x@127.0.0.1:{port}", scratch())
        with database_alias("unreachable", settings_dict) as alias:
            error, seconds = timed_failure(lambda: Team.objects.using(alias).count())
            assert issubclass(error, OperationalError)
            assert seconds <= MYSQL_TIMEOUTS["connect_timeout"] + SLACK
    FAULT_LOG.append(f"MySQL {where}: OperationalError in {seconds:.1f} s")
