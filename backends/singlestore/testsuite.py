"""Django's own tests this backend skips or expects to fail, each under its reason.

Read by ``DatabaseFeatures.django_test_skips`` / ``django_test_expected_failures``
(Django's test runner marks them). ``SKIPS`` apply in both dialects: they
follow from what the backend does on purpose, or from a SingleStore rule the
backend enforces in both dialects so that MariaDB behaves as SingleStore will.
``SKIPS_FROM_DJANGO_6`` apply from Django 6.0 on, ``SKIPS_BEFORE_DJANGO_6``
before it. ``SINGLESTORE_ONLY_SKIPS``
apply on a SingleStore server only. In the mysql
dialect Django's own MySQL/MariaDB skips are declared as well
(DatabaseFeatures extends Django's MySQL features). Measured on the 146 Django
test apps of the ``mongodb-official`` set (docs/conformance.md).
"""

PRIMARY_KEY_FIXED = (
    "SingleStore cannot add, drop or move a table's PRIMARY KEY after CREATE TABLE (it is also "
    "the shard key of a distributed table); the operation is refused before any DDL with the "
    "new-model-and-copy path (singlestore.E007), in both dialects."
)
TABLE_COMMENT_FIXED = (
    "SingleStore cannot change a table's comment after CREATE TABLE; db_table_comment is "
    "written in CREATE TABLE and AlterModelTableComment is refused (singlestore.E008)."
)

SKIPS: dict[str, set[str]] = {
    "Counts Django's 100-key DELETE batches; cascades here delete up to "
    "features.max_keys_per_command (1000) keys per statement, so fewer queries run.": {
        "delete.tests.DeletionTests.test_bulk",
        "delete.tests.DeletionTests.test_large_delete",
        "delete.tests.DeletionTests.test_large_delete_related",
    },
    "Counts the queries of save(): a save with a primary key is one INSERT ... ON DUPLICATE "
    "KEY UPDATE here (features.distinguishes_insert_from_update = False), where Django runs an "
    "UPDATE and then an INSERT, so one query fewer runs per saved table.": {
        "force_insert_update.tests.ForceInsertInheritanceTests.test_force_insert_diamond_mti",
        "force_insert_update.tests.ForceInsertInheritanceTests.test_force_insert_false",
        "force_insert_update.tests.ForceInsertInheritanceTests.test_force_insert_parent",
        "force_insert_update.tests.ForceInsertInheritanceTests."
        "test_force_insert_with_existing_grandparent",
        "force_insert_update.tests.ForceInsertInheritanceTests.test_force_insert_with_grandparent",
    },
    PRIMARY_KEY_FIXED: {
        "migrations.test_operations.OperationTests.test_alter_id_pk_to_uuid_pk",
        "migrations.test_operations.OperationTests.test_composite_pk_operations",
        "schema.tests.SchemaTests.test_add_auto_field",
        "schema.tests.SchemaTests.test_alter_int_pk_to_int_unique",
        "schema.tests.SchemaTests.test_alter_not_unique_field_to_primary_key",
        "schema.tests.SchemaTests.test_autofield_to_o2o",
        "schema.tests.SchemaTests.test_primary_key",
    },
    TABLE_COMMENT_FIXED: {
        "migrations.test_operations.OperationTests.test_alter_model_table_comment",
        "schema.tests.SchemaTests.test_db_comment_table",
    },
    "Expects RenameModel to rewrite the FOREIGN KEY constraint of a self-referential foreign "
    "key; this backend creates no FOREIGN KEY constraints, so the column needs no DDL.": {
        "migrations.test_operations.OperationTests."
        "test_rename_model_with_self_referential_fk_collect_sql",
    },
    "Tests Django's MySQL backend on mysqlclient (MySQLdb's own escaping of bytes and "
    "booleans); this backend escapes with singlestoredb's rules (bytes as X'..' literals).": {
        "backends.mysql.test_schema.SchemaEditorTests.test_quote_value",
    },
    "Expects SET FOREIGN_KEY_CHECKS around flush's DELETE/TRUNCATE statements; this backend "
    "creates no FOREIGN KEY constraints, so there are no checks to switch off.": {
        "backends.mysql.test_operations.MySQLOperationsTests.test_sql_flush",
        "backends.mysql.test_operations.MySQLOperationsTests.test_sql_flush_sequences",
    },
    "Tests InnoDB/MyISAM storage-engine handling in Django's MySQL backend (engine "
    "introspection, MyISAM without transactions, InnoDB's implicit FOREIGN KEY indexes); this "
    "backend creates no FOREIGN KEY constraints and indexes every ForeignKey column itself.": {
        "backends.mysql.test_features.TestFeatures.test_supports_transactions",
        "backends.mysql.test_introspection.StorageEngineTests.test_get_storage_engine",
        "indexes.tests.SchemaIndexesMySQLTests.test_no_index_for_foreignkey",
    },
    "Tests the parser of CHECK constraint definitions in Django's MySQL introspection; this "
    "backend creates no CHECK constraints (SingleStore has none).": {
        "backends.mysql.test_introspection.ParsingTests.test_parse_constraint_columns",
    },
    "Permission tests that need a non-root user: run as root (as in this project's test "
    "containers) a read-only directory is still writable, on every database backend.": {
        "admin_scripts.tests.StartApp.test_custom_app_directory_creation_error_handling",
        "file_uploads.tests.DirectoryCreationTests.test_readonly_root",
        "i18n.test_compilation.PoFileTests.test_no_write_access",
    },
}

#: Skips for Django 6.x only (the same test passes on 5.2, where its SQL differs).
SKIPS_FROM_DJANGO_6: dict[str, set[str]] = {
    "Compares CASE over a column with CASE over parameters (Django 6.1's validation of an "
    "expression constraint): MariaDB refuses it (error 1267, illegal mix of collations) when "
    "the server's default collation is not the client's, as on this project's test server "
    "(utf8mb4_unicode_ci against the driver's utf8mb4_general_ci); Django's own MySQL backend "
    "fails it there too.": {
        "constraints.tests.UniqueConstraintTests.test_validate_case_when",
    },
}

#: Skips for Django 5.2 only (the test passes on 6.x).
SKIPS_BEFORE_DJANGO_6: dict[str, set[str]] = {
    "Times Django's XML deserializer (no database involved): Django 5.2.19's implementation "
    "measures an average growth factor above the test's bound of 2 on this project's 2-core "
    "test machine on every backend, stock SQLite included (2.4 there); Django 6.1 passes.": {
        "serializers.test_deserialization.TestDeserializer.test_crafted_xml_performance",
    },
}

SINGLESTORE_ONLY_SKIPS: dict[str, set[str]] = {}

EXPECTED_FAILURES: set[str] = set()
