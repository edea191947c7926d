"""MariaDB from Debian's packages: the SQL-wire server of the test suite.

The nonrel fields store JSON columns on SQL backends, and the SingleStore
backend's MySQL dialect mode runs against MariaDB, so the suite needs a real
MySQL-protocol server. Debian ships MariaDB 10.11; when it is missing it is
installed with apt (we run as root on the test machines), together with what
``pip install mysqlclient`` needs to compile.

The server is a throwaway: ``mariadb-install-db`` into a temporary data
directory, ``mariadbd --no-defaults`` so nothing in /etc/mysql applies, a socket
in that directory for the root account (socket authentication, never over TCP),
and a password user for the tests on a free 127.0.0.1 port. Durability settings
are off because the data is deleted at the end.
"""

import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.servers.ports import LOOPBACK, free_port
from tests.servers.process import ServerProcess, ServerUnavailable

APT_PACKAGES = (
    "mariadb-server",
    # To compile the mysqlclient Python package.
    "default-libmysqlclient-dev",
    "pkg-config",
    "build-essential",
)
TEST_USER = "nonrel"
ZONEINFO = Path("/usr/share/zoneinfo")


def find_program(*names: str) -> str | None:
    """The first of ``names`` on PATH or in the sbin directories a non-login PATH may lack."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    for name in names:
        found = shutil.which(name, path=search)
        if found:
            return found
    return None


def program(*names: str) -> str:
    """Like :func:`find_program`, for a program that must be there by now."""
    found = find_program(*names)
    if found is None:
        raise ServerUnavailable(f"MariaDB: none of {', '.join(names)} is installed")
    return found


def missing_pieces() -> list[str]:
    """What is not installed yet of the server, its tools and the client headers."""
    missing = [
        name
        for name, candidates in {
            "server": ("mariadbd", "mysqld"),
            "mariadb-install-db": ("mariadb-install-db", "mysql_install_db"),
            "client": ("mariadb", "mysql"),
            "pkg-config": ("pkg-config",),
            "C compiler": ("cc",),
        }.items()
        if find_program(*candidates) is None
    ]
    if "pkg-config" not in missing:
        headers = subprocess.run(
            ["pkg-config", "--exists", "mysqlclient"], capture_output=True, check=False
        )
        if headers.returncode != 0:
            missing.append("mysqlclient headers")
    return missing


def ensure_installed() -> None:
    """Install MariaDB and the mysqlclient build requirements with apt when missing."""
    missing = missing_pieces()
    if not missing:
        return
    packages = " ".join(APT_PACKAGES)
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise ServerUnavailable(
            f"MariaDB: not installed ({', '.join(missing)} missing), and installing it needs "
            f"root on a Debian-like system: apt-get install {packages}"
        )
    print(f"MariaDB: installing {packages} with apt-get ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *APT_PACKAGES],
    ):
        completed = subprocess.run(
            argv, env=environment, capture_output=True, text=True, timeout=900, check=False
        )
        if completed.returncode != 0:
            output = "\n".join((completed.stdout + completed.stderr).splitlines()[-30:])
            raise ServerUnavailable(f"MariaDB: `{' '.join(argv)}` failed:\n{output}")
    still_missing = missing_pieces()
    if still_missing:
        raise ServerUnavailable(
            f"MariaDB: still missing after apt-get install: {', '.join(still_missing)}"
        )
    print(
        f"MariaDB: installed in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
        flush=True,
    )


def start(timeout: float = 60.0, *, durable: bool = False) -> ServerProcess:
    """Install if needed, start a throwaway MariaDB on a free 127.0.0.1 port, add a test user.

    ``durable`` keeps every committed transaction through a crash of the server
    process (the redo log is written at each commit), for fault-injection
    tests; the shared test server flushes once a second instead.
    """
    ensure_installed()
    server = ServerProcess("mariadb")
    socket = server.workdir / "mariadbd.sock"
    datadir = server.workdir / "data"
    try:
        client = [program("mariadb", "mysql"), "--no-defaults", f"--socket={socket}", "-uroot"]
        server.run_step(
            [
                program("mariadb-install-db", "mysql_install_db"),
                "--no-defaults",
                f"--datadir={datadir}",
                "--user=root",
                "--skip-test-db",
                "--auth-root-authentication-method=socket",
            ],
            what="initialise a data directory with mariadb-install-db",
            timeout=120,
        )
        port = free_port()
        server.argv = [
            program("mariadbd", "mysqld"),
            "--no-defaults",
            f"--datadir={datadir}",
            f"--socket={socket}",
            f"--pid-file={server.workdir / 'mariadbd.pid'}",
            f"--port={port}",
            f"--bind-address={LOOPBACK}",
            "--user=root",
            "--skip-name-resolve",
            # Django expects utf8mb4; without /etc/mysql the server default is latin1.
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            f"--innodb-flush-log-at-trx-commit={2 if durable else 0}",
            "--skip-innodb-doublewrite",
            # Rows over 16 MiB (the 10.11 default) are part of the reliability cases;
            # SingleStore's own default is larger.
            "--max-allowed-packet=64M",
        ]
        server.spawn(server.argv)
        server.ready = lambda: socket.exists() and _accepts(client + ["-e", "SELECT 1"])
        server.wait_until(server.ready, what="accept connections on its socket", timeout=timeout)
        password = secrets.token_hex(12)
        server.run_step(
            client,
            stdin=(
                f"CREATE USER '{TEST_USER}'@'{LOOPBACK}' IDENTIFIED BY '{password}';\n"
                # Django's test runner creates and drops its own test databases.
                f"GRANT ALL PRIVILEGES ON *.* TO '{TEST_USER}'@'{LOOPBACK}' WITH GRANT OPTION;\n"
            ).encode(),
            what=f"create the {TEST_USER} user",
            timeout=30,
        )
        _load_time_zones(server, client)
        tcp_client = [
            client[0],
            "--no-defaults",
            f"--host={LOOPBACK}",
            f"--port={port}",
            f"--user={TEST_USER}",
            f"--password={password}",
            "-e",
            "SELECT 1",
        ]
        server.run_step(tcp_client, what="log in over TCP as the test user", timeout=30)
        server.uri = f"mysql://{TEST_USER}:{password}@{LOOPBACK}:{port}"
    except BaseException:
        server.stop()
        raise
    return server


def restart(server: ServerProcess, timeout: float = 60.0) -> None:
    """Start a halted MariaDB again with the same data directory, port and users.

    For fault-injection tests (``server.halt()`` then this): the data
    committed before the stop is there, and clients keep their address.
    """
    server.spawn(server.argv)
    server.wait_until(server.ready, what="accept connections again", timeout=timeout)


def _accepts(argv: list[str]) -> bool:
    """Whether a client command succeeds (the server takes connections and queries)."""
    try:
        return subprocess.run(argv, capture_output=True, timeout=10, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def _load_time_zones(server: ServerProcess, client: list[str]) -> None:
    """Load the time zone tables, without which CONVERT_TZ gives NULL.

    Django's MySQL backend converts datetimes with CONVERT_TZ for date lookups,
    truncation and extraction when USE_TZ is on.
    """
    tzinfo_to_sql = find_program("mariadb-tzinfo-to-sql", "mysql_tzinfo_to_sql")
    if tzinfo_to_sql is None or not ZONEINFO.is_dir():
        raise ServerUnavailable(
            "MariaDB: time zone data is missing (mariadb-tzinfo-to-sql and /usr/share/zoneinfo "
            "are needed for Django's datetime lookups): apt-get install tzdata mariadb-server"
        )
    zones = subprocess.run(
        [tzinfo_to_sql, str(ZONEINFO)], capture_output=True, timeout=120, check=False
    )
    server.run_step(
        [*client, "mysql"], stdin=zones.stdout, what="load the time zone tables", timeout=120
    )
