"""``str(queryset.query)`` describes the read without running any of it.

Django renders a query where no database access is allowed (``SimpleTestCase``,
logging, a debugger): on SQL a JOIN or a subquery is text. On the nonrel
backends a read across relations starts with key reads; describing it lists
them as steps instead of sending them (django_nonrel.described_reads). The
tests without the ``django_db`` mark run with database access blocked, as a
``SimpleTestCase`` does: any command sent fails them.
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, RowRange, Window
from django.db.models.fields.tuple_lookups import TupleIn
from django.db.models.functions import Length, Rank
from django.db.models.sql.constants import CURSOR

from tests.commands import CommandCapture
from tests.orm.models import Author
from tests.relations.models import (
    Country,
    Label,
    Note,
    Novel,
    Player,
    Publisher,
    Team,
    Writer,
)

#: Querysets that cross relations or nest a queryset, and the tables their
#: description must name (a SQL JOIN/subquery does; so do our described steps).
SHAPES = {
    "forward foreign key": (
        lambda: Writer.objects.filter(publisher__name="Penguin"),
        [Publisher],
    ),
    "two hops": (
        lambda: Novel.objects.filter(writer__publisher__name="Penguin"),
        [Writer, Publisher],
    ),
    "reverse foreign key": (lambda: Writer.objects.filter(novels__pages=120), [Novel]),
    "many-to-many": (lambda: Novel.objects.filter(labels__name="short"), [Label]),
    "exclude across a relation": (
        lambda: Writer.objects.exclude(novels__title__startswith="The"),
        [Novel],
    ),
    "queryset as a value": (
        lambda: Writer.objects.filter(novels__in=Novel.objects.filter(pages=120)),
        [Novel],
    ),
    "Exists without outer reference": (
        lambda: Writer.objects.filter(Exists(Novel.objects.filter(pages=120))),
        [Novel],
    ),
    "correlated Exists": (
        lambda: Writer.objects.filter(Exists(Novel.objects.filter(writer=OuterRef("pk")))),
        [Novel],
    ),
    "queryset value filtered in Python": (
        lambda: Writer.objects.filter(
            pk__in=Novel.objects.filter(pages=Length("title")).values("writer")
        ),
        [Novel],
    ),
    "grouped with a condition on an aggregate": (
        lambda: Writer.objects.annotate(n=Count("novels")).filter(n__gt=1),
        [],
    ),
    "queryset value of converted values": (
        lambda: Author.objects.filter(
            born__in=Author.objects.filter(age=3).values("born"),
            rating__in=Author.objects.filter(age=4).values("rating"),
        ),
        [],
    ),
    "queryset of several columns as a value": (
        lambda: Player.objects.filter(
            TupleIn(
                (F("team_country"), F("team_number")),
                Team.objects.filter(name__startswith="L")
                .values_list("country_code", "number")
                .query,
            )
        ),
        [Team],
    ),
    "nullable self reference": (
        lambda: Writer.objects.filter(mentor__name="Woolf"),
        [],
    ),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_describing_a_read_needs_no_database_access(shape):
    make, related = SHAPES[shape]
    text = str(make().query)
    for model in related:
        assert model._meta.db_table in text, text


@pytest.mark.django_db
def test_a_described_read_sends_nothing_and_the_read_still_runs():
    uk = Country.objects.create(name="UK")
    penguin = Publisher.objects.create(name="Penguin", country=uk)
    gallimard = Publisher.objects.create(name="Gallimard", country=uk)
    woolf = Writer.objects.create(name="Woolf", publisher=penguin)
    Writer.objects.create(name="Camus", publisher=gallimard)
    queryset = Writer.objects.filter(publisher__name="Penguin")
    with CommandCapture() as sent:
        text = str(queryset.query)
    assert list(sent) == []
    assert Publisher._meta.db_table in text and Writer._meta.db_table in text
    assert list(queryset) == [woolf]
    filtered = Writer.objects.filter(
        pk__in=Novel.objects.filter(pages=Length("title")).values("writer")
    )
    Novel.objects.create(title="Waves", pages=5, writer=woolf)
    camus = Writer.objects.get(name="Camus")
    Novel.objects.create(title="Nausea", pages=1, writer=camus)
    with CommandCapture() as sent:
        str(filtered.query)
    assert list(sent) == []
    assert list(filtered) == [woolf]


@pytest.mark.django_db
def test_a_queryset_the_planning_evaluates_is_read_not_described():
    """Describing an exclude() across a generic relation builds its join
    restriction, which reads the content type (and caches it): that read must
    run, or the restriction gets placeholders and the cache keeps them."""
    penguin = Publisher.objects.create(name="Penguin", country=Country.objects.create(name="UK"))
    woolf = Writer.objects.create(name="Woolf", publisher=penguin)
    novel = Novel.objects.create(title="Waves", pages=5, writer=woolf)
    other = Novel.objects.create(title="Orlando", pages=7, writer=woolf)
    note = Note.objects.create(text="reread", target=novel)
    ContentType.objects.clear_cache()
    text = str(Novel.objects.exclude(notes__text=None).query)
    assert "content_type_id" in text, text
    assert ContentType.objects.get_for_model(Novel).pk == note.content_type_id
    assert list(Novel.objects.exclude(notes__text="reread")) == [other]


@pytest.mark.django_db
def test_a_percent_sign_in_a_value_is_described_as_written():
    """Django renders ``str(query)`` as ``sql % params``: a "%" in a value
    raised TypeError (not enough arguments for format string)."""
    for text in ("50% off", "a%sb", "100%%"):
        described = str(Author.objects.filter(name=text).query)
        str(Author.objects.filter(name__contains=text).query)
        if connection.vendor == "mongodb":
            assert repr(text) in described, described


@pytest.mark.django_db
def test_a_read_run_for_its_cursor_gives_its_rows(on_mongodb):
    """execute_sql(CURSOR) on a read runs it and gives a cursor over its rows
    (extra select, the model's columns, annotations, as SQL orders them);
    ``last_executed_query()`` of it is the read's description."""
    Author.objects.create(name="Ann", age=3)
    Author.objects.create(name="Bob", age=4)
    queryset = Author.objects.filter(age__gte=3).order_by("name").values_list("name", "age")
    sql, params = queryset.query.sql_with_params()
    with queryset.query.get_compiler("default").execute_sql(CURSOR) as cursor:
        assert cursor.db.ops.last_executed_query(cursor, sql, params) == str(queryset.query)
        assert cursor.rowcount == 2
        assert cursor.fetchone() == ("Ann", 3)
        assert cursor.fetchall() == [("Bob", 4)]
        assert cursor.fetchone() is None


@pytest.mark.django_db
def test_a_described_step_stands_for_the_keys_it_reads(on_mongodb):
    text = str(Writer.objects.filter(publisher__name="Penguin").query)
    steps = text.split("; ")
    assert len(steps) == 2, text
    assert steps[0].startswith("distinct 'id' of db.relations_publisher.find(")
    assert "'Penguin'" in steps[0]
    assert steps[1].startswith(f"db.{Writer._meta.db_table}.find(")
    assert "'publisher_id': {'$in': [<'id' of step 1>]}" in steps[1]
    assert connection.store.__class__.__name__ != "DescribedReads"


def test_windows_are_described_as_the_step_after_the_read(on_mongodb):
    # The find reads the rows; the windows (partitions, order, frame) and the
    # conditions on them are computed on the client, and the description says how.
    ranked = Novel.objects.annotate(
        rank=Window(
            Rank(), partition_by=F("writer"), order_by=F("pages").desc(), frame=RowRange(-1, 1)
        )
    ).filter(rank=1, title="Waves")
    with CommandCapture() as sent:
        text = str(ranked.query)
    assert list(sent) == []
    find, windows, kept = text.split("; ")
    assert find.startswith(f"db.{Novel._meta.db_table}.find(") and "'Waves'" in find
    assert windows.startswith("then over the rows read: RANK() OVER (PARTITION BY ")
    assert "ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING" in windows and 'AS "rank"' in windows
    assert kept.startswith("keep the rows where ") and kept.endswith("= 1")
