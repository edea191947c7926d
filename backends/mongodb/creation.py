"""Test databases: a database name on the same server, dropped afterwards.

The databases Django's test runner makes (and those its parallel workers
attach to) are remembered for the life of the process: a test database has
one user, so ``atomic()`` and ``TestCase`` roll back there with the undo
journal by default (see ``atomicity.py``).
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.creation import BaseDatabaseCreation

from .index_set import ID_INDEX, server_options

#: (HOST, NAME) of the test databases this process's connections use.
TEST_DATABASES: set[tuple[str, str]] = set()


def _database(settings_dict: dict[str, Any]) -> tuple[str, str]:
    return (settings_dict.get("HOST") or "", settings_dict["NAME"])


def is_test_database(settings_dict: dict[str, Any]) -> bool:
    """Whether the database of ``settings_dict`` is a test database Django's runner made."""
    return bool(TEST_DATABASES) and _database(settings_dict) in TEST_DATABASES


class DatabaseCreation(BaseDatabaseCreation):
    def destroy_test_db(self, old_database_name=None, verbosity=1, keepdb=False, suffix=None):
        if suffix is None:  # not a parallel worker's clone: the database in use
            TEST_DATABASES.discard(_database(self.connection.settings_dict))
        return super().destroy_test_db(old_database_name, verbosity, keepdb, suffix)

    def setup_worker_connection(self, _worker_id):
        super().setup_worker_connection(_worker_id)
        TEST_DATABASES.add(_database(self.connection.settings_dict))

    def _create_test_db(self, verbosity, autoclobber, keepdb=False):
        # Remembered here rather than by wrapping create_test_db(): Django's
        # deprecation warnings there point at their caller's frame.
        name = self._get_test_db_name()
        TEST_DATABASES.add(_database({**self.connection.settings_dict, "NAME": name}))
        if not keepdb:
            self._drop(name)
        return name

    def _destroy_test_db(self, test_database_name, verbosity):
        self._drop(test_database_name)

    def _drop(self, name: str) -> None:
        self.connection.ensure_connection()
        with self.connection.wrap_database_errors:
            self.connection.connection.drop_database(name)

    def _clone_test_db(self, suffix, verbosity, keepdb=False):
        source = self.connection.settings_dict["NAME"]
        target = self.get_test_db_clone_settings(suffix)["NAME"]
        client = self.connection.connection
        if not keepdb:
            client.drop_database(target)
        for name in client[source].list_collection_names():
            documents = list(client[source][name].find())
            if documents:
                client[target][name].insert_many(documents)
            for index, info in client[source][name].index_information().items():
                if index != ID_INDEX:
                    # Every option: a sparse or partial unique index copied as a plain
                    # unique one would refuse rows the original accepts.
                    client[target][name].create_index(
                        info["key"], name=index, **server_options(info)
                    )

    def sql_table_creation_suffix(self):
        return ""
