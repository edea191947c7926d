"""Foreign-key integrity checked on request, since SingleStore enforces none.

No FOREIGN KEY constraint is ever created (SingleStore has none), so a row can
reference one that does not exist: a fixture with a wrong key, a raw INSERT.
Django asks the backend to find such rows through
``connection.check_constraints(table_names)`` -- ``loaddata`` does after every
fixture, as on MySQL with FOREIGN_KEY_CHECKS off. Django's MySQL backend finds
the relations in the server's FOREIGN KEY metadata; here they come from the
models (every concrete ForeignKey and OneToOneField with ``db_constraint``,
many-to-many tables included), and each is checked with one LEFT JOIN.
"""

from __future__ import annotations

from django.apps import apps
from django.db import IntegrityError, router


def foreign_keys(connection, table_names) -> list[tuple[str, str, str, str, str]]:
    """(table, pk column, column, referenced table, referenced column) of the tables' FKs."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if (
            meta.db_table not in table_names
            or not meta.managed
            or meta.proxy
            or not router.allow_migrate_model(connection.alias, model)
        ):
            continue
        for field in meta.local_concrete_fields:
            if field.many_to_one or field.one_to_one:
                if not field.db_constraint:
                    continue
                target = field.target_field
                found.append(
                    (
                        meta.db_table,
                        meta.pk_fields[0].column,
                        field.column,
                        target.model._meta.db_table,
                        target.column,
                    )
                )
    return found


def check_foreign_keys(connection, table_names=None) -> None:
    """Raise IntegrityError (Django's MySQL message) for the first row with a dangling key."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        wanted = existing if table_names is None else existing & set(table_names)
        for table, pk, column, to_table, to_column in foreign_keys(connection, wanted):
            if to_table not in existing:
                continue
            cursor.execute(
                f"SELECT REFERRING.{quote(pk)}, REFERRING.{quote(column)} "
                f"FROM {quote(table)} AS REFERRING LEFT JOIN {quote(to_table)} AS REFERRED "
                f"ON (REFERRING.{quote(column)} = REFERRED.{quote(to_column)}) "
                f"WHERE REFERRING.{quote(column)} IS NOT NULL "
                f"AND REFERRED.{quote(to_column)} IS NULL LIMIT 1"
            )
            bad_row = cursor.fetchone()
            if bad_row is not None:
                raise IntegrityError(
                    f"The row in table '{table}' with primary key '{bad_row[0]}' has an invalid "
                    f"foreign key: {table}.{column} contains a value '{bad_row[1]}' that does "
                    f"not have a corresponding value in {to_table}.{to_column}."
                )
