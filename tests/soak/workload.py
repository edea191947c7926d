"""What each soak thread does, and the ledger of what came back.

Every operation ends in one of three outcomes, written to the thread's
:class:`Ledger`: acknowledged (it returned), refused (``ConflictError``, which
writes nothing) or uncertain (any other database error: the command may have
been applied before the connection broke). The rows each thread changes are its
own -- its boards and their threads and posts, its counter -- except the
shared accounts (``VersionField`` saves from every thread), the shared counter
(expression updates from every thread, where the database runs them
atomically) and the entries every thread inserts and walks by bookmark.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connections
from django.db.models import F

from django_nonrel.exceptions import ConflictError
from django_nonrel.pagination import BookmarkPaginator
from tests.conc.models import Account, Board, Entry, Post, Thread

#: Entry groups: a bookmark walk reads one group.
GROUPS = 12
#: Tries of one bookmark page before a walk gives up (the server may be down).
PAGE_ATTEMPTS = 120
PAUSE = 0.25


@dataclass
class BoardRecord:
    """An acknowledged board: its acknowledged threads and their acknowledged posts."""

    threads: dict[int, set[int]] = field(default_factory=dict)
    #: "alive", "deleted" (the delete returned) or "uncertain" (it raised).
    state: str = "alive"


@dataclass
class Ledger:
    """What one thread's operations returned."""

    operations: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    entries: dict[int, str] = field(default_factory=dict)
    boards: dict[int, BoardRecord] = field(default_factory=dict)
    counter_acked: int = 0
    counter_uncertain: int = 0
    shared_counter_acked: int = 0
    shared_counter_uncertain: int = 0
    saves_acked: int = 0
    saves_uncertain: int = 0
    conflicts: int = 0
    walks: int = 0
    walk_pages: int = 0
    walk_rows: int = 0
    violations: list[str] = field(default_factory=list)


class Entries:
    """Acknowledged entries of every thread, by group (what a walk must find)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_group: dict[int, set[int]] = {group: set() for group in range(GROUPS)}

    def add(self, group: int, pk: int) -> None:
        with self._lock:
            self._by_group[group].add(pk)

    def snapshot(self, group: int) -> set[int]:
        with self._lock:
            return set(self._by_group[group])


@dataclass
class Shared:
    """What the threads share: the alias, the rows every thread writes, the entries."""

    alias: str
    accounts: list[int]
    shared_counter: int | None
    entries: Entries
    stop: threading.Event


class Worker:
    """One thread of the soak: random operations until ``shared.stop`` is set."""

    def __init__(self, index: int, shared: Shared, counter: int) -> None:
        self.index = index
        self.shared = shared
        self.alias = shared.alias
        self.counter = counter
        self.ledger = Ledger()
        self.random = random.Random(index)
        self.serial = 0
        self.pending_deletes: list[int] = []

    def run(self) -> Ledger:
        operations: list[tuple[Callable[[], None], int]] = [
            (self.create_entry, 20),
            (self.create_board, 8),
            (self.add_post, 10),
            (self.delete_board, 5),
            (self.increment_counter, 15),
            (self.versioned_save, 25),
            (self.walk, 4),
        ]
        if self.shared.shared_counter is not None:
            operations.append((self.increment_shared_counter, 10))
        functions, weights = zip(*operations, strict=True)
        try:
            while not self.shared.stop.is_set():
                operation = self.random.choices(functions, weights)[0]
                # What Django does at each request boundary: drop a broken connection.
                connections[self.alias].close_if_unusable_or_obsolete()
                self.ledger.operations[operation.__name__] += 1
                try:
                    operation()
                except DatabaseError as error:
                    self.ledger.errors[type(error).__name__] += 1
                    time.sleep(PAUSE)
        finally:
            connections.close_all()
        return self.ledger

    def _name(self) -> str:
        self.serial += 1
        return f"t{self.index}-{self.serial}"

    # -- creates --------------------------------------------------------------------
    def create_entry(self) -> None:
        group = self.random.randrange(GROUPS)
        score = None if self.random.random() < 0.1 else self.random.randrange(20)
        entry = Entry.objects.using(self.alias).create(group=group, score=score, title=self._name())
        self.ledger.entries[entry.pk] = entry.title
        self.shared.entries.add(group, entry.pk)

    def alive_boards(self) -> list[int]:
        return [pk for pk, board in self.ledger.boards.items() if board.state == "alive"]

    def create_board(self) -> None:
        board = Board.objects.using(self.alias).create(name=self._name())
        record = self.ledger.boards[board.pk] = BoardRecord()
        for _ in range(self.random.randint(1, 3)):
            thread = Thread.objects.using(self.alias).create(board=board, title=self._name())
            record.threads[thread.pk] = set()
            for _ in range(self.random.randint(0, 2)):
                self._post(thread.pk, record)

    def add_post(self) -> None:
        alive = self.alive_boards()
        if not alive:
            return self.create_board()
        record = self.ledger.boards[self.random.choice(alive)]
        if record.threads:
            self._post(self.random.choice(list(record.threads)), record)

    def _post(self, thread: int, record: BoardRecord) -> None:
        alive = self.alive_boards()
        moderator = self.random.choice(alive) if alive and self.random.random() < 0.5 else None
        post = Post.objects.using(self.alias).create(
            thread_id=thread, moderator_id=moderator, body=self._name()
        )
        record.threads[thread].add(post.pk)

    # -- cascading deletes ------------------------------------------------------------
    def delete_board(self) -> None:
        """Delete a board with its threads and posts (posts it moderates are kept, SET_NULL)."""
        if self.pending_deletes:
            pk = self.pending_deletes[0]
        else:
            alive = self.alive_boards()
            if len(alive) < 3:
                return
            pk = self.random.choice(alive)
        try:
            Board.objects.using(self.alias).filter(pk=pk).delete()
        except DatabaseError:
            self.ledger.boards[pk].state = "uncertain"
            if pk not in self.pending_deletes:
                self.pending_deletes.append(pk)
            raise
        self.ledger.boards[pk].state = "deleted"
        if pk in self.pending_deletes:
            self.pending_deletes.remove(pk)

    # -- updates ----------------------------------------------------------------------
    def increment_counter(self) -> None:
        """An expression update of this thread's own counter (balance and version + 1)."""
        try:
            changed = (
                Account.objects.using(self.alias)
                .filter(pk=self.counter)
                .update(balance=F("balance") + 1, version=F("version") + 1)
            )
        except DatabaseError:
            self.ledger.counter_uncertain += 1
            raise
        if changed != 1:
            self.ledger.violations.append(f"counter update changed {changed} rows")
        self.ledger.counter_acked += 1

    def increment_shared_counter(self) -> None:
        """The same on the counter every thread increments at once."""
        try:
            Account.objects.using(self.alias).filter(pk=self.shared.shared_counter).update(
                balance=F("balance") + 1, version=F("version") + 1
            )
        except DatabaseError:
            self.ledger.shared_counter_uncertain += 1
            raise
        self.ledger.shared_counter_acked += 1

    def versioned_save(self) -> None:
        """Read-modify-write of a shared account; a stale save is refused and retried later."""
        account = Account.objects.using(self.alias).get(pk=self.random.choice(self.shared.accounts))
        account.balance += 1
        try:
            account.save()
        except ConflictError:
            self.ledger.conflicts += 1
            return
        except DatabaseError:
            self.ledger.saves_uncertain += 1
            raise
        self.ledger.saves_acked += 1

    # -- bookmark walks -----------------------------------------------------------------
    def walk(self) -> None:
        """Walk one group's entries page by page (resuming across an outage): every entry
        acknowledged before the walk started must appear once, in order."""
        group = self.random.randrange(GROUPS)
        expected = self.shared.entries.snapshot(group)
        paginator = BookmarkPaginator(Entry.objects.using(self.alias).filter(group=group), 20)
        seen: list[tuple[Any, int]] = []
        bookmark = None
        while True:
            page = self._page(paginator, bookmark)
            self.ledger.walk_pages += 1
            seen.extend((entry.score, entry.pk) for entry in page)
            if not page.has_next:
                break
            bookmark = page.next_bookmark
        self.ledger.walks += 1
        self.ledger.walk_rows += len(seen)
        keys = [(score is None, -(score or 0), pk) for score, pk in seen]
        if any(a >= b for a, b in zip(keys, keys[1:], strict=False)):
            self.ledger.violations.append(f"walk of group {group}: rows out of order or repeated")
        missing = expected - {pk for _, pk in seen}
        if missing:
            self.ledger.violations.append(
                f"walk of group {group}: {len(missing)} acknowledged entries not shown"
            )

    def _page(self, paginator: BookmarkPaginator, bookmark: str | None):
        for attempt in range(PAGE_ATTEMPTS):
            try:
                return paginator.page(bookmark)
            except DatabaseError as error:
                self.ledger.errors[type(error).__name__] += 1
                if attempt == PAGE_ATTEMPTS - 1:
                    raise
                time.sleep(PAUSE)
                connections[self.alias].close_if_unusable_or_obsolete()
        raise AssertionError("unreachable")
