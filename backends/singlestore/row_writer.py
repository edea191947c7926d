"""``save()`` as one statement: the writer django-nonrel's upsert patch calls.

``features.distinguishes_insert_from_update = False`` makes patches/upsert.py
call ``connection.store.upsert()`` instead of Django's UPDATE-then-INSERT, so a
save with a known primary key is one ``INSERT ... ON DUPLICATE KEY UPDATE``.

Whether the row was created (``post_save(created=...)``) cannot be read from the
affected-row count alone: with CLIENT_FOUND_ROWS, which ``update()`` needs, an
insert and an update that changes nothing both report 1. The update branch
therefore also sets ``LAST_INSERT_ID(~0)``; the statement's insert id is then
2**64-1 exactly when the row existed (an insert reports its own key, or 0).
"""

from __future__ import annotations

from typing import Any

from django_nonrel.exceptions import ConflictError
from django_nonrel.store_contract import RowWriter

#: LAST_INSERT_ID(~0): what the update branch of the upsert reports as insert id.
UPDATED_MARKER = 2**64 - 1


class SingleStoreRowWriter(RowWriter):
    """Row writes the ORM patches need from a SQL connection (``RowWriter``)."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def upsert_sql(
        self, table: str, pk_column: str, columns: list[str], update_columns: list[str]
    ) -> tuple[str, bool]:
        """One row's statement, and whether it is an INSERT IGNORE (nothing to update).

        ``columns`` are inserted; ``update_columns`` (a subset) are written to an
        existing row.
        """
        quote = self.connection.ops.quote_name
        names = ", ".join(quote(c) for c in [pk_column, *columns])
        placeholders = ", ".join(["%s"] * (len(columns) + 1))
        insert = f"INSERT INTO {quote(table)} ({names}) VALUES ({placeholders})"
        if not update_columns:
            return f"INSERT IGNORE INTO {quote(table)} ({names}) VALUES ({placeholders})", True
        first, *rest = map(quote, update_columns)
        assignments = [f"{first} = IF(LAST_INSERT_ID(~0), VALUES({first}), VALUES({first}))"]
        assignments += [f"{c} = VALUES({c})" for c in rest]
        return f"{insert} ON DUPLICATE KEY UPDATE {', '.join(assignments)}", False

    def upsert(
        self,
        table: str,
        pk_column: str,
        pk: Any,
        values: dict[str, Any],
        *,
        insert_only: dict[str, Any] | None = None,
        unset=(),
        expected: dict[str, Any] | None = None,
    ) -> bool:
        """Write one row by primary key; True if it was created (``RowWriter.upsert``).

        ``unset`` columns become NULL. With ``expected`` (a VersionField's column
        and loaded value) the row is updated only where it still holds that value:
        one UPDATE, and when it matched nothing an INSERT that refuses to touch a
        row that exists (ConflictError) -- two statements only for new rows.
        """
        values = {**values, **dict.fromkeys(unset)}
        insert_only = insert_only or {}
        columns = [*values, *insert_only]
        params = [pk, *values.values(), *insert_only.values()]
        if expected:
            return self.checked_upsert(table, pk_column, pk, values, columns, params, expected)
        sql, ignore = self.upsert_sql(table, pk_column, columns, list(values))
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            if ignore:
                return cursor.rowcount == 1
            return cursor.lastrowid != UPDATED_MARKER

    def checked_upsert(self, table, pk_column, pk, values, columns, params, expected) -> bool:
        quote = self.connection.ops.quote_name
        where = " AND ".join(f"{quote(column)} = %s" for column in expected)
        assignments = ", ".join(f"{quote(column)} = %s" for column in values)
        with self.connection.cursor() as cursor:
            if values:
                cursor.execute(
                    f"UPDATE {quote(table)} SET {assignments} "
                    f"WHERE {quote(pk_column)} = %s AND {where}",
                    [*values.values(), pk, *expected.values()],
                )
                if cursor.rowcount:
                    return False
            # No row with the expected value: create it, unless a row with pk exists.
            keep = quote(columns[0])
            names = ", ".join(quote(c) for c in [pk_column, *columns])
            cursor.execute(
                f"INSERT INTO {quote(table)} ({names}) VALUES ({', '.join(['%s'] * len(params))}) "
                f"ON DUPLICATE KEY UPDATE {keep} = IF(LAST_INSERT_ID(~0), {keep}, {keep})",
                params,
            )
            if cursor.lastrowid == UPDATED_MARKER:
                raise ConflictError(
                    f"{table}: the row {pk!r} changed since it was loaded "
                    f"(expected {expected!r}); nothing was written."
                )
            return True

    def note_explicit_keys(self, table: str, keys: list) -> None:
        """Nothing to do: AUTO_INCREMENT moves past explicit keys by itself."""
