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
from bench.shapes import large_flat, large_nested, small_flat

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
