"""Multi-table inheritance: a child row is a parent document plus a child document
sharing the key; child reads fetch the parents' documents by key in one command."""

import pytest
from django.db import connection

from tests.commands import CommandCapture
from tests.relations.models import Brand, Country, Franchise, Menu, Pizzeria, Place, Restaurant

pytestmark = pytest.mark.django_db

ON_MONGODB = connection.vendor == "mongodb"


@pytest.fixture
def town():
    Place.objects.create(name="Park", city="Rome")
    Restaurant.objects.create(name="Bistro", city="Paris", serves_pizza=False)
    Pizzeria.objects.create(name="Napoli", city="Rome", serves_pizza=True, oven="wood")


def test_create_writes_every_level_with_a_shared_key(town):
    napoli = Pizzeria.objects.get(name="Napoli")
    assert Place.objects.get(pk=napoli.pk).name == "Napoli"
    assert Restaurant.objects.get(pk=napoli.pk).serves_pizza is True
    assert napoli.place_ptr_id == napoli.restaurant_ptr_id == napoli.pk


def test_parent_and_child_querysets(town):
    assert list(Place.objects.values_list("name", flat=True)) == ["Bistro", "Napoli", "Park"]
    assert [r.name for r in Restaurant.objects.all()] == ["Bistro", "Napoli"]
    assert [r.name for r in Restaurant.objects.filter(city="Rome")] == ["Napoli"]
    assert list(Pizzeria.objects.values("name", "city", "oven")) == [
        {"name": "Napoli", "city": "Rome", "oven": "wood"}
    ]
    with CommandCapture(connection) as ctx:
        pizzerias = list(Pizzeria.objects.all())
    assert pizzerias[0].city == "Rome" and pizzerias[0].serves_pizza
    # Pizzeria rows, then Restaurant and Place documents by key; the inherited
    # Meta.ordering ("name") is sorted client-side from those documents.
    assert len(ctx.captured_queries) == (3 if ON_MONGODB else 1)
    with CommandCapture(connection) as ctx:
        list(Pizzeria.objects.order_by("pk"))
    assert len(ctx.captured_queries) == (3 if ON_MONGODB else 1)


def test_child_ordering_by_inherited_fields(town):
    Restaurant.objects.create(name="Aioli", city="Nice")
    assert [r.name for r in Restaurant.objects.all()] == ["Aioli", "Bistro", "Napoli"]
    assert [r.name for r in Restaurant.objects.order_by("-city", "name")[:2]] == [
        "Napoli",
        "Bistro",
    ]


def test_parent_to_child_access(town):
    park, bistro, napoli = (Place.objects.get(name=n) for n in ("Park", "Bistro", "Napoli"))
    assert bistro.restaurant.serves_pizza is False
    assert napoli.restaurant.pizzeria.oven == "wood"
    with pytest.raises(Restaurant.DoesNotExist):
        park.restaurant  # noqa: B018
    assert list(Place.objects.filter(restaurant__isnull=True).values_list("name", flat=True)) == [
        "Park"
    ]
    assert [p.name for p in Place.objects.filter(restaurant__serves_pizza=True)] == ["Napoli"]


def test_select_related_through_inheritance(town):
    italy = Country.objects.create(name="Italy")
    Place.objects.filter(city="Rome").update(country=italy)
    with CommandCapture(connection) as ctx:
        napoli = Pizzeria.objects.select_related("country").get()
        assert napoli.country.name == "Italy"
    # Pizzeria, its Restaurant and Place documents, then the country.
    assert len(ctx.captured_queries) == (4 if ON_MONGODB else 1)
    with CommandCapture(connection) as ctx:
        places = list(Place.objects.select_related("restaurant__pizzeria"))
        assert [p.name for p in places] == ["Bistro", "Napoli", "Park"]
        assert places[1].restaurant.pizzeria.oven == "wood"
        assert places[1].restaurant.pizzeria.city == "Rome"
        assert places[0].restaurant.serves_pizza is False
    # Places, restaurants, pizzerias: parents come from the rows already read.
    assert len(ctx.captured_queries) == (3 if ON_MONGODB else 1)
    with pytest.raises(Restaurant.DoesNotExist):
        places[2].restaurant  # noqa: B018
    with pytest.raises(Pizzeria.DoesNotExist):
        places[0].restaurant.pizzeria  # noqa: B018


def test_update_and_delete_cascade(town):
    napoli = Pizzeria.objects.get(name="Napoli")
    napoli.city = "Naples"
    napoli.oven = "gas"
    napoli.save()
    assert Place.objects.get(pk=napoli.pk).city == "Naples"
    assert Restaurant.objects.filter(city="Naples").update(serves_pizza=False) == 1
    assert Pizzeria.objects.get().serves_pizza is False
    # A parent's field updated through the child queryset touches only its rows.
    assert Pizzeria.objects.filter(oven="gas").update(city="Capri", oven="coal") == 1
    assert sorted(Place.objects.values_list("city", flat=True)) == ["Capri", "Paris", "Rome"]
    assert Place.objects.filter(name="Park").count() == 1
    napoli.delete()
    assert list(Place.objects.values_list("name", flat=True)) == ["Bistro", "Park"]
    assert not Restaurant.objects.filter(name="Napoli").exists()
    Place.objects.filter(name="Bistro").delete()
    assert Restaurant.objects.count() == 0 and Place.objects.count() == 1


@pytest.fixture
def franchise(town):
    # Brand keys run apart from Place keys: a parent found by the child's own key
    # instead of its link to that parent would be the wrong brand.
    Brand.objects.create(label="independent")
    Brand.objects.create(label="another")
    luigi = Franchise.objects.create(name="Luigi", city="Rome", licence="L1", label="Luigi's")
    Menu.objects.create(franchise=luigi, dish="pasta")
    assert luigi.brand_id != luigi.pk
    return luigi


def test_select_related_reaches_each_parent_by_its_own_link(franchise):
    menu = Menu.objects.select_related("franchise").get()
    assert (menu.franchise.label, menu.franchise.brand_id) == ("Luigi's", franchise.brand_id)
    assert (menu.franchise.name, menu.franchise.licence) == ("Luigi", "L1")
    place = Place.objects.select_related("restaurant__franchise").get(name="Luigi")
    assert place.restaurant.franchise.label == "Luigi's"
    assert place.restaurant.franchise.brand_id == franchise.brand_id


def test_a_child_selected_from_its_parent_keeps_the_parents_loaded_values(franchise):
    # As Django's compiler does (get_select_from_parent): a child reached from its
    # parent has the fields the parent row loaded, even under only().
    brand = (
        Brand.objects.select_related("franchise")
        .only("label", "franchise__licence")
        .get(label="Luigi's")
    )
    with CommandCapture(connection) as ctx:
        assert brand.franchise.label == "Luigi's"
        assert brand.franchise.brand_id == franchise.brand_id
        assert brand.franchise.licence == "L1"
    assert not ctx.captured_queries
