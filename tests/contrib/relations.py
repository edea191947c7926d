"""Marking the contrib paths that wait for relation support on the MongoDB backend.

Django's contrib code queries across relations in places (the admin's recent-actions
box and history use ``select_related``, ``has_perm`` through a group filters
``Permission.objects.filter(group__user=...)``). Until the nonrel query layer resolves
those, the MongoDB backend refuses them with NotSupportedError; the tests that reach
them are expected failures there — strict, so each one turns into a failure to remove
the mark as soon as the relation lands. On SQL tiers they must pass.
"""

import pytest
from django.db import NotSupportedError, connection


def needs_relations(what: str) -> pytest.MarkDecorator:
    """xfail on the MongoDB backend, strictly and only for NotSupportedError."""
    return pytest.mark.xfail(
        connection.vendor == "mongodb",
        reason=f"MongoDB backend: {what} is not supported yet (relation queries)",
        raises=NotSupportedError,
        strict=True,
    )
