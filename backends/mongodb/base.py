"""DatabaseWrapper for MongoDB: one pymongo (or mongomock) client per connection.

Settings::

    DATABASES = {"default": {
        "ENGINE": "django_nonrel.backends.mongodb",
        "HOST": "mongodb://127.0.0.1:27017",   # or mongodb+srv://..., or mongomock://name
        "NAME": "mydb",
        "OPTIONS": {...},                        # passed to MongoClient
    }}

``mongomock://NAME`` is an in-process store (no server): every connection in
the process that names the same ``NAME`` sees the same data, so threads and
Django's test runner behave as with a server. ``OPTIONS["AUTO_ID_BLOCK"]`` sets
how many integer AutoField keys a connection first reserves at a time (default
20; the block grows as the connection uses it, see ``MongoStore.allocate_keys``);
``OPTIONS["DECIMAL128"] = True`` stores DecimalField as exact Decimal128 (servers
that support it) instead of doubles. ``OPTIONS["TRANSACTIONS"]`` says what
``atomic()`` does (see ``atomicity.py``). ``READ_PREFERENCE``,
``WRITE_CONCERN`` and ``READ_CONCERN`` apply to every command (see
concerns.py). None of these is passed to the client.

Transactions: on a replica set or sharded cluster (detected at connect),
``atomic()`` runs a real multi-document transaction -- a pymongo session
started when Django turns autocommit off, bound around every command the store
sends, committed or aborted with the block. Elsewhere (standalone servers,
FerretDB, mongomock) the server has none; there the store's undo journal
(``undo_journal.py``) rolls the block back, on mongomock:// and test databases
by default. Savepoints are the journal's in both cases.
``features.supports_transactions`` and ``uses_savepoints`` say which applies to
this connection, so that Django and its test runner know.
"""

from __future__ import annotations

import contextlib
import functools
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import debug_transaction
from django.utils.functional import cached_property
from pymongo.client_session import ClientSession
from pymongo.errors import OperationFailure

from django_nonrel.key_checks import check_foreign_keys

from . import database as Database
from .atomicity import TRANSACTION_MODES, Atomicity, choose_atomicity
from .client import DatabaseClient
from .concerns import OPTION_NAMES as CONCERN_OPTIONS
from .concerns import Concerns
from .creation import DatabaseCreation, is_test_database
from .embedded_indexes import apply as build_partial_indexes_as_mongodb
from .embedded_keys import apply as find_by_key_as_mongodb
from .embedded_order import apply as order_nan_as_mongodb
from .features import DatabaseFeatures
from .introspection import DatabaseIntrospection
from .mongo_store import as_duplicate_key
from .mongomock_dates import apply as compute_iso_dates_as_mongodb
from .operations import Command, ConnectionCommand, DatabaseOperations
from .row_claims import RowClaimingStore
from .schema import DatabaseSchemaEditor
from .undo_journal import Scope
from .validation import DatabaseValidation

#: OPTIONS that configure django-nonrel rather than the driver.
BACKEND_OPTIONS = frozenset({"AUTO_ID_BLOCK", "DECIMAL128", "TRANSACTIONS"}) | CONCERN_OPTIONS
#: Labels the server puts on errors worth retrying the whole transaction for.
TRANSIENT_LABEL = "TransientTransactionError"
UNKNOWN_COMMIT_LABEL = "UnknownTransactionCommitResult"
#: In-process mongomock servers by name, shared by every connection in the process.
MOCK_SERVERS: dict[str, object] = {}


@functools.cache
def _one_connections_client(client_class: type) -> type:
    """``client_class`` whose instances compare by identity and know they were closed.

    Each Django connection (one per thread and alias) opens its own client, and
    Django tells connections apart by their ``connection`` attribute. pymongo's
    and mongomock's clients compare equal when they point at the same server,
    so a set of the clients of several threads' connections held one. A closed
    pymongo client refuses commands; a closed mongomock client kept answering,
    so ``is_usable()`` said True for a connection the server had closed.
    """

    def close(self) -> None:
        self.was_closed = True
        client_class.close(self)

    return type(
        client_class.__name__,
        (client_class,),
        {
            "__eq__": object.__eq__,
            "__ne__": object.__ne__,
            "__hash__": object.__hash__,
            "__module__": __name__,
            "__doc__": client_class.__doc__,
            "was_closed": False,
            "close": close,
        },
    )


class Cursor:
    """The cursor Django's management code gets: runs backend Commands, refuses SQL."""

    def __init__(self, connection=None) -> None:
        self.connection = connection

    def execute(self, sql, params=None):
        if isinstance(sql, Command):
            try:
                if isinstance(sql, ConnectionCommand):
                    return sql.run_on(self.connection)
                return sql.run()
            except OperationFailure as error:
                # A unique index built over rows that break it (AddConstraint):
                # IntegrityError, as on SQL, on FerretDB too.
                mapped = as_duplicate_key(error)
                if mapped is None:
                    raise
                raise mapped from error
        raise NotSupportedError(
            "The MongoDB backend does not run SQL. Use the ORM, or "
            "connection.database for raw MongoDB commands."
        )

    def executemany(self, sql, param_list):
        for params in param_list:
            self.execute(sql, params)

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DatabaseWrapper(BaseDatabaseWrapper):
    vendor = "mongodb"
    display_name = "MongoDB"
    Database = Database
    SchemaEditorClass = DatabaseSchemaEditor
    client_class = DatabaseClient
    creation_class = DatabaseCreation
    features_class = DatabaseFeatures
    introspection_class = DatabaseIntrospection
    ops_class = DatabaseOperations
    validation_class = DatabaseValidation

    # Only used for a field's db_type() (None would mean "no column").
    data_types = {
        "AutoField": "int",
        "BigAutoField": "long",
        "SmallAutoField": "int",
        "BinaryField": "binData",
        "BooleanField": "bool",
        "CharField": "string",
        "DateField": "date",
        "DateTimeField": "date",
        "DecimalField": "decimal",
        "DurationField": "long",
        "FileField": "string",
        "FilePathField": "string",
        "FloatField": "double",
        "IntegerField": "int",
        "BigIntegerField": "long",
        "IPAddressField": "string",
        "GenericIPAddressField": "string",
        "JSONField": "object",
        "PositiveBigIntegerField": "long",
        "PositiveIntegerField": "long",
        "PositiveSmallIntegerField": "int",
        "SlugField": "string",
        "SmallIntegerField": "int",
        "TextField": "string",
        "TimeField": "string",
        "UUIDField": "string",
    }
    #: Lookups as SQL text. Nothing runs it: Django renders a condition as SQL
    #: without running it in Index.create_sql() (6.1 compiles an index's condition
    #: there on every backend), and a missing template would make that raise.
    operators = {
        "exact": "= %s",
        "iexact": "LIKE %s",
        "contains": "LIKE %s",
        "icontains": "LIKE %s",
        "regex": "REGEXP %s",
        "iregex": "REGEXP %s",
        "gt": "> %s",
        "gte": ">= %s",
        "lt": "< %s",
        "lte": "<= %s",
        "startswith": "LIKE %s",
        "endswith": "LIKE %s",
        "istartswith": "LIKE %s",
        "iendswith": "LIKE %s",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.store = RowClaimingStore(self)
        #: The pymongo session of the transaction in progress (autocommit off), if any.
        self.session = None

    @property
    def transaction_mode(self) -> str:
        mode = self.settings_dict.get("OPTIONS", {}).get("TRANSACTIONS", "auto")
        if mode not in TRANSACTION_MODES:
            raise ImproperlyConfigured(
                f"OPTIONS['TRANSACTIONS'] must be one of {', '.join(TRANSACTION_MODES)}; "
                f"got {mode!r}."
            )
        return mode

    @property
    def atomicity(self) -> Atomicity:
        """How atomic() rolls back on this connection (see atomicity.py).

        Read afresh each time: Django's test runner turns the database into a
        test database after the connection was made.
        """
        return choose_atomicity(
            self.transaction_mode,
            # Server transactions need a pymongo that binds a session around a command.
            server_transactions=self.features.supports_multi_document_transactions
            and hasattr(ClientSession, "bind"),
            embedded=self.is_embedded,
            test_database=is_test_database(self.settings_dict),
        )

    # -- connecting -----------------------------------------------------------
    def get_connection_params(self) -> dict:
        settings = self.settings_dict
        host = settings.get("HOST") or "mongodb://localhost:27017"
        if not settings.get("NAME"):
            raise ImproperlyConfigured(
                "settings.DATABASES is missing 'NAME' for the MongoDB database to use."
            )
        # Validated with the other settings: ImproperlyConfigured now, not a
        # driver error at the first query.
        self.concerns  # noqa: B018
        options = {k: v for k, v in settings.get("OPTIONS", {}).items() if k not in BACKEND_OPTIONS}
        if settings.get("USER"):
            options.setdefault("username", settings["USER"])
        if settings.get("PASSWORD"):
            options.setdefault("password", settings["PASSWORD"])
        if settings.get("PORT") and "://" not in host:
            options.setdefault("port", int(settings["PORT"]))
        return {"host": host, "options": options}

    def get_new_connection(self, conn_params):
        host = conn_params["host"]
        if urlsplit(host).scheme == "mongomock":
            return self._mongomock_client(host)
        import pymongo

        options = {"tz_aware": False, **conn_params["options"]}
        return _one_connections_client(pymongo.MongoClient)(host, **options)

    @staticmethod
    def _mongomock_client(host: str):
        try:
            import mongomock
            from mongomock.store import ServerStore
        except ImportError as error:
            raise ImproperlyConfigured(
                "mongomock:// needs the mongomock package: pip install django-nonrel[mongodb]"
            ) from error
        order_nan_as_mongodb()
        compute_iso_dates_as_mongodb()
        build_partial_indexes_as_mongodb()
        find_by_key_as_mongodb()
        name = urlsplit(host).netloc or "default"
        server = MOCK_SERVERS.setdefault(name, ServerStore())
        return _one_connections_client(mongomock.MongoClient)(_store=server)

    @cached_property
    def is_embedded(self) -> bool:
        """True for the in-process mongomock:// store (read on every command: cached)."""
        host = self.settings_dict.get("HOST") or ""
        return urlsplit(host).scheme == "mongomock"

    def init_connection_state(self):
        pass

    def create_cursor(self, name=None):
        return Cursor(self)

    @cached_property
    def server_info(self) -> dict:
        """Facts about the server, read once: which product, whether it has
        transactions (replica sets and sharded clusters do), and whether it is
        a ``mongos`` (a sharded cluster's router answers ``hello`` with
        ``msg: "isdbgrid"``)."""
        if self.is_embedded:
            return {"ferretdb": False, "transactions": False, "sharded": False}
        # Read while planning a query: connect as the query would (mongo_store.run).
        self.cursor()
        with self.wrap_database_errors:
            build = self.connection.admin.command("buildInfo")
            hello = self.connection.admin.command("hello")
        sharded = hello.get("msg") == "isdbgrid"
        return {
            "ferretdb": "ferretdbVersion" in build,
            "transactions": bool(hello.get("setName") or sharded),
            "sharded": sharded,
        }

    @cached_property
    def concerns(self) -> Concerns:
        """READ_PREFERENCE, WRITE_CONCERN and READ_CONCERN from OPTIONS, validated."""
        return Concerns.from_options(self.settings_dict.get("OPTIONS", {}))

    @property
    def database(self):
        """The driver's Database object for NAME (raw MongoDB access), with the
        read preference and concerns of OPTIONS. Connected as a query connects
        (``cursor()``: not from an async context, nor in a test that disallows
        this database)."""
        self.cursor()
        return self.connection.get_database(
            self.settings_dict["NAME"], **self.concerns.database_options()
        )

    def check_constraints(self, table_names=None):
        """Foreign keys matching no row raise IntegrityError (``loaddata`` asks),
        checked by queries as Django's SQLite and MySQL backends do."""
        check_foreign_keys(self, table_names)

    def is_usable(self) -> bool:
        if self.connection.was_closed:
            return False
        try:
            self.connection.admin.command("ping")
        except Exception:
            return False
        return True

    def _close(self):
        # Closing inside a transaction rolls it back, as a SQL server does when
        # its client goes away.
        try:
            self.store.journal.rollback()
        finally:
            self._end_session()
            self.store.journal.end()
            if self.connection is not None:
                with self.wrap_database_errors:
                    self.connection.close()

    # -- transactions -----------------------------------------------------------
    # Django turns autocommit off when the outermost atomic() block starts, and
    # commits or rolls back and turns it on again when the block ends. Nested
    # blocks are savepoints: marks in the store's undo journal.
    def _set_autocommit(self, autocommit):
        if autocommit:
            self._end_session()
            self.store.journal.end()
            return
        atomicity = self.atomicity
        if atomicity is Atomicity.SERVER:
            with self.wrap_database_errors:
                self.session = self.connection.start_session()
            self.store.journal.begin(Scope.SAVEPOINTS)
        elif atomicity is Atomicity.JOURNAL:
            self.store.journal.begin(Scope.EVERYTHING)
        elif self.transaction_mode == "required":
            raise NotSupportedError(
                "This MongoDB server has no transactions (it is not a replica set or a "
                "sharded cluster) and OPTIONS['TRANSACTIONS'] is 'required', so atomic() "
                "cannot run. Use a replica set (a single-node one is enough), or set "
                "TRANSACTIONS to 'journal' to roll atomic() back with the undo journal "
                "(no isolation between connections; see docs/mongodb.md)."
            )

    def _start_transaction_under_autocommit(self):
        """How atomic() enters its outermost block (Django calls it when defined).

        Where atomic() has a transaction (the server's, or the undo journal's,
        which rolls the block back as one), ``BEGIN`` is logged in
        ``connection.queries`` and the ``django.db.backends`` logger, and
        ``COMMIT``/``ROLLBACK`` when it ends, as Django's SQL backends log them
        (``debug_transaction``): query counts then match theirs. Where atomic()
        has none (``features.supports_transactions`` is False), nothing is
        logged: no transaction begins or ends.
        """
        with self._transaction_logged("BEGIN"):
            self._set_autocommit(False)

    def _transaction_logged(self, statement: str) -> contextlib.AbstractContextManager:
        """Log ``statement`` (BEGIN, COMMIT, ROLLBACK) around the work it names,
        where atomic() has a transaction on this connection."""
        if self.atomicity is Atomicity.NONE:
            return contextlib.nullcontext()
        return debug_transaction(self, statement)

    @property
    def transaction_session(self):
        """The session to send commands in: one with a transaction started, or None.

        The transaction starts at the first command after autocommit is turned
        off (and again after a commit, as on SQL databases).
        """
        session = self.session
        if session is not None and not session.in_transaction:
            session.start_transaction(**self.concerns.transaction_options())
        return session

    def _commit(self):
        with self._transaction_logged("COMMIT"):
            session = self.session
            if session is not None and session.in_transaction:
                self._commit_session(session)
            # Only now: a commit that failed is rolled back, key blocks included.
            self.store.journal.commit()

    def _commit_session(self, session) -> None:
        with self.wrap_database_errors:
            for attempt in range(3):
                try:
                    session.commit_transaction()
                    return
                except Exception as error:
                    # The server may have committed; committing again is safe.
                    labelled = getattr(error, "has_error_label", lambda label: False)
                    if attempt == 2 or not labelled(UNKNOWN_COMMIT_LABEL):
                        raise

    def _rollback(self):
        with self._transaction_logged("ROLLBACK"):
            session = self.session
            if session is not None and session.in_transaction:
                with self.wrap_database_errors:
                    session.abort_transaction()
            self.store.journal.rollback()

    def _end_session(self):
        session, self.session = self.session, None
        if session is not None:
            if session.in_transaction:
                session.abort_transaction()
            session.end_session()

    # Savepoints are logged as Django's SQL backends log theirs (they execute
    # SAVEPOINT/RELEASE/ROLLBACK TO statements): get_or_create(), nested atomic()
    # and every project's assertNumQueries around them count the same.
    def _savepoint(self, sid):
        with debug_transaction(self, self.ops.savepoint_create_sql(sid)):
            self.store.journal.savepoint(sid)

    def _savepoint_rollback(self, sid):
        with debug_transaction(self, self.ops.savepoint_rollback_sql(sid)):
            self.store.journal.rollback_to(sid)

    def _savepoint_commit(self, sid):
        with debug_transaction(self, self.ops.savepoint_commit_sql(sid)):
            self.store.journal.release(sid)

    def get_database_version(self):
        info = self.connection.server_info()
        return tuple(info.get("versionArray", [0, 0, 0])[:3])

    def check_database_version_supported(self):
        pass
