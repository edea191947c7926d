"""A condition in the store's own filter language, inside Django's WHERE.

MongoDB's ``raw_query()`` (``backends/mongodb/managers.py``) adds its filter
document to a queryset as a ``NativeCondition``: a conditional expression, so
it is part of the WHERE tree like any ``filter()`` and goes wherever the tree
goes -- chained filters, ``|`` and ``&`` of querysets (``$or``/``$and`` around
it), ``count()``, ``update()``, ``delete()``, the bookmark fingerprint. The
nonrel compiler hands it to the store as a ``Leaf`` whose lookup is
``native`` (``native_leaf``); a SQL compiler cannot run it and says so.
"""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError
from django.db.models import BooleanField
from django.db.models.expressions import Expression
from django.db.models.lookups import Lookup

from django_nonrel.query import NATIVE, Leaf


class NativeCondition(Expression):
    """True for the rows ``document`` (a filter in the store's syntax) matches.

    The document is the user's own, deliberately not escaped: the one place
    a value is run as operators (``raw_query()`` says so: trusted input only).
    """

    conditional = True

    def __init__(self, document: dict[str, Any]) -> None:
        super().__init__(output_field=BooleanField())
        self.document = document

    def as_sql(self, compiler, connection):
        raise NotSupportedError(
            f"raw_query() runs MongoDB syntax, but the database {connection.alias!r} is "
            f"{connection.vendor}. Use filter() there."
        )


def native_leaf(lookup: Lookup) -> Leaf:
    """The filter-tree leaf of a ``NativeCondition`` as ``filter()`` puts it (``exact=True``)."""
    if lookup.lookup_name != "exact" or lookup.rhs is not True:
        raise NotSupportedError(
            "A raw_query() filter is a condition; it cannot be compared with a value."
        )
    return Leaf(path=(), lookup=NATIVE, value=lookup.lhs.document)
