"""Wrong answers Django's own ``queries`` app found, minimised on our models: each
test asserts what stock SQLite answers and runs on every tier."""

import datetime

import pytest
from django.db.models import F

from tests.differential.models import Item, Label, Owner, Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned_items():
    team = Team.objects.create(name="T")
    first = Owner.objects.create(name="o1", team=team)
    second = Owner.objects.create(name="o2", team=team)
    for number, (owner, month) in enumerate([(first, 1), (first, 1), (second, 2), (None, 2)]):
        Item.objects.create(
            name=f"i{number}",
            number=number % 2,
            owner=owner,
            tags=[],
            moment=datetime.datetime(2020, month, 10 + number, 12, tzinfo=datetime.UTC),
            day=datetime.date(2020, month, 10 + number),
        )


def test_count_of_distinct_truncated_dates(owned_items):
    """datetimes()/dates() are distinct values of an annotation: count() counted
    every row (4) instead of the distinct months (2)."""
    assert Item.objects.datetimes("moment", "month").count() == 2
    assert Item.objects.dates("day", "month").count() == 2
    assert Item.objects.dates("day", "day").count() == 4


def test_count_of_distinct_values_of_an_annotation(owned_items):
    distinct = Item.objects.annotate(next=F("number") + 1).values("next").distinct()
    assert distinct.count() == 2 == len(distinct)


def test_count_of_distinct_values_of_a_related_field(owned_items):
    """values("owner__name").distinct(): the related column was read as the item's
    own column of that name, and the items' names counted."""
    assert Item.objects.values("owner__name").distinct().count() == 3
    assert Item.objects.values("owner__team__name").distinct().count() == 2
    assert Item.objects.values("owner__name", "number").distinct().count() == 4


@pytest.fixture
def labelled():
    a, b = Label.objects.create(name="a"), Label.objects.create(name="b")
    Item.objects.create(name="a only", tags=[]).labels.add(a)
    Item.objects.create(name="a and b", tags=[]).labels.add(a, b)
    Item.objects.create(name="b only", tags=[]).labels.add(b)
    return a, b


def test_exclude_through_a_related_managers_join_applies_to_the_joined_row(labelled):
    """A related manager's join is reused by exclude(): Django correlates the NOT
    EXISTS to that joined row, so an item is excluded only when the row the manager
    joined matches (the relation layer excluded items with any matching label)."""
    a, b = labelled
    assert sorted(a.items.exclude(labels__name="b").values_list("name", flat=True)) == [
        "a and b",
        "a only",
    ]
    assert list(a.items.exclude(labels__name="a")) == []
    # Without a reused join, exclude() still means "no related row matches".
    assert sorted(Item.objects.exclude(labels__name="b").values_list("name", flat=True)) == [
        "a only"
    ]
