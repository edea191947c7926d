"""The harness reads runtests.py output right, and notices when the overlay changes a result."""

from tests.djangosuite import report
from tests.djangosuite.outcomes import parse

# Shapes seen in real runs: a docstring line, output between "..." and the status,
# failing subtests, a status indented after a crash, a failing class fixture.
RUN = """\
Found 8 test(s).
django-nonrel patches in effect during the run: cascade upsert
test_a (basic.tests.A.test_a) ... ok
test_b (basic.tests.A.test_b)
Regression (ticket.123) is fixed ... ok
test_c (basic.tests.A.test_c) ... printed by the test
ok
test_d (basic.tests.A.test_d) ... skipped 'Database lacks a feature'
test_e (basic.tests.A.test_e) ...
  test_e (basic.tests.A.test_e) [x] (i=1) ... FAIL
  test_e (basic.tests.A.test_e) (i=2) ... ERROR
test_f (basic.tests.A.test_f) ...
  ERROR
test_g (basic.tests.A.test_g) ... expected failure
test_h (basic.tests.A.test_h) ... unexpected success
setUpClass (basic.tests.B) ... ERROR

======================================================================
FAIL: test_e (basic.tests.A.test_e) [x] (i=1)
test_z (basic.tests.A.test_z) ... ok
----------------------------------------------------------------------
Ran 8 tests in 0.1s

FAILED (failures=1, errors=3, skipped=1, expected failures=1, unexpected successes=1)
"""


def test_each_test_counts_once_by_its_worst_outcome():
    outcome = parse(RUN)
    assert outcome.counts() == {
        "tests": 9,
        "passed": 3,
        "failed": 0,
        "errors": 3,
        "skipped": 1,
        "expected_failures": 1,
        "unexpected_successes": 1,
    }
    assert outcome.tests["basic.tests.A.test_e"] == "errors"
    assert outcome.tests["basic.tests.B.setUpClass"] == "errors"
    assert "basic.tests.A.test_z" not in outcome.tests  # failure details are not results
    assert (outcome.status, outcome.found, outcome.ran, outcome.notes) == ("completed", 8, 8, [])
    assert outcome.patches == ["cascade", "upsert"]


def test_an_app_that_dies_counts_one_error_named_by_its_exception():
    outcome = parse(
        "Traceback (most recent call last):\n  File 'x'\nImportError: first\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n  File 'y'\n"
        "django.core.exceptions.ImproperlyConfigured: the settings are wrong\n"
    )
    assert outcome.status == "aborted"
    assert outcome.error == "django.core.exceptions.ImproperlyConfigured: the settings are wrong"
    assert outcome.counts()["errors"] == outcome.counts()["tests"] == 1


def test_a_tests_module_that_does_not_import_says_why():
    outcome = parse(
        "Found 1 test(s).\n"
        "lookup (unittest.loader._FailedTest.lookup) ... ERROR\n\n" + "=" * 70 + "\n"
        "ERROR: lookup (unittest.loader._FailedTest.lookup)\n" + "-" * 70 + "\n"
        "ImportError: Failed to import test module: lookup\n"
        "Traceback (most recent call last):\n  File 'z'\n"
        "ModuleNotFoundError: No module named 'lookup.models'\n\n" + "-" * 70 + "\n"
        "Ran 1 test in 0.000s\n\nFAILED (errors=1)\n"
    )
    assert outcome.error == "ModuleNotFoundError: No module named 'lookup.models'"
    assert outcome.counts()["errors"] == 1


def test_the_overlay_invariant_compares_every_outcome():
    data = {"format": report.FORMAT, "runs": {}, "targets": {}}
    plain, changed = parse(RUN), parse(RUN)
    changed.tests["basic.tests.A.test_a"] = "failed"
    report.record_app(data, "sqlite", "5.2.19", "basic", plain, "today")
    report.record_app(data, "sqlite_overlay", "5.2.19", "basic", plain, "today")
    assert report.overlay_invariant(data)["5.2.19"]["identical"]

    report.record_app(data, "sqlite_overlay", "5.2.19", "basic", changed, "today")
    verdict = report.overlay_invariant(data)["5.2.19"]
    assert not verdict["identical"]
    assert verdict["differences"]["basic"]["outcomes_only_with_overlay"] == {
        "basic.tests.A.test_a": "failed"
    }
    assert "**NO**: basic" in report.render({**data, "overlay_invariant": {"5.2.19": verdict}})


FAILURES = (
    "Found 3 test(s).\n"
    "test_a (admin_x.tests.T.test_a) ... ERROR\n"
    "test_b (admin_x.tests.T.test_b) ... ERROR\n"
    "test_c (admin_x.tests.T.test_c) ... FAIL\n\n" + "=" * 70 + "\n"
    "ERROR: test_a (admin_x.tests.T.test_a)\n" + "-" * 70 + "\n"
    "Traceback (most recent call last):\n  File 'a'\n"
    "django.db.utils.NotSupportedError: Filtering on Book.author needs a JOIN, see 'x'\n\n"
    + "=" * 70
    + "\nERROR: test_b (admin_x.tests.T.test_b)\n"
    + "-" * 70
    + "\nTraceback (most recent call last):\n  File 'b'\n"
    "django.db.utils.NotSupportedError: Filtering on User.groups needs a JOIN, see 'y'\n\n"
    + "=" * 70
    + "\nFAIL: test_c (admin_x.tests.T.test_c)\n"
    + "-" * 70
    + "\nTraceback (most recent call last):\n  File 'c'\nAssertionError: 3 != 4\n\n"
    + "-" * 70
    + "\nRan 3 tests in 0.1s\n\nFAILED (failures=1, errors=2)\n"
)


def test_failures_are_grouped_by_the_exception_they_ended_with():
    outcome = parse(FAILURES)
    join = "django.db.utils.NotSupportedError: Filtering on Model.field needs a JOIN, see '…'"
    assert outcome.causes == {
        "admin_x.tests.T.test_a": join,
        "admin_x.tests.T.test_b": join,
        "admin_x.tests.T.test_c": "AssertionError: N != N",
    }
    data = {"format": report.FORMAT, "runs": {}, "targets": {}}
    report.record_app(data, "mongodb", "5.2.19", "admin_x", outcome, "today")
    rows = report.cause_counts(data["runs"]["mongodb"]["5.2.19"])
    assert rows == [(join, 2, ["admin_x"]), ("AssertionError: N != N", 1, ["admin_x"])]


def test_resume_skips_recorded_apps_unless_their_status_is_rerun():
    from tests.djangosuite.__main__ import already_measured

    done, cut = {"status": "completed"}, {"status": "timeout"}
    assert already_measured(done, True, [])
    assert already_measured(cut, True, [])
    assert not already_measured(cut, True, ["timeout"])
    assert not already_measured(None, True, ["timeout"])
    assert not already_measured(done, False, [])  # without --resume everything runs


def _entry(date: str) -> dict:
    counts = dict.fromkeys(report.COUNTS, 0)
    return {
        **counts,
        "seconds": 1.0,
        "status": "completed",
        "date": date,
        "error": None,
        "notes": [],
        "not_passed": {},
    }


def test_a_table_merged_from_several_runs_says_so():
    """Totals of apps measured on different dates are no whole-suite number: the
    report must say so, and must not for a table that is one run."""
    one_run = {"basic": _entry("2026-12-03 09:49 UTC"), "lookup": _entry("2026-12-03 09:49 UTC")}
    merged = {"basic": _entry("2026-11-23 22:13 UTC"), "lookup": _entry("2026-12-03 09:49 UTC")}
    assert report._merged_runs(one_run) == []
    warning = " ".join(report._merged_runs(merged))
    assert "Merged from 2 runs" in warning
    assert "2026-11-23 22:13 UTC and 2026-12-03 09:49 UTC" in warning
