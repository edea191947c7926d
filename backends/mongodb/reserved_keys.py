"""The blocks of integer keys every connection of this process has reserved.

Each connection (``MongoStore``) takes AutoField keys from a block it reserved
from a table's counter (``store.allocate_keys``). When the counter restarts --
a flush empties the collection, or the collection is dropped or renamed --
blocks still held would hand out keys the restarted counter hands out again,
so every connection of the process to that database gives them up, and forgets
the counter values it saw (``counter_floors``). (Other
processes cannot be reached: flushing or dropping a table other processes
write to is a development operation, as on SQL.)
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from .store_handle import StoreHandle

#: Every store of this process (registered by MongoStore itself).
STORES: weakref.WeakSet[StoreHandle] = weakref.WeakSet()


def retire_key_blocks(settings_dict: dict[str, Any], tables: Sequence[str]) -> None:
    """Every store of this process on the database of ``settings_dict`` forgets its
    reserved keys of ``tables``."""
    database = (settings_dict.get("HOST"), settings_dict.get("NAME"))
    for store in list(STORES):
        settings = store.connection.settings_dict
        if (settings.get("HOST"), settings.get("NAME")) == database:
            for table in tables:
                store.key_blocks.pop(table, None)
                store.counter_floors.pop(table, None)
