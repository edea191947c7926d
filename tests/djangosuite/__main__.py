"""``python -m tests.djangosuite``: run Django test apps per backend, record the counts."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import django

from tests.djangosuite import results
from tests.djangosuite.sdist import django_tests_dir

ROOT = Path(__file__).resolve().parents[2]
APP_SETS = {
    # Issue 2 (a): the overlay must not change Django's results on SQLite.
    "core": [
        "basic",
        "lookup",
        "queries",
        "model_fields",
        "delete",
        "save_delete_hooks",
        "update",
        "get_or_create",
        "bulk_create",
        "custom_pk",
        "many_to_one",
        "one_to_one",
        "ordering",
        "expressions",
    ],
    # Issue 2 (b): single-table apps on the MongoDB backend.
    "single-table": [
        "basic",
        "lookup",
        "ordering",
        "update",
        "get_or_create",
        "bulk_create",
        "custom_pk",
        "save_delete_hooks",
        "model_fields",
    ],
}
BACKENDS = ("sqlite", "sqlite_overlay", "mongodb")
OVERLAY_MARKER = "django-nonrel overlay active:"


def run_app(backend: str, app: str, tests_dir: Path, timeout: int) -> results.AppResult:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tests_dir)])}
    command = [
        sys.executable,
        "runtests.py",
        f"--settings=tests.djangosuite.settings_{backend}",
        "--parallel=1",
        "-v",
        "2",
        "--noinput",
        app,
    ]
    start = time.monotonic()
    try:
        completed = subprocess.run(
            command, cwd=tests_dir, env=env, capture_output=True, text=True, timeout=timeout
        )
        output = completed.stdout + completed.stderr
    except subprocess.TimeoutExpired as expired:
        output = (expired.stdout or b"").decode() + (expired.stderr or b"").decode()
        result = results.parse(output)
        result.note = f"timed out after {timeout} s"
        result.seconds = timeout
        return result
    if backend == "sqlite_overlay" and OVERLAY_MARKER not in output:
        raise SystemExit(f"{app}: the overlay settings ran without applying the patches")
    result = results.parse(output)
    result.seconds = round(time.monotonic() - start, 1)
    return result


def declared(backend: str) -> dict:
    """How many skips and expected failures the backend's features declare."""
    code = (
        "import django; django.setup(); from django.db import connection as c; "
        "s = c.features.django_test_skips; "
        "print(len(s), sum(len(v) for v in s.values()), "
        "len(c.features.django_test_expected_failures))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": f"tests.djangosuite.settings_{backend}",
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    reasons, skips, xfails = (int(x) for x in out[-3:])
    return {"skip_reasons": reasons, "skips": skips, "expected_failures": xfails}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.djangosuite", description=__doc__)
    parser.add_argument("--backend", action="append", choices=BACKENDS, required=True)
    parser.add_argument(
        "--apps",
        nargs="+",
        default=["core"],
        help="app labels, or a set name: " + ", ".join(APP_SETS),
    )
    parser.add_argument("--timeout", type=int, default=900, help="seconds per app")
    args = parser.parse_args(argv)
    apps = [app for name in args.apps for app in APP_SETS.get(name, [name])]
    tests_dir = django_tests_dir()
    version = django.__version__
    data = results.load()
    for backend in args.backend:
        data.setdefault("declared", {}).setdefault(backend, {})[version] = declared(backend)
        for app in apps:
            result = run_app(backend, app, tests_dir, args.timeout)
            print(
                f"{backend:15} {app:20} {result.tests:5} tests  {result.passed:5} ok  "
                f"{result.failed:3} failed  {result.errors:3} errors  {result.skipped:4} "
                f"skipped  {result.expected_failures:3} xfail  {result.seconds:6.0f}s",
                flush=True,
            )
            results.record(data, backend, version, app, result)
            results.save(data)
    compare_overlay(data, version)
    results.save(data)
    return 0


def compare_overlay(data: dict, version: str) -> None:
    """Record whether the overlay changed any SQLite count (it must not)."""
    runs = data["runs"]
    plain = runs.get("sqlite", {}).get(version, {})
    overlay = runs.get("sqlite_overlay", {}).get(version, {})
    common = sorted(set(plain) & set(overlay))
    if not common:
        return
    fields = results.FIELDS
    differing = [app for app in common if any(plain[app][f] != overlay[app][f] for f in fields)]
    notes = [n for n in data.get("notes", []) if f"Django {version}:" not in n]
    verdict = "identical counts" if not differing else "DIFFERENT counts in " + ", ".join(differing)
    notes.append(
        f"Django {version}: SQLite with and without the overlay over {len(common)} apps: {verdict}."
    )
    data["notes"] = sorted(notes)
    print(notes[-1])


if __name__ == "__main__":
    sys.exit(main())
