"""select_related() and prefetch_related() without JOINs: batched, never N+1.

On the MongoDB backend select_related() costs one command for the rows plus one
``$in`` command per relation hop; prefetch_related() costs what it costs on SQL
backends (one query per lookup) plus one key lookup per hop of the filter it
runs (the through table of a many-to-many).
"""

import django
import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldError
from django.db import NotSupportedError, connection
from django.db.models import Count, FilteredRelation, Prefetch, Q

from tests.commands import CommandCapture
from tests.relations.models import (
    Club,
    Country,
    Label,
    Membership,
    Note,
    Novel,
    Profile,
    Publisher,
    Review,
    Writer,
)

pytestmark = pytest.mark.django_db

ON_MONGODB = connection.vendor == "mongodb"


def expect(sql: int, mongodb: int) -> int:
    return mongodb if ON_MONGODB else sql


@pytest.fixture
def shelf():
    uk = Country.objects.create(name="UK")
    penguin = Publisher.objects.create(name="Penguin", country=uk)
    writers = [Writer.objects.create(name=f"w{i}", publisher=penguin) for i in range(30)]
    for i, writer in enumerate(writers[1:], 1):
        writer.mentor = writers[i - 1] if i % 2 else None
        writer.save()
    labels = [Label.objects.create(name=f"l{i}") for i in range(3)]
    novels = []
    for i, writer in enumerate(writers):
        novel = Novel.objects.create(title=f"n{i}", pages=i, writer=writer)
        novel.labels.set(labels[: i % 4])
        novels.append(novel)
    Profile.objects.create(writer=writers[0], bio="first")
    return {"writers": writers, "labels": labels, "novels": novels}


def test_select_related_chain_is_one_command_per_hop(shelf):
    with CommandCapture(connection) as ctx:
        novels = list(Novel.objects.select_related("writer__publisher__country").order_by("pages"))
        countries = {n.writer.publisher.country.name for n in novels}
    assert countries == {"UK"} and len(novels) == 30
    assert novels[3].writer.name == "w3"
    assert len(ctx.captured_queries) == expect(1, 4)


def test_select_related_without_arguments_follows_non_null_fks(shelf):
    with CommandCapture(connection) as ctx:
        writers = list(Writer.objects.select_related().order_by("name"))
        assert {w.publisher.country.name for w in writers} == {"UK"}
    assert len(ctx.captured_queries) == expect(1, 3)
    # The nullable mentor FK is not followed without naming it.
    assert not Writer._meta.get_field("mentor").is_cached(writers[2])


def test_select_related_nullable_fk_and_reverse_one_to_one(shelf):
    with CommandCapture(connection) as ctx:
        writers = {w.name: w for w in Writer.objects.select_related("mentor", "profile")}
        assert writers["w1"].mentor.name == "w0"
        assert writers["w2"].mentor is None
        assert writers["w0"].profile.bio == "first"
        assert writers["w0"].profile.writer is writers["w0"]
    assert len(ctx.captured_queries) == expect(1, 3)
    with pytest.raises(Profile.DoesNotExist):
        writers["w1"].profile  # noqa: B018


def test_select_related_depth_and_errors(shelf):
    novel = Novel.objects.select_related("writer").get(title="n1")
    with CommandCapture(connection) as ctx:
        assert novel.writer.name == "w1"
    assert not ctx.captured_queries
    with pytest.raises(FieldError, match="Invalid field name"):
        list(Novel.objects.select_related("nope"))
    with pytest.raises(FieldError, match="Non-relational field"):
        list(Novel.objects.select_related("title"))


def test_select_related_over_a_filtered_relation(shelf):
    """A FilteredRelation is a conditional JOIN: select_related() loads the related
    object the condition finds, and an INNER join (the writer key is NOT NULL)
    drops the rows it finds nothing for, on every backend."""
    novels = Novel.objects.annotate(
        long_writer=FilteredRelation("writer", condition=Q(writer__name__startswith="w2"))
    ).select_related("long_writer")
    with CommandCapture(connection) as ctx:
        loaded = {novel.title: novel.long_writer.name for novel in novels}
    # One JOIN on SQL; one command per hop without JOINs, whatever the number of rows.
    assert len(ctx.captured_queries) == (2 if ON_MONGODB else 1)
    assert loaded == {f"n{i}": f"w{i}" for i in [2, *range(20, 30)]}


def test_select_related_choices_name_the_filtered_relations(shelf):
    """As Django's message: the FilteredRelation names are choices too."""
    novels = Novel.objects.annotate(w=FilteredRelation("writer")).select_related("nope")
    with pytest.raises(FieldError, match="Choices are: writer, w$"):
        list(novels)


def test_prefetch_forward_and_reverse_fk(shelf):
    with CommandCapture(connection) as ctx:
        writers = list(Writer.objects.prefetch_related("novels", "mentor").order_by("pk"))
        assert [n.title for n in writers[5].novels.all()] == ["n5"]
        assert writers[5].mentor.name == "w4"
    assert len(ctx.captured_queries) == 3


def test_prefetch_many_to_many_auto_and_reverse(shelf):
    with CommandCapture(connection) as ctx:
        novels = list(Novel.objects.prefetch_related("labels").order_by("pages"))
        assert [sorted(label.name for label in n.labels.all()) for n in novels[:4]] == [
            [],
            ["l0"],
            ["l0", "l1"],
            ["l0", "l1", "l2"],
        ]
    # Rows, then labels (on MongoDB: the through rows of these novels, then the labels).
    assert len(ctx.captured_queries) == expect(2, 3)
    labels = list(Label.objects.prefetch_related("novels").order_by("name"))
    assert sorted(n.title for n in labels[2].novels.all()) == [
        "n11",
        "n15",
        "n19",
        "n23",
        "n27",
        "n3",
        "n7",
    ]


def test_prefetch_custom_through_and_prefetch_objects(shelf):
    writers = shelf["writers"]
    club = Club.objects.create(name="inklings")
    Membership.objects.create(club=club, writer=writers[0], role="chair")
    Membership.objects.create(club=club, writer=writers[3], role="member")
    clubs = list(Club.objects.prefetch_related("members"))
    assert sorted(w.name for w in clubs[0].members.all()) == ["w0", "w3"]
    only_long = Prefetch("novels", queryset=Novel.objects.filter(pages__gte=3), to_attr="long")
    writers = {w.name: w for w in Writer.objects.prefetch_related(only_long, "clubs")}
    assert [n.title for n in writers["w3"].long] == ["n3"] and writers["w1"].long == []
    assert [c.name for c in writers["w3"].clubs.all()] == ["inklings"]


def test_prefetch_generic_foreign_keys(shelf):
    novel, writer = shelf["novels"][1], shelf["writers"][2]
    Note.objects.create(text="on a novel", target=novel)
    Note.objects.create(text="on a writer", target=writer)
    with CommandCapture(connection) as ctx:
        notes = {n.text: n for n in Note.objects.prefetch_related("target")}
        assert notes["on a novel"].target == novel
        assert notes["on a writer"].target == writer
    # Notes, then one query per content type (content types come from the cache).
    ContentType.objects.clear_cache()
    assert len(ctx.captured_queries) <= 4
    assert [
        n.text for n in Novel.objects.prefetch_related("notes").get(pk=novel.pk).notes.all()
    ] == ["on a novel"]


def test_filters_across_generic_relations_respect_the_content_type(shelf):
    novel = shelf["novels"][1]
    Note.objects.create(text="novel note", target=novel)
    # Same object key, another content type: must not count as the novel's note.
    writer_type = ContentType.objects.get_for_model(Writer)
    Note.objects.create(text="writer note", content_type=writer_type, object_id=novel.pk)
    assert [n.title for n in Novel.objects.filter(notes__text="novel note")] == ["n1"]
    assert list(Novel.objects.filter(notes__text="writer note")) == []
    assert Novel.objects.filter(notes__isnull=False).count() == 1
    assert list(Novel.objects.filter(pk=novel.pk).values_list("notes__text", flat=True)) == [
        "novel note"
    ]


def test_generic_relations_with_a_text_object_id(shelf):
    """A text object id (django-contrib-comments' object_pk) joins an integer key
    as SQL's cast does, from both sides, in filters, values() and prefetches."""
    novel = shelf["novels"][2]
    Review.objects.create(text="good", target=novel)
    novel_type = ContentType.objects.get_for_model(Novel)
    Review.objects.create(text="no such novel", content_type=novel_type, object_pk="n2")
    assert [n.title for n in Novel.objects.filter(reviews__text="good")] == ["n2"]
    assert Novel.objects.filter(reviews__isnull=True).count() == 29
    assert [r.text for r in Review.objects.filter(novel__title="n2")] == ["good"]
    assert list(Novel.objects.filter(pk=novel.pk).values_list("reviews__text", flat=True)) == [
        "good"
    ]
    # Django's prefetch converts every object id it meets (and refuses "n2").
    Review.objects.filter(object_pk="n2").delete()
    Review.objects.create(text="on a lost novel", content_type=novel_type, object_pk="999")
    reviews = list(Review.objects.prefetch_related("novel").order_by("text"))
    assert [list(r.novel.all()) for r in reviews] == [[novel], []]
    assert [
        r.text for r in Novel.objects.prefetch_related("reviews").get(pk=novel.pk).reviews.all()
    ] == ["good"]


class SqlOnlyRestriction:
    """A join restriction that only renders SQL, as django-taggit's tag managers return."""

    contains_aggregate = False
    contains_over_clause = False

    def __init__(self, alias, column, content_type_ids):
        self.alias, self.column, self.content_type_ids = alias, column, content_type_ids

    def as_sql(self, compiler, connection):
        quote = compiler.quote_name_unless_alias
        column = f"{quote(self.alias)}.{quote(self.column)}"
        if len(self.content_type_ids) == 1:
            return f"{column} = %s", self.content_type_ids
        placeholders = ", ".join(["%s"] * len(self.content_type_ids))
        return f"{column} IN ({placeholders})", self.content_type_ids

    def relabel_aliases(self, change_map):
        self.alias = change_map.get(self.alias, self.alias)


@pytest.fixture
def noted_novel(shelf):
    novel = shelf["novels"][1]
    Note.objects.create(text="novel note", target=novel)
    writer_type = ContentType.objects.get_for_model(Writer)
    Note.objects.create(text="writer note", content_type=writer_type, object_id=novel.pk)
    return novel


def test_a_join_restriction_given_as_one_lookup_is_followed(noted_novel, monkeypatch):
    """Some relation fields return a bare lookup rather than Django's WhereNode."""
    notes = Novel._meta.get_field("notes")
    stock = notes.get_extra_restriction
    monkeypatch.setattr(
        notes, "get_extra_restriction", lambda alias, remote: stock(alias, remote).children[0]
    )
    assert [n.title for n in Novel.objects.filter(notes__text="novel note")] == ["n1"]
    assert list(Novel.objects.filter(notes__text="writer note")) == []


def sql_only_notes(monkeypatch, *models, render=None):
    """Novel.notes restricted as django-taggit restricts its tagged items: by an
    object that only renders SQL, on the notes' content type (``IN`` for two)."""
    notes = Novel._meta.get_field("notes")
    type_ids = [ContentType.objects.get_for_model(model).pk for model in models]
    restriction_class = render or SqlOnlyRestriction
    monkeypatch.setattr(
        notes,
        "get_extra_restriction",
        lambda alias, remote: restriction_class(remote, "content_type_id", type_ids),
    )


def test_a_join_restriction_that_only_renders_sql(noted_novel, monkeypatch):
    """``"note"."content_type_id" = %s`` restricts the join on every tier, as SQL's ON clause."""
    sql_only_notes(monkeypatch, Novel)
    assert list(Novel.objects.filter(notes__text="writer note")) == []
    assert [n.title for n in Novel.objects.filter(notes__text="novel note")] == ["n1"]


def test_a_join_restriction_rendering_in_matches_every_listed_value(noted_novel, monkeypatch):
    sql_only_notes(monkeypatch, Novel, Writer)
    assert [n.title for n in Novel.objects.filter(notes__text="writer note")] == ["n1"]
    sql_only_notes(monkeypatch, Writer, Country)
    assert list(Novel.objects.filter(notes__text="novel note")) == []


def test_a_join_restriction_that_only_renders_sql_in_exclude(noted_novel, monkeypatch):
    """exclude() trims the join and moves its restriction into the subquery's WHERE."""
    sql_only_notes(monkeypatch, Novel)
    assert "n1" not in {n.title for n in Novel.objects.exclude(notes__text="novel note")}
    assert Novel.objects.exclude(notes__text="writer note").count() == 30


def test_a_join_restriction_on_the_table_joined_from(noted_novel, monkeypatch):
    """From the notes to their novel the restriction is on the notes' side of the join."""
    sql_only_notes(monkeypatch, Novel)
    assert [n.text for n in Note.objects.filter(novel__title="n1")] == ["novel note"]


def test_a_join_restriction_that_only_renders_sql_in_a_count(noted_novel, monkeypatch):
    sql_only_notes(monkeypatch, Novel, Writer)
    counted = Novel.objects.filter(pk=noted_novel.pk).annotate(n=Count("notes"))
    assert [n.n for n in counted] == [2]
    sql_only_notes(monkeypatch, Writer)
    assert Novel.objects.filter(notes__text__endswith="note").count() == 1


class LowerRestriction(SqlOnlyRestriction):
    """SQL outside the readable shape: a function of the column."""

    def as_sql(self, compiler, connection):
        quote = compiler.quote_name_unless_alias
        return f"ABS({quote(self.alias)}.{quote(self.column)}) = %s", self.content_type_ids


def test_other_sql_in_a_join_restriction_is_refused(noted_novel, monkeypatch):
    """On SQL it runs; the MongoDB backend refuses it clearly instead of guessing."""
    sql_only_notes(monkeypatch, Novel, render=LowerRestriction)
    matching = Novel.objects.filter(notes__text="writer note")
    if ON_MONGODB:
        with pytest.raises(NotSupportedError, match="LowerRestriction, which only renders SQL"):
            list(matching)
    else:
        assert list(matching) == []


def test_command_counts_stay_flat_over_a_thousand_rows():
    uk = Country.objects.create(name="UK")
    publishers = Publisher.objects.bulk_create(
        [Publisher(name=f"p{i}", country=uk) for i in range(10)]
    )
    writers = Writer.objects.bulk_create(
        [Writer(name=f"w{i}", publisher=publishers[i % 10]) for i in range(100)]
    )
    novels = Novel.objects.bulk_create(
        [Novel(title=f"n{i}", pages=i, writer=writers[i % 100]) for i in range(1000)]
    )
    labels = Label.objects.bulk_create([Label(name=f"l{i}") for i in range(5)])
    through = Novel.labels.through
    through.objects.bulk_create(
        [through(novel=n, label=labels[i % 5]) for i, n in enumerate(novels)]
        + [through(novel=n, label=labels[(i + 1) % 5]) for i, n in enumerate(novels[:500])]
    )
    with CommandCapture(connection) as ctx:
        rows = list(Novel.objects.select_related("writer__publisher"))
        assert len({n.writer.publisher.name for n in rows}) == 10
    assert len(rows) == 1000 and len(ctx.captured_queries) == expect(1, 3)
    with CommandCapture(connection) as ctx:
        rows = list(Novel.objects.prefetch_related("labels", "writer"))
        assert sum(len(n.labels.all()) for n in rows) == 1500
        assert {n.writer.name for n in rows} == {w.name for w in writers}
    assert len(ctx.captured_queries) == expect(3, 4)


def test_select_related_honours_deferred_related_fields(shelf):
    novel = Novel.objects.select_related("writer").defer("writer__name").get(title="n2")
    assert "name" in novel.writer.get_deferred_fields()
    with CommandCapture(connection) as ctx:
        assert novel.writer.name == "w2"
    assert len(ctx.captured_queries) == 1
    only = Novel.objects.select_related("writer").only("title", "writer__mentor").get(title="n3")
    assert only.writer.get_deferred_fields() >= {"name", "publisher_id"}
    assert only.writer.mentor_id == shelf["writers"][2].pk


def test_filters_from_the_generic_side_respect_the_content_type(shelf):
    novel = shelf["novels"][4]
    Note.objects.create(text="novel note", target=novel)
    writer_type = ContentType.objects.get_for_model(Writer)
    Note.objects.create(text="writer note", content_type=writer_type, object_id=novel.pk)
    assert [n.text for n in Note.objects.filter(novel__isnull=False)] == ["novel note"]
    assert [n.text for n in Note.objects.filter(novel__title="n4")] == ["novel note"]
    assert [n.text for n in Note.objects.filter(novel__isnull=True)] == ["writer note"]


@pytest.mark.skipif(django.VERSION < (6, 1), reason="fetch modes are Django 6.1's")
def test_select_related_objects_are_peers_under_fetch_peers():
    # As Django's RelatedPopulator: the objects of one select_related() step over the
    # rows are peers, so a field deferred or unloaded on one is fetched for all at once.
    from django.db.models import FETCH_PEERS

    from tests.orm.models import Author as OrmAuthor
    from tests.orm.models import Book as OrmBook
    from tests.orm.models import Review as OrmReview

    for index in range(3):
        author = OrmAuthor.objects.create(name=f"a{index}", handle=f"a{index}")
        book = OrmBook.objects.create(title=f"b{index}", author=author)
        OrmReview.objects.create(book=book, stars=index)
    reviews = list(OrmReview.objects.fetch_mode(FETCH_PEERS).select_related("book"))
    books = [review.book for review in reviews]
    assert [b._state.peers for b in books] == [books[0]._state.peers] * 3
    assert {peer() for peer in books[0]._state.peers} == set(books)
    with CommandCapture(connection) as commands:
        names = sorted(book.author.name for book in books)
    assert names == ["a0", "a1", "a2"]
    assert len(commands) == 1, commands


def test_select_related_of_a_self_referential_one_to_one_under_only():
    """The reverse one-to-one of a model to itself is its own row, not the parent's
    (its fields are its own, deferred ones load its own values)."""
    from tests.orm.models import Stage

    first = Stage.objects.create(name="first", rank=1)
    second = Stage.objects.create(name="second", rank=2, previous=first)
    loaded_first, loaded_second = (
        Stage.objects.select_related("previous", "following")
        .only("name", "previous__name", "following__rank")
        .order_by("rank")
    )
    assert loaded_second.previous.name == "first"
    assert loaded_first.following.rank == 2
    assert "name" not in loaded_first.following.__dict__
    assert loaded_first.following.pk == second.pk
    assert loaded_first.following.name == "second"
    assert loaded_second.previous.rank == 1
