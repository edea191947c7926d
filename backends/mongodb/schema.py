"""Migrations on MongoDB: collections, indexes, and data changes a schema change implies.

MongoDB has no columns, so most of a migration is about indexes
(``db_index``, ``unique``, ``unique_together``, ``Meta.indexes``,
``UniqueConstraint``) and about existing documents: AddField writes the default
into documents that lack the field, RemoveField unsets it, a column rename
renames it in every document, and a nullable field made NOT NULL gets its
default where it was null. Type changes leave stored values as they are.

With ``collect_sql=True`` (``manage.py sqlmigrate``) nothing runs: the commands
are collected as readable MongoDB shell lines.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db import NotSupportedError
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import F, Index, UniqueConstraint
from django.db.models.expressions import OrderBy

from django_nonrel.sharding import ShardKey

from . import sharded_collections
from .mongo_store import KEY_CLAIMS, SEQUENCES
from .operations import Command
from .reserved_keys import retire_key_blocks


class DatabaseSchemaEditor(BaseDatabaseSchemaEditor):
    """Schema changes as collection and index commands."""

    def execute(self, sql, params=()):
        if isinstance(sql, Command):
            return self._run(str(sql), sql.run)
        raise NotSupportedError(
            "Migrations on MongoDB cannot run SQL (RunSQL, raw DDL). Use RunPython with "
            "schema_editor.connection.database for raw MongoDB commands."
        )

    def quote_value(self, value):
        return repr(value)

    def prepare_default(self, value):
        return value

    def _run(self, description: str, action) -> Any:
        if self.collect_sql:
            self.collected_sql.append(f"{description};")
            return None
        return action()

    @property
    def database(self):
        return self.connection.database

    # -- collections ------------------------------------------------------------
    def create_model(self, model):
        table = model._meta.db_table
        self._run(f"db.createCollection({table!r})", lambda: self._create_collection(table))
        for keys, options in self._model_indexes(model):
            self._create_index(table, keys, **options)
        for index in model._meta.indexes:
            if isinstance(index, ShardKey):
                sharded_collections.shard_collection(self, model, index)
        for field in model._meta.local_many_to_many:
            if field.remote_field.through._meta.auto_created:
                self.create_model(field.remote_field.through)

    def _create_collection(self, table: str) -> None:
        if table not in self.database.list_collection_names():
            self.database.create_collection(table)

    def delete_model(self, model):
        table = model._meta.db_table
        self._run(f"db.{table}.drop()", lambda: self.database.drop_collection(table))
        self._run(
            f"db.{SEQUENCES}.deleteOne({{'_id': {table!r}}})", lambda: self._drop_counter(table)
        )
        self._run(
            f"db.{KEY_CLAIMS}.deleteMany({{'table': {table!r}}})",
            lambda: self.database[KEY_CLAIMS].delete_many({"table": table}),
        )
        for field in model._meta.local_many_to_many:
            if field.remote_field.through._meta.auto_created:
                self.delete_model(field.remote_field.through)

    def _drop_counter(self, table: str) -> None:
        """The table is gone: its counter, and every connection's reserved keys of it
        (a table made again under this name starts its keys at 1)."""
        self.database[SEQUENCES].delete_one({"_id": table})
        retire_key_blocks(self.connection.settings_dict, [table])

    def alter_db_table(self, model, old_db_table, new_db_table):
        if old_db_table == new_db_table:
            return

        def rename():
            if old_db_table in self.database.list_collection_names():
                self.database[old_db_table].rename(new_db_table)
            sequences = self.database[SEQUENCES]
            counter = sequences.find_one({"_id": old_db_table})
            if counter:
                sequences.insert_one({"_id": new_db_table, "value": counter["value"]})
                sequences.delete_one({"_id": old_db_table})
            retire_key_blocks(self.connection.settings_dict, [old_db_table, new_db_table])

        self._run(f"db.{old_db_table}.renameCollection({new_db_table!r})", rename)

    def alter_db_table_comment(self, model, old_db_table_comment, new_db_table_comment):
        pass

    def alter_db_tablespace(self, model, old_db_tablespace, new_db_tablespace):
        pass

    # -- fields -----------------------------------------------------------------
    def add_field(self, model, field):
        if field.many_to_many:
            if field.remote_field.through._meta.auto_created:
                self.create_model(field.remote_field.through)
            return
        if not field.concrete:
            return
        table, column = model._meta.db_table, field.column
        default = self.effective_default(field)
        if default is not None or not field.null:
            selector = {column: {"$exists": False}}
            self._run(
                f"db.{table}.updateMany({selector!r}, {{'$set': {{{column!r}: {default!r}}}}})",
                lambda: self.database[table].update_many(selector, {"$set": {column: default}}),
            )
        for keys, options in self._field_indexes(model, field):
            self._create_index(table, keys, **options)

    def remove_field(self, model, field):
        if field.many_to_many:
            if field.remote_field.through._meta.auto_created:
                self.delete_model(field.remote_field.through)
            return
        if not field.concrete:
            return
        table, column = model._meta.db_table, field.column
        self._drop_indexes_on(table, column)
        self._run(
            f"db.{table}.updateMany({{}}, {{'$unset': {{{column!r}: ''}}}})",
            lambda: self.database[table].update_many({}, {"$unset": {column: ""}}),
        )

    def alter_field(self, model, old_field, new_field, strict=False):
        if old_field.many_to_many and new_field.many_to_many:
            old_through = old_field.remote_field.through
            new_through = new_field.remote_field.through
            if old_through._meta.auto_created and new_through._meta.auto_created:
                self.alter_db_table(
                    old_through, old_through._meta.db_table, new_through._meta.db_table
                )
            return
        if not (old_field.concrete and new_field.concrete):
            return
        table = model._meta.db_table
        old_column, new_column = old_field.column, new_field.column
        index_changed = (
            old_column != new_column
            or old_field.unique != new_field.unique
            or old_field.db_index != new_field.db_index
        )
        if index_changed:
            # Meta.indexes entries (a ShardKey's among them) come and go with
            # AddIndex/RemoveIndex, not with the field's own index.
            declared = {index.name for index in model._meta.indexes}
            self._drop_indexes_on(table, old_column, single_only=True, keep=declared)
        if old_column != new_column and not (old_field.primary_key and new_field.primary_key):
            self._run(
                f"db.{table}.updateMany({{}}, {{'$rename': {{{old_column!r}: {new_column!r}}}}})",
                lambda: self.database[table].update_many(
                    {old_column: {"$exists": True}}, {"$rename": {old_column: new_column}}
                ),
            )
        if old_field.null and not new_field.null:
            default = self.effective_default(new_field)
            if default is not None:
                self._run(
                    f"db.{table}.updateMany({{{new_column!r}: null}}, {{'$set': ...}})",
                    lambda: self.database[table].update_many(
                        {new_column: None}, {"$set": {new_column: default}}
                    ),
                )
        if index_changed:
            for keys, options in self._field_indexes(model, new_field):
                self._create_index(table, keys, **options)

    # -- indexes and constraints -------------------------------------------------
    def alter_unique_together(self, model, old_unique_together, new_unique_together):
        table = model._meta.db_table
        olds = {tuple(fields) for fields in old_unique_together}
        news = {tuple(fields) for fields in new_unique_together}
        for fields in olds - news:
            columns = [model._meta.get_field(f).column for f in fields]
            self._drop_index(table, self._index_name(table, columns, "_uniq"))
        for fields in news - olds:
            columns = [model._meta.get_field(f).column for f in fields]
            self._create_index(
                table,
                [(c, 1) for c in columns],
                unique=True,
                name=self._index_name(table, columns, "_uniq"),
            )

    def add_index(self, model, index):
        if isinstance(index, ShardKey):
            sharded_collections.add_shard_key(self, model, index)
            return
        keys, options = self._index_spec(model, index)
        self._create_index(model._meta.db_table, keys, **options)

    def remove_index(self, model, index):
        if isinstance(index, ShardKey):
            sharded_collections.drop_shard_key_index(self, model, index)
        else:
            self._drop_index(model._meta.db_table, index.name)

    def rename_index(self, model, old_index, new_index):
        if isinstance(old_index, ShardKey) and isinstance(new_index, ShardKey):
            sharded_collections.rename_shard_key_index(self, model, old_index, new_index)
            return
        self.remove_index(model, old_index)
        self.add_index(model, new_index)

    def add_constraint(self, model, constraint):
        if isinstance(constraint, UniqueConstraint):
            keys, options = self._constraint_spec(model, constraint)
            self._create_index(model._meta.db_table, keys, **options)
        else:
            raise NotSupportedError(
                f"{type(constraint).__name__} {constraint.name!r} on {model.__name__}: MongoDB "
                "enforces only unique constraints. Validate it in Model.clean() instead."
            )

    def remove_constraint(self, model, constraint):
        if isinstance(constraint, UniqueConstraint):
            self._drop_index(model._meta.db_table, constraint.name)

    def _model_indexes(self, model) -> list[tuple[list, dict]]:
        specs = []
        for field in model._meta.local_fields:
            specs.extend(self._field_indexes(model, field))
        table = model._meta.db_table
        for fields in model._meta.unique_together:
            columns = [model._meta.get_field(f).column for f in fields]
            specs.append(
                (
                    [(c, 1) for c in columns],
                    {"unique": True, "name": self._index_name(table, columns, "_uniq")},
                )
            )
        for index in model._meta.indexes:
            specs.append(self._index_spec(model, index))
        for constraint in model._meta.constraints:
            if isinstance(constraint, UniqueConstraint):
                specs.append(self._constraint_spec(model, constraint))
            else:
                raise NotSupportedError(
                    f"{type(constraint).__name__} {constraint.name!r} on {model.__name__}: "
                    "MongoDB enforces only unique constraints. Validate it in Model.clean()."
                )
        return sharded_collections.without_redundant_key_index(model, specs)

    def _field_indexes(self, model, field) -> list[tuple[list, dict]]:
        if field.primary_key or not field.concrete:
            return []
        table, column = model._meta.db_table, field.column
        if field.unique:
            options = {"unique": True, "name": self._index_name(table, [column], "_uniq")}
            if field.null:
                # NULLs are stored absent (django_nonrel.nulls); a sparse index skips
                # them, so any number of rows may be NULL, as on SQL.
                options["sparse"] = True
            return [([(column, 1)], options)]
        if field.db_index:
            return [([(column, 1)], {"name": self._index_name(table, [column], "")})]
        return []

    @staticmethod
    def _plain_fields(expressions) -> list[str] | None:
        """``["mother", "-born"]`` for expressions that only name fields, else None.

        ``UniqueConstraint("mother", "father")`` and ``Index(F("a"), F("b").desc())``
        are written as expressions but are plain field keys: MongoDB indexes them.
        """
        names = []
        for expression in expressions:
            descending = isinstance(expression, OrderBy) and expression.descending
            if isinstance(expression, OrderBy):
                expression = expression.expression
            if type(expression) is not F:
                return None
            names.append(("-" if descending else "") + expression.name)
        return names

    def _index_spec(self, model, index: Index) -> tuple[list, dict]:
        if isinstance(index, ShardKey):
            pattern = sharded_collections.key_document(self, model, index)
            return list(pattern.items()), {"name": index.name}
        fields = self._plain_fields(index.expressions) if index.expressions else None
        if fields:
            index = copy.copy(index)
            index.expressions, index.fields = (), fields
        if index.expressions or index.condition is not None or index.include or index.opclasses:
            raise NotSupportedError(
                f"Index {index.name!r} on {model.__name__}: MongoDB indexes take field paths "
                "only (no expressions, conditions, include or opclasses)."
            )
        keys = []
        # PathIndex keeps the full ``address__city`` paths; a plain Index has fields.
        for name in getattr(index, "paths", index.fields):
            descending = name.startswith("-")
            keys.append((self._path_column(model, name.lstrip("-")), -1 if descending else 1))
        return keys, {"name": index.name}

    def _constraint_spec(self, model, constraint: UniqueConstraint) -> tuple[list, dict]:
        fields = self._plain_fields(constraint.expressions) if constraint.expressions else None
        if fields and not any(name.startswith("-") for name in fields):
            constraint = copy.copy(constraint)
            constraint.expressions, constraint.fields = (), tuple(fields)
        if constraint.expressions or constraint.condition is not None or constraint.include:
            raise NotSupportedError(
                f"UniqueConstraint {constraint.name!r} on {model.__name__}: MongoDB unique "
                "indexes take field paths only (conditions need partial indexes, which "
                "MongoDB-compatible servers such as FerretDB lack)."
            )
        keys = [(self._path_column(model, name), 1) for name in constraint.fields]
        return keys, {"unique": True, "name": constraint.name}

    @staticmethod
    def _path_column(model, name: str) -> str:
        """``address__city`` -> ``address.city`` (embedded paths in Meta.indexes)."""
        head, *rest = name.split("__")
        field = model._meta.get_field(head)
        if field.primary_key:
            return "_id"
        return ".".join([field.column, *rest])

    def _index_name(self, table: str, columns: list[str], suffix: str) -> str:
        return self._create_index_name(table, columns, suffix=suffix)

    def _create_index(self, table: str, keys: list, **options) -> None:
        self._run(
            f"db.{table}.createIndex({dict(keys)!r}, {options!r})",
            lambda: self.database[table].create_index(keys, **options),
        )

    def _drop_index(self, table: str, name: str) -> None:
        def drop():
            if name in self.database[table].index_information():
                self.database[table].drop_index(name)

        self._run(f"db.{table}.dropIndex({name!r})", drop)

    def _drop_indexes_on(
        self,
        table: str,
        column: str,
        single_only: bool = False,
        keep: frozenset | set = frozenset(),
    ) -> None:
        def drop():
            for name, info in self.database[table].index_information().items():
                columns = [key for key, _ in info["key"]]
                if name == "_id_" or name in keep or column not in columns:
                    continue
                if not (single_only and len(columns) > 1):
                    self.database[table].drop_index(name)

        self._run(f"db.{table}.dropIndexes(<indexes on {column!r}>)", drop)
