"""Helpers for running Django's own test suite on a nonrel backend."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module


def existing_test_ids(ids: Iterable[str]) -> set[str]:
    """The ids among ``ids`` that name a test module, class or method that exists.

    A backend declares one skip list for every supported Django release; a test
    renamed or removed in one release must not stop Django's runner (it raises
    AttributeError for a skip naming a missing test).
    """
    found = set()
    for test_id in ids:
        parts = test_id.split(".")
        for split in range(len(parts) - 1, 0, -1):
            try:
                target = import_module(".".join(parts[:split]))
            except ImportError:
                continue
            try:
                for name in parts[split:]:
                    target = getattr(target, name)
            except AttributeError:
                break
            found.add(test_id)
            break
    return found
