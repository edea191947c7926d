"""Ordering by a relation whose model is ordered by an expression.

``order_by("genre")`` sorts by the related model's ``Meta.ordering``; when that
holds an expression (``Lower("name")``) Django orders by the expression over the
joined row. Here the related rows are read by key and the expression is
evaluated on them in Python. The same assertions hold on stock SQLite.
"""

import pytest
from django.db.models import F
from django.db.models.functions import Lower

from tests.orm.models import Album, Genre, Studio, Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf():
    # Created out of both orders: by key and by case-sensitive name ("ROCK" < "jazz").
    jazz, rock, blues = (Genre.objects.create(name=n) for n in ("jazz", "ROCK", "Blues"))
    albums = {
        title: Album.objects.create(title=title, genre=genre)
        for title, genre in (("Kind of Blue", jazz), ("Paranoid", rock), ("Texas Flood", blues))
    }
    tracks = {
        title: Track.objects.create(title=title, album=albums[album])
        for title, album in (
            ("So What", "Kind of Blue"),
            ("Iron Man", "Paranoid"),
            ("Pride and Joy", "Texas Flood"),
        )
    }
    return albums, tracks


def titles(queryset):
    return [row.title for row in queryset]


def test_model_ordered_by_an_expression():
    for name in ("jazz", "ROCK", "Blues"):
        Genre.objects.create(name=name)
    assert [g.name for g in Genre.objects.all()] == ["Blues", "jazz", "ROCK"]


def test_order_by_a_relation_sorts_by_the_related_expression(shelf):
    assert titles(Album.objects.order_by("genre")) == ["Texas Flood", "Kind of Blue", "Paranoid"]
    assert titles(Album.objects.order_by("-genre")) == ["Paranoid", "Kind of Blue", "Texas Flood"]


def test_default_ordering_through_the_relation(shelf):
    assert titles(Album.objects.all()) == ["Texas Flood", "Kind of Blue", "Paranoid"]
    assert titles(Album.objects.reverse()) == ["Paranoid", "Kind of Blue", "Texas Flood"]


def test_two_relations_away(shelf):
    expected = ["Pride and Joy", "So What", "Iron Man"]
    assert titles(Track.objects.order_by("album")) == expected
    assert titles(Track.objects.order_by("album__genre")) == expected
    assert titles(Track.objects.order_by("-album")) == expected[::-1]


def test_the_same_as_ordering_by_the_expression_itself(shelf):
    explicit = Track.objects.order_by(Lower("album__genre__name"))
    assert titles(Track.objects.order_by("album")) == titles(explicit)


def test_ties_fall_to_the_next_key_and_slices_apply_after_sorting(shelf):
    albums, _ = shelf
    Album.objects.create(title="A Love Supreme", genre=albums["Kind of Blue"].genre)
    ordered = Album.objects.order_by("genre", "-title")
    assert titles(ordered) == ["Texas Flood", "Kind of Blue", "A Love Supreme", "Paranoid"]
    assert titles(ordered[1:3]) == ["Kind of Blue", "A Love Supreme"]
    assert list(ordered.values_list("title", flat=True))[:2] == ["Texas Flood", "Kind of Blue"]


def test_f_of_a_relation_orders_by_its_key_as_django_does(shelf):
    # F("genre") is the genre_id column (creation order: jazz, ROCK, Blues); the
    # name "genre" is Genre's Meta.ordering.
    assert titles(Album.objects.order_by(F("genre"))) == [
        "Kind of Blue",
        "Paranoid",
        "Texas Flood",
    ]
    assert titles(Album.objects.order_by(F("genre").desc())) == [
        "Texas Flood",
        "Paranoid",
        "Kind of Blue",
    ]


@pytest.fixture
def studios():
    nameless, abbey, sun = (Studio.objects.create(name=n) for n in (None, "Abbey", "Sun"))
    for title, studio in (("Revolver", abbey), ("Elvis", sun), ("Demo", nameless), ("Live", None)):
        Album.objects.create(
            title=title, genre=Genre.objects.get_or_create(name="rock")[0], studio=studio
        )


def test_a_related_order_by_keeps_its_direction_and_nulls_placement(studios):
    # Studio's Meta.ordering is F("name").desc(nulls_last=True): Django applies it as
    # written, whatever the "-" of the name or reverse() (a row without a studio
    # has a NULL name too).
    expected = ["Elvis", "Revolver", "Demo", "Live"]
    assert titles(Album.objects.order_by("studio", "title")) == expected
    assert titles(Album.objects.order_by("-studio", "title")) == expected
    reversed_titles = ["Elvis", "Revolver", "Live", "Demo"]
    assert titles(Album.objects.order_by("studio", "title").reverse()) == reversed_titles
