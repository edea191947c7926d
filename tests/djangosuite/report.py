"""docs/conformance.json and docs/conformance.md: the counts, kept across runs.

A run replaces only the (target, Django version, app) entries it measured, so the
report collects targets and Django versions run at different times, each entry
dated. The Markdown is rendered from the JSON alone, so both always agree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.djangosuite.outcomes import COUNTS, AppOutcome
from tests.djangosuite.targets import OVERLAY_PAIR, TARGETS

FORMAT = 2
DOCS = Path(__file__).resolve().parents[2] / "docs"
#: Short titles for the counts.
TITLES = dict(
    zip(COUNTS, ("tests", "passed", "failed", "errors", "skipped", "xfail", "xpass"), strict=True)
)
#: Failing test ids listed per app in the Markdown (the JSON has them all).
LISTED = 15


def load(path: Path) -> dict[str, Any]:
    """The recorded results, or an empty report (also for a file in an older format)."""
    data = json.loads(path.read_text()) if path.exists() else {}
    if data.get("format") != FORMAT:
        if data:
            print(f"{path} predates format {FORMAT}; its entries are not kept")
        data = {"format": FORMAT, "runs": {}, "targets": {}}
    return data


def record_app(data: dict, target: str, version: str, app: str, outcome: AppOutcome, date: str):
    """Store one app's outcome, replacing any earlier one for the same target and version."""
    data["runs"].setdefault(target, {}).setdefault(version, {})[app] = {
        **outcome.counts(),
        "seconds": outcome.seconds,
        "status": outcome.status,
        "error": outcome.error,
        "notes": outcome.notes,
        "patches": outcome.patches,
        "found": outcome.found,
        "unittest_ran": outcome.ran,
        "unittest_verdict": outcome.verdict,
        "not_passed": outcome.not_passed(),
        "outcomes_digest": outcome.digest(),
        "date": date,
    }


def record_target(data: dict, target: str, version: str, about: dict[str, Any]) -> None:
    """Store how a target was run (Python, date, server, declared skips, command)."""
    data["targets"].setdefault(target, {})[version] = about


def overlay_invariant(data: dict) -> dict[str, dict[str, Any]]:
    """Per Django version: did the overlay change any result of Django's tests on SQLite?"""
    plain_name, overlay_name = OVERLAY_PAIR
    verdicts = {}
    for version, plain in data["runs"].get(plain_name, {}).items():
        overlay = data["runs"].get(overlay_name, {}).get(version, {})
        apps = sorted(set(plain) & set(overlay))
        if not apps:
            continue
        differences = {}
        for app in apps:
            before, after = plain[app], overlay[app]
            changed = [name for name in COUNTS if before[name] != after[name]]
            if changed or before["outcomes_digest"] != after["outcomes_digest"]:
                differences[app] = {
                    "counts": {name: [before[name], after[name]] for name in changed},
                    "outcomes_only_without_overlay": _diff(before, after),
                    "outcomes_only_with_overlay": _diff(after, before),
                }
        patches = sorted({tuple(overlay[app]["patches"] or ()) for app in apps})
        verdicts[version] = {
            "apps": apps,
            "identical": not differences,
            "differences": differences,
            "overlay_patches": [list(names) for names in patches],
        }
    return verdicts


def _diff(one: dict, other: dict) -> dict[str, str]:
    return {
        test: outcome
        for test, outcome in one["not_passed"].items()
        if other["not_passed"].get(test) != outcome
    }


def save(data: dict, docs: Path = DOCS) -> None:
    """Write conformance.json and conformance.md into ``docs``."""
    data["overlay_invariant"] = overlay_invariant(data)
    docs.mkdir(exist_ok=True)
    (docs / "conformance.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    (docs / "conformance.md").write_text(render(data))


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in version.split("."))


def _target_order(name: str) -> tuple:
    names = list(TARGETS)
    return (names.index(name) if name in names else len(names), name)


def render(data: dict) -> str:
    """The Markdown report."""
    lines = [
        "# Django's own test suite on django-nonrel",
        "",
        "Django's `tests/runtests.py`, from the sdist of the installed Django version,",
        "unmodified, one test app per process (`--parallel=1 -v 2`), per backend target.",
        "Each test counts once, by its worst outcome (a failing subtest fails its test).",
        "An app that dies before unittest's summary (import error, test-database setup,",
        "timeout) counts one error more. Skips and expected failures come only from the",
        "backend's `features.py` (`django_test_skips`, `django_test_expected_failures`,",
        "each with a reason), applied by Django's own test runner; the harness adds none.",
        "",
        "Targets: " + "; ".join(f"`{t.name}`: {t.description}" for t in TARGETS.values()) + ".",
        "",
        "Regenerate (each command replaces only the entries it measures):",
        "",
        "```",
        "nox -s djangosuite-5.2 -- --backend sqlite --backend sqlite_overlay --apps core",
        "nox -s djangosuite-5.2 -- --backend mongodb --apps mongodb-single-table",
        "nox -s djangosuite-6.1 -- --backend sqlite --backend sqlite_overlay --apps core",
        "nox -s djangosuite-5.2 -- --backend singlestore --apps core",
        "nox -s djangosuite-6.1 -- --backend singlestore --apps core",
        "```",
        "",
        "or, in an environment with Django and this checkout installed,",
        "`python -m tests.djangosuite --help`. Full outputs are kept in",
        "`.cache/djangosuite/TARGET/VERSION/APP.log`.",
        "",
    ]
    invariant = data.get("overlay_invariant", {})
    if invariant:
        lines += [
            "## The overlay on stock SQLite",
            "",
            "django-nonrel's patches switch on the connection's feature flags, so on a stock",
            "backend Django must behave exactly as without them: every test's outcome on",
            "`sqlite_overlay` must equal `sqlite`. The test runner checks, while the tests",
            "run, that every patch is installed on `sqlite_overlay` and none on `sqlite`.",
            "",
            "| Django | apps compared | every test's outcome identical | patches in effect |",
            "|---|---|---|---|",
        ]
        for version in sorted(invariant, key=_version_key):
            verdict = invariant[version]
            patches = " / ".join(", ".join(p) or "none" for p in verdict["overlay_patches"])
            same = "yes" if verdict["identical"] else "**NO**: " + ", ".join(verdict["differences"])
            lines.append(f"| {version} | {len(verdict['apps'])} | {same} | {patches} |")
        lines.append("")
    for target in sorted(data["runs"], key=_target_order):
        for version in sorted(data["runs"][target], key=_version_key):
            lines += _render_table(data, target, version)
    return "\n".join(lines)


def _render_table(data: dict, target: str, version: str) -> list[str]:
    apps = data["runs"][target][version]
    about = data["targets"].get(target, {}).get(version, {})
    lines = [f"## {target} — Django {version}", ""]
    if about:
        declared = about["declared"]
        if "error" in declared:
            declared_text = f"the backend's declared skips could not be read: {declared['error']}"
        else:
            declared_text = (
                f"declared by the backend: {declared['skips']} skip entries "
                f"({declared['skip_reasons']} reasons), "
                f"{declared['expected_failures']} expected-failure entries"
            )
        facts = [
            f"Python {about['python']}",
            f"run {about['date']} in {about['seconds']:.0f} s",
            *([f"server: {about['server']}"] if about.get("server") else []),
            declared_text,
        ]
        lines += [
            "; ".join(facts) + ".",
            "",
            f"Command: `{about['nox']}` (or `{about['command']}`)",
            "",
        ]
    lines += [
        "| app | " + " | ".join(TITLES.values()) + " | seconds | status |",
        "|---|" + "---:|" * (len(TITLES) + 1) + "---|",
    ]
    totals = dict.fromkeys(COUNTS, 0)
    seconds = 0.0
    for app, entry in sorted(apps.items()):
        for name in COUNTS:
            totals[name] += entry[name]
        seconds += entry["seconds"]
        cells = [app, *(str(entry[name]) for name in COUNTS), f"{entry['seconds']:.1f}"]
        lines.append("| " + " | ".join(cells) + f" | {entry['status']} |")
    cells = ["**total**", *(f"**{totals[name]}**" for name in COUNTS), f"**{seconds:.1f}**"]
    lines += ["| " + " | ".join(cells) + " | |", ""]
    notes = []
    for app, entry in sorted(apps.items()):
        if entry["error"]:
            notes.append(f"- {app}: {entry['status']}: `{entry['error']}`")
        notes += [f"- {app}: {note}" for note in entry["notes"]]
        failing = list(entry["not_passed"].items())
        if failing:
            shown = ", ".join(f"`{test}` ({outcome})" for test, outcome in failing[:LISTED])
            more = f" and {len(failing) - LISTED} more" if len(failing) > LISTED else ""
            notes.append(f"- {app}: {shown}{more}")
    return lines + (notes + [""] if notes else [])
