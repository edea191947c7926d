"""update() and delete() decided in Python, written with a guard the server re-checks per row.

A document store runs neither every condition (``filter(n__gt=F("big"))``,
date parts on FerretDB v1) nor any expression (``update(title=Concat(...))``,
``bulk_update()``'s ``Case(When(pk=...))``), so such an update or delete reads
the matching rows, decides in Python which rows to write and what, and writes
by key. Between that read and the write another connection may change a row;
SQL's ``UPDATE/DELETE ... WHERE`` judges each row on its values at the moment it
writes it, and so must we: a row that no longer matches must not be deleted,
and a value computed from stale data must not overwrite a newer one.

So every write here carries a *guard* that the server checks per document, in
the same command as the write: the part of the filter the store runs, the row's
key, and the values the decision read -- the columns the Python conditions and
expressions read and, for an update, the old values of the columns it writes.
Guard values are data in ``Leaf`` conditions (``exact``/``isnull``), which the
backends translate under an operator; a stored value is never an operator.

Rows that got the same decision are one write (a ``$or`` of key sets that
read the same values), and the writes of up to ``ROWS_PER_COMMAND`` rows go
in one command (the store's ``update_each``: a MongoDB ``bulkWrite`` whose
every operation keeps its own guard), so an update or delete costs one read
and one command per batch of rows, however many distinct values it writes
(``bulk_update()`` of 2,000 rows: one read, four commands; a write whose values
depend on the values they replace, one command per distinct value). When a command
reaches fewer rows than it guarded, the rows are read again and each is
decided anew on what it holds now: written if it still matches, left alone
if not. Which rows the short command reached is settled from what the
re-read shows (see ``_settle``). After
``MAX_ROUNDS`` rounds of rows that keep changing, ``ContentionError`` says how
many rows were written and which were not.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django_nonrel.exceptions import ContentionError
from django_nonrel.query import AND, OR, Leaf, Node, NonrelQuery, UpdateValue
from django_nonrel.rows import bounded_fetch

#: Rounds of writing the rows still pending (the first, then re-decided ones).
MAX_ROUNDS = 10
#: Rows one guarded command writes at most (in one or several guarded writes).
ROWS_PER_COMMAND = 500
#: The decision of a row a delete removes (an update's decision is its changes).
DELETE = "delete"
#: A stored row, keyed by column (the key and the watched columns).
Row = dict[str, Any]
#: What a row gets: ``DELETE`` or ``{column: UpdateValue}``.
Decision = Any


@dataclass(frozen=True)
class GuardedWrite:
    """One update() or delete() whose rows are decided in Python.

    ``target`` selects the candidate rows with the part of the filter the
    store runs; every write re-checks it. ``watched``
    are the stored columns whose read values guard each row: what the
    decision reads, and the columns an update writes. ``matching`` keeps the
    rows of a read that pass the conditions Python evaluates (given all of
    them at once: it may join related rows and run subqueries for the batch);
    ``decide`` maps a matching row to its decision. ``send`` writes, in one
    command, each decision to the rows its query selects and returns how many
    rows they matched together; ``read`` is the
    first (bounded) read and ``reread`` the later ones, by key.
    """

    target: NonrelQuery
    watched: tuple[str, ...]
    matching: Callable[[list[Row]], list[Row]]
    decide: Callable[[Row], Decision]
    send: Callable[[list[tuple[NonrelQuery, Decision]]], int]
    read: Callable[[NonrelQuery], list[Row]]
    reread: Callable[[NonrelQuery], list[Row]]
    #: Whether a written value depends on the value it replaces (``$inc``, or an
    #: expression reading a column the update writes): writing such a row twice
    #: is not the same as writing it once.
    cumulative: bool = False
    rows_per_command: int = ROWS_PER_COMMAND
    #: What the user called, for messages ("update()", "delete()").
    operation: str = "update()"

    @property
    def pk(self) -> str:
        return self.target.pk_column

    def rows_query(self, keys: Sequence[Any] | None = None) -> NonrelQuery:
        """The candidate rows (``keys`` only, when given), projected to what is watched."""
        where = self.target.where
        if keys is not None:
            where = _and(where, Leaf((self.pk,), "in", list(keys)))
        return NonrelQuery(
            table=self.target.table,
            pk_column=self.pk,
            where=where,
            columns=list(dict.fromkeys([self.pk, *self.watched])),
        )

    def guard(self, rows: Sequence[Pending]) -> NonrelQuery:
        """The rows of one command: the store's filter, and each key with what it held."""
        by_values: dict[str, tuple[Row, list[Any]]] = {}
        for pending in rows:
            held = {column: pending.row.get(column) for column in self.watched}
            entry = by_values.setdefault(_identity(list(held.values())), (held, []))
            entry[1].append(pending.key)
        branches = [
            Node(
                AND,
                [
                    Leaf((self.pk,), "in", keys),
                    *(_holds(column, value) for column, value in held.items()),
                ],
            )
            for held, keys in by_values.values()
        ]
        alternatives = branches[0] if len(branches) == 1 else Node(OR, branches)
        return NonrelQuery(
            table=self.target.table,
            pk_column=self.pk,
            where=_and(_without_key_sets(self.target.where, self.pk), alternatives),
        )

    def watched_values(self, row: Row) -> list[Any]:
        return [row.get(column) for column in self.watched]


@dataclass(frozen=True)
class Pending:
    """A row still to write: its key, what it held when decided, and its decision."""

    key: Any
    row: Row
    decision: Decision


def run(job: GuardedWrite) -> int:
    """Decide every candidate row and write it guarded; how many rows were written."""
    pending = _decided(job, job.read(job.rows_query()))
    written = 0
    for round_number in range(MAX_ROUNDS):
        if not pending:
            return written
        if round_number:
            # Writers that keep colliding on the same rows: spread them out.
            time.sleep(random.uniform(0, 0.001 * 2**round_number))
        retry: list[Pending] = []
        for command in _commands(pending, job.rows_per_command, job.cumulative):
            matched = job.send([(job.guard(rows), decision) for decision, rows in command])
            written += matched
            rows = [entry for _, batch in command for entry in batch]
            if matched < len(rows):
                retry += _settle(job, rows, matched)
        pending = retry
    raise ContentionError(
        f"{job.operation} on {job.target.table} gave up after {MAX_ROUNDS} rounds: "
        f"{len(pending)} matching rows kept changing under other connections between "
        f"being read and being written (keys {_sample(p.key for p in pending)}). "
        f"{written} rows were written. Run it again, or serialise the writers."
    )


def _decided(job: GuardedWrite, rows: list[Row]) -> list[Pending]:
    return [Pending(row[job.pk], row, job.decide(row)) for row in job.matching(rows)]


def _commands(
    pending: list[Pending], size: int, cumulative: bool
) -> list[list[tuple[Decision, list[Pending]]]]:
    """The commands writing ``pending``: each a list of (decision, its rows), at
    most ``size`` rows in all.

    A cumulative write sends one decision per command: when a command of many
    decisions comes up short, the count cannot always tell which of its rows
    another writer changed before it and which after (``_settle``), and such a
    write must not apply twice; per decision, re-deciding is safe far more often.
    """
    by_decision: dict[str, tuple[Decision, list[Pending]]] = {}
    for entry in pending:
        key = _identity(_decision_items(entry.decision))
        by_decision.setdefault(key, (entry.decision, []))[1].append(entry)
    commands: list[list[tuple[Decision, list[Pending]]]] = []
    room = 0
    for decision, rows in by_decision.values():
        if cumulative:
            room = 0
        offset = 0
        while offset < len(rows):
            if not room:
                commands.append([])
                room = size
            batch = rows[offset : offset + room]
            commands[-1].append((decision, batch))
            offset += len(batch)
            room -= len(batch)
    return commands


def _settle(job: GuardedWrite, rows: list[Pending], matched: int) -> list[Pending]:
    """After a command reached ``matched`` of ``rows``: the rows to write again.

    The rows are read again (with the store's filter: a row that no longer
    passes it, or is gone, is left alone). A delete is exact: a row still
    there was not deleted, and is decided anew. For an update a row can be

    - as read: the guard failed for it (unwritten); written again;
    - holding what this command writes: done;
    - changed otherwise: changed by another writer before the command (then
      unwritten) or after it (written). The counts settle it whenever one of
      those two explains every short row; each such row is then decided anew
      (or left). When both happened in one command, re-deciding all of them
      is still right for a write that does not depend on the values it
      replaces (each row then ends as if this update ran after the other
      writer); for a cumulative one it would apply twice: ContentionError.
    """
    reread = job.reread(job.rows_query([entry.key for entry in rows]))
    fresh = {_identity(row[job.pk]): row for row in reread}
    again: list[Row] = []
    changed: list[Row] = []
    missing = 0
    as_read = 0
    for entry in rows:
        row = fresh.get(_identity(entry.key))
        if row is None:
            missing += 1
            continue
        if entry.decision == DELETE:
            again.append(row)
            continue
        now = job.watched_values(row)
        if _same(now, _after(job, entry)):
            continue
        if _same(now, job.watched_values(entry.row)):
            as_read += 1
            again.append(row)
        else:
            changed.append(row)
    unwritten_elsewhere = len(rows) - matched - as_read
    if changed and unwritten_elsewhere >= len(changed) + missing:
        again += changed
    elif changed and unwritten_elsewhere > 0:
        if job.cumulative:
            raise ContentionError(
                f"{job.operation} on {job.target.table}: other connections changed "
                f"{len(changed)} of its rows (keys {_sample(_row_keys(job, changed))}) both "
                "just before and just after one command wrote them, so it cannot tell "
                "which of them it has already changed, and its values depend on the "
                f"values they replace. {matched} rows were written by that command. "
                "Check those rows and run the update again for the ones still needing it."
            )
        again += changed
    return _decided(job, again)


def _after(job: GuardedWrite, entry: Pending) -> list[Any]:
    """The watched values of a row once ``entry``'s update has been applied."""
    values = dict(entry.row)
    for column, change in entry.decision.items():
        if column not in values:
            continue
        old = values[column]
        if change.operator == "set":
            values[column] = change.value
        elif change.operator == "unset":
            values[column] = None
        elif old is None:
            values[column] = _UNKNOWN
        elif change.operator == "inc":
            values[column] = old + change.value
        else:
            values[column] = old * change.value
    return job.watched_values(values)


class _Unknown:
    """A value no stored value equals (the result of arithmetic on NULL)."""

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]


_UNKNOWN = _Unknown()


def _holds(column: str, value: Any) -> Leaf | Node:
    """The condition "``column`` still holds ``value``", as data (never an operator)."""
    if value is None:
        return Leaf((column,), "isnull", True)
    if isinstance(value, float) and math.isnan(value):
        # NaN equals nothing, itself included, on some stores (mongomock): it is
        # the one number that is not >= -inf.
        return Node(
            AND,
            [
                Leaf((column,), "isnull", False),
                Node(AND, [Leaf((column,), "gte", -math.inf)], negated=True),
            ],
        )
    return Leaf((column,), "exact", value)


def _without_key_sets(where: Node, pk: str) -> Node:
    """``where`` without its conditions ``pk = k`` / ``pk IN (...)`` at the top.

    A guard names the keys it writes, all read through ``where``: repeating the
    target's key set in every guard would make a command of 500 guards over a
    ``pk__in`` of 2,000 keys (``bulk_update()``) carry a million keys.
    """
    if where.negated or where.connector != AND:
        return where
    kept = [child for child in where.children if not _is_key_set(child, pk)]
    return where if len(kept) == len(where.children) else Node(AND, kept)


def _is_key_set(node: Leaf | Node, pk: str) -> bool:
    return (
        isinstance(node, Leaf)
        and node.path == (pk,)
        and node.lookup in ("exact", "in")
        and node.transform is None
        and node.compare is None
    )


def _and(where: Node, condition: Leaf | Node) -> Node:
    if not where:
        return condition if isinstance(condition, Node) else Node(AND, [condition])
    return Node(AND, [where, condition])


def _same(a: list[Any], b: list[Any]) -> bool:
    return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _identity(value: Any) -> str:
    """A hashable identity of stored values (lists and dicts included)."""
    return repr(value)


def _decision_items(decision: Decision) -> Any:
    if decision == DELETE:
        return DELETE
    return sorted((column, change.operator, change.value) for column, change in decision.items())


def _row_keys(job: GuardedWrite, rows: list[Row]) -> list[Any]:
    return [row[job.pk] for row in rows]


def _sample(keys, limit: int = 10) -> str:
    keys = list(keys)
    shown = ", ".join(repr(k) for k in keys[:limit])
    return f"{shown}, ... ({len(keys)} in all)" if len(keys) > limit else shown


def delete_rows(
    connection: Any,
    target: NonrelQuery,
    matching: Callable[[list[Row]], list[Row]],
    read_columns: list[str],
) -> int:
    """delete() of the rows of ``target`` that ``matching`` keeps (SQL's WHERE);
    ``read_columns`` are the columns it reads."""
    store = connection.store
    job = GuardedWrite(
        target=target,
        watched=_watched(target, read_columns),
        matching=matching,
        decide=lambda row: DELETE,
        send=lambda writes: sum(store.delete(query) for query, _decision in writes),
        read=_first_read(connection),
        reread=lambda query: list(store.fetch(query)),
        rows_per_command=_rows_per_command(connection),
        operation="delete()",
    )
    return run(job)


def update_rows(
    connection: Any,
    target: NonrelQuery,
    matching: Callable[[list[Row]], list[Row]],
    read_columns: list[str],
    changes: Callable[[Row], dict[str, UpdateValue]],
    written: list[str],
    cumulative: bool,
) -> int:
    """update() of the rows of ``target`` that ``matching`` keeps; ``changes`` per row.

    ``read_columns`` are the columns the conditions and the values read;
    ``written`` the columns the update writes (their old values join the
    guard); ``cumulative`` says whether a change depends on the value it
    replaces. ``changes`` returns what ``store.update`` takes.
    """
    store = connection.store
    job = GuardedWrite(
        target=target,
        watched=_watched(target, [*read_columns, *written]),
        matching=matching,
        decide=changes,
        send=store.update_each,
        read=_first_read(connection),
        reread=lambda query: list(store.fetch(query)),
        cumulative=cumulative,
        rows_per_command=_rows_per_command(connection),
        operation="update()",
    )
    return run(job)


def update_by_keys(
    connection: Any, target: NonrelQuery, changes: Callable[[Row], dict[str, UpdateValue]]
) -> int | None:
    """update() whose changes of a row depend on its key alone: without a read.

    ``bulk_update()`` writes ``Case(When(pk=k, then=v), ...)`` to ``pk__in``
    keys: as SQL's ``UPDATE ... SET c = CASE ... WHERE pk IN (...)``, each row
    gets the value of its key under the target's filter, which the server
    re-checks per row, so nothing read can be stale and no guard or second
    round is needed: one command per batch of rows. ``changes`` is given the
    row as ``{pk: key}``. None when the filter names no keys (then the rows
    are read: ``update_rows``).
    """
    keys = target.named_keys()
    if keys is None:
        return None
    pk = target.pk_column
    where = _without_key_sets(target.where, pk)
    pending = [Pending(key, {pk: key}, changes({pk: key})) for key in keys]
    written = 0
    for command in _commands(pending, _rows_per_command(connection), cumulative=False):
        writes = [
            (
                NonrelQuery(
                    table=target.table,
                    pk_column=pk,
                    where=_and(where, Leaf((pk,), "in", [entry.key for entry in rows])),
                ),
                decision,
            )
            for decision, rows in command
        ]
        written += connection.store.update_each(writes)
    return written


def _watched(target: NonrelQuery, columns: list[str]) -> tuple[str, ...]:
    return tuple(column for column in dict.fromkeys(columns) if column != target.pk_column)


def _first_read(connection: Any) -> Callable[[NonrelQuery], list[Row]]:
    """The candidate rows, bounded as every read Python evaluates on."""
    limit = connection.features.max_rows_evaluated_in_python
    what = "update() or delete() evaluated in Python"
    return lambda query: bounded_fetch(connection.store, query, limit, what)


def _rows_per_command(connection: Any) -> int:
    return min(connection.features.max_keys_per_command or ROWS_PER_COMMAND, ROWS_PER_COMMAND)
