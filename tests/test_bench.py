"""The benchmark runner and report: numbers only for work actually done alike.

These run no database: variants are plain functions, so they check the
measuring and reporting logic on every tier in a few milliseconds.
"""

from bench import report
from bench.measure import Case, Variant, run_case


class Calls:
    """A command counter that counts what the variant reports it sent."""

    def __init__(self) -> None:
        self.count = 0
        self.enabled = False
        self.seen = 0

    def start(self) -> None:
        self.enabled, self.seen = True, 0

    def stop(self) -> int:
        self.enabled = False
        return self.seen

    def send(self, commands: int) -> None:
        if self.enabled:
            self.seen += commands


def _variant(work: int, commands: int = 1) -> Variant:
    counter = Calls()

    def run(state):
        counter.send(commands)
        return work

    return Variant(run=run, counter=counter)


def test_variants_doing_different_work_give_an_error_not_a_ratio():
    case = Case("iterate", "iterate 10 rows", {"raw": _variant(10), "orm": _variant(9)})
    result = run_case(case, repeats=3, log=lambda message: None)
    assert result["variants"] == {}
    assert "different amounts of work" in result["error"]


def test_commands_come_from_the_warm_up_and_every_repeat_is_timed():
    case = Case(
        "save", "save() 5 rows", {"raw": _variant(5, 5), "orm": _variant(5, 6)}, unit="save"
    )
    result = run_case(case, repeats=3, log=lambda message: None)
    assert result["variants"]["raw"]["commands"] == 5
    assert result["variants"]["orm"]["commands"] == 6
    assert all(len(v["wall"]) == len(v["cpu"]) == 3 for v in result["variants"].values())


def _target(cases: list[dict]) -> dict:
    return {
        "target": "mongodb-mongomock",
        "title": "MongoDB backend on mongomock://",
        "sizes": {"mode": "quick", "repeats": 3},
        "versions": {},
        "ratios": [("orm", "raw")],
        "unavailable_variants": {},
        "seconds": 1.0,
        "cases": cases,
    }


def _measured(scenario, label, wall, cpu, commands, work=10, unit="row", against="raw"):
    variants = {
        name: {"wall_median": w, "cpu_median": c, "commands": n, "work": work}
        for name, w, c, n in zip(("orm", against), wall, cpu, commands, strict=True)
    }
    return {
        "scenario": scenario,
        "label": label,
        "unit": unit,
        "unavailable": {},
        "variants": variants,
        "error": None,
    }


def test_a_feature_missing_from_the_build_is_reported_as_such():
    missing = {
        "scenario": "pages",
        "label": "bookmark page 1 (10 rows per page)",
        "unit": "row",
        "unavailable": {"orm": "django_nonrel.pagination cannot be imported"},
        "variants": {},
        "error": None,
    }
    result = _target([missing])
    text = "\n".join(report.target_section(result, None))
    assert "not available on this build: django_nonrel.pagination cannot be imported" in text
    goal = {name: (text, met) for name, text, met in report.goals(result)}
    assert goal["page N within 1.2x of page 1"] == (
        "not measured: django_nonrel.pagination cannot be imported",
        None,
    )


def test_goals_judge_the_measured_ratios_and_commands():
    result = _target(
        [
            _measured("iterate", "iterate 10 small flat", (2.0, 1.0), (1.2, 1.0), (1, 1)),
            _measured("save", "save() 10 new rows", (1, 1), (1, 1), (11, 10), unit="save"),
        ]
    )
    goals = {name: (text, met) for name, text, met in report.goals(result)}
    assert goals["fetching instances: client CPU <= 1.3x"] == ("10 small flat: 1.20x", True)
    assert goals["save() = 1 command"] == ("save() 10 new rows: 1.1 commands per save", False)


def test_the_testcase_goal_compares_with_sqlite_on_wall_and_cpu():
    def goal(wall, cpu):
        case = _measured(
            "testcase", "TestCase: 50 small tests", wall, cpu, (250, 400), 50, "test", "sqlite"
        )
        result = _target([case])
        result["ratios"].append(("orm", "sqlite"))
        return {name: (text, met) for name, text, met in report.goals(result)}[
            "TestCase: <= 2x stock SQLite :memory:"
        ]

    assert goal((1.5, 1.0), (0.9, 0.5)) == ("50 small tests: 1.50x wall, 1.80x client CPU", True)
    assert goal((1.0, 1.0), (2.1, 1.0))[1] is False
