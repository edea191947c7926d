"""Running Django's runtests.py for one test app on one target, with a time limit.

One process per app: an app that hangs, crashes or cannot even import costs only
its own result, and each app starts from fresh test databases as in Django's CI.
``--parallel=1`` keeps the -v 2 output one test per line, in order.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.djangosuite.outcomes import AppOutcome, parse
from tests.djangosuite.targets import Target

#: The checkout's root: on PYTHONPATH so runtests.py can import the settings modules.
ROOT = Path(__file__).resolve().parents[2]


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment runtests.py and the feature probe run in."""
    path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {
        **os.environ,
        **(extra or {}),
        "PYTHONPATH": os.pathsep.join(path),
        "PYTHONUNBUFFERED": "1",  # test output and statuses stay in order
    }


def runtests_command(target: Target, app: str) -> list[str]:
    """The runtests.py command line for ``app`` on ``target``."""
    return [
        sys.executable,
        "runtests.py",
        f"--settings={target.settings}",
        "--parallel=1",
        "-v",
        "2",
        "--noinput",
        app,
    ]


def run_app(
    target: Target,
    app: str,
    tests_dir: Path,
    timeout: float,
    log: Path,
    env: dict[str, str] | None = None,
) -> AppOutcome:
    """Run ``app`` on ``target``, write the full output to ``log``, return its outcome."""
    start = time.monotonic()
    process = subprocess.Popen(
        runtests_command(target, app),
        cwd=tests_dir,
        env=child_environment(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so a timeout can end runtests.py and its children
    )
    timed_out = False
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(process)
        output, _ = process.communicate()
    except BaseException:
        _kill_group(process)
        process.wait()
        raise
    seconds = time.monotonic() - start
    text = output.decode(errors="replace")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(text)

    outcome = parse(text)
    outcome.seconds = round(seconds, 1)
    if timed_out:
        outcome.status = "timeout"
        outcome.error = f"timed out after {timeout:g} s"
    elif process.returncode != 0 and outcome.status == "completed" and outcome.verdict == "OK":
        # Every test passed, yet runtests.py failed: e.g. destroying a test database.
        outcome.notes.append(
            f"runtests.py exited {process.returncode} after its tests: {_last_line(text)}"
        )
    return outcome


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended by itself meanwhile
        os.killpg(process.pid, signal.SIGKILL)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"
