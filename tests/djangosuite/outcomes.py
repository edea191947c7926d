"""Reading ``runtests.py -v 2`` output: one outcome per test, counts per app.

unittest at verbosity 2 writes ``test_x (app.tests.Class.test_x) ... ok``, but not
always on one line: a test with a docstring puts the docstring's first line between
its name and ``... ok``, output a test prints can land between ``...`` and the status,
a failing subtest gets an indented line of its own while its test gets none, and an
error in ``setUpClass`` shows as a pseudo-test ``setUpClass (app.tests.Class)``.
Counting status words alone miscounts those, so each status is attributed to the
test it belongs to and every test counts once, by its worst outcome. An app that
dies before unittest's summary (an import error, a failing test-database setup, a
timeout) counts one error more, described by the exception that ended it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

#: Count names, in the order reports show them.
COUNTS = (
    "tests",
    "passed",
    "failed",
    "errors",
    "skipped",
    "expected_failures",
    "unexpected_successes",
)
#: unittest's status words and the count each one feeds.
STATUS_COUNT = {
    "ok": "passed",
    "FAIL": "failed",
    "ERROR": "errors",
    "skipped": "skipped",
    "expected failure": "expected_failures",
    "unexpected success": "unexpected_successes",
}
#: Which outcome wins when one test reports several (subtests): the worst one,
#: except that a skipped subtest does not hide that its test passed.
SEVERITY = (
    "skipped",
    "passed",
    "expected_failures",
    "unexpected_successes",
    "failed",
    "errors",
)
#: Pseudo-tests unittest reports when a class or module fixture fails.
FIXTURES = {"setUpClass", "tearDownClass", "setUpModule", "tearDownModule"}
#: What the checking test runner prints (tests/djangosuite/overlay.py).
PATCHES_MARKER = "django-nonrel patches in effect during the run:"

_STATUS = r"(?P<status>ok|FAIL|ERROR|skipped\b.*|expected failure|unexpected success)"
_TEST = re.compile(r"^(?: {2})?(?P<method>\w+) \((?P<id>\w+(?:\.\w+)+)\)(?P<rest>.*)$")
_STATUS_AFTER_DOTS = re.compile(rf"\.\.\. {_STATUS}$")
_STATUS_ALONE = re.compile(rf"^\s*{_STATUS}$")
_FOUND = re.compile(r"^Found (\d+) test\(s\)\.$", re.MULTILINE)
_RAN = re.compile(r"^Ran (\d+) tests? in ", re.MULTILINE)
_VERDICT = re.compile(r"^(?:OK|FAILED)(?: \(.*\))?$", re.MULTILINE)
_END_OF_TESTS = "=" * 70
#: How unittest names a test module it could not import.
_IMPORT_FAILURE = "unittest.loader._FailedTest."


@dataclass
class AppOutcome:
    """What one run of one Django test app on one backend target came to."""

    #: Test id -> count name (``passed``, ``failed``…).
    tests: dict[str, str] = field(default_factory=dict)
    #: ``completed``, ``aborted`` (no unittest summary) or ``timeout``.
    status: str = "completed"
    #: The exception that ended an aborted app, or why the run was cut short.
    error: str = ""
    #: How many tests Django's runner found (``Found N test(s).``), None if it did not say.
    found: int | None = None
    #: unittest's own ``Ran N tests`` (None when it never got there). It leaves out
    #: tests whose fixture setup failed (Django reports those without starting them).
    ran: int | None = None
    #: unittest's closing verdict line, e.g. ``FAILED (failures=2, skipped=3)``.
    verdict: str = ""
    #: django-nonrel patches the test runner found installed (None: not reported).
    patches: list[str] | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    #: Test id -> the (normalised) exception its failure or error ended with.
    causes: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Tests per outcome; ``tests`` is their sum."""
        counts = dict.fromkeys(COUNTS, 0)
        for outcome in self.tests.values():
            counts[outcome] += 1
        if self.status != "completed":
            counts["errors"] += 1  # what ended the run early
        counts["tests"] = sum(counts[name] for name in COUNTS[1:])
        return counts

    def not_passed(self) -> dict[str, str]:
        """Tests that failed, errored or unexpectedly succeeded, by id."""
        bad = {"failed", "errors", "unexpected_successes"}
        return {test: outcome for test, outcome in sorted(self.tests.items()) if outcome in bad}

    def digest(self) -> str:
        """A fingerprint of every test's outcome, to compare runs exactly."""
        text = "\n".join(f"{test} {outcome}" for test, outcome in sorted(self.tests.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse(output: str) -> AppOutcome:
    """The outcome of one ``runtests.py -v 2 APP`` run from its combined output."""
    result = AppOutcome()
    pending: str | None = None
    for line in output.splitlines():
        if line == _END_OF_TESTS or _RAN.match(line):
            break  # unittest's failure details and summary follow
        if line.startswith(PATCHES_MARKER):
            names = line[len(PATCHES_MARKER) :].split()
            result.patches = [] if names == ["none"] else names
            continue
        test = _TEST.match(line)
        if test and _is_test_id(test["method"], test["id"]):
            key = test["id"]
            if test["method"] in FIXTURES:
                key = f"{key}.{test['method']}"
            status = _STATUS_AFTER_DOTS.search(test["rest"])
            if status:
                _record(result, key, status["status"])
                pending = None
            else:
                pending = key  # a docstring line or the test's own output comes first
            continue
        if pending is not None:
            status = _STATUS_AFTER_DOTS.search(line) or _STATUS_ALONE.match(line)
            if status:
                _record(result, pending, status["status"])
                pending = None
    result.causes = failure_causes(output)
    found = _FOUND.search(output)
    result.found = int(found.group(1)) if found else None
    ran = _RAN.search(output)
    verdict = _VERDICT.findall(output)
    result.ran = int(ran.group(1)) if ran else None
    result.verdict = verdict[-1] if verdict else ""
    if ran is None:
        result.status = "aborted"
        result.error = ending_exception(output)
    else:
        # A tests module that does not import is one error to unittest; say why.
        failed = [test for test in result.tests if test.startswith(_IMPORT_FAILURE)]
        if failed:
            header = f"ERROR: {failed[0].rsplit('.', 1)[-1]} ({failed[0]})\n"
            details = output.split(header, 1)[-1].split(_END_OF_TESTS, 1)[0]
            result.error = ending_exception(details.split("\nRan ", 1)[0])
        real = sum(1 for test in result.tests if test.rsplit(".", 1)[-1] not in FIXTURES)
        if result.found is not None and real != result.found:
            result.notes.append(f"Django found {result.found} tests; {real} outcomes were parsed")
    return result


def _is_test_id(method: str, test_id: str) -> bool:
    # Since Python 3.11 a test is named "test_x (module.Class.test_x)"; requiring the
    # method at both ends keeps docstrings such as "Regression (ticket.123)" out.
    return method in FIXTURES or test_id.endswith(f".{method}")


def _record(result: AppOutcome, test: str, status: str) -> None:
    outcome = STATUS_COUNT["skipped" if status.startswith("skipped") else status]
    previous = result.tests.get(test)
    if previous is None or SEVERITY.index(outcome) > SEVERITY.index(previous):
        result.tests[test] = outcome


def ending_exception(output: str) -> str:
    """The exception line of the last traceback in ``output`` (else its last line)."""
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    if starts:
        for line in lines[starts[-1] + 1 :]:
            if line and not line[0].isspace():
                return line.strip()[:300]
    last = [line.strip() for line in lines if line.strip()]
    return last[-1][:300] if last else "no output"


_DETAIL_HEADER = re.compile(r"^(?:ERROR|FAIL): (?P<method>\w+) \((?P<id>[\w.]+)\)", re.MULTILINE)
#: Details that tell instances of one cause apart without changing the cause.
_VARYING = (
    (re.compile(r"'[^']*'|\"[^\"]*\""), "'…'"),
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "N"),
    (re.compile(r"\b[A-Z]\w*(?:_\w+)?\.\w+\b(?!\()"), "Model.field"),
)


def failure_causes(output: str) -> dict[str, str]:
    """Test id -> the exception its failure or error ended with, normalised.

    Read from unittest's failure details after the test lines. Quoted values,
    numbers and ``Model.field`` names are replaced by placeholders, so that the
    same missing feature hit by many tests reads as one cause.
    """
    details = output.split(_END_OF_TESTS, 1)
    if len(details) < 2:
        return {}
    text = _END_OF_TESTS + details[1]
    causes: dict[str, str] = {}
    headers = list(_DETAIL_HEADER.finditer(text))
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        body = text[header.end() : following.start() if following else len(text)]
        test_id = header["id"]
        if header["method"] in FIXTURES:
            test_id = f"{test_id}.{header['method']}"
        causes.setdefault(test_id, normalise_cause(ending_exception(body.split("\nRan ")[0])))
    return causes


def normalise_cause(line: str) -> str:
    """An exception line with its varying details replaced by placeholders."""
    for pattern, placeholder in _VARYING:
        line = pattern.sub(placeholder, line)
    return line[:160]
