"""What the SingleStore backend supports, each flag declared once.

Two kinds of flags:

* flags about what this backend *emits*, the same in both dialects so an app
  behaves on MariaDB as it will on SingleStore: no FOREIGN KEY or CHECK
  constraints, no native UUID column, ``save()`` as one upsert;
* flags about the *server*, which follow the dialect: SingleStore's known
  facts in ``"singlestore"`` (never probed to render SQL), the probed server in
  ``"mysql"`` (through Django's MySQL features, which this class extends).

Django-suite skips and expected failures for this backend are declared in
``django_test_skips`` / ``django_test_expected_failures``, each under a reason.
"""

import django
from django.db.backends.mysql.features import DatabaseFeatures as MySQLFeatures
from django.utils.functional import cached_property

from django_nonrel.features import NonrelFeatures
from django_nonrel.testing import existing_test_ids

from .testsuite import (
    EXPECTED_FAILURES,
    SINGLESTORE_ONLY_SKIPS,
    SKIPS,
    SKIPS_BEFORE_DJANGO_6,
    SKIPS_FROM_DJANGO_6,
)


class DatabaseFeatures(NonrelFeatures, MySQLFeatures):
    # singlestoredb's fetchmany() returns [] when the rows are exhausted.
    empty_fetchmany_value = []

    # -- django-nonrel flags (declared in django_nonrel.features) ---------------
    # save() is one INSERT ... ON DUPLICATE KEY UPDATE (patches/upsert.py).
    distinguishes_insert_from_update = False
    # Keys per DELETE/UPDATE ... IN (...) in cascades (patches/cascade.py).
    max_keys_per_command = 1000

    # -- what this backend emits (both dialects) --------------------------------
    # SingleStore neither creates nor enforces foreign keys; none are emitted.
    supports_foreign_keys = False
    can_create_inline_fk = False
    can_introspect_foreign_keys = False
    supports_column_check_constraints = False
    supports_table_check_constraints = False
    can_introspect_check_constraints = False
    # Django 6.1's database-level on_delete (DB_CASCADE, DB_SET_NULL, DB_SET_DEFAULT)
    # lives in FOREIGN KEY constraints, which are never created.
    supports_on_delete_db_cascade = False
    supports_on_delete_db_default = False
    supports_on_delete_db_null = False
    supports_partial_indexes = False
    supports_expression_indexes = False
    supports_covering_indexes = False
    supports_ignore_conflicts = True
    supports_update_conflicts = True
    supports_update_conflicts_with_target = False
    # Tables the rule checks refuse never reach the server, on any dialect.
    supports_json_field = True
    supports_timezones = False

    # -- the server (dialect) ---------------------------------------------------

    @cached_property
    def _singlestore(self) -> bool:
        return self.connection.is_singlestore

    @cached_property
    def renders_migrations_offline(self) -> bool:
        """The singlestore dialect renders DDL from its known facts, with no server."""
        return self._singlestore

    @cached_property
    def _mysql_storage_engine(self):
        return "SingleStore" if self._singlestore else "InnoDB"

    @cached_property
    def has_native_uuid_field(self):
        # SingleStore has no UUID type (char(32)); MariaDB 10.7+ has one.
        return not self._singlestore and super().has_native_uuid_field

    @cached_property
    def uses_savepoints(self):
        # SingleStore has no SAVEPOINT statement.
        return not self._singlestore

    @cached_property
    def can_release_savepoints(self):
        return not self._singlestore

    @cached_property
    def supports_transactions(self):
        return True

    @cached_property
    def can_return_columns_from_insert(self):
        return not self._singlestore and self.connection.mysql_is_mariadb

    @cached_property
    def supports_virtual_generated_columns(self):
        # SingleStore's computed columns are PERSISTED only.
        return not self._singlestore and super().supports_virtual_generated_columns

    @cached_property
    def has_select_for_update_nowait(self):
        return not self._singlestore

    @cached_property
    def has_select_for_update_skip_locked(self):
        return not self._singlestore and super().has_select_for_update_skip_locked

    @cached_property
    def has_select_for_update_of(self):
        return not self._singlestore and super().has_select_for_update_of

    @cached_property
    def has_zoneinfo_database(self):
        return True if self._singlestore else super().has_zoneinfo_database

    @cached_property
    def is_sql_auto_is_null_enabled(self):
        return False if self._singlestore else super().is_sql_auto_is_null_enabled

    @cached_property
    def ignores_table_name_case(self):
        return False if self._singlestore else super().ignores_table_name_case

    @cached_property
    def allows_auto_pk_0(self):
        return False if self._singlestore else super().allows_auto_pk_0

    @cached_property
    def update_can_self_select(self):
        return False if self._singlestore else super().update_can_self_select

    @cached_property
    def supports_explain_analyze(self):
        return False if self._singlestore else super().supports_explain_analyze

    @cached_property
    def supported_explain_formats(self):
        return {"JSON", "TEXT"} if self._singlestore else super().supported_explain_formats

    @cached_property
    def supports_index_column_ordering(self):
        return False if self._singlestore else super().supports_index_column_ordering

    @cached_property
    def can_rename_index(self):
        return False if self._singlestore else super().can_rename_index

    @cached_property
    def can_introspect_json_field(self):
        return True if self._singlestore else super().can_introspect_json_field

    @cached_property
    def supports_default_in_lead_lag(self):
        return True if self._singlestore else super().supports_default_in_lead_lag

    @cached_property
    def allows_group_by_selected_pks(self):
        return True if self._singlestore else super().allows_group_by_selected_pks

    @cached_property
    def minimum_database_version(self):
        return None if self._singlestore else super().minimum_database_version

    # -- Django's own test suite -------------------------------------------------

    @cached_property
    def django_test_skips(self):
        """Django's MySQL skips and this backend's, keeping only tests this release has."""
        skips = dict(super().django_test_skips)
        declared = [
            SKIPS,
            SKIPS_FROM_DJANGO_6 if django.VERSION >= (6, 0) else SKIPS_BEFORE_DJANGO_6,
        ]
        if self._singlestore:
            declared.append(SINGLESTORE_ONLY_SKIPS)
        for group in declared:
            for reason, tests in group.items():
                skips.setdefault(reason, set()).update(tests)
        # One list for every supported Django release: Django's runner stops at
        # an id its release does not have.
        return {reason: existing_test_ids(tests) for reason, tests in skips.items()}

    @cached_property
    def django_test_expected_failures(self):
        return existing_test_ids(set(super().django_test_expected_failures) | EXPECTED_FAILURES)
