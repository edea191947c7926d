"""What a ``ShardKey`` migration does on MongoDB: the key's index, then ``shardCollection``.

``CreateModel`` and ``AddIndex`` of a ``django_nonrel.sharding.ShardKey``
create the index the key needs (``{"tenant_id": 1}`` or ``{"tenant_id":
"hashed"}``, ``index_specs.shard_key_spec``) like any index (one that another
declaration, a foreign key's say, has on the same keys serves it: see
``index_set``), then, when the connection is to a ``mongos``
(``features.is_sharded_cluster``), send ``enableSharding`` (needed before
MongoDB 6.0, harmless after) and ``shardCollection`` with that key. A replica
set, a standalone server, FerretDB and mongomock cannot shard: they keep the
index (FerretDB v1, which has no hashed indexes, an ascending one on the same
fields), and a warning on the ``django_nonrel.sharding`` logger says so;
running the same migrations on a ``mongos`` later shards.

``sqlmigrate`` renders the commands without a server, marked as run on a
``mongos`` only.

``RemoveIndex`` of a ``ShardKey`` (the reverse of ``AddIndex``) drops the
index, except on a collection a cluster has sharded: MongoDB does not unshard
by dropping an index (it refuses to drop the index a shard key needs), so the
operation is refused with the commands that do change or remove a shard key.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import NotSupportedError

from django_nonrel.sharding import ShardKey

from .index_specs import shard_key_spec

logger = logging.getLogger("django_nonrel.sharding")


def key_document(editor, model, key: ShardKey) -> dict[str, int | str]:
    """``{"tenant_id": 1, "_id": "hashed"}``: the key's MongoDB pattern (pk as ``_id``)."""
    return dict(shard_key_spec(model, key, editor).keys)


def namespace(editor, model) -> str:
    return f"{editor.connection.settings_dict['NAME']}.{model._meta.db_table}"


def add_shard_key(editor, model, key: ShardKey) -> None:
    """AddIndex of a ShardKey: its index, then the sharding."""
    editor._ensure(model._meta.db_table, shard_key_spec(model, key, editor))
    shard_collection(editor, model, key)


def shard_collection(editor, model, key: ShardKey) -> None:
    """Shard ``model``'s collection on ``key`` on a mongos; say so and stop elsewhere.

    The key's index already exists (the schema editor creates it with the
    model's other indexes), so this works on collections that hold data.
    """
    pattern = key_document(editor, model, key)
    if not editor.collect_sql and not editor.connection.features.is_sharded_cluster:
        logger.warning(
            "%s: the database %r is not a sharded cluster (no mongos), so the collection "
            "%r got the index of its ShardKey %s only; these migrations shard it when "
            "they run on a mongos.",
            model._meta.label,
            editor.connection.alias,
            model._meta.db_table,
            pattern,
        )
        return
    if editor.collect_sql:
        editor.collected_sql.append(
            f"// {model._meta.label}: ShardKey {key.name!r}, on a mongos only "
            "(a replica set, FerretDB or mongomock keep the index above)"
        )
    database = {"enableSharding": editor.connection.settings_dict["NAME"]}
    command = {"shardCollection": namespace(editor, model), "key": pattern}
    for step in (database, command):
        editor._run(f"db.adminCommand({step!r})", lambda s=step: _admin(editor).command(s))


def drop_shard_key_index(editor, model, key: ShardKey) -> None:
    """The reverse of sharding: drop the key's index, or refuse on a sharded collection."""
    table = model._meta.db_table
    pattern = key_document(editor, model, key)
    if editor.collect_sql:
        editor.collected_sql.append(
            f"// {model._meta.label}: ShardKey {key.name!r}; refused on a mongos where "
            f"{table!r} is sharded (MongoDB does not unshard by dropping an index)"
        )
    elif editor.connection.features.is_sharded_cluster and is_sharded(editor, model):
        raise NotSupportedError(
            f"{model._meta.label}: removing ShardKey {key.name!r} would unshard the "
            f"collection {namespace(editor, model)!r} (key {pattern}), and MongoDB does not "
            "unshard by dropping an index: it refuses to drop the index a shard key needs. "
            "To change the key run reshardCollection (MongoDB 5.0+) or "
            "refineCollectionShardKey (which adds suffix fields); to unshard, "
            "unshardCollection (MongoDB 8.0+; it moves every document to one shard). "
            "Then record this migration with `manage.py migrate <app> <migration> --fake`."
        )

    editor._drop(table, key.name)


def rename_shard_key_index(editor, model, old: ShardKey, new: ShardKey) -> None:
    """RenameIndex of a ShardKey: MongoDB cannot rename an index, so it is rebuilt.

    On a sharded collection the index cannot be dropped (the key needs it) nor
    built twice (same key): it keeps its old name there, which is harmless --
    the name is only Django's label, and the collection stays sharded (a
    RemoveIndex of the key is refused there).
    """
    sharded = (
        not editor.collect_sql
        and editor.connection.features.is_sharded_cluster
        and is_sharded(editor, model)
    )
    if sharded:
        logger.warning(
            "%s: the sharded collection %r keeps its shard key index under the name "
            "%r (MongoDB cannot rename an index, nor drop the one a shard key needs).",
            model._meta.label,
            model._meta.db_table,
            old.name,
        )
        return
    drop_shard_key_index(editor, model, old)
    add_shard_key(editor, model, new)


def is_sharded(editor, model) -> bool:
    """Whether the cluster has sharded ``model``'s collection (asked on the mongos).

    ``config.collections`` lists sharded collections; MongoDB 8.0 also lists
    unsharded ones it tracks, marked ``unsplittable``.
    """
    collections = editor.database.client["config"]["collections"]
    document: dict[str, Any] | None = collections.find_one({"_id": namespace(editor, model)})
    return bool(document) and not document.get("dropped") and not document.get("unsplittable")


def _admin(editor):
    return editor.database.client.admin
