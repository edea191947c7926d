"""The test command: ``python3 -m pip install nox pymongo && python3 -m nox -s lint tests``.

``tests`` runs the pytest suite once per tier, on each supported Django series:

    embedded        NONREL_TEST_DB=mongomock://localhost
    MongoDB wire    FerretDB, built and started here (tests/servers/ferretdb.py)
    stock SQLite    NONREL_TEST_DB=sqlite://
    SQL wire        MariaDB, installed and started here (tests/servers/mariadb.py):
                    Django's stock MySQL backend, then the SingleStore backend in
                    its mysql dialect on the same server
    real MongoDB    only when MONGODB_URI is set
    real SingleStore  only when SINGLESTORE_URL is set (singlestore dialect)

The servers start once per nox run and stop when nox exits. With CI=true every
server tier must run; elsewhere a tier whose server cannot be provisioned is
reported as not run, loudly. A tier that collects no test fails.
"""

import atexit
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import nox
from nox.command import CommandFailed

if TYPE_CHECKING:
    from tests.servers.provision import ProvisionedServers

ROOT = Path(__file__).resolve().parent
# (Python, Django series) pairs: each series on the oldest Python it supports.
DJANGO_SERIES = (("3.11", "5.2"), ("3.12", "6.1"))
PYTEST_NO_TESTS_COLLECTED = 5

# The session code imports tests.servers from this checkout.
sys.path.insert(0, str(ROOT))


def put_pyenv_interpreters_on_path(versions: tuple[str, ...]) -> None:
    """Make ``python3.X`` on PATH a real interpreter where pyenv installed one.

    nox finds an interpreter by its name on PATH. pyenv's shim for a version that
    is installed but not selected exits with "command not found", so put the bin
    directory of the newest installed patch release of each version first.
    """
    versions_dir = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"), "versions")
    bin_dirs = []
    for version in versions:
        releases = [
            path
            for path in versions_dir.glob(f"{version}.*")
            if re.fullmatch(rf"{re.escape(version)}\.\d+", path.name)
            and (path / "bin" / f"python{version}").exists()
        ]
        if releases:
            newest = max(releases, key=lambda path: int(path.name.rsplit(".", 1)[1]))
            bin_dirs.append(str(newest / "bin"))
    os.environ["PATH"] = os.pathsep.join([*bin_dirs, os.environ.get("PATH", "")])


put_pyenv_interpreters_on_path(tuple(python for python, _ in DJANGO_SERIES))


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@functools.cache
def test_servers() -> "ProvisionedServers":
    """FerretDB and MariaDB for this nox run, started by the first session that asks."""
    from tests.servers.provision import ProvisionedServers

    servers = ProvisionedServers(["ferretdb", "mariadb"])
    # nox exits through sys.exit, which runs atexit; SIGTERM is made to take
    # the same way out as Ctrl-C so the servers are stopped then too.
    atexit.register(servers.stop)
    signal.signal(signal.SIGTERM, _interrupt)
    servers.start()
    return servers


def run_checked(session: nox.Session, *args: str, env: dict[str, str] | None = None) -> int:
    """``session.run`` that returns the exit code instead of ending the session."""
    try:
        session.run(*args, env=env)
    except CommandFailed as failure:
        return 1 if failure.return_code is None else failure.return_code
    return 0


def singlestore_url(server_url: str | None, dialect: str) -> str | None:
    """NONREL_TEST_DB for the SingleStore backend on ``server_url`` (mysql:// or singlestore://).

    Tables are ROWSTORE REFERENCE: the suite's models have unique columns, which
    SingleStore enforces everywhere only on reference tables (the rule checks
    would refuse them on distributed storage, as they should).
    """
    if not server_url:
        return None
    _, _, rest = server_url.partition("://")
    return f"singlestore://{rest}?dialect={dialect}&storage=ROWSTORE+REFERENCE"


def series_pin(series: str) -> str:
    """``Django>=5.2,<5.3`` for ``5.2``."""
    major, minor = series.split(".")
    return f"Django>={series},<{major}.{int(minor) + 1}"


@nox.session
@nox.parametrize(
    ("python", "django"),
    [nox.param(python, django, id=f"django{django}") for python, django in DJANGO_SERIES],
)
def tests(session: nox.Session, django: str) -> None:
    """ruff check, then pytest once per tier on one Django series."""
    from tests.servers.process import ServerUnavailable

    try:
        servers = test_servers()
    except ServerUnavailable as exc:
        session.error(str(exc))
    ferretdb_uri = servers.env.get("NONREL_TEST_FERRETDB_URI")
    mariadb_url = servers.env.get("NONREL_TEST_MARIADB_URL")
    # mysqlclient compiles against the headers the MariaDB provisioning installs.
    session.install("-e", ".[test]", series_pin(django), *(["mysqlclient"] if mariadb_url else []))

    failures = []
    if run_checked(session, "ruff", "check", "."):
        failures.append("ruff check")
    tiers = {
        "embedded (mongomock)": ("mongomock://localhost", ""),
        "MongoDB wire (FerretDB)": (
            ferretdb_uri,
            servers.not_run.get("NONREL_TEST_FERRETDB_URI", ""),
        ),
        "stock SQLite": ("sqlite://", ""),
        "SQL wire (MariaDB)": (mariadb_url, servers.not_run.get("NONREL_TEST_MARIADB_URL", "")),
        "SingleStore backend, mysql dialect (MariaDB)": (
            singlestore_url(mariadb_url, "mysql"),
            servers.not_run.get("NONREL_TEST_MARIADB_URL", ""),
        ),
        "real MongoDB": (os.environ.get("MONGODB_URI"), "MONGODB_URI is unset"),
        "real SingleStore": (
            singlestore_url(os.environ.get("SINGLESTORE_URL"), "singlestore"),
            "SINGLESTORE_URL is unset",
        ),
    }
    outcomes = {}
    for tier, (url, why_not) in tiers.items():
        if not url:
            outcomes[tier] = f"NOT RUN: {why_not.splitlines()[0]}"
            session.warn(f"the {tier} tier is skipped: {why_not}")
            continue
        session.log(f"tier {tier}: NONREL_TEST_DB={url}")
        code = run_checked(
            session, "python", "-m", "pytest", *session.posargs, env={"NONREL_TEST_DB": url}
        )
        if code == PYTEST_NO_TESTS_COLLECTED:
            outcomes[tier] = "FAILED: pytest collected no tests, and every tier must run some"
        elif code:
            outcomes[tier] = f"FAILED (pytest exit code {code})"
        else:
            outcomes[tier] = "passed"
        if code:
            failures.append(tier)

    session.log(f"Django {django} tiers:")
    for tier, outcome in outcomes.items():
        session.log(f"  {tier:<26} {outcome}")
    if failures:
        session.error(f"failed on Django {django}: {', '.join(failures)}")


@nox.session(python=DJANGO_SERIES[0][0], default=False)
def differential(session: nox.Session) -> None:
    """The long differential profile: generated querysets, each backend against stock SQLite.

    ``NONREL_DIFFERENTIAL_QUERYSETS`` (default 10000) querysets per backend, with
    fresh random seeds, on the embedded store, on FerretDB, on the SingleStore
    backend (mysql dialect, on MariaDB) and on SQLite with the overlay. Each tier
    prints how many querysets it compared and how many it refused as documented;
    a mismatch fails with the queryset's code and data. Positional arguments go
    to pytest; ``NONREL_DIFFERENTIAL_TIERS=mongomock,singlestore`` runs only
    those tiers (names: mongomock, ferretdb, singlestore, sqlite).
    """
    from tests.servers.process import ServerUnavailable

    try:
        servers = test_servers()
    except ServerUnavailable as exc:
        session.error(str(exc))
    mariadb_url = servers.env.get("NONREL_TEST_MARIADB_URL")
    session.install("-e", ".[test]", series_pin(DJANGO_SERIES[0][1]))
    env = {
        "NONREL_DIFFERENTIAL_QUERYSETS": os.environ.get("NONREL_DIFFERENTIAL_QUERYSETS", "10000")
    }
    targets = {
        "mongomock": ("embedded (mongomock)", "mongomock://localhost"),
        "ferretdb": ("MongoDB wire (FerretDB)", servers.env.get("NONREL_TEST_FERRETDB_URI")),
        "singlestore": (
            "SingleStore backend, mysql dialect (MariaDB)",
            singlestore_url(mariadb_url, "mysql"),
        ),
        "sqlite": ("stock SQLite + overlay", "sqlite://"),
    }
    chosen = os.environ.get("NONREL_DIFFERENTIAL_TIERS")
    if chosen:
        unknown = set(chosen.split(",")) - targets.keys()
        if unknown:
            session.error(f"NONREL_DIFFERENTIAL_TIERS: unknown tiers {sorted(unknown)}")
        targets = {name: targets[name] for name in chosen.split(",")}
    failures = []
    for tier, url in targets.values():
        if not url:
            session.warn(f"the {tier} tier is skipped: its server did not start")
            continue
        session.log(f"differential, {tier}: NONREL_TEST_DB={url}")
        command = ("python", "-m", "pytest", "-q", "-s", "tests/differential", *session.posargs)
        if run_checked(session, *command, env={**env, "NONREL_TEST_DB": url}):
            failures.append(tier)
    if failures:
        session.error(f"differential mismatches on: {', '.join(failures)}")


@nox.session(python=DJANGO_SERIES[0][0], default=False)
def soak(session: nox.Session) -> None:
    """Mixed ORM work from several threads for a fixed time, each server killed once.

    Against FerretDB (MongoDB backend) and MariaDB (SingleStore backend, mysql dialect),
    each a server of the soak's own, started and stopped by it (tests/soak): creates,
    expression updates, cascading deletes, VersionField saves and bookmark walks, the
    server killed (SIGKILL) and restarted half-way, then the invariants (no acknowledged
    write lost, no orphan, counters and versions consistent with what returned). It
    prints its numbers (docs/reliability.md has the last ones) and fails on a violation.
    ``NONREL_SOAK_SECONDS`` (default 90) per target; positional arguments go to
    ``python -m tests.soak`` (``--seconds``, ``--threads``, ``--target``).
    """
    session.install("-e", ".[test]", series_pin(DJANGO_SERIES[0][1]))
    session.run("python", "-m", "tests.soak", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


def run_djangosuite(session: nox.Session, django: str) -> None:
    """Django's own test suite (runtests.py from the Django sdist) per backend target.

    Arguments after ``--`` go to ``python -m tests.djangosuite`` (see its ``--help``):
    ``--backend sqlite|sqlite_overlay|mongodb|singlestore`` (repeatable, default all) and
    ``--apps`` (labels or the sets ``core``, ``mongodb-single-table``, ``mongodb-official``;
    with ``--resume`` apps already recorded are skipped). Counts are merged into
    docs/conformance.{json,md}. Unless ``--mongodb-uri``, NONREL_TEST_FERRETDB_URI or
    MONGODB_URI names a server, the mongodb target runs under ``python -m tests.servers
    --ferretdb`` (FerretDB started and stopped around it) and fails rather than fall back
    to mongomock. The singlestore target (mysql dialect) runs on MariaDB, started the same
    way unless NONREL_TEST_MARIADB_URL is set. The session fails if the overlay changed any
    outcome on SQLite.
    """
    from tests.djangosuite.cli import parse_args
    from tests.djangosuite.targets import MONGODB_URI_SOURCES, TARGETS

    options = parse_args(session.posargs)
    session.install("-e", ".[test,djangosuite]", series_pin(django))
    command = ["python", "-m", "tests.djangosuite", *session.posargs]
    env = {}
    wants_mongodb = any(TARGETS[name].needs_mongodb for name in options.backend)
    has_server = options.mongodb_uri or any(os.environ.get(v) for v in MONGODB_URI_SOURCES)
    wants_mariadb = any(TARGETS[name].needs_mariadb for name in options.backend)
    servers = []
    if wants_mongodb and not has_server:
        servers.append("--ferretdb")
    if wants_mariadb and not os.environ.get("NONREL_TEST_MARIADB_URL"):
        servers.append("--mariadb")
    if servers:
        if test_servers.cache_info().currsize:
            # The tests session already started the servers in this nox run.
            env = test_servers().env
        else:
            command = ["python", "-m", "tests.servers", *servers, "--", *command]
    if wants_mongodb and not has_server:
        command.append("--require-mongodb-server")
    session.run(*command, env=env)


def _djangosuite_session(python: str, django: str) -> None:
    def djangosuite(session: nox.Session) -> None:
        run_djangosuite(session, django)

    djangosuite.__doc__ = f"Django {django}'s own test suite per backend, counts in docs/"
    # Not run by a bare `nox`: it rewrites docs/conformance.*.
    nox.session(name=f"djangosuite-{django}", python=python, tags=["djangosuite"], default=False)(
        djangosuite
    )


# ``nox -s djangosuite-5.2 -- --backend sqlite --backend sqlite_overlay --apps core``;
# ``nox -t djangosuite`` runs every series.
for _python, _django in DJANGO_SERIES:
    _djangosuite_session(_python, _django)


#: The peer django-mongodb-backend is measured on this Django series (one release line
#: per series; it refuses others), in an environment of its own.
OFFICIAL_BACKEND_SERIES = DJANGO_SERIES[1]


def official_backend_python(session: nox.Session) -> str | None:
    """The interpreter of an environment with django-mongodb-backend and its Django.

    Made next to the session's own environment; None (the peer is then reported as
    not run) when that Python is missing or the install fails.
    """
    python, series = OFFICIAL_BACKEND_SERIES
    interpreter = shutil.which(f"python{python}")
    if interpreter is None:
        session.warn(f"django-mongodb-backend peer not run: no python{python} on PATH")
        return None
    location = Path(session.virtualenv.location).parent / "bench-official-backend"
    venv_python = location / "bin" / "python"
    major, minor = series.split(".")
    steps = [
        [interpreter, "-m", "venv", str(location)],
        [
            str(venv_python),
            "-m",
            "pip",
            "install",
            "-q",
            series_pin(series),
            f"django-mongodb-backend>={series},<{major}.{int(minor) + 1}",
        ],
    ]
    for step in steps[venv_python.exists() :]:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode:
            session.warn(f"django-mongodb-backend peer not run: {done.stderr.strip()[-500:]}")
            return None
    return str(venv_python)


@nox.session(python=DJANGO_SERIES[0][0], default=False)
def bench(session: nox.Session) -> None:
    """The ORM against the raw drivers; rewrites docs/benchmarks.md and docs/benchmarks-*.png.

    ``nox -s bench -- --quick`` runs smaller sizes in under two minutes, without the
    peers; other arguments go to ``python -m bench`` (``--target NAME``, ``--only
    SCENARIO``, ``--no-peers``). FerretDB and MariaDB are provisioned as for the tests
    session; a target whose server cannot start is reported as not run (with CI=true,
    provisioning failures fail the session). The full profile also measures the peers
    on the MongoDB targets: MongoEngine, and django-mongodb-backend in an environment
    of its own Django series (``official_backend_python``).
    """
    from tests.servers.process import ServerUnavailable

    try:
        servers = test_servers()
    except ServerUnavailable as exc:
        session.error(str(exc))
    mariadb_url = servers.env.get("NONREL_TEST_MARIADB_URL")
    quick = "--quick" in session.posargs
    session.install(
        "-e",
        ".[mongodb,singlestore]",
        series_pin(DJANGO_SERIES[0][1]),
        "matplotlib",
        # mysqlclient compiles against the headers the MariaDB provisioning installs.
        *(["mysqlclient"] if mariadb_url else []),
        *([] if quick else ["mongoengine"]),
    )
    peers = ["--no-peers"] if quick else []
    official = None if quick else official_backend_python(session)
    peers += ["--official-python", official] if official else []
    session.run("python", "-m", "bench", *peers, *session.posargs, env=servers.env)


@nox.session(python=DJANGO_SERIES[0][0], default=False)
def breakdown(session: nox.Session) -> None:
    """Where the ORM's client CPU goes on FerretDB; rewrites docs/benchmarks-breakdown.md.

    Per-row stages of reads against the raw driver and the least Python and Django
    do per row, and each case's time by layer (``bench/breakdown.py``). Arguments go
    to ``python -m bench.breakdown`` (``--rows``, ``--repeats``, ``--target``).
    """
    from tests.servers.process import ServerUnavailable
    from tests.servers.provision import ProvisionedServers

    servers = ProvisionedServers(["ferretdb"])
    atexit.register(servers.stop)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        servers.start()
    except ServerUnavailable as exc:
        session.error(str(exc))
    session.install("-e", ".[mongodb]", series_pin(DJANGO_SERIES[0][1]))
    session.run("python", "-m", "bench.breakdown", *session.posargs, env=servers.env)
