"""Reading a ``find`` in batches of the size ``QuerySet.iterator(chunk_size=)`` gives.

Django's SQL compilers fetch a chunked read's rows with ``cursor_iter``
(``fetchmany(chunk_size)`` until a batch comes back empty); a chunked read here
runs the same loop over the driver's cursor, the ``find`` sent with
``batchSize`` equal to the chunk size, so each batch is one ``getMore``.
"""

from __future__ import annotations

import itertools
from typing import Any

from django.db.models.sql import compiler as sql_compiler


def read_in_batches(cursor, size: int) -> list[dict[str, Any]]:
    """The documents of ``cursor``, fetched ``size`` at a time by Django's own loop
    over a cursor (``django.db.models.sql.compiler.cursor_iter``, looked up when
    called, as Django's compilers call it), all read before the first is used:
    a loop over the rows that writes them cannot meet a row twice, as it could
    on a MongoDB cursor left open (not a snapshot)."""
    return [
        document
        for batch in sql_compiler.cursor_iter(_Batches(cursor), [], None, size)
        for document in batch
    ]


class _Batches:
    """A driver cursor as the DB-API cursor ``cursor_iter`` reads (``fetchmany``)."""

    def __init__(self, cursor) -> None:
        self.cursor = cursor

    def fetchmany(self, size: int) -> list[dict[str, Any]]:
        return list(itertools.islice(self.cursor, size))

    def close(self) -> None:
        self.cursor.close()
