"""Cascade deletes: key sets on MongoDB, Django semantics with signals, a project hook."""

import pytest
from django.db import OperationalError, connection, connections, models
from django.db.models import ProtectedError, signals
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.commands import CommandCapture
from tests.conc.models import (
    FALLBACK_CALLS,
    Ad,
    Banner,
    Board,
    Campaign,
    Node,
    Pin,
    Post,
    Shelf,
    Thread,
)

pytestmark = pytest.mark.django_db

#: Work a test-local task queue would run later (see deferred_cascade).
QUEUE: list = []


def deferred_cascade(collector, objs, **collect_kwargs):
    """A NONREL_CASCADE_HANDLER: delete boards now, their threads and posts later.

    Only where the database enforces no foreign keys: elsewhere the board could
    not go before its threads, so the handler declines and Django cascades.
    """
    if connections[collector.using].features.supports_foreign_keys:
        return False
    if getattr(objs, "model", type(objs[0])) is not Board:
        return False
    boards = list(objs)
    collector.add(boards)
    QUEUE.append([board.pk for board in boards])
    return True


def run_queue():
    while QUEUE:
        keys = QUEUE.pop()
        Post.objects.filter(thread__in=list(Thread.objects.filter(board__in=keys))).delete()
        Thread.objects.filter(board__in=keys).delete()


def commands(func):
    with CommandCapture(connection) as captured:
        result = func()
    return result, [q["sql"] for q in captured if q["sql"] not in ("BEGIN", "COMMIT")]


def make_board(threads):
    """A board with ``threads`` threads, posts on 50 of them, and a post it moderates."""
    board = Board.objects.create(name="main")
    other = Board.objects.create(name="other")
    threads = Thread.objects.bulk_create(
        [Thread(board=board, title=f"t{i}") for i in range(threads)]
    )
    kept = Thread.objects.create(board=other, title="kept")
    Post.objects.bulk_create(
        [Post(thread=thread, moderator=other, body="x") for thread in threads[:50]]
        + [Post(thread=kept, moderator=board, body="moderated")]
    )
    return board


@pytest.fixture
def board():
    return make_board(10_000)


def test_ten_thousand_children_go_in_a_handful_of_commands(on_mongodb, board):
    (total, per_model), sent = commands(board.delete)
    assert per_model == {"conc.Board": 1, "conc.Thread": 10_000, "conc.Post": 50}
    assert total == 10_051
    # thread keys (1 find), posts of the threads still on the board (1 find, 1 delete),
    # threads (1 delete), moderator SET_NULL (1 update), the board (1 delete): no
    # command per child.
    assert len(sent) == 6, sent
    reads = [s for s in sent if ".find(" in s]
    assert len(reads) == 2 and all("conc_thread.find(" in r for r in reads), reads
    assert Thread.objects.count() == 1 and Post.objects.count() == 1
    assert Post.objects.get().moderator_id is None
    assert board.pk is None  # as after Django's own delete()


def test_queryset_delete_cascades_by_keys(on_mongodb, board):
    (total, per_model), sent = commands(Board.objects.filter(name="main").delete)
    assert per_model == {"conc.Board": 1, "conc.Thread": 10_000, "conc.Post": 50}
    # Plus reading the board keys, and, when each level goes, the rows it hangs from
    # that are still on their way out (threads: the boards still matching; posts:
    # those boards, then their threads; moderator SET_NULL: the boards): a board
    # another connection renamed meanwhile is not deleted, nor are its threads or
    # posts (tests/reliability/test_guarded_writes.py).
    assert len(sent) == 10, sent
    assert Board.objects.count() == 1 and Thread.objects.count() == 1


def cascade_rows() -> tuple[set, dict, set]:
    """Board keys, thread key -> board key, and the threads posts point at."""
    boards = set(Board.objects.values_list("pk", flat=True))
    threads = dict(Thread.objects.values_list("pk", "board_id"))
    return boards, threads, set(Post.objects.values_list("thread_id", flat=True))


@pytest.mark.django_db(transaction=True)  # the delete's own atomic() is the outermost
@pytest.mark.parametrize("failing", [Thread, Post, Board], ids=lambda model: model.__name__)
def test_a_cascade_cut_short_leaves_no_orphans_and_a_second_delete_completes_it(
    on_mongodb, monkeypatch, failing, transactions_setting
):
    """A failure mid-cascade (the server gone). Where atomic() rolls back (a server
    transaction, or the undo journal test databases have) the delete's transaction
    undoes what ran. Without transactions what was deleted stays deleted: children
    go first and the board last, so no row is left pointing at a deleted one, and
    deleting the board again finishes the job (found by the soak: the board went
    first, and its threads were orphans no delete could reach)."""
    board = make_board(20)
    before = cascade_rows()
    store = connection.store
    original = store.delete

    def delete(query):
        if query.table == failing._meta.db_table:
            raise OperationalError("the server went away")
        return original(query)

    with monkeypatch.context() as patched, pytest.raises(OperationalError):
        patched.setattr(store, "delete", delete)
        Board.objects.filter(name="main").delete()
    boards, threads, posted = cascade_rows()
    if connection.features.supports_transactions:
        assert (boards, threads, posted) == before
    assert board.pk in boards
    assert set(threads.values()) <= boards
    assert posted <= set(threads)
    Board.objects.filter(name="main").delete()
    assert Thread.objects.count() == 1 and Post.objects.count() == 1
    assert Post.objects.get().moderator_id is None


def test_signals_keep_django_semantics():
    board = make_board(300)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    signals.pre_delete.connect(receiver, sender=Post)
    try:
        total, per_model = board.delete()
    finally:
        signals.pre_delete.disconnect(receiver, sender=Post)
    assert per_model == {"conc.Board": 1, "conc.Thread": 300, "conc.Post": 50}
    assert len(seen) == 50 and len(set(seen)) == 50
    assert Post.objects.get().moderator_id is None


def test_protect_still_protects():
    shelf = Shelf.objects.create(name="s")
    Pin.objects.create(shelf=shelf)
    with pytest.raises(ProtectedError):
        shelf.delete()
    assert Shelf.objects.count() == 1


def test_a_self_referencing_tree_is_deleted_whole():
    root = Node.objects.create(name="root")
    level = [root]
    for depth in range(4):
        level = [
            Node.objects.create(parent=parent, name=f"{depth}-{i}")
            for parent in level
            for i in range(2)
        ]
    other = Node.objects.create(name="other")
    total, per_model = root.delete()
    assert total == 31 and per_model == {"conc.Node": 31}
    assert list(Node.objects.values_list("pk", flat=True)) == [other.pk]


@override_settings(NONREL_CASCADE_HANDLER="tests.test_cascade.deferred_cascade")
def test_a_project_handler_takes_cascades_over():
    board = Board.objects.create(name="b")
    thread = Thread.objects.create(board=board, title="t")
    Post.objects.create(thread=thread)
    total, per_model = board.delete()
    if connection.features.supports_foreign_keys:  # declined: Django's cascade
        assert per_model == {"conc.Board": 1, "conc.Thread": 1, "conc.Post": 1}
        assert not QUEUE
    else:
        assert per_model == {"conc.Board": 1}
        assert Thread.objects.count() == 1  # not yet: the task queue has it
        run_queue()
    assert Thread.objects.count() == 0 and Post.objects.count() == 0
    Shelf.objects.create(name="s").delete()  # declined: Django's collector ran


def test_set_callables_run_only_when_children_need_them():
    FALLBACK_CALLS.clear()
    lonely = Campaign.objects.create(name="lonely")
    Ad.objects.create(campaign=lonely)
    lonely.delete()
    assert FALLBACK_CALLS == [] and Ad.objects.count() == 0
    busy = Campaign.objects.create(name="busy")
    Ad.objects.create(campaign=busy)
    banner = Banner.objects.create(campaign=busy)
    busy.delete()
    assert FALLBACK_CALLS == [1]
    banner.refresh_from_db()
    assert banner.campaign_id is None and Ad.objects.count() == 0


@pytest.mark.skipif(
    not hasattr(models, "DB_CASCADE"), reason="database-level on_delete is Django 6.1+"
)
@pytest.mark.parametrize("rule", ["DB_CASCADE", "DB_SET_NULL"])
def test_database_level_on_delete_is_refused_where_no_server_would_run_it(rule):
    """DB_CASCADE/DB_SET_NULL leave the action to the server: on MongoDB (and
    SingleStore, which has no FOREIGN KEYs) nothing would run it and children
    would be left pointing at a deleted parent, so the model check says so."""
    from django.apps import apps

    class Orphanable(models.Model):
        parent = models.ForeignKey(
            "conc.Account", getattr(models, rule), null=True, related_name="+"
        )

        class Meta:
            app_label = "conc"

    try:
        errors = Orphanable._meta.get_field("parent").check(databases=[connection.alias])
    finally:
        del apps.get_app_config("conc").models["orphanable"]
        apps.clear_cache()
    ids = [error.id for error in errors]
    runs_it = getattr(
        connection.features,
        {
            "DB_CASCADE": "supports_on_delete_db_cascade",
            "DB_SET_NULL": "supports_on_delete_db_null",
        }[rule],
    )
    if connection.settings_dict["ENGINE"].startswith("django_nonrel.backends."):
        assert not runs_it
        assert "fields.E324" in ids
        assert rule.removeprefix("DB_") in next(e.hint for e in errors if e.id == "fields.E324")
    else:
        assert "fields.E324" not in ids, errors


def test_a_delete_reaching_one_model_by_two_relations_is_one_query_for_it():
    """As Django's collector combines them (``author IN (...) OR copied IN (...)``),
    and a to_field value comes from the instance: deleting a desk is 2 queries,
    its memos and itself, on every tier; both memos pointing at it go."""
    from tests.conc.models import Desk, Memo

    desk, other = Desk.objects.create(code=42), Desk.objects.create(code=7)
    Memo.objects.create(author=desk, copied=other)
    Memo.objects.create(author=other, copied=desk)
    kept = Memo.objects.create(author=other, copied=other)
    with CaptureQueriesContext(connection) as queries:
        desk.delete()
    assert len(queries.captured_queries) == 2
    assert list(Memo.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(Desk.objects.values_list("code", flat=True)) == [7]
