"""DDL: Django's MySQL schema editor, with SingleStore's table layout and rules.

``CREATE TABLE`` follows :func:`rules.plan_table`: the storage keyword
(``ROWSTORE`` / ``REFERENCE`` / ``ROWSTORE REFERENCE``), ``SHARD KEY`` on
distributed tables, unique keys inline (SingleStore cannot add them later) and
``UNENFORCED RELY`` where the app asks for it, no FOREIGN KEY constraints, and
the many-to-many layout. A model that breaks a rule is refused here with the
same message ``manage.py check --database`` gives.

In the mysql dialect the same plan renders as MySQL: no storage keyword, no
SHARD KEY (the primary key already leads every table), and an unenforced
unique key becomes a plain KEY, so MariaDB enforces exactly what SingleStore
would. ALTERs that SingleStore refuses on columnstore tables are refused in
both dialects.

Nothing here reads the server in the singlestore dialect, so
``schema_editor(collect_sql=True)`` and ``sqlmigrate`` work without one.
"""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.mysql.schema import DatabaseSchemaEditor as MySQLSchemaEditor
from singlestoredb.mysql.converters import escape_item

from .rules import TablePlan, is_plain_unique_key, plan_table

ADD_COPY_DROP = (
    "SingleStore cannot {what} on a columnstore table ({storage}). Migrate by adding a new "
    "field with the wanted definition, copying the data in a RunPython/RunSQL step, then "
    "removing the old field (and renaming the new one); or store the table as ROWSTORE."
)


class DatabaseSchemaEditor(MySQLSchemaEditor):
    # No FOREIGN KEY DDL at all: SingleStore has none.
    sql_create_fk = None
    sql_create_inline_fk = None
    sql_create_column_inline_fk = None
    sql_delete_fk = None

    # -- values without a server ---------------------------------------------

    def quote_value(self, value):
        # Escaped by the driver's rules without a connection (collect_sql, sqlmigrate).
        quoted = escape_item(value, "utf8mb4")
        return quoted.decode() if isinstance(quoted, bytes) else quoted

    @property
    def _supports_limited_data_type_defaults(self):
        if self.connection.is_singlestore:
            return True
        return super()._supports_limited_data_type_defaults

    def _column_default_sql(self, field):
        if self.connection.is_singlestore:
            return "%s"
        return super()._column_default_sql(field)

    def _field_should_be_indexed(self, model, field):
        # No FOREIGN KEY constraint brings its own index here, so every
        # db_index field (ForeignKey included) gets one; no storage-engine probe.
        return BaseDatabaseSchemaEditor._field_should_be_indexed(
            self, model, field
        ) and not self._is_limited_data_type(field)

    # -- indexes ----------------------------------------------------------------

    def indexes_unindexable_column(self, model, index) -> bool:
        """Whether ``index`` covers a JSON/TEXT/BLOB column (e.g. a PathIndex on SQL).

        Neither SingleStore nor MariaDB/MySQL can key such a column, so these
        indexes are left out of the DDL (documented in docs/singlestore.md).
        """
        return any(
            self._is_limited_data_type(model._meta.get_field(name))
            for name, _ in index.fields_orders
        )

    def _model_indexes_sql(self, model):
        meta = model._meta
        if not meta.managed or meta.proxy or meta.swapped:
            return []
        output = []
        for field in meta.local_fields:
            output.extend(self._field_indexes_sql(model, field))
        for index in meta.indexes:
            if (
                index.contains_expressions
                and not self.connection.features.supports_expression_indexes
            ):
                continue
            if not self.indexes_unindexable_column(model, index):
                output.append(index.create_sql(model, self))
        return output

    def add_index(self, model, index):
        if not self.indexes_unindexable_column(model, index):
            super().add_index(model, index)

    def remove_index(self, model, index):
        if not self.indexes_unindexable_column(model, index):
            super().remove_index(model, index)

    # -- CREATE TABLE ------------------------------------------------------------

    def plan(self, model) -> TablePlan:
        default = self.connection.settings_dict["OPTIONS"].get("table_storage_type")
        return plan_table(model, default)

    def refuse_violations(self, plan: TablePlan) -> None:
        if plan.violations:
            raise NotSupportedError(
                "\n".join(f"{v.message} HINT: {v.hint} ({v.id})" for v in plan.violations)
            )

    def table_sql(self, model):
        plan = self.plan(model)
        self.refuse_violations(plan)
        meta = model._meta
        saved = meta.unique_together, meta.constraints
        self._plan = plan
        try:
            # Unique keys are rendered by the plan, inline: SingleStore cannot
            # add them to a table later, as Django's deferred ALTERs would.
            meta.unique_together = ()
            # Other constraints go to Django, which leaves out those this
            # backend cannot hold (conditional, covering... unique constraints).
            meta.constraints = [c for c in meta.constraints if not is_plain_unique_key(c)]
            sql, params = super().table_sql(model)
        finally:
            meta.unique_together, meta.constraints = saved
            self._plan = None
        keys = self.table_keys_sql(plan)
        if keys:
            sql = f"{sql[:-1]}, {', '.join(keys)})"
        storage = plan.storage.storage_type
        if self.connection.is_singlestore and storage:
            sql = sql.replace("CREATE TABLE", f"CREATE {storage} TABLE", 1)
        return sql, params

    def table_keys_sql(self, plan: TablePlan) -> list[str]:
        quote = self.quote_name
        columns = lambda names: ", ".join(quote(n) for n in names)  # noqa: E731
        keys = []
        if plan.primary_key:
            keys.append(f"PRIMARY KEY ({columns(plan.primary_key)})")
        table = plan.model._meta.db_table
        for key in plan.unique_keys:
            name = key.name
            if len(name) > self.connection.ops.max_name_length():
                # Django's shortened name (prefix + hash) when the readable one is too long.
                name = self._create_index_name(table, list(key.columns), suffix="_uniq")
            if key.enforced:
                keys.append(f"UNIQUE KEY {quote(name)} ({columns(key.columns)})")
            elif self.connection.is_singlestore:
                keys.append(f"UNIQUE KEY {quote(name)} ({columns(key.columns)}) UNENFORCED RELY")
            else:
                # MariaDB/MySQL: an index, unenforced as on SingleStore.
                keys.append(f"KEY {quote(name)} ({columns(key.columns)})")
        for extra in plan.extra_keys:
            keys.append(f"KEY ({columns(extra)})")
        if plan.shard_key and self.connection.is_singlestore:
            keys.append(f"SHARD KEY ({columns(plan.shard_key)})")
        return keys

    def _iter_column_sql(
        self, column_db_type, params, model, field, field_db_params, include_default
    ):
        plan = getattr(self, "_plan", None)
        for part in super()._iter_column_sql(
            column_db_type, params, model, field, field_db_params, include_default
        ):
            if plan is not None:
                if part == "PRIMARY KEY" and not plan.pk_inline:
                    continue
                if part == "UNIQUE" and field.column in plan.moved_unique_columns:
                    continue
            yield part

    # -- changes SingleStore refuses ---------------------------------------------

    def columnstore_refusal(self, model, what: str) -> NotSupportedError | None:
        storage = self.plan(model).storage
        if not storage.is_columnstore:
            return None
        return NotSupportedError(
            f"{model._meta.label}: "
            + ADD_COPY_DROP.format(what=what, storage=f"{storage.label}, from {storage.source}")
        )

    def alter_field(self, model, old_field, new_field, strict=False):
        old_type = old_field.db_parameters(connection=self.connection)["type"]
        new_type = new_field.db_parameters(connection=self.connection)["type"]
        changes = []
        if old_type != new_type and old_type is not None and new_type is not None:
            changes.append(f"change the type of column {old_field.column!r}")
        if old_field.null and not new_field.null:
            changes.append(f"make column {new_field.column!r} NOT NULL")
        if old_field.primary_key != new_field.primary_key:
            changes.append(f"change the PRIMARY KEY ({new_field.column!r})")
        if not old_field.unique and new_field.unique and not new_field.primary_key:
            changes.append(f"add a unique index on {new_field.column!r}")
        if old_field.db_comment != new_field.db_comment:
            changes.append(f"change the comment of column {new_field.column!r}")
        if changes:
            refusal = self.columnstore_refusal(model, " or ".join(changes))
            if refusal is not None:
                raise refusal
        plan = self.plan(model)
        if new_field.unique and not old_field.unique and not new_field.primary_key:
            # A unique key added later must obey the shard-key rule too.
            self.refuse_violations(plan)
        super().alter_field(model, old_field, new_field, strict)

    def add_field(self, model, field):
        if field.unique and not field.primary_key:
            refusal = self.columnstore_refusal(model, f"add the unique column {field.column!r}")
            if refusal is not None:
                raise refusal
            self.refuse_violations(self.plan(model))
        super().add_field(model, field)

    def alter_unique_together(self, model, old_unique_together, new_unique_together):
        if set(map(tuple, new_unique_together)) - set(map(tuple, old_unique_together)):
            refusal = self.columnstore_refusal(model, "add a unique index")
            if refusal is not None:
                raise refusal
            # ``model`` is the migration's new state: its keys obey the shard-key rule or not.
            self.refuse_violations(self.plan(model))
        super().alter_unique_together(model, old_unique_together, new_unique_together)

    def add_constraint(self, model, constraint):
        if is_plain_unique_key(constraint):
            refusal = self.columnstore_refusal(model, f"add the unique index {constraint.name!r}")
            if refusal is not None:
                raise refusal
            self.refuse_violations(self.plan(model))
        super().add_constraint(model, constraint)
