"""The bench side of the official django-mongodb-backend peer: a worker process.

``python`` is an interpreter with the Django series the backend supports and
the backend installed (``nox -s bench`` makes one and passes it as
``--official-python``). The worker (``bench.peers.official.worker``) times
each run itself, so its numbers are its own process's wall and CPU time.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from bench.measure import ReportedError, Timing, Variant
from bench.peers import PEER_NAMES, PeerUnavailable, Work

NAME = PEER_NAMES[1]
ROOT = Path(__file__).resolve().parent.parent.parent


class PeerFailed(ReportedError):
    """The peer's own error for one run, as the worker reported it."""


class OfficialPeer:
    name = NAME

    def __init__(self, process: subprocess.Popen, versions: dict[str, str]) -> None:
        self.process = process
        self.versions = versions
        self.commands: int | None = None

    def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.process.poll() is not None:
            raise PeerFailed(f"the worker exited with code {self.process.returncode}")
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise PeerFailed(f"the worker exited with code {self.process.wait()}")
        answer = json.loads(line)
        if "error" in answer:
            raise PeerFailed(answer["error"])
        return answer

    # The warm-up runs through run() and reads the count with the counter.
    def start(self) -> None:
        self.commands = None

    def stop(self) -> int | None:
        return self.commands

    def variant(self, work: Work) -> Variant:
        def warm(state) -> int:
            answer = self._call({"op": "warm", "work": work.as_dict()})
            self.commands = answer["commands"]
            return answer["work"]

        def timed() -> Timing:
            answer = self._call({"op": "timed", "work": work.as_dict()})
            return answer["wall"], answer["cpu"], answer["work"]

        return Variant(run=warm, counter=self, peer=True, timed=timed)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def open_peer(uri: str, embedded: bool, python: str | None) -> OfficialPeer:
    """The worker, started and connected, or why it cannot run here."""
    from bench.targets import DATABASE_NAME

    if embedded:
        raise PeerUnavailable(
            "django-mongodb-backend needs a MongoDB server; mongomock:// is in-process"
        )
    if not python:
        raise PeerUnavailable(
            "no interpreter with django-mongodb-backend and its Django was given "
            "(nox -s bench makes one; or pass --official-python)"
        )
    process = subprocess.Popen(
        [python, "-m", "bench.peers.official.worker", uri, f"{DATABASE_NAME}_official"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    first = process.stdout.readline()
    hello = json.loads(first) if first else {"error": f"exited with code {process.wait()}"}
    if "error" in hello:
        process.kill()
        process.wait()
        raise PeerUnavailable(f"its worker could not start: {hello['error']}")
    return OfficialPeer(process, hello["versions"])
