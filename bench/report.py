"""docs/benchmarks.md: measurements, ORM/raw ratios and the issue's goals per target."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import Any

ORM_VARIANTS = ("orm", "django-mysql", "singlestore")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def _measured(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for case in result.get("cases", []):
        if case["variants"]:
            yield case


def _ratio(case: dict[str, Any], pair: tuple[str, str], key: str) -> float | None:
    numerator, denominator = (case["variants"].get(name) for name in pair)
    if not numerator or not denominator or not denominator[key]:
        return None
    return numerator[key] / denominator[key]


def measured_ratios(result: dict[str, Any]) -> list[tuple[str, str, float, float]]:
    """(case label, "a/b", wall ratio, CPU ratio) for every measured pair."""
    rows = []
    for case in _measured(result):
        for pair in result["ratios"]:
            wall = _ratio(case, pair, "wall_median")
            cpu = _ratio(case, pair, "cpu_median")
            if wall is not None and cpu is not None:
                rows.append((case["label"], "/".join(pair), wall, cpu))
    return rows


# -- goals ---------------------------------------------------------------------
Goal = tuple[str, str, bool | None]  # (goal, what was measured, met)


def _cases(result, scenario: str, contains: str = "") -> list[dict[str, Any]]:
    return [c for c in _measured(result) if c["scenario"] == scenario and contains in c["label"]]


def _not_measured(result, scenario: str) -> str:
    reasons = {
        reason
        for case in result.get("cases", [])
        if case["scenario"] == scenario
        for reason in case["unavailable"].values()
    }
    errors = {c["error"] for c in result.get("cases", []) if c["scenario"] == scenario}
    errors.discard(None)
    return "not measured: " + "; ".join(sorted(reasons | errors) or ["no case ran"])


def _ratio_goal(result, scenario, key, limit, name) -> Goal:
    orm = result["ratios"][0]
    cases = _cases(result, scenario)
    ratios = [(c["label"], _ratio(c, orm, key)) for c in cases]
    ratios = [(label, r) for label, r in ratios if r is not None]
    if not ratios:
        return name, _not_measured(result, scenario), None
    text = ", ".join(f"{label.split(' ', 1)[1]}: {r:.2f}x" for label, r in ratios)
    return name, text, all(r <= limit for _, r in ratios)


def _commands_goal(result, scenario, contains, name, allowed: Callable[[float], bool]) -> Goal:
    orm = result["ratios"][0][0]
    cases = _cases(result, scenario, contains)
    parts, met = [], True
    for case in cases:
        variant = case["variants"].get(orm)
        if variant is None or variant["commands"] is None:
            continue
        per_unit = variant["commands"] / (variant["work"] or 1)
        value = variant["commands"] if case["unit"] == "row" else per_unit
        unit = "commands" if case["unit"] == "row" else f"commands per {case['unit']}"
        parts.append(f"{case['label']}: {value:.3g} {unit}")
        met = met and allowed(value)
    if not parts:
        return name, _not_measured(result, scenario), None
    return name, "; ".join(parts), met


def goals(result: dict[str, Any]) -> list[Goal]:
    if not result.get("cases"):
        return []
    sql = result["target"] == "mariadb"
    found = [
        _ratio_goal(result, "iterate", "cpu_median", 1.3, "fetching instances: client CPU <= 1.3x"),
        _ratio_goal(result, "values", "cpu_median", 1.3, "fetching values(): client CPU <= 1.3x"),
        _ratio_goal(result, "bulk_create", "cpu_median", 1.5, "bulk_create: client CPU <= 1.5x"),
        _commands_goal(result, "bulk_create", "", "bulk_create: <= 2 commands", lambda v: v <= 2),
        _commands_goal(result, "save", "", "save() = 1 command", lambda v: v <= 1.0),
        _commands_goal(
            result,
            "relations",
            "select_related",
            "select_related: 1 command per hop",
            (lambda v: v <= 1) if sql else (lambda v: v <= 2),
        ),
        _commands_goal(
            result, "cascade", "", "cascade of a parent's children: <= 4 commands", lambda v: v <= 4
        ),
    ]
    pages = {c["label"].split(" (")[0]: c for c in _cases(result, "pages")}
    orm = result["ratios"][0][0]
    first = pages.get("bookmark page 1", {}).get("variants", {}).get(orm)
    deep = [c for label, c in pages.items() if label.startswith("bookmark page ") and c is not None]
    deep = [c for c in deep if c["label"].split(" (")[0] != "bookmark page 1"]
    if first and deep and deep[0]["variants"].get(orm):
        ratio = deep[0]["variants"][orm]["wall_median"] / first["wall_median"]
        found.append(
            (
                "page N within 1.2x of page 1",
                f"{deep[0]['label'].split(' (')[0]} / page 1: {ratio:.2f}x",
                ratio <= 1.2,
            )
        )
    else:
        found.append(("page N within 1.2x of page 1", _not_measured(result, "pages"), None))
    limited = _cases(result, "count", "limit")
    full = _cases(result, "count", "count()")
    if limited and full and limited[0]["variants"].get(orm):
        ours = limited[0]["variants"][orm]["wall_median"]
        vs_raw = _ratio(limited[0], result["ratios"][0], "wall_median")
        vs_full = ours / full[0]["variants"][orm]["wall_median"]
        found.append(
            (
                "count(limit) fast",
                f"{vs_raw:.2f}x raw limited count; {vs_full:.2f}x the ORM's count()",
                vs_raw <= 1.3,
            )
        )
    if result.get("peers"):
        found.append(_peers_goal(result))
    if result["target"] == "mongodb-mongomock":
        found.append(_testcase_goal(result))
    if sql:
        pair = ("singlestore", "django-mysql")
        if pair in [tuple(p) for p in result["ratios"]]:
            ratios = [_ratio(c, pair, "wall_median") for c in _measured(result)]
            ratios = [r for r in ratios if r is not None]
            found.append(
                (
                    "SingleStore backend <= 1.0x Django's mysql backend",
                    f"worst {max(ratios):.2f}x, median {sorted(ratios)[len(ratios) // 2]:.2f}x",
                    max(ratios) <= 1.0,
                )
            )
        else:
            why = result.get("unavailable_variants", {}).get("singlestore", "not measured")
            found.append(
                ("SingleStore backend <= 1.0x Django's mysql backend", f"not measured: {why}", None)
            )
    return found


def _peers_goal(result: dict[str, Any]) -> Goal:
    """django-nonrel's client CPU at most every peer's, in every case the peer ran."""
    name = "client CPU <= every peer's (cases the peer ran)"
    orm = result["ratios"][0][0]
    behind, compared = [], 0
    for case in _measured(result):
        for peer in result["peers"]:
            ratio = _ratio(case, (orm, peer), "cpu_median")
            if ratio is None:
                continue
            compared += 1
            if ratio > 1.0:
                behind.append(f"{case['label']}: {ratio:.2f}x {peer}")
    if not compared:
        return name, "not measured: no case ran on a peer", None
    text = "; ".join(behind) if behind else f"ahead or equal in all {compared} comparisons"
    return name, text, not behind


def _shorten(error: str, limit: int = 90) -> str:
    """The start of an error for a table cell (the measurements table has all of it)."""
    return error if len(error) <= limit else error[: limit - 3].rstrip() + "..."


def peer_table(result: dict[str, Any]) -> list[str]:
    """Client CPU / raw per case for the ORM and each peer; a peer's error in its cell."""
    peers = [*result.get("peers", []), *result.get("peers_not_run", {})]
    if not peers:
        return []
    orm = result["ratios"][0][0]
    lines = [
        "### Against the peers (client CPU / raw)",
        "",
        "| case | django-nonrel | " + " | ".join(peers) + " |",
        "|---|---:|" + "---:|" * len(peers),
    ]
    for case in result["cases"]:
        if not case["variants"] or case["scenario"] == "testcase":
            continue
        cells = []
        for name in [orm, *peers]:
            ratio = _ratio(case, (name, "raw"), "cpu_median")
            error = case.get("peer_errors", {}).get(name)
            if ratio is not None:
                cells.append(f"{ratio:.2f}x")
            elif error:
                cells.append("cannot run: " + _shorten(error).replace("|", "\\|"))
            elif name in result.get("peers_not_run", {}):
                cells.append("not run")
            else:
                cells.append("-")  # a case that has no peer version (pages, counts...)
        lines.append(f"| {case['label']} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _testcase_goal(result: dict[str, Any]) -> Goal:
    """Django's TestCase on the embedded store within 2x of stock SQLite in memory."""
    name = "TestCase: <= 2x stock SQLite :memory:"
    cases = _cases(result, "testcase")
    pair = ("orm", "sqlite")
    if not cases or _ratio(cases[0], pair, "wall_median") is None:
        return name, _not_measured(result, "testcase"), None
    wall, cpu = (_ratio(cases[0], pair, key) for key in ("wall_median", "cpu_median"))
    label = cases[0]["label"].split(": ", 1)[1]
    return name, f"{label}: {wall:.2f}x wall, {cpu:.2f}x client CPU", max(wall, cpu) <= 2.0


# -- the document ------------------------------------------------------------------
def _mark(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def target_section(result: dict[str, Any], chart: str | None) -> list[str]:
    lines = [f"## {result['title']}", ""]
    if result.get("unavailable"):
        return [*lines, f"Not run: {result['unavailable']}.", ""]
    versions = ", ".join(f"{k} {v}" for k, v in result.get("versions", {}).items())
    lines += [f"Versions: {versions}. Ran in {result['seconds']:.0f} s.", ""]
    for variant, why in result.get("unavailable_variants", {}).items():
        lines += [f"Variant `{variant}`: not available on this build: {why}.", ""]
    for peer, why in result.get("peers_not_run", {}).items():
        lines += [f"Peer `{peer}`: not run: {why}.", ""]
    if result["ratios"][0][0] == "django-mysql":
        lines += [
            "Until the SingleStore backend is in the build, the goals below are evaluated on",
            "Django's own mysql backend: a reference point, not this project's code.",
            "",
        ]
    if chart:
        lines += [f"![ORM/raw ratios on {result['title']}]({chart})", ""]
    lines += ["### Goals", "", "| goal | measured | |", "|---|---|---|"]
    lines += [f"| {name} | {text} | {_mark(met)} |" for name, text, met in goals(result)]
    lines += ["", *peer_table(result)]
    lines += ["### Ratios", "", "| case | ratio | wall | client CPU | commands |"]
    lines += ["|---|---|---:|---:|---:|"]
    for case in result["cases"]:
        if not case["variants"]:
            continue
        for pair in result["ratios"]:
            wall = _ratio(case, pair, "wall_median")
            cpu = _ratio(case, pair, "cpu_median")
            if wall is None:
                continue
            a, b = (case["variants"][name]["commands"] for name in pair)
            lines.append(
                f"| {case['label']} | {'/'.join(pair)} | {wall:.2f}x | {cpu:.2f}x | {a} / {b} |"
            )
    lines += ["", "### Measurements (medians)", ""]
    lines += ["| case | variant | wall ms | client CPU ms | commands |", "|---|---|---:|---:|---:|"]
    for case in result["cases"]:
        if case["error"]:
            lines.append(f"| {case['label']} | | ERROR: {case['error']} | | |")
            continue
        for variant, m in case["variants"].items():
            lines.append(
                f"| {case['label']} | {variant} | {_ms(m['wall_median'])} | "
                f"{_ms(m['cpu_median'])} | {m['commands']} |"
            )
        for peer, why in case.get("peer_errors", {}).items():
            lines.append(f"| {case['label']} | {peer} | cannot run: {why} | | |")
        for variant, why in case["unavailable"].items():
            if variant not in result.get("unavailable_variants", {}):
                lines.append(
                    f"| {case['label']} | {variant} | not available on this build: {why} | | |"
                )
    return [*lines, ""]


def document(
    results: list[dict[str, Any]], machine: dict[str, str], charts: dict[str, str], command: str
) -> str:
    sizes = next((r["sizes"] for r in results if "sizes" in r), {})
    mode = sizes.get("mode", "?")
    quick = ": smaller than the issue asks, to run in under two minutes" if mode == "quick" else ""
    repeats = sizes.get("repeats", "?")
    lines = [
        "# Benchmarks: the ORM against the raw drivers",
        "",
        f"Generated by `{command}` on {datetime.date.today().isoformat()} ({mode} sizes{quick}).",
        "Do not edit by hand: the session rewrites this file and the charts.",
        "",
        "Every case runs the same work through the raw driver and through the ORM on the same",
        "server in the same process: one warm-up run per variant (which also counts database",
        f"commands), then {repeats} timed runs per variant, interleaved, each after an",
        "untimed setup (emptying or filling tables, building the instances or documents to",
        "write). Reported: median wall time, median client CPU (`time.process_time`: the",
        "server's own CPU is not in it, even on this machine) and database commands: pymongo",
        "command monitoring on MongoDB servers (getMore batches of a counted query excluded),",
        "the commands `connection.execute_wrapper()` hooks see and",
        "counted driver calls on mongomock, the server's per-session `Questions` counter on",
        "MariaDB. A ratio is ORM / raw: 1.00x means no overhead. Variants of a case must do",
        "the same amount of work (rows read or written) or the case reports an error.",
        "",
        "On MongoDB targets the same work is also done by the peers, where they can run:",
        "MongoEngine (in the bench process, its own collections, idiomatic documents with",
        "ObjectId keys; `select_related()` in both relation cases, `as_pymongo()` for",
        "values()) and the official django-mongodb-backend (under the Django series it",
        "supports, in a worker process that times its own runs). Peers are interleaved with",
        "the raw driver and the ORM in the same run and reported as peer / raw. A peer that",
        "cannot run at all is listed as not run with the reason; a case a peer cannot run on",
        "the server shows the peer's error in its cell. MongoEngine's commands on mongomock",
        "are not counted (`None`).",
        "",
        "The TestCase case (MongoDB targets) measures what a project's own test suite pays",
        "per test rather than a driver call: one generated `django.test.TestCase` class",
        "(`setUpTestData` makes a blog and three entries; each test creates an entry, counts",
        "the blog's entries, saves a change, reads it back and checks the new entry got the",
        "key a fresh table gives) runs under `unittest`, from `setUpClass` to",
        "`tearDownClass`, on test databases Django's `create_test_db` made: stock SQLite in",
        "memory (the `sqlite` variant, the reference of its ratio) and the MongoDB backend on",
        "the target's server, where `TestCase` rolls each test back through the undo journal.",
        "Its unit is a test, and its commands are all those sent over the run (SQLite's",
        "`SAVEPOINT`s included).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in machine.items()],
        "| sizes | " + ", ".join(f"{k}={v}" for k, v in sizes.items() if k != "mode") + " |",
        "",
    ]
    for result in results:
        lines += target_section(result, charts.get(result["target"]))
    return "\n".join(lines)
