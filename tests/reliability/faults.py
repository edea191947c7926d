"""Helpers of the fault-injection tests: a Django alias on a server of our own, a write workload.

The tests stop and restart servers, so they never use the tier's shared server:
each starts its own FerretDB or MariaDB (``tests.servers``), points a fresh
database alias at it with explicit timeouts, and removes the alias afterwards.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.db import DatabaseError, connections

#: The timeouts the fault tests configure, and docs/reliability.md recommends.
MONGODB_TIMEOUTS = {
    # How long an operation waits for a usable server before it fails.
    "serverSelectionTimeoutMS": 2000,
    # TCP connect and the connection handshake.
    "connectTimeoutMS": 2000,
    # A reply to a command on an open connection.
    "socketTimeoutMS": 5000,
}
MYSQL_TIMEOUTS = {"connect_timeout": 2, "read_timeout": 5, "write_timeout": 5}
#: What a failing operation may take beyond its configured timeout (scheduling on a busy machine).
SLACK = 3.0


def mongodb_settings(uri: str, name: str) -> dict[str, Any]:
    return {
        "ENGINE": "django_nonrel.backends.mongodb",
        "HOST": uri,
        "NAME": name,
        "OPTIONS": dict(MONGODB_TIMEOUTS),
    }


def mysql_settings(url: str, name: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.mysql",
        "HOST": parts.hostname,
        "PORT": parts.port,
        "USER": parts.username,
        "PASSWORD": parts.password or "",
        "NAME": name,
        "OPTIONS": {**MYSQL_TIMEOUTS, "charset": "utf8mb4"},
    }


@contextmanager
def database_alias(alias: str, settings_dict: dict[str, Any]) -> Iterator[str]:
    """A database alias that exists for the duration of the block."""
    configured = connections.configure_settings({"default": {}, alias: settings_dict})[alias]
    connections.settings[alias] = configured
    try:
        yield alias
    finally:
        with suppress(DatabaseError):
            connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@contextmanager
def blackhole() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel's backlog) and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


@dataclass
class Outcome:
    """Acknowledged writes (name -> pk), failed attempts and how long each failure took."""

    acknowledged: dict[str, Any] = field(default_factory=dict)
    failures: list[tuple[type, float]] = field(default_factory=list)
    attempts: int = 0


def write_until(
    write: Callable[[str], Any],
    outcome: Outcome,
    stop: threading.Event,
    prefix: str,
) -> None:
    """Write rows named ``prefix-N`` until ``stop``; record what was acknowledged."""
    n = 0
    while not stop.is_set():
        name = f"{prefix}-{n}"
        n += 1
        outcome.attempts += 1
        started = time.monotonic()
        try:
            pk = write(name)
        except DatabaseError as error:
            outcome.failures.append((type(error), time.monotonic() - started))
            time.sleep(0.05)
            continue
        outcome.acknowledged[name] = pk
