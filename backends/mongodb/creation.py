"""Test databases: a database name on the same server, dropped afterwards."""

from django.db.backends.base.creation import BaseDatabaseCreation

from .index_set import ID_INDEX, server_options


class DatabaseCreation(BaseDatabaseCreation):
    def _create_test_db(self, verbosity, autoclobber, keepdb=False):
        name = self._get_test_db_name()
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
