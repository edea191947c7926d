"""Reading runtests.py output and writing docs/conformance.{json,md}."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
STATUS = re.compile(r" \.\.\. (ok|FAIL|ERROR|skipped\b.*|expected failure|unexpected success)$")
FIELDS = (
    "tests",
    "passed",
    "failed",
    "errors",
    "skipped",
    "expected_failures",
    "unexpected_successes",
)


@dataclass
class AppResult:
    """Counts for one Django test app on one backend."""

    tests: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    expected_failures: int = 0
    unexpected_successes: int = 0
    seconds: float = 0.0
    note: str = ""


def parse(output: str) -> AppResult:
    """Counts from ``runtests.py -v 2`` output (one status per test line)."""
    result = AppResult()
    for line in output.splitlines():
        match = STATUS.search(line)
        if not match:
            continue
        status = match.group(1)
        if status == "ok":
            result.passed += 1
        elif status == "FAIL":
            result.failed += 1
        elif status == "ERROR":
            result.errors += 1
        elif status.startswith("skipped"):
            result.skipped += 1
        elif status == "expected failure":
            result.expected_failures += 1
        else:
            result.unexpected_successes += 1
    result.tests = sum(getattr(result, f) for f in FIELDS[1:])
    ran = re.search(r"^Ran (\d+) tests?", output, re.MULTILINE)
    if ran is not None and int(ran.group(1)) != result.tests:
        result.note = f"runtests reported {ran.group(1)} tests; {result.tests} statuses parsed"
    if ran is None:
        lines = [line for line in output.splitlines() if line.strip()]
        result.errors = max(result.errors, 1)
        result.note = (lines[-1] if lines else "no output")[:200]
    return result


def load() -> dict:
    path = DOCS / "conformance.json"
    return json.loads(path.read_text()) if path.exists() else {"runs": {}}


def save(data: dict) -> None:
    DOCS.mkdir(exist_ok=True)
    (DOCS / "conformance.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    (DOCS / "conformance.md").write_text(render(data))


def record(data: dict, backend: str, version: str, app: str, result: AppResult) -> None:
    data["runs"].setdefault(backend, {}).setdefault(version, {})[app] = asdict(result)


def render(data: dict) -> str:
    """The Markdown report: one table per backend and Django version."""
    lines = [
        "# Django's own test suite on django-nonrel",
        "",
        "Django's `tests/runtests.py` from the sdist of the installed Django, one test app",
        "at a time, unmodified. Skips and expected failures come only from each backend's",
        "`features.py` (`django_test_skips` / `django_test_expected_failures`, each with a",
        "reason). Regenerate with `nox -s djangosuite-5.2 -- --backend NAME --apps core`",
        "(see `python -m tests.djangosuite --help`).",
        "",
    ]
    for note in data.get("notes", []):
        lines += [f"- {note}"]
    if data.get("notes"):
        lines.append("")
    for backend, versions in sorted(data["runs"].items()):
        for version, apps in sorted(versions.items()):
            meta = data.get("declared", {}).get(backend, {}).get(version)
            lines += [f"## {backend} — Django {version}", ""]
            if meta:
                lines += [
                    f"Declared by the backend: {meta['skips']} skipped test ids "
                    f"({meta['skip_reasons']} reasons), {meta['expected_failures']} expected "
                    "failures.",
                    "",
                ]
            header = ["app", *FIELDS, "seconds"]
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            totals = dict.fromkeys(FIELDS, 0)
            for app, counts in sorted(apps.items()):
                for field in FIELDS:
                    totals[field] += counts[field]
                cells = [app, *(str(counts[f]) for f in FIELDS), f"{counts['seconds']:.0f}"]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("| **total** | " + " | ".join(f"**{totals[f]}**" for f in FIELDS) + " | |")
            notes = [f"- {app}: {c['note']}" for app, c in sorted(apps.items()) if c["note"]]
            lines += ["", *notes, ""] if notes else [""]
    return "\n".join(lines)
