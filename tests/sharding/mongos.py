"""A simulated ``mongos``: mongomock behind the routing rules of a sharded cluster.

No MongoDB cluster runs here, so the command shapes a cluster cares about are
checked against one written down from MongoDB's documentation and source:

- ``hello`` answers ``msg: "isdbgrid"``, as a mongos does;
- ``shardCollection`` records the key (and ``config.collections`` lists it),
  refusing a collection with a unique index the key is not a prefix of
  (``ShardKeyPattern::isUniqueIndexCompatible``) or with data but no index
  supporting the key;
- on a sharded collection: an upsert must have an equality on the full shard
  key; ``updateOne``/``deleteOne``/``findAndModify`` need ``_id`` or the full
  key; a change of a shard key value needs a single-document write with the
  full old key and a retryable write (or transaction); ``updateMany`` may not
  change one; a unique index must be compatible; the index a key needs cannot
  be dropped.

Every command is recorded (:class:`Sent`) with whether its filter names the
full shard key (by equality or ``$in``), i.e. whether the mongos could send it
to the shards owning those values instead of to every shard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mongomock
from django.db import connections
from mongomock.store import ServerStore
from pymongo.errors import OperationFailure

from django_nonrel.backends.mongodb.base import DatabaseWrapper

ID = "_id"
#: The alias the ``mongos`` fixture (tests/conftest.py) registers its connection under.
ALIAS = "mongos"
#: MongoDB error codes the simulated refusals carry.
SHARD_KEY_NOT_FOUND = 61
IMMUTABLE_FIELD = 66
CANNOT_CREATE_INDEX = 67
ILLEGAL_OPERATION = 20
WRITES = frozenset(
    {
        "insert_many",
        "update_one",
        "replace_one",
        "update_many",
        "delete_one",
        "delete_many",
        "find_one_and_update",
    }
)


@dataclass
class Sent:
    """One command the mongos received."""

    namespace: str
    name: str
    filter: dict[str, Any] | None = None
    update: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    #: The collection is sharded and the filter names every shard key field.
    targeted: bool = False
    sharded: bool = False


def equalities(query: dict[str, Any] | None) -> dict[str, list[Any]]:
    """Values each field is pinned to by ``query`` (``$eq``/plain/``$in``, through ``$and``)."""
    pinned: dict[str, list[Any]] = {}
    for key, condition in (query or {}).items():
        if key == "$and":
            for part in condition:
                for name, values in equalities(part).items():
                    pinned.setdefault(name, []).extend(values)
        elif key.startswith("$"):
            continue
        elif isinstance(condition, dict) and any(op.startswith("$") for op in condition):
            if "$eq" in condition:
                pinned.setdefault(key, []).append(condition["$eq"])
            elif "$in" in condition:
                pinned.setdefault(key, []).extend(condition["$in"])
        else:
            pinned.setdefault(key, []).append(condition)
    return pinned


def exact(query: dict[str, Any] | None) -> dict[str, Any]:
    """Fields ``query`` pins to exactly one value (what targets an upsert)."""
    found: dict[str, Any] = {}
    for key, condition in (query or {}).items():
        if key == "$and":
            for part in condition:
                found.update(exact(part))
        elif key.startswith("$"):
            continue
        elif isinstance(condition, dict) and any(op.startswith("$") for op in condition):
            if set(condition) == {"$eq"}:
                found[key] = condition["$eq"]
        else:
            found[key] = condition
    return found


class SimulatedMongos:
    """A client object standing in for ``pymongo.MongoClient`` connected to a mongos."""

    def __init__(self, version: tuple[int, int, int] = (7, 0, 0), retry_writes: bool = True):
        self.backing = mongomock.MongoClient(_store=ServerStore())
        self.version = version
        self.retry_writes = retry_writes
        self.sent: list[Sent] = []
        #: namespace -> shard key pattern of the collections this cluster has sharded.
        self.shard_keys: dict[str, dict[str, Any]] = {}
        self.admin = _Admin(self)

    def get_database(self, name: str, **options: Any) -> _Database:
        return _Database(self, name)

    def __getitem__(self, name: str) -> _Database:
        return self.get_database(name)

    def server_info(self) -> dict[str, Any]:
        return {"version": ".".join(map(str, self.version)), "versionArray": [*self.version, 0]}

    def close(self) -> None:
        pass

    def writes(self, table: str) -> list[Sent]:
        """The data-changing commands sent to ``table`` of any database."""
        return [s for s in self.sent if s.namespace.endswith(f".{table}") and s.name in WRITES]

    def commands(self, name: str) -> list[dict[str, Any]]:
        """The admin commands named ``name`` the mongos ran."""
        return [s.options for s in self.sent if s.namespace == "admin" and s.name == name]

    # -- sharding ---------------------------------------------------------------
    def shard(self, namespace: str, key: dict[str, Any]) -> None:
        database, _, table = namespace.partition(".")
        collection = self.backing[database][table]
        indexes = collection.index_information()
        for info in indexes.values():
            pattern = [path for path, _ in info["key"]]
            if info.get("unique") and not _unique_compatible(pattern, list(key)):
                raise OperationFailure(
                    f"can't shard collection '{namespace}' with unique index on "
                    f"{dict(info['key'])} and proposed shard key {key}. Uniqueness can't be "
                    "maintained unless shard key is a prefix",
                    code=ILLEGAL_OPERATION,
                )
        supported = any(_supports(info["key"], key) for info in indexes.values())
        if not supported:
            if collection.count_documents({}):
                raise OperationFailure(
                    "Please create an index that starts with the proposed shard key before "
                    "sharding the collection",
                    code=ILLEGAL_OPERATION,
                )
            collection.create_index(list(key.items()))
        self.shard_keys[namespace] = dict(key)
        self.backing["config"]["collections"].insert_one({ID: namespace, "key": dict(key)})


def _unique_compatible(index_fields: list[str], key_fields: list[str]) -> bool:
    """MongoDB's ShardKeyPattern::isUniqueIndexCompatible."""
    return bool(index_fields) and (
        index_fields[0] == ID or index_fields[: len(key_fields)] == key_fields
    )


def _supports(index_key: list[tuple[str, Any]], shard_key: dict[str, Any]) -> bool:
    """Whether an index (its key as listed by index_information) supports the shard key."""
    return list(index_key)[: len(shard_key)] == list(shard_key.items())


class _Admin:
    def __init__(self, mongos: SimulatedMongos) -> None:
        self.mongos = mongos

    def command(self, command: str | dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        document = {command: 1} if isinstance(command, str) else dict(command)
        name = next(iter(document))
        self.mongos.sent.append(Sent("admin", name, options=document))
        if name in ("hello", "isMaster", "ismaster"):
            return {"isWritablePrimary": True, "msg": "isdbgrid", "maxWireVersion": 21, "ok": 1}
        if name == "buildInfo":
            return self.mongos.server_info() | {"ok": 1}
        if name == "shardCollection":
            self.mongos.shard(document["shardCollection"], document["key"])
        elif name not in ("ping", "enableSharding"):
            raise OperationFailure(f"no such command: '{name}'", code=59)
        return {"ok": 1}


class _Database:
    def __init__(self, mongos: SimulatedMongos, name: str) -> None:
        self.client = mongos
        self.name = name
        self.backing = mongos.backing[name]

    def __getitem__(self, table: str) -> _Collection:
        return _Collection(self.client, self.backing[table], f"{self.name}.{table}")

    def list_collection_names(self) -> list[str]:
        return self.backing.list_collection_names()

    def create_collection(self, table: str, **options: Any):
        self.client.sent.append(Sent(f"{self.name}.{table}", "create"))
        return self.backing.create_collection(table, **options)

    def drop_collection(self, table: str) -> None:
        namespace = f"{self.name}.{table}"
        self.client.sent.append(Sent(namespace, "drop"))
        self.client.shard_keys.pop(namespace, None)
        self.client.backing["config"]["collections"].delete_one({ID: namespace})
        self.backing.drop_collection(table)


class _Collection:
    """A mongomock collection behind the routing rules of a sharded cluster."""

    def __init__(self, mongos: SimulatedMongos, backing, namespace: str) -> None:
        self.mongos = mongos
        self.backing = backing
        self.namespace = namespace

    @property
    def key(self) -> dict[str, Any] | None:
        return self.mongos.shard_keys.get(self.namespace)

    def _send(self, command: str, query=None, update=None, **options: Any) -> Sent:
        key = self.key
        pinned = equalities(query)
        sent = Sent(
            self.namespace,
            command,
            query,
            update,
            options,
            targeted=key is not None and all(path in pinned for path in key),
            sharded=key is not None,
        )
        self.mongos.sent.append(sent)
        return sent

    def _refuse(self, message: str, code: int) -> None:
        raise OperationFailure(f"{message} (namespace {self.namespace})", code=code)

    def _check_single_document(self, query, update, upsert: bool) -> None:
        """The rules for updateOne/findAndModify/deleteOne on a sharded collection."""
        key = self.key
        if key is None:
            return
        pinned = exact(query)
        full_key = all(path in pinned for path in key)
        if upsert and not full_key:
            self._refuse(
                "Failed to target upsert by query :: could not extract exact shard key",
                SHARD_KEY_NOT_FOUND,
            )
        if not upsert and not full_key and ID not in pinned:
            self._refuse(
                "A single update/delete on a sharded collection must contain an exact match "
                "on _id or the full shard key",
                SHARD_KEY_NOT_FOUND,
            )
        changed = self._changed_key_fields(query, update or {})
        if changed:
            if not full_key:
                self._refuse(
                    f"Shard key update {changed} must filter on the full shard key",
                    SHARD_KEY_NOT_FOUND,
                )
            if not self.mongos.retry_writes:
                self._refuse(
                    "Must run update to shard key field in a multi-statement transaction or "
                    "with retryWrites: true",
                    IMMUTABLE_FIELD,
                )

    def _changed_key_fields(self, query, update: dict[str, Any]) -> list[str]:
        """Shard key fields ``update`` gives a value other than the one ``query`` pins."""
        key = self.key or {}
        pinned = exact(query)
        removed = {*update.get("$unset", {}), *update.get("$rename", {})}
        written = update.get("$set", {})
        return [
            path
            for path in key
            if path in removed or (path in written and written[path] != pinned.get(path))
        ]

    # -- reads ------------------------------------------------------------------
    def find(self, filter=None, *args: Any, **kwargs: Any):
        self._send("find", filter)
        return self.backing.find(filter, *args, **kwargs)

    def find_one(self, filter=None, *args: Any, **kwargs: Any):
        self._send("find", filter)
        return self.backing.find_one(filter, *args, **kwargs)

    def count_documents(self, filter, **kwargs: Any) -> int:
        self._send("count", filter)
        return self.backing.count_documents(filter, **kwargs)

    def distinct(self, key: str, filter=None):
        self._send("distinct", filter)
        return self.backing.distinct(key, filter)

    def aggregate(self, pipeline, **kwargs: Any):
        match = pipeline[0].get("$match") if pipeline else None
        self._send("aggregate", match)
        return self.backing.aggregate(pipeline, **kwargs)

    def index_information(self) -> dict[str, Any]:
        return self.backing.index_information()

    # -- writes -----------------------------------------------------------------
    def insert_many(self, documents, **kwargs: Any):
        self._send("insert_many", None, None, count=len(documents))
        return self.backing.insert_many(documents, **kwargs)

    def insert_one(self, document, **kwargs: Any):
        self._send("insert_many", None, None, count=1)
        return self.backing.insert_one(document, **kwargs)

    def update_one(self, filter, update, upsert: bool = False, **kwargs: Any):
        self._send("update_one", filter, update, upsert=upsert)
        self._check_single_document(filter, update, upsert)
        return self.backing.update_one(filter, update, upsert=upsert, **kwargs)

    def replace_one(self, filter, replacement, upsert: bool = False, **kwargs: Any):
        self._send("replace_one", filter, replacement, upsert=upsert)
        self._check_single_document(filter, {"$set": replacement}, upsert)
        return self.backing.replace_one(filter, replacement, upsert=upsert, **kwargs)

    def find_one_and_update(self, filter, update, *args: Any, **kwargs: Any):
        self._send("find_one_and_update", filter, update, upsert=kwargs.get("upsert", False))
        self._check_single_document(filter, update, kwargs.get("upsert", False))
        return self.backing.find_one_and_update(filter, update, *args, **kwargs)

    def update_many(self, filter, update, **kwargs: Any):
        self._send("update_many", filter, update)
        key = self.key or {}
        for document in self.backing.find(filter):
            for path in key:
                moved = path in update.get("$unset", {}) or path in update.get("$rename", {})
                new = update.get("$set", {}).get(path, document.get(path))
                if moved or new != document.get(path):
                    self._refuse(
                        f"Multi-update operations cannot change the shard key field {path!r}",
                        IMMUTABLE_FIELD,
                    )
        return self.backing.update_many(filter, update, **kwargs)

    def delete_one(self, filter, **kwargs: Any):
        self._send("delete_one", filter)
        self._check_single_document(filter, None, upsert=False)
        return self.backing.delete_one(filter, **kwargs)

    def delete_many(self, filter, **kwargs: Any):
        self._send("delete_many", filter)
        return self.backing.delete_many(filter, **kwargs)

    # -- indexes ----------------------------------------------------------------
    def create_index(self, keys, **options: Any) -> str:
        self._send("createIndexes", None, None, key=list(keys), **options)
        key = self.key
        fields = [path for path, _ in keys]
        if key is not None and options.get("unique") and not _unique_compatible(fields, list(key)):
            self._refuse(
                f"cannot create unique index over {dict(keys)} with shard key pattern {key}",
                CANNOT_CREATE_INDEX,
            )
        return self.backing.create_index(keys, **options)

    def drop_index(self, name: str) -> None:
        self._send("dropIndexes", None, None, index=name)
        key = self.key
        if key is not None:
            indexes = self.backing.index_information()
            others = [info for other, info in indexes.items() if other != name]
            if _supports(indexes[name]["key"], key) and not any(
                _supports(info["key"], key) for info in others
            ):
                self._refuse(
                    f"cannot drop index {name!r}: it is the only index supporting the shard key",
                    ILLEGAL_OPERATION,
                )
        self.backing.drop_index(name)


class MongosDatabaseWrapper(DatabaseWrapper):
    """The MongoDB backend connected to a :class:`SimulatedMongos` (no network)."""

    def __init__(self, settings_dict: dict[str, Any], alias: str, mongos: SimulatedMongos):
        super().__init__(settings_dict, alias)
        self.mongos = mongos

    def get_new_connection(self, conn_params):
        return self.mongos


def register(alias: str, mongos: SimulatedMongos, **options: Any) -> MongosDatabaseWrapper:
    """A connection ``connections[alias]`` to ``mongos`` (remove it with :func:`unregister`).

    ``OPTIONS["TRANSACTIONS"] = "off"``: the simulation has no sessions; a
    mongos's transactions are a server feature these tests do not model.
    """
    settings_dict = connections.settings["default"] | {
        "ENGINE": "django_nonrel.backends.mongodb",
        "HOST": "mongodb://mongos.invalid:27017",
        "NAME": "shop",
        "OPTIONS": {"TRANSACTIONS": "off", **options},
        "TEST": {},
    }
    connection = MongosDatabaseWrapper(settings_dict, alias, mongos)
    connections[alias] = connection
    return connection


def unregister(alias: str) -> None:
    connections[alias].close()
    del connections[alias]
