"""``sqlmigrate`` that renders SingleStore DDL and MongoDB commands with no server reachable.

Django's command builds a MigrationLoader on the connection, which reads the
``django_migrations`` table only to know what is applied -- something
``sqlmigrate`` never uses. For the SingleStore backend in its singlestore
dialect every other step renders offline (server facts come from the dialect),
and so does every step of the MongoDB backend (``features.
renders_migrations_offline``: its schema editor collects readable shell
commands, ``shardCollection`` included, without asking the server anything).
The command skips that read and prints what a deploy pipeline can review
without credentials for production. Every other connection runs Django's
command unchanged.
"""

from typing import Any

from django.core.management.commands import sqlmigrate
from django.db import connections
from django.db.migrations.loader import MigrationLoader

from django_nonrel.features import nonrel_features


class _LoaderWithoutHistory(MigrationLoader):
    """A loader on ``connection`` that does not read the applied-migrations table."""

    def __init__(self, connection, **kwargs: Any) -> None:
        super().__init__(None, **kwargs)
        self.connection = connection


class Command(sqlmigrate.Command):
    def handle(self, *args: Any, **options: Any) -> str:
        connection = connections[options["database"]]
        if not nonrel_features(connection).renders_migrations_offline:
            return super().handle(*args, **options)
        # Django's handle() looks the loader class up in its module at run time.
        django_loader = sqlmigrate.MigrationLoader
        sqlmigrate.MigrationLoader = _LoaderWithoutHistory
        try:
            return super().handle(*args, **options)
        finally:
            sqlmigrate.MigrationLoader = django_loader
