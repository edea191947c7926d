"""The SingleStore backend's settings, switches and feature flags (no server needed)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from django_nonrel.backends.singlestore import ModelStorageManager
from tests.singlestore.offline import offline_connection


def test_dialect_sets_the_vendor_django_dispatches_on():
    assert offline_connection().vendor == "singlestore"
    assert offline_connection("mysql").vendor == "mysql"
    with pytest.raises(ImproperlyConfigured, match="'singlestore'.*'mysql'"):
        offline_connection("postgres")


def test_flags_about_what_the_backend_emits_hold_in_both_dialects():
    for dialect in ("singlestore", "mysql"):
        features = offline_connection(dialect).features
        assert features.supports_foreign_keys is False
        assert features.supports_table_check_constraints is False
        assert features.distinguishes_insert_from_update is False
        assert features.supports_on_delete_db_cascade is False


def test_singlestore_flags_need_no_server():
    features = offline_connection().features  # nothing listens: any probe would fail
    assert features.uses_savepoints is False
    assert features.has_native_uuid_field is False  # SingleStore stores UUIDs as char(32)
    assert features.supports_transactions is True
    assert features.can_return_columns_from_insert is False
    assert features.has_select_for_update_skip_locked is False


def test_isolation_level_is_read_committed_on_singlestore():
    with pytest.raises(ImproperlyConfigured, match="read committed"):
        offline_connection(isolation_level="serializable").get_connection_params()
    params = offline_connection("mysql", isolation_level="serializable").get_connection_params()
    assert "isolation_level" not in params and "dialect" not in params


def test_backend_options_are_not_passed_to_the_driver():
    params = offline_connection(table_storage_type="ROWSTORE", local_infile=True)
    kwargs = params.get_connection_params()
    assert kwargs["local_infile"] is True
    assert "table_storage_type" not in kwargs and "dialect" not in kwargs
    assert kwargs["client_found_rows"] is True


class RecordingDriverConnection:
    def __init__(self):
        self.calls = []

    def autocommit(self, value):
        self.calls.append(value)


def test_skip_autocommit_leaves_the_session_alone(monkeypatch):
    connection = offline_connection()
    connection.connection = RecordingDriverConnection()
    connection._set_autocommit(False)
    assert connection.connection.calls == [False]
    monkeypatch.setenv("DJANGO_SINGLESTORE_SKIP_AUTOCOMMIT", "1")
    connection._set_autocommit(True)
    assert connection.connection.calls == [False]
    connection.connection = None


def test_model_storage_manager_is_written_into_migrations():
    manager = ModelStorageManager(table_storage_type="rowstore  reference")
    assert manager.table_storage_type == "ROWSTORE REFERENCE"
    as_manager, path, _, args, kwargs = manager.deconstruct()
    assert path == "django_nonrel.backends.singlestore.ModelStorageManager"
    assert args == ("ROWSTORE REFERENCE",) and not as_manager
    assert ModelStorageManager.use_in_migrations is True
