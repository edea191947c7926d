"""The harness's command line, kept free of Django so that the noxfile can read it too."""

from __future__ import annotations

import argparse
import shlex

from tests.djangosuite.targets import APP_SETS, TARGETS

DEFAULT_TIMEOUT = 600


def parser() -> argparse.ArgumentParser:
    sets = "; ".join(f"{name}: {' '.join(apps)}" for name, apps in APP_SETS.items())
    parser = argparse.ArgumentParser(
        prog="python -m tests.djangosuite",
        description=(
            "Run Django test apps from the installed Django's sdist with runtests.py, one "
            "app per process, on each backend target, and record the counts in "
            "docs/conformance.json and docs/conformance.md."
        ),
    )
    parser.add_argument(
        "--backend",
        action="append",
        choices=list(TARGETS),
        help="a target to run (repeatable); default: all of them",
    )
    parser.add_argument(
        "--apps",
        nargs="+",
        metavar="APP",
        help=f"Django test app labels or set names ({sets}); default: each target's own set",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds per app before it is stopped and recorded as timed out "
        f"(default {DEFAULT_TIMEOUT})",
    )
    parser.add_argument(
        "--mongodb-uri",
        help="server for the mongodb target (default: NONREL_TEST_FERRETDB_URI, "
        "MONGODB_URI, else mongomock://localhost); never written to the report",
    )
    parser.add_argument(
        "--require-mongodb-server",
        action="store_true",
        help="fail instead of falling back to mongomock when no server is given",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="skip apps the report already holds for this target and Django version "
        "(an interrupted run over a large app set picks up where it stopped); "
        "without it every chosen app is measured again",
    )
    parser.add_argument(
        "--rerun-status",
        nargs="+",
        default=[],
        metavar="STATUS",
        help="with --resume, measure again apps recorded with one of these statuses "
        "(completed, aborted, timeout)",
    )
    parser.add_argument(
        "--from-logs",
        action="store_true",
        help="run nothing: re-read the kept outputs of the chosen apps and record them again "
        "(e.g. after the harness learnt to read more from them)",
    )
    parser.add_argument("--docs", help="directory for conformance.{json,md} (default: docs/)")
    parser.add_argument("--logs", help="directory for the outputs (default: .cache/djangosuite/)")
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The options in ``argv``, with the defaults filled in."""
    options = parser().parse_args(argv)
    options.backend = options.backend or list(TARGETS)
    return options


def commands_for(target: str, apps: list[str], timeout: float, series: str) -> dict[str, str]:
    """The commands that measure ``apps`` on ``target`` again: plain and through nox."""
    args = ["--backend", target, "--apps", *apps]
    if timeout != DEFAULT_TIMEOUT:
        args += ["--timeout", f"{timeout:g}"]
    return {
        "command": shlex.join(["python", "-m", "tests.djangosuite", *args]),
        "nox": shlex.join(["nox", "-s", f"djangosuite-{series}", "--", *args]),
    }
