"""The servers the soak runs against: started for it alone, so it can kill them.

FerretDB with the MongoDB backend, MariaDB with the SingleStore backend in its
mysql dialect (``tests.servers``, the fault tests' timeouts from
``tests.reliability.faults``), and the in-process mongomock store for a quick
run without a crash (there is no server to kill).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.reliability.faults import mongodb_settings
from tests.servers.process import ServerProcess
from tests.settings import database_from_url


@dataclass
class Running:
    """A started target: the alias settings, and how to crash and restart its server."""

    settings: dict[str, Any]
    crash: Callable[[], None] | None
    restart: Callable[[], None] | None


@dataclass(frozen=True)
class Target:
    name: str
    #: Whether expression updates of one row from many threads are atomic there. FerretDB
    #: v1 runs an update as a read then a write; the backend's row claims make writers
    #: of one row take turns there (docs/reliability.md, Concurrency).
    atomic_updates: bool
    start: Callable[[], Any]


def _scratch() -> str:
    return f"nonrel_soak_{uuid.uuid4().hex[:8]}"


@contextmanager
def ferretdb() -> Iterator[Running]:
    from tests.servers import ferretdb as server_kind

    server = server_kind.start()
    try:
        yield Running(
            mongodb_settings(server.uri, _scratch()),
            crash=lambda: server.halt(kill=True),
            restart=lambda: server_kind.restart(server),
        )
    finally:
        server.stop()


@contextmanager
def mariadb() -> Iterator[Running]:
    from tests.servers import mariadb as server_kind

    server: ServerProcess = server_kind.start(durable=True)
    try:
        name = _create_database(server.uri)
        _, _, rest = server.uri.partition("://")
        settings = database_from_url(
            f"singlestore://{rest}?dialect=mysql&storage=ROWSTORE+REFERENCE", name
        )
        settings["OPTIONS"]["connect_timeout"] = 2
        yield Running(
            settings,
            crash=lambda: server.halt(kill=True),
            restart=lambda: server_kind.restart(server),
        )
    finally:
        server.stop()


def _create_database(uri: str) -> str:
    import singlestoredb

    parts = urlsplit(uri)
    name = _scratch()
    admin = singlestoredb.connect(
        host=parts.hostname, port=parts.port, user=parts.username, password=parts.password
    )
    try:
        admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    finally:
        admin.close()
    return name


@contextmanager
def mongomock() -> Iterator[Running]:
    yield Running(
        {
            "ENGINE": "django_nonrel.backends.mongodb",
            "HOST": "mongomock://soak",
            "NAME": _scratch(),
        },
        crash=None,
        restart=None,
    )


TARGETS = {
    "ferretdb": Target("FerretDB v1.24, MongoDB backend", True, ferretdb),
    "mariadb": Target("MariaDB 10.11, SingleStore backend (mysql dialect)", True, mariadb),
    "mongomock": Target("mongomock (no crash: no server)", True, mongomock),
}
