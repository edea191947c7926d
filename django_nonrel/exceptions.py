"""Exceptions raised by django-nonrel that are not Django's own.

Unsupported query shapes raise Django's ``django.db.NotSupportedError`` (built by
``unsupported()``, one message shape everywhere) and data errors Django's
``DatabaseError`` family; only conditions Django has no class for live here.
"""

from django.db import DatabaseError, IntegrityError, NotSupportedError


def unsupported(what: str, instead: str) -> NotSupportedError:
    """Django's NotSupportedError for a query shape, saying what to do instead."""
    return NotSupportedError(f"{what} is not supported on this backend. {instead}")


class ConflictError(DatabaseError):
    """A write lost an optimistic-concurrency race (the row changed since it was read).

    Nothing was written. Reload the object and retry, or wrap the work in
    ``django_nonrel.transaction.run_in_transaction``, which retries for you.
    """


class ContentionError(DatabaseError):
    """An update() or delete() decided in Python could not finish its rows.

    Such a write re-checks every row it writes and re-reads the rows other
    connections changed in between (see ``django_nonrel.guarded_writes``);
    this is raised when rows kept changing for too many rounds, or when it
    cannot tell which rows it already changed. The message says how many rows
    were written. Unlike ``ConflictError``, some rows may have been written.
    """


class PartialInsertError(IntegrityError):
    """An insert of several rows stopped at a refused one (a duplicate key).

    The rows before it were written, in order -- there is no transaction to
    undo them -- and ``keys`` are their primary keys as stored (``written``:
    how many). ``bulk_create()`` sets the primary key of the instances written
    and names their keys in the message.
    """

    def __init__(self, message: str, keys: list) -> None:
        super().__init__(message)
        self.keys = keys
        self.written = len(keys)
