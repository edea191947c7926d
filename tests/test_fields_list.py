"""ListField and SetField: storage round trips, defaults, validation and lookups.

Backend-neutral: the same assertions hold on SQLite (JSON text) and on
document backends (native arrays).
"""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import FieldError, ValidationError
from django.db import connection, models
from django.test import TestCase

from django_nonrel.features import nonrel_features
from django_nonrel.fields import ListField, SetField
from tests.app.models import Person, Post

UTC = datetime.UTC


class DefaultsTests(TestCase):
    def test_default_is_an_empty_container_per_instance(self):
        first, second = Post(title="a"), Post(title="b")
        assert first.tags == [] and first.labels == set() and first.meta == {}
        first.tags.append("x")
        first.labels.add("x")
        assert second.tags == [] and second.labels == set()

    def test_literal_default_is_copied(self):
        field = ListField(models.IntegerField(), default=[1, 2])
        first, second = field.get_default(), field.get_default()
        first.append(3)
        assert second == [1, 2]

    def test_null_only_with_null_true(self):
        assert Post._meta.get_field("optional_tags").null
        assert not Post._meta.get_field("tags").null
        with pytest.raises(ValidationError) as caught:
            Post._meta.get_field("tags").clean(None, None)
        assert "null" in caught.value.messages[0]


class RoundTripTests(TestCase):
    def test_strings_and_integers(self):
        post = Post.objects.create(title="t", tags=["a", "b", "a"], scores=[3, 1])
        post = Post.objects.get(pk=post.pk)
        assert post.tags == ["a", "b", "a"]
        assert post.scores == [3, 1]

    def test_set_comes_back_as_set(self):
        post = Post.objects.create(title="t", labels={"b", "a", "c"})
        assert Post.objects.get(pk=post.pk).labels == {"a", "b", "c"}

    def test_null_list(self):
        post = Post.objects.create(title="t", optional_tags=None)
        assert Post.objects.get(pk=post.pk).optional_tags is None

    def test_empty_list(self):
        post = Post.objects.create(title="t")
        assert Post.objects.get(pk=post.pk).tags == []

    def test_dates_decimals_datetimes_uuids_keep_their_types(self):
        key = uuid.uuid4()
        seen = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
        person = Person.objects.create(
            name="p",
            visits=[datetime.date(2024, 1, 31), datetime.date(1999, 12, 1)],
            balances=[Decimal("3.50"), Decimal("-10")],
            seen=[seen],
            ids={key},
        )
        person = Person.objects.get(pk=person.pk)
        assert person.visits == [datetime.date(2024, 1, 31), datetime.date(1999, 12, 1)]
        assert all(isinstance(value, Decimal) for value in person.balances)
        assert person.balances == [Decimal("3.5"), Decimal("-10")]
        assert person.seen == [seen]
        assert person.seen[0].tzinfo is not None
        assert person.ids == {key}

    def test_values_list_returns_python_values(self):
        Person.objects.create(name="p", visits=[datetime.date(2024, 1, 31)])
        assert list(Person.objects.values_list("visits", flat=True)) == [
            [datetime.date(2024, 1, 31)]
        ]

    def test_update_writes_through_the_item_field(self):
        post = Post.objects.create(title="t", tags=["a"])
        Post.objects.filter(pk=post.pk).update(tags=["b", "c"])
        assert Post.objects.get(pk=post.pk).tags == ["b", "c"]

    def test_wrong_container_type_is_refused(self):
        with pytest.raises(TypeError, match="holds a list"):
            Post.objects.create(title="t", tags="abc")


class ValidationTests(TestCase):
    def test_items_are_validated_with_their_index(self):
        post = Post(title="t", tags=["ok", "x" * 30, "fine"])
        with pytest.raises(ValidationError) as caught:
            post.full_clean()
        messages = caught.value.message_dict["tags"]
        assert len(messages) == 1
        assert messages[0].startswith("Item 1: ")
        assert "at most 20 characters" in messages[0]

    def test_items_are_converted_with_their_index(self):
        field = Person._meta.get_field("visits")
        with pytest.raises(ValidationError) as caught:
            field.clean(["2024-01-01", "not a date"], None)
        assert caught.value.messages[0].startswith("Item 1: ")
        assert field.clean(["2024-01-01"], None) == [datetime.date(2024, 1, 1)]

    def test_null_items_are_refused(self):
        with pytest.raises(ValidationError, match="Item 0"):
            Post._meta.get_field("scores").clean([None], None)

    def test_blank_false_refuses_empty_list(self):
        field = ListField(models.IntegerField())
        with pytest.raises(ValidationError):
            field.clean([], None)

    def test_json_text_is_accepted(self):
        assert Post._meta.get_field("scores").clean("[1, 2]", None) == [1, 2]

    def test_not_a_list(self):
        with pytest.raises(ValidationError, match="list"):
            Post._meta.get_field("scores").clean({"a": 1}, None)

    def test_relation_item_field_is_refused(self):
        with pytest.raises(ValueError, match="relation"):
            ListField(models.ForeignKey(Post, models.CASCADE))

    def test_item_field_class_is_refused(self):
        with pytest.raises(TypeError, match="instance"):
            ListField(models.IntegerField)

    def test_set_of_unhashable_items_is_refused(self):
        with pytest.raises(ValueError, match="hashable"):
            SetField(ListField())


class ListLookupTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.django = Post.objects.create(
            title="django", tags=["web", "python", "orm"], scores=[5, 9], labels={"b", "a"}
        )
        cls.flask = Post.objects.create(title="flask", tags=["web", "micro"], scores=[1])
        cls.empty = Post.objects.create(title="empty", tags=[], scores=[])
        cls.null = Post.objects.create(title="null", optional_tags=None)
        Post.objects.filter(pk=cls.django.pk).update(optional_tags=["x"])

    def titles(self, **lookup):
        return sorted(Post.objects.filter(**lookup).values_list("title", flat=True))

    def test_exact_scalar_is_membership(self):
        assert self.titles(tags="web") == ["django", "flask"]
        assert self.titles(tags="python") == ["django"]
        assert self.titles(tags="nope") == []

    def test_exact_integer_membership(self):
        assert self.titles(scores=9) == ["django"]
        assert self.titles(scores=2) == []

    def test_exact_list_is_whole_list_equality(self):
        assert self.titles(tags=["web", "micro"]) == ["flask"]
        assert self.titles(tags=["micro", "web"]) == []
        assert self.titles(tags=["web"]) == []
        assert self.titles(tags=[]) == ["empty", "null"]

    def test_exclude_membership(self):
        assert self.titles(tags="python") == ["django"]
        excluded = Post.objects.exclude(tags="python").values_list("title", flat=True)
        assert sorted(excluded) == ["empty", "flask", "null"]

    def test_contains_all_of(self):
        assert self.titles(tags__contains=["web", "orm"]) == ["django"]
        assert self.titles(tags__contains=["web"]) == ["django", "flask"]
        assert self.titles(tags__contains=["web", "nope"]) == []
        assert self.titles(tags__contains="micro") == ["flask"]

    def test_contains_nothing_matches_every_list_but_null(self):
        assert self.titles(tags__contains=[]) == ["django", "empty", "flask", "null"]
        assert self.titles(optional_tags__contains=[]) == ["django", "empty", "flask"]

    def test_overlap_any_of(self):
        assert self.titles(tags__overlap=["micro", "orm"]) == ["django", "flask"]
        assert self.titles(tags__overlap=["python", "nope"]) == ["django"]
        assert self.titles(tags__overlap=["nope"]) == []
        assert self.titles(tags__overlap=[]) == []

    def test_len(self):
        assert self.titles(tags__len=3) == ["django"]
        assert self.titles(tags__len=0) == ["empty", "null"]
        assert self.titles(tags__len__gt=1) == ["django", "flask"]
        assert self.titles(tags__len__lte=2) == ["empty", "flask", "null"]

    def test_index(self):
        assert self.titles(tags__0="web") == ["django", "flask"]
        assert self.titles(tags__1="micro") == ["flask"]
        assert self.titles(tags__2="orm") == ["django"]
        assert self.titles(scores__0__gt=2) == ["django"]
        assert self.titles(scores__0__gt=20) == []

    def test_index_then_text_lookup(self):
        assert self.titles(tags__1__startswith="py") == ["django"]
        assert self.titles(tags__1__istartswith="MI") == ["flask"]
        assert self.titles(tags__1__startswith="zz") == []

    def test_isnull(self):
        # Only an explicit None is null; the default is an empty list.
        assert self.titles(optional_tags__isnull=True) == ["null"]
        assert self.titles(optional_tags__isnull=False) == ["django", "empty", "flask"]
        assert self.titles(optional_tags=None) == ["null"]
        assert self.titles(optional_tags="x") == ["django"]

    def test_set_lookups(self):
        assert self.titles(labels="a") == ["django"]
        assert self.titles(labels={"a", "b"}) == ["django"]
        assert self.titles(labels={"a"}) == []
        assert self.titles(labels__contains={"b"}) == ["django"]
        assert self.titles(labels__overlap=["z", "a"]) == ["django"]
        assert self.titles(labels__len=2) == ["django"]

    def test_combined_with_q(self):
        query = models.Q(tags="micro") | models.Q(scores__len=2)
        assert sorted(Post.objects.filter(query).values_list("title", flat=True)) == [
            "django",
            "flask",
        ]

    def test_set_has_no_index(self):
        with pytest.raises(FieldError):
            list(Post.objects.filter(labels__0="a"))

    def test_text_lookups_on_the_whole_list_are_refused(self):
        with pytest.raises(FieldError):
            list(Post.objects.filter(tags__startswith="w"))


def nested_arrays_supported() -> bool:
    """FerretDB v1 refuses lists inside lists; every other backend stores them."""
    return nonrel_features(connection).supports_nested_arrays


class UntypedListTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.mixed = ["x", 2, True, None, {"color": "red"}]
        if nested_arrays_supported():
            cls.mixed.append([1])
        Post.objects.create(title="a", extras=cls.mixed)
        Post.objects.create(title="b", extras=[{"color": "blue", "size": 3}, "y"])

    def titles(self, **lookup):
        return sorted(Post.objects.filter(**lookup).values_list("title", flat=True))

    def test_round_trip(self):
        assert Post.objects.get(title="a").extras == self.mixed

    def test_nested_lists_round_trip(self):
        if not nested_arrays_supported():
            pytest.skip("this server (FerretDB v1) does not store nested arrays")
        post = Post.objects.create(title="n", extras=[[1, [2]], []])
        assert Post.objects.get(pk=post.pk).extras == [[1, [2]], []]

    def test_membership_and_index(self):
        assert self.titles(extras="x") == ["a"]
        assert self.titles(extras=2) == ["a"]
        assert self.titles(extras__1="y") == ["b"]
        assert self.titles(extras__contains=["x", 2]) == ["a"]

    def test_keys_of_any_element(self):
        assert self.titles(extras__color="red") == ["a"]
        assert self.titles(extras__color="blue") == ["b"]
        assert self.titles(extras__size__gt=2) == ["b"]
        assert self.titles(extras__color="green") == []

    def test_bad_keys_are_refused(self):
        with pytest.raises(ValueError, match="contains"):
            Post.objects.create(title="c", extras=[{"a.b": 1}])


class TypedItemLookupTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        Person.objects.create(
            name="ann",
            visits=[datetime.date(2024, 1, 31)],
            balances=[Decimal("3.50"), Decimal("12.00")],
        )
        Person.objects.create(name="bob", visits=[datetime.date(2020, 6, 1)], balances=[])

    def names(self, **lookup):
        return sorted(Person.objects.filter(**lookup).values_list("name", flat=True))

    def test_membership_converts_through_the_item_field(self):
        assert self.names(visits=datetime.date(2024, 1, 31)) == ["ann"]
        assert self.names(visits=datetime.date(2024, 2, 1)) == []
        assert self.names(balances=Decimal("3.5")) == ["ann"]
        assert self.names(balances=Decimal("3.51")) == []

    def test_contains_converts_through_the_item_field(self):
        assert self.names(balances__contains=[Decimal("12"), Decimal("3.50")]) == ["ann"]

    def test_index_comparisons_use_the_item_type(self):
        assert self.names(visits__0__gt=datetime.date(2021, 1, 1)) == ["ann"]
        assert self.names(visits__0__lt=datetime.date(2021, 1, 1)) == ["bob"]
        assert self.names(balances__1__gt=Decimal("9.5")) == ["ann"]
        assert self.names(balances__1__gt=Decimal("100")) == []
