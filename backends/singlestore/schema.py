"""DDL: Django's MySQL schema editor, with SingleStore's table layout and rules.

``CREATE TABLE`` follows :func:`rules.plan_table`: the storage keyword
(``ROWSTORE`` / ``REFERENCE`` / ``ROWSTORE REFERENCE``), ``SHARD KEY`` on
distributed tables, unique keys as named ``UNIQUE KEY`` entries and
``UNENFORCED RELY`` where the app asks for it, no FOREIGN KEY constraints, and
the many-to-many layout. A model that breaks a rule is refused here with the
same message ``manage.py check --database`` gives; an operation that changes a
table is judged by alter_rules.py before its first statement.

This class renders the mysql dialect: the same plan as MySQL (no storage
keyword, no SHARD KEY, an unenforced unique key as a plain KEY), so MariaDB
enforces exactly what SingleStore would. The singlestore dialect's ALTER
grammar is in singlestore_ddl.py, a subclass.
"""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.backends.base.schema import BaseDatabaseSchemaEditor, _related_non_m2m_objects
from django.db.backends.mysql.schema import DatabaseSchemaEditor as MySQLSchemaEditor
from django.utils.functional import cached_property
from singlestoredb.mysql.converters import escape_item

from django_nonrel.rules import RuleViolation

from . import alter_rules
from .rules import (
    TablePlan,
    UniqueSource,
    is_plain_unique_key,
    plan_table,
    unique_key,
)
from .table_storage import TableStorage, table_storage


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

    def remove_index(self, model, index):
        if not self.indexes_unindexable_column(model, index):
            super().remove_index(model, index)

    # -- rules ------------------------------------------------------------------

    def plan(self, model) -> TablePlan:
        return plan_table(model, self.connection.storage_settings)

    def storage(self, model) -> TableStorage:
        return table_storage(model, self.connection.storage_settings)

    @staticmethod
    def refuse(violations: list[RuleViolation]) -> None:
        """Raise the rules an operation breaks, before any of its DDL is sent."""
        if violations:
            raise NotSupportedError(
                "\n".join(f"{v.message} HINT: {v.hint} ({v.id})" for v in violations)
            )

    # -- CREATE TABLE ------------------------------------------------------------

    def table_sql(self, model):
        plan = self.plan(model)
        self.refuse(plan.violations)
        meta = model._meta
        saved = meta.unique_together, meta.constraints
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
        keys = self.table_keys_sql(plan)
        if keys:
            sql = f"{sql[:-1]}, {', '.join(keys)})"
        if meta.db_table_comment:
            # Inline: SingleStore cannot set a table's comment by a later ALTER
            # TABLE, as Django's create_model would (alter_db_table_comment).
            sql += self._comment_sql(meta.db_table_comment)
            self.commented_tables.add(meta.db_table)
        return self.with_storage_keyword(sql, plan), params

    def with_storage_keyword(self, sql: str, plan: TablePlan) -> str:
        """``sql`` (a CREATE TABLE) for the plan's storage; MySQL has no such keyword."""
        return sql

    def unenforced_unique_key_sql(self, name: str, columns: str) -> str:
        """A unique key SingleStore would not enforce: on MariaDB/MySQL, a plain index."""
        return f"KEY {name} ({columns})"

    def shard_key_sql(self, columns: str) -> list[str]:
        """The SHARD KEY entry of a distributed table; MySQL has none."""
        return []

    def table_keys_sql(self, plan: TablePlan) -> list[str]:
        quote = self.quote_name
        columns = lambda names: ", ".join(quote(n) for n in names)  # noqa: E731
        keys = []
        if plan.primary_key:
            keys.append(f"PRIMARY KEY ({columns(plan.primary_key)})")
        table = plan.model._meta.db_table
        for key in plan.unique_keys:
            name = key.name
            if not name or len(name) > self.connection.ops.max_name_length():
                # Django's name (prefix + hash), as its deferred ALTER would give it.
                name = self._create_index_name(table, list(key.columns), suffix="_uniq")
            if key.enforced:
                keys.append(f"UNIQUE KEY {quote(name)} ({columns(key.columns)})")
            else:
                keys.append(self.unenforced_unique_key_sql(quote(name), columns(key.columns)))
        for extra in plan.extra_keys:
            keys.append(f"KEY ({columns(extra)})")
        if plan.shard_key:
            keys.extend(self.shard_key_sql(columns(plan.shard_key)))
        return keys

    def _iter_column_sql(
        self, column_db_type, params, model, field, field_db_params, include_default
    ):
        for part in super()._iter_column_sql(
            column_db_type, params, model, field, field_db_params, include_default
        ):
            if part == "PRIMARY KEY" and not self.plan(model).pk_inline:
                continue  # the m2m layout: PRIMARY KEY (from, to) at the table's end
            if part == "UNIQUE":
                # Unique keys are always named keys: the plan's in CREATE TABLE,
                # _create_unique_sql's after ADD COLUMN.
                continue
            yield part

    # -- unique keys added to an existing table ---------------------------------

    sql_create_unique = "ALTER TABLE %(table)s ADD UNIQUE KEY %(name)s (%(columns)s)"
    #: A unique key SingleStore would not enforce: an index, unenforced on MariaDB too.
    sql_create_unenforced_unique = "ALTER TABLE %(table)s ADD KEY %(name)s (%(columns)s)"

    def _create_unique_sql(self, model, fields, name=None, **options):
        if options.get("opclasses") and is_plain_unique_key_options(options):
            # Opclasses mean nothing here (as on Django's MySQL backend): a plain key.
            options["opclasses"] = None
        statement = super()._create_unique_sql(model, fields, name, **options)
        if statement is None or not is_plain_unique_key_options(options):
            return statement
        columns = tuple(field.column for field in fields)
        source = UniqueSource("unique key", columns, columns, model)
        key, _ = unique_key(
            model, self.storage(model), self.connection.storage_settings, source, ""
        )
        if not key.enforced:
            statement.template = self.sql_create_unenforced_unique
        return statement

    # -- changes to existing tables: refused before any DDL ----------------------

    def alter_field(self, model, old_field, new_field, strict=False):
        settings = self.connection.storage_settings
        self.refuse(
            alter_rules.alter_field_violations(
                model, self.storage(model), settings, old_field, new_field, self.connection
            )
        )
        super().alter_field(model, old_field, new_field, strict)

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
        super()._alter_field(
            model, old_field, new_field, old_type, new_type, old_db_params, new_db_params, strict
        )
        if changes_referenced_key(
            old_field, new_field, old_type, new_type, old_db_params, new_db_params
        ):
            # Django retypes the columns that refer to a key only while it drops
            # and remakes their FOREIGN KEY constraints; there are none here, so
            # the referring columns (foreign keys, MTI parent links, m2m tables)
            # follow the key here.
            for old_rel, new_rel in _related_non_m2m_objects(old_field, new_field):
                self.retype_referring_column(old_rel, new_rel)

    def retype_referring_column(self, old_rel, new_rel) -> None:
        rel_db_params = new_rel.field.db_parameters(connection=self.connection)
        old_rel_db_params = old_rel.field.db_parameters(connection=self.connection)
        fragment, other_actions = self._alter_column_type_sql(
            new_rel.related_model,
            old_rel.field,
            new_rel.field,
            rel_db_params["type"],
            old_rel_db_params.get("collation"),
            rel_db_params.get("collation"),
        )
        self.execute(
            self.sql_alter_column
            % {
                "table": self.quote_name(new_rel.related_model._meta.db_table),
                "changes": fragment[0],
            },
            fragment[1],
        )
        for sql, params in other_actions:
            self.execute(sql, params)

    def add_field(self, model, field):
        storage = self.storage(model)
        settings = self.connection.storage_settings
        self.refuse(alter_rules.add_field_violations(model, storage, settings, field))
        super().add_field(model, field)
        if field.unique and not field.primary_key and field.column and not field.many_to_many:
            # The column was added without its inline UNIQUE (see _iter_column_sql).
            self.execute(self._create_unique_sql(model, [field]))

    def remove_field(self, model, field):
        self.refuse(alter_rules.remove_field_violations(model, self.storage(model), field))
        super().remove_field(model, field)

    def alter_unique_together(self, model, old_unique_together, new_unique_together):
        storage = self.storage(model)
        settings = self.connection.storage_settings
        meta = model._meta
        violations = []
        for names in set(map(tuple, new_unique_together)) - set(map(tuple, old_unique_together)):
            columns = tuple(meta.get_field(name).column for name in names)
            source = UniqueSource(f"unique_together {names!r}", names, columns, model)
            violations += alter_rules.added_unique_violations(model, storage, settings, source)
        self.refuse(violations)
        super().alter_unique_together(model, old_unique_together, new_unique_together)

    def alter_index_together(self, model, old_index_together, new_index_together):
        storage = self.storage(model)
        meta = model._meta
        violations = []
        for names in set(map(tuple, new_index_together)) - set(map(tuple, old_index_together)):
            columns = tuple(meta.get_field(name).column for name in names)
            if storage.is_columnstore:
                origin = f"index_together {names!r}"
                violations += alter_rules.duplicate_index(model, storage, columns, origin)
        self.refuse(violations)
        super().alter_index_together(model, old_index_together, new_index_together)

    def add_constraint(self, model, constraint):
        if is_plain_unique_key(constraint):
            meta = model._meta
            names = tuple(constraint.fields)
            columns = tuple(meta.get_field(name).column for name in names)
            source = UniqueSource(
                f"UniqueConstraint {constraint.name!r}", names, columns, model, constraint.name
            )
            self.refuse(
                alter_rules.added_unique_violations(
                    model, self.storage(model), self.connection.storage_settings, source
                )
            )
        super().add_constraint(model, constraint)

    def add_index(self, model, index):
        self.refuse(alter_rules.add_index_violations(model, self.storage(model), index))
        if not self.indexes_unindexable_column(model, index):
            super().add_index(model, index)

    @cached_property
    def commented_tables(self) -> set[str]:
        """Tables this editor created with their comment inline (table_sql)."""
        return set()

    def alter_db_table_comment(self, model, old_db_table_comment, new_db_table_comment):
        if old_db_table_comment == new_db_table_comment:
            return
        if old_db_table_comment is None and model._meta.db_table in self.commented_tables:
            return  # create_model's call: CREATE TABLE already carried it
        self.refuse([alter_rules.table_comment_violation(model, self.storage(model))])

    # -- no FOREIGN KEY constraints: nothing to find or to protect ---------------

    def _constraint_names(self, model, column_names=None, foreign_key=None, **kwargs):
        if foreign_key:
            return []  # none are ever created, and no server is needed to know it
        return super()._constraint_names(model, column_names, foreign_key=foreign_key, **kwargs)

    def _create_missing_fk_index(self, model, *, fields, expressions=None):
        # MySQL's workaround keeps InnoDB's implicit FOREIGN KEY index; there is none here.
        return


def changes_referenced_key(
    old_field, new_field, old_type, new_type, old_db_params, new_db_params
) -> bool:
    """Whether AlterField changes the type or collation of a key other columns refer to."""
    is_key = (old_field.primary_key and new_field.primary_key) or (
        old_field.unique and new_field.unique
    )
    return is_key and (
        old_type != new_type or old_db_params.get("collation") != new_db_params.get("collation")
    )


def is_plain_unique_key_options(options: dict) -> bool:
    """Whether ``_create_unique_sql`` options describe a plain unique key (no condition...)."""
    return not (
        options.get("condition")
        or options.get("deferrable")
        or options.get("include")
        or options.get("expressions")
        or options.get("nulls_distinct") is not None
    )
