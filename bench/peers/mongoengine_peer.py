"""MongoEngine as a peer, with the documents of ``mongoengine_documents``.

Related rows are loaded with
``select_related()`` (MongoEngine's one batched way) in both relation cases,
``values()`` is ``as_pymongo()``, ``bulk_create`` is ``insert(load_bulk=False)``
and ``save()`` is the document's own save (an update of the changed fields
for a loaded document, an insert for a new one).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from bench.counting import WIRE, CommandCounter
from bench.measure import Variant
from bench.peers import ENTRIES_PER_BLOG, FILTERS, PEER_NAMES, PeerUnavailable, Work
from bench.shapes import MAKERS

NAME = PEER_NAMES[0]
#: MongoEngine's spelling of each filter operator.
OPERATORS = {"eq": "", "contains": "", "lt": "__lt"}


class NotCounted:
    """Commands a peer sends to the in-process mongomock store are not counted."""

    def start(self) -> None:
        pass

    def stop(self) -> None:
        return None


class MongoEnginePeer:
    name = NAME

    def __init__(self, counter: CommandCounter, versions: dict[str, str]) -> None:
        self.counter = counter
        self.versions = versions
        from bench.peers import mongoengine_documents as documents

        self.shapes, self.builders = documents.SHAPES, documents.BUILDERS
        self.blog, self.entry = documents.Blog, documents.Entry
        #: document class -> rows it holds, when known.
        self.filled: dict[Any, int] = {}

    # -- untimed table contents ---------------------------------------------------
    def _empty(self, document) -> None:
        document._get_collection().delete_many({})
        self.filled[document] = 0

    def _fill(self, shape: str, count: int) -> None:
        document = self.shapes[shape]
        if self.filled.get(document) == count:
            return
        self._empty(document)
        self._insert(document, [self._build(shape, i) for i in range(count)])
        self.filled[document] = count

    @staticmethod
    def _insert(document, objs: list) -> None:
        for start in range(0, len(objs), 10_000):
            document.objects.insert(objs[start : start + 10_000], load_bulk=False)

    def _build(self, shape: str, index: int):
        return self.builders[shape](**MAKERS[shape](index))

    def _blogs_and_entries(self, count: int) -> None:
        if self.filled.get(self.entry) == count:
            return
        blogs = [self.blog(name=f"blog {i}") for i in range(count // ENTRIES_PER_BLOG)]
        self._empty(self.blog)
        self._empty(self.entry)
        self._insert(self.blog, blogs)
        blogs = list(self.blog.objects.order_by("name"))
        by_index = {int(blog.name.split()[1]): blog for blog in blogs}
        self._insert(
            self.entry,
            [
                self.entry(blog=by_index[i % len(blogs)], title=f"entry {i}", rank=i)
                for i in range(count)
            ],
        )
        self.filled[self.entry] = count

    # -- the work of each case ------------------------------------------------------
    def _setup_and_run(self, work: Work):
        if work.kind in ("iterate", "values"):
            document = self.shapes[work.what]

            def setup():
                self._fill(work.what, work.count)

            if work.kind == "values":
                return setup, lambda state: len(list(document.objects.as_pymongo()))
            return setup, lambda state: len(list(document.objects))
        if work.kind == "filter":
            path, operator, value = FILTERS[work.what]
            lookup = {path.replace(".", "__") + OPERATORS[operator]: value}
            document = self.shapes["large nested"]
            return (
                lambda: self._fill("large nested", work.count),
                lambda state: len(list(document.objects(**lookup))),
            )
        if work.kind in ("select_related", "prefetch_related"):

            def related(state):
                entries = self.entry.objects.order_by("id").select_related()
                return len([entry.blog.name for entry in entries])

            return lambda: self._blogs_and_entries(work.count), related
        if work.kind == "bulk_create":
            document = self.shapes[work.what]

            def fresh():
                self._empty(document)
                return [self._build(work.what, i) for i in range(work.count)]

            return fresh, lambda objs: len(document.objects.insert(objs, load_bulk=False))
        if work.kind == "save":
            return self._save_setup(work), _save_each
        raise ValueError(f"no MongoEngine work for {work}")

    def _save_setup(self, work: Work):
        document = self.shapes["small flat"]

        def setup():
            if work.what == "existing":
                self._fill("small flat", work.count)
                objs = list(document.objects.order_by("id"))
                for obj in objs:
                    obj.score += 1
                return objs
            self._empty(document)
            return [self._build("small flat", i) for i in range(work.count)]

        return setup

    def variant(self, work: Work) -> Variant:
        # Writing setups empty their table (filled = 0): a later fill starts afresh.
        setup, run = self._setup_and_run(work)
        return Variant(run=run, setup=setup, counter=self.counter, peer=True)

    def close(self) -> None:
        import mongoengine

        from bench.peers.mongoengine_documents import ALIAS

        mongoengine.disconnect(ALIAS)


def _save_each(objs: list) -> int:
    for obj in objs:
        obj.save()
    return len(objs)


def open_peer(uri: str, embedded_store) -> MongoEnginePeer:
    """MongoEngine on the target's server (``embedded_store``: the mongomock store)."""
    if importlib.util.find_spec("mongoengine") is None:
        raise PeerUnavailable("mongoengine is not installed (pip install mongoengine)")
    from importlib.metadata import version

    import mongoengine

    from bench.peers.mongoengine_documents import ALIAS
    from bench.targets import DATABASE_NAME

    if embedded_store is not None:
        import mongomock

        mongoengine.connect(
            DATABASE_NAME,
            alias=ALIAS,
            mongo_client_class=mongomock.MongoClient,
            _store=embedded_store,
        )
        counter: CommandCounter = NotCounted()
    else:
        mongoengine.connect(DATABASE_NAME, alias=ALIAS, host=uri, tz_aware=False)
        counter = WIRE
    return MongoEnginePeer(counter, {"mongoengine": version("mongoengine")})
