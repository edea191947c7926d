"""What the stored data must show after the soak, given what each operation returned."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tests.conc.models import Account, Board, Entry, Post, Thread
from tests.soak.workload import Ledger


@dataclass
class Verdict:
    """The rows checked and every violation found."""

    checked: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    def expect(self, condition: bool, message: str) -> None:
        if not condition:
            self.violations.append(message)


def verify(
    alias: str,
    ledgers: Iterable[Ledger],
    counters: list[int],
    accounts: list[int],
    shared_counter: int | None,
) -> Verdict:
    """Compare the database behind ``alias`` with the threads' ledgers."""
    ledgers = list(ledgers)
    verdict = Verdict()
    for ledger in ledgers:
        verdict.violations.extend(ledger.violations)
    _entries(alias, ledgers, verdict)
    _boards(alias, ledgers, verdict)
    _no_orphans(alias, verdict)
    _counters(alias, ledgers, counters, shared_counter, verdict)
    _versioned(alias, ledgers, accounts, verdict)
    return verdict


def _entries(alias: str, ledgers: list[Ledger], verdict: Verdict) -> None:
    stored = dict(Entry.objects.using(alias).values_list("pk", "title"))
    acked = {pk: title for ledger in ledgers for pk, title in ledger.entries.items()}
    lost = [pk for pk, title in acked.items() if stored.get(pk) != title]
    verdict.expect(not lost, f"{len(lost)} acknowledged entries lost or changed: {lost[:10]}")
    verdict.checked["entries acknowledged and found"] = len(acked) - len(lost)
    verdict.checked["entries stored"] = len(stored)


def _boards(alias: str, ledgers: list[Ledger], verdict: Verdict) -> None:
    boards = set(Board.objects.using(alias).values_list("pk", flat=True))
    threads = set(Thread.objects.using(alias).values_list("pk", flat=True))
    posts = set(Post.objects.using(alias).values_list("pk", flat=True))
    kept = deleted = 0
    for ledger in ledgers:
        for pk, record in ledger.boards.items():
            children = set(record.threads)
            grandchildren = {post for ids in record.threads.values() for post in ids}
            if record.state == "alive":
                kept += 1 + len(children) + len(grandchildren)
                verdict.expect(pk in boards, f"acknowledged board {pk} lost")
                verdict.expect(children <= threads, f"acknowledged threads of board {pk} lost")
                verdict.expect(grandchildren <= posts, f"acknowledged posts of board {pk} lost")
            elif record.state == "deleted":
                deleted += 1 + len(children) + len(grandchildren)
                verdict.expect(pk not in boards, f"deleted board {pk} still stored")
                verdict.expect(not children & threads, f"threads of deleted board {pk} remain")
                verdict.expect(not grandchildren & posts, f"posts of deleted board {pk} remain")
    verdict.checked["board/thread/post rows acknowledged and found"] = kept
    verdict.checked["board/thread/post rows deleted by a cascade and gone"] = deleted


def _no_orphans(alias: str, verdict: Verdict) -> None:
    boards = set(Board.objects.using(alias).values_list("pk", flat=True))
    threads = dict(Thread.objects.using(alias).values_list("pk", "board_id"))
    posts = list(Post.objects.using(alias).values_list("pk", "thread_id", "moderator_id"))
    orphan_threads = [pk for pk, board in threads.items() if board not in boards]
    orphan_posts = [pk for pk, thread, _ in posts if thread not in threads]
    dangling = [
        pk for pk, _, moderator in posts if moderator is not None and moderator not in boards
    ]
    verdict.expect(not orphan_threads, f"threads without their board: {orphan_threads[:10]}")
    verdict.expect(not orphan_posts, f"posts without their thread: {orphan_posts[:10]}")
    verdict.expect(not dangling, f"posts moderated by a deleted board: {dangling[:10]}")
    verdict.checked["relations checked for orphans"] = len(threads) + 2 * len(posts)


def _counters(
    alias: str,
    ledgers: list[Ledger],
    counters: list[int],
    shared_counter: int | None,
    verdict: Verdict,
) -> None:
    """Each applied increment adds 1 to balance and version in one write: balance is
    version - 1, and lies between the increments that returned and those plus the
    uncertain ones."""
    rows = dict(Account.objects.using(alias).values_list("pk", "balance"))
    versions = dict(Account.objects.using(alias).values_list("pk", "version"))
    for pk, ledger in zip(counters, ledgers, strict=True):
        low, high = ledger.counter_acked, ledger.counter_acked + ledger.counter_uncertain
        verdict.expect(low <= rows[pk] <= high, f"counter {pk}: {rows[pk]} not in [{low}, {high}]")
        verdict.expect(rows[pk] == versions[pk] - 1, f"counter {pk}: balance and version differ")
    verdict.checked["expression updates acknowledged"] = sum(
        ledger.counter_acked for ledger in ledgers
    )
    if shared_counter is None:
        return
    low = sum(ledger.shared_counter_acked for ledger in ledgers)
    high = low + sum(ledger.shared_counter_uncertain for ledger in ledgers)
    value = rows[shared_counter]
    verdict.expect(low <= value <= high, f"shared counter: {value} not in [{low}, {high}]")
    verdict.expect(value == versions[shared_counter] - 1, "shared counter: lost an increment")
    verdict.checked["concurrent expression updates of one row acknowledged"] = low


def _versioned(alias: str, ledgers: list[Ledger], accounts: list[int], verdict: Verdict) -> None:
    """Versioned saves: no lost update (balance is version - 1), and as many applied as
    returned (plus at most the uncertain ones)."""
    stored = Account.objects.using(alias).filter(pk__in=accounts).values_list("balance", "version")
    total = 0
    for balance, version in stored:
        verdict.expect(balance == version - 1, f"lost update: balance {balance}, version {version}")
        total += balance
    low = sum(ledger.saves_acked for ledger in ledgers)
    high = low + sum(ledger.saves_uncertain for ledger in ledgers)
    verdict.expect(
        low <= total <= high, f"versioned saves: {total} applied, not in [{low}, {high}]"
    )
    verdict.checked["versioned saves acknowledged"] = low
