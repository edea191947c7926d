"""Mismatches the differential tests found, minimised: each stays fixed on every tier."""

import pytest

from tests.differential.models import Item, Spot

pytestmark = pytest.mark.django_db


def test_values_of_a_dict_key_ordered_by_a_path():
    """Ordering by a document path with values() of another path hashed an inner
    field without a model (AttributeError on SQL backends)."""
    Item.objects.create(name="b", meta={"n": 2, "s": "two"}, place=Spot(city="Oslo"))
    Item.objects.create(name="a", meta={"n": 1, "s": "one"}, place=Spot(city="Lyon"))
    assert list(Item.objects.order_by("meta__n").values_list("meta__s", flat=True)) == [
        "one",
        "two",
    ]
    assert list(Item.objects.order_by("place__city").values("meta__s")) == [
        {"meta__s": "one"},
        {"meta__s": "two"},
    ]
