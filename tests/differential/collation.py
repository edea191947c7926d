"""The oracle compares text the way the server under test does (SQL servers with collations).

MariaDB, MySQL and SingleStore compare and sort text columns by the column's
collation; the default ones (``utf8mb4_unicode_ci``, ``utf8mb4_general_ci``)
ignore case and accents and pad with spaces (``'a' = 'A ' ``), and sort
punctuation by the Unicode Collation Algorithm, not by code point. That is the
server's documented behaviour, chosen by whoever created the database (Django
documents it for MySQL), not something a backend should undo. SQLite compares
by code point. So on such a tier the oracle's text columns get a SQLite
collation built from the server's own sort weights (``WEIGHT_STRING`` of each
character), and the differential tests still compare every text filter,
ordering and MIN/MAX -- against the server's notion of equal and smaller.

MariaDB's native ``uuid`` column (what Django and this backend use for
UUIDField on MariaDB 10.7+) sorts a UUID by its groups in reverse order
(``nnnnnnnnnnnn-vsss-Vhhh-mmmm-llllllll``, an index-friendly order for
time-based UUIDs); the oracle's ``char(32)`` column gets the same order.

LIKE is left alone: SQLite's LIKE ignores collations, and the oracle sets
``PRAGMA case_sensitive_like`` per queryset (see oracle.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.db import connections
from django.db.models import CharField, TextField, UUIDField

from tests.differential.models import Item, Label, Owner, Team
from tests.differential.strategies import ALPHABET, CITIES, TAG_ALPHABET

TEXT_COLLATION = "server_text"
UUID_COLLATION = "server_uuid"
MODELS = (Team, Owner, Label, Item)


class ServerCollation:
    """Sort keys of the server's text collation, from its per-character weights."""

    def __init__(self, connection, table: str, column: str) -> None:
        self.connection = connection
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COLLATION_NAME FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s",
                [table, column],
            )
            (self.name,) = cursor.fetchone()
        # PAD SPACE collations (all but *_nopad_*) ignore trailing spaces.
        self.pads = "nopad" not in self.name
        self.weights: dict[str, bytes] = {}
        self.weigh(set(ALPHABET + TAG_ALPHABET + "".join(CITIES) + ALPHABET.swapcase()))
        space = self.weights[" "]
        if self.pads and any(w < space for c, w in self.weights.items() if c != " "):
            raise AssertionError(
                f"{self.name}: a character sorts before the space; trailing-space padding "
                "cannot be emulated by stripping"
            )

    def weigh(self, characters: set[str]) -> None:
        with self.connection.cursor() as cursor:
            for character in sorted(characters - self.weights.keys()):
                cursor.execute(
                    "SELECT WEIGHT_STRING(CONVERT(%s USING utf8mb4) COLLATE " + self.name + ")",
                    [character],
                )
                self.weights[character] = bytes(cursor.fetchone()[0])

    def key(self, text: str) -> bytes:
        if self.pads:
            text = text.rstrip(" ")
        missing = set(text) - self.weights.keys()
        if missing:
            self.weigh(missing)
        return b"".join(self.weights[c] for c in text)

    def compare(self, left: str, right: str) -> int:
        a, b = self.key(left), self.key(right)
        return (a > b) - (a < b)


def mariadb_uuid_key(hex32: str) -> str:
    """MariaDB's order of a UUID: its groups from the last to the first."""
    h = hex32.replace("-", "").lower()
    return h[20:] + h[16:20] + h[12:16] + h[8:12] + h[:8]


def compare_uuids(left: str, right: str) -> int:
    a, b = mariadb_uuid_key(left), mariadb_uuid_key(right)
    return (a > b) - (a < b)


def needs_server_collation(connection) -> bool:
    """Whether the backend under test compares text by a server collation (SQL servers
    other than SQLite), as this backend in either dialect does."""
    return connection.vendor in ("mysql", "singlestore")


def uses_native_uuid(connection) -> bool:
    return connection.vendor == "mysql" and connection.features.has_native_uuid_field


def install(under_test: str, oracle: str) -> Callable[[str], bytes] | None:
    """Make the oracle's differential tables compare like ``under_test``'s.

    Returns the server's text sort key (None when nothing was needed), for
    comparing values a collation leaves unspecified (which of 'a' and 'A' is
    MAX). The oracle's tables must be empty: they are recreated.
    """
    server = connections[under_test]
    if not needs_server_collation(server):
        return None
    collation = ServerCollation(server, Item._meta.db_table, "name")
    native_uuid = uses_native_uuid(server)
    sqlite = connections[oracle]
    sqlite.ensure_connection()
    sqlite.connection.create_collation(TEXT_COLLATION, collation.compare)
    sqlite.connection.create_collation(UUID_COLLATION, compare_uuids)
    with sqlite.cursor() as cursor:
        for model in MODELS:
            columns = {
                f.column: TEXT_COLLATION
                for f in model._meta.concrete_fields
                if isinstance(f, CharField | TextField)
            }
            if native_uuid:
                columns.update(
                    {
                        f.column: UUID_COLLATION
                        for f in model._meta.concrete_fields
                        if isinstance(f, UUIDField)
                    }
                )
            recreate(cursor, model._meta.db_table, columns)
    return collation.key


def recreate(cursor, table: str, collations: dict[str, str]) -> None:
    """Recreate the (empty) SQLite ``table`` with COLLATE clauses on ``collations``' columns."""
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
    (sql,) = cursor.fetchone()
    for column, name in collations.items():
        sql, count = re.subn(
            rf'("{re.escape(column)}" (?:varchar\(\d+\)|text|char\(\d+\)))',
            rf"\1 COLLATE {name}",
            sql,
        )
        if count != 1:
            raise AssertionError(f"column {column!r} not found in {sql!r}")
    staging = f"{table}__collated"
    cursor.execute(sql.replace(f'CREATE TABLE "{table}"', f'CREATE TABLE "{staging}"', 1))
    cursor.execute(f'DROP TABLE "{table}"')
    cursor.execute(f'ALTER TABLE "{staging}" RENAME TO "{table}"')
