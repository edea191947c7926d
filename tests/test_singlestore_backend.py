"""The SingleStore backend's settings, switches, feature flags and connection behaviour."""

import contextlib

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


class RecordingDriverCursor:
    def __init__(self):
        self.rows = None

    def executemany(self, query, args):
        self.rows = args
        return len(args)


def test_executemany_takes_any_iterable():
    """A generator reaches the driver as rows (it wants len(), and the NaN check reads them)."""
    from django_nonrel.backends.singlestore.base import CursorWrapper

    cursor = CursorWrapper(RecordingDriverCursor())
    assert cursor.executemany("INSERT ...", ((n, n * n) for n in range(3))) == 3
    assert cursor.cursor.rows == [(0, 0), (1, 1), (2, 4)]


def test_messages_name_the_server_of_the_dialect():
    assert offline_connection().display_name == "SingleStore"
    assert offline_connection("mysql", server_info="10.11.6-MariaDB").display_name == "MariaDB"
    assert offline_connection("mysql", server_info="8.0.36").display_name == "MySQL"


@pytest.mark.django_db
def test_check_constraints_finds_dangling_foreign_keys():
    """No FOREIGN KEY constraints exist, yet loaddata's integrity check still finds bad keys."""
    from django.db import IntegrityError, connection

    from tests.relations.models import Country, Publisher

    if not hasattr(connection, "is_singlestore"):
        pytest.skip(f"SingleStore backend behaviour; this tier runs {connection.vendor}")
    country = Country.objects.create(name="Norway")
    Publisher.objects.create(name="Gyldendal", country=country)
    tables = [Publisher._meta.db_table, Country._meta.db_table]
    connection.check_constraints(table_names=tables)
    Publisher.objects.create(name="Ghost", country_id=country.pk + 1000)
    with pytest.raises(IntegrityError, match="relations_publisher.country_id contains a value"):
        connection.check_constraints(table_names=tables)
    connection.check_constraints(table_names=[Country._meta.db_table])  # not the referring table


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_is_not_silently_replaced():
    """is_usable() is False after the server closed the connection (Django reconnects itself;
    a silent reconnect would lose the transaction and the session's settings)."""
    from django.db import Error, connection

    if not hasattr(connection, "is_singlestore"):
        pytest.skip(f"SingleStore backend behaviour; this tier runs {connection.vendor}")
    with connection.cursor():
        pass
    connection.connection.close()
    try:
        assert connection.is_usable() is False
    finally:
        with contextlib.suppress(Error):  # the driver refuses to close a closed socket
            connection.close()


@pytest.mark.django_db
def test_introspection_reports_character_lengths_as_djangos_mysql_backend():
    """inspectdb reads a CharField's max_length from display_size, in characters."""
    from django.db import connection

    from tests.relations.models import Publisher

    if not hasattr(connection, "is_singlestore"):
        pytest.skip(f"SingleStore backend behaviour; this tier runs {connection.vendor}")
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(
            cursor, Publisher._meta.db_table
        )
    name = next(info for info in description if info.name == "name")
    assert connection.introspection.get_field_type(name.type_code, name) == "CharField"
    assert name.display_size == 50
