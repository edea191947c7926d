"""What ``atomic()`` is on a MongoDB connection: a server transaction, the undo journal, or nothing.

``OPTIONS["TRANSACTIONS"]`` chooses, together with what the server offers
(multi-document transactions on replica sets and sharded clusters, detected at
connect) and whether the database is a test database (made by Django's test
runner, see ``creation.py``: it has one user, so an undo journal's missing
isolation costs nothing there):

============  =====================  ===============================  =============
mode          server transactions    no server transactions:          other
                                     test database or mongomock://
============  =====================  ===============================  =============
"auto"        server transaction     undo journal                     nothing
"journal"     undo journal           undo journal                     undo journal
"required"    server transaction     undo journal (test databases)    refused
"off"         nothing                nothing                          nothing
============  =====================  ===============================  =============

"nothing" means each write is applied when it is sent and an exception rolls
nothing back (``features.supports_transactions`` is False); "refused" means
``atomic()`` raises ``NotSupportedError``. On mongomock:// outside a test
database, "required" refuses too: other threads share its data unisolated.
Savepoints (nested ``atomic()``) use the undo journal in both transactional
modes. docs/mongodb.md states each mode's guarantees.
"""

from __future__ import annotations

import enum

#: The values OPTIONS["TRANSACTIONS"] takes ("auto" when absent).
TRANSACTION_MODES = ("auto", "journal", "required", "off")


class Atomicity(enum.Enum):
    """How ``atomic()`` rolls back on one connection."""

    SERVER = "server transactions"
    JOURNAL = "undo journal"
    NONE = "writes applied at once"


def choose_atomicity(
    mode: str, *, server_transactions: bool, embedded: bool, test_database: bool
) -> Atomicity:
    """The atomicity of a connection in ``mode`` (one of ``TRANSACTION_MODES``)."""
    if mode == "off":
        return Atomicity.NONE
    if mode == "journal":
        return Atomicity.JOURNAL
    if server_transactions:
        return Atomicity.SERVER
    if test_database or (mode == "auto" and embedded):
        return Atomicity.JOURNAL
    return Atomicity.NONE
