"""The schema migrations declared, recorded beside the data (``django_nonrel_schema``).

A MongoDB collection has no columns: documents carry whatever keys they were
written with, and nothing on the server says that ``name`` is a
``CharField(max_length=30)`` or that ``id`` is the primary key stored as
``_id``. Introspection (``get_table_description``, ``get_primary_key_column``,
``get_relations``, ``inspectdb``) needs exactly that, so the schema editor
records it: one document per collection, keyed by the collection's name::

    {"_id": "app_author",
     "columns": [{"name": "id", "type": "int", "internal_type": "AutoField",
                  "null": False, "primary_key": True, ...}, ...],
     "indexes": {"app_author_email_idx": {"key": [["email", 1]], "unique": False, ...}}}

``columns`` follow the model's field order; ``indexes`` holds every index name
Django declared on the collection (see ``index_set``: MongoDB keeps one index
per key pattern, so two Django names for the same keys share one server index).

The record is written by the same migration step that changes the collection
(create_model, add/remove/alter_field, alter_db_table, delete_model, index and
constraint operations). Collections no migration created -- written by other
programs, or migrated before this record existed -- have none; introspection
then infers their columns from a sample of documents (``introspection``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field, Value

#: The collection holding one record per migrated collection.
SCHEMA = "django_nonrel_schema"

#: The internal type a key pointing at a field of this type is stored as, as
#: Django's rel_db_type does (a key to an AutoField is a plain integer).
KEY_TYPES = {
    "AutoField": "IntegerField",
    "BigAutoField": "BigIntegerField",
    "SmallAutoField": "SmallIntegerField",
    "ObjectIdAutoField": "ObjectIdField",
}


def column_entry(field: Field, connection) -> dict[str, Any]:
    """What the record keeps about ``field``'s column."""
    target = field.target_field if field.is_relation and field.concrete else field
    internal_type = target.get_internal_type()
    if target is not field:
        internal_type = KEY_TYPES.get(internal_type, internal_type)
    entry: dict[str, Any] = {
        "name": field.column,
        "type": field.db_type(connection),
        "internal_type": internal_type,
        "null": bool(field.null) and not field.primary_key,
        "primary_key": bool(field.primary_key),
        "max_length": target.max_length,
        "precision": getattr(target, "max_digits", None),
        "scale": getattr(target, "decimal_places", None),
        "default": recorded_default(field),
    }
    if target is not field:
        entry["relation"] = [target.model._meta.db_table, target.column]
    return entry


def recorded_default(field: Field) -> str | None:
    """``db_default`` as text: the backend applies it on insert (MongoDB has no
    column defaults), and introspection shows it as SQL backends show theirs."""
    if not field.has_db_default():
        return None
    expression = field._db_default_expression
    return str(expression.value if isinstance(expression, Value) else expression)


def table_entries(model, connection) -> list[dict[str, Any]]:
    """The record of every column of ``model``'s own collection, in field order
    (the columns of a CompositePrimaryKey are marked as the key)."""
    key_fields = model._meta.pk_fields
    entries = []
    for field in model._meta.local_concrete_fields:
        entry = column_entry(field, connection)
        entry["primary_key"] = field in key_fields
        entries.append(entry)
    return entries


class SchemaRecord:
    """Reads and writes the records of one database.

    The methods that change a record return nothing and are meant to run as a
    schema editor command (so that ``sqlmigrate`` shows them and
    ``collect_sql`` skips them).
    """

    def __init__(self, database) -> None:
        self.collection = database[SCHEMA]

    def read(self, table: str) -> dict[str, Any] | None:
        return self.collection.find_one({"_id": table})

    def columns(self, table: str) -> list[dict[str, Any]] | None:
        """The recorded columns of ``table``, or None when nothing was recorded."""
        record = self.read(table)
        return None if record is None or "columns" not in record else record["columns"]

    def indexes(self, table: str) -> dict[str, dict[str, Any]]:
        record = self.read(table)
        return {} if record is None else record.get("indexes", {})

    def create(self, table: str, columns: list[dict[str, Any]]) -> None:
        """A new collection's record (its indexes are recorded as they are created)."""
        self.collection.replace_one(
            {"_id": table}, {"_id": table, "columns": columns, "indexes": {}}, upsert=True
        )

    def drop(self, table: str) -> None:
        self.collection.delete_one({"_id": table})

    def rename(self, old_table: str, new_table: str) -> None:
        record = self.read(old_table)
        if record is None:
            return
        record["_id"] = new_table
        self.collection.replace_one({"_id": new_table}, record, upsert=True)
        self.collection.delete_one({"_id": old_table})

    def add_column(self, table: str, entry: dict[str, Any]) -> None:
        """Append ``entry`` (replacing a column of the same name) to a recorded table."""
        self._edit_columns(table, lambda columns: [*_without(columns, entry["name"]), entry])

    def remove_column(self, table: str, name: str) -> None:
        self._edit_columns(table, lambda columns: _without(columns, name))

    def replace_column(self, table: str, old_name: str, entry: dict[str, Any]) -> None:
        """``old_name``'s column becomes ``entry``, at the same position."""

        def replace(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
            replaced = [entry if column["name"] == old_name else column for column in columns]
            return replaced if any(c["name"] == old_name for c in columns) else [*columns, entry]

        self._edit_columns(table, replace)

    def _edit_columns(self, table: str, change) -> None:
        # Only recorded tables change: a partial record of a collection created
        # before the record existed would hide the columns its documents show.
        record = self.read(table)
        if record is not None and "columns" in record:
            self._replace({**record, "columns": change(record["columns"])})

    def set_indexes(self, table: str, indexes: dict[str, dict[str, Any]]) -> None:
        """Record the index names Django declared on ``table`` (creating a record if needed)."""
        record = self.read(table)
        if record is None:
            self.collection.update_one({"_id": table}, {"$set": {"indexes": indexes}}, upsert=True)
        else:
            self._replace({**record, "indexes": indexes})

    def _replace(self, record: dict[str, Any]) -> None:
        # The whole record, not a $set of one field: FerretDB v1 skips a $set of a
        # document equal by values in order, keys ignored (skipped_sets.py), so an
        # index renamed with its definition unchanged would keep its old name.
        self.collection.replace_one({"_id": record["_id"]}, record)


def _without(columns: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [column for column in columns if column["name"] != name]
