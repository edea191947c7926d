"""Reading a whole result with Python's cyclic garbage collector paused.

A read turns each fetched document into a model instance (each embedded
document into an embedded instance, each list into a list ...): tens of
thousands of objects, all kept, because the result keeps them. CPython starts
a collection every 700 new container objects, and a full one each time the
objects that survived grew by a quarter: while a result is built, the collector
walks it again and again and finds nothing to free. Measured on FerretDB, 8
consecutive reads of 10,000 rows, the collections they set off afterwards
included, client CPU per row: 92.7 -> 54.2 µs for the benchmarks' nested shape
(8 instances per row), 11.5 -> 8.1 µs for 6 flat columns, 29.3 -> 23.4 µs for
30. The collections are put off, not skipped: what was made while paused is
collected normally afterwards, in one pass instead of many.

Where it is paused: a queryset's whole result (``QuerySet._fetch_all``; see
``patches/structured_rows``), read and built in one eager call, and the fetch of
a plain read's documents (``rows.base_documents``), on the nonrel backends only.
A chunked read (``iterator()``) builds its instances with the collector on:
they are not kept, so the collector has little to walk. Never across a
``yield``: a consumer that stops iterating cannot leave the collector off.

The collector's switch is process-wide. It is switched off only when it was
on, and on again in a ``finally``. Meanwhile other threads run without cyclic
collection (reference counting still frees everything else); a thread that
switches the collector off for itself during another thread's read finds it
on again after that read.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block (a no-op when already off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
