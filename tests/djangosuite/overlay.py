"""Proof, from inside each test run, of which django-nonrel patches are in effect.

The sqlite and sqlite_overlay targets differ only in the patches, so the claim "the
overlay changes nothing on SQLite" is worth only as much as the evidence that the
patches really were installed while Django's tests ran (and really were absent from
the baseline). Every target's settings name ``CheckingTestRunner`` as TEST_RUNNER
(runtests.py honours it); just before the tests run it looks for the wrappers that
``django_nonrel.patches.versions.wrap`` tags with ``_django_nonrel_patch`` on Django's
own classes and functions, prints what it found on one line for the harness to read,
and stops the run if that is not what the settings declare
(``DJANGOSUITE_EXPECTED_PATCHES``: ``"all"`` or ``"none"``).
"""

from __future__ import annotations

import sys
from types import FunctionType
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test.runner import DiscoverRunner

from tests.djangosuite.outcomes import PATCHES_MARKER
from tests.djangosuite.unprivileged import skip_unprivileged_tests

TAG = "_django_nonrel_patch"


def installed_patches() -> dict[str, list[str]]:
    """Patch name -> the Django functions it currently wraps, by their dotted path."""
    found: dict[str, list[str]] = {}
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith("django."):
            continue
        for name, value in list(vars(module).items()):
            # type() rather than isinstance(): isinstance() asks a lazy object for
            # its __class__, which would evaluate it.
            if issubclass(type(value), type) and value.__module__ == module_name:
                for attribute, member in list(vars(value).items()):
                    _note(found, f"{module_name}.{name}.{attribute}", member)
            else:
                _note(found, f"{module_name}.{name}", value)
    return {patch: sorted(paths) for patch, paths in sorted(found.items())}


def _note(found: dict[str, list[str]], path: str, value: Any) -> None:
    for function in (value, getattr(value, "__func__", None), getattr(value, "fget", None)):
        # Several patches may wrap one function: each wrapper wraps the one before.
        while type(function) is FunctionType and hasattr(function, TAG):
            found.setdefault(getattr(function, TAG), []).append(path)
            function = function.__wrapped__


def expected_patches() -> set[str]:
    """The patch names the settings module says must be in effect."""
    expected = getattr(settings, "DJANGOSUITE_EXPECTED_PATCHES", "none")
    if expected == "none":
        return set()
    from django_nonrel.patches import PATCHES

    return set(PATCHES)


class CheckingTestRunner(DiscoverRunner):
    """Django's test runner, refusing to run unless the expected patches are in effect.

    It also skips the few tests that need an unprivileged user when the run is root's
    (``tests.djangosuite.unprivileged``): an environment limit, not a backend's.
    """

    def run_suite(self, suite: Any, **kwargs: Any) -> Any:
        installed = installed_patches()
        print(f"{PATCHES_MARKER} {' '.join(installed) or 'none'}", file=sys.stderr, flush=True)
        expected = expected_patches()
        if set(installed) != expected:
            raise ImproperlyConfigured(
                f"django-nonrel patches in effect: {sorted(installed) or 'none'}; this "
                f"target's settings expect {sorted(expected) or 'none'}. Results would "
                "not show what the target claims to measure."
            )
        skip_unprivileged_tests(suite)
        return super().run_suite(suite, **kwargs)
