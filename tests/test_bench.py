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


def test_bulk_create_goals_are_client_cpu_and_commands():
    def goals(cpu, commands):
        case = _measured("bulk_create", "bulk_create 10 small flat", (1, 1), cpu, commands)
        found = {name: (text, met) for name, text, met in report.goals(_target([case]))}
        return found["bulk_create: client CPU <= 1.5x"], found["bulk_create: <= 2 commands"]

    assert goals((1.5, 1.0), (2, 1)) == (
        ("10 small flat: 1.50x", True),
        ("bulk_create 10 small flat: 2 commands", True),
    )
    cpu, commands = goals((1.6, 1.0), (3, 1))
    assert (cpu[1], commands[1]) == (False, False)


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


def _failing_peer(message: str) -> Variant:
    def run(state):
        raise RuntimeError(message)

    return Variant(run=run, counter=Calls(), peer=True)


def test_a_peer_that_fails_is_reported_with_its_error_and_the_case_goes_on():
    case = Case(
        "relations",
        "prefetch_related('blog') over 10 rows",
        {"raw": _variant(10), "orm": _variant(10), "official": _failing_peer("no $lookup")},
    )
    result = run_case(case, repeats=3, log=lambda message: None)
    assert result["error"] is None
    assert set(result["variants"]) == {"raw", "orm"}
    assert result["peer_errors"] == {"official": "RuntimeError: no $lookup"}


def test_a_peer_doing_other_work_is_dropped_but_an_orm_variant_fails_the_case():
    peer = _variant(9)
    peer.peer = True
    case = Case("iterate", "iterate 10 rows", {"raw": _variant(10), "orm": _variant(10), "p": peer})
    result = run_case(case, repeats=3, log=lambda message: None)
    assert set(result["variants"]) == {"raw", "orm"}
    assert result["peer_errors"] == {"p": "did 9 units of work, not 10"}


def test_a_peer_timed_in_another_process_reports_its_own_times():
    peer = _variant(10)
    peer.peer = True
    peer.timed = lambda: (0.5, 0.25, 10)
    case = Case("iterate", "iterate 10 rows", {"raw": _variant(10), "orm": _variant(10), "p": peer})
    result = run_case(case, repeats=3, log=lambda message: None)
    assert result["variants"]["p"]["wall"] == [0.5, 0.5, 0.5]
    assert result["variants"]["p"]["cpu_median"] == 0.25


def _with_peers(cases: list[dict]) -> dict:
    result = _target(cases)
    result["peers"] = ["mongoengine"]
    result["peers_not_run"] = {"django-mongodb-backend": "no interpreter was given"}
    result["ratios"].append(("mongoengine", "raw"))
    return result


def _peer_case(label, orm_cpu, peer_cpu, peer_error=None):
    case = _measured("iterate", label, (1.0, 1.0), (orm_cpu, 1.0), (1, 1))
    if peer_error:
        case["peer_errors"] = {"mongoengine": peer_error}
    else:
        case["variants"]["mongoengine"] = {
            "wall_median": 1.0,
            "cpu_median": peer_cpu,
            "commands": 1,
            "work": 10,
        }
    return case


def test_the_report_shows_peer_ratios_errors_and_peers_not_run():
    result = _with_peers(
        [
            _peer_case("iterate 10 small flat", 1.5, 2.5),
            _peer_case("select_related 10", 1.2, None, "OperationFailure: $lookup | unknown"),
            _measured("pages", "bookmark page 1", (1.0, 1.0), (1.1, 1.0), (1, 1)),
        ]
    )
    text = "\n".join(report.target_section(result, None))
    assert "Peer `django-mongodb-backend`: not run: no interpreter was given." in text
    assert "| case | django-nonrel | mongoengine | django-mongodb-backend |" in text
    assert "| iterate 10 small flat | 1.50x | 2.50x | not run |" in text
    assert "| select_related 10 | 1.20x | cannot run: OperationFailure: $lookup \\| unknown" in text
    assert "| iterate 10 small flat | mongoengine/raw | 1.00x | 2.50x | 1 / 1 |" in text
    # A case with no peer version has no peer cell; a peer not run is said so.
    assert "| bookmark page 1 | 1.10x | - | not run |" in text


def test_the_peer_goal_names_each_case_where_a_peer_uses_less_cpu():
    def goal(*cases):
        found = {name: (text, met) for name, text, met in report.goals(_with_peers(list(cases)))}
        return found["client CPU <= every peer's (cases the peer ran)"]

    ahead, behind = _peer_case("iterate a", 1.5, 2.5), _peer_case("iterate b", 2.0, 1.6)
    assert goal(ahead) == ("ahead or equal in all 1 comparisons", True)
    assert goal(ahead, behind) == ("iterate b: 1.25x mongoengine", False)
    assert goal(_peer_case("iterate a", 1.0, None, "boom"))[1] is None
