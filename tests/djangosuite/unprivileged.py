"""Django tests that need an unprivileged user, skipped when the suite runs as root.

These tests make a directory or file read-only and expect the write to fail; root's
writes ignore file permissions, so they fail on every backend, stock SQLite included
(checked on Django 5.2 and 6.1), whenever the harness runs as root — as it does in
CI containers. They say nothing about a database backend, so they are not declared
in any backend's features.py: the test runner skips them, with this reason, only
when the process really is root, and the report counts them as skipped.
"""

from __future__ import annotations

import os
import unittest
from collections.abc import Iterator

REASON = (
    "Runs as root: file permissions do not restrict root, so the read-only directory "
    "this test relies on is writable (fails on every backend as root)."
)

#: Test ids that pass only as an unprivileged user.
NEEDS_UNPRIVILEGED_USER = frozenset(
    {
        "admin_scripts.tests.StartApp.test_custom_app_directory_creation_error_handling",
        "file_uploads.tests.DirectoryCreationTests.test_readonly_root",
        "i18n.test_compilation.PoFileTests.test_no_write_access",
    }
)


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def skip_unprivileged_tests(suite: unittest.TestSuite) -> int:
    """Mark the suite's tests that need an unprivileged user as skipped; return how many.

    The test method is replaced on the test instance only (TestCase.run() looks it up
    there and honours ``unittest.skip``), so the class stays as Django defines it.
    """
    if not running_as_root():
        return 0
    skipped = 0
    for test in _tests(suite):
        if test.id() in NEEDS_UNPRIVILEGED_USER:
            method = getattr(type(test), test._testMethodName)
            setattr(test, test._testMethodName, unittest.skip(REASON)(method))
            skipped += 1
    return skipped


def _tests(suite: unittest.TestSuite) -> Iterator[unittest.TestCase]:
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _tests(test)
        else:
            yield test
