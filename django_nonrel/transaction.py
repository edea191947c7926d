"""``run_in_transaction``: run a unit of work atomically, retrying it when it loses a race.

Optimistic concurrency (``VersionField``) and the server's own transaction
conflicts both end the same way: the work must be done again from fresh
reads. ``run_in_transaction(func, *args, **kwargs)`` calls ``func`` inside
``transaction.atomic()`` and, when it raises a retryable error, calls it again
(``retries`` more times at most, after a short randomised pause)::

    def transfer(source_pk, target_pk, amount):
        source = Account.objects.get(pk=source_pk)
        target = Account.objects.get(pk=target_pk)
        source.balance -= amount
        target.balance += amount
        source.save()
        target.save()

    run_in_transaction(transfer, 1, 2, 50)

``func`` must read what it changes (an attempt that failed is thrown away and
the next one starts from the database). Retryable errors:

- ``django_nonrel.exceptions.ConflictError`` (a stale ``VersionField`` save);
- MongoDB errors labelled ``TransientTransactionError`` (write conflicts
  between transactions, elections);
- SQL serialization failures and deadlocks (SQLSTATE 40001 / 40P01, MySQL and
  MariaDB error 1213).

Where the database has transactions (SQL databases; MongoDB replica sets and
sharded clusters, detected at connect; MongoDB connections with the undo
journal) a failed attempt is rolled back before the next one. Where it has none
(a MongoDB server without transactions, outside test databases, without
``OPTIONS["TRANSACTIONS"] = "journal"``), the function still runs, but each
write is applied when it is sent: a ``TransactionsUnavailableWarning`` says
so, and an attempt that fails *after* one of its writes was applied is not
retried (running it again would apply that write twice) -- the error is raised
for the caller to handle. A stale ``VersionField`` save writes nothing, so
work whose first write conflicts is still retried safely.

Called inside an outer ``atomic()`` block, retrying is impossible (the outer
transaction is already doomed by the error), so ``func`` runs once and errors
propagate to the outermost ``run_in_transaction`` or ``atomic()``.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from django_nonrel.exceptions import ConflictError
from django_nonrel.store_contract import row_writer

T = TypeVar("T")

#: SQLSTATEs of serialization failures and deadlocks (PostgreSQL, the SQL standard).
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
#: MySQL/MariaDB error numbers: deadlock found when trying to get lock.
RETRYABLE_MYSQL_ERRORS = frozenset({1213})
TRANSIENT_LABEL = "TransientTransactionError"


class TransactionsUnavailableWarning(RuntimeWarning):
    """run_in_transaction ran on a database without transactions: nothing is rolled back."""


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` (or the driver error it wraps) is worth running the work again for."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConflictError):
            return True
        has_label = getattr(current, "has_error_label", None)
        if callable(has_label) and has_label(TRANSIENT_LABEL):
            return True
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if state in RETRYABLE_SQLSTATES:
            return True
        args = getattr(current, "args", ())
        module = type(current).__module__.lower()
        if args and args[0] in RETRYABLE_MYSQL_ERRORS and "mysql" in module:
            return True
        current = current.__cause__
    return False


def run_in_transaction(
    func: Callable[..., T],
    *args: Any,
    using: str | None = None,
    retries: int = 3,
    **kwargs: Any,
) -> T:
    """Call ``func(*args, **kwargs)`` in ``atomic(using=using)``; retry it on conflicts.

    ``retries`` is how many times a failed attempt is run again (so at most
    ``retries + 1`` calls); the last attempt's error is raised. Returns what
    ``func`` returns. See the module docstring for what is retried and what
    happens on databases without transactions.
    """
    if retries < 0:
        raise ValueError("retries must be zero or more.")
    alias = using or DEFAULT_DB_ALIAS
    connection = connections[alias]
    if connection.in_atomic_block:
        with transaction.atomic(using=alias):
            return func(*args, **kwargs)
    transactional = connection.features.supports_transactions
    if not transactional:
        warnings.warn(
            f"Database {alias!r} ({connection.display_name}) has no transactions: "
            "run_in_transaction applies each write when it is sent and rolls nothing back.",
            TransactionsUnavailableWarning,
            stacklevel=2,
        )
    attempt = 0
    while True:
        writes_before = _applied_writes(connection)
        try:
            with transaction.atomic(using=alias):
                return func(*args, **kwargs)
        except Exception as error:
            if attempt >= retries or not is_retryable(error):
                raise
            if not transactional and _applied_writes(connection) != writes_before:
                raise
        attempt += 1
        # Contenders that retry in lockstep conflict again; spread them out.
        time.sleep(random.uniform(0, 0.01 * 2**attempt))


def _applied_writes(connection) -> int | None:
    writer = row_writer(connection)
    return None if writer is None else writer.applied_writes
