"""Codecs of nested fields are built once per connection, and stay per field.

Reading a row of nested documents calls one codec per stored leaf; building it
resolves the backend's converters, which used to happen for every leaf of
every row (half the client time of iterating nested documents).
"""

import copy

import pytest
from django.db import connection, connections

from django_nonrel.fields.nested import reader, writer
from tests.app.models import Address, Person

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])


def test_a_codec_is_built_once_per_field_and_connection():
    item_field = Person._meta.get_field("visits").item_field
    assert reader(item_field, connection) is reader(item_field, connection)
    assert writer(item_field, connection) is writer(item_field, connection)


def test_codecs_differ_per_connection_storage_form():
    item_field = Person._meta.get_field("visits").item_field
    # MongoDB keeps BSON dates, SQL backends JSON text: each connection its own codec.
    assert reader(item_field, connections["sqlite"]) is not reader(item_field, connection)
    assert reader(item_field, connections["sqlite"])("2024-02-29").isoformat() == "2024-02-29"


def test_an_equal_copy_of_a_field_gets_its_own_codec():
    field = Person._meta.get_field("visits").item_field
    twin = copy.deepcopy(field)
    assert twin == field
    assert reader(twin, connection) is not reader(field, connection)


def test_cached_codecs_still_read_every_row_right():
    Person.objects.create(
        name="Ada",
        address=Address(street="1 Main", city="Oslo"),
        previous=[Address(street="2 Side", city="Lima"), Address(street="3 Rd", city="Rome")],
    )
    Person.objects.create(name="Bob", previous=[Address(street="4 Way", city="Kyiv")])
    people = {p.name: p for p in Person.objects.all()}
    assert people["Ada"].address.city == "Oslo"
    assert [a.city for a in people["Ada"].previous] == ["Lima", "Rome"]
    assert [a.city for a in people["Bob"].previous] == ["Kyiv"]
    assert people["Bob"].address is None


@pytest.mark.parametrize("alias", ["default", "sqlite"])
def test_a_model_embedding_itself_is_written_and_read(alias):
    # Its codecs ask for themselves while they are being built ("self").
    from django.db import models
    from django.test.utils import isolate_apps

    from django_nonrel.fields import EmbeddedModelField, ListField
    from django_nonrel.fields.save_writers import UNHANDLED, save_writer

    with isolate_apps("tests.app"):

        class Node(models.Model):
            name = models.CharField(max_length=5)
            child = EmbeddedModelField("self", null=True)
            children = ListField(EmbeddedModelField("self"))

            class Meta:
                app_label = "app"
                managed = False

        class Tree(models.Model):
            root = EmbeddedModelField(Node, null=True)

            class Meta:
                app_label = "app"
                managed = False

    target = connections[alias]
    field = Tree._meta.get_field("root")

    def tree():
        leaf = Node(name="c", children=[])
        return Tree(root=Node(name="a", child=Node(name="b", children=[leaf]), children=[leaf]))

    stored = field.get_db_prep_save(field.pre_save(tree(), add=True), target)
    one_pass = save_writer(field, target)
    if one_pass is not None:
        assert one_pass(tree().root) not in (UNHANDLED, None)
        assert one_pass(tree().root) == stored
    loaded = field.from_db_value(stored, None, target)
    assert (loaded.name, loaded.child.name, loaded.child.children[0].name) == ("a", "b", "c")
    assert loaded.children[0].child is None
