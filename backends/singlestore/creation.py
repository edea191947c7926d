"""Test databases: Django's MySQL creation (CREATE DATABASE, clone by dump)."""

from django.db.backends.mysql.creation import DatabaseCreation as MySQLCreation


class DatabaseCreation(MySQLCreation):
    def sql_table_creation_suffix(self):
        # SingleStore databases take no CHARACTER SET / COLLATE clause at creation.
        if self.connection.is_singlestore:
            return ""
        return super().sql_table_creation_suffix()
