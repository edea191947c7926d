"""DDL in the singlestore dialect: SingleStore's own grammar where it differs from MySQL's.

SingleStore's ``ALTER TABLE`` accepts ``ADD [COLUMN]``, ``ADD [UNIQUE] {INDEX|KEY}``,
``DROP [COLUMN]``, ``DROP {INDEX|KEY}``, ``MODIFY [COLUMN]``, ``CHANGE old new``
(a rename, no definition) and ``RENAME [TO|AS]``; it has no ``ALTER COLUMN ...
SET/DROP DEFAULT``, no ``RENAME COLUMN``, no ``ADD CONSTRAINT``, no ``ADD/DROP
PRIMARY KEY`` and no ``COMMENT =``. So, where Django's MySQL editor writes one
of those:

* a column default is set or dropped by ``MODIFY`` with the column's whole
  definition (type, collation, comment, DEFAULT, NULL / NOT NULL);
* a column is renamed by ``CHANGE old new``, a table by ``ALTER TABLE ...
  RENAME TO``; a table is dropped without MySQL's no-op ``CASCADE``;
* unique keys are added as ``ADD UNIQUE KEY`` (schema.py), ``UNENFORCED RELY``
  where the app asks for it;
* primary-key and table-comment changes never get here: alter_rules.py refuses
  them before any statement;
* a stored ``GeneratedField`` is a computed column, ``AS (expr) PERSISTED type``
  (SingleStore has no virtual ones: Django's check reports fields.E221).

Nothing here reads the server, so ``schema_editor(collect_sql=True)`` and
``sqlmigrate`` render it with none reachable.
"""

from __future__ import annotations

from django.db import NotSupportedError

from .rules import TablePlan
from .schema import DatabaseSchemaEditor


class SingleStoreSchemaEditor(DatabaseSchemaEditor):
    sql_rename_table = "ALTER TABLE %(old_table)s RENAME TO %(new_table)s"
    sql_rename_column = "ALTER TABLE %(table)s CHANGE %(old_column)s %(new_column)s"
    sql_delete_table = "DROP TABLE %(table)s"
    sql_alter_column_type = "MODIFY COLUMN %(column)s %(type)s%(comment)s%(collation)s"
    sql_alter_column_collate = "MODIFY COLUMN %(column)s %(type)s%(collation)s"
    sql_create_unenforced_unique = (
        "ALTER TABLE %(table)s ADD UNIQUE KEY %(name)s (%(columns)s) UNENFORCED RELY"
    )

    # Nothing to ask the server: SingleStore takes defaults on every column type.
    _supports_limited_data_type_defaults = True

    def _column_default_sql(self, field):
        return "%s"

    def with_storage_keyword(self, sql: str, plan: TablePlan) -> str:
        storage = plan.storage.storage_type
        if not storage:
            return sql  # the server's default, columnstore
        return sql.replace("CREATE TABLE", f"CREATE {storage} TABLE", 1)

    def unenforced_unique_key_sql(self, name: str, columns: str) -> str:
        return f"UNIQUE KEY {name} ({columns}) UNENFORCED RELY"

    def shard_key_sql(self, columns: str) -> list[str]:
        return [f"SHARD KEY ({columns})"]

    def modify_column_sql(self, field, null: bool, default: str | None, params) -> tuple:
        """``MODIFY COLUMN`` with ``field``'s whole definition: SingleStore's only way to
        change a column's default (the definition replaces the old one)."""
        db_params = field.db_parameters(connection=self.connection)
        parts = [f"MODIFY COLUMN {self.quote_name(field.column)} {db_params['type']}"]
        if field.db_comment:
            parts.append(self._comment_sql(field.db_comment).strip())
        if collation := db_params.get("collation"):
            parts.append(self._collate_sql(collation).strip())
        if default is not None:
            parts.append(f"DEFAULT {default}")
        parts.append("NULL" if null else "NOT NULL")
        return " ".join(parts), list(params)

    def _alter_column_default_sql(self, model, old_field, new_field, drop=False):
        if drop:
            return self.modify_column_sql(new_field, new_field.null, None, [])
        # Set while the column still has its old nullability (Django's four-step
        # NULL -> NOT NULL change updates the NULL rows in between).
        null = new_field.null if old_field is None else old_field.null
        new_default = self.effective_default(new_field)
        return self.modify_column_sql(
            new_field, null, self._column_default_sql(new_field), [new_default]
        )

    def _alter_column_database_default_sql(self, model, old_field, new_field, drop=False):
        if drop:
            return self.modify_column_sql(new_field, old_field.null, None, [])
        default_sql, params = self.db_default_sql(new_field)
        return self.modify_column_sql(new_field, old_field.null, default_sql, params)

    def _iter_column_sql(
        self, column_db_type, params, model, field, field_db_params, include_default
    ):
        if field.generated:
            if not field.db_persist:
                meta = model._meta
                raise NotSupportedError(
                    f"{meta.label}.{field.name} is a GeneratedField with db_persist=False: "
                    "SingleStore has persisted computed columns only. HINT: Set "
                    "db_persist=True (AS (...) PERSISTED), or compute the value in Python. "
                    "(singlestore.E009)"
                )
            expression_sql, expression_params = field.generated_sql(self.connection)
            params.extend(expression_params)
            yield f"AS ({expression_sql}) PERSISTED {column_db_type}"
            return
        yield from super()._iter_column_sql(
            column_db_type, params, model, field, field_db_params, include_default
        )
