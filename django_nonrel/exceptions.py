"""Exceptions raised by django-nonrel that are not Django's own.

Unsupported query shapes raise Django's ``django.db.NotSupportedError`` (built by
``unsupported()``, one message shape everywhere) and data errors Django's
``DatabaseError`` family; only conditions Django has no class for live here.
"""

from django.db import DatabaseError, NotSupportedError


def unsupported(what: str, instead: str) -> NotSupportedError:
    """Django's NotSupportedError for a query shape, saying what to do instead."""
    return NotSupportedError(f"{what} is not supported on this backend. {instead}")


class ConflictError(DatabaseError):
    """A write lost an optimistic-concurrency race (the row changed since it was read).

    Nothing was written. Reload the object and retry, or wrap the work in
    ``django_nonrel.transaction.run_in_transaction``, which retries for you.
    """
