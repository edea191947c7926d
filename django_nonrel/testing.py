"""Helpers for running Django's own test suite on a nonrel backend."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module


def existing_test_ids(ids: Iterable[str]) -> set[str]:
    """``ids`` without the ones naming a test this Django release does not have.

    A backend declares one skip list for every supported Django release; a test
    renamed or removed in one release must not stop Django's runner (it raises
    AttributeError for a skip naming a missing test). An id is dropped only when
    its module imports and the class or method is missing; outside Django's test
    suite (its test apps not importable) every id is kept.
    """
    kept = set()
    for test_id in ids:
        parts = test_id.split(".")
        for split in range(len(parts) - 1, 0, -1):
            try:
                target = import_module(".".join(parts[:split]))
            except ImportError:
                if split == 1:
                    kept.add(test_id)  # not running Django's suite: cannot check
                continue
            except Exception:
                kept.add(test_id)  # e.g. its app is not installed here: cannot check
                break
            try:
                for name in parts[split:]:
                    target = getattr(target, name)
            except AttributeError:
                break
            kept.add(test_id)
            break
    return kept


def without_covered_ids(skips: dict[str, set[str]]) -> dict[str, set[str]]:
    """``skips`` without the ids that an id of a module or class skipped as a whole covers.

    A backend may skip a whole class on one server (e.g. its test data cannot be
    stored there) and single methods of that class for other reasons on every
    server. Where the class is skipped, those method entries change nothing: the
    runner reports the class's reason for each of its tests. Counting them would
    count the same skipped tests twice.
    """
    every_id = {test_id for ids in skips.values() for test_id in ids}

    def covered(test_id: str) -> bool:
        parts = test_id.split(".")
        return any(".".join(parts[:end]) in every_id for end in range(1, len(parts)))

    return {reason: {i for i in ids if not covered(i)} for reason, ids in skips.items()}
