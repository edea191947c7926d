"""``python -m bench.breakdown [--target NAME] [--rows N] [--repeats N] [--output PATH]``

Where the client CPU of the hot cases goes, per row, on one MongoDB target.

``nox -s bench`` says *how much* the ORM costs over the raw driver; this says
*what for*, so that a ratio can be judged against the least any Django ORM
must do. Two measurements per case, both client CPU (``time.process_time``,
median of ``--repeats`` runs after a warm-up, garbage collected before each):

* **Stages** (reads). The raw driver's ``find`` as a pymongo user writes it
  (``list(find())``), and again with the cyclic garbage collector paused as the
  ORM pauses it (``django_nonrel.collector``); the same ``find`` through the
  backend's own client (its codec options); the whole ``QuerySet``. Beside
  them two floors: the raw ``find`` plus a step done on rows prepared
  beforehand -- *bare*, the least Python does per row (an ``object.__new__``
  and one ``__dict__.update`` per instance, one copy of the document per
  values() row), and *Django*, the per-row step of Django's own iterable
  (``Model.from_db`` on a tuple; ``ValuesIterable``'s dict). No Django
  backend goes below the Django floor without replacing Django's step, and
  nothing in Python below the bare floor.
* **Layers** (every case). One profiled run (``cProfile``, socket waits left
  out), its own time per function summed by where the function lives: the driver (pymongo and bson,
  including their C functions), Django, django-nonrel, and the rest. A
  built-in C function or one of the standard library (``socket``, ``copy``)
  is charged to the layer of its heaviest caller. The profiler's per-call
  cost inflates layers made of many small Python calls, so the shares are
  indicative; the stage times are not profiled.

Writes ``docs/benchmarks-breakdown.md`` (or ``--output``); run it through
``nox -s breakdown``, which provisions FerretDB as the bench does.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("driver", "Django", "django-nonrel", "other")
SHAPES = ("small flat", "large flat", "large nested")
STEP = "Django's step"
#: C functions that wait for the server (their wall time is not client CPU).
WAITS = ("_socket.socket", "select.")
PREPARE = "Django's field preparation"


def cpu_median(
    run: Callable[[], Any], repeats: int, setup: Callable[[], Any] | None = None
) -> float:
    """Median client CPU seconds of ``run(setup())`` after one untimed warm-up run."""
    samples = []
    for attempt in range(repeats + 1):
        state = setup() if setup else None
        gc.collect()
        started = time.process_time()
        run(state)
        if attempt:
            samples.append(time.process_time() - started)
    return statistics.median(samples)


STDLIB = str(Path(os.__file__).parent).replace("\\", "/")


def layer_of(filename: str) -> str | None:
    """The layer a profiled function's file belongs to; None for built-in C functions
    and the standard library (charged to their callers)."""
    path = filename.replace("\\", "/")
    if filename == "~" or (path.startswith(STDLIB) and "site-packages" not in path):
        return None
    if "/pymongo/" in path or "/bson/" in path or "/mongomock/" in path:
        return "driver"
    if "/django/" in path:
        return "Django"
    if path.startswith(str(ROOT).replace("\\", "/")) and "/bench/" not in path:
        return "django-nonrel"
    return "other"


def layer_shares(run: Callable[[Any], Any], state: Any) -> tuple[dict[str, float], list]:
    """Each layer's share of one profiled run, and django-nonrel's heaviest functions.

    A function of no layer (C built-ins, the standard library: ``socket``,
    ``copy``, ``dict()`` ...) is charged to the layer of the caller that spent
    the most time in it, found by walking up its callers.
    """
    # The profiler's clock is wall time (its CPU clock costs a system call per
    # function call, which would swamp the Python layers); the time spent in the
    # socket waiting for the server is left out of every layer.
    profile = cProfile.Profile()
    profile.enable()
    run(state)
    profile.disable()
    stats = pstats.Stats(profile).stats
    resolved: dict[tuple, str] = {}

    def resolve(key: tuple, seen: frozenset = frozenset()) -> str:
        if key in resolved:
            return resolved[key]
        layer = layer_of(key[0])
        if layer is None and "bson" in key[2]:
            layer = "driver"  # bson's C decoder and encoder
        if layer is None:
            callers = stats[key][4] if key in stats else {}
            candidates = [caller for caller in callers if caller not in seen and caller in stats]
            if candidates:
                top = max(candidates, key=lambda caller: callers[caller][3])
                layer = resolve(top, seen | {key})
            else:
                layer = "other"
        resolved[key] = layer
        return layer

    totals: dict[str, float] = defaultdict(float)
    ours = []
    for key, (_, _, tottime, _, _) in stats.items():
        if any(wait in key[2] for wait in WAITS):
            continue
        layer = resolve(key)
        totals[layer] += tottime
        if layer == "django-nonrel" and layer_of(key[0]) == "django-nonrel":
            ours.append((tottime, f"{Path(key[0]).name}:{key[2]}"))
    whole = sum(totals.values()) or 1.0
    return {layer: totals[layer] / whole for layer in LAYERS}, sorted(ours, reverse=True)[:4]


class Breakdown:
    """The cases of one target, measured in this process (Django configured here)."""

    def __init__(self, opened, rows: int, repeats: int):
        from django.db import connection

        from bench.scenarios import Context
        from bench.sizes import FULL

        self.rows, self.repeats = rows, repeats
        self.connection = connection
        self.alias = connection.alias
        # The raw handle and the table helpers of ``nox -s bench`` (only the
        # helpers of the Context are used: its sizes are not).
        self.raw = opened.raw["raw"]
        self.tables = Context(opened, FULL)
        self.lines: list[str] = []

    def fill(self, model, make) -> None:
        from bench import data

        self.tables.fill(model, self.rows, lambda i: data.instance(model, make(i)))

    # -- reads -------------------------------------------------------------------
    def read_stages(self, shape: str, values: bool) -> dict[str, float]:
        from django.db.models.sql.constants import GET_ITERATOR_CHUNK_SIZE, MULTI

        from bench import data
        from django_nonrel.collector import collector_paused

        model, make = data.SHAPES[shape]
        self.fill(model, make)
        table = model._meta.db_table
        own_collection = self.connection.database[table]
        queryset = model.objects.using(self.alias).all()
        if values:
            queryset = queryset.values()

        # The rows Django's stock iterables get from a SQL backend's compiler: tuples.
        compiler = queryset.query.get_compiler(using=self.alias)
        results = compiler.execute_sql(
            MULTI, chunked_fetch=False, chunk_size=GET_ITERATOR_CHUNK_SIZE
        )
        prepared = [
            tuple(row["result"].values()) if isinstance(row, dict) else tuple(row)
            for row in compiler.results_iter(results)
        ]
        if values:
            names = [*queryset.query.values_select]
            indexes = range(len(names))

            def django_step(_):
                return [{names[i]: row[i] for i in indexes} for row in prepared]
        else:
            init_list = [field.attname for field in model._meta.concrete_fields]
            end = len(init_list)
            from_db = model.from_db
            alias = self.alias

            def django_step(_):
                return [from_db(alias, init_list, row[0:end]) for row in prepared]

        documents = list(self.raw[table].find())
        if values:

            def bare(_):
                return list(map(dict, documents))
        else:
            new = object.__new__

            def bare(_):
                built = []
                for document in documents:
                    instance = new(model)
                    instance.__dict__.update(document)
                    built.append(instance)
                return built

        def paused_find(_):
            with collector_paused():
                return list(self.raw[table].find())

        timings = {
            "bare step": cpu_median(bare, self.repeats),
            "raw find": cpu_median(lambda _: list(self.raw[table].find()), self.repeats),
            "backend's find": cpu_median(lambda _: list(own_collection.find()), self.repeats),
            "raw find, collector paused": cpu_median(paused_find, self.repeats),
            "whole QuerySet": cpu_median(lambda _: list(queryset.all()), self.repeats),
            "Django's step": cpu_median(django_step, self.repeats),
        }
        shares, ours = layer_shares(lambda _: list(queryset.all()), None)
        self.record_layers(
            f"{'values()' if values else 'instances'} {self.rows:,} {shape}", shares, ours
        )
        return timings

    # -- writes ------------------------------------------------------------------
    def bulk_create(self, shape: str) -> dict[str, float]:
        from bench import data

        model, _ = data.SHAPES[shape]
        table = model._meta.db_table
        rows = data.values(shape, self.rows)
        collection = self.raw[table]

        def raw_setup():
            self.tables.empty(model)
            return [data.document(row) for row in rows]

        def orm_setup():
            self.tables.empty(model)
            return [data.instance(model, row) for row in rows]

        def orm(objs):
            return model.objects.using(self.alias).bulk_create(objs)

        connection = self.connection
        fields = [field for field in model._meta.concrete_fields if not field.primary_key]

        def prepare(objs):
            # What every Django backend's insert compiler does per field of every object.
            return [
                [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
                for obj in objs
            ]

        def as_documents(objs):
            # The least Python can do to turn objects into documents.
            return [{field.column: obj.__dict__[field.attname] for field in fields} for obj in objs]

        timings = {
            PREPARE: cpu_median(prepare, self.repeats, orm_setup),
            "bare documents": cpu_median(as_documents, self.repeats, orm_setup),
            "raw insert_many": cpu_median(collection.insert_many, self.repeats, raw_setup),
            "bulk_create": cpu_median(orm, self.repeats, orm_setup),
        }
        shares, ours = layer_shares(orm, orm_setup())
        self.record_layers(f"bulk_create {self.rows:,} {shape}", shares, ours)
        return timings

    def saves(self, count: int) -> dict[str, float]:
        from bench import data
        from bench.models import SmallFlat

        self.fill(SmallFlat, data.small_flat)
        collection = self.raw[SmallFlat._meta.db_table]

        def orm_setup():
            objs = list(SmallFlat.objects.using(self.alias).order_by("pk")[:count])
            for obj in objs:
                obj.score += 1
            return objs

        def orm(objs):
            for obj in objs:
                obj.save(using=self.alias)

        def raw_setup():
            return [(document["_id"], document) for document in collection.find().limit(count)]

        def raw(pairs):
            for key, document in pairs:
                changed = {name: value for name, value in document.items() if name != "_id"}
                collection.update_one({"_id": key}, {"$set": changed}, upsert=True)

        timings = {
            "raw update_one": cpu_median(raw, self.repeats, raw_setup),
            "save()": cpu_median(orm, self.repeats, orm_setup),
        }
        shares, ours = layer_shares(orm, orm_setup())
        self.record_layers(f"save() of {count:,} existing rows", shares, ours)
        return timings

    # -- report ------------------------------------------------------------------
    def record_layers(self, label: str, shares: dict[str, float], ours: list) -> None:
        heaviest = ", ".join(f"`{name}`" for _, name in ours)
        cells = " | ".join(f"{shares[layer] * 100:.0f} %" for layer in LAYERS)
        self.lines.append(f"| {label} | {cells} | {heaviest} |")


def per_row(seconds: float, rows: int) -> str:
    return f"{seconds * 1e6 / rows:.2f}"


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e3:.1f}"


def _ratio(part: float | None, raw: float) -> str:
    return "—" if part is None else f"{part / raw:.2f}x"


def document(
    target_title: str, versions: str, rows: int, repeats: int, reads, writes, layers
) -> str:
    out = [
        "# Where the client CPU goes",
        "",
        f"Generated by `nox -s breakdown` on {time.strftime('%Y-%m-%d')} "
        f"({target_title}; {versions}; "
        f"{rows:,} rows, median of {repeats} runs). Do not edit by hand. What the columns mean: "
        "the docstring of `bench/breakdown.py`; what the numbers say: docs/performance.md.",
        "",
        "## Reads: client CPU per row (µs)",
        "",
        "The raw `find` as a pymongo user writes it (`list(find())`), and with the "
        "cyclic garbage collector paused as the ORM pauses it; the same `find` through "
        "the backend's client; two floors, the raw `find` plus a step run on rows "
        "prepared beforehand -- *bare*: the least Python does per row (`object.__new__` "
        "and one `__dict__.update` for an instance, one copy of the document for a "
        "values() row), *Django*: the per-row step of Django's own iterable "
        "(`Model.from_db` on a tuple, `ValuesIterable`'s dict); the whole QuerySet.",
        "",
        "| case | raw find | raw find, collector paused | backend's find | bare floor "
        "| Django floor | whole QuerySet | ORM / raw | bare floor / raw | Django floor / raw |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, t in reads:
        raw, whole = t["raw find"], t["whole QuerySet"]
        bare, floor = raw + t["bare step"], raw + t[STEP]
        cells = [raw, t["raw find, collector paused"], t["backend's find"], bare, floor, whole]
        out.append(
            f"| {label} | "
            + " | ".join(per_row(cell, rows) for cell in cells)
            + f" | {whole / raw:.2f}x | {bare / raw:.2f}x | {floor / raw:.2f}x |"
        )
    out += [
        "",
        "## Writes: client CPU (ms per case)",
        "",
        "bulk_create floors: the raw `insert_many` plus, on objects made beforehand, "
        "*bare*: one dict of each object's column values (no conversion); *Django*: "
        "`pre_save()` and `get_db_prep_save()` of every field of every object, what each "
        "of Django's insert compilers does.",
        "",
        "| case | raw | bare floor | Django floor | ORM | ORM / raw | bare floor / raw "
        "| Django floor / raw |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, raw_name, orm_name, t in writes:
        raw, orm = t[raw_name], t[orm_name]
        bare = raw + t["bare documents"] if "bare documents" in t else None
        floor = raw + t[PREPARE] if PREPARE in t else None
        out.append(
            f"| {label} ({raw_name} vs {orm_name}) | {raw * 1e3:.1f} | {_ms(bare)} "
            f"| {_ms(floor)} | {orm * 1e3:.1f} | {orm / raw:.2f}x "
            f"| {_ratio(bare, raw)} | {_ratio(floor, raw)} |"
        )
    out += [
        "",
        "## Layers: share of one profiled run of the ORM variant",
        "",
        "| case | " + " | ".join(LAYERS) + " | django-nonrel's heaviest functions (own time) |",
        "|---|" + "---:|" * len(LAYERS) + "---|",
        *layers,
        "",
    ]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.breakdown")
    parser.add_argument("--target", default="mongodb-ferretdb")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--saves", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks-breakdown.md")
    options = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from bench.run_target import configure, create_tables
    from bench.targets import TARGETS

    target = TARGETS[options.target]
    reason = target.why_unavailable()
    if reason:
        print(f"bench.breakdown: {target.title} not available: {reason}", file=sys.stderr)
        return 1
    configure(target)
    target.reset()
    create_tables()
    opened = target.open()
    versions = ", ".join(f"{name} {version}" for name, version in opened.versions.items())
    breakdown = Breakdown(opened, options.rows, options.repeats)
    reads, writes = [], []
    for values in (False, True):
        for shape in SHAPES:
            label = f"{'values()' if values else 'instances'} {options.rows:,} {shape}"
            print(f"  {label}", flush=True)
            reads.append((label, breakdown.read_stages(shape, values)))
    for shape in SHAPES:
        print(f"  bulk_create {shape}", flush=True)
        label = f"bulk_create {options.rows:,} {shape}"
        writes.append((label, "raw insert_many", "bulk_create", breakdown.bulk_create(shape)))
    print("  save()", flush=True)
    writes.append(
        (
            f"save() of {options.saves:,} existing rows",
            "raw update_one",
            "save()",
            breakdown.saves(options.saves),
        )
    )
    text = document(
        target.title, versions, options.rows, options.repeats, reads, writes, breakdown.lines
    )
    options.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
