"""What exists in the database: collections, their columns, indexes and key counters.

Columns come from two sources (``get_table_description``):

- the record migrations keep (``schema_record``): every column a migration
  created, in field order, with its Django type, ``max_length``, precision,
  nullability and relation -- what ``inspectdb`` and Django's schema tests read;
- a sample of the collection's first ``SAMPLE_SIZE`` documents: top-level keys
  the record does not list (written by other programs, or the whole collection
  when no migration created it), typed by the BSON type their values share and
  nullable when a sampled document lacks the key or holds null.

The document key ``_id`` is the primary key column: its recorded name (``id``,
``city_id``, ...), or ``id`` for a collection without a record (``_id`` if
its documents also have an ``id`` key). Indexes come from ``listIndexes``
plus the names Django declared on the same keys (``index_set``); MongoDB
enforces no foreign keys or CHECK constraints, so none are reported, but the
relations migrations recorded are (``get_relations``, for ``inspectdb``).
"""

from __future__ import annotations

import datetime
from collections import namedtuple
from decimal import Decimal
from typing import Any

from bson import Decimal128, Int64, ObjectId
from django.db import ProgrammingError
from django.db.backends.base.introspection import BaseDatabaseIntrospection, TableInfo
from django.db.backends.base.introspection import FieldInfo as BaseFieldInfo
from django.db.models import DO_NOTHING

from .index_set import ID, ID_INDEX, CollectionIndexes, IndexSpec
from .mongo_store import KEY_CLAIMS, SEQUENCES
from .schema_record import SCHEMA, SchemaRecord
from .version_claims import VERSION_CLAIMS

#: Collections of the backend's own bookkeeping, never listed as tables.
BOOKKEEPING = frozenset({SEQUENCES, KEY_CLAIMS, VERSION_CLAIMS, SCHEMA})
#: Documents read (in natural order) to infer the columns a record does not list.
SAMPLE_SIZE = 1000
INT32 = 2**31
#: ``internal_type``: the recorded Django type; ``primary_key``: the column is ``_id``.
FieldInfo = namedtuple(
    "FieldInfo", [*BaseFieldInfo._fields, "comment", "internal_type", "primary_key"]
)
#: Django 6.1 reports the database-level on_delete of each relation; MongoDB has none.
RELATIONS_HAVE_ON_DELETE = hasattr(BaseDatabaseIntrospection, "on_delete_types")
#: Field types stored as another's column, reported as that one (as SQL backends
#: report a FileField's varchar column as a CharField).
STORED_AS = {
    "FileField": "CharField",
    "FilePathField": "CharField",
    "SlugField": "CharField",
    "UUIDField": "CharField",
    "IPAddressField": "CharField",
}
#: django-nonrel's own field types, by the dotted path inspectdb writes for them.
OWN_FIELDS = {
    "ListField": "django_nonrel.fields.ListField",
    "SetField": "django_nonrel.fields.SetField",
    "DictField": "django_nonrel.fields.DictField",
    "EmbeddedModelField": "django_nonrel.fields.DictField",
    "ObjectIdField": "django_nonrel.backends.mongodb.fields.ObjectIdField",
    "ObjectIdAutoField": "django_nonrel.backends.mongodb.fields.ObjectIdAutoField",
}


def bson_type(value: Any) -> str | None:
    """The BSON type name of a decoded value (None for null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Int64):
        return "long"
    if isinstance(value, int):
        return "int" if -INT32 <= value < INT32 else "long"
    for kind, name in (
        (float, "double"),
        (str, "string"),
        (datetime.datetime, "date"),
        (ObjectId, "objectId"),
        (dict, "object"),
        (list, "array"),
        (bytes, "binData"),
        ((Decimal128, Decimal), "decimal"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def common_type(types: set[str]) -> str:
    """One type for the values of a key: theirs, a wider number, or ``mixed``."""
    if len(types) == 1:
        return next(iter(types))
    if types <= {"int", "long"}:
        return "long"
    if types <= {"int", "long", "double"}:
        return "double"
    return "mixed"


class DatabaseIntrospection(BaseDatabaseIntrospection):
    #: Django field per BSON type of sampled values (``mixed`` is not here:
    #: inspectdb then writes a TextField marked "This field type is a guess.").
    data_types_reverse = {
        "string": "TextField",
        "int": "IntegerField",
        "long": "BigIntegerField",
        "double": "FloatField",
        "bool": "BooleanField",
        "date": "DateTimeField",
        "decimal": "DecimalField",
        "binData": "BinaryField",
        "object": "JSONField",
        "array": "JSONField",
        "objectId": OWN_FIELDS["ObjectIdField"],
    }

    @property
    def record(self) -> SchemaRecord:
        return SchemaRecord(self.connection.database)

    def get_field_type(self, data_type, description):
        """The recorded Django type, else the one for the sampled BSON type."""
        internal_type = description.internal_type
        if internal_type is None:
            if description.primary_key and data_type == "objectId":
                return OWN_FIELDS["ObjectIdAutoField"]
            return super().get_field_type(data_type, description)
        internal_type = STORED_AS.get(internal_type, internal_type)
        return OWN_FIELDS.get(internal_type, internal_type)

    def get_table_list(self, cursor):
        names = self.connection.database.list_collection_names()
        return [
            TableInfo(name, "t")
            for name in sorted(names)
            if name not in BOOKKEEPING and not name.startswith("system.")
        ]

    # -- columns ----------------------------------------------------------------
    def get_table_description(self, cursor, table_name):
        recorded = self.record.columns(table_name)
        database = self.connection.database
        if recorded is None and table_name not in database.list_collection_names():
            raise ProgrammingError(f"The collection {table_name!r} does not exist.")
        sample = list(self.connection.database[table_name].find({}, limit=SAMPLE_SIZE))
        described = [self._recorded(entry) for entry in recorded or ()]
        known = {column.name for column in described}
        if recorded is None:
            (pk,) = self._key_columns(None, sample)
            described.append(self._sampled(pk, [d.get(ID) for d in sample], len(sample), True))
        keys: dict[str, list[Any]] = {}
        for document in sample:
            for key, value in document.items():
                if key != ID and key not in known:
                    keys.setdefault(key, []).append(value)
        described += [
            self._sampled(key, values, len(sample), False) for key, values in keys.items()
        ]
        return described

    @staticmethod
    def _recorded(entry: dict[str, Any]) -> FieldInfo:
        return FieldInfo(
            name=entry["name"],
            type_code=entry["type"],
            # inspectdb reads max_length from display_size, Django's tests from both.
            display_size=entry.get("max_length"),
            internal_size=entry.get("max_length"),
            precision=entry.get("precision"),
            scale=entry.get("scale"),
            null_ok=entry.get("null", True),
            default=entry.get("default"),
            collation=None,
            comment=None,
            internal_type=entry.get("internal_type"),
            primary_key=entry.get("primary_key", False),
        )

    @staticmethod
    def _sampled(name: str, values: list[Any], sampled: int, primary_key: bool) -> FieldInfo:
        types = {t for t in map(bson_type, values) if t is not None}
        return FieldInfo(
            name=name,
            type_code=common_type(types) if types else "null",
            display_size=None,
            internal_size=None,
            precision=None,
            scale=None,
            null_ok=not primary_key and (len(values) < sampled or None in values),
            default=None,
            collation=None,
            comment=None,
            internal_type=None,
            primary_key=primary_key,
        )

    @staticmethod
    def _key_columns(
        recorded: list[dict[str, Any]] | None, sample: list[dict[str, Any]]
    ) -> list[str]:
        """The primary key's columns: one is stored as ``_id``; the columns of a
        CompositePrimaryKey are keys of their own (``_id`` is then an ObjectId)."""
        if recorded is not None:
            return [column["name"] for column in recorded if column.get("primary_key")]
        return [ID if any("id" in document for document in sample) else "id"]

    def _table_key_columns(self, table_name: str) -> list[str]:
        recorded = self.record.columns(table_name)
        sample = [] if recorded is not None else self._key_sample(table_name)
        return self._key_columns(recorded, sample)

    def _key_sample(self, table_name: str) -> list[dict[str, Any]]:
        return list(self.connection.database[table_name].find({}, {"id": 1}, limit=SAMPLE_SIZE))

    # -- keys, relations, counters ------------------------------------------------
    def get_sequences(self, cursor, table_name, table_fields=()):
        auto_types = ("AutoField", "BigAutoField", "SmallAutoField")
        if table_fields:
            columns = [f.column for f in table_fields if f.get_internal_type() in auto_types]
        else:
            recorded = self.record.columns(table_name) or []
            columns = [
                c["name"]
                for c in recorded
                if c.get("primary_key") and c.get("internal_type") in auto_types
            ]
        return [{"table": table_name, "column": column} for column in columns]

    def get_relations(self, cursor, table_name):
        """The relations migrations recorded (MongoDB enforces none): for inspectdb."""
        relations = {}
        for column in self.record.columns(table_name) or ():
            if column.get("relation"):
                to_table, to_column = column["relation"]
                relation = (to_column, to_table)
                relations[column["name"]] = (
                    (*relation, DO_NOTHING) if RELATIONS_HAVE_ON_DELETE else relation
                )
        return relations

    def get_constraints(self, cursor, table_name):
        """Every index on the server, and every name Django declared on the same keys."""
        indexes = CollectionIndexes(self.connection.database, self.record, table_name)
        server = indexes.on_server()
        key_columns = self._table_key_columns(table_name)
        constraints = {name: self._constraint(spec, key_columns) for name, spec in server.items()}
        for name, spec in indexes.declared().items():
            if name not in server and any(s.serves(spec) for s in server.values()):
                constraints[name] = self._constraint(spec, key_columns)
        return constraints

    @staticmethod
    def _constraint(spec: IndexSpec, key_columns: list[str]) -> dict[str, Any]:
        kinds = {order for _, order in spec.keys if isinstance(order, str)}
        id_column = key_columns[0] if len(key_columns) == 1 else None
        columns = [id_column if key == ID and id_column else key for key in spec.columns]
        if len(key_columns) == 1:
            primary_key = spec.name == ID_INDEX
        else:
            primary_key = bool(key_columns) and spec.unique and columns == key_columns
        return {
            "columns": columns,
            "orders": ["DESC" if order == -1 else "ASC" for _, order in spec.keys],
            "primary_key": primary_key,
            "unique": spec.unique,
            "foreign_key": None,
            "check": False,
            "index": True,
            # Text, hashed and geo indexes say their kind; B-tree ones are Django's "idx".
            "type": kinds.pop() if len(kinds) == 1 else "idx",
            "definition": None,
            "options": None,
        }
