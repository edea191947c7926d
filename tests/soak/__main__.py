"""``python -m tests.soak [--seconds N] [--threads N] [--target NAME ...]``

Runs the soak (see ``tests/soak/__init__.py``) on each target in turn --
``ferretdb`` and ``mariadb`` by default, ``mongomock`` on request -- and prints
per target the operations run, their outcomes, the outage and what the
invariants checked. Exit status 1 when any invariant failed. ``--seconds``
(default ``NONREL_SOAK_SECONDS`` or 90) is the time each target runs; the server
is killed at half of it and restarted.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from django.db import connections  # noqa: E402

from tests.conc.models import Account, Board, Entry, Post, Thread  # noqa: E402
from tests.reliability.faults import database_alias  # noqa: E402
from tests.soak.invariants import Verdict, verify  # noqa: E402
from tests.soak.targets import TARGETS, Target  # noqa: E402
from tests.soak.workload import Entries, Shared, Worker  # noqa: E402

ALIAS = "soak"
MODELS = (Board, Thread, Post, Account, Entry)
SHARED_ACCOUNTS = 3
#: Persistent connections, checked at each request boundary, as production runs them.
PERSISTENT = {"CONN_MAX_AGE": 600, "CONN_HEALTH_CHECKS": True}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.soak")
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("NONREL_SOAK_SECONDS", 90))
    )
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--target", action="append", choices=sorted(TARGETS))
    options = parser.parse_args(argv)
    options.target = options.target or ["ferretdb", "mariadb"]
    return options


def soak(target: Target, seconds: float, threads: int) -> Verdict:
    with (
        target.start() as running,
        database_alias(ALIAS, {**running.settings, **PERSISTENT}) as alias,
    ):
        with connections[alias].schema_editor() as editor:
            for model in MODELS:
                editor.create_model(model)
        counters = [
            Account.objects.using(alias).create(owner=f"counter-{i}").pk for i in range(threads)
        ]
        accounts = [
            Account.objects.using(alias).create(owner=f"shared-{i}").pk
            for i in range(SHARED_ACCOUNTS)
        ]
        shared_counter = (
            Account.objects.using(alias).create(owner="shared counter").pk
            if target.atomic_updates
            else None
        )
        connections[alias].close()
        shared = Shared(alias, accounts, shared_counter, Entries(), threading.Event())
        workers = [Worker(i, shared, counters[i]) for i in range(threads)]
        ledgers = [None] * threads

        def run(i: int) -> None:
            ledgers[i] = workers[i].run()

        pool = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
        started = time.monotonic()
        for thread in pool:
            thread.start()
        outage = 0.0
        time.sleep(seconds / 2)
        if running.crash is not None:
            down = time.monotonic()
            running.crash()
            time.sleep(2.0)
            running.restart()
            outage = time.monotonic() - down
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        shared.stop.set()
        for thread in pool:
            thread.join(timeout=300)
        elapsed = time.monotonic() - started
        if any(thread.is_alive() for thread in pool) or None in ledgers:
            verdict = Verdict()
            verdict.violations.append("a thread hung or died")
            return verdict
        connections[alias].close_if_unusable_or_obsolete()
        verdict = verify(alias, ledgers, counters, accounts, shared_counter)
        report(target, ledgers, verdict, elapsed, outage, threads)
        connections[alias].close()
        return verdict


def report(target: Target, ledgers, verdict: Verdict, elapsed: float, outage: float, threads):
    operations = sum((ledger.operations for ledger in ledgers), Counter())
    errors = sum((ledger.errors for ledger in ledgers), Counter())
    uncertain = sum(
        ledger.counter_uncertain + ledger.shared_counter_uncertain + ledger.saves_uncertain
        for ledger in ledgers
    )
    lines = [
        f"soak: {target.name}: {threads} threads, {elapsed:.0f} s, server killed and "
        f"restarted once ({outage:.1f} s without it)"
        if outage
        else f"soak: {target.name}: {threads} threads, {elapsed:.0f} s, no crash",
        f"  operations: {sum(operations.values())} "
        f"({', '.join(f'{name} {count}' for name, count in sorted(operations.items()))})",
        f"  database errors (failed cleanly): {sum(errors.values())} "
        f"({', '.join(f'{name} {count}' for name, count in sorted(errors.items())) or 'none'}); "
        f"uncertain counter/save outcomes: {uncertain}",
        f"  version conflicts refused: {sum(ledger.conflicts for ledger in ledgers)}; "
        f"bookmark walks: {sum(ledger.walks for ledger in ledgers)} "
        f"({sum(ledger.walk_pages for ledger in ledgers)} pages, "
        f"{sum(ledger.walk_rows for ledger in ledgers)} rows)",
        *(f"  checked: {name}: {count}" for name, count in verdict.checked.items()),
        f"  invariants: {'all held' if not verdict.violations else 'VIOLATED'}",
        *(f"  VIOLATION: {violation}" for violation in verdict.violations),
    ]
    print("\n".join(lines), flush=True)


def main(argv: list[str]) -> int:
    options = parse(argv)
    failed = []
    for name in options.target:
        verdict = soak(TARGETS[name], options.seconds, options.threads)
        if verdict.violations:
            failed.append(name)
    if failed:
        print(f"soak: invariants violated on {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
