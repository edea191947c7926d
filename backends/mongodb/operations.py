"""Value conversion between Django fields and BSON, and management commands.

Storage forms (chosen so that sorting and range filters on the server agree
with Python's ordering):

=============  ==============================================================
DateTimeField  BSON datetime in UTC (naive); BSON keeps milliseconds, so
               microseconds are truncated on save
DateField      BSON datetime at midnight
TimeField      "HH:MM:SS.ffffff" string (sorts like the time)
DecimalField   double, read back quantized to the field's decimal_places
               (as Django's SQLite backend does); exact Decimal128 with
               OPTIONS["DECIMAL128"] = True on servers that have it
               (MongoDB, DocumentDB; not FerretDB v1 or mongomock)
UUIDField      32-character hex string (Django's default form)
DurationField  integer microseconds (Django's default form)
JSONField      the native document/array/scalar
=============  ==============================================================
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from typing import Any

from bson.decimal128 import Decimal128
from django.conf import settings
from django.db import DataError
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models.expressions import Col
from django.utils import timezone
from django.utils.dateparse import parse_time

from django_nonrel.deletion import cascade_by_key_sets
from django_nonrel.fields.nested import invalid_key_at
from django_nonrel.operations import NonrelOperations

#: ``datetime.combine(date, time, tzinfo)``: a datetime with the fields of both.
COMBINE = datetime.datetime.combine
#: The decimal digits a double holds faithfully (DecimalField values stored as doubles).
DOUBLE_DIGITS = decimal.Context(prec=15)


class Command(str):
    """A management command step (flush, sequence reset) run through a cursor.

    Django's flush and sequence-reset code executes "SQL" strings through
    ``connection.cursor()``; the MongoDB cursor runs these objects and refuses
    real SQL. The text is what ``manage.py sqlflush`` prints.
    """

    def __new__(cls, text: str, run):
        command = super().__new__(cls, text)
        command.run = run
        return command


class ConnectionCommand(Command):
    """A Command made without a connection (from a schema editor *class*'s template),
    run on the connection whose cursor executes it."""

    def __new__(cls, text: str, run_on):
        command = super().__new__(cls, text, None)
        command.run_on = run_on
        return command


class DatabaseOperations(NonrelOperations, BaseDatabaseOperations):
    compiler_module = "django_nonrel.backends.mongodb.compiler"

    def quote_name(self, name: str) -> str:
        return name

    def max_name_length(self) -> int:
        return 120

    def bulk_batch_size(self, fields, objs) -> int:
        return self.connection.features.max_keys_per_command

    def max_in_list_size(self) -> int:
        return self.connection.features.max_keys_per_command

    def no_limit_value(self):
        return None

    def take_over_cascade(self, collector, objs, **collect_kwargs) -> bool:
        """Cascade on key sets when no deleted model has delete signals (see
        ``django_nonrel.deletion``); otherwise Django's collector runs."""
        return cascade_by_key_sets(collector, objs, **collect_kwargs)

    # -- Python -> BSON -----------------------------------------------------------
    def adapt_datefield_value(self, value):
        if value is None or isinstance(value, datetime.datetime):
            return value
        return datetime.datetime(value.year, value.month, value.day)

    def adapt_datetimefield_value(self, value):
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if timezone.is_aware(value):
            if not settings.USE_TZ:
                raise ValueError(
                    "MongoDB backend does not support timezone-aware datetimes when USE_TZ "
                    "is False."
                )
            # In the database's TIME_ZONE (UTC unless DATABASES sets one, for data
            # other programs write in local time), as Django's SQL backends store.
            value = timezone.make_naive(value, self.connection.timezone)
        # The value BSON stores (pymongo truncates to the millisecond). Sent as
        # stored, a datetime key is the same key in every structure the driver
        # keeps: mongomock indexes documents by the _id it was given, so a key
        # with microseconds could not be deleted or rolled back by its stored value.
        excess = value.microsecond % 1000
        return value.replace(microsecond=value.microsecond - excess) if excess else value

    def datetime_zone_stored_as_given(self):
        """UTC, when this connection stores datetimes in UTC (USE_TZ, no TIME_ZONE).

        pymongo and mongomock store an aware datetime as its UTC instant (BSON
        milliseconds), exactly what they store for the naive UTC value
        ``adapt_datetimefield_value`` makes of it; skipping that step is most
        of a bulk insert's client time on rows with datetimes.
        """
        zone = self.connection.timezone
        return zone if zone is datetime.UTC else None

    def adapt_timefield_value(self, value):
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if timezone.is_aware(value):
            raise ValueError("MongoDB backend does not support timezone-aware times.")
        return value.isoformat(timespec="microseconds")

    @property
    def stores_decimal128(self) -> bool:
        return bool(self.connection.settings_dict.get("OPTIONS", {}).get("DECIMAL128", False))

    def adapt_decimalfield_value(self, value, max_digits=None, decimal_places=None):
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if self.stores_decimal128:
            return Decimal128(decimal.Decimal(value))
        return float(value)

    def adapt_json_value(self, value, encoder):
        # Round-trip through JSON: values that are not JSON fail with Django's TypeError
        # (as on SQL backends), and an encoder's custom types become plain data.
        text = json.dumps(value, cls=encoder)
        try:
            data = json.loads(text)
        except ValueError as exc:
            # A faulty encoder: SQL databases refuse such text with a DataError or a
            # check-constraint error, and so does this backend rather than a bare
            # JSONDecodeError from deep inside a save.
            raise DataError(f"The JSON encoder {encoder!r} produced invalid JSON: {exc}") from exc
        # A document key with "." or a leading "$" is a path or an operator to
        # MongoDB: mongomock stored it, FerretDB refused it with a server error,
        # MongoDB accepts it in some commands only. One rule, before anything is sent.
        found = invalid_key_at(data)
        if found:
            raise DataError(
                f"A JSONField value cannot be stored in MongoDB, whose document keys "
                f"its keys become: {found}. Nothing was written."
            )
        return data

    def adapt_ipaddressfield_value(self, value):
        return value or None

    # -- BSON -> Python -----------------------------------------------------------
    def get_db_converters(self, expression) -> list:
        converters = super().get_db_converters(expression)
        internal_type = expression.output_field.get_internal_type()
        if internal_type == "DecimalField":
            return [self.decimal_converter(expression), *converters]
        converter = {
            "DateField": self.convert_datefield_value,
            "DateTimeField": self.convert_datetimefield_value,
            "TimeField": self.convert_timefield_value,
            "UUIDField": self.convert_uuidfield_value,
            "JSONField": self.convert_jsonfield_value,
            "BigIntegerField": self.convert_bigintegerfield_value,
            "PositiveBigIntegerField": self.convert_bigintegerfield_value,
            "BigAutoField": self.convert_bigintegerfield_value,
        }.get(internal_type)
        return [converter, *converters] if converter else converters

    @staticmethod
    def convert_bigintegerfield_value(value, expression, connection):
        """pymongo reads BSON int64 as ``bson.Int64``; the field's value is a plain int."""
        return int(value) if type(value) not in (int, type(None)) else value

    @staticmethod
    def convert_durationfield_value(value, expression, connection):
        """Stored microseconds as a ``timedelta``; a value computed in Python (an
        expression over aggregates, ``default=Now() - Now()``) already is one."""
        if value is None or isinstance(value, datetime.timedelta):
            return value
        return datetime.timedelta(0, 0, value)

    @staticmethod
    def convert_datefield_value(value, expression, connection):
        if isinstance(value, datetime.datetime):
            return value.date()
        return value

    def convert_datetimefield_value(self, value, expression, connection):
        """A stored (naive, in the connection's zone) datetime made aware, with USE_TZ.

        Runs once per datetime read, so it takes the cheapest equivalent steps:
        ``connection.timezone`` is None without USE_TZ (Django resets it when the
        setting changes), which spares a lazy-settings lookup per value; and a
        plain datetime is made aware in UTC by ``combine`` (one C constructor),
        several times faster than ``replace(tzinfo=...)`` on CPython 3.11.
        """
        if type(value) is datetime.datetime:
            if value.tzinfo is not None:
                return value
            zone = self.connection.timezone
            if zone is datetime.UTC:
                return COMBINE(value, value.time(), zone)
        elif not isinstance(value, datetime.datetime) or value.tzinfo is not None:
            return value
        else:
            zone = self.connection.timezone
        return value if zone is None else timezone.make_aware(value, zone)

    @staticmethod
    def convert_timefield_value(value, expression, connection):
        if isinstance(value, str):
            return parse_time(value)
        return value

    @staticmethod
    def decimal_converter(expression):
        """Decimal128 -> Decimal; doubles -> Decimal quantized to the field's places."""
        field = expression.output_field
        places = getattr(field, "decimal_places", None)
        context = decimal.Context(prec=getattr(field, "max_digits", None) or 28)
        quantum = decimal.Decimal(1).scaleb(-places) if places is not None else None
        if not isinstance(expression, Col):
            # An aggregate (Sum of prices) can exceed the field's max_digits.
            quantum = None

        def convert(value, expression, connection):
            if isinstance(value, Decimal128):
                return value.to_decimal()
            if isinstance(value, float | int) and not isinstance(value, bool):
                # A double holds 15 significant decimal digits faithfully; the
                # digits past them are the binary approximation's (0.1 is stored
                # as 0.1000000000000000055...), which a field with more
                # decimal_places would otherwise show. As Django's SQLite backend.
                number = DOUBLE_DIGITS.create_decimal_from_float(float(value))
                return number.quantize(quantum, context=context) if quantum else number
            return value

        return convert

    @staticmethod
    def convert_uuidfield_value(value, expression, connection):
        if isinstance(value, str):
            return uuid.UUID(value)
        return value

    @staticmethod
    def convert_jsonfield_value(value, expression, connection):
        # JSONField.from_db_value parses text, as every SQL backend returns text.
        return value if value is None else json.dumps(value)

    # -- lookups --------------------------------------------------------------
    def year_bounds(self, year: int, field) -> list[Any]:
        """Stored [first, last] instants of ``year`` for a date or datetime field."""
        if field is not None and field.get_internal_type() == "DateTimeField":
            return self.year_lookup_bounds_for_datetime_field(year)
        return self.year_lookup_bounds_for_date_field(year)

    def day_bounds(self, day: datetime.date, field) -> list[Any]:
        """Stored [first, last] instants of ``day`` for a datetime field: the day in the
        current time zone with USE_TZ (as SQL backends read ``__date``), else as stored."""
        first = datetime.datetime.combine(day, datetime.time.min)
        last = datetime.datetime.combine(day, datetime.time.max)
        if settings.USE_TZ:
            zone = timezone.get_current_timezone()
            first, last = timezone.make_aware(first, zone), timezone.make_aware(last, zone)
        return [self.adapt_datetimefield_value(first), self.adapt_datetimefield_value(last)]

    def time_zone_for(self, field) -> str | None:
        """The zone date parts of ``field`` are extracted in (datetimes only, with USE_TZ)."""
        if settings.USE_TZ and field is not None and field.get_internal_type() == "DateTimeField":
            return timezone.get_current_timezone_name()
        return None

    # -- management -----------------------------------------------------------
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        """Empty ``tables`` and restart their key counters, whatever ``reset_sequences``.

        An emptied collection then hands out keys as a freshly created SQL table
        does, so tests that hard-code keys (``get(pk=1)``) pass after
        ``TransactionTestCase``'s flush too (it flushes without reset_sequences).
        """
        store = self.connection.store
        commands = [
            Command(f"db.{table}.deleteMany({{}})", lambda t=table: store.delete_all(t))
            for table in tables
        ]
        if tables:
            commands.append(self._reset_command(list(tables)))
        return commands

    def sequence_reset_by_name_sql(self, style, sequences):
        tables = [sequence["table"] for sequence in sequences]
        return [self._reset_command(tables)] if tables else []

    def sequence_reset_sql(self, style, model_list):
        return []

    def _reset_command(self, tables: list[str]) -> Command:
        store = self.connection.store
        return Command(f"reset sequences of {', '.join(tables)}", lambda: store.reset_keys(tables))

    def last_executed_query(self, cursor, sql, params):
        return str(sql)
