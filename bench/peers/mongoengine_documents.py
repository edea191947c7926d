"""The bench shapes as MongoEngine documents (imported only where MongoEngine is installed).

Idiomatic MongoEngine: ObjectId keys, ``EmbeddedDocument`` for the nested parts,
a ``ReferenceField`` for the entry's blog; collections prefixed ``mongoengine_``.
"""

from __future__ import annotations

from typing import Any

import mongoengine as me

from bench.shapes import LARGE_FLAT_GROUPS

#: The connection alias the documents use (``bench.peers.mongoengine_peer`` connects it).
ALIAS = "bench-peer"
COMMON = {"db_alias": ALIAS, "auto_create_index": False}


class SmallFlat(me.Document):
    meta = {**COMMON, "collection": "mongoengine_smallflat"}
    name = me.StringField(max_length=50)
    email = me.StringField(max_length=100)
    age = me.IntField()
    score = me.FloatField()
    active = me.BooleanField()


def _large_flat_fields() -> dict[str, Any]:
    """30 scalar fields of five types, as in ``bench.models.LargeFlat``."""
    fields: dict[str, Any] = {"meta": {**COMMON, "collection": "mongoengine_largeflat"}}
    for group in range(LARGE_FLAT_GROUPS):
        fields[f"text{group}"] = me.StringField(max_length=100)
        fields[f"number{group}"] = me.IntField()
        fields[f"ratio{group}"] = me.FloatField()
        fields[f"flag{group}"] = me.BooleanField()
        fields[f"stamp{group}"] = me.DateTimeField()
    return fields


LargeFlat = type("LargeFlat", (me.Document,), _large_flat_fields())


class Geo(me.EmbeddedDocument):
    lat = me.FloatField()
    lng = me.FloatField()


class Address(me.EmbeddedDocument):
    street = me.StringField(max_length=100)
    city = me.StringField(max_length=50)
    zip_code = me.StringField(max_length=10)
    geo = me.EmbeddedDocumentField(Geo)


class Item(me.EmbeddedDocument):
    sku = me.StringField(max_length=20)
    quantity = me.IntField()
    price = me.FloatField()


class LargeNested(me.Document):
    meta = {**COMMON, "collection": "mongoengine_largenested"}
    name = me.StringField(max_length=50)
    tags = me.ListField(me.StringField(max_length=20))
    address = me.EmbeddedDocumentField(Address)
    items = me.EmbeddedDocumentListField(Item)
    attributes = me.DictField()


class Blog(me.Document):
    meta = {**COMMON, "collection": "mongoengine_blog"}
    name = me.StringField(max_length=50)


class Entry(me.Document):
    meta = {**COMMON, "collection": "mongoengine_entry"}
    blog = me.ReferenceField(Blog)
    title = me.StringField(max_length=100)
    rank = me.IntField()


def large_nested(**row: Any) -> LargeNested:
    address = dict(row["address"], geo=Geo(**row["address"]["geo"]))
    items = [Item(**item) for item in row["items"]]
    return LargeNested(**{**row, "address": Address(**address), "items": items})


SHAPES = {"small flat": SmallFlat, "large flat": LargeFlat, "large nested": LargeNested}
BUILDERS = {"small flat": SmallFlat, "large flat": LargeFlat, "large nested": large_nested}
