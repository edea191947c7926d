"""Row claims: one writer per document at a time where the server's writes are not atomic.

MongoDB applies an update or delete to each document atomically with its
filter. FerretDB v1 does not: it reads the documents matching the filter,
closes that read, and then writes them by ``_id`` -- a delete removes the
documents it read (handler/msg_delete.go: "close read transaction before
starting write transaction"), an update writes back the whole document it read
with the change applied. Whatever another connection writes to such a document
in between is lost: a delete removes a row that no longer matches its filter,
an update puts back the values it read. No filter, however guarded, can close
that window, since the server does not evaluate the filter when it writes.
Measured (tests/reliability/test_concurrency.py, a delete and an update of
``score > group`` while three threads take rows out of it): 53 of 67 and 54 of
144 rows taken out were deleted or overwritten anyway.

There every write of existing documents by this backend first *claims* them:
a claim is a document of ``django_nonrel_row_claims`` whose ``_id`` names the
table and the key, so inserting it succeeds for one connection at a time (the
one atomic check FerretDB has: a unique ``_id``). The write then runs on the
claimed documents only, and the claims are removed once it is acknowledged.
Two writers of one row take turns; the second then sees what the first wrote
(a guarded write re-checks it, a ``VersionField`` save finds the new version).
A writer that finds a row claimed releases what it holds (no writer waits
while holding claims, so none can deadlock), pauses a few milliseconds and
tries again, for at most ``CLAIM_WAIT`` seconds, then raises
``ContentionError``. A claim older than ``LEASE_SECONDS``, left by a process
that died between claim and release, is taken over.

Cost, on FerretDB only: an update or delete whose filter does not name its
keys reads them first (one ``find``), and every such write or save is two
commands more (claim, release); a batch of guarded updates (``update_each``)
claims all its rows in one command and releases them in one. Writes of other
programs do not claim, and
are not protected from (or by) these.
"""

from __future__ import annotations

import contextlib
import datetime
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from pymongo.errors import BulkWriteError

from django_nonrel.exceptions import ContentionError
from django_nonrel.query import AND, Leaf, Node, NonrelQuery, UpdateValue

from .filters import ID
from .mongo_store import ROW_CLAIMS, MongoStore

#: Age after which a claim is presumed abandoned by a crashed writer and taken over.
LEASE_SECONDS = 30.0
#: How long a writer waits for rows another connection holds, before ContentionError.
CLAIM_WAIT = 10.0
DUPLICATE_KEY = 11000


def claim_id(table: str, key: Any) -> str:
    """A claim's ``_id``: the table and the key (with its type, so 1 and "1" differ)."""
    return f"{table}:{type(key).__name__}:{key!r}"


@contextlib.contextmanager
def row_claims(store: MongoStore, table: str, keys: Sequence[Any]) -> Iterator[None]:
    """Hold the claims on the rows ``keys`` of ``table`` while the body writes them."""
    claims = store.collection(ROW_CLAIMS)
    owner = uuid.uuid4().hex
    ids = list(dict.fromkeys(claim_id(table, key) for key in keys))
    deadline = time.monotonic() + CLAIM_WAIT
    pause = 0.001
    # Claims are bookkeeping, as the undo journal's commands are: not in
    # connection.queries (a write there counts as the one command every server
    # runs) and never refused in a block marked for rollback (the release must run).
    while not store.run(
        f"db.{ROW_CLAIMS}.insertMany(<{len(ids)} rows of {table}>)",
        _take,
        claims,
        ids,
        owner,
        bookkeeping=True,
    ):
        if time.monotonic() > deadline:
            raise ContentionError(
                f"{table}: rows {_sample(keys)} stayed claimed by another connection's write "
                f"for {CLAIM_WAIT:.0f} s; nothing was written. Retry the operation."
            )
        time.sleep(random.uniform(0, pause))
        pause = min(pause * 2, 0.05)
    try:
        yield
    finally:
        store.run(
            f"db.{ROW_CLAIMS}.deleteMany(<{len(ids)} rows of {table}>)",
            claims.delete_many,
            {ID: {"$in": ids}, "owner": owner},
            bookkeeping=True,
        )


def _take(claims, ids: list[str], owner: str) -> bool:
    """Claim every id, or none: a writer holding some while waiting could deadlock."""
    now = datetime.datetime.now(datetime.UTC)
    try:
        claims.insert_many([{ID: i, "owner": owner, "at": now} for i in ids], ordered=False)
    except BulkWriteError as error:
        errors = error.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        held = {ids[e["index"]] for e in errors}
        if not all(_take_over(claims, i, owner, now) for i in held):
            claims.delete_many({ID: {"$in": ids}, "owner": owner})
            return False
    return True


def _take_over(claims, claim: str, owner: str, now: datetime.datetime) -> bool:
    """Take ``claim`` over if its writer has been gone for a lease."""
    expired = now - datetime.timedelta(seconds=LEASE_SECONDS)
    stale = claims.find_one_and_update(
        {ID: claim, "at": {"$lt": expired}}, {"$set": {"owner": owner, "at": now}}
    )
    if stale is None:
        return False
    # FerretDB's findAndModify is a read then a write: check that the takeover is ours.
    current = claims.find_one({ID: claim}, {"owner": 1})
    return current is not None and current.get("owner") == owner


def _sample(keys: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(k) for k in list(keys)[:limit])
    return f"{shown}, ..." if len(keys) > limit else shown


class RowClaimingStore(MongoStore):
    """The MongoDB store, claiming rows around its writes where the server needs it."""

    @property
    def claims_rows(self) -> bool:
        connection = self.connection
        return not connection.is_embedded and connection.server_info["ferretdb"]

    def update(self, query: NonrelQuery, values: dict[str, UpdateValue]) -> int:
        if not self.claims_rows:
            return super().update(query, values)
        keys = self._keys(query)
        if not keys:
            return 0
        with row_claims(self, query.table, keys):
            return super().update(_within(query, keys), values)

    def update_each(self, writes: Sequence[tuple[NonrelQuery, dict[str, UpdateValue]]]) -> int:
        """All the rows of the writes claimed at once: one claim and one release per batch."""
        if not self.claims_rows or not writes:
            return super().update_each(writes)
        table = writes[0][0].table
        if any(query.table != table for query, _ in writes):
            return sum(self.update(query, values) for query, values in writes)
        keyed = [(query, self._keys(query), values) for query, values in writes]
        keyed = [(query, keys, values) for query, keys, values in keyed if keys]
        if not keyed:
            return 0
        with row_claims(self, table, [key for _, keys, _ in keyed for key in keys]):
            claimed = [(_within(query, keys), values) for query, keys, values in keyed]
            if len(claimed) == 1:
                return super().update(*claimed[0])
            return super().update_each(claimed)

    def delete(self, query: NonrelQuery) -> int:
        if not self.claims_rows:
            return super().delete(query)
        keys = self._keys(query)
        if not keys:
            return 0
        with row_claims(self, query.table, keys):
            return super().delete(_within(query, keys))

    def upsert(self, table: str, pk_column: str, pk: Any, values: dict[str, Any], **kwargs):
        claims = row_claims(self, table, [pk]) if self.claims_rows else contextlib.nullcontext()
        with claims:
            return super().upsert(table, pk_column, pk, values, **kwargs)

    def _keys(self, query: NonrelQuery) -> list[Any]:
        """The keys of the rows ``query`` selects now: named by its filter, or read."""
        named = query.named_keys()
        if named is not None:
            return named
        if query.matches_nothing:
            return []
        probe = NonrelQuery(
            table=query.table,
            pk_column=query.pk_column,
            where=query.where,
            columns=[query.pk_column],
        )
        filter_doc = self.filter_document(probe)
        collection = self.collection(query.table)
        description = self.describe(probe)
        # Part of the claim, so bookkeeping like it: the write that follows is
        # what connection.queries shows, as on servers that need no claims.
        start = time.monotonic()
        found = self.run(
            description, lambda: list(collection.find(filter_doc, {ID: 1})), bookkeeping=True
        )
        if not found:
            # No write follows: this read is the query's one command, logged as the
            # write would have been, so an update or delete that matches no row is
            # one query on FerretDB as on every other server.
            self.log.command(self.connection, description, time.monotonic() - start)
        return [document[ID] for document in found]


def _within(query: NonrelQuery, keys: list[Any]) -> NonrelQuery:
    """``query`` restricted to the claimed ``keys``.

    A filter that names its keys already selects only among them (the keys
    claimed are those it names): it is sent as it is, so that a write by one key
    keeps the ``{_id: key}`` form FerretDB filters in its storage (with another
    condition beside it, FerretDB reads every document).
    """
    if query.named_keys() is not None:
        return query
    claimed = Leaf((query.pk_column,), "in", keys)
    return replace(query, where=Node(AND, [query.where, claimed] if query.where else [claimed]))
