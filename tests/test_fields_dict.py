"""DictField: keys, typed values, validation and key-path lookups."""

from decimal import Decimal

import pytest
from django.core.exceptions import FieldError, ValidationError
from django.db import transaction
from django.test import TestCase

from tests.app.models import Person, Post


class StorageTests(TestCase):
    def test_untyped_round_trip(self):
        meta = {"color": "red", "dims": {"w": 3, "h": 1.5}, "tags": ["a"], "ok": True, "n": None}
        post = Post.objects.create(title="t", meta=meta)
        assert Post.objects.get(pk=post.pk).meta == meta

    def test_typed_values_keep_their_type(self):
        person = Person.objects.create(name="p", limits={"day": Decimal("2.5"), "week": 10})
        limits = Person.objects.get(pk=person.pk).limits
        assert limits == {"day": Decimal("2.5"), "week": Decimal("10")}
        assert all(isinstance(value, Decimal) for value in limits.values())

    def test_update(self):
        post = Post.objects.create(title="t", meta={"a": 1})
        Post.objects.filter(pk=post.pk).update(meta={"b": 2})
        assert Post.objects.get(pk=post.pk).meta == {"b": 2}


class KeyTests(TestCase):
    @pytest.fixture(autouse=True)
    def _field(self):
        self.field = Post._meta.get_field("meta")

    def test_dotted_key_is_refused_before_writing(self):
        with pytest.raises(ValueError, match=r"contains '\.'"), transaction.atomic():
            Post.objects.create(title="t", meta={"a.b": 1})
        assert not Post.objects.exists()

    def test_dollar_key_is_refused_before_writing(self):
        with pytest.raises(ValueError, match=r"starts with '\$'"), transaction.atomic():
            Post.objects.create(title="t", meta={"$where": 1})
        assert not Post.objects.exists()

    def test_nested_untyped_keys_are_checked_too(self):
        with pytest.raises(ValueError, match="contains"):
            Post.objects.create(title="t", meta={"ok": {"a.b": 1}})

    def test_non_string_key_is_refused(self):
        with pytest.raises(ValueError, match="strings"):
            Post.objects.create(title="t", meta={1: "a"})

    def test_validation_reports_bad_keys(self):
        post = Post(title="t", meta={"a.b": 1, "$x": 2, "fine": 3})
        with pytest.raises(ValidationError) as caught:
            post.full_clean()
        messages = caught.value.message_dict["meta"]
        assert len(messages) == 2
        assert all(message.startswith("Invalid key: ") for message in messages)

    def test_values_are_validated_with_their_key(self):
        field = Person._meta.get_field("limits")
        with pytest.raises(ValidationError) as caught:
            field.clean({"day": "abc"}, None)
        assert caught.value.messages[0].startswith("Key 'day': ")
        with pytest.raises(ValidationError) as caught:
            field.clean({"day": Decimal("123456.7")}, None)
        assert caught.value.messages[0].startswith("Key 'day': ")
        assert field.clean({"day": "1.5"}, None) == {"day": Decimal("1.5")}

    def test_not_a_dict(self):
        with pytest.raises(ValidationError, match="mapping"):
            self.field.clean(["a"], None)

    def test_json_text_is_accepted(self):
        assert self.field.clean('{"a": [1]}', None) == {"a": [1]}


class DictLookupTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        Post.objects.create(
            title="red", meta={"color": "red", "dims": {"w": 4, "h": 1}, "sizes": [1, 2]}
        )
        Post.objects.create(title="blue", meta={"color": "blue", "dims": {"w": 2}, "on": True})
        Post.objects.create(title="none", meta={})
        Person.objects.create(name="ann", limits={"day": Decimal("2.5")})
        Person.objects.create(name="bob", limits={"day": Decimal("12")})

    def titles(self, **lookup):
        return sorted(Post.objects.filter(**lookup).values_list("title", flat=True))

    def test_key_equality(self):
        assert self.titles(meta__color="red") == ["red"]
        assert self.titles(meta__color="green") == []

    def test_key_text_lookups(self):
        assert self.titles(meta__color__startswith="bl") == ["blue"]
        assert self.titles(meta__color__in=["red", "blue"]) == ["blue", "red"]

    def test_deep_key_paths(self):
        assert self.titles(meta__dims__w__gt=3) == ["red"]
        assert self.titles(meta__dims__w__gte=2) == ["blue", "red"]
        assert self.titles(meta__dims__w=2) == ["blue"]
        assert self.titles(meta__dims__h=1) == ["red"]
        assert self.titles(meta__dims__w__gt=10) == []

    def test_index_into_untyped_list(self):
        assert self.titles(meta__sizes__1=2) == ["red"]
        assert self.titles(meta__sizes__0=2) == []

    def test_booleans(self):
        assert self.titles(meta__on=True) == ["blue"]

    def test_missing_key_is_null(self):
        assert self.titles(meta__color__isnull=True) == ["none"]
        assert self.titles(meta__color__isnull=False) == ["blue", "red"]

    def test_whole_dict_equality(self):
        assert self.titles(meta={}) == ["none"]
        assert self.titles(meta={"color": "blue", "dims": {"w": 2}, "on": True}) == ["blue"]
        assert self.titles(meta={"color": "blue"}) == []

    def test_typed_values_are_prepared_by_the_value_field(self):
        names = Person.objects.filter(limits__day__gt=Decimal("3")).values_list("name", flat=True)
        assert list(names) == ["bob"]
        names = Person.objects.filter(limits__day=Decimal("2.50")).values_list("name", flat=True)
        assert list(names) == ["ann"]

    def test_invalid_key_in_a_lookup(self):
        with pytest.raises(FieldError, match=r"starts with '\$'"):
            list(Post.objects.filter(**{"meta__$where": 1}))
