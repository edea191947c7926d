"""``python -m tests.djangosuite``: run Django test apps per target, record the counts.

Exit status: 0 when every chosen app was run and recorded (failing Django tests are
results, not harness failures); 1 when the overlay changed any test's outcome on
SQLite for this Django version; 2 when the mongodb target was required to use a
server and none was given.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import django

from tests.djangosuite import report
from tests.djangosuite.cli import commands_for, parse_args
from tests.djangosuite.declared import declared_by
from tests.djangosuite.outcomes import AppOutcome, parse
from tests.djangosuite.report import TITLES
from tests.djangosuite.runner import ROOT, run_app
from tests.djangosuite.sdist import django_tests_dir
from tests.djangosuite.targets import (
    MONGODB_URI_OVERRIDE,
    MONGOMOCK_URI,
    OVERLAY_PAIR,
    TARGETS,
    expand_apps,
    mongodb_server,
    mongodb_uri,
)

LOGS = ROOT / ".cache" / "djangosuite"


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    if options.mongodb_uri:
        os.environ[MONGODB_URI_OVERRIDE] = options.mongodb_uri
    targets = [TARGETS[name] for name in options.backend]
    uses_mongodb = any(target.needs_mongodb for target in targets)
    if uses_mongodb and options.require_mongodb_server and mongodb_uri() == MONGOMOCK_URI:
        print(
            "tests.djangosuite: the mongodb target was required to use a server, but neither "
            "--mongodb-uri, NONREL_TEST_FERRETDB_URI nor MONGODB_URI is set "
            "(did FerretDB fail to start? see above)",
            file=sys.stderr,
        )
        return 2

    version = django.__version__
    series = ".".join(version.split(".")[:2])
    docs = Path(options.docs) if options.docs else report.DOCS
    logs = Path(options.logs) if options.logs else LOGS
    tests_dir = django_tests_dir(version)
    data = report.load(docs / "conformance.json")
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"Django {version} tests from {tests_dir}; Python {platform.python_version()}")

    started = time.monotonic()
    for target in targets:
        app_args = options.apps or [target.default_apps]
        about = {
            "django": version,
            "python": platform.python_version(),
            "date": date,
            "server": mongodb_server() if target.needs_mongodb else "",
            "declared": _declared(target, tests_dir),
            **commands_for(target.name, app_args, options.timeout, series),
        }
        print(f"\n{target.name}: {target.description}")
        target_started = time.monotonic()
        measured = data["runs"].get(target.name, {}).get(version, {})
        for app in expand_apps(app_args):
            if already_measured(measured.get(app), options.resume, options.rerun_status):
                print(f"  {app:20} already measured ({measured[app]['date']}): skipped")
                continue
            log = logs / target.name / version / f"{app}.log"
            if options.from_logs:
                if not log.exists():
                    continue
                outcome = reread(log, measured.get(app))
            else:
                outcome = run_app(target, app, tests_dir, options.timeout, log)
            print(_line(app, outcome), flush=True)
            report.record_app(data, target.name, version, app, outcome, date)
            report.save(data, docs)  # progress survives an interrupted run
        about["seconds"] = round(time.monotonic() - target_started, 1)
        report.record_target(data, target.name, version, about)
        report.save(data, docs)
        print(f"{target.name}: {about['seconds']:.0f} s; outputs in {logs / target.name / version}")

    print(f"\nwall time {time.monotonic() - started:.0f} s; wrote {docs / 'conformance.md'}")
    return _check_overlay(data, version, {target.name for target in targets})


def already_measured(earlier: dict | None, resume: bool, rerun_status: list[str]) -> bool:
    """Whether ``--resume`` skips an app: recorded, and not with a status asked to rerun."""
    return bool(resume and earlier and earlier["status"] not in rerun_status)


def reread(log: Path, earlier: dict | None) -> AppOutcome:
    """The outcome in a kept output; a timeout and the time taken come from the report."""
    outcome = parse(log.read_text())
    if earlier:
        outcome.seconds = earlier["seconds"]
        if earlier["status"] == "timeout":
            outcome.status, outcome.error = earlier["status"], earlier["error"]
    return outcome


def _declared(target, tests_dir: Path) -> dict:
    try:
        return declared_by(target, tests_dir=tests_dir)
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"{target.name}: {exc}", file=sys.stderr)
        return {"error": str(exc).splitlines()[0]}


def _line(app: str, outcome: AppOutcome) -> str:
    counts = outcome.counts()
    cells = " ".join(f"{counts[name]:5} {title}" for name, title in TITLES.items())
    status = "" if outcome.status == "completed" else f"  {outcome.status.upper()}: {outcome.error}"
    return f"  {app:20} {cells} {outcome.seconds:7.1f} s{status}"


def _check_overlay(data: dict, version: str, ran: set[str]) -> int:
    verdict = data.get("overlay_invariant", {}).get(version)
    if verdict is None or not ran & set(OVERLAY_PAIR):
        return 0
    plain, overlay = OVERLAY_PAIR
    if verdict["identical"]:
        print(
            f"Django {version}: {overlay} and {plain} agree on every test's outcome "
            f"in {len(verdict['apps'])} apps: the overlay changed nothing."
        )
        return 0
    print(
        f"Django {version}: the overlay CHANGED results on SQLite in "
        f"{', '.join(verdict['differences'])}; see docs/conformance.md",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
