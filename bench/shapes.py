"""The rows of each document shape, as plain values (no Django, no driver).

Kept free of Django imports so that a peer running under another Django
(``bench.peers.official_worker``) builds exactly the same rows.
"""

from __future__ import annotations

import datetime
from typing import Any

#: Number of (text, integer, float, boolean, datetime) groups in LargeFlat.
LARGE_FLAT_GROUPS = 6

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
    for group in range(LARGE_FLAT_GROUPS):
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


#: Shape name -> row maker.
MAKERS = {"small flat": small_flat, "large flat": large_flat, "large nested": large_nested}
