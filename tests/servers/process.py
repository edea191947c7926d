"""A throwaway server process: its temporary directory, its log, and how it stops.

Every test server follows the same life: a fresh temporary directory for its data
and log, a process started in its own session (so a Ctrl-C in the terminal
reaches the test command, which then stops the servers in order instead of the
terminal killing them half-way), a wait until it really answers, and at the end
SIGTERM, a grace period, SIGKILL, and the directory deleted. Nothing is left on
the machine and nothing listens beyond 127.0.0.1.
"""

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class ServerUnavailable(Exception):
    """A test server could not be installed, built or started.

    The message says which server, why, and what to do about it; it is shown to
    the developer as is.
    """


class ServerProcess:
    """One server of a test run, from its temporary directory to its stop."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.workdir = Path(tempfile.mkdtemp(prefix=f"nonrel-{name}-"))
        self.log = self.workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        #: Where clients connect; set by the starter once the server answers.
        self.uri = ""
        #: How the server was started and how to tell it answers, for a restart.
        self.argv: list[str] = []
        self.ready: Callable[[], bool] = lambda: True

    def run_step(
        self, argv: Sequence[str], *, what: str, timeout: float, stdin: bytes | None = None
    ) -> None:
        """Run a one-off setup command, its output appended to the server's log."""
        with self.log.open("ab") as out:
            try:
                completed = subprocess.run(
                    argv,
                    input=stdin,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.workdir,
                    timeout=timeout,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise ServerUnavailable(f"{self.name}: could not {what}: {exc}")
        if completed.returncode != 0:
            raise ServerUnavailable(
                f"{self.name}: could not {what} (exit code {completed.returncode}).\n"
                f"{self.log_tail()}"
            )

    def spawn(self, argv: Sequence[str]) -> None:
        """Start the server in the background, its output going to the log."""
        with self.log.open("ab") as out:
            try:
                self.process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.workdir,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ServerUnavailable(f"{self.name}: could not start {argv[0]}: {exc}")

    def halt(self, *, kill: bool = False, grace: float = 15.0) -> None:
        """Stop the process but keep its directory, so it can be started again on it.

        ``kill`` sends SIGKILL at once (a crash); otherwise SIGTERM, then
        SIGKILL after ``grace`` seconds. Fault-injection tests use this.
        """
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def wait_until(self, ready: Callable[[], bool], *, what: str, timeout: float) -> None:
        """Poll ``ready`` until it is true; fail early if the server exits."""
        deadline = time.monotonic() + timeout
        while not ready():
            if self.process is not None and self.process.poll() is not None:
                raise ServerUnavailable(
                    f"{self.name} exited with code {self.process.returncode} before it could "
                    f"{what}.\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise ServerUnavailable(
                    f"{self.name} did not {what} within {timeout:.0f} s.\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def log_tail(self, lines: int = 25) -> str:
        """The end of the server's log, for error messages."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return f"({self.log} is not readable)"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last lines of the {self.name} log ---\n{tail}"

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM, up to ``grace`` seconds to shut down, then SIGKILL; delete the directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)
