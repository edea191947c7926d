"""The contract between django-nonrel's compilers and a nonrel backend.

A backend implements ``DocumentStore`` (reached as ``connection.store``); the
compilers in ``django_nonrel.compiler`` build ``NonrelQuery`` objects from
Django's queries and call only these primitives. Keeping the contract this
small is what lets very different databases share one compiler (djangotoolbox's
lesson): a backend author implements nine methods and gets the ORM.

Values crossing the contract are already converted for the database by the
fields (``get_db_prep_value``) and the backend's ``DatabaseOperations``; rows
coming back are dicts keyed by column name and go through Django's converters
afterwards. Every primitive is one database command unless its docstring says
otherwise, and every command is logged to ``connection.queries`` when queries
are being logged (``assertNumQueries`` counts them).
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from typing import Any

from django_nonrel.query import Aggregate, NonrelQuery, UpdateValue


class DocumentStore(abc.ABC):
    """The nine primitives every nonrel backend provides."""

    @abc.abstractmethod
    def fetch(self, query: NonrelQuery) -> Iterator[dict[str, Any]]:
        """Rows matching ``query``: filtered, ordered, sliced, projected."""

    @abc.abstractmethod
    def count(self, query: NonrelQuery) -> int:
        """How many rows ``query`` matches, honouring ``low``/``high``."""

    def exists(self, query: NonrelQuery) -> bool:
        """Whether ``query`` matches a row (default: a count limited to one)."""
        probe = NonrelQuery(
            table=query.table,
            pk_column=query.pk_column,
            where=query.where,
            low=query.low,
            high=query.low + 1 if query.high is None else min(query.high, query.low + 1),
            matches_nothing=query.matches_nothing,
        )
        return self.count(probe) > 0

    @abc.abstractmethod
    def distinct_values(self, query: NonrelQuery, column: str) -> list[Any]:
        """The distinct values of one column among the matching rows."""

    @abc.abstractmethod
    def aggregate(
        self,
        query: NonrelQuery,
        aggregates: Sequence[Aggregate],
        group_by: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Aggregate the matching rows, grouped by ``group_by`` columns.

        One dict per group, keyed by the group columns and the aggregate aliases;
        with no ``group_by``, exactly one dict (also for no matching rows).
        """

    @abc.abstractmethod
    def insert(self, table: str, rows: Sequence[dict[str, Any]], pk_column: str) -> list[Any]:
        """Insert ``rows`` in one command; return their primary keys in order.

        A duplicate key raises ``django.db.IntegrityError``.
        """

    @abc.abstractmethod
    def update(self, query: NonrelQuery, values: dict[str, UpdateValue]) -> int:
        """Change ``values`` in every matching row; return how many matched."""

    @abc.abstractmethod
    def upsert(
        self,
        table: str,
        pk_column: str,
        pk: Any,
        values: dict[str, Any],
        *,
        insert_only: dict[str, Any] | None = None,
    ) -> bool:
        """Write the row with primary key ``pk`` in one command; True if it was created.

        Only the ``values`` columns are written to an existing row, so columns
        the model does not know about survive. ``insert_only`` columns are
        written only when the row is created.
        """

    @abc.abstractmethod
    def delete(self, query: NonrelQuery) -> int:
        """Delete every matching row; return how many were deleted."""
