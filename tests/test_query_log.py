"""``connection.queries`` counts ORM queries as Django's SQL backends do.

A project's ``assertNumQueries`` tests guard against N+1 loops: on MongoDB the
commands one query sends to follow its relations by key (select_related hops, a
many-to-many prefetch's through collection, a filter across a relation) are one
entry listing them, so those tests count what they count on SQL, on every tier;
a loop that runs a query per row is still one entry per row. Command counts
themselves are asserted with ``tests.commands.CommandCapture``.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.commands import CommandCapture
from tests.relations.models import Country, Label, Novel, Publisher, Writer

pytestmark = pytest.mark.django_db
ON_MONGODB = connection.vendor == "mongodb"


@pytest.fixture
def shelf():
    uk = Country.objects.create(name="UK")
    penguin = Publisher.objects.create(name="Penguin", country=uk)
    labels = [Label.objects.create(name=f"l{i}") for i in range(3)]
    for i in range(6):
        writer = Writer.objects.create(name=f"w{i}", publisher=penguin)
        novel = Novel.objects.create(title=f"n{i}", pages=i, writer=writer)
        novel.labels.set(labels[: i % 4])


def queries_and_commands(block):
    """(result, queries logged, commands sent) of ``block``."""
    with CaptureQueriesContext(connection) as queries, CommandCapture(connection) as commands:
        result = block()
    return result, queries.captured_queries, commands.captured_queries


def test_select_related_chain_is_one_query_listing_each_hop(shelf):
    novels, queries, commands = queries_and_commands(
        lambda: list(Novel.objects.select_related("writer__publisher__country").order_by("pages"))
    )
    assert [n.writer.publisher.country.name for n in novels] == ["UK"] * 6
    assert len(queries) == 1
    if ON_MONGODB:
        # The rows, then one batched read per hop, all sent and all listed.
        assert len(commands) == 4
        assert queries[0]["sql"] == "; ".join(c["sql"] for c in commands)
        assert [c["sql"].split(".")[1] for c in commands] == [
            "relations_novel",
            "relations_writer",
            "relations_publisher",
            "relations_country",
        ]


def test_many_to_many_prefetch_counts_as_on_sql(shelf):
    novels, queries, commands = queries_and_commands(
        lambda: list(Novel.objects.prefetch_related("labels").order_by("pages"))
    )
    assert [len(n.labels.all()) for n in novels] == [0, 1, 2, 3, 0, 1]
    # Django: the novels, then the labels JOINed to the through table.
    assert len(queries) == 2
    if ON_MONGODB:
        assert len(commands) == 3  # the through collection is a command of its own


def test_filter_across_a_relation_is_one_query(shelf):
    titles, queries, _ = queries_and_commands(
        lambda: sorted(
            Novel.objects.filter(writer__name__in=["w1", "w4"]).values_list("title", flat=True)
        )
    )
    assert titles == ["n1", "n4"]
    assert len(queries) == 1


def test_a_query_per_row_is_still_counted_per_row(shelf):
    """N+1 stays visible: each lazy relation access is a query of its own."""
    names, queries, commands = queries_and_commands(
        lambda: [n.writer.publisher.name for n in Novel.objects.order_by("pages")]
    )
    assert names == ["Penguin"] * 6
    assert len(queries) == 1 + 6 * 2
    assert len(commands) == len(queries)


def test_queries_run_while_iterating_another_are_their_own(shelf):
    """A read is sent when the queryset is evaluated, so what runs between its
    rows is not folded into it."""

    def interleaved():
        seen = []
        for novel in Novel.objects.select_related("writer").order_by("pages").iterator():
            seen.append((novel.writer.name, Label.objects.filter(name="l0").count()))
        return seen

    seen, queries, _ = queries_and_commands(interleaved)
    assert seen == [(f"w{i}", 1) for i in range(6)]
    assert len(queries) == 1 + 6
    if ON_MONGODB:
        assert all("; " not in q["sql"] for q in queries[1:])


def test_each_command_is_logged_on_the_backends_logger(shelf, caplog, settings):
    settings.DEBUG = True
    with caplog.at_level("DEBUG", logger="django.db.backends"):
        _, queries, commands = queries_and_commands(
            lambda: list(Novel.objects.select_related("writer"))
        )
    statements = [
        r for r in caplog.records if getattr(r, "sql", None) in {c["sql"] for c in commands}
    ]
    assert len(statements) >= len(commands) and len(queries) == 1


def test_an_update_or_delete_that_matches_no_row_is_one_query(shelf):
    """As on SQL, whatever the server: on FerretDB the writes read the keys they
    claim first, and when that read finds no row no write follows; the read is
    then the query's entry, so assertNumQueries counts 1 on every tier."""
    with CaptureQueriesContext(connection) as queries:
        assert Novel.objects.filter(title="missing").update(pages=1) == 0
    assert len(queries.captured_queries) == 1
    with CaptureQueriesContext(connection) as queries:
        Label.objects.filter(name="missing").delete()
    assert len(queries.captured_queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert Novel.objects.filter(title="n1").update(pages=10) == 1
    assert len(queries.captured_queries) == 1
