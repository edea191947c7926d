"""Every piece of Django the project wraps, copies or assigns to, pinned by source hash.

django-nonrel patches an unmodified Django at run time and, in places, does
what a Django function does in its own way (the same checks and messages, the
same steps). Each such function is listed here with what depends on it, and
the hash of its source (``inspect.getsource``, the original under any wrapper)
in every supported Django release series. ``tests/test_django_pins.py`` fails
when the installed Django's source differs, naming what to re-check, so a
Django point release that changes one of these functions is noticed before
a user notices.

After re-checking the dependent code against the new source, print the
current hashes with ``python -m tests.django_pins`` and update ``HASHES``.
docs/patches.md lists the same functions for readers.
"""

from __future__ import annotations

import hashlib
import inspect
import pkgutil
from dataclasses import dataclass

import django


@dataclass(frozen=True)
class Pin:
    """``how`` the project depends on the Django function: wrapped, copied or assigned."""

    how: str
    where: str
    why: str


PINS: dict[str, Pin] = {
    # -- wrapped by patches/ (the patch calls the original) ------------------------
    "django.db.models.query:ModelIterable.__iter__": Pin(
        "wrapped",
        "patches/structured_rows.py",
        "_model_rows repeats its loop (known related objects, annotations, fetch modes)",
    ),
    "django.db.models.query:ValuesIterable.__iter__": Pin(
        "wrapped", "patches/structured_rows.py", "values() rows from structured rows"
    ),
    "django.db.models.query:ValuesListIterable.__iter__": Pin(
        "wrapped", "patches/structured_rows.py", "values_list() rows from structured rows"
    ),
    "django.db.models.query:FlatValuesListIterable.__iter__": Pin(
        "wrapped", "patches/structured_rows.py", "values_list(flat=True) from structured rows"
    ),
    "django.db.models.base:Model._save_table": Pin(
        "wrapped",
        "patches/upsert.py",
        "_make_save_table repeats its field loop (pre_save, model instances as values)",
    ),
    "django.db.models.base:Model._do_update": Pin(
        "wrapped",
        "patches/shard_keys.py, patches/update_or_create.py, django_nonrel/fields/version.py",
        "adds the shard key to the pk filter; the save update_or_create() guards also filters "
        "on its lookup; a VersionField's model overrides it (and _save_table) to check the "
        "version",
    ),
    "django.db.models.deletion:Collector.delete": Pin(
        "wrapped",
        "patches/shard_keys.py, patches/cascade.py",
        "makes the collected instances' shard keys known to the cascade's batches; a "
        "key-set cascade's queryset rows are deleted through the queryset",
    ),
    "django.db.models.query:QuerySet.update_or_create": Pin(
        "wrapped",
        "patches/update_or_create.py",
        "repeats its steps (get_or_create, the update_fields of the defaults and pre_save "
        "fields) with a save guarded on the lookup instead of select_for_update()",
    ),
    "django.db.models.sql.subqueries:DeleteQuery.delete_batch": Pin(
        "wrapped", "patches/cascade.py", "deletes in batches of max_keys_per_command"
    ),
    "django.db.models.sql.subqueries:UpdateQuery.update_batch": Pin(
        "wrapped", "patches/cascade.py", "SET_NULL updates in batches of max_keys_per_command"
    ),
    "django.db.models.deletion:Collector.collect": Pin(
        "wrapped", "patches/cascade.py", "the cascade take-over hooks (collect()'s parameters)"
    ),
    "django.db.models.query:QuerySet.count": Pin(
        "wrapped", "patches/count_limit.py", "count(limit=N)"
    ),
    "django.db.models.sql.subqueries:UpdateQuery.add_update_fields": Pin(
        "wrapped", "patches/embedded_values.py", "model instances as EmbeddedModelField values"
    ),
    # -- copied: done again in our code, with Django's rules and messages ---------
    "django.db.models.query:RelatedPopulator.populate": Pin(
        "copied",
        "patches/structured_rows.py",
        "_attach_related caches select_related() objects on both sides as it does, and tracks "
        "each step's objects as peers under Django 6.1's FETCH_PEERS",
    ),
    "django.db.models.base:Model.__init__": Pin(
        "copied",
        "django_nonrel/instances.py",
        "instance_builder's and document_builder's fast paths of its steps",
    ),
    "django.db.models.base:Model.from_db": Pin(
        "copied",
        "django_nonrel/instances.py",
        "instance_builder and document_builder mark the state as from_db does",
    ),
    "django.db.models.sql.compiler:SQLCompiler.get_related_selections": Pin(
        "copied",
        "django_nonrel/select_related.py",
        "related_steps walks select_related() with its rules and error messages",
    ),
    "django.db.models.sql.compiler:SQLCompiler.get_default_columns": Pin(
        "copied",
        "django_nonrel/selections.py",
        "select() reads a multi-table parent's fields through join_parent_model as it does",
    ),
    "django.db.models.sql.compiler:SQLCompiler.find_ordering_name": Pin(
        "copied",
        "django_nonrel/ordering.py",
        "ordering_items: a relation orders by its Meta.ordering; 'Infinite loop' error",
    ),
    "django.db.models.sql.query:Query.names_to_path": Pin(
        "copied", "django_nonrel/ordering.py", "ordering_items' 'Cannot resolve keyword' message"
    ),
    "django.db.models.sql.compiler:SQLInsertCompiler.prepare_value": Pin(
        "copied", "django_nonrel/writes.py", "insert_value's checks and messages"
    ),
    "django.db.models.sql.compiler:SQLInsertCompiler.pre_save_val": Pin(
        "copied", "django_nonrel/writes.py", "stored_rows: raw saves skip pre_save"
    ),
    "django.db.models.sql.compiler:SQLUpdateCompiler.pre_sql_setup": Pin(
        "copied", "django_nonrel/writes.py", "pin_related_ids: inherited fields' updates by key"
    ),
    "django.db.models.sql.compiler:SQLUpdateCompiler.execute_sql": Pin(
        "copied", "django_nonrel/compiler.py", "the row count of an update with related updates"
    ),
    "django.db.models.lookups:Lookup.get_prep_lookup": Pin(
        "copied",
        "django_nonrel/leaves.py",
        "preparer: a queryset's values are prepared as it prepares a literal value",
    ),
    "django.db.models.query:QuerySet.bulk_create": Pin(
        "copied",
        "django_nonrel/bulk_inserts.py",
        "the keys the inserts return are set on the instances (attname) as it sets them",
    ),
    "django.db.models.lookups:In.process_rhs": Pin(
        "copied", "django_nonrel/leaves.py", "'Subqueries aren't allowed across databases'"
    ),
    "django.db.models.lookups:IntegerFieldOverflow.process_rhs": Pin(
        "copied", "django_nonrel/leaves.py", "_out_of_range decides out-of-range integers"
    ),
    "django.db.models.fields.json:DataContains.as_sql": Pin(
        "copied", "django_nonrel/leaves.py", "the refusal of contains without JSON containment"
    ),
    "django.db.models.functions.datetime:Extract.as_sql": Pin(
        "copied",
        "django_nonrel/expressions.py",
        "Extract's refusals of a DurationField and of tzinfo on a date or time",
    ),
    "django.db.models.functions.datetime:TruncBase.as_sql": Pin(
        "copied", "django_nonrel/expressions.py", "Trunc's refusal of tzinfo on a date or time"
    ),
    "django.db.models.lookups:Lookup.process_rhs": Pin(
        "copied", "django_nonrel/expressions.py", "bilateral transforms applied to the value"
    ),
    "django.db.models.query_utils:Q.check": Pin(
        "copied", "django_nonrel/literal_check.py", "evaluates the query Q.check() builds"
    ),
    "django.db.models.constraints:UniqueConstraint.validate": Pin(
        "copied",
        "django_nonrel/literal_check.py",
        "evaluates the condition & Exists(colliding rows) query a condition makes it check",
    ),
    "django.db.backends.base.schema:BaseDatabaseSchemaEditor.execute": Pin(
        "copied",
        "backends/mongodb/schema.py",
        "execute(): DDL refused inside atomic() with its message, logged as it logs SQL",
    ),
    "django.db.backends.base.schema:BaseDatabaseSchemaEditor._alter_field": Pin(
        "copied",
        "backends/mongodb/schema.py, backends/singlestore/schema.py",
        "_alter_field drops a field's unique constraint and index and adds an index by its "
        "rules, with its 'Found wrong number' error; SingleStore's retype_referring_column "
        "repeats its retype of the columns that refer to a changed key "
        "(_related_non_m2m_objects), which it does only while remaking FOREIGN KEYs",
    ),
    "django.db.backends.base.schema:BaseDatabaseSchemaEditor._iter_column_sql": Pin(
        "copied",
        "backends/singlestore/singlestore_ddl.py, backends/singlestore/schema.py",
        "a GeneratedField's column as it renders one (AS (...) PERSISTED in SingleStore's "
        "order); its inline PRIMARY KEY and UNIQUE parts are left out by name",
    ),
    "django.db.backends.base.schema:BaseDatabaseSchemaEditor._model_indexes_sql": Pin(
        "copied",
        "backends/singlestore/schema.py",
        "its loop over field indexes and Meta.indexes, leaving out indexes on JSON/TEXT columns",
    ),
    "django.db.backends.base.schema:BaseDatabaseSchemaEditor._create_unique_sql": Pin(
        "copied",
        "backends/singlestore/schema.py",
        "table_keys_sql names an inline unique_together key as its deferred ALTER would "
        "(_create_index_name, suffix _uniq)",
    ),
    "django.db.backends.base.schema:BaseDatabaseSchemaEditor._alter_column_default_sql": Pin(
        "copied",
        "backends/singlestore/singlestore_ddl.py",
        "a default set or dropped as MODIFY COLUMN, with the nullability and parameter it uses",
    ),
    "django.db.backends.base.schema:BaseDatabaseSchemaEditor._alter_column_database_default_sql": (
        Pin(
            "copied",
            "backends/singlestore/singlestore_ddl.py",
            "a db_default set or dropped as MODIFY COLUMN, with the old field's nullability",
        )
    ),
    "django.db.backends.mysql.schema:DatabaseSchemaEditor._field_should_be_indexed": Pin(
        "copied",
        "backends/singlestore/schema.py",
        "its rule without InnoDB's exception (a FOREIGN KEY's own index): every db_index "
        "field gets one",
    ),
    "django.db.models.fields.related_lookups:RelatedLookupMixin.as_sql": Pin(
        "copied",
        "django_nonrel/column_tuples.py",
        "_as_tuple_lookup turns a related lookup over several columns into the tuple "
        "lookup it compiles to, with its 'doesn't support multi-column subqueries' error",
    ),
    "django.db.models.fields.related_lookups:RelatedIn.as_sql": Pin(
        "copied",
        "django_nonrel/column_tuples.py",
        "_as_tuple_lookup: __in over several columns is TupleIn of normalized values",
    ),
    "django.db.models.fields.tuple_lookups:TupleGreaterThan.get_fallback_sql": Pin(
        "copied",
        "django_nonrel/column_tuples.py",
        "_compare builds the same lexicographic a > x OR (a = x AND ...) tree (lt/lte/gte alike)",
    ),
    "django.db.models.sql.datastructures:Join.as_sql": Pin(
        "copied",
        "django_nonrel/relations.py",
        "join_of raises its 'Join generated an empty ON clause.' for a join without columns",
    ),
    # -- assigned: our function set on, or swapped into, a Django object -----------
    "django.db.models.sql.compiler:SQLCompiler.compile": Pin(
        "assigned",
        "backends/singlestore/functions.py",
        "as_singlestore()/sql_singlestore() set on Django's and our expressions are "
        "found by its as_<vendor> dispatch",
    ),
    "django.db.models.functions.comparison:Cast.as_sql": Pin(
        "assigned", "backends/singlestore/functions.py", "Cast.as_singlestore calls it"
    ),
    "django.db.models.fields.json:KeyTransform.preprocess_lhs": Pin(
        "assigned", "backends/singlestore/functions.py", "KeyTransform.as_singlestore calls it"
    ),
    "django.db.backends.base.schema:BaseDatabaseSchemaEditor.table_sql": Pin(
        "assigned",
        "backends/singlestore/schema.py",
        "table_sql swaps the model's Meta.unique_together and Meta.constraints while it runs "
        "(unique keys go inline, from the table plan)",
    ),
    "django.core.management.commands.sqlmigrate:Command.handle": Pin(
        "assigned",
        "django_nonrel/management/commands/sqlmigrate.py",
        "MigrationLoader is swapped in its module while handle() runs",
    ),
}

#: Source hashes per supported release series ("5.2", "6.1"), as ``source_hash`` gives them.
HASHES: dict[str, dict[str, str]] = {
    "5.2": {
        "django.db.models.fields.related_lookups:RelatedLookupMixin.as_sql": "c2b13494fbc1507e",
        "django.db.models.fields.related_lookups:RelatedIn.as_sql": "4cb5441f9bb32c77",
        "django.db.models.fields.tuple_lookups:TupleGreaterThan.get_fallback_sql": (
            "a70b5f08c698523a"
        ),
        "django.db.models.sql.datastructures:Join.as_sql": "cc3d1ed9d304c768",
        "django.db.models.query:ModelIterable.__iter__": "c2a744b8c18e0b4a",
        "django.db.models.query:ValuesIterable.__iter__": "02f58ade3ac0f2ed",
        "django.db.models.query:ValuesListIterable.__iter__": "0ae5e24afc01dfc9",
        "django.db.models.query:FlatValuesListIterable.__iter__": "d5ef4d1d9df2c7f1",
        "django.db.models.base:Model._save_table": "2a39268c21f5b8e6",
        "django.db.models.base:Model._do_update": "cf249d2906d14339",
        "django.db.models.deletion:Collector.delete": "6fc1aeb89d3dc298",
        "django.db.models.query:QuerySet.update_or_create": "956dcfb6cd380dd9",
        "django.db.models.sql.subqueries:DeleteQuery.delete_batch": "670d6c220e3e03b2",
        "django.db.models.sql.subqueries:UpdateQuery.update_batch": "7696c3cc49733c5c",
        "django.db.models.deletion:Collector.collect": "2d0885bb209f7848",
        "django.db.models.query:QuerySet.count": "162ee108a6c63e45",
        "django.db.models.sql.subqueries:UpdateQuery.add_update_fields": "0143cf9933f7d274",
        "django.db.models.query:RelatedPopulator.populate": "c939cb628b0376fe",
        "django.db.models.base:Model.__init__": "2950c3a90d8343b5",
        "django.db.models.base:Model.from_db": "eba347895d11fa79",
        "django.db.models.sql.compiler:SQLCompiler.get_related_selections": "46cbc4bd45f61809",
        "django.db.models.sql.compiler:SQLCompiler.get_default_columns": "7c8a7afcfbb07c3a",
        "django.db.models.sql.compiler:SQLCompiler.find_ordering_name": "60c3db14753fb5eb",
        "django.db.models.sql.query:Query.names_to_path": "0139cf7ff827cb2e",
        "django.db.models.sql.compiler:SQLInsertCompiler.prepare_value": "2e49a07e78afaae1",
        "django.db.models.sql.compiler:SQLInsertCompiler.pre_save_val": "f9efbaa8ba5cb0c8",
        "django.db.models.sql.compiler:SQLUpdateCompiler.pre_sql_setup": "131dd44640a7bf95",
        "django.db.models.sql.compiler:SQLUpdateCompiler.execute_sql": "86018c46af014b0f",
        "django.db.models.lookups:Lookup.get_prep_lookup": "584e374ea5859f3f",
        "django.db.models.query:QuerySet.bulk_create": "f822e0fc4c40f266",
        "django.db.models.lookups:In.process_rhs": "272cd81bf4e99168",
        "django.db.models.lookups:IntegerFieldOverflow.process_rhs": "620fd815f978d1b5",
        "django.db.models.fields.json:DataContains.as_sql": "178b654954c8eb83",
        "django.db.models.functions.datetime:Extract.as_sql": "4314c022fed3fb2a",
        "django.db.models.functions.datetime:TruncBase.as_sql": "cbc497704cb28833",
        "django.db.models.lookups:Lookup.process_rhs": "afd5fff928b135e0",
        "django.db.models.query_utils:Q.check": "36b25fb1898fe00b",
        "django.db.models.constraints:UniqueConstraint.validate": "5193ebc5b6e021cc",
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor.execute": "11296b2dc57b663e",
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor._alter_field": "a05ae77d8e58336c",
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor._iter_column_sql": (
            "6d1e68db0db50d78"
        ),
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor._model_indexes_sql": (
            "aa41cf7c6f4fbe71"
        ),
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor._create_unique_sql": (
            "78b867ce77fd7c83"
        ),
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor._alter_column_default_sql": (
            "e8a363b6d12d6368"
        ),
        (
            "django.db.backends.base.schema:"
            "BaseDatabaseSchemaEditor._alter_column_database_default_sql"
        ): "cde5d10b4013c97b",
        "django.db.backends.mysql.schema:DatabaseSchemaEditor._field_should_be_indexed": (
            "713b49c4bda0f4d2"
        ),
        "django.db.models.sql.compiler:SQLCompiler.compile": "4a34446a1be3c1fb",
        "django.db.models.functions.comparison:Cast.as_sql": "6b993d3df3d66d99",
        "django.db.models.fields.json:KeyTransform.preprocess_lhs": "ef3c1731ed8f6045",
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor.table_sql": "53df430637119581",
        "django.core.management.commands.sqlmigrate:Command.handle": "580640c5328cd7c0",
    },
    "6.1": {
        "django.db.models.fields.related_lookups:RelatedLookupMixin.as_sql": "c2b13494fbc1507e",
        "django.db.models.fields.related_lookups:RelatedIn.as_sql": "4cb5441f9bb32c77",
        "django.db.models.fields.tuple_lookups:TupleGreaterThan.get_fallback_sql": (
            "a70b5f08c698523a"
        ),
        "django.db.models.sql.datastructures:Join.as_sql": "a4eb18dd7334b1b8",
        "django.db.models.query:ModelIterable.__iter__": "ecb74201bf2b1945",
        "django.db.models.query:ValuesIterable.__iter__": "02f58ade3ac0f2ed",
        "django.db.models.query:ValuesListIterable.__iter__": "0ae5e24afc01dfc9",
        "django.db.models.query:FlatValuesListIterable.__iter__": "d5ef4d1d9df2c7f1",
        "django.db.models.base:Model._save_table": "67bc3b41cd9792ae",
        "django.db.models.base:Model._do_update": "59a1dc7a6df96f7e",
        "django.db.models.deletion:Collector.delete": "c1e5f9092bda9900",
        "django.db.models.query:QuerySet.update_or_create": "956dcfb6cd380dd9",
        "django.db.models.sql.subqueries:DeleteQuery.delete_batch": "670d6c220e3e03b2",
        "django.db.models.sql.subqueries:UpdateQuery.update_batch": "7696c3cc49733c5c",
        "django.db.models.deletion:Collector.collect": "f48715a7c222c08e",
        "django.db.models.query:QuerySet.count": "162ee108a6c63e45",
        "django.db.models.sql.subqueries:UpdateQuery.add_update_fields": "bb01d4dcbda2e7cd",
        "django.db.models.query:RelatedPopulator.populate": "18ad7db51aeccf14",
        "django.db.models.base:Model.__init__": "769dfdd9d6fd091f",
        "django.db.models.base:Model.from_db": "7c5e122272f4dd53",
        "django.db.models.sql.compiler:SQLCompiler.get_related_selections": "46cbc4bd45f61809",
        "django.db.models.sql.compiler:SQLCompiler.get_default_columns": "7c8a7afcfbb07c3a",
        "django.db.models.sql.compiler:SQLCompiler.find_ordering_name": "60c3db14753fb5eb",
        "django.db.models.sql.query:Query.names_to_path": "8ed79b6c4e45d01b",
        "django.db.models.sql.compiler:SQLInsertCompiler.prepare_value": "2e49a07e78afaae1",
        "django.db.models.sql.compiler:SQLInsertCompiler.pre_save_val": "f9efbaa8ba5cb0c8",
        "django.db.models.sql.compiler:SQLUpdateCompiler.pre_sql_setup": "131dd44640a7bf95",
        "django.db.models.sql.compiler:SQLUpdateCompiler.execute_sql": "9fa727b7666267fa",
        "django.db.models.lookups:Lookup.get_prep_lookup": "584e374ea5859f3f",
        "django.db.models.query:QuerySet.bulk_create": "08ca44a764e1b1be",
        "django.db.models.lookups:In.process_rhs": "272cd81bf4e99168",
        "django.db.models.lookups:IntegerFieldOverflow.process_rhs": "620fd815f978d1b5",
        "django.db.models.fields.json:DataContains.as_sql": "178b654954c8eb83",
        "django.db.models.functions.datetime:Extract.as_sql": "4314c022fed3fb2a",
        "django.db.models.functions.datetime:TruncBase.as_sql": "cbc497704cb28833",
        "django.db.models.lookups:Lookup.process_rhs": "afd5fff928b135e0",
        "django.db.models.query_utils:Q.check": "7276694c4df8e8c9",
        "django.db.models.constraints:UniqueConstraint.validate": "db367212d0eec9fb",
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor.execute": "11296b2dc57b663e",
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor._alter_field": "9a53eb22b4ad6fa2",
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor._iter_column_sql": (
            "1c53b67f089b2aee"
        ),
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor._model_indexes_sql": (
            "aa41cf7c6f4fbe71"
        ),
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor._create_unique_sql": (
            "78b867ce77fd7c83"
        ),
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor._alter_column_default_sql": (
            "e8a363b6d12d6368"
        ),
        (
            "django.db.backends.base.schema:"
            "BaseDatabaseSchemaEditor._alter_column_database_default_sql"
        ): "cde5d10b4013c97b",
        "django.db.backends.mysql.schema:DatabaseSchemaEditor._field_should_be_indexed": (
            "713b49c4bda0f4d2"
        ),
        "django.db.models.sql.compiler:SQLCompiler.compile": "4a34446a1be3c1fb",
        "django.db.models.functions.comparison:Cast.as_sql": "6b993d3df3d66d99",
        "django.db.models.fields.json:KeyTransform.preprocess_lhs": "ef3c1731ed8f6045",
        "django.db.backends.base.schema:BaseDatabaseSchemaEditor.table_sql": "34f6a575c7a4ac86",
        "django.core.management.commands.sqlmigrate:Command.handle": "ade525fe7188805e",
    },
}


def resolve(name: str):
    """The Django function ``name`` names, unwrapped from any django-nonrel patch."""
    return inspect.unwrap(pkgutil.resolve_name(name))


def source_hash(name: str) -> str:
    """A short hash of the function's source text."""
    return hashlib.sha256(inspect.getsource(resolve(name)).encode()).hexdigest()[:16]


def series() -> str:
    """The installed Django's release series, e.g. "5.2"."""
    return "{}.{}".format(*django.VERSION[:2])


def main() -> None:
    """Print this Django's hashes in the shape of ``HASHES``."""
    django.setup()
    print(f"    {series()!r}: {{")
    for name in PINS:
        print(f"        {name!r}: {source_hash(name)!r},")
    print("    },")


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    main()
