"""What a document may hold: MongoDB's rules, checked where a server does not check them.

MongoDB refuses a document over 16 MiB (``maxBsonObjectSize``); FerretDB v1.24
and mongomock store it, so code that works on them would fail in production.
FerretDB v1.24 refuses NaN and infinite doubles (NaN even closes the
connection), which MongoDB and mongomock store. Both are checked here, before
anything is sent, so a bulk write is refused whole -- nothing is half-written --
and the error is Django's DataError with a message that says what to do.
On a real MongoDB nothing is checked here: the server and pymongo do it.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from typing import Any

import bson
from django.db import DataError

#: MongoDB's maximum document size (bytes).
MAX_DOCUMENT_SIZE = 16 * 1024 * 1024


def check_documents(connection, table: str, documents: Iterable[dict[str, Any]]) -> None:
    """Raise DataError for a document MongoDB or this server would not store."""
    embedded = connection.is_embedded
    ferretdb = not embedded and connection.server_info["ferretdb"]
    if not (embedded or ferretdb):
        return
    for document in documents:
        bound = size_bound(document)
        size = len(bson.encode(document)) if bound is None or bound > MAX_DOCUMENT_SIZE else bound
        if size > MAX_DOCUMENT_SIZE:
            raise DataError(
                f"A {table} document of {size} bytes exceeds MongoDB's limit of "
                f"{MAX_DOCUMENT_SIZE} bytes (16 MiB); nothing was written. Keep large "
                "values out of the document (files, GridFS) or split them."
            )
        if ferretdb and has_non_finite(document):
            path = non_finite_path(document)
            if path is not None:
                raise DataError(
                    f"{table}.{path}: FerretDB cannot store NaN or infinite numbers; "
                    "nothing was written. Store None instead, or use MongoDB."
                )


#: Upper bounds of the BSON size of a value of each exact type (its element's type
#: byte, key and terminator are counted by ``size_bound``).
FIXED_SIZES = {int: 8, float: 8, bool: 1, type(None): 0, datetime.datetime: 8, bson.ObjectId: 12}
#: Bytes of an element besides its key and value: type byte, key terminator.
ELEMENT = 2
#: A UTF-8 character takes at most 4 bytes.
UTF8_MAX = 4
#: A list item's key is its index in decimal: at most 20 digits.
LIST_KEY = 20


def size_bound(document: dict[str, Any]) -> int | None:
    """An upper bound of ``document``'s BSON size, from a walk cheaper than encoding it
    (every document of every write is checked); None if it holds a value of a type
    not listed here (then the document is encoded to measure it)."""
    total = 0
    pending: list[dict | list] = [document]
    pop, append = pending.pop, pending.append
    while pending:
        container = pop()
        total += 5  # length prefix and terminator
        if type(container) is dict:
            values = container.values()
            for key in container:
                if type(key) is not str:
                    return None
                total += ELEMENT + UTF8_MAX * len(key)
        else:
            values = container
            total += (ELEMENT + LIST_KEY) * len(container)
        for value in values:
            kind = type(value)
            fixed = FIXED_SIZES.get(kind)
            if fixed is not None:
                total += fixed
            elif kind is str:
                total += 5 + UTF8_MAX * len(value)
            elif kind is dict or kind is list:
                append(value)
            else:
                return None
    return total


def has_non_finite(value: Any) -> bool:
    """Whether a NaN/infinite float is inside ``value``: what ``non_finite_path`` finds,
    without building a path per value (every document of every write is scanned)."""
    pending = [value]
    pop, extend = pending.pop, pending.extend
    while pending:
        item = pop()
        kind = type(item)
        if kind is dict:
            extend(item.values())
        elif kind is list:
            extend(item)
        elif kind is float:
            if item - item != 0.0:  # nan - nan and inf - inf are nan
                return True
        elif kind in (str, int, bool) or item is None:
            continue
        elif isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif isinstance(item, dict):
            extend(item.values())
        elif isinstance(item, list):
            extend(item)
    return False


def non_finite_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first NaN/infinite float inside ``value``, if any."""
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, dict):
        items: Iterable = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = non_finite_path(item, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None
