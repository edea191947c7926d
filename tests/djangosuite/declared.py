"""The skips and expected failures a target's backend declares for Django's tests.

A backend lists the Django tests it cannot pass in its ``features.py``
(``django_test_skips``: reason -> test ids, ``django_test_expected_failures``: test
ids), and Django's test runner applies them itself when it creates the test
databases. The harness adds none of its own (only the root-only environment
skips of ``unprivileged.py``, the same for every backend); it reports how many the
backend declares, a number to drive down. They are read from ``connection.features`` in a separate
process with the target's own settings, as runtests.py would see them.

Two counts: ``written``, the entries ``features.py`` holds for this server (one list
serves every supported Django release), and ``skips``, the entries that apply to
this run: ids of tests this Django release has, without the ids a skipped module or
class already covers. The report lists the applied ones per reason.
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
from django.apps import apps
from django.conf import settings
from django.db import connection
from django_nonrel.testing import existing_test_ids, without_covered_ids
features = connection.features
written = {reason: sorted(tests) for reason, tests in features.django_test_skips.items()}
# Install the test apps the ids name, as runtests.py does for the apps it runs, so
# that an id of a test this Django release does not have is recognised as such.
labels = sorted({test.split(".")[0] for tests in written.values() for test in tests})
apps.set_installed_apps([*settings.INSTALLED_APPS, *RUNTESTS_APPS, *labels])
applied = without_covered_ids(
    {reason: existing_test_ids(tests) for reason, tests in written.items()}
)
print(json.dumps({
    "written": written,
    "skips": {reason: sorted(tests) for reason, tests in applied.items() if tests},
    "expected_failures": sorted(existing_test_ids(features.django_test_expected_failures)),
}))
""".replace(
    "RUNTESTS_APPS",
    # runtests.py's ALWAYS_INSTALLED_APPS: test modules import their models.
    repr(
        [
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sites",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.admin.apps.SimpleAdminConfig",
            "django.contrib.staticfiles",
        ]
    ),
)


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
        "written": sum(len(tests) for tests in entries.pop("written").values()),
        "skip_reasons": len(entries["skips"]),
        "expected_failures": len(entries["expected_failures"]),
        "entries": entries,
    }
