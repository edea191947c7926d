"""Cases, interleaved repeats and medians.

A *case* is one piece of work done several ways (*variants*: the raw driver,
the ORM, another ORM backend). Each variant's ``setup`` runs untimed before
every run (e.g. emptying the table a bulk insert fills) and its ``run`` is
timed. The first pass warms caches and counts database commands; the timed
repeats then alternate the variants' order so drift hits all of them alike.
Every run returns the amount of work done (rows read or written): variants of
one case must agree, or the case is reported as a mismatch, not as a number.

A *peer* variant (another library doing the same work: MongoEngine, the
official django-mongodb-backend) is optional: when it raises, or does other
work than the raw driver, it is dropped from the case with its error, and the
case goes on measuring the others. A peer that runs in another process
measures its own wall and CPU time and returns them (``Variant.timed``).
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.counting import CommandCounter

#: (wall seconds, CPU seconds, work) of one timed run.
Timing = tuple[float, float, int]


@dataclass
class Variant:
    run: Callable[[Any], int]
    counter: CommandCounter
    setup: Callable[[], Any] = lambda: None
    #: A peer: its failure is reported beside the case instead of failing the case.
    peer: bool = False
    #: Set for a variant timed in another process: untimed setup, then the timed run there.
    timed: Callable[[], Timing] | None = None


@dataclass
class Case:
    """One measured piece of work; ``unavailable`` says why it cannot run on this build."""

    scenario: str
    label: str
    variants: dict[str, Variant] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    #: What one unit of ``work`` is, for per-unit command counts (e.g. "save").
    unit: str = "row"
    prepare: Callable[[], None] | None = None
    cleanup: Callable[[], None] | None = None


@dataclass
class Measurement:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    commands: int | None = None
    work: int | None = None

    @property
    def wall_median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    def as_dict(self) -> dict[str, Any]:
        return {
            "wall": self.wall,
            "cpu": self.cpu,
            "wall_median": self.wall_median,
            "cpu_median": self.cpu_median,
            "commands": self.commands,
            "work": self.work,
        }


def _timed(variant: Variant) -> Timing:
    if variant.timed:
        return variant.timed()
    state = variant.setup()
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    work = variant.run(state)
    return time.perf_counter() - wall, time.process_time() - cpu, work


def _warm_up(variant: Variant) -> tuple[int | None, int]:
    """(commands, work) of one counted, untimed run."""
    state = variant.setup()
    variant.counter.start()
    try:
        work = variant.run(state)
    finally:
        commands = variant.counter.stop()
    return commands, work


class ReportedError(Exception):
    """An error raised in another process; its message already names its type."""


def _error(error: Exception) -> str:
    if isinstance(error, ReportedError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def run_case(case: Case, repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Warm-up with command counting, then ``repeats`` interleaved timed runs."""
    result: dict[str, Any] = {
        "scenario": case.scenario,
        "label": case.label,
        "unit": case.unit,
        "unavailable": dict(case.unavailable),
        "variants": {},
        "error": None,
        "peer_errors": {},
    }
    if not case.variants:
        log(f"  {case.label}: not available on this build")
        return result
    started = time.monotonic()
    if case.prepare:
        case.prepare()
    variants = dict(case.variants)
    measurements = {name: Measurement() for name in variants}

    def drop_peer(name: str, why: str) -> None:
        result["peer_errors"][name] = why
        log(f"  {case.label}: {name} cannot run it: {why}")
        del variants[name], measurements[name]

    try:
        for name, variant in list(variants.items()):
            try:
                measurements[name].commands, measurements[name].work = _warm_up(variant)
            except Exception as error:
                if not variant.peer:
                    raise
                drop_peer(name, _error(error))
        works = {name: m.work for name, m in measurements.items() if not variants[name].peer}
        if len(set(works.values())) > 1:
            raise AssertionError(f"variants did different amounts of work: {works}")
        expected = next(iter(works.values()))
        for name in [n for n, v in variants.items() if v.peer]:
            if measurements[name].work != expected:
                drop_peer(name, f"did {measurements[name].work} units of work, not {expected}")
        for repeat in range(repeats):
            names = list(variants)
            for name in names if repeat % 2 == 0 else names[::-1]:
                try:
                    wall, cpu, work = _timed(variants[name])
                    if work != measurements[name].work:
                        raise AssertionError(
                            f"{name} did {work} units, then {measurements[name].work}"
                        )
                except Exception as error:
                    if not variants[name].peer:
                        raise
                    drop_peer(name, _error(error))
                    continue
                measurements[name].wall.append(wall)
                measurements[name].cpu.append(cpu)
    except Exception as error:  # reported in the table, never hidden behind a number
        result["error"] = _error(error)
        log(f"  {case.label}: ERROR {result['error']}")
        return result
    finally:
        if case.cleanup:
            case.cleanup()
    result["variants"] = {name: m.as_dict() for name, m in measurements.items()}
    summary = "  ".join(
        f"{name} {m.wall_median * 1000:.1f} ms wall / {m.cpu_median * 1000:.1f} ms cpu"
        f" / {m.commands} cmd"
        for name, m in measurements.items()
    )
    log(f"  {case.label} ({time.monotonic() - started:.1f} s): {summary}")
    return result
