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

import math
import re
from collections.abc import Iterable
from typing import Any

import bson
from bson.codec_options import DEFAULT_CODEC_OPTIONS, CodecOptions
from django.db import DataError

#: MongoDB's maximum document size (bytes).
MAX_DOCUMENT_SIZE = 16 * 1024 * 1024
#: The last two bytes of every NaN or infinite double as BSON writes it (little-endian):
#: exponent bits all ones make the top byte 0x7F/0xFF and the high nibble of the
#: one before it 0xF. A document whose BSON has no such pair holds no NaN or
#: infinity, which the regular expression (in C) proves without walking its values.
NON_FINITE_TAIL = re.compile(rb"[\xf0-\xff][\x7f\xff]")


def check_documents(
    connection,
    table: str,
    documents: Iterable[dict[str, Any]],
    codec_options: CodecOptions = DEFAULT_CODEC_OPTIONS,
) -> list[bytes] | None:
    """Raise DataError for a document MongoDB or this server would not store.

    Returns each document's BSON (encoded with ``codec_options`` to measure it),
    which an insert sends as it is rather than having the driver encode it again;
    None on a real MongoDB, where nothing is checked here.
    """
    embedded = connection.is_embedded
    ferretdb = not embedded and connection.server_info["ferretdb"]
    if not (embedded or ferretdb):
        return None
    encoded = []
    for document in documents:
        data = bson.encode(document, codec_options=codec_options)
        encoded.append(data)
        size = len(data)
        if size > MAX_DOCUMENT_SIZE:
            raise DataError(
                f"A {table} document of {size} bytes exceeds MongoDB's limit of "
                f"{MAX_DOCUMENT_SIZE} bytes (16 MiB); nothing was written. Keep large "
                "values out of the document (files, GridFS) or split them."
            )
        if ferretdb and NON_FINITE_TAIL.search(data) and has_non_finite(document):
            path = non_finite_path(document)
            if path is not None:
                raise DataError(
                    f"{table}.{path}: FerretDB cannot store NaN or infinite numbers; "
                    "nothing was written. Store None instead, or use MongoDB."
                )
    return encoded


def has_non_finite(value: Any) -> bool:
    """Whether a NaN/infinite float is inside ``value``: what ``non_finite_path`` finds,
    without building a path per value (every document of every write is scanned).

    Exact types are tested first (the values of a document almost always are
    plain ``float``/``str``/``int``/``bool``/None), and a float is tested by
    subtracting it from itself: 0.0 for finite numbers, NaN (true) otherwise.
    """
    if isinstance(value, dict):
        items: Iterable = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return isinstance(value, float) and not math.isfinite(value)
    for item in items:
        kind = type(item)
        if kind is float:
            if item - item:
                return True
        elif kind is str or kind is int or kind is bool or item is None:
            continue
        elif isinstance(item, (float, dict, list)) and has_non_finite(item):
            return True
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
