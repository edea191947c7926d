"""The skips and expected failures a target's backend declares for Django's tests.

A backend lists the Django tests it cannot pass in its ``features.py``
(``django_test_skips``: reason -> test ids, ``django_test_expected_failures``: test
ids), and Django's test runner applies them itself when it creates the test
databases. The harness adds none; it reports how many the backend declares, a
number to drive down. They are read from ``connection.features`` in a separate
process with the target's own settings, as runtests.py would see them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.djangosuite.runner import child_environment
from tests.djangosuite.targets import Target

_PROBE = """
import json
import django
django.setup()
from django.db import connection
features = connection.features
print(json.dumps({
    "skips": {reason: sorted(tests) for reason, tests in features.django_test_skips.items()},
    "expected_failures": sorted(features.django_test_expected_failures),
}))
"""


def declared_by(
    target: Target, env: dict[str, str] | None = None, tests_dir: Path | None = None
) -> dict:
    """Counts and entries of ``target``'s declared skips and expected failures.

    Run from ``tests_dir`` (Django's tests/), test ids resolve as runtests.py resolves
    them: Django's ``backends`` test app, not this checkout's ``backends`` package.
    """
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env=child_environment({**(env or {}), "DJANGO_SETTINGS_MODULE": target.settings}),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tests_dir,
    )
    if probe.returncode != 0:
        lines = probe.stderr.strip().splitlines() or ["no output"]
        raise RuntimeError(
            f"reading the {target.name} backend's features failed: {lines[-1]}\n{probe.stderr}"
        )
    entries = json.loads(probe.stdout.strip().splitlines()[-1])
    return {
        "skips": sum(len(tests) for tests in entries["skips"].values()),
        "skip_reasons": len(entries["skips"]),
        "expected_failures": len(entries["expected_failures"]),
        "entries": entries,
    }
