"""update() on a queryset annotated with an aggregate.

Django updates ``pk IN (the grouped query)``: an annotation used only to filter
decides the rows, an unused one changes nothing. Here the keys are read through
the grouped read first, then updated by key. The same assertions hold on stock
SQLite.
"""

import pytest
from django.core.exceptions import FieldError
from django.db.models import Count, F, Max

from tests.orm.models import Album, Genre
from tests.relations.models import Franchise, Menu

pytestmark = pytest.mark.django_db


@pytest.fixture
def genres():
    jazz, rock, blues = (Genre.objects.create(name=n) for n in ("jazz", "rock", "blues"))
    Album.objects.create(title="Kind of Blue", genre=jazz)
    Album.objects.create(title="A Love Supreme", genre=jazz)
    Album.objects.create(title="Paranoid", genre=rock)
    return jazz, rock, blues


def names():
    return sorted(Genre.objects.values_list("name", flat=True))


def test_unused_annotation_updates_every_row(genres):
    assert Genre.objects.annotate(n=Count("albums")).update(name="any") == 3
    assert names() == ["any", "any", "any"]


def test_filter_on_the_aggregate_decides_the_rows(genres):
    annotated = Genre.objects.annotate(n=Count("albums"))
    assert annotated.filter(n=0).update(name="empty") == 1
    assert names() == ["empty", "jazz", "rock"]
    assert annotated.filter(n__gte=1, name__startswith="r").update(name="one") == 1
    assert names() == ["empty", "jazz", "one"]
    assert annotated.filter(n=5).update(name="none") == 0
    assert names() == ["empty", "jazz", "one"]


def test_aggregate_over_a_relation_chooses_the_rows(genres):
    jazz, _, _ = genres
    updated = Album.objects.annotate(n=Count("genre__albums")).filter(n=2)
    assert updated.update(title=F("title")) == 2
    assert updated.update(genre=genres[2]) == 2
    assert sorted(Album.objects.filter(genre=genres[2]).values_list("title", flat=True)) == [
        "A Love Supreme",
        "Kind of Blue",
    ]
    assert not jazz.albums.exists()


def test_an_aggregate_as_the_new_value_is_refused_as_django_does(genres):
    with pytest.raises(FieldError, match="Joined field references are not permitted"):
        Album.objects.annotate(latest=Max("genre__name")).update(title=F("latest"))


def test_inherited_fields_of_rows_chosen_by_an_aggregate():
    busy = Franchise.objects.create(name="Busy", city="Rome", label="B", licence="L1")
    Menu.objects.create(franchise=busy, dish="pasta")
    Franchise.objects.create(name="Quiet", city="Rome", label="Q", licence="L1")
    annotated = Franchise.objects.annotate(n=Count("menus")).filter(n__gte=1)
    # name is Place's (a parent's collection), licence the child's own.
    assert annotated.update(name="Served", licence="L2") == 1
    assert sorted(Franchise.objects.values_list("name", "licence")) == [
        ("Quiet", "L1"),
        ("Served", "L2"),
    ]
