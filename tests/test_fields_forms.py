"""Form fields: what a ModelForm (and so the admin) does with the nonrel fields."""

import datetime
import json
from decimal import Decimal

from django import forms
from django.test import TestCase

from django_nonrel.fields.forms import DictFormField, EmbeddedModelFormField, ListFormField
from tests.app.models import Address, Person, Post


class PostForm(forms.ModelForm):
    class Meta:
        model = Post
        fields = ["title", "tags", "labels", "scores", "meta"]


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = ["name", "address", "previous", "visits", "balances", "limits"]


class ListFormFieldTests(TestCase):
    def test_form_classes(self):
        form = PersonForm()
        assert isinstance(form.fields["visits"], ListFormField)
        assert isinstance(form.fields["limits"], DictFormField)
        assert isinstance(form.fields["address"], EmbeddedModelFormField)

    def test_comma_separated_items_are_cleaned_by_the_item_field(self):
        form = PostForm(
            {"title": "t", "tags": "web, python ,orm", "labels": "b, a", "scores": "3,1"}
        )
        assert form.is_valid(), form.errors
        assert form.cleaned_data["tags"] == ["web", "python", "orm"]
        assert form.cleaned_data["labels"] == {"a", "b"}
        assert form.cleaned_data["scores"] == [3, 1]
        post = form.save()
        assert Post.objects.get(pk=post.pk).scores == [3, 1]

    def test_json_list_allows_commas_in_items(self):
        field = Post._meta.get_field("tags").formfield()
        assert field.clean('["a, b", "c"]') == ["a, b", "c"]

    def test_item_errors_name_the_index(self):
        field = Person._meta.get_field("visits").formfield()
        with self.assertRaises(forms.ValidationError) as caught:
            field.clean("2024-01-31, nope")
        assert caught.exception.messages == ["Item 1: Enter a valid date."]
        assert field.clean("2024-01-31, 2024-02-29") == [
            datetime.date(2024, 1, 31),
            datetime.date(2024, 2, 29),
        ]

    def test_item_validators_run(self):
        field = Post._meta.get_field("tags").formfield()
        with self.assertRaises(forms.ValidationError) as caught:
            field.clean("ok, " + "x" * 30)
        assert caught.exception.messages[0].startswith("Item 1: ")

    def test_invalid_json(self):
        field = Post._meta.get_field("tags").formfield()
        with self.assertRaises(forms.ValidationError) as caught:
            field.clean("[oops")
        assert caught.exception.messages == ["Enter values separated by commas, or a JSON list."]

    def test_required_unless_blank(self):
        field = Person._meta.get_field("visits").formfield()
        assert not field.required
        assert field.clean("") == []

    def test_display(self):
        field = Post._meta.get_field("tags").formfield()
        assert field.prepare_value(["a", "b"]) == "a, b"
        assert json.loads(field.prepare_value(["a, b"])) == ["a, b"]
        visits = Person._meta.get_field("visits").formfield()
        assert visits.prepare_value([datetime.date(2024, 1, 31)]) == "2024-01-31"
        form = PostForm(instance=Post(title="t", tags=["x", "y"], scores=[1, 2]))
        assert 'value="x, y"' in str(form["tags"])
        assert 'value="1, 2"' in str(form["scores"])

    def test_has_changed(self):
        post = Post(title="t", tags=["x", "y"])
        unchanged = PostForm(
            {"title": "t", "tags": "x, y", "labels": "", "meta": "{}"}, instance=post
        )
        assert "tags" not in unchanged.changed_data
        changed = PostForm({"title": "t", "tags": "x", "labels": "", "meta": "{}"}, instance=post)
        assert "tags" in changed.changed_data


class DictFormFieldTests(TestCase):
    def test_json_object(self):
        field = Person._meta.get_field("limits").formfield()
        assert field.clean('{"day": "2.5", "week": 3}') == {
            "day": Decimal("2.5"),
            "week": Decimal("3"),
        }

    def test_errors(self):
        field = Person._meta.get_field("limits").formfield()
        for text, message in [
            ("[1]", "Enter a mapping of keys to values."),
            ('{"a.b": 1}', "Invalid key: dict key 'a.b' contains '.'; use another separator."),
            ('{"day": "x"}', "Key 'day': “x” value must be a decimal number."),
            ("{oops", "Enter a valid JSON."),
        ]:
            with self.assertRaises(forms.ValidationError) as caught:
                field.clean(text)
            assert caught.exception.messages == [message], text

    def test_display_round_trips(self):
        field = Person._meta.get_field("limits").formfield()
        text = field.prepare_value({"day": Decimal("2.5")})
        assert field.clean(text) == {"day": Decimal("2.5")}


class EmbeddedModelFormFieldTests(TestCase):
    def test_model_form_saves_an_embedded_instance(self):
        form = PersonForm(
            {
                "name": "ann",
                "address": '{"city": "Oslo", "since": "2020-01-02"}',
                "previous": '[{"city": "Rome"}, {"city": "Lima"}]',
                "visits": "",
                "balances": "1.5",
                "limits": "{}",
            }
        )
        assert form.is_valid(), form.errors
        person = Person.objects.get(pk=form.save().pk)
        assert isinstance(person.address, Address)
        assert person.address.since == datetime.date(2020, 1, 2)
        assert [a.city for a in person.previous] == ["Rome", "Lima"]
        assert person.balances == [Decimal("1.5")]

    def test_errors_name_the_field(self):
        field = Person._meta.get_field("address").formfield()
        with self.assertRaises(forms.ValidationError) as caught:
            field.clean('{"city": "", "zip": 1}')
        assert caught.exception.messages == [
            "Address has no field 'zip'; its fields are street, city, since, updated, created."
        ]
        with self.assertRaises(forms.ValidationError) as caught:
            field.clean('{"city": ""}')
        assert caught.exception.messages == ["city: This field cannot be blank."]
        with self.assertRaises(forms.ValidationError) as caught:
            field.clean('"Paris"')
        assert "Enter a Address" in caught.exception.messages[0]

    def test_list_of_embedded_item_errors(self):
        field = Person._meta.get_field("previous").formfield()
        with self.assertRaises(forms.ValidationError) as caught:
            field.clean('[{"city": "Rome"}, {"city": ""}]')
        assert caught.exception.messages == ["Item 1: city: This field cannot be blank."]

    def test_display_round_trips(self):
        person = Person(name="p", address=Address(city="Oslo", since=datetime.date(2020, 1, 2)))
        form = PersonForm(instance=person)
        text = form["address"].value()
        shown = form.fields["address"].prepare_value(text)
        assert json.loads(shown)["city"] == "Oslo"
        assert form.fields["address"].clean(shown).since == datetime.date(2020, 1, 2)
        previous = form.fields["previous"].prepare_value([Address(city="Rome")])
        assert json.loads(previous)[0]["city"] == "Rome"

    def test_has_changed(self):
        person = Person(name="p", address=Address(city="Oslo"))
        data = {
            "name": "p",
            "address": PersonForm(instance=person).fields["address"].prepare_value(person.address),
            "previous": "",
            "visits": "",
            "balances": "",
            "limits": "{}",
        }
        assert "address" not in PersonForm(data, instance=person).changed_data
        data["address"] = '{"city": "Bergen"}'
        assert "address" in PersonForm(data, instance=person).changed_data
