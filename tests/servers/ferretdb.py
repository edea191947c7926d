"""FerretDB on SQLite: the MongoDB-wire server of the test suite.

The backend must work on servers that speak the MongoDB protocol without being
MongoDB, and FerretDB v1 is the strictest of them that runs anywhere: no MongoDB
binary to download, no licence question. The Go program in ``ferretdb/`` embeds
FerretDB; it is built once with the machine's Go toolchain (dependencies from
the Go module proxy, checked against our ``go.sum``) and cached under
``~/.cache/django-nonrel/ferretdb/<hash of its sources>/``, so a changed
``go.mod``/``go.sum``/``main.go`` builds afresh and an unchanged one starts in
about a second.
"""

import hashlib
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.servers.ports import LOOPBACK
from tests.servers.process import ServerProcess, ServerUnavailable

SOURCE_DIR = Path(__file__).with_name("ferretdb")
SOURCES = ("go.mod", "go.sum", "main.go")
BINARY_NAME = "ferretdb-embedded"
# The Go program prints this once its listener is bound; port 0 lets the kernel
# pick a free port, so there is no race between choosing a port and binding it.
READY_LINE = re.compile(rb"^ferretdb-embedded ready (mongodb://\S+)$", re.MULTILINE)
# Where the official Go distribution installs itself when it is not on PATH.
GO_FALLBACK = Path("/usr/local/go/bin/go")


def cache_dir() -> Path:
    """Where built binaries are kept between runs (``$XDG_CACHE_HOME`` is honoured)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base, "django-nonrel", "ferretdb")


def binary_path() -> Path:
    """The cached binary for the current sources; its folder is named by their hash."""
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update(name.encode() + b"\0" + (SOURCE_DIR / name).read_bytes() + b"\0")
    return cache_dir() / digest.hexdigest()[:16] / BINARY_NAME


def go_command() -> str:
    """The ``go`` command, or ServerUnavailable saying how to get one."""
    found = shutil.which("go") or (str(GO_FALLBACK) if GO_FALLBACK.exists() else None)
    if found is None:
        raise ServerUnavailable(
            "FerretDB: the Go toolchain (1.22 or newer) is needed to build the test server, "
            "and `go` is not on PATH. Install Go from go.dev/dl and put it on PATH."
        )
    return found


def build() -> Path:
    """Build the Go program unless the binary for these sources is already cached."""
    binary = binary_path()
    if binary.exists():
        return binary
    go = go_command()
    binary.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"FerretDB: building {BINARY_NAME} (first time for these sources, a minute or two) ...",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    # Build to a temporary name and rename, so an interrupted or concurrent
    # build never leaves a half-written binary where the cache looks.
    fd, partial = tempfile.mkstemp(prefix=f".{BINARY_NAME}-", dir=binary.parent)
    os.close(fd)
    try:
        completed = subprocess.run(
            [go, "build", "-trimpath", "-buildvcs=false", "-o", partial, "."],
            cwd=SOURCE_DIR,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if completed.returncode != 0:
            output = "\n".join((completed.stdout + completed.stderr).splitlines()[-40:])
            raise ServerUnavailable(
                "FerretDB: `go build` in tests/servers/ferretdb failed (it needs the Go module "
                f"proxy, or a module cache that already holds the dependencies):\n{output}"
            )
        os.replace(partial, binary)
    except subprocess.TimeoutExpired:
        raise ServerUnavailable("FerretDB: `go build` took more than 15 minutes; gave up.")
    finally:
        Path(partial).unlink(missing_ok=True)
    print(
        f"FerretDB: built {binary} in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return binary


def answers_ping(uri: str) -> bool:
    """Whether a MongoDB client gets an ``ok`` to ``ping`` at ``uri``."""
    import pymongo
    from pymongo.errors import PyMongoError

    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500)
    try:
        return client.admin.command("ping").get("ok") == 1
    except PyMongoError:
        return False
    finally:
        client.close()


def announced_uri(server: ServerProcess) -> str | None:
    """The address in the program's ready line, once it has printed one."""
    ready = READY_LINE.search(server.log.read_bytes())
    return ready.group(1).decode().rstrip("/") if ready else None


def restart(server: ServerProcess, timeout: float = 60.0) -> None:
    """Start a halted FerretDB again on the same port and data directory.

    Fault-injection tests stop a server of their own mid-workload
    (``server.halt()``) and bring it back with this: clients keep their
    address, and the data written before the stop is there.
    """
    port = urlsplit(server.uri).port
    server.spawn(
        [
            str(binary_path()),
            f"-listen-addr={LOOPBACK}:{port}",
            f"-data-dir={server.workdir / 'data'}",
        ]
    )
    server.wait_until(lambda: answers_ping(server.uri), what="answer ping again", timeout=timeout)


def start(timeout: float = 60.0) -> ServerProcess:
    """Build if needed, start FerretDB on a free 127.0.0.1 port and wait for ``ping``."""
    if importlib.util.find_spec("pymongo") is None:
        raise ServerUnavailable(
            "FerretDB: pymongo is needed to check that the server answers; "
            "install it where the test command runs (python3 -m pip install pymongo)."
        )
    # The probes fail by design until the server is up, and a caller that logs at
    # debug level (nox does) would print pages of driver events for each.
    logging.getLogger("pymongo").setLevel(logging.WARNING)
    binary = build()
    server = ServerProcess("ferretdb")
    try:
        server.spawn(
            [
                str(binary),
                f"-listen-addr={LOOPBACK}:0",
                f"-data-dir={server.workdir / 'data'}",
            ]
        )
        server.wait_until(
            lambda: announced_uri(server) is not None, what="bind its listener", timeout=timeout
        )
        server.uri = announced_uri(server)
        server.wait_until(lambda: answers_ping(server.uri), what="answer ping", timeout=timeout)
    except BaseException:
        server.stop()
        raise
    return server
