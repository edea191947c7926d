"""Start the servers a test run asks for, and what happens when one cannot start.

With ``CI=true`` a server that cannot be provisioned fails the run: CI must never
go green with a tier that did not run. On a developer's machine the run goes on
without that tier and says so loudly, here and again in the test command's
summary, never silently.

A server whose variable is already set in the environment is not started again:
an outer ``python -m tests.servers`` started it, or the developer points the
suite at a server of their own.
"""

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType

from tests.servers import ferretdb, mariadb
from tests.servers.process import ServerProcess, ServerUnavailable


@dataclass(frozen=True)
class ServerKind:
    """A kind of test server: the tier it serves and the variable that carries its address."""

    tier: str
    env_var: str
    start: Callable[[], ServerProcess]


KINDS = {
    "ferretdb": ServerKind(
        "MongoDB wire tier (FerretDB)", "NONREL_TEST_FERRETDB_URI", ferretdb.start
    ),
    "mariadb": ServerKind("SQL wire tier (MariaDB)", "NONREL_TEST_MARIADB_URL", mariadb.start),
}


def in_ci() -> bool:
    """Whether this run is CI's (``CI=true``), where every tier must run."""
    return os.environ.get("CI", "").lower() in ("true", "1")


def announce_not_run(tier: str, reason: str) -> None:
    """Tell the developer, in a way they cannot miss, that a tier is left out."""
    rule = "!" * 78
    print(
        f"\n{rule}\n!! THE {tier.upper()} WILL NOT RUN.\n!! {reason}\n"
        f"!! (With CI=true this is an error.)\n{rule}\n",
        file=sys.stderr,
        flush=True,
    )


class ProvisionedServers:
    """The servers of one test run: started together, stopped together.

    After :meth:`start`, :attr:`env` maps each variable to its server's address
    and :attr:`not_run` maps the variable of each server that could not start
    to the reason (only outside CI; in CI :meth:`start` raises instead).
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.kinds = [KINDS[name] for name in names]
        self.env: dict[str, str] = {}
        self.not_run: dict[str, str] = {}
        self._running: list[ServerProcess] = []

    def start(self) -> None:
        """Start every requested server; on an error in CI, stop those started and raise."""
        try:
            for kind in self.kinds:
                self._start_one(kind)
        except BaseException:
            self.stop()
            raise

    def _start_one(self, kind: ServerKind) -> None:
        given = os.environ.get(kind.env_var)
        if given:
            print(f"{kind.tier}: {kind.env_var} is set, using that server", file=sys.stderr)
            self.env[kind.env_var] = given
            return
        started = time.monotonic()
        try:
            server = kind.start()
        except ServerUnavailable as exc:
            if in_ci():
                raise ServerUnavailable(
                    f"{exc}\nCI=true, so the {kind.tier} must run: failing the run."
                )
            self.not_run[kind.env_var] = str(exc)
            announce_not_run(kind.tier, str(exc))
            return
        self._running.append(server)
        self.env[kind.env_var] = server.uri
        print(
            f"{kind.tier}: ready at {server.uri} ({time.monotonic() - started:.1f} s)",
            file=sys.stderr,
            flush=True,
        )

    def stop(self) -> None:
        """Stop the servers this object started (never ones given by the environment)."""
        while self._running:
            self._running.pop().stop()

    def __enter__(self) -> "ProvisionedServers":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
