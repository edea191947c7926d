"""The contracts between django-nonrel and a backend's ``connection.store``.

Every backend whose features inherit ``django_nonrel.features.NonrelFeatures``
provides ``connection.store``, a ``RowWriter``: the one-command ``save()`` the
``upsert`` patch calls. A document backend's store is a ``DocumentStore``, which
extends it with the read and write primitives the compilers in
``django_nonrel.compiler`` call instead of SQL; they build ``NonrelQuery``
objects from Django's queries and call only these primitives. Keeping the
contract this small is what lets very different databases share one compiler
(djangotoolbox's lesson): a backend author implements eight methods (the
abstract ones) and gets the ORM.

Values crossing the contract are already converted for the database by the
fields (``get_db_prep_value``) and the backend's ``DatabaseOperations``; rows
coming back are dicts keyed by column name and go through Django's converters
afterwards. Every primitive is one database command unless its docstring says
otherwise. The compilers run each ORM query inside ``one_query()``: a store that
logs its commands to ``connection.queries`` logs those of one query as one
entry, so ``assertNumQueries`` counts queries as on SQL, where following a
relation is a JOIN inside the statement rather than a command of its own.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from django_nonrel.aggregation.partials import Groups, fold_groups
from django_nonrel.features import NonrelFeatures
from django_nonrel.query import Aggregate, NonrelQuery, UpdateValue


class RowWriter(abc.ABC):
    """Row writes the ORM patches need from every nonrel backend (``connection.store``).

    A SQL backend implements it with SQL (SingleStore's ``INSERT ... ON DUPLICATE
    KEY UPDATE``); a document store is one (``DocumentStore``).
    """

    #: Write commands the database accepted on this connection, or None where the
    #: writer does not count them. ``run_in_transaction`` compares it around an
    #: attempt on a database without transactions: an attempt that applied a
    #: write is not retried.
    applied_writes: int | None = None

    @abc.abstractmethod
    def upsert(
        self,
        table: str,
        pk_column: str,
        pk: Any,
        values: dict[str, Any],
        *,
        insert_only: dict[str, Any] | None = None,
        unset: Sequence[str] = (),
        expected: dict[str, Any] | None = None,
        shard_key: dict[str, Any] | None = None,
    ) -> bool:
        """Write the row with primary key ``pk`` in one command; True if it was created.

        Only the ``values`` columns are written to an existing row, so columns
        the model does not know about survive. ``insert_only`` columns are
        written only when the row is created; ``unset`` columns are removed.
        ``expected`` (a ``VersionField``'s column and the version the instance
        was loaded with) makes the write conditional: when a row with ``pk``
        exists with another value, nothing is written -- no update and no
        second row -- and ``django_nonrel.exceptions.ConflictError`` is raised.
        ``shard_key`` (a ``ShardKey``'s columns and the values the row is stored
        under, passed only for sharded models, on connections whose
        ``features.supports_shard_keys``) joins the filter, so a sharded
        cluster routes the write to one shard; where ``values`` give the columns
        other values, the write moves the row to them.
        """

    def note_explicit_keys(self, table: str, keys: Sequence[Any]) -> None:  # noqa: B027
        """Rows were written with explicit AutoField keys: never allocate those again."""


def row_writer(connection: Any) -> RowWriter | None:
    """``connection.store`` of a nonrel backend; None on Django's stock backends."""
    return connection.store if isinstance(connection.features, NonrelFeatures) else None


class DocumentStore(RowWriter):
    """The primitives every document backend provides (besides ``RowWriter``'s)."""

    def one_query(self) -> contextlib.AbstractContextManager[None]:
        """A context in which the commands sent are one ORM query (for its log)."""
        return contextlib.nullcontext()

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

    def aggregate_groups(
        self,
        query: NonrelQuery,
        aggregates: Sequence[Aggregate],
        group_by: Sequence[tuple[str | int, ...]] = (),
    ) -> Groups:
        """Mergeable partial aggregates per group of the matching rows.

        ``group_by`` holds paths (column, then document keys). The answer maps a
        hashable group key to ``(key values, {alias: Partial})``; with no
        ``group_by`` it has exactly one group. Aggregates with a ``filter`` see
        only the rows that also match it, and every group of the unfiltered
        rows is present. The default reads the projected rows with ``fetch``
        (one command per distinct ``filter``) and folds them in Python; stores
        whose database can group override it.
        """
        return fold_groups(self, query, aggregates, group_by)

    @abc.abstractmethod
    def insert(
        self,
        table: str,
        rows: Sequence[dict[str, Any]],
        pk_column: str,
        *,
        ignore_conflicts: bool = False,
    ) -> list[Any]:
        """Insert ``rows`` in one command; return their primary keys in order.

        A row without ``pk_column`` gets a key generated by the store. A duplicate
        key raises ``django_nonrel.exceptions.PartialInsertError`` (an
        ``IntegrityError``) with the keys of the rows before it that were written, unless
        ``ignore_conflicts``, when the conflicting rows are skipped and the others
        inserted.
        """

    def allocate_keys(self, table: str, field: Any, count: int) -> list[int]:
        """``count`` fresh integer keys for an AutoField column of ``table``.

        Stores whose database generates integer keys on insert leave this
        unimplemented and return the keys from ``insert()``.
        """
        raise NotImplementedError

    def describe(self, query: NonrelQuery) -> str:
        """A readable form of the command ``query`` becomes (``str(qs.query)``)."""
        return repr(query)

    @abc.abstractmethod
    def update(self, query: NonrelQuery, values: dict[str, UpdateValue]) -> int:
        """Change ``values`` in every matching row; return how many matched."""

    def update_each(self, writes: Sequence[tuple[NonrelQuery, dict[str, UpdateValue]]]) -> int:
        """Apply each ``(query, values)`` as ``update`` does; how many rows they matched in all.

        The writes of one guarded update (``django_nonrel.guarded_writes``), each
        with its own filter. A store that can send them in one command should:
        this default sends one ``update`` each.
        """
        return sum(self.update(query, values) for query, values in writes)

    @abc.abstractmethod
    def delete(self, query: NonrelQuery) -> int:
        """Delete every matching row; return how many were deleted."""
