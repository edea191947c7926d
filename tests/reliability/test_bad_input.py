"""Hostile and unusual input, table-driven: a clear error or the literal behaviour, no half-writes.

Each case names the input, what a user must get on each kind of backend, and
checks that a refused write left the table as it was (``bulk_create`` too).
Runs on every tier; where backends differ on purpose the expectation says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import FieldError, ValidationError
from django.db import (
    DataError,
    IntegrityError,
    ProgrammingError,
    connection,
    transaction,
)

from tests.differential.models import Item
from tests.orm.models import Tag

pytestmark = pytest.mark.django_db

OVERSIZED = "x" * (17 * 1024 * 1024)  # MongoDB refuses documents over 16 MiB


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
