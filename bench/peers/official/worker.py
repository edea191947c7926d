"""``python -m bench.peers.official.worker URI DATABASE``: the official backend's side.

Runs under the Django series django-mongodb-backend supports. Configures
Django on ``URI``, creates this app's collections, prints one JSON line
(``{"versions": ...}`` or ``{"error": ...}``), then answers one JSON line per
request line on stdin:

- ``{"op": "warm", "work": WORK}``: untimed setup, then one run with the
  commands counted: ``{"work": N, "commands": C}``;
- ``{"op": "timed", "work": WORK}``: untimed setup, then one timed run:
  ``{"wall": S, "cpu": S, "work": N}``;

where WORK is ``bench.peers.Work.as_dict()``. A run that raises answers
``{"error": "Type: message"}`` and the worker goes on.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.counting import WIRE
from bench.peers import ENTRIES_PER_BLOG, FILTERS
from bench.shapes import MAKERS

#: The backend's spelling of each filter operator (ArrayField membership is ``contains``
#: of a one-element list).
LOOKUPS: dict[str, Callable[[str, Any], tuple[str, Any]]] = {
    "eq": lambda path, value: (path, value),
    "contains": lambda path, value: (f"{path}__contains", [value]),
    "lt": lambda path, value: (f"{path}__lt", value),
}


def configure(uri: str, database: str) -> dict[str, str]:
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": {"ENGINE": "django_mongodb_backend", "HOST": uri, "NAME": database}},
        INSTALLED_APPS=["bench.peers.official"],
        DEFAULT_AUTO_FIELD="django_mongodb_backend.fields.ObjectIdAutoField",
        USE_TZ=True,
        DEBUG=False,
        SECRET_KEY="django-nonrel-bench-peer",
    )
    django.setup()
    from importlib.metadata import version

    from django.apps import apps
    from django.db import connection
    from django_mongodb_backend.models import EmbeddedModel

    with connection.schema_editor() as editor:
        for model in apps.get_app_config("official").get_models():
            if not issubclass(model, EmbeddedModel):
                connection.get_collection(model._meta.db_table).drop()
                editor.create_model(model)
    return {
        "django-mongodb-backend": version("django-mongodb-backend"),
        "Django (official backend)": django.get_version(),
    }


class Tables:
    """Untimed contents of this app's collections: model -> rows, when known."""

    def __init__(self) -> None:
        from bench.peers.official import models

        self.models = models
        self.shapes = {
            "small flat": models.SmallFlat,
            "large flat": models.LargeFlat,
            "large nested": models.LargeNested,
        }
        self.filled: dict[Any, int] = {}

    def empty(self, model) -> None:
        from django.db import connection

        connection.get_collection(model._meta.db_table).delete_many({})
        self.filled[model] = 0

    def build(self, shape: str, index: int):
        row = MAKERS[shape](index)
        if shape == "large nested":
            m = self.models
            address = dict(row["address"], geo=m.Geo(**row["address"]["geo"]))
            items = [m.Item(**item) for item in row["items"]]
            row = {**row, "address": m.Address(**address), "items": items}
        return self.shapes[shape](**row)

    def fill(self, shape: str, count: int) -> None:
        model = self.shapes[shape]
        if self.filled.get(model) == count:
            return
        self.empty(model)
        for start in range(0, count, 10_000):
            stop = min(count, start + 10_000)
            model.objects.bulk_create([self.build(shape, i) for i in range(start, stop)])
        self.filled[model] = count

    def blogs_and_entries(self, count: int) -> None:
        blog, entry = self.models.Blog, self.models.Entry
        if self.filled.get(entry) == count:
            return
        self.empty(blog)
        self.empty(entry)
        blogs = blog.objects.bulk_create(
            [blog(name=f"blog {i}") for i in range(count // ENTRIES_PER_BLOG)]
        )
        entry.objects.bulk_create(
            [entry(blog=blogs[i % len(blogs)], title=f"entry {i}", rank=i) for i in range(count)]
        )
        self.filled[entry] = count


def setup_and_run(tables: Tables, work: dict[str, Any]):
    """(setup, run) of one case's work: ``run(setup())`` returns the work done."""
    kind, what, count = work["kind"], work["what"], work["count"]
    if kind in ("iterate", "values"):
        model = tables.shapes[what]
        if kind == "values":
            return lambda: tables.fill(what, count), lambda _: len(list(model.objects.values()))
        return lambda: tables.fill(what, count), lambda _: len(list(model.objects.all()))
    if kind == "filter":
        path, operator, value = FILTERS[what]
        lookup = dict([LOOKUPS[operator](path.replace(".", "__"), value)])
        model = tables.shapes["large nested"]
        return (
            lambda: tables.fill("large nested", count),
            lambda _: len(list(model.objects.filter(**lookup))),
        )
    if kind in ("select_related", "prefetch_related"):

        def related(_):
            entries = getattr(tables.models.Entry.objects, kind)("blog").order_by("pk")
            return len([entry.blog.name for entry in entries])

        return lambda: tables.blogs_and_entries(count), related
    if kind == "bulk_create":
        model = tables.shapes[what]

        def fresh():
            tables.empty(model)
            return [tables.build(what, i) for i in range(count)]

        return fresh, lambda objs: len(model.objects.bulk_create(objs))
    if kind == "save":
        return _save_setup(tables, what == "existing", count), _save_each
    raise ValueError(f"no django-mongodb-backend work for {work}")


def _save_setup(tables: Tables, existing: bool, count: int):
    model = tables.shapes["small flat"]

    def setup():
        if existing:
            tables.fill("small flat", count)
            objs = list(model.objects.order_by("pk"))
            for obj in objs:
                obj.score += 1
            return objs
        tables.empty(model)
        return [tables.build("small flat", i) for i in range(count)]

    return setup


def _save_each(objs: list) -> int:
    for obj in objs:
        obj.save()
    return len(objs)


def answer(tables: Tables, request: dict[str, Any]) -> dict[str, Any]:
    setup, run = setup_and_run(tables, request["work"])
    state = setup()
    if request["op"] == "warm":
        WIRE.start()
        try:
            work = run(state)
        finally:
            commands = WIRE.stop()
        return {"work": work, "commands": commands}
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    work = run(state)
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "work": work}


def main(argv: list[str]) -> int:
    # The protocol owns stdout; anything else printed goes to stderr.
    protocol, sys.stdout = sys.stdout, sys.stderr

    def reply(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    try:
        reply({"versions": configure(*argv)})
    except Exception as error:
        reply({"error": f"{type(error).__name__}: {error}"})
        return 1
    tables = Tables()
    for line in sys.stdin:
        try:
            reply(answer(tables, json.loads(line)))
        except Exception as error:
            reply({"error": f"{type(error).__name__}: {error}"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
