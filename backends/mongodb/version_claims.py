"""Version claims: one saver per loaded version on servers without atomic conditional updates.

A ``VersionField`` save is an upsert conditional on the version the instance
was loaded with. MongoDB evaluates that condition and the write atomically;
FerretDB v1 does not: it runs ``update_one`` as a read followed by a write, so
two threads that loaded the same version can both see it and both write, and
one increment is lost (measured: 8 threads x 15 read-modify-write cycles lost
updates in every run).

There the save first inserts a claim document whose ``_id`` names the table,
the key and the version being replaced. ``_id`` is unique, so exactly one saver
per loaded version gets past this point; the others raise ``ConflictError`` and
write nothing, as a stale save does. The claim is removed once the write is
acknowledged: a saver that claims the same version later reads the new version
in its conditional upsert and is refused by it. A claim left by a process that
died between claim and write would block the row, so a claim older than
``LEASE_SECONDS`` is taken over.

It costs two extra commands per versioned save, on FerretDB only.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import Iterator
from typing import Any

from pymongo.errors import DuplicateKeyError

from django_nonrel.exceptions import ConflictError

from .store_handle import StoreHandle

#: Collection of in-flight version claims.
VERSION_CLAIMS = "django_nonrel_version_claims"
#: Age after which a claim is presumed abandoned by a crashed saver and taken over.
LEASE_SECONDS = 30.0


def claim_id(table: str, pk: Any, expected: dict[str, Any]) -> str:
    """The claim's ``_id``: table, key (with its type, so 1 and "1" differ) and version."""
    version = ",".join(f"{column}={value!r}" for column, value in sorted(expected.items()))
    return f"{table}:{type(pk).__name__}:{pk!r}:{version}"


@contextlib.contextmanager
def version_claim(
    store: StoreHandle, table: str, pk: Any, expected: dict[str, Any]
) -> Iterator[None]:
    """Hold the claim on replacing ``expected`` of row ``pk`` while the body writes it.

    Raises ``ConflictError`` when another saver holds it (it loaded the same
    version and is writing it now, so this save is stale).
    """
    claims = store.collection(VERSION_CLAIMS)
    key = claim_id(table, pk, expected)
    owner = uuid.uuid4().hex

    def take() -> bool:
        now = datetime.datetime.now(datetime.UTC)
        try:
            claims.insert_one({"_id": key, "table": table, "owner": owner, "at": now})
            return True
        except DuplicateKeyError:
            pass
        # Held: take it over only if its saver has been gone for a lease.
        expired = now - datetime.timedelta(seconds=LEASE_SECONDS)
        stale = claims.find_one_and_update(
            {"_id": key, "at": {"$lt": expired}}, {"$set": {"owner": owner, "at": now}}
        )
        if stale is None:
            return False
        # FerretDB's update is a read then a write: check that the takeover is ours.
        current = claims.find_one({"_id": key}, {"owner": 1})
        return current is not None and current.get("owner") == owner

    if not store.run(f"db.{VERSION_CLAIMS}.insertOne({{'_id': {key!r}}})", take):
        raise ConflictError(
            f"{table} row {pk!r} is being saved by another connection from the same "
            f"version {expected!r}; nothing was written. Reload it and apply the change again."
        )
    try:
        yield
    finally:
        store.run(
            f"db.{VERSION_CLAIMS}.deleteOne({{'_id': {key!r}}})",
            claims.delete_one,
            {"_id": key, "owner": owner},
        )
