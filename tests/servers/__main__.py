"""``python -m tests.servers [--ferretdb] [--mariadb] -- CMD ...``

Starts the requested test servers (both when neither flag is given), runs CMD
with ``NONREL_TEST_FERRETDB_URI`` / ``NONREL_TEST_MARIADB_URL`` in its
environment, stops the servers whatever happens (CMD failing, Ctrl-C, SIGTERM)
and exits with CMD's exit code. Useful around any command that needs the
servers, e.g. ``python -m tests.servers -- python -m nox -s tests`` to start them
once for several sessions, or ``... -- pytest`` while working on one tier.
"""

import argparse
import os
import signal
import subprocess
import sys
from types import FrameType

from tests.servers.process import ServerUnavailable
from tests.servers.provision import KINDS, ProvisionedServers

# Time CMD gets to shut down after an interrupt before it is killed.
COMMAND_GRACE = 30.0


class Terminated(Exception):
    """SIGTERM arrived; raised so that ``finally`` blocks stop the servers."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def parse(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``argv`` at ``--`` into the server names and the command."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.servers",
        usage="python -m tests.servers [--ferretdb] [--mariadb] -- CMD [ARG ...]",
        description="Run CMD with throwaway FerretDB and/or MariaDB servers on 127.0.0.1.",
    )
    for name, kind in KINDS.items():
        parser.add_argument(
            f"--{name}", action="store_true", help=f"start it and export {kind.env_var}"
        )
    split = argv.index("--") if "--" in argv else len(argv)
    options, command = parser.parse_args(argv[:split]), argv[split + 1 :]
    if not command:
        parser.error("put the command to run after `--`")
    names = [name for name in KINDS if getattr(options, name)] or list(KINDS)
    return names, command


def run_command(command: list[str], env: dict[str, str]) -> int:
    """Run CMD to its end; on an interrupt CMD ends first, then the interrupt goes on."""
    try:
        child = subprocess.Popen(command, env=env)
    except OSError as exc:
        print(f"tests.servers: cannot run {command[0]}: {exc}", file=sys.stderr)
        return 127
    try:
        code = child.wait()
    except KeyboardInterrupt:
        # Ctrl-C in a terminal reaches CMD too (same process group): let it finish.
        _wait_or_kill(child)
        raise
    except Terminated:
        # SIGTERM was sent to us alone: pass it on.
        child.terminate()
        _wait_or_kill(child)
        raise
    # A command killed by a signal exits like a shell reports it.
    return 128 - code if code < 0 else code


def _wait_or_kill(child: subprocess.Popen[bytes]) -> None:
    try:
        child.wait(timeout=COMMAND_GRACE)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def main(argv: list[str]) -> int:
    names, command = parse(argv)
    signal.signal(signal.SIGTERM, _raise_terminated)
    servers = ProvisionedServers(names)
    try:
        with servers:
            code = run_command(command, {**os.environ, **servers.env})
    except ServerUnavailable as exc:
        print(f"\ntests.servers: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except Terminated:
        return 128 + signal.SIGTERM
    for env_var in servers.not_run:
        print(
            f"tests.servers: NOT RUN: {env_var} was not set, its server did not start (see above)",
            file=sys.stderr,
        )
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
