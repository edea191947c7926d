"""What the MongoDB store's helper modules need of the store, declared once.

``MongoStore`` (mongo_store.py) hands itself to helpers that act on the
database for it: the undo journal, version claims, the rewrite of skipped
``$set``s and the process-wide registry of reserved keys. They take a
``StoreHandle`` instead of importing mongo_store.py, which imports them, so
the modules form no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pymongo.collection import Collection


class StoreHandle(Protocol):
    """The part of ``MongoStore`` its helpers use."""

    #: The backend's ``DatabaseWrapper``.
    connection: Any
    #: table -> [next key, last key] of the block of integer keys the connection holds.
    key_blocks: dict[str, list[int]]
    #: table -> a value the connection saw the table's counter reach.
    counter_floors: dict[str, int]

    def collection(self, table: str) -> Collection:
        """The driver's collection named ``table``."""

    def run(
        self,
        description: str,
        command: Callable[..., Any],
        *args: Any,
        bookkeeping: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Run one driver command, logged and with Django's error mapping."""
