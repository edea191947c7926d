"""The backends benchmarked, each with its raw driver on the same server.

A target is run in a process of its own (``bench.run_target``) because Django's
settings are configured once per process. Each names its *variants* (the raw
driver and the ORM backends) and the ratios reported between them.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.counting import WIRE, CommandCounter, CountingDatabase, LoggedQueries, SessionStatements

DATABASE_NAME = "nonrel_bench"
#: Aliases of the TestCase scenario: the MongoDB backend on the target's server and
#: stock SQLite in memory, each turned into a test database by Django's create_test_db.
TESTCASE_TESTS = "testcase"
SQLITE_TESTS = "sqlite"
#: Aliases whose tables Django's test-database creation makes (not bench.run_target).
TEST_RUN_ALIASES = (TESTCASE_TESTS, SQLITE_TESTS)
SINGLESTORE_ENGINE = "django_nonrel.backends.singlestore"


@dataclass
class Opened:
    """A target ready to run: ORM aliases and raw handles per variant."""

    kind: str
    orm: dict[str, str]
    raw: dict[str, Any]
    counters: dict[str, CommandCounter]
    #: (numerator, denominator) variant pairs whose ratios are reported.
    ratios: list[tuple[str, str]]
    versions: dict[str, str] = field(default_factory=dict)
    #: Variants this build cannot run, with the reason.
    unavailable: dict[str, str] = field(default_factory=dict)
    #: Other libraries doing the same work (``bench.peers``), and why others cannot run.
    peers: list = field(default_factory=list)
    peers_not_run: dict[str, str] = field(default_factory=dict)

    def add_peers(self, peers: list, not_run: dict[str, str]) -> None:
        """Measure ``peers`` in every case that names its work, each reported against raw."""
        self.peers, self.peers_not_run = peers, not_run
        for peer in peers:
            self.ratios.append((peer.name, "raw"))
            self.versions.update(peer.versions)


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def embedded_ferretdb_version() -> str:
    """The FerretDB module our embedding program requires (its builds report "unknown")."""
    go_mod = Path(__file__).resolve().parent.parent / "tests" / "servers" / "ferretdb" / "go.mod"
    try:
        for line in go_mod.read_text().splitlines():
            parts = line.split()
            if "github.com/FerretDB/FerretDB" in parts:
                return f"{parts[-1]} (embedded, per go.mod)"
    except OSError:
        pass
    return "unknown version"


class MongoTarget:
    kind = "mongodb"
    has_peers = True

    def __init__(self, name: str, title: str, env_var: str | None, uri: str | None = None):
        self.name, self.title, self.env_var, self.fixed_uri = name, title, env_var, uri

    @property
    def uri(self) -> str | None:
        return self.fixed_uri or os.environ.get(self.env_var or "")

    def why_unavailable(self) -> str | None:
        if not self.uri:
            return f"{self.env_var} is not set (no server was provisioned)"
        return None

    def databases(self) -> dict[str, dict[str, Any]]:
        return {
            "default": {
                "ENGINE": "django_nonrel.backends.mongodb",
                "HOST": self.uri,
                "NAME": DATABASE_NAME,
            },
            TESTCASE_TESTS: {
                "ENGINE": "django_nonrel.backends.mongodb",
                "HOST": self.uri,
                "NAME": f"{DATABASE_NAME}_{TESTCASE_TESTS}",
            },
            SQLITE_TESTS: {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        }

    def reset(self) -> None:
        from django.db import connection

        connection.database.client.drop_database(DATABASE_NAME)

    def open_peers(self, official_python: str | None) -> tuple[list, dict[str, str]]:
        """MongoEngine and the official backend on this server, where they can run."""
        from django.db import connection

        from bench.peers import open_peers

        store = None
        if connection.is_embedded:
            from django_nonrel.backends.mongodb.base import MOCK_SERVERS

            store = MOCK_SERVERS[urlsplit(self.uri).netloc]
        return open_peers(self.uri, store, official_python)

    def open(self) -> Opened:
        from django.db import connection, connections

        embedded = connection.is_embedded
        # The facts a connection reads about its server on first use (buildInfo and
        # hello) are read here, so the first case's counted commands are its own.
        _ = connection.server_info
        counters: dict[str, CommandCounter] = {
            SQLITE_TESTS: LoggedQueries(connections[SQLITE_TESTS])
        }
        if embedded:
            # The raw driver must see the same in-process store as the ORM.
            raw = CountingDatabase(connection.database)
            counters.update(
                raw=raw,
                orm=LoggedQueries(connection),
                testcase=LoggedQueries(connections[TESTCASE_TESTS]),
            )
        else:
            import pymongo

            raw = pymongo.MongoClient(self.uri)[DATABASE_NAME]
            counters.update(raw=WIRE, orm=WIRE, testcase=WIRE)
        versions = {"pymongo": _version("pymongo")}
        if embedded:
            versions["mongomock"] = _version("mongomock")
        else:
            build = raw.client.admin.command("buildInfo")
            server = f"MongoDB-compatible {build.get('version')}"
            if "ferretdbVersion" in build:
                ferretdb = build["ferretdbVersion"]
                if ferretdb == "unknown":
                    ferretdb = embedded_ferretdb_version()
                server = f"FerretDB {ferretdb} (reports MongoDB {build['version']})"
            versions["server"] = server
        return Opened(
            kind="mongodb",
            orm={"orm": "default"},
            raw={"raw": raw},
            counters=counters,
            # The TestCase scenario compares the backend with stock SQLite, not a driver.
            ratios=[("orm", "raw"), ("orm", SQLITE_TESTS)],
            versions=versions,
        )


class MariaDBTarget:
    """Django's mysql backend and the SingleStore backend (mysql dialect) on MariaDB."""

    kind = "sql"
    has_peers = False
    name = "mariadb"
    title = "SQL on MariaDB"
    env_var = "NONREL_TEST_MARIADB_URL"

    @property
    def url(self):
        return urlsplit(os.environ.get(self.env_var, ""))

    def why_unavailable(self) -> str | None:
        if not os.environ.get(self.env_var):
            return f"{self.env_var} is not set (no server was provisioned)"
        if importlib.util.find_spec("MySQLdb") is None:
            return "mysqlclient is not installed"
        return None

    @staticmethod
    def singlestore_missing() -> str | None:
        try:
            found = importlib.util.find_spec(SINGLESTORE_ENGINE)
        except ModuleNotFoundError:
            found = None
        if found is None:
            return f"{SINGLESTORE_ENGINE} is not part of this build"
        if importlib.util.find_spec("singlestoredb") is None:
            return "the singlestoredb driver is not installed"
        return None

    def _entry(self, engine: str, name: str, **options: Any) -> dict[str, Any]:
        url = self.url
        return {
            "ENGINE": engine,
            "HOST": url.hostname,
            "PORT": url.port or 3306,
            "USER": url.username or "root",
            "PASSWORD": url.password or "",
            "NAME": name,
            "OPTIONS": options,
        }

    def databases(self) -> dict[str, dict[str, Any]]:
        databases = {"default": self._entry("django.db.backends.mysql", DATABASE_NAME)}
        if self.singlestore_missing() is None:
            databases["singlestore"] = self._entry(
                SINGLESTORE_ENGINE, f"{DATABASE_NAME}_s2", dialect="mysql"
            )
        return databases

    def _server(self, database: str | None = None):
        import MySQLdb

        url = self.url
        kwargs = {"database": database} if database else {}
        return MySQLdb.connect(
            host=url.hostname,
            port=url.port or 3306,
            user=url.username or "root",
            password=url.password or "",
            autocommit=True,
            **kwargs,
        )

    def reset(self) -> None:
        from django.conf import settings

        server = self._server()
        cursor = server.cursor()
        for entry in settings.DATABASES.values():
            cursor.execute(f"DROP DATABASE IF EXISTS `{entry['NAME']}`")
            cursor.execute(f"CREATE DATABASE `{entry['NAME']}` CHARACTER SET utf8mb4")
        server.close()

    def open(self) -> Opened:
        from django.db import connections

        mysql_raw = self._server(DATABASE_NAME)
        orm = {"django-mysql": "default"}
        raw: dict[str, Any] = {"raw": mysql_raw}
        counters: dict[str, CommandCounter] = {
            "raw": SessionStatements(mysql_raw.cursor),
            "django-mysql": SessionStatements(connections["default"].cursor),
        }
        ratios = [("django-mysql", "raw")]
        unavailable = {}
        versions = {"mysqlclient": _version("mysqlclient")}
        missing = self.singlestore_missing()
        if missing:
            unavailable["singlestore"] = missing
        else:
            import singlestoredb

            url = self.url
            s2_raw = singlestoredb.connect(
                host=url.hostname,
                port=url.port or 3306,
                user=url.username or "root",
                password=url.password or "",
                database=f"{DATABASE_NAME}_s2",
                autocommit=True,
            )
            orm["singlestore"] = "singlestore"
            raw["raw-singlestoredb"] = s2_raw
            counters["raw-singlestoredb"] = SessionStatements(s2_raw.cursor)
            counters["singlestore"] = SessionStatements(connections["singlestore"].cursor)
            ratios = [
                ("singlestore", "raw-singlestoredb"),
                ("singlestore", "django-mysql"),
                ("django-mysql", "raw"),
            ]
            versions["singlestoredb"] = _version("singlestoredb")
        cursor = mysql_raw.cursor()
        cursor.execute("SELECT VERSION()")
        versions["server"] = f"MariaDB {cursor.fetchone()[0]}"
        cursor.close()
        return Opened(
            kind="sql",
            orm=orm,
            raw=raw,
            counters=counters,
            ratios=ratios,
            versions=versions,
            unavailable=unavailable,
        )


TARGETS = {
    target.name: target
    for target in (
        MongoTarget("mongodb-ferretdb", "MongoDB backend on FerretDB", "NONREL_TEST_FERRETDB_URI"),
        MongoTarget(
            "mongodb-mongomock", "MongoDB backend on mongomock://", None, "mongomock://bench"
        ),
        MariaDBTarget(),
    )
}
