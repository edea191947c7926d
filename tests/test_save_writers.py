"""Inserts of lists, dicts and embedded models store what Django's pre_save + prep path stores.

``django_nonrel.fields.save_writers`` does ``pre_save`` and the storage write
of a container column in one walk on document stores. These tests compare it,
value by value, with the two-step path (``field.pre_save`` then
``get_db_prep_save``): same stored structure, same instances afterwards, same
refusals of keys MongoDB would read as paths or operators, and every value it
does not handle left untouched for the two-step path.
"""

from __future__ import annotations

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps

from django_nonrel.fields import DictField, EmbeddedModelField, ListField
from django_nonrel.fields.nested import stores_documents
from django_nonrel.fields.save_writers import UNHANDLED, save_writer
from django_nonrel.fields.unknown_keys import STATE_ATTRIBUTE, UnknownKeys

pytestmark = pytest.mark.skipif(
    not stores_documents(connection), reason="save writers exist on document stores only"
)


@pytest.fixture(scope="module")
def shapes():
    with isolate_apps("tests.app"):

        class Geo(models.Model):
            lat = models.FloatField()
            lng = models.FloatField(null=True)

            class Meta:
                app_label = "app"
                managed = False

        class Place(models.Model):
            city = models.CharField(max_length=20)
            floor = models.IntegerField(null=True)
            geo = EmbeddedModelField(Geo, null=True)
            tags = ListField(models.CharField(max_length=20))

            class Meta:
                app_label = "app"
                managed = False

        class Stamped(models.Model):
            when = models.DateTimeField(auto_now_add=True)

            class Meta:
                app_label = "app"
                managed = False

        class Doc(models.Model):
            place = EmbeddedModelField(Place, null=True)
            places = ListField(EmbeddedModelField(Place))
            by_key = DictField(EmbeddedModelField(Place))
            meta = DictField()
            names = ListField(models.CharField(max_length=20))
            stamped = EmbeddedModelField(Stamped, null=True)

            class Meta:
                app_label = "app"
                managed = False

        yield Geo, Place, Doc, Stamped


def two_step(field, obj):
    """What the insert compiler stores without save writers, and the instance after."""
    return field.get_db_prep_save(field.pre_save(obj, add=True), connection)


def one_pass(field, obj):
    stored = save_writer(field, connection)(getattr(obj, field.attname))
    return two_step(field, obj) if stored is UNHANDLED else stored


def place(Geo, Place, **extra):
    return Place(city="Oslo", floor=3, geo=Geo(lat=1.5, lng=None), tags=["a", "b"], **extra)


def assert_same(field, make):
    """``make()`` builds the object: once per path, so neither sees the other's changes."""
    obj, twin = make(), make()
    assert one_pass(field, obj) == two_step(field, twin)
    assert same_values(getattr(obj, field.attname), getattr(twin, field.attname))


def same_values(one, two):
    """Equal values, comparing model instances by class and stored fields (not by key)."""
    if isinstance(one, models.Model):
        fields = [f.attname for f in one._meta.concrete_fields]
        return type(one) is type(two) and all(
            same_values(getattr(one, name), getattr(two, name)) for name in fields
        )
    if isinstance(one, (list, tuple)):
        return type(one) is type(two) and len(one) == len(two) and all(map(same_values, one, two))
    if isinstance(one, dict):
        return one.keys() == two.keys() and all(same_values(one[k], two[k]) for k in one)
    return one == two


def test_nested_instances_store_and_settle_as_the_two_step_path(shapes):
    Geo, Place, Doc, _ = shapes

    def make():
        return Doc(
            place=place(Geo, Place),
            places=[place(Geo, Place), Place(city="Rome", tags=[])],
            by_key={"home": place(Geo, Place)},
            meta={"color": "red", "size": 3, "deep": {"x": [1, 2.5, None]}},
            names=["p", "q"],
        )

    doc, twin = make(), make()
    for name in ("place", "places", "by_key", "meta", "names"):
        field = Doc._meta.get_field(name)
        assert save_writer(field, connection) is not None
        assert one_pass(field, doc) == two_step(field, twin)
        assert same_values(getattr(doc, name), getattr(twin, name))
    stored = one_pass(Doc._meta.get_field("place"), Doc(place=place(Geo, Place)))
    assert stored == {
        "city": "Oslo",
        "floor": 3,
        "geo": {"lat": 1.5, "lng": None},
        "tags": ["a", "b"],
    }
    # Both leave every embedded instance stored (not adding: auto_now_add is done).
    for value in (doc.place, doc.place.geo, *doc.places, doc.by_key["home"]):
        assert value._state.adding is False


def test_values_of_another_type_are_converted_as_by_the_field(shapes):
    Geo, Place, Doc, _ = shapes

    def make():
        return Doc(place=Place(city="Oslo", floor="4", geo=Geo(lat="2.5", lng=1), tags=("x",)))

    assert_same(Doc._meta.get_field("place"), make)
    assert one_pass(Doc._meta.get_field("place"), make())["floor"] == 4


def test_dicts_and_tuples_are_left_to_the_two_step_path_untouched(shapes):
    Geo, Place, Doc, _ = shapes
    field = Doc._meta.get_field("places")
    first = place(Geo, Place)
    doc = Doc(places=[first, {"city": "Lima", "tags": []}])
    assert save_writer(field, connection)(doc.places) is UNHANDLED
    assert first._state.adding is True  # nothing was pre-saved by the refused pass
    assert_same(field, lambda: Doc(places=[place(Geo, Place), {"city": "Lima", "tags": []}]))
    assert_same(Doc._meta.get_field("names"), lambda: Doc(names=("a", "b")))
    assert_same(Doc._meta.get_field("place"), lambda: Doc(place={"city": "Lima", "tags": []}))
    converted = Doc(place={"city": "Lima", "tags": []})
    one_pass(Doc._meta.get_field("place"), converted)
    assert isinstance(converted.place, Place)  # as pre_save sets it


def test_none_is_stored_as_none(shapes):
    Geo, Place, Doc, _ = shapes
    assert save_writer(Doc._meta.get_field("place"), connection)(None) is None
    lone = Place(city="Oslo", floor=None, geo=None, tags=[])
    assert one_pass(Doc._meta.get_field("place"), Doc(place=lone))["geo"] is None


def test_unknown_keys_are_written_back(shapes):
    Geo, Place, Doc, _ = shapes
    kept = place(Geo, Place)
    setattr(kept._state, STATE_ATTRIBUTE, UnknownKeys({"wing": "B", "city": "old"}, True))
    stored = one_pass(Doc._meta.get_field("places"), Doc(places=[kept]))
    assert stored[0]["wing"] == "B" and stored[0]["city"] == "Oslo"


@pytest.mark.parametrize("key", ["$where", "a.b", "nul\x00", 1])
@pytest.mark.parametrize("name", ["meta", "by_key"])
def test_keys_mongodb_would_read_as_operators_or_paths_are_refused(shapes, key, name):
    Geo, Place, Doc, _ = shapes
    field = Doc._meta.get_field(name)

    def make():
        value = {"ok": place(Geo, Place) if name == "by_key" else 1}
        value[key] = place(Geo, Place) if name == "by_key" else 2
        return Doc(**{name: value})

    with pytest.raises(ValueError) as two:
        two_step(field, make())
    with pytest.raises(ValueError) as one:
        one_pass(field, make())
    assert str(one.value) == str(two.value) and "cannot store" in str(one.value)


def test_a_dollar_inside_a_key_is_a_key(shapes):
    _, _, Doc, _ = shapes
    assert_same(Doc._meta.get_field("meta"), lambda: Doc(meta={"price$": 1, "a": {"b$": 2}}))


def test_embedded_models_with_auto_now_fields_keep_the_two_step_path(shapes):
    _, _, Doc, Stamped = shapes
    assert save_writer(Doc._meta.get_field("stamped"), connection) is None


def test_a_container_given_none_is_refused_by_not_null(db):
    from django.db import IntegrityError, transaction

    from tests.app.models import Person, Post

    with pytest.raises(IntegrityError, match="tags"), transaction.atomic():
        Post.objects.bulk_create([Post(title="a", tags=["x"]), Post(title="b", tags=None)])
    with pytest.raises(IntegrityError, match="previous"), transaction.atomic():
        Person.objects.bulk_create([Person(name="a", previous=None)])
    assert not Post.objects.exists() and not Person.objects.exists()
