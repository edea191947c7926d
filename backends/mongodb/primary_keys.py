"""Changing which field is the primary key: the one stored as the document's ``_id``.

On SQL a primary key is a constraint on a column; here the key *is* the
``_id`` of each document, and MongoDB cannot change an ``_id`` in place. So:

- when a field stops being the key (AlterField, or the first half of moving
  the key to another field), its values are copied from ``_id`` into a key of
  its own name (one update per document: the portable servers have no update
  that reads another key); the ``_id`` values stay until a new key is chosen;
- when a field becomes the key, every document is rewritten with that field's
  value as ``_id`` (into a scratch collection that then replaces the old one,
  so a failure -- a NULL or a duplicate among the new keys, refused with
  IntegrityError -- leaves the collection as it was). The indexes that do not
  involve either key are copied; the schema editor rebuilds the others.

Keys pointing at the old values from other collections are left as they are,
as SQL leaves foreign key values when a primary key moves.
"""

from __future__ import annotations

from itertools import islice

from django.db import IntegrityError
from pymongo.errors import BulkWriteError

from .index_set import ID, ID_INDEX, server_options

#: Documents per insert command while rewriting a collection.
BATCH = 1000
#: Suffix of the scratch collection a rewrite builds.
SCRATCH = "__django_nonrel_rekey"


def release_key(database, table: str, column: str) -> None:
    """Copy each document's ``_id`` into ``column`` (the field is no longer the key)."""
    collection = database[table]
    for key in [document[ID] for document in collection.find({}, {ID: 1})]:
        collection.update_one({ID: key}, {"$set": {column: key}})


def rekey(database, table: str, new_key: str) -> None:
    """Rewrite ``table`` with the values of ``new_key`` as ``_id``."""
    collection = database[table]
    missing = collection.count_documents({new_key: None})
    if missing:
        raise IntegrityError(
            f"{missing} document(s) of {table} have no {new_key!r}: it cannot become the "
            "primary key. Give them a value first."
        )
    scratch = database[table + SCRATCH]
    scratch.drop()
    database.create_collection(scratch.name)  # renamed over the table even when empty
    try:
        documents = collection.find()
        while batch := list(islice(documents, BATCH)):
            for document in batch:
                document[ID] = document.pop(new_key)
            scratch.insert_many(batch)
        for name, info in collection.index_information().items():
            keys = [key for key, _ in info["key"]]
            if name != ID_INDEX and ID not in keys and new_key not in keys:
                scratch.create_index(info["key"], name=name, **server_options(info))
    except BulkWriteError as error:
        scratch.drop()
        raise IntegrityError(
            f"{table}.{new_key} cannot become the primary key: its values are not unique "
            f"({error.details['writeErrors'][0]['errmsg']})."
        ) from error
    except Exception:
        scratch.drop()
        raise
    collection.drop()
    scratch.rename(table)
