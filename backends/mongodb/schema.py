"""Migrations on MongoDB: collections, indexes, and data changes a schema change implies.

MongoDB has no columns, so most of a migration is about indexes (see
``index_specs``: what each declaration becomes, and what is not created) and
about existing documents: AddField writes the default into documents that
lack the field, RemoveField unsets it, a column rename renames it in every
document (and rebuilds the indexes on it), a nullable field made NOT NULL
gets its default where it was null, and moving the primary key rewrites the
documents' ``_id`` (``primary_keys``). Type changes leave stored values as
they are. Each step also updates the schema record introspection reads
(``schema_record``). A ``ShardKey`` in ``Meta.indexes`` is an index that also
shards the collection on a ``mongos`` (``sharded_collections``). Dropping or
renaming a collection drops its key counter and retires every connection's
reserved keys of it (``reserved_keys``): a table made again under the name
starts its keys at 1, as a new SQL table does.

Every step is a ``Command`` run through ``execute()`` as Django's SQL is:
logged on ``django.db.backends.schema`` and in ``connection.queries``, refused
inside ``atomic()`` (MongoDB cannot roll DDL back), and with
``collect_sql=True`` (``manage.py sqlmigrate``) only collected, as readable
MongoDB shell lines. SQL (``RunSQL``) is refused with NotSupportedError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import NotSupportedError
from django.db.backends.base.schema import (
    BaseDatabaseSchemaEditor,
    _related_non_m2m_objects,
    logger,
)
from django.db.models import Index
from django.db.models.sql import InsertQuery
from django.db.transaction import TransactionManagementError

from django_nonrel.nulls import absent_when_null
from django_nonrel.sharding import ShardKey
from django_nonrel.writes import insert_value

from . import sharded_collections
from .index_set import ID, CollectionIndexes, IndexSpec
from .index_specs import (
    absent_columns,
    constraint_spec,
    field_specs,
    index_spec,
    model_specs,
    together_name,
    together_spec,
    unique_set_specs,
)
from .mongo_store import KEY_CLAIMS, SEQUENCES
from .operations import Command, ConnectionCommand
from .primary_keys import rekey, release_key
from .reserved_keys import retire_key_blocks
from .schema_record import SchemaRecord, column_entry, table_entries


class CommandTemplate:
    """An ``sql_*`` template whose ``%`` gives a Command instead of SQL text.

    Code written for SQL backends drops a table with
    ``editor.execute(editor.sql_delete_table % {"table": name})`` (Django's own
    migration test helpers among it); here that drops the collection.
    """

    def __init__(self, text: str, action: Callable[..., Any]) -> None:
        self.text = text
        self.action = action

    def __mod__(self, params: dict[str, str]) -> Command:
        return Command(self.text % params, lambda: self.action(**params))


class EditorCommandTemplate:
    """An editor method as a ``sql_*`` template, on the editor and on its class.

    Some code reads the template from the class (django-test-migrations drops
    every table with ``connection.SchemaEditorClass.sql_delete_table % {...}``
    run through ``connection.ops.execute_sql_flush()``); there the command runs
    on the connection whose cursor executes it.
    """

    def __init__(self, text: str, method: str) -> None:
        self.text, self.method = text, method

    def __get__(self, editor: Any, owner: type) -> Any:
        if editor is not None:
            return CommandTemplate(self.text, getattr(editor, self.method))
        return ClassCommandTemplate(self.text, owner, self.method)


class ClassCommandTemplate:
    """A ``sql_*`` template read from the editor class: its commands make an editor
    of the connection that runs them."""

    def __init__(self, text: str, editor_class: type, method: str) -> None:
        self.text, self.editor_class, self.method = text, editor_class, method

    def __mod__(self, params: dict[str, str]) -> Command:
        def run_on(connection: Any) -> Any:
            return getattr(self.editor_class(connection), self.method)(**params)

        return ConnectionCommand(self.text % params, run_on)


class DatabaseSchemaEditor(BaseDatabaseSchemaEditor):
    """Schema changes as collection and index commands."""

    def execute(self, sql, params=()):
        """Run (or collect) a Command, as Django's base runs SQL."""
        if (
            not self.collect_sql
            and self.connection.in_atomic_block
            and not self.connection.features.can_rollback_ddl
        ):
            raise TransactionManagementError(
                "Executing DDL statements while in a transaction on databases "
                "that can't perform a rollback is prohibited."
            )
        text = str(sql)
        if not isinstance(sql, Command):
            raise NotSupportedError(
                f"Migrations on MongoDB cannot run SQL (RunSQL, raw DDL): {text[:80]!r}. Use "
                "RunPython with schema_editor.connection.database for raw MongoDB commands."
            )
        logger.debug("%s; (params %r)", text, params, extra={"params": params, "sql": text})
        if self.collect_sql:
            self.collected_sql.append(f"{sql};")
            return
        with self.connection.cursor() as cursor:
            cursor.execute(sql)

    def _run(self, description: str, action: Callable[[], Any]) -> None:
        self.execute(Command(description, action))

    def quote_value(self, value):
        return repr(value)

    def prepare_default(self, value):
        return value

    @property
    def database(self):
        return self.connection.database

    @property
    def record(self) -> SchemaRecord:
        return SchemaRecord(self.database)

    def _indexes(self, table: str) -> CollectionIndexes:
        return CollectionIndexes(self.database, self.record, table)

    # -- collections ------------------------------------------------------------
    sql_delete_table = EditorCommandTemplate("db.%(table)s.drop()", "_drop_collection")

    def create_model(self, model):
        table = model._meta.db_table
        columns = table_entries(model, self.connection)

        def create():
            # An existing collection is an error, as an existing table is on SQL
            # (migrate --fake-initial relies on it).
            self.database.create_collection(table)
            self.record.create(table, columns)

        self._run(f"db.createCollection({table!r})", create)
        for spec in model_specs(model, self):
            self._ensure(table, spec)
        for index in model._meta.indexes:
            if isinstance(index, ShardKey):
                sharded_collections.shard_collection(self, model, index)
        for field in model._meta.local_many_to_many:
            if field.remote_field.through._meta.auto_created:
                self.create_model(field.remote_field.through)

    def delete_model(self, model):
        self.execute(self.sql_delete_table % {"table": model._meta.db_table})
        for field in model._meta.local_many_to_many:
            if field.remote_field.through._meta.auto_created:
                self.delete_model(field.remote_field.through)

    def _drop_collection(self, table: str) -> None:
        """The collection, its key counter and claims, every connection's reserved
        keys of it (a table made again under this name starts its keys at 1), and
        its schema record."""
        self.database.drop_collection(table)
        self.database[SEQUENCES].delete_one({"_id": table})
        retire_key_blocks(self.connection.settings_dict, [table])
        self.database[KEY_CLAIMS].delete_many({"table": table})
        self.record.drop(table)

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
            self.record.rename(old_db_table, new_db_table)

        self._run(f"db.{old_db_table}.renameCollection({new_db_table!r})", rename)

    def alter_db_table_comment(self, model, old_db_table_comment, new_db_table_comment):
        pass  # features.supports_comments is False: Django's check says comments are ignored

    def alter_db_tablespace(self, model, old_db_tablespace, new_db_tablespace):
        pass  # MongoDB has no tablespaces (features.supports_tablespaces is False)

    # -- fields -----------------------------------------------------------------
    def add_field(self, model, field):
        if field.many_to_many:
            if field.remote_field.through._meta.auto_created:
                self.create_model(field.remote_field.through)
            return
        if not field.concrete:
            return
        table, column = model._meta.db_table, field.column
        entry = column_entry(field, self.connection)
        default = self._stored_default(model, field)
        if default is not None or not field.null:
            selector = {column: {"$exists": False}}

            def fill():
                self.database[table].update_many(selector, {"$set": {column: default}})
                self.record.add_column(table, entry)

            self._run(
                f"db.{table}.updateMany({selector!r}, {{'$set': {{{column!r}: {default!r}}}}})",
                fill,
            )
        else:
            self._record_column(table, entry, lambda: self.record.add_column(table, entry))
        for spec in field_specs(model, field, self):
            self._ensure(table, spec)

    def _stored_default(self, model, field) -> Any:
        """The value existing documents get: the db_default (evaluated as an insert
        would), else Django's effective default."""
        if field.has_db_default():
            expression = field._db_default_expression
            return insert_value(InsertQuery(model), self.connection, field, expression)
        return self.effective_default(field)

    def _record_column(self, table: str, entry: dict[str, Any], change) -> None:
        self._run(
            f"db.django_nonrel_schema.updateOne({{'_id': {table!r}}}, <column {entry['name']!r}>)",
            change,
        )

    def remove_field(self, model, field):
        if field.many_to_many:
            if field.remote_field.through._meta.auto_created:
                self.delete_model(field.remote_field.through)
            return
        if not field.concrete:
            return
        table, column = model._meta.db_table, field.column
        if field.primary_key:
            # The key is the documents' _id, which stays until another field becomes
            # the key (a model always gets one in the same migration).
            self._record_column(
                table, {"name": column}, lambda: self.record.remove_column(table, column)
            )
            return

        def remove():
            self._indexes(table).move_columns({column: None})
            self.database[table].update_many({}, {"$unset": {column: ""}})
            self.record.remove_column(table, column)

        self._run(f"db.{table}.updateMany({{}}, {{'$unset': {{{column!r}: ''}}}})", remove)

    def _alter_field(
        self,
        model,
        old_field,
        new_field,
        old_type,
        new_type,
        old_db_params,
        new_db_params,
        strict=False,
    ):
        """Django's alter_field checked the change; this carries it out on documents."""
        table = model._meta.db_table
        meta = model._meta
        if old_field.unique and (
            not new_field.unique or self._field_became_primary_key(old_field, new_field)
        ):
            names = self._constraint_names(
                model,
                [old_field.column],
                unique=True,
                primary_key=False,
                exclude={constraint.name for constraint in meta.constraints},
            )
            self._check_found(strict, names, "unique constraints", table, old_field.column)
            for name in names:
                self._drop(table, name)
        if (
            old_field.db_index
            and not old_field.unique
            and (not new_field.db_index or new_field.unique or new_field.primary_key)
        ):
            names = self._constraint_names(
                model,
                [old_field.column],
                index=True,
                unique=False,
                type_=Index.suffix,
                exclude={index.name for index in meta.indexes},
            )
            for name in names:
                self._drop(table, name)
        self._move_key_and_column(model, old_field, new_field)
        self._fill_new_not_null(model, table, old_field, new_field)
        self._rebuild_unique_sets(model, table, old_field, new_field)
        entry = column_entry(new_field, self.connection)
        if entry != column_entry(old_field, self.connection):
            self._record_column(
                table, entry, lambda: self.record.replace_column(table, old_field.column, entry)
            )
            if (new_field.primary_key or new_field.unique) and old_type != new_type:
                self._record_keys_to(old_field, new_field)
        if self._unique_should_be_added(old_field, new_field) or self._index_should_be_added(
            old_field, new_field
        ):
            for spec in field_specs(model, new_field, self):
                self._ensure(table, spec)

    def _rebuild_unique_sets(self, model, table: str, old_field, new_field) -> None:
        """A field of a unique set of several fields became nullable (or not): which
        documents the set's index must skip changed (a partial index's filter names
        its nullable columns), so the index is rebuilt under its name. ``model`` is
        the old state; the new field's nullability decides."""
        if old_field.null == new_field.null or new_field.primary_key:
            return
        absent = set(absent_when_null(model)) - {old_field.column}
        if new_field.null:
            absent.add(old_field.column)
        moves = {old_field.column: new_field.column}
        nullable = frozenset(moves.get(column, column) for column in absent)
        for spec in unique_set_specs(model, old_field, self, frozenset(absent)):
            moved = spec.with_columns_moved(moves)
            if moved is not None:
                self._ensure(table, moved, nullable)

    def _record_keys_to(self, old_field, new_field) -> None:
        """Keys pointing at a key whose type changed are recorded with the new type
        (their stored values are the same numbers or strings)."""
        for old_rel, new_rel in _related_non_m2m_objects(old_field, new_field):
            table = new_rel.related_model._meta.db_table
            entry = column_entry(new_rel.field, self.connection)
            if entry != column_entry(old_rel.field, self.connection):
                self._record_column(
                    table,
                    entry,
                    lambda table=table, old=old_rel.field.column, entry=entry: (
                        self.record.replace_column(table, old, entry)
                    ),
                )

    @staticmethod
    def _index_should_be_added(old_field, new_field) -> bool:
        """A plain index the old field did not have (Django's rule; a key has none)."""
        had_index = old_field.db_index and not (old_field.unique or old_field.primary_key)
        return not had_index and (
            new_field.db_index and not new_field.unique and not new_field.primary_key
        )

    @staticmethod
    def _check_found(strict: bool, names: list[str], kind: str, table: str, column: str) -> None:
        if strict and len(names) != 1:
            raise ValueError(f"Found wrong number ({len(names)}) of {kind} for {table}.{column}")

    def _move_key_and_column(self, model, old_field, new_field) -> None:
        """Data and indexes follow a renamed column and a primary key that moves.

        A field is the documents' ``_id`` when it is the model's only key field
        (the fields of a CompositePrimaryKey are keys of their own).
        """
        table = model._meta.db_table
        single_key = len(model._meta.pk_fields) <= 1
        was_id, is_id = (f.primary_key and single_key for f in (old_field, new_field))
        old_column, new_column = old_field.column, new_field.column
        if was_id and is_id:
            return  # both are the documents' _id
        if was_id:

            def release():
                release_key(self.database, table, new_column)
                self._indexes(table).move_columns({ID: new_column})

            self._run(f"db.{table}.updateMany({{}}, <copy _id into {new_column!r}>)", release)
            return
        if is_id:

            def take():
                if old_column != new_column:
                    self._rename_column(table, old_column, new_column)
                rekey(self.database, table, new_column)
                self._indexes(table).move_columns({new_column: ID})

            self._run(f"db.{table}.<rewrite with {new_column!r} as _id>", take)
            return
        if old_column != new_column:
            self._run(
                f"db.{table}.updateMany({{}}, {{'$rename': {{{old_column!r}: {new_column!r}}}}})",
                lambda: self._rename_column(table, old_column, new_column),
            )

    def _rename_column(self, table: str, old_column: str, new_column: str) -> None:
        self.database[table].update_many(
            {old_column: {"$exists": True}}, {"$rename": {old_column: new_column}}
        )
        self._indexes(table).move_columns({old_column: new_column})

    def _fill_new_not_null(self, model, table: str, old_field, new_field) -> None:
        """A nullable field made NOT NULL gets its default where it was null."""
        if not (old_field.null and not new_field.null) or new_field.primary_key:
            return
        default = self._stored_default(model, new_field)
        if default is None:
            return
        column = new_field.column
        self._run(
            f"db.{table}.updateMany({{{column!r}: null}}, {{'$set': {{{column!r}: {default!r}}}}})",
            lambda: self.database[table].update_many({column: None}, {"$set": {column: default}}),
        )

    # -- indexes and constraints -------------------------------------------------
    def alter_unique_together(self, model, old_unique_together, new_unique_together):
        self._alter_together(model, old_unique_together, new_unique_together, unique=True)

    def alter_index_together(self, model, old_index_together, new_index_together):
        self._alter_together(model, old_index_together, new_index_together, unique=False)

    def _alter_together(self, model, olds, news, unique: bool) -> None:
        table = model._meta.db_table
        olds = {tuple(fields) for fields in olds}
        news = {tuple(fields) for fields in news}
        for fields in olds - news:
            # By name: whether it was created depends on the old state.
            self._drop(table, together_name(model, fields, self, unique))
        for fields in news - olds:
            self._ensure(table, together_spec(model, fields, self, unique), absent_when_null(model))

    def add_index(self, model, index):
        if isinstance(index, ShardKey):
            sharded_collections.add_shard_key(self, model, index)
            return
        spec = index_spec(model, index, self)
        if spec is not None:
            self._ensure(model._meta.db_table, spec)

    def remove_index(self, model, index):
        if isinstance(index, ShardKey):
            sharded_collections.drop_shard_key_index(self, model, index)
        elif index_spec(model, index, self) is not None:  # else never created
            self._drop(model._meta.db_table, index.name)

    def rename_index(self, model, old_index, new_index):
        if isinstance(old_index, ShardKey) and isinstance(new_index, ShardKey):
            sharded_collections.rename_shard_key_index(self, model, old_index, new_index)
            return
        super().rename_index(model, old_index, new_index)

    def add_constraint(self, model, constraint):
        spec = constraint_spec(model, constraint, self)
        if spec is not None:
            self._ensure(model._meta.db_table, spec, absent_when_null(model))

    def remove_constraint(self, model, constraint):
        if constraint_spec(model, constraint, self) is not None:  # else never created
            self._drop(model._meta.db_table, constraint.name)

    def _index_condition_sql(self, condition):
        # Index.create_sql() renders SQL text only for display (indexes are
        # created from the Index itself): without partial indexes there is no condition.
        if not self.connection.features.supports_partial_indexes:
            return ""
        return super()._index_condition_sql(condition)

    def _ensure(self, table: str, spec: IndexSpec, nullable: frozenset[str] = frozenset()) -> None:
        """Create ``spec``'s index; ``nullable``: the model's columns stored absent
        when NULL (``django_nonrel.nulls``), on an existing collection."""
        for column in absent_columns(spec, nullable):
            # NULL becomes an absent key in a column a sparse or partial unique
            # index skips when absent; nulls written before it was so would collide.
            selector = {column: {"$exists": True, "$eq": None}}
            self._run(
                f"db.{table}.updateMany({selector!r}, {{'$unset': {{{column!r}: ''}}}})",
                lambda selector=selector, column=column: self.database[table].update_many(
                    selector, {"$unset": {column: ""}}
                ),
            )
        self._run(
            f"db.{table}.createIndex({dict(spec.keys)!r}, {spec.options()!r})",
            lambda: self._indexes(table).ensure(spec),
        )

    def _drop(self, table: str, name: str) -> None:
        self._run(f"db.{table}.dropIndex({name!r})", lambda: self._indexes(table).drop(name))
