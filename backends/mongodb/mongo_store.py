"""The MongoDB ``DocumentStore``: django-nonrel's primitives as pymongo commands.

Every method is one command (``find``, ``count_documents``, ``distinct``,
``aggregate`` with ``$match``/``$sort``/``$skip``/``$limit``/``$group``,
``insert_many``, ``update_many``, ``update_one(upsert=True)``,
``delete_many``, ``find_one_and_update`` for key blocks), all of which
FerretDB and mongomock support. Each is logged to ``connection.queries`` when
queries are logged, and driver errors become Django's exception classes.

Rows are documents; the model's primary-key column is stored as ``_id``.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

from bson import ObjectId
from bson.codec_options import DEFAULT_CODEC_OPTIONS
from bson.raw_bson import RawBSONDocument
from django.apps import apps
from django.db import DataError, IntegrityError, NotSupportedError
from django.db.backends.utils import CursorWrapper
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from django_nonrel.exceptions import ConflictError, PartialInsertError
from django_nonrel.query import NonrelQuery, UpdateValue
from django_nonrel.store_contract import DocumentStore

from .batched_reads import read_in_batches
from .bulk_updates import update_each
from .filters import ID, MATCH_NONE, FilterTranslator, field_path, key_equality
from .grouping import MongoAggregation
from .limits import check_documents
from .query_log import Description, QueryLog, described, find_text
from .reserved_keys import STORES, retire_key_blocks
from .skipped_sets import nested_sets, pinned_ids, rewrite_skipped
from .undo_journal import UndoJournal, written_ids

#: Collection holding one integer counter per table with an integer AutoField.
SEQUENCES = "django_nonrel_sequences"
#: Blocks of integer keys claimed on servers whose $inc is not atomic (FerretDB v1).
KEY_CLAIMS = "django_nonrel_key_claims"
#: Reservations tried before a lost race is reported (each loss means another connection won).
MAX_RESERVE_ATTEMPTS = 100
#: Serialises commands on the in-process mongomock store (see ``run``).
EMBEDDED_COMMANDS = threading.RLock()
#: How many times ``AUTO_ID_BLOCK`` a connection's spare block of keys grows to.
KEY_BLOCK_GROWTH = 50
#: Keys per claimed chunk on FerretDB (reservations there are rounded up to it).
CLAIM_CHUNK = 20
DUPLICATE_KEY = 11000
#: The largest integer BSON stores (int64).
INT64_MAX = 2**63 - 1
#: Command names (as logged) that change data.
WRITE_COMMANDS = frozenset(
    {"insertMany", "insertOne", "updateMany", "updateOne", "deleteMany", "deleteOne", "bulkWrite"}
)
#: Claims on rows being written, on servers whose writes are not atomic (row_claims.py).
ROW_CLAIMS = "django_nonrel_row_claims"
#: Collections of django-nonrel's own bookkeeping: writes there are not the
#: user's data, so they do not count as applied writes (an attempt that only
#: claimed keys or rows can be retried).
BOOKKEEPING = frozenset({KEY_CLAIMS, ROW_CLAIMS})
UPDATE_OPERATORS = {"set": "$set", "inc": "$inc", "mul": "$mul", "unset": "$unset"}


class MongoStore(MongoAggregation, DocumentStore):
    """The primitives for one ``DatabaseWrapper`` (one client, one database)."""

    def __init__(self, connection) -> None:
        self.connection = connection
        #: table -> [next key, last key] of the block of keys this connection holds.
        self.key_blocks: dict[str, list[int]] = {}
        #: table -> a value this connection saw the table's counter reach: explicit
        #: keys up to it need no counter command (note_explicit_keys).
        self.counter_floors: dict[str, int] = {}
        #: table -> keys of the next spare block this connection reserves (allocate_keys).
        self.block_sizes: dict[str, int] = {}
        #: How many write commands the server has accepted on this connection.
        self.applied_writes = 0
        #: What undoes this connection's writes inside atomic() (undo_journal.py).
        self.journal = UndoJournal(self, SEQUENCES)
        #: connection.queries: one entry per ORM query (query_log.py).
        self.log = QueryLog()
        #: The (client, database name) the cached collections belong to, and those.
        self._collections_of: tuple[Any, dict[str, Any]] = ((None, None), {})
        STORES.add(self)

    def __del__(self) -> None:
        # As Django's backend helpers (features, ops, ...) do: dropping the back
        # reference lets a closed connection be freed by reference counting,
        # without waiting for a garbage collection (Django 6.1 tests this).
        del self.connection

    @property
    def key_block_size(self) -> int:
        return int(self.connection.settings_dict.get("OPTIONS", {}).get("AUTO_ID_BLOCK", 20))

    def collection(self, table: str):
        """The driver's Collection for ``table`` (database NAME, OPTIONS' concerns).

        Made once per client: pymongo builds a Database and a Collection object,
        each resolving codec options and concerns, on every lookup, a fixed cost
        of every query otherwise. Once connected no I/O happens here, so no guard
        is needed: the command sent with it passes Django's (``run``). A new client (after
        ``close()``) or database NAME (the test database) gets new objects.
        """
        connection = self.connection
        client = connection.connection
        if client is None:
            # Connect as a query does, through cursor(): refused with the query's
            # error where queries are (async code, a test disallowing the database).
            connection.cursor()
            client = connection.connection
        name = connection.settings_dict["NAME"]
        (owner, owner_name), collections = self._collections_of
        if owner is not client or owner_name != name:
            collections = {}
            self._collections_of = ((client, name), collections)
        collection = collections.get(table)
        if collection is None:
            database = client.get_database(name, **connection.concerns.database_options())
            collection = collections[table] = database[table]
        return collection

    # -- running and logging commands -------------------------------------------
    def run(self, description: Description, command, *args, bookkeeping: bool = False, **kwargs):
        """Run one driver command with Django's error mapping and query logging.

        Inside a transaction the command runs with the transaction's session
        bound (``ClientSession.bind``), so every command the store sends takes
        part without each call passing ``session=``. ``applied_writes`` counts
        write commands the server accepted: ``run_in_transaction`` uses it to
        know whether a failed attempt without a transaction left writes behind.
        In a transaction marked for rollback, commands are refused with Django's
        TransactionManagementError, as SQL backends refuse queries there.
        ``bookkeeping`` commands (the undo journal's) are neither refused,
        logged nor counted; the commands of one ORM query are logged as one
        ``connection.queries`` entry (``one_query``, query_log.py). A read may pass
        its description as a function building it: called only when a wrapper or
        the log uses it.
        """
        connection = self.connection
        if not bookkeeping and not apps.ready and not apps.stored_app_configs:
            # Django's SQL cursors warn the same way (stored_app_configs is set only
            # by tests that swap the app registry).
            warnings.warn(
                CursorWrapper.APPS_NOT_READY_WARNING_MSG, category=RuntimeWarning, stacklevel=2
            )
        if (
            connection.needs_rollback
            and not bookkeeping
            and connection.features.supports_transactions
        ):
            connection.validate_no_broken_transaction()
        if bookkeeping:
            connection.ensure_connection()
            cursor = None
        else:
            # Every query passes where Django's SQL backends pass: cursor() refuses
            # async contexts and sharing across threads, and it is what the test
            # runner's disallowed-database guard wraps (DatabaseOperationForbidden).
            cursor = connection.cursor()
        start = time.monotonic()
        logged = description

        def send(sql, params, many, context):
            nonlocal logged
            logged = sql  # what a wrapper passed on is what is logged as run
            return self._send(command, args, kwargs)

        try:
            if bookkeeping or not connection.execute_wrappers:
                result = self._send(command, args, kwargs)
            else:
                # connection.execute_wrapper(): instrumentation and query blockers
                # see every command, as they see every SQL statement.
                executor = send
                for wrapper in reversed(connection.execute_wrappers):
                    executor = functools.partial(wrapper, executor)
                context = {"connection": connection, "cursor": cursor}
                logged = description = described(description)
                result = executor(description, None, False, context)
            if not isinstance(description, str):
                return result  # a read's: never a write to count
            target, _, name = description.split("(", 1)[0].rpartition(".")
            if (
                name in WRITE_COMMANDS
                and not bookkeeping
                and target.removeprefix("db.") not in BOOKKEEPING
            ):
                self.applied_writes += 1
            return result
        finally:
            if not bookkeeping:
                self.log.command(connection, logged, time.monotonic() - start)

    def one_query(self):
        return self.log.one_query()

    def _send(self, command, args, kwargs):
        """One driver command: in the transaction's session, errors mapped to Django's."""
        session = self.connection.transaction_session
        with self.connection.wrap_database_errors:
            try:
                with contextlib.ExitStack() as scope:
                    if self.connection.is_embedded:
                        # mongomock has no locking: one command at a time per
                        # process, so $inc, upserts and conditional updates are
                        # atomic as on a server (threads otherwise got duplicate keys).
                        scope.enter_context(EMBEDDED_COMMANDS)
                    if session is not None:
                        scope.enter_context(session.bind(end_session=False))
                    return command(*args, **kwargs)
            except OperationFailure as error:
                mapped = as_duplicate_key(error) or _as_invalid_pattern(error)
                if mapped is None:
                    raise
                raise mapped from error

    def translator(self, query: NonrelQuery) -> FilterTranslator:
        connection = self.connection
        return FilterTranslator(
            query.pk_column,
            connection.ops.year_bounds,
            connection.ops.time_zone_for,
            date_parts=connection.features.supports_date_part_expressions,
            null_parents=connection.is_embedded,
            day_bounds=connection.ops.day_bounds,
            regex_dialect=connection.features.regex_dialect,
        )

    def filter_document(self, query: NonrelQuery) -> dict[str, Any]:
        if query.matches_nothing:
            return dict(MATCH_NONE)
        return self.translator(query).translate(query.where)

    @staticmethod
    def matches_no_document(filter_doc: dict[str, Any]) -> bool:
        """Whether ``filter_doc`` is the filter that matches nothing (an empty key
        list, a contradiction the translator proved): reads and writes by it
        are answered without a command."""
        return filter_doc == MATCH_NONE

    def sort_spec(self, query: NonrelQuery) -> list[tuple[str, int]]:
        return [
            (field_path(order.path, query.pk_column), -1 if order.descending else 1)
            for order in query.ordering
        ]

    def projection(self, query: NonrelQuery) -> dict[str, int] | None:
        # mongomock projects in Python, in the client process: a whole-row read
        # is cheaper without (the row decoder skips fields the model lacks). A
        # server projects on its side and sends less, so it gets the projection.
        if query.columns is None or (query.whole_rows and self.connection.is_embedded):
            return None
        projection = {ID if c == query.pk_column else c: 1 for c in query.columns}
        if ID not in projection:
            projection[ID] = 0
        return projection

    def describe(self, query: NonrelQuery) -> str:
        return find_text(
            query, self.filter_document(query), self.projection(query), self.sort_spec(query)
        )

    # -- reads ----------------------------------------------------------------
    def fetch(self, query: NonrelQuery) -> Iterator[dict[str, Any]]:
        if query.limit == 0:
            return iter(())
        filter_doc = self.filter_document(query)
        if self.matches_no_document(filter_doc):
            return
        projection = self.projection(query)
        sort = self.sort_spec(query)
        # Built from the documents sent (not translated again), and only if used.
        description = partial(find_text, query, filter_doc, projection, sort)
        kwargs: dict[str, Any] = {"projection": projection}
        if sort:
            kwargs["sort"] = sort
        if query.low:
            kwargs["skip"] = query.low
        if query.limit is not None:
            kwargs["limit"] = query.limit
        collection = self.collection(query.table)
        if query.batch_size:
            kwargs["batch_size"] = query.batch_size
            cursor = self.run(
                description,
                lambda: read_in_batches(collection.find(filter_doc, **kwargs), query.batch_size),
            )
        else:
            cursor = self.run(description, lambda: list(collection.find(filter_doc, **kwargs)))
        pk_column = query.pk_column
        for document in cursor:
            if ID in document:
                document[pk_column] = document.pop(ID)
            yield document

    def count(self, query: NonrelQuery) -> int:
        if query.matches_nothing or query.limit == 0:
            return 0
        filter_doc = self.filter_document(query)
        if self.matches_no_document(filter_doc):
            return 0
        kwargs = {}
        if query.low:
            kwargs["skip"] = query.low
        if query.limit is not None:
            kwargs["limit"] = query.limit
        collection = self.collection(query.table)
        return self.run(
            f"db.{query.table}.countDocuments({filter_doc!r}, {kwargs!r})",
            collection.count_documents,
            filter_doc,
            **kwargs,
        )

    def distinct_values(self, query: NonrelQuery, column: str) -> list[Any]:
        filter_doc = self.filter_document(query)
        if self.matches_no_document(filter_doc):
            return []
        path = ID if column == query.pk_column else column
        collection = self.collection(query.table)
        return self.run(
            f"db.{query.table}.distinct({path!r}, {filter_doc!r})",
            collection.distinct,
            path,
            filter_doc,
        )

    # -- writes ---------------------------------------------------------------
    def insert(
        self,
        table: str,
        rows: Sequence[dict[str, Any]],
        pk_column: str,
        *,
        ignore_conflicts: bool = False,
    ) -> list[Any]:
        documents = []
        for row in rows:
            document = dict(row)
            # The driver would make the ObjectId itself; the journal needs it first.
            document[ID] = document.pop(pk_column) if pk_column in document else ObjectId()
            documents.append(document)
        collection = self.collection(table)
        # On FerretDB the BSON the document check made is sent as it is (the
        # driver does not encode a RawBSONDocument again); mongomock stores dicts,
        # and on MongoDB nothing is checked here.
        ferretdb = not self.connection.is_embedded and self.connection.server_info["ferretdb"]
        codec_options = collection.codec_options if ferretdb else DEFAULT_CODEC_OPTIONS
        encoded = check_documents(self.connection, table, documents, codec_options)
        sent = [RawBSONDocument(data) for data in encoded] if ferretdb and encoded else documents
        undo = self.journal.inserting(table, [document[ID] for document in documents])

        def write() -> None:
            try:
                collection.insert_many(sent, ordered=not ignore_conflicts)
            except BulkWriteError as error:
                self.journal.narrow(
                    undo, written_ids(documents, error.details, ordered=not ignore_conflicts)
                )
                details = error.details.get("writeErrors", [])
                if not details or any(e.get("code") != DUPLICATE_KEY for e in details):
                    raise
                if not ignore_conflicts:
                    # Ordered: every row before the refused one was written.
                    reason = details[0].get("errmsg", "duplicate key")
                    written = documents[: details[0]["index"]]
                    raise PartialInsertError(reason, [d[ID] for d in written]) from error

        self.run(f"db.{table}.insertMany(<{len(documents)} documents>)", write)
        return [document[ID] for document in documents]

    def update(self, query: NonrelQuery, values: dict[str, UpdateValue]) -> int:
        update = self.update_document(query, values)
        filter_doc = self.filter_document(query)
        if self.matches_no_document(filter_doc):
            return 0
        collection = self.collection(query.table)
        self.journal.changing(query.table, filter_doc)
        if "$mul" in update and self.connection.is_embedded:
            return self._multiply_in_python(query.table, filter_doc, update)
        checked = self.skippable_sets(query.table, filter_doc, update)
        result = self.run(
            f"db.{query.table}.updateMany({filter_doc!r}, {update!r})",
            collection.update_many,
            filter_doc,
            update,
        )
        if checked and result.matched_count:
            rewrite_skipped(self, query.table, *checked)
        return result.matched_count

    def update_document(self, query: NonrelQuery, values: dict[str, UpdateValue]) -> dict:
        """The update document writing ``values`` to the rows of ``query``, checked."""
        if query.pk_column in values:
            raise NotSupportedError("MongoDB cannot change a document's primary key in place.")
        if query.low or query.high is not None:
            raise NotSupportedError("update() of a sliced queryset.")
        update: dict[str, dict[str, Any]] = {}
        for column, value in values.items():
            operand = "" if value.operator == "unset" else value.value
            update.setdefault(UPDATE_OPERATORS[value.operator], {})[column] = operand
        check_documents(self.connection, query.table, [update.get("$set", {})])
        return update

    def update_each(self, writes: Sequence[tuple[NonrelQuery, dict[str, UpdateValue]]]) -> int:
        """One ``bulkWrite`` of the updates (see bulk_updates.py); a fallback to one
        command per write runs this class's ``update``, never a subclass's: a claiming
        store calls this with the rows already claimed."""
        return update_each(self, writes, partial(MongoStore.update, self))

    @property
    def skips_equal_documents(self) -> bool:
        """Whether the server may skip a ``$set`` of a document equal by values (skipped_sets)."""
        return not self.connection.is_embedded and self.connection.server_info["ferretdb"]

    def skippable_sets(
        self,
        table: str,
        filter_doc: dict[str, Any],
        update: dict[str, Any],
        ids: list[Any] | None = None,
    ) -> tuple[list[Any], dict[str, Any]] | None:
        """(documents, columns) FerretDB may skip writing, to check after the write
        (skipped_sets.py); None elsewhere. The documents are ``ids``, else the keys of a
        filter that is nothing but a key condition, else those it matches now (one read,
        bookkeeping: the rows are claimed, so these are the rows the write will match)."""
        sets = nested_sets(update)
        if not sets or not self.skips_equal_documents:
            return None
        if ids is None:
            ids = pinned_ids(filter_doc)
        if ids is None:
            collection = self.collection(table)
            ids = self.run(
                f"db.{table}.find({filter_doc!r}, {{'_id': 1}})",
                lambda: [d[ID] for d in collection.find(filter_doc, {ID: 1})],
                bookkeeping=True,
            )
        return ids, sets

    def _multiply_in_python(self, table: str, filter_doc: dict, update: dict) -> int:
        """mongomock lacks ``$mul``: read, multiply and write each matching document.

        The read and the writes run under the one-command-at-a-time lock (see
        ``run``), so no other thread's write lands between them: a product is
        never computed from a value that changed meanwhile.
        """
        with EMBEDDED_COMMANDS:
            return self._multiply_documents(table, filter_doc, update)

    def _multiply_documents(self, table: str, filter_doc: dict, update: dict) -> int:
        factors = update.pop("$mul")
        collection = self.collection(table)
        documents = self.run(
            f"db.{table}.find({filter_doc!r})", lambda: list(collection.find(filter_doc))
        )
        for document in documents:
            changes = dict(update.get("$set", {}))
            for column, factor in factors.items():
                if document.get(column) is not None:
                    changes[column] = document[column] * factor
            increments = update.get("$inc")
            change = {"$set": changes} if changes else {}
            if increments:
                change["$inc"] = increments
            if change:
                self.run(
                    f"db.{table}.updateOne(...)", collection.update_one, {ID: document[ID]}, change
                )
        return len(documents)

    def upsert(
        self,
        table: str,
        pk_column: str,
        pk: Any,
        values: dict[str, Any],
        *,
        insert_only: dict[str, Any] | None = None,
        unset: Sequence[str] = (),
        expected: dict[str, Any] | None = None,
        shard_key: dict[str, Any] | None = None,
    ) -> bool:
        update: dict[str, Any] = {}
        if values:
            update["$set"] = values
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        update["$setOnInsert"] = dict(insert_only or {}) or {ID: pk}
        check_documents(self.connection, table, [{ID: pk, **values, **(insert_only or {})}])
        collection = self.collection(table)

        checked = self.skippable_sets(table, {ID: pk}, update)

        def write(located_by: dict[str, Any]):
            # A sharded cluster targets an upsert by the full shard key: the
            # values the document is stored under, which a save that changes
            # them moves it from (a single-document write, as MongoDB requires).
            filter_doc: dict[str, Any] = {ID: key_equality(pk)}
            shown: dict[str, Any] = {ID: pk}
            for column, value in {**located_by, **(expected or {})}.items():
                filter_doc[column] = {"$eq": value}
                shown[column] = value
            undo = self.journal.changing_keys(table, [pk])
            try:
                result = self.run(
                    f"db.{table}.updateOne({shown!r}, {update!r}, upsert=True)",
                    collection.update_one,
                    filter_doc,
                    update,
                    upsert=True,
                )
            except IntegrityError:
                # One document, refused: nothing was written.
                self.journal.drop(undo)
                raise
            # Matched: the row is the one claimed, and a skip can hide behind a
            # modified count of 1 (another column written), so always check.
            if checked and result.matched_count:
                rewrite_skipped(self, table, *checked)
            return result

        try:
            result = write(shard_key or {})
        except IntegrityError:
            # With a version condition, a duplicate _id means the stored version
            # differs: the server refused the insert and nothing was written.
            if expected and self._version_differs(table, pk, expected):
                raise ConflictError(
                    f"{table} row {pk!r} no longer has {expected!r}; nothing was written. "
                    "Reload it and apply the change again."
                ) from None
            if expected:
                raise
            # Two upserts of a new key at once: the one that lost the insert gets
            # a duplicate key error (FerretDB; MongoDB retries this itself). Now
            # the document exists and the retry updates it; a real unique
            # violation fails again and is raised. The retry filters on the
            # shard key being written: a document moved there since it was
            # loaded is updated rather than duplicated.
            result = write({column: values.get(column) for column in shard_key or {}})
        return result.upserted_id is not None

    def _version_differs(self, table: str, pk: Any, expected: dict[str, Any]) -> bool:
        collection = self.collection(table)
        projection = dict.fromkeys(expected, 1)
        document = self.run(
            f"db.{table}.findOne({{'_id': {pk!r}}}, {projection!r})",
            collection.find_one,
            {ID: key_equality(pk)},
            projection,
        )
        return document is not None and any(
            document.get(column) != value for column, value in expected.items()
        )

    def delete(self, query: NonrelQuery) -> int:
        filter_doc = self.filter_document(query)
        if self.matches_no_document(filter_doc):
            return 0
        collection = self.collection(query.table)
        self.journal.changing(query.table, filter_doc)
        result = self.run(
            f"db.{query.table}.deleteMany({filter_doc!r})", collection.delete_many, filter_doc
        )
        return result.deleted_count

    def delete_all(self, table: str) -> int:
        """Empty ``table`` (flush), keeping its indexes."""
        collection = self.collection(table)
        self.journal.changing(table, {})
        return self.run(f"db.{table}.deleteMany({{}})", collection.delete_many, {}).deleted_count

    # -- integer keys ---------------------------------------------------------
    def allocate_keys(self, table: str, field: Any, count: int) -> list[int]:
        """Integer AutoField keys from a per-table counter, reserved in blocks.

        Keys come from this connection's block first; a batch that finds it
        short reserves what is missing plus a spare block (one ``$inc``, two
        commands on FerretDB) that serves the next rows. The spare block starts
        at ``AUTO_ID_BLOCK`` keys (default 20), doubles with each reservation
        up to ``KEY_BLOCK_GROWTH`` times that, and is at least as large as the
        batch: a connection that keeps saving rows or inserting batches sends a
        counter command ever more rarely (steady state: one command per save,
        at most two per bulk_create batch, where a fixed block cost one more
        command every 20 rows and every batch). The price is a gap: the keys a
        connection still holds when it closes are never used, as with a SQL
        sequence cache. Keys are unique across processes; they are increasing
        within a connection.
        """
        block = self.key_blocks.get(table)
        self.journal.key_block(table, block)
        keys: list[int] = []
        if block and block[0] <= block[1]:
            taken = min(count, block[1] - block[0] + 1)
            keys = list(range(block[0], block[0] + taken))
            block[0] += taken
        missing = count - len(keys)
        if missing:
            size = self.block_sizes.get(table, self.key_block_size)
            self.block_sizes[table] = min(2 * size, KEY_BLOCK_GROWTH * self.key_block_size)
            # A save's first reservation is AUTO_ID_BLOCK keys in all, as a fixed
            # block was; a batch's spare is a whole batch, so every other one is free.
            spare = max(count, size) if count > 1 else size - 1
            first, last = self._reserve(table, missing + spare)
            keys += range(first, first + missing)
            self.key_blocks[table] = [first + missing, last]
        return keys

    def _reserve(self, table: str, count: int) -> tuple[int, int]:
        """(first, last) key of a fresh block of at least ``count`` keys (one ``$inc``).

        FerretDB v1 runs ``$inc`` as a read then a write, so connections
        reserving at the same moment can get overlapping blocks (measured: 800
        concurrent increments gave 139 distinct values; the counter can even go
        back). There keys are reserved in aligned chunks of ``CLAIM_CHUNK`` and
        every chunk is claimed by inserting a document named after it: the
        unique ``_id`` lets one connection win each chunk, and a connection that
        loses any reserves again (its other chunks stay unused: a gap, never a
        duplicate).
        """
        claim = self.connection.server_info["ferretdb"]
        if claim:
            count = -(-count // CLAIM_CHUNK) * CLAIM_CHUNK
        for attempt in range(MAX_RESERVE_ATTEMPTS):
            try:
                last = self._increment(table, count)
                first = last - count + 1
                if claim:
                    self._claim(table, first, last)
                return first, last
            except IntegrityError:
                # A concurrent reservation won a chunk (or created the counter).
                if attempt == MAX_RESERVE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _claim(self, table: str, first: int, last: int) -> None:
        chunks = range((first - 1) // CLAIM_CHUNK, (last - 1) // CLAIM_CHUNK + 1)
        documents = [{ID: f"{table}:{chunk}", "table": table} for chunk in chunks]
        claims = self.collection(KEY_CLAIMS)
        undo = self.journal.inserting(KEY_CLAIMS, [document[ID] for document in documents])

        def insert() -> None:
            try:
                claims.insert_many(documents, ordered=False)
            except BulkWriteError as error:
                # The chunks claimed before are this connection's: only they are undone.
                self.journal.narrow(undo, written_ids(documents, error.details, ordered=False))
                raise IntegrityError(f"key chunks of {table} already claimed") from error

        self.run(
            f"db.{KEY_CLAIMS}.insertMany(<{len(documents)} chunks of {table}>)",
            insert,
            bookkeeping=True,
        )

    def _move_counter(self, table: str, operator: str, amount: int) -> int | None:
        """The counter of ``table`` before ``{operator: amount}`` moved it (None: it
        did not exist, and starts from 0); one command.

        Key allocation is bookkeeping (as the chunk claims on FerretDB are): a SQL
        server assigns keys inside the INSERT, so ``connection.queries`` and
        ``assertNumQueries`` show the insert alone there. Logged, the counter
        command made a project's query counts depend on whether the connection's
        block of keys happened to run out (and on every test's first insert per
        table, whose rollback gives the block back). It is still journaled and
        sent in the transaction's session; a counter move left by a refused
        insert is a gap in the keys, never a repeated key."""
        sequences = self.collection(SEQUENCES)
        document = self.run(
            f"db.{SEQUENCES}.findOneAndUpdate({{'_id': {table!r}}}, "
            f"{{{operator!r}: {{'value': {amount}}}}})",
            sequences.find_one_and_update,
            {ID: table},
            {operator: {"value": amount}},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
            bookkeeping=True,
        )
        return None if document is None else int(document["value"])

    def _increment(self, table: str, count: int) -> int:
        """The counter of ``table`` after adding ``count`` (one command, created at 0)."""
        before = self._move_counter(table, "$inc", count)
        after = (before or 0) + count
        self.journal.counter(table, before, after)
        self.counter_floors[table] = after
        return after

    def note_explicit_keys(self, table: str, keys: Sequence[Any]) -> None:
        """Move the counter past explicit integer keys so allocation never repeats them."""
        numbers = [k for k in keys if isinstance(k, int) and not isinstance(k, bool)]
        if not numbers:
            return
        highest = max(numbers)
        if self.connection.server_info["ferretdb"]:
            # Keep chunks aligned, within BSON's 64-bit integers (a key near the
            # top of BigAutoField's range leaves the counter at its end).
            highest = min(-(-highest // CLAIM_CHUNK) * CLAIM_CHUNK, INT64_MAX)
        block = self.key_blocks.get(table)
        if block and highest >= block[0]:
            self.journal.key_block(table, block)
            del self.key_blocks[table]
        if highest <= self.counter_floors.get(table, 0):
            # Counters only grow (a flush or a rollback forgets the floor), so
            # the counter is past these keys already: no command.
            return
        before = self._move_counter(table, "$max", highest)
        after = highest if before is None else max(before, highest)
        self.journal.counter(table, before, after)
        self.counter_floors[table] = after

    def reset_keys(self, tables: Sequence[str]) -> None:
        """Restart the counters of ``tables``, as a fresh SQL table's (flush).

        Every connection of this process to the same database gives up its
        reserved keys of those tables (they would repeat the restarted ones).
        """
        for table in tables:
            self.journal.key_block(table, self.key_blocks.get(table))
        retire_key_blocks(self.connection.settings_dict, tables)
        if self.connection.server_info["ferretdb"]:
            claims = self.collection(KEY_CLAIMS)
            claimed = {"table": {"$in": list(tables)}}
            self.journal.changing(KEY_CLAIMS, claimed)
            self.run(
                f"db.{KEY_CLAIMS}.deleteMany({claimed!r})",
                claims.delete_many,
                claimed,
            )
        self.journal.removing_counters(list(tables))
        sequences = self.collection(SEQUENCES)
        self.run(
            f"db.{SEQUENCES}.deleteMany({{'_id': {{'$in': {list(tables)!r}}}}})",
            sequences.delete_many,
            {ID: {"$in": list(tables)}},
        )


#: How FerretDB v1 on SQLite reports a write, or an index build, that breaks a
#: unique index: an InternalError (code 1) carrying SQLite's message, where
#: MongoDB sends E11000.
_FERRETDB_UNIQUE = "UNIQUE constraint failed"


#: The server's code for a $regex it cannot compile (MongoDB 4.4+, FerretDB).
INVALID_REGEX = 51091


def _as_invalid_pattern(error: OperationFailure) -> DataError | None:
    """A refused ``$regex`` as Django's DataError, as mongomock's is (filters.py)."""
    if error.code != INVALID_REGEX and "Regular expression is invalid" not in str(error):
        return None
    reason = (error.details or {}).get("errmsg", str(error))
    return DataError(f"{reason}; nothing was read. Check the regex/iregex pattern.")


def as_duplicate_key(error: OperationFailure) -> DuplicateKeyError | None:
    """FerretDB's unique-index failure as the DuplicateKeyError it is, else None.

    Django maps DuplicateKeyError to IntegrityError; left alone, the failure would
    surface as ProgrammingError and code catching IntegrityError would miss it.
    """
    if isinstance(error, DuplicateKeyError) or _FERRETDB_UNIQUE not in str(error):
        return None
    return DuplicateKeyError(str(error), DUPLICATE_KEY, error.details)
