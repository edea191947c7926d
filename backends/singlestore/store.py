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

#: LAST_INSERT_ID(~0): what the update branch of the upsert reports as insert id.
UPDATED_MARKER = 2**64 - 1


class RowStore:
    """Row writes the ORM patches need from a SQL connection."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def upsert_sql(self, table: str, pk_column: str, columns: list[str]) -> tuple[str, bool]:
        """The statement for one row, and whether it is an INSERT IGNORE (no columns)."""
        quote = self.connection.ops.quote_name
        names = ", ".join(quote(c) for c in [pk_column, *columns])
        placeholders = ", ".join(["%s"] * (len(columns) + 1))
        if not columns:
            return f"INSERT IGNORE INTO {quote(table)} ({names}) VALUES ({placeholders})", True
        first, *rest = map(quote, columns)
        assignments = [f"{first} = IF(LAST_INSERT_ID(~0), VALUES({first}), VALUES({first}))"]
        assignments += [f"{c} = VALUES({c})" for c in rest]
        sql = (
            f"INSERT INTO {quote(table)} ({names}) VALUES ({placeholders}) "
            f"ON DUPLICATE KEY UPDATE {', '.join(assignments)}"
        )
        return sql, False

    def upsert(self, table: str, pk_column: str, pk: Any, values: dict[str, Any], unset=()) -> bool:
        """Write one row by primary key in one statement; True if it was created."""
        columns = list(values)
        sql, ignore = self.upsert_sql(table, pk_column, columns)
        with self.connection.cursor() as cursor:
            cursor.execute(sql, [pk, *values.values()])
            if ignore:
                return cursor.rowcount == 1
            return cursor.lastrowid != UPDATED_MARKER

    def note_explicit_keys(self, table: str, keys: list) -> None:
        """Nothing to do: AUTO_INCREMENT moves past explicit keys by itself."""
