"""Hostile and unusual input, table-driven: a clear error or the literal behaviour, no half-writes.

Each case names the input, what a user must get on each kind of backend, and
checks that a refused write left the table as it was (``bulk_create`` too).
Runs on every tier; where backends differ on purpose the expectation says so.
"""

from __future__ import annotations

import datetime
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import FieldError, ValidationError
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    ProgrammingError,
    connection,
    transaction,
)

from tests.differential.models import Item
from tests.orm.models import Author, Book, Tag

pytestmark = pytest.mark.django_db

OVERSIZED = "x" * (17 * 1024 * 1024)  # MongoDB refuses documents over 16 MiB
AWARE = datetime.datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=datetime.UTC)
UNTYPED = {
    "day": datetime.date(2024, 5, 1),
    "price": Decimal("1.50"),
    "code": uuid.UUID("12345678123456781234567812345678"),
    "at": datetime.time(12, 30),
    "took": datetime.timedelta(seconds=1),
    "list": [datetime.date(2024, 1, 2)],
}
UNTYPED_STORED = {
    "day": "2024-05-01",
    "price": "1.50",
    "code": "12345678123456781234567812345678",
    "at": "12:30:00",
    "took": 1_000_000,
    "list": ["2024-01-02"],
}


def nested(depth: int) -> dict[str, Any]:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


def is_mongodb() -> bool:
    return connection.vendor == "mongodb"


def is_sql_wire() -> bool:
    """Django's MySQL backend or the SingleStore backend, on the tier's server."""
    return connection.vendor == "mysql"


def is_mariadb() -> bool:
    return is_sql_wire() and connection.mysql_is_mariadb


def is_singlestore_backend() -> bool:
    return is_sql_wire() and "singlestore" in connection.settings_dict["ENGINE"]


def is_ferretdb() -> bool:
    return is_mongodb() and not connection.is_embedded and connection.server_info["ferretdb"]


@dataclass(frozen=True)
class Case:
    """``action`` either raises ``error`` (a class, or a callable deciding per tier) or
    returns what ``check`` accepts."""

    name: str
    action: Callable[[], Any]
    error: Any = None
    check: Callable[[Any], bool] = lambda result: True

    def expected_error(self) -> type[BaseException] | None:
        if self.error is None or isinstance(self.error, type):
            return self.error
        return self.error()


def non_finite_float_error() -> type[BaseException] | None:
    if is_ferretdb() or is_singlestore_backend():
        return DataError
    if is_sql_wire():
        return ProgrammingError  # Django's MySQL backend: mysqlclient's refusal
    return None


def save(**values: Any) -> Item:
    return Item.objects.create(name=values.pop("name", "case"), tags=[], **values)


def reload(item: Item) -> Item:
    return Item.objects.get(pk=item.pk)


CASES = [
    # -- filters: user values are data, never operators -------------------------------
    Case(
        "operator dict as a filter value",
        lambda: list(Item.objects.filter(name={"$ne": None})),
        check=lambda rows: rows == [],
    ),
    Case(
        "operator dict as a filter value under a document key",
        lambda: list(Item.objects.filter(meta__s={"$gt": ""})),
        error=ValueError,
    ),
    Case(
        "$-string compared literally",
        lambda: [i.name for i in Item.objects.filter(name__in=["$where", "$ne"])],
        check=lambda names: names == ["$where"],
    ),
    Case(
        "$-string in a pattern lookup",
        lambda: [i.name for i in Item.objects.filter(name__startswith="$wh")],
        check=lambda names: names == ["$where"],
    ),
    Case(
        "regex metacharacters in contains",
        lambda: list(Item.objects.filter(name__contains=".*")),
        check=lambda rows: rows == [],
    ),
    # -- document keys ------------------------------------------------------------------
    Case("dict key with a dot", lambda: save(meta={"a.b": 1}), error=ValueError),
    Case("dict key starting with $", lambda: save(meta={"$set": {"x": 1}}), error=ValueError),
    Case("nested dict key starting with $", lambda: save(meta={"a": {"$y": 1}}), error=ValueError),
    Case(
        "dict key with a dot in a filter",
        lambda: list(Item.objects.filter(**{"meta__a.b": 1})),
        error=FieldError,
    ),
    Case(
        "deeply nested document (90 levels) round-trips",
        lambda: reload(save(meta=nested(90))).meta,
        # MariaDB's JSON_VALID() (the CHECK Django puts on JSON columns) stops at
        # depth 32: the server refuses the row.
        error=lambda: IntegrityError if is_mariadb() else None,
        check=lambda meta: meta == nested(90),
    ),
    Case("dict key with NUL", lambda: save(meta={"a\x00b": 1}), error=ValueError),
    Case("nested dict key with NUL", lambda: save(meta={"a": [{"b\x00": 1}]}), error=ValueError),
    # -- untyped values (DictField()/ListField() without an inner field) ----------------
    Case("set in an untyped dict", lambda: save(meta={"v": {1, 2}}), error=ValueError),
    Case("object() in an untyped dict", lambda: save(meta={"v": object()}), error=ValueError),
    Case("complex in an untyped dict", lambda: save(meta={"v": [1j]}), error=ValueError),
    Case(
        "integer beyond 64 bits in an untyped dict",
        lambda: reload(save(meta={"v": 2**70})).meta,
        # BSON integers are 64-bit; JSON numbers have no such limit.
        error=lambda: ValueError if is_mongodb() else None,
        check=lambda meta: meta == {"v": 2**70},
    ),
    Case(
        "date, Decimal, UUID, time and timedelta in an untyped dict read back as JSON text",
        lambda: reload(save(meta=UNTYPED)).meta,
        check=lambda meta: meta == UNTYPED_STORED,
    ),
    Case(
        "aware datetime in an untyped dict",
        lambda: reload(save(meta={"at": AWARE})).meta["at"],
        # MongoDB keeps a date (read back aware, in UTC); SQL JSON keeps ISO 8601 text.
        check=lambda at: at == AWARE if is_mongodb() else at == AWARE.isoformat(),
    ),
    # -- regular expressions ------------------------------------------------------------
    Case(
        "invalid regex",
        lambda: list(Item.objects.filter(name__regex="(unclosed")),
        # SQL backends each report it their own way (SQLite: OperationalError from its
        # REGEXP function, MariaDB: a server error); MongoDB stores all raise DataError.
        error=lambda: DataError if is_mongodb() else DatabaseError,
    ),
    Case(
        "invalid iregex on a document key",
        lambda: list(Item.objects.filter(meta__s__iregex="[a-")),
        error=lambda: DataError if is_mongodb() else DatabaseError,
    ),
    # -- sizes ----------------------------------------------------------------------------
    Case(
        "document over 16 MiB",
        lambda: save(note=OVERSIZED),
        error=lambda: DataError if is_mongodb() else None,
        check=lambda item: len(reload(item).note) == len(OVERSIZED),
    ),
    Case(
        "bulk_create with one document over 16 MiB",
        lambda: Item.objects.bulk_create(
            [Item(name="ok", tags=[]), Item(name="big", note=OVERSIZED, tags=[])]
        ),
        error=lambda: DataError if is_mongodb() else None,
        check=lambda items: Item.objects.filter(name__in=["ok", "big"]).count() == 2,
    ),
    Case(
        "__in with 100,000 values",
        lambda: Item.objects.filter(name__in=[f"n{i}" for i in range(99_999)] + ["$where"]).count(),
        check=lambda count: count == 1,
    ),
    # -- keys -----------------------------------------------------------------------------
    Case(
        "invalid ObjectId in a filter",
        lambda: list(Tag.objects.filter(pk="nothex")),
        error=ValidationError,
    ),
    Case("invalid ObjectId in get()", lambda: Tag.objects.get(pk="zz"), error=ValidationError),
    # -- numbers --------------------------------------------------------------------------
    Case(
        "NaN in a FloatField",
        lambda: reload(save(ratio=float("nan"))).ratio,
        # SQLite stores NaN as NULL (stock Django); FerretDB cannot store it; SQL FLOAT
        # has no NaN (mysqlclient refuses it, the SingleStore backend says why).
        error=lambda: non_finite_float_error(),
        check=lambda ratio: (ratio is None) if connection.vendor == "sqlite" else math.isnan(ratio),
    ),
    Case(
        "infinity in a FloatField",
        lambda: reload(save(ratio=float("-inf"))).ratio,
        error=lambda: non_finite_float_error(),
        check=lambda ratio: ratio == float("-inf"),
    ),
    Case(
        "infinity inside a document",
        lambda: reload(save(meta={"x": [1.0, float("inf")]})).meta,
        # JSON has no infinity: SQL JSON columns refuse it (Django's JSON_VALID check).
        error=lambda: DataError if is_ferretdb() else None if is_mongodb() else IntegrityError,
        check=lambda meta: meta == {"x": [1.0, float("inf")]},
    ),
    Case("NaN in a DecimalField", lambda: save(price=Decimal("NaN")), error=ValidationError),
    Case(
        "infinity in a DecimalField", lambda: save(price=Decimal("Infinity")), error=ValidationError
    ),
    # -- text -----------------------------------------------------------------------------
    Case(
        "lone surrogate in text (not encodable as UTF-8)",
        lambda: save(name="\ud800"),
        error=UnicodeEncodeError,  # as stock Django on SQLite: Python's codec refuses it
    ),
    Case(
        "bytes in a CharField are stored as their text form",
        lambda: reload(save(name=b"\xff\xfe")).name,
        check=lambda name: name == "b'\\xff\\xfe'",
    ),
    Case(
        "NUL and non-BMP characters round-trip",
        lambda: reload(save(name="a\x00b🙂")).name,
        check=lambda name: name == "a\x00b🙂",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input(case: Case):
    Item.objects.create(name="$where", tags=[], meta={"s": "x"})
    before = sorted(Item.objects.values_list("pk", "name"))
    error = case.expected_error()
    if error is not None:
        # A savepoint, so that on SQL the test's transaction survives the error.
        with pytest.raises(error) as raised, transaction.atomic():
            case.action()
        assert str(raised.value), "the error must say what went wrong"
        # Nothing half-written.
        assert sorted(Item.objects.values_list("pk", "name")) == before
    else:
        assert case.check(case.action())


@pytest.mark.parametrize(
    "data",
    [
        {"$where": "x"},
        {"a.b": 1},
        {"a": [{"$x": 1}]},
        {"a": {"b": [[{"c.d": 1}]]}},
        {"nul\x00": 1},
    ],
    ids=["$-key", "dotted key", "$-key in a list", "dotted key deep in lists", "NUL in a key"],
)
def test_json_field_keys_mongodb_cannot_store_are_refused_before_writing(data):
    """Django's JSONField: one rule on every MongoDB store (mongomock stored such keys,
    FerretDB refused them with a server error); SQL databases store them."""
    author = Author.objects.create(name="json keys")
    if not is_mongodb():
        book = Book.objects.create(title="t", author=author, data=data)
        assert Book.objects.get(pk=book.pk).data == data
        return
    # Savepoints, as in test_bad_input: an error inside save() breaks the test's
    # transaction (Django's rule; test databases have one on every store).
    with pytest.raises(DataError, match="JSONField"), transaction.atomic():
        Book.objects.create(title="t", author=author, data=data)
    with pytest.raises(DataError, match="JSONField"), transaction.atomic():
        Book.objects.bulk_create(
            [Book(title="ok", author=author), Book(title="t", author=author, data=data)]
        )
    book = Book.objects.create(title="u", author=author)
    with pytest.raises(DataError, match="JSONField"), transaction.atomic():
        Book.objects.filter(pk=book.pk).update(data=data)
    assert list(Book.objects.values_list("title", "data")) == [("u", {})]


def test_validation_reports_untyped_values_no_backend_stores():
    """full_clean() and forms run the field's clean(): the same refusal as a ValidationError."""
    field = Item._meta.get_field("meta")
    with pytest.raises(ValidationError, match="set"):
        field.clean({"v": {1, 2}}, None)
    with pytest.raises(ValidationError, match="NUL"):
        field.clean({"v": [{"a\x00": 1}]}, None)
    assert field.clean({"v": datetime.date(2024, 1, 1)}, None) == {"v": datetime.date(2024, 1, 1)}


def test_aware_datetimes_in_untyped_lists_and_nested_dicts():
    item = save(meta={"a": {"b": [AWARE]}})
    stored = reload(item).meta["a"]["b"][0]
    assert stored == (AWARE if is_mongodb() else AWARE.isoformat())
    if is_mongodb():
        assert stored.tzinfo is not None
        assert list(Item.objects.filter(meta__a__b__0=AWARE).values_list("pk", flat=True)) == [
            item.pk
        ]
