"""Deterministic rows for each shape, as model instances, documents and SQL rows.

One ``values`` dict per row (nested parts as plain dicts, datetimes aware in
UTC) is turned into what each variant hands its driver. The conversions run
in untimed setup: a user of the raw driver builds dicts just as an ORM user
builds instances.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from bench import models

EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
CITIES = ("Paris", "Lyon", "Oslo", "Lima", "Kyiv", "Rome", "Bern", "Riga")
TAGS = ("red", "green", "blue", "tall", "short", "new", "used", "rare")


def small_flat(index: int) -> dict[str, Any]:
    return {
        "name": f"user{index:06d}",
        "email": f"user{index}@example.com",
        "age": 18 + index % 60,
        "score": (index * 7919 % 1000) / 10,
        "active": index % 3 != 0,
    }


def large_flat(index: int) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for group in range(models.LARGE_FLAT_GROUPS):
        values[f"text{group}"] = f"text {group} of row {index}"
        values[f"number{group}"] = index * (group + 1)
        values[f"ratio{group}"] = index / (group + 1.5)
        values[f"flag{group}"] = (index + group) % 2 == 0
        values[f"stamp{group}"] = EPOCH + datetime.timedelta(minutes=index, seconds=group)
    return values


def large_nested(index: int) -> dict[str, Any]:
    return {
        "name": f"doc{index:06d}",
        "tags": [TAGS[(index + k) % len(TAGS)] for k in range(3)],
        "address": {
            "street": f"{index} Main Street",
            "city": CITIES[index % len(CITIES)],
            "zip_code": f"{index % 100000:05d}",
            "geo": {"lat": index % 90 + 0.5, "lng": index % 180 + 0.25},
        },
        "items": [
            {"sku": f"sku-{index}-{k}", "quantity": k + 1, "price": 9.99 * (k + 1)}
            for k in range(5)
        ],
        "attributes": {"color": TAGS[index % 3], "size": index % 5, "rare": index % 10 == 0},
    }


SHAPES = {
    "small flat": (models.SmallFlat, small_flat),
    "large flat": (models.LargeFlat, large_flat),
    "large nested": (models.LargeNested, large_nested),
}


def values(shape: str, count: int, start: int = 0) -> list[dict[str, Any]]:
    make = SHAPES[shape][1]
    return [make(index) for index in range(start, start + count)]


def instance(model, row: dict[str, Any]):
    """A model instance for ``row``; nested dicts become embedded instances."""
    if model is models.LargeNested:
        address = dict(row["address"])
        address["geo"] = models.Geo(**address["geo"])
        row = {
            **row,
            "address": models.Address(**address),
            "items": [models.Item(**item) for item in row["items"]],
        }
    return model(**row)


def _naive_utc(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value


def document(row: dict[str, Any]) -> dict[str, Any]:
    """The document a pymongo user inserts (naive UTC datetimes, as BSON keeps them)."""
    return {key: _naive_utc(value) for key, value in row.items()}


def sql_params(row: dict[str, Any]) -> tuple:
    """Parameters for a raw INSERT: nested values as JSON text, datetimes naive UTC."""
    return tuple(
        json.dumps(value) if isinstance(value, dict | list) else _naive_utc(value)
        for value in row.values()
    )


def insert_sql(model, columns: list[str]) -> str:
    table = model._meta.db_table
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
