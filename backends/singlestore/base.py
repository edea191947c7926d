"""DatabaseWrapper for SingleStore on the ``singlestoredb`` driver.

Settings are django-singlestore's::

    DATABASES = {"default": {
        "ENGINE": "django_nonrel.backends.singlestore",
        "HOST": "127.0.0.1", "PORT": 3306, "USER": "root", "PASSWORD": "...",
        "NAME": "mydb",
        "OPTIONS": {"dialect": "singlestore"},  # or "mysql"; others go to the driver
    }}

``OPTIONS["dialect"]`` chooses the SQL: ``"singlestore"`` (default) renders
SingleStore's DDL and functions; ``"mysql"`` renders their MySQL equivalents so
the same backend, with the same rule checks, runs against MariaDB or MySQL for
local development and for this project's integration tests. In ``"mysql"`` the
connection's ``vendor`` is ``"mysql"`` so Django's MySQL SQL (``as_mysql()``)
applies; in ``"singlestore"`` it is ``"singlestore"`` and the compiler falls back
to the ``as_mysql()`` SQL where no ``as_singlestore()`` exists (see compiler.py).

Nothing here talks to the server until a query needs it: SQL rendering in the
singlestore dialect uses the dialect's known facts, so ``sqlmigrate`` output and
``schema_editor(collect_sql=True)`` need no server.
"""

from __future__ import annotations

import contextlib
import math
import os

import singlestoredb as Database
from django.core.exceptions import ImproperlyConfigured
from django.db import DataError, IntegrityError, OperationalError
from django.db.backends import utils as backend_utils
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.asyncio import async_unsafe
from django.utils.functional import cached_property
from django.utils.regex_helper import _lazy_re_compile
from singlestoredb.mysql.constants import FIELD_TYPE
from singlestoredb.mysql.converters import conversions

from .client import DatabaseClient
from .creation import DatabaseCreation
from .features import DatabaseFeatures
from .integrity import check_foreign_keys
from .introspection import DatabaseIntrospection
from .operations import DatabaseOperations
from .row_writer import SingleStoreRowWriter
from .schema import DatabaseSchemaEditor
from .singlestore_ddl import SingleStoreSchemaEditor
from .table_storage import SKIP_AUTOCOMMIT_ENV, StorageSettings
from .validation import DatabaseValidation

SINGLESTORE = "singlestore"
MYSQL = "mysql"
DIALECTS = (SINGLESTORE, MYSQL)
#: OPTIONS that configure the backend rather than singlestoredb.connect().
BACKEND_OPTIONS = frozenset(
    {"dialect", "isolation_level", "table_storage_type", "table_storage_types"}
)
#: The MySQL release whose SQL SingleStore speaks (for Django's MySQL SQL paths).
SINGLESTORE_MYSQL_VERSION = (8, 0, 32)
#: Server error: the database named in NAME does not exist (yet).
UNKNOWN_DATABASE = 1049

# TIME columns come back as timedelta; Django's TimeField wants datetime.time.
django_conversions = {**conversions, FIELD_TYPE.TIME: backend_utils.typecast_time}
server_version_re = _lazy_re_compile(r"(\d{1,2})\.(\d{1,2})\.(\d{1,2})")


def _refuse_non_finite(args) -> None:
    """Refuse NaN and infinity before they reach the driver.

    SQL has no such FLOAT values: the driver either refuses NaN with a bare
    ProgrammingError or renders ``-inf`` as ``-infe0``, which the server reads
    as an unknown column name. A DataError naming the value is what a user
    can act on, and nothing is sent.
    """
    if not args:
        return
    values = args.values() if isinstance(args, dict) else args
    for value in values:
        if type(value) is float and not math.isfinite(value):
            raise DataError(
                f"{value!r} cannot be stored in SingleStore or MySQL: SQL FLOAT/DOUBLE columns "
                "have no NaN or infinity. Store NULL instead, or a finite sentinel value."
            )


class CursorWrapper:
    """The driver's cursor, with errors the server files under OperationalError
    that are integrity violations re-raised as IntegrityError (as Django's MySQL
    backend does)."""

    codes_for_integrityerror = (
        1048,  # Column cannot be null
        1690,  # BIGINT UNSIGNED value is out of range
        3819,  # CHECK constraint is violated
        4025,  # CHECK constraint failed
    )

    def __init__(self, cursor) -> None:
        self.cursor = cursor

    def execute(self, query, args=None):
        _refuse_non_finite(args)
        # args None: the query is sent as written (no % interpolation).
        return self._mapping_errors(self.cursor.execute, query, args)

    def executemany(self, query, args):
        # Any iterable, as with Django's other drivers (singlestoredb wants len()).
        rows = list(args or ())
        for row in rows:
            _refuse_non_finite(row)
        return self._mapping_errors(self.cursor.executemany, query, rows)

    def _mapping_errors(self, method, query, args):
        try:
            return method(query, args)
        except Database.OperationalError as exc:
            if exc.args[0] in self.codes_for_integrityerror:
                raise IntegrityError(*exc.args) from exc
            raise

    def __getattr__(self, attr):
        return getattr(self.cursor, attr)

    def __iter__(self):
        return iter(self.cursor)


class DataTypes(dict):
    """Column types; UUIDField's is looked up on use, so other DDL needs no server.

    UUIDField is ``char(32)`` on SingleStore and on MySQL, ``uuid`` on MariaDB
    10.7+ (where a generated column cannot CAST to char): only that needs the
    server's version, and only in the mysql dialect.
    """

    def __init__(self, types: dict, connection) -> None:
        super().__init__(types)
        self.connection = connection

    def __getitem__(self, key):
        if key == "UUIDField" and self.connection.features.has_native_uuid_field:
            return "uuid"
        return super().__getitem__(key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default


class DatabaseWrapper(BaseDatabaseWrapper):
    vendor = SINGLESTORE

    _data_types = {
        "AutoField": "integer AUTO_INCREMENT",
        "BigAutoField": "bigint AUTO_INCREMENT",
        "BinaryField": "longblob",
        "BooleanField": "bool",
        "CharField": "varchar(%(max_length)s)",
        "DateField": "date",
        "DateTimeField": "datetime(6)",
        "DecimalField": "numeric(%(max_digits)s, %(decimal_places)s)",
        "DurationField": "bigint",
        "FileField": "varchar(%(max_length)s)",
        "FilePathField": "varchar(%(max_length)s)",
        "FloatField": "double precision",
        "IntegerField": "integer",
        "BigIntegerField": "bigint",
        "IPAddressField": "char(15)",
        "GenericIPAddressField": "char(39)",
        "JSONField": "json",
        "OneToOneField": "integer",
        "PositiveBigIntegerField": "bigint UNSIGNED",
        "PositiveIntegerField": "integer UNSIGNED",
        "PositiveSmallIntegerField": "smallint UNSIGNED",
        "SlugField": "varchar(%(max_length)s)",
        "SmallAutoField": "smallint AUTO_INCREMENT",
        "SmallIntegerField": "smallint",
        "TextField": "longtext",
        "TimeField": "time(6)",
        "UUIDField": "char(32)",
    }
    # Types that take no default and no full-width index (Django's MySQL backend's list).
    _limited_data_types = (
        "tinyblob",
        "blob",
        "mediumblob",
        "longblob",
        "tinytext",
        "text",
        "mediumtext",
        "longtext",
        "json",
    )
    operators = {
        "exact": "= %s",
        "iexact": "LIKE %s",
        "contains": "LIKE BINARY %s",
        "icontains": "LIKE %s",
        "gt": "> %s",
        "gte": ">= %s",
        "lt": "< %s",
        "lte": "<= %s",
        "startswith": "LIKE BINARY %s",
        "endswith": "LIKE BINARY %s",
        "istartswith": "LIKE %s",
        "iendswith": "LIKE %s",
    }
    pattern_esc = r"REPLACE(REPLACE(REPLACE({}, '\\', '\\\\'), '%%', '\%%'), '_', '\_')"
    pattern_ops = {
        "contains": "LIKE BINARY CONCAT('%%', {}, '%%')",
        "icontains": "LIKE CONCAT('%%', {}, '%%')",
        "startswith": "LIKE BINARY CONCAT({}, '%%')",
        "istartswith": "LIKE CONCAT({}, '%%')",
        "endswith": "LIKE BINARY CONCAT('%%', {})",
        "iendswith": "LIKE CONCAT('%%', {})",
    }
    isolation_levels = {"read uncommitted", "read committed", "repeatable read", "serializable"}

    Database = Database
    SchemaEditorClass = DatabaseSchemaEditor
    client_class = DatabaseClient
    creation_class = DatabaseCreation
    features_class = DatabaseFeatures
    introspection_class = DatabaseIntrospection
    ops_class = DatabaseOperations
    validation_class = DatabaseValidation

    def __init__(self, settings_dict, alias="default"):
        dialect = settings_dict.get("OPTIONS", {}).get("dialect", SINGLESTORE)
        if dialect not in DIALECTS:
            raise ImproperlyConfigured(
                f"DATABASES[{alias!r}]['OPTIONS']['dialect'] is {dialect!r}; use "
                "'singlestore' (a SingleStore server) or 'mysql' (MariaDB/MySQL, for "
                "development and tests)."
            )
        #: "singlestore" or "mysql": which SQL this connection renders.
        self.dialect = dialect
        if dialect == MYSQL:
            # Django's as_mysql() SQL and vendor checks apply to this connection.
            self.vendor = MYSQL
        else:
            # SingleStore's ALTER grammar (singlestore_ddl.py).
            self.SchemaEditorClass = SingleStoreSchemaEditor
        super().__init__(settings_dict, alias)

    @property
    def is_singlestore(self) -> bool:
        return self.dialect == SINGLESTORE

    @property
    def display_name(self) -> str:
        """The server's name, for messages (e.g. "MariaDB 10.5 or later is required")."""
        if self.is_singlestore:
            return "SingleStore"
        return "MariaDB" if self.mysql_is_mariadb else "MySQL"

    @cached_property
    def data_types(self):
        return DataTypes(self._data_types, self)

    @cached_property
    def storage_settings(self) -> StorageSettings:
        """What OPTIONS say about table storage (read by the rules, DDL and checks)."""
        return StorageSettings.from_options(self.settings_dict["OPTIONS"], self.alias)

    @cached_property
    def store(self) -> SingleStoreRowWriter:
        """What django-nonrel's upsert patch writes through (save() in one statement)."""
        return SingleStoreRowWriter(self)

    # -- connection ----------------------------------------------------------

    def get_connection_params(self):
        settings_dict = self.settings_dict
        kwargs = {
            "conv": django_conversions,
            "charset": "utf8mb4",
            "results_type": "tuples",
            # UPDATE reports the rows it matched, not only those it changed.
            "client_found_rows": True,
            # JSON columns come back as text; Django's JSONField decodes it.
            "parse_json": False,
            "autocommit": True,
            # Like mysqlclient (and Django's SQL): params=() still interpolates, so
            # "%%" becomes "%"; params=None sends the query as written.
            "interpolate_query_with_empty_args": True,
        }
        if settings_dict["USER"]:
            kwargs["user"] = settings_dict["USER"]
        if settings_dict["NAME"]:
            kwargs["database"] = settings_dict["NAME"]
        if settings_dict["PASSWORD"]:
            kwargs["password"] = settings_dict["PASSWORD"]
        if settings_dict["HOST"]:
            kwargs["host"] = settings_dict["HOST"]
        if settings_dict["PORT"]:
            kwargs["port"] = int(settings_dict["PORT"])
        options = dict(settings_dict["OPTIONS"])
        default_isolation = "read committed"
        isolation_level = options.get("isolation_level", default_isolation)
        if isolation_level:
            isolation_level = isolation_level.lower()
            allowed = {default_isolation} if self.is_singlestore else self.isolation_levels
            if isolation_level not in allowed:
                # Django's MySQL backend's message.
                raise ImproperlyConfigured(
                    f"Invalid transaction isolation level '{isolation_level}' specified.\n"
                    f"Use one of {', '.join(repr(level) for level in sorted(allowed))}, or None."
                )
        self.isolation_level = isolation_level
        kwargs.update({k: v for k, v in options.items() if k not in BACKEND_OPTIONS})
        return kwargs

    @async_unsafe
    def get_new_connection(self, conn_params):
        return Database.connect(**conn_params)

    def init_connection_state(self):
        super().init_connection_state()
        assignments = []
        if not self.is_singlestore:
            if self.features.is_sql_auto_is_null_enabled:
                assignments.append("SET SQL_AUTO_IS_NULL = 0")
            if self.isolation_level:
                assignments.append(
                    f"SET SESSION TRANSACTION ISOLATION LEVEL {self.isolation_level.upper()}"
                )
            # AVG() and division keep 30 decimals instead of 4, so Avg() of integers
            # gives the float Django's other backends give (4 / 3, not 1.3333).
            assignments.append("SET SESSION div_precision_increment = 30")
        if assignments:
            with self.cursor() as cursor:
                # One statement each: the driver does not enable multi-statements.
                for assignment in assignments:
                    cursor.execute(assignment)

    @async_unsafe
    def create_cursor(self, name=None):
        return CursorWrapper(self.connection.cursor())

    def _rollback(self):
        with contextlib.suppress(Database.NotSupportedError):
            BaseDatabaseWrapper._rollback(self)

    def _set_autocommit(self, autocommit):
        # SingleStore Helios refuses reference-table writes inside explicit
        # transactions on child aggregators; django-singlestore's switch leaves
        # the session in autocommit.
        if os.environ.get(SKIP_AUTOCOMMIT_ENV):
            return
        with self.wrap_database_errors:
            self.connection.autocommit(autocommit)

    def disable_constraint_checking(self):
        # No FOREIGN KEY constraints are created, so there is nothing to disable.
        return False

    def enable_constraint_checking(self):
        pass

    def check_constraints(self, table_names=None):
        # No FOREIGN KEY constraints: the models say where the keys point (integrity.py).
        check_foreign_keys(self, table_names)

    def is_usable(self):
        try:
            # No silent reconnect: a new session would lose the transaction and
            # the session settings (Django then opens a fresh connection itself).
            self.connection.ping(reconnect=False)
        except Database.Error:
            return False
        return True

    # -- server facts (read on first need, never to render DDL in singlestore) --

    def get_database_version(self):
        return self.mysql_version

    @cached_property
    def mysql_server_data(self) -> dict:
        try:
            with self.temporary_connection() as cursor:
                return self.read_server_data(cursor)
        except OperationalError as exc:
            if exc.args[0] != UNKNOWN_DATABASE:
                raise
        # Server facts need no database: read them before the test database exists.
        with self._nodb_cursor() as cursor:
            return self.read_server_data(cursor)

    def read_server_data(self, cursor) -> dict:
        if self.is_singlestore:
            cursor.execute("SELECT @@memsql_version, @@sql_mode")
            version, sql_mode = cursor.fetchone()
            return {
                "version": version,
                "sql_mode": sql_mode,
                "sql_auto_is_null": False,
                "lower_case_table_names": False,
                "has_zoneinfo_database": True,
            }
        cursor.execute(
            "SELECT VERSION(), @@sql_mode, @@sql_auto_is_null, @@lower_case_table_names, "
            "CONVERT_TZ('2001-01-01 01:00:00', 'UTC', 'UTC') IS NOT NULL"
        )
        row = cursor.fetchone()
        return {
            "version": row[0],
            "sql_mode": row[1],
            "sql_auto_is_null": bool(row[2]),
            "lower_case_table_names": bool(row[3]),
            "has_zoneinfo_database": bool(row[4]),
        }

    @cached_property
    def mysql_server_info(self) -> str:
        if self.is_singlestore:
            return ".".join(map(str, SINGLESTORE_MYSQL_VERSION))
        return self.mysql_server_data["version"]

    @cached_property
    def mysql_version(self) -> tuple[int, ...]:
        match = server_version_re.match(self.mysql_server_info)
        if not match:
            raise ImproperlyConfigured(
                f"Unable to determine the server version from {self.mysql_server_info!r}"
            )
        return tuple(int(x) for x in match.groups())

    @cached_property
    def mysql_is_mariadb(self) -> bool:
        return not self.is_singlestore and "mariadb" in self.mysql_server_info.lower()

    @cached_property
    def sql_mode(self) -> set[str]:
        sql_mode = self.mysql_server_data["sql_mode"]
        return set(sql_mode.split(",") if sql_mode else ())
