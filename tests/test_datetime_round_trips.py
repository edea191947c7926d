"""DateTimeField values through bulk_create(), save() and reads, on every tier.

The same instant comes back whatever zone a value was given in: aware in UTC
with USE_TZ (Django's own backends return ``tzinfo=datetime.UTC``), naive
without. Inserts take shortcuts for the common values (aware UTC datetimes are
handed to the driver as they are on MongoDB) and reads convert stored
datetimes in one step; these tests pin that the shortcuts change nothing a
user sees.
"""

import datetime
import zoneinfo

import pytest
from django.db import IntegrityError, connection, transaction

from tests.app.models import Person, Post
from tests.orm.models import Author, Book, Reading

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
#: Milliseconds only: MongoDB keeps no more.
INSTANT = datetime.datetime(2024, 3, 4, 5, 6, 7, 123000, tzinfo=datetime.UTC)
GIVEN = {"utc": INSTANT, "paris": INSTANT.astimezone(PARIS)}


@pytest.fixture
def author():
    return Author.objects.create(name="Ann")


@pytest.mark.parametrize("zone", sorted(GIVEN))
def test_bulk_created_aware_datetimes_read_back_as_the_instant_in_utc(author, zone):
    Book.objects.bulk_create(
        [
            Book(title="dated", author=author, published=GIVEN[zone]),
            Book(title="undated", author=author, published=None),
        ]
    )
    loaded = Book.objects.get(title="dated").published
    assert loaded == INSTANT and loaded.tzinfo is datetime.UTC
    assert Book.objects.get(title="undated").published is None
    (value,) = Book.objects.filter(title="dated").values_list("published", flat=True)
    assert value == INSTANT and value.tzinfo is datetime.UTC
    assert Book.objects.filter(published=GIVEN[zone]).count() == 1


def test_bulk_create_stores_what_save_stores(author, on_mongodb):
    """The driver gets aware UTC values as they are: the stored BSON date must be
    the one save() stores (adapted to naive UTC first)."""
    Book.objects.create(title="saved", author=author, published=GIVEN["paris"])
    Book.objects.bulk_create([Book(title="bulk", author=author, published=INSTANT)])
    collection = connection.database[Book._meta.db_table]
    stored = {d["title"]: d["published"] for d in collection.find({}, {"title": 1, "published": 1})}
    assert stored["saved"] == stored["bulk"] == INSTANT.replace(tzinfo=None)


def test_a_naive_datetime_is_still_taken_in_the_current_time_zone(author, settings):
    settings.TIME_ZONE = "Europe/Paris"
    naive = datetime.datetime(2024, 3, 4, 6, 6, 7, 123000)
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        Book.objects.bulk_create([Book(title="naive", author=author, published=naive)])
    assert Book.objects.get(title="naive").published == INSTANT


def test_without_use_tz_values_are_naive_and_aware_ones_are_refused(author, settings):
    Book.objects.bulk_create([Book(title="aware", author=author, published=INSTANT)])
    settings.USE_TZ = False
    naive = INSTANT.replace(tzinfo=None)
    Book.objects.bulk_create([Book(title="naive", author=author, published=naive)])
    assert Book.objects.get(title="aware").published == naive
    assert Book.objects.get(title="naive").published == naive
    with pytest.raises(ValueError, match="timezone-aware"):
        Book.objects.bulk_create([Book(title="refused", author=author, published=INSTANT)])


def test_datetimes_inside_a_list_read_back_aware_in_utc():
    person = Person.objects.create(name="p", seen=[GIVEN["paris"], INSTANT])
    seen = Person.objects.get(pk=person.pk).seen
    assert seen == [INSTANT, INSTANT]
    assert all(value.tzinfo is datetime.UTC for value in seen)


def test_datetimes_in_untyped_values_read_back_aware_in_utc(on_mongodb, settings):
    """Untyped DictField()/ListField() values keep BSON dates on MongoDB: read back
    aware in UTC with USE_TZ, naive without, at any depth; the rest unchanged."""
    meta = {"at": GIVEN["paris"], "log": [INSTANT, {"when": INSTANT}], "n": None, "s": "x"}
    post = Post.objects.create(title="t", meta=meta, extras=[GIVEN["paris"], None, "y"])
    loaded = Post.objects.get(pk=post.pk)
    assert loaded.meta == {"at": INSTANT, "log": [INSTANT, {"when": INSTANT}], "n": None, "s": "x"}
    assert loaded.meta["log"][1]["when"].tzinfo is datetime.UTC
    assert loaded.extras == [INSTANT, None, "y"] and loaded.extras[0].tzinfo is datetime.UTC
    plain = Post.objects.create(title="plain", meta={"s": "x"}, extras=["y"])
    assert Post.objects.get(pk=plain.pk).meta == {"s": "x"}
    settings.USE_TZ = False
    naive = INSTANT.replace(tzinfo=None)
    loaded = Post.objects.get(pk=post.pk)
    assert loaded.meta["log"] == [naive, {"when": naive}] and loaded.extras[0] == naive


def test_bulk_create_refuses_none_in_a_required_field_and_writes_nothing(author):
    with pytest.raises(IntegrityError), transaction.atomic():
        Book.objects.bulk_create(
            [Book(title="kept", author=author), Book(title=None, author=author)]
        )
    assert not Book.objects.filter(title="kept").exists()


def test_a_datetime_key_with_microseconds_is_the_key_it_is_stored_as():
    """The key is sent as BSON stores it (to the millisecond), so the row it names
    can be found, deleted and rolled back by that key on every driver; mongomock
    used to index the row by the microsecond value and fail with a KeyError."""
    taken = datetime.datetime(2024, 3, 4, 5, 6, 7, 123456, tzinfo=datetime.UTC)
    # The inner block is a savepoint, rolled back by the error.
    with transaction.atomic(), pytest.raises(ZeroDivisionError), transaction.atomic():
        Reading.objects.create(taken=taken, value=1)
        assert Reading.objects.filter(taken=taken).count() == 1
        1 / 0  # noqa: B018
    assert not Reading.objects.exists()
    Reading.objects.create(taken=taken, value=2)
    assert Reading.objects.get(taken=taken).value == 2
    assert Reading.objects.filter(taken=taken).delete()[0] == 1
    assert not Reading.objects.exists()
