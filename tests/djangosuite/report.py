"""docs/conformance.json and docs/conformance.md: the counts, kept across runs.

A run replaces only the (target, Django version, app) entries it measured, so the
report collects targets and Django versions run at different times, each entry
dated. The Markdown is rendered from the JSON alone, so both always agree.
"""

from __future__ import annotations

import json
import re
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
#: Failing test ids listed per app in the Markdown (the JSON has them all); fewer
#: when a table has many apps, so that the causes stay readable.
LISTED = 15
LISTED_MANY_APPS = 3
#: Failure causes listed per target and version, most frequent first.
CAUSES_LISTED = 25


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
        "causes": {test: outcome.causes.get(test, "") for test in outcome.not_passed()},
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
        "timeout) counts one error more. Skips and expected failures come from the",
        "backend's `features.py` (`django_test_skips`, `django_test_expected_failures`,",
        "each with a reason), applied by Django's own test runner. The harness adds one",
        "kind, for every backend alike and only when the run is root's (CI containers):",
        "the 3 tests that need an unprivileged user to make a directory read-only",
        "(`tests/djangosuite/unprivileged.py`; they fail on stock SQLite as root too).",
        "The nox sessions install Django's optional test packages that database-backed apps",
        "use (setup.cfg extra `djangosuite`: docutils, PyYAML, Pillow, Jinja2, the password",
        "hashers' libraries, ...); a run without them skips those apps' tests, as Django does.",
        "",
        "Targets: " + "; ".join(f"`{t.name}`: {t.description}" for t in TARGETS.values()) + ".",
        "",
        "App sets (`tests/djangosuite/targets.py`): `core` and `mongodb-single-table`, chosen",
        "here; `mongodb-official`, the 146 Django test apps the official MongoDB backend",
        "(mongodb/django-mongodb-backend) runs in its CI, taken from its",
        "`.github/workflows/runtests.py`. That project runs them on a patched fork of Django",
        "with ObjectId keys; here they run unmodified, on integer AutoField. Skipped tests are",
        "mostly Django's own `skipUnlessDBFeature` decisions from the backend's feature flags;",
        "the declared entries are counted per test id (a module, class or method id counts",
        "once). Each app gets a time budget (`--timeout`); an app cut off is `timeout`, and its",
        "failing tests' causes are unknown (unittest prints them at the end).",
        "",
        "Regenerate (each command replaces only the entries it measures):",
        "",
        "```",
        "nox -s djangosuite-5.2 -- --backend sqlite --backend sqlite_overlay --apps core",
        "nox -s djangosuite-5.2 -- --backend mongodb --apps mongodb-single-table",
        "nox -s djangosuite-5.2 -- --backend mongodb --apps mongodb-official "
        "--require-mongodb-server",
        "nox -s djangosuite-6.1 -- --backend sqlite --backend sqlite_overlay --apps core",
        "nox -s djangosuite-6.1 -- --backend mongodb --apps mongodb-official "
        "--require-mongodb-server",
        "nox -s djangosuite-5.2 -- --backend singlestore --apps mongodb-official --timeout 1500",
        "nox -s djangosuite-6.1 -- --backend singlestore --apps mongodb-official --timeout 1500",
        "```",
        "",
        "or, in an environment with Django and this checkout installed,",
        "`python -m tests.djangosuite --help`. Full outputs are kept in",
        "`.cache/djangosuite/TARGET/VERSION/APP.log`. A long run can be split over",
        "processes: each `python -m tests.servers --ferretdb -- python -m tests.djangosuite",
        "... --apps APP ... --docs DIR --logs DIR` starts its own FerretDB (two runs never",
        "share a test database) and writes its own report; the entries are then merged",
        "by app (each keeps its `measured` date).",
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


def _merged_runs(apps: dict) -> list[str]:
    """A warning when a table's apps come from several runs.

    Entries are merged by app across runs (each keeps its ``measured`` date), so
    a table can mix results of different code; its totals are then no whole-suite
    number, and the report must say so rather than let the total be quoted.
    """
    dates = sorted({entry["date"] for entry in apps.values()})
    if len(dates) < 2:
        return []
    return [
        f"**Merged from {len(dates)} runs** between {dates[0]} and {dates[-1]} (the "
        "`measured` column), not one run: the totals mix results of the code of "
        "different dates, and the line above describes the latest run only. Re-run the "
        "whole app set with one command before quoting them.",
        "",
    ]


def _render_table(data: dict, target: str, version: str) -> list[str]:
    apps = data["runs"][target][version]
    about = data["targets"].get(target, {}).get(version, {})
    lines = [f"## {target} — Django {version}", ""]
    if about:
        declared = about["declared"]
        if "error" in declared:
            declared_text = f"the backend's declared skips could not be read: {declared['error']}"
        else:
            written = (
                f" ({declared['written']} written in features.py for this server, one list "
                "for every supported Django release)"
                if "written" in declared
                else ""
            )
            declared_text = (
                f"declared by the backend: {declared['skips']} skip entries"
                f"{' applied' if 'written' in declared else ''} "
                f"({declared['skip_reasons']} reasons){written}, "
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
        if about.get("note"):  # how a run split over processes was put together
            lines += [about["note"], ""]
    lines += _merged_runs(apps)
    lines += [
        "| app | " + " | ".join(TITLES.values()) + " | seconds | status | measured |",
        "|---|" + "---:|" * (len(TITLES) + 1) + "---|---|",
    ]
    totals = dict.fromkeys(COUNTS, 0)
    seconds = 0.0
    for app, entry in sorted(apps.items()):
        for name in COUNTS:
            totals[name] += entry[name]
        seconds += entry["seconds"]
        cells = [app, *(str(entry[name]) for name in COUNTS), f"{entry['seconds']:.1f}"]
        lines.append("| " + " | ".join(cells) + f" | {entry['status']} | {entry['date']} |")
    cells = ["**total**", *(f"**{totals[name]}**" for name in COUNTS), f"**{seconds:.1f}**"]
    lines += ["| " + " | ".join(cells) + " | | |", ""]
    lines += [
        f"Apps: {len(apps)}; completed {sum(e['status'] == 'completed' for e in apps.values())}, "
        f"aborted {sum(e['status'] == 'aborted' for e in apps.values())}, "
        f"timed out {sum(e['status'] == 'timeout' for e in apps.values())}.",
        "",
    ]
    lines += _render_declared(about.get("declared", {}))
    lines += _render_causes(apps)
    notes = []
    listed = LISTED if len(apps) <= 20 else LISTED_MANY_APPS
    for app, entry in sorted(apps.items()):
        if entry["error"]:
            notes.append(f"- {app}: {entry['status']}: `{entry['error']}`")
        notes += [f"- {app}: {note}" for note in entry["notes"]]
        failing = list(entry["not_passed"].items())
        if failing:
            shown = ", ".join(f"`{test}` ({outcome})" for test, outcome in failing[:listed])
            more = f" and {len(failing) - listed} more" if len(failing) > listed else ""
            notes.append(f"- {app}: {shown}{more}")
    return lines + (notes + [""] if notes else [])


def _render_declared(declared: dict) -> list[str]:
    """The backend's declared skip / expected-failure entries, counted per reason."""
    entries = declared.get("entries")
    if not entries:
        return []
    total = sum(len(ids) for ids in entries["skips"].values()) + len(entries["expected_failures"])
    if "written" in declared:
        heading = [
            "Declared entries applied to this run (each test id — module, class or method —",
            "counts once; ids of other Django releases and ids inside a class or module",
            f"skipped as a whole are not counted): **{total}**; written in `features.py` for",
            f"this server: {declared['written']}.",
        ]
    else:  # recorded before the harness told the two apart
        heading = [
            f"Declared entries (each test id — module, class or method — counts once): **{total}**."
        ]
    lines = [
        *heading,
        "",
        "| entries | reason |",
        "|---:|---|",
    ]
    rows = [(len(ids), reason) for reason, ids in entries["skips"].items()]
    if entries["expected_failures"]:
        rows.append((len(entries["expected_failures"]), "expected failures"))
    for count, reason in sorted(rows, key=lambda row: (-row[0], row[1])):
        lines.append(f"| {count} | {reason.replace('|', '/')} |")
    return lines + [""]


def cause_counts(apps: dict) -> list[tuple[str, int, list[str]]]:
    """(cause, tests, apps) for every failing or erroring test, most frequent first."""
    tests: dict[str, int] = {}
    where: dict[str, set[str]] = {}
    for app, entry in apps.items():
        causes = entry.get("causes", {})
        for test in entry["not_passed"]:
            cause = causes.get(test) or (
                "unknown: the app timed out before unittest printed the details"
                if entry["status"] == "timeout"
                else "unknown (see the app's log)"
            )
            tests[cause] = tests.get(cause, 0) + 1
            where.setdefault(cause, set()).add(app)
        if entry["status"] != "completed":
            cause = f"app {entry['status']}: {entry['error']}"
            tests[cause] = tests.get(cause, 0) + 1
            where.setdefault(cause, set()).add(app)
    return sorted(
        ((cause, count, sorted(where[cause])) for cause, count in tests.items()),
        key=lambda row: (-row[1], row[0]),
    )


#: Areas the failure causes fall into, tried in order: (area, what would fix it, patterns).
AREAS = (
    (
        "relations: filters/values/ordering across relations, select_related, M2M reads, "
        "multi-table inheritance",
        "the relation shapes still refused (see the causes below)",
        re.compile(
            r"needs a JOIN|select_related\(\)|across a relation|Multi-table inheritance|"
            r"prefetch_related"
        ),
    ),
    (
        "SQL: raw SQL, extra(), cursors, the database cache, SQL text in assertions",
        "not applicable to MongoDB (candidates for declared skips)",
        re.compile(r"does not run SQL|extra\(\)|Cache table|SQL|cursor|WHERE|SELECT"),
    ),
    (
        "schema introspection (a collection has no column list)",
        "not applicable to a schemaless store (candidates for declared skips)",
        re.compile(r"get_table_description"),
    ),
    (
        "query counts (key-counter commands, batched follow-up commands)",
        "case by case: declared where the count differs by design",
        re.compile(r"queries executed"),
    ),
    (
        "aggregation and annotations",
        "aggregates inside grouped queries next to expressions, Subquery/Exists/OuterRef in "
        "annotations (other expressions are evaluated in Python)",
        re.compile(r"annotation|[Aa]ggregate|values\(\)\.annotate|Ordering by the annotation"),
    ),
    (
        "expressions and database functions in filters, updates, ordering",
        "expressions over related models' fields, Subquery/Exists/OuterRef, window functions "
        "(the rest are evaluated in Python; docs/mongodb.md, Expressions)",
        re.compile(
            r"transform/expression|Comparing a field to|nulls_first|XOR|is not supported in "
            r"filters|Func|Case|When|Subquery|Exists|expression"
        ),
    ),
    (
        "leftover rows after a failed setUpTestData (no transactions to roll back)",
        "follows from the first failure in the same class",
        re.compile(r"E11000 duplicate key"),
    ),
    (
        "app timed out or aborted",
        "larger time budget, or the causes above",
        re.compile(r"^app (timeout|aborted)|^unknown: the app timed out"),
    ),
)
OTHER_AREA = ("other: assertions on results and query counts, misc.", "case by case")


def area_of(cause: str) -> tuple[str, str]:
    """The (area, fix) a failure cause belongs to."""
    for area, fix, pattern in AREAS:
        if pattern.search(cause):
            return area, fix
    return OTHER_AREA


def _render_causes(apps: dict) -> list[str]:
    rows = cause_counts(apps)
    if not rows:
        return []
    areas: dict[tuple[str, str], int] = {}
    for cause, count, _ in rows:
        key = area_of(cause)
        areas[key] = areas.get(key, 0) + count
    lines = [
        "Failures and errors by area (classified from the exception each one ended with):",
        "",
        "| tests | area | what would fix it |",
        "|---:|---|---|",
    ]
    for (area, fix), count in sorted(areas.items(), key=lambda item: -item[1]):
        lines.append(f"| {count} | {area} | {fix} |")
    lines += [
        "",
        "Failures and errors by the exception they ended with (quoted values, numbers and",
        "`Model.field` names replaced by placeholders):",
        "",
        "| tests | cause | apps |",
        "|---:|---|---|",
    ]
    for cause, count, where in rows[:CAUSES_LISTED]:
        shown = ", ".join(where[:6]) + (f" and {len(where) - 6} more" if len(where) > 6 else "")
        text = cause.replace("|", "/").replace("`", "'")
        lines.append(f"| {count} | `{text}` | {shown} |")
    if len(rows) > CAUSES_LISTED:
        rest = sum(count for _, count, _ in rows[CAUSES_LISTED:])
        lines.append(f"| {rest} | {len(rows) - CAUSES_LISTED} other causes | |")
    return lines + [""]
