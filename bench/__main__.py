"""``python -m bench [--quick] [--target NAME ...] [--docs DIR]``

Starts FerretDB and MariaDB the way the test command does (unless
``NONREL_TEST_FERRETDB_URI`` / ``NONREL_TEST_MARIADB_URL`` already name
servers), runs each target in its own process, and writes
``DIR/benchmarks.md`` and ``DIR/benchmarks-<target>.png`` (DIR defaults to
docs/). A target whose server cannot be provisioned is reported as not run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import chart, machine, report
from bench.targets import TARGETS

ROOT = Path(__file__).resolve().parent.parent
SERVERS = {"mongodb-ferretdb": "ferretdb", "mariadb": "mariadb"}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under two minutes")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), default=[])
    parser.add_argument("--only", action="append", default=[], help="scenario module name")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    options = parser.parse_args(argv)
    targets = options.target or list(TARGETS)
    started = time.monotonic()

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
            code = subprocess.call(command, env=env, cwd=ROOT)
            if code or not path.exists():
                print(f"bench: {name} failed (exit code {code})", file=sys.stderr)
                return code or 1
            results.append(json.loads(path.read_text()))

    options.docs.mkdir(parents=True, exist_ok=True)
    charts = {}
    for result in results:
        png = options.docs / f"benchmarks-{result['target']}.png"
        if result.get("cases") and chart.draw(result, png):
            charts[result["target"]] = png.name
    command = "nox -s bench" + (" -- --quick" if options.quick else "")
    text = report.document(results, machine.describe(), charts, command)
    (options.docs / "benchmarks.md").write_text(text)
    print(f"bench: wrote {options.docs / 'benchmarks.md'} in {time.monotonic() - started:.0f} s")
    for result in results:
        for name, measured, met in report.goals(result):
            print(f"  {result['target']:<18} {name}: {measured} [{report._mark(met)}]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
