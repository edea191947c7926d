"""Keys other programs put inside embedded documents survive every save, at every depth.

README: "document fields the model does not know survive the save". At the top
level MongoDB's ``$set`` keeps them; inside an ``EmbeddedModelField`` (alone, in
a list, in a dict, in another embedded model) the sub-document is written
whole, so the keys are remembered by the loaded instance and written back
(``django_nonrel.fields.unknown_keys``). The same promise holds for the JSON
columns the fields use on SQL backends. Every test writes the foreign keys
behind the ORM's back -- with pymongo, or with SQL on the JSON column -- and
reads them back the same way after the ORM's save.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django import forms
from django.db import connection

from tests.app.models import Address, LineItem, Order, Person

pytestmark = pytest.mark.django_db


def raw_column(model, pk: Any, field_name: str) -> Any:
    """The stored value of ``field_name`` for row ``pk``, read without the ORM."""
    field = model._meta.get_field(field_name)
    if connection.vendor == "mongodb":
        document = connection.database[model._meta.db_table].find_one({"_id": pk})
        return document.get(field.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(field.column)} FROM "
            f"{connection.ops.quote_name(model._meta.db_table)} WHERE id = %s",
            [pk],
        )
        (text,) = cursor.fetchone()
    return json.loads(text)


def write_raw_column(model, pk: Any, field_name: str, value: Any) -> None:
    """Store ``value`` as ``field_name`` of row ``pk`` as another program would."""
    field = model._meta.get_field(field_name)
    if connection.vendor == "mongodb":
        connection.database[model._meta.db_table].update_one(
            {"_id": pk}, {"$set": {field.column: value}}
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET "
            f"{connection.ops.quote_name(field.column)} = %s WHERE id = %s",
            [json.dumps(value), pk],
        )


def with_foreign_keys(stored: dict, **extra: Any) -> dict:
    return {**stored, **extra}


@pytest.fixture
def person():
    """A person whose address sub-document carries two keys Address does not have."""
    person = Person.objects.create(name="ann", address=Address(city="Oslo", street="Kirkeveien"))
    address = with_foreign_keys(
        raw_column(Person, person.pk, "address"), floor=3, entrance={"door": "B"}
    )
    write_raw_column(Person, person.pk, "address", address)
    return Person.objects.get(pk=person.pk)


def test_a_save_of_another_field_keeps_unknown_keys_in_the_embedded_document(person):
    person.name = "ann b"
    person.save()
    stored = raw_column(Person, person.pk, "address")
    assert stored["floor"] == 3 and stored["entrance"] == {"door": "B"}
    assert stored["city"] == "Oslo"
    assert Person.objects.get(pk=person.pk).address.city == "Oslo"


def test_changing_the_embedded_model_keeps_its_unknown_keys(person):
    person.address.city = "Bergen"
    person.save()
    stored = raw_column(Person, person.pk, "address")
    assert (stored["city"], stored["floor"], stored["entrance"]) == ("Bergen", 3, {"door": "B"})


def test_update_fields_saves_keep_unknown_keys(person):
    person.address.street = "Storgata"
    person.save(update_fields=["address"])
    stored = raw_column(Person, person.pk, "address")
    assert (stored["street"], stored["floor"]) == ("Storgata", 3)


def test_queryset_update_with_the_loaded_instance_keeps_them(person):
    person.address.city = "Tromsø"
    Person.objects.filter(pk=person.pk).update(address=person.address)
    stored = raw_column(Person, person.pk, "address")
    assert (stored["city"], stored["floor"]) == ("Tromsø", 3)


def test_a_new_embedded_instance_replaces_the_document(person):
    """Unknown keys belong to the loaded instance: assigning a new one is a new document."""
    person.address = Address(city="Bodø")
    person.save()
    stored = raw_column(Person, person.pk, "address")
    assert stored["city"] == "Bodø" and "floor" not in stored


def test_copies_of_a_loaded_instance_keep_them(person):
    moved = copy.deepcopy(person.address)
    moved.city = "Molde"
    Person.objects.create(name="copy", address=moved)
    stored = raw_column(Person, Person.objects.get(name="copy").pk, "address")
    assert (stored["city"], stored["floor"]) == ("Molde", 3)


def test_a_model_form_edit_keeps_unknown_keys(person):
    """The admin and ModelForms edit the known fields; the rest of the document stays."""
    form_class = forms.modelform_factory(Person, fields=["name", "address"])
    form = form_class(
        data={"name": "ann", "address": json.dumps({"city": "Narvik", "street": "x"})},
        instance=person,
    )
    assert form.is_valid(), form.errors
    form.save()
    stored = raw_column(Person, person.pk, "address")
    assert (stored["city"], stored["floor"], stored["entrance"]) == ("Narvik", 3, {"door": "B"})


@pytest.fixture
def order():
    """An order whose line items (a list and a dict of embedded models, with an
    embedded model inside) carry keys LineItem and Address do not have."""
    order = Order.objects.create(
        number=1,
        items=[
            LineItem(name="a", price=1, origin=Address(city="Oslo")),
            LineItem(name="b", price=2),
            LineItem(name="c", price=3),
        ],
        by_size={"s": LineItem(name="d", price=4)},
    )
    items = raw_column(Order, order.pk, "items")
    for item in items:
        item["mark"] = f"mark-{item['name']}"
    items[0]["origin"]["floor"] = 7
    write_raw_column(Order, order.pk, "items", items)
    by_size = raw_column(Order, order.pk, "by_size")
    by_size["s"]["mark"] = "mark-d"
    write_raw_column(Order, order.pk, "by_size", by_size)
    return Order.objects.get(pk=order.pk)


def marks(items: list[dict]) -> list[tuple[str, str | None]]:
    return [(item["name"], item.get("mark")) for item in items]


def test_unknown_keys_of_list_elements_follow_the_element_when_reordered(order):
    order.items.reverse()
    order.save()
    stored = raw_column(Order, order.pk, "items")
    assert marks(stored) == [("c", "mark-c"), ("b", "mark-b"), ("a", "mark-a")]
    assert stored[2]["origin"]["floor"] == 7  # an embedded model inside an element


def test_a_removed_element_takes_its_unknown_keys_and_a_new_one_has_none(order):
    del order.items[1]
    order.items.insert(0, LineItem(name="e", price=5))
    order.number = 2
    order.save()
    stored = raw_column(Order, order.pk, "items")
    assert marks(stored) == [("e", None), ("a", "mark-a"), ("c", "mark-c")]


def test_dicts_of_embedded_models_keep_them(order):
    order.by_size["m"] = order.by_size.pop("s")
    order.save(update_fields=["by_size"])
    stored = raw_column(Order, order.pk, "by_size")
    assert list(stored) == ["m"] and stored["m"]["mark"] == "mark-d"
