"""``python -m bench [--quick] [--target NAME ...] [--docs DIR]``

Starts FerretDB and MariaDB the way the test command does (unless
``NONREL_TEST_FERRETDB_URI`` / ``NONREL_TEST_MARIADB_URL`` already name
servers), runs each target in its own process, and writes
``DIR/benchmarks.md``, ``DIR/benchmarks-<target>.png`` and the raw numbers in
``DIR/benchmarks.json`` (DIR defaults to docs/). A target whose server cannot
be provisioned is reported as not run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import chart, machine, report
from bench.targets import TARGETS

ROOT = Path(__file__).resolve().parent.parent
SERVERS = {"mongodb-ferretdb": "ferretdb", "mariadb": "mariadb"}


def _stop(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C: ``subprocess.call`` kills the target's process and the
    ``with`` blocks stop the servers, so a killed bench leaves no FerretDB or MariaDB behind."""
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under two minutes")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), default=[])
    parser.add_argument("--only", action="append", default=[], help="scenario module name")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    parser.add_argument(
        "--official-python",
        default=os.environ.get("BENCH_OFFICIAL_PYTHON"),
        help="an interpreter with django-mongodb-backend and the Django it supports, to "
        "measure it as a peer on MongoDB servers (default: $BENCH_OFFICIAL_PYTHON; "
        "without one it is reported as not run)",
    )
    parser.add_argument(
        "--no-peers",
        action="store_true",
        help="measure no peer even where one is installed (the quick profile of nox -s bench)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite benchmarks.md and the charts from DIR/benchmarks.json, measuring nothing",
    )
    options = parser.parse_args(argv)
    started = time.monotonic()
    record = options.docs / "benchmarks.json"
    if options.report_only:
        saved = json.loads(record.read_text())
        write_docs(options.docs, saved["results"], saved["machine"], saved["command"])
        return 0
    results = measure(options)
    if results is None:
        return 1
    # nox -s bench leaves the peers out of the quick profile by itself.
    extra = ["--quick"] if options.quick else ["--no-peers"] if options.no_peers else []
    command = " -- ".join(["nox -s bench", *[" ".join(extra)] * bool(extra)])
    machine_facts = machine.describe()
    options.docs.mkdir(parents=True, exist_ok=True)
    record.write_text(
        json.dumps({"command": command, "machine": machine_facts, "results": results}, indent=1)
    )
    write_docs(options.docs, results, machine_facts, command)
    print(f"bench: wrote {options.docs / 'benchmarks.md'} in {time.monotonic() - started:.0f} s")
    for result in results:
        for name, measured, met in report.goals(result):
            print(f"  {result['target']:<18} {name}: {measured} [{report._mark(met)}]")
    return 0


def measure(options: argparse.Namespace) -> list[dict] | None:
    """Each target's results, each measured in a process of its own."""
    targets = options.target or list(TARGETS)

    sys.path.insert(0, str(ROOT))
    from tests.servers.provision import ProvisionedServers

    servers = ProvisionedServers([SERVERS[t] for t in targets if t in SERVERS])
    results = []
    with servers, tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, **servers.env}
        for name in targets:
            path = Path(scratch, f"{name}.json")
            command = [sys.executable, "-m", "bench.run_target", name, "--json", str(path)]
            command += ["--quick"] if options.quick else []
            for scenario in options.only:
                command += ["--only", scenario]
            if options.official_python:
                command += ["--official-python", options.official_python]
            command += ["--no-peers"] if options.no_peers else []
            code = subprocess.call(command, env=env, cwd=ROOT)
            if code or not path.exists():
                print(f"bench: {name} failed (exit code {code})", file=sys.stderr)
                return None
            results.append(json.loads(path.read_text()))
    return results


def write_docs(docs: Path, results: list[dict], machine_facts: dict, command: str) -> None:
    """benchmarks.md and one chart per measured target."""
    docs.mkdir(parents=True, exist_ok=True)
    charts = {}
    for result in results:
        png = docs / f"benchmarks-{result['target']}.png"
        if result.get("cases") and chart.draw(result, png):
            charts[result["target"]] = png.name
    (docs / "benchmarks.md").write_text(report.document(results, machine_facts, charts, command))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
