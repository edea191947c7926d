"""EmbeddedModelField and ListField(EmbeddedModelField): storage, pre_save, validation, lookups."""

import datetime
import pickle
from decimal import Decimal

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.db import models
from django.test import TestCase
from django.test.utils import isolate_apps

from django_nonrel.fields import EmbeddedModelField, ListField
from tests.app.models import Address, LineItem, Order, Person


class StorageTests(TestCase):
    def test_round_trip(self):
        person = Person.objects.create(
            name="p", address=Address(city="Paris", street="Rue", since=datetime.date(2020, 1, 2))
        )
        loaded = Person.objects.get(pk=person.pk).address
        assert isinstance(loaded, Address)
        assert (loaded.city, loaded.street, loaded.since) == (
            "Paris",
            "Rue",
            datetime.date(2020, 1, 2),
        )
        assert loaded._state.adding is False

    def test_no_pk_is_stored(self):
        person = Person.objects.create(name="p", address=Address(city="Paris"))
        assert Person.objects.get(pk=person.pk).address.pk is None
        stored = Person._meta.get_field("address").to_serializable(person.address)
        assert "id" not in stored and stored["city"] == "Paris"

    def test_null(self):
        person = Person.objects.create(name="p", address=None)
        assert Person.objects.get(pk=person.pk).address is None

    def test_dict_is_accepted_as_the_instance(self):
        person = Person.objects.create(name="p", address={"city": "Oslo"})
        assert Person.objects.get(pk=person.pk).address.city == "Oslo"

    def test_wrong_type_is_refused(self):
        with pytest.raises(TypeError, match="Address instance"):
            Person.objects.create(name="p", address=LineItem(name="x", price=1))

    def test_list_of_embedded_round_trip(self):
        order = Order.objects.create(
            number=1,
            items=[
                LineItem(name="pen", price=Decimal("1.50"), tags=["blue"]),
                LineItem(name="ink", price=Decimal("12"), origin=Address(city="Oslo")),
            ],
        )
        items = Order.objects.get(pk=order.pk).items
        assert [item.name for item in items] == ["pen", "ink"]
        assert items[0].price == Decimal("1.50") and isinstance(items[0].price, Decimal)
        assert items[0].tags == ["blue"] and items[0].origin is None
        assert items[1].origin.city == "Oslo"

    def test_dict_of_embedded_round_trip(self):
        order = Order.objects.create(number=1, by_size={"small": LineItem(name="s", price=1)})
        assert Order.objects.get(pk=order.pk).by_size["small"].name == "s"

    def test_string_reference_resolves(self):
        field = Person._meta.get_field("previous").item_field
        assert field.embedded_model is Address


class PreSaveTests(TestCase):
    def test_auto_now_and_auto_now_add_inside_embedded_model(self):
        person = Person.objects.create(name="p", address=Address(city="Paris"))
        assert person.address.created is not None and person.address.updated is not None
        loaded = Person.objects.get(pk=person.pk)
        created = loaded.address.created
        loaded.save()
        again = Person.objects.get(pk=person.pk)
        assert again.address.created == created  # auto_now_add does not fire again
        assert again.address.updated >= created

    def test_saving_the_same_instance_twice_keeps_auto_now_add(self):
        person = Person.objects.create(name="p", address=Address(city="Paris"))
        created = person.address.created
        person.save()
        assert person.address.created == created

    def test_auto_now_inside_a_list_of_embedded_models(self):
        person = Person.objects.create(name="p", previous=[Address(city="Rome")])
        assert person.previous[0].created is not None
        assert Person.objects.get(pk=person.pk).previous[0].created is not None


class ValidationTests(TestCase):
    def test_embedded_fields_are_validated(self):
        person = Person(name="p", address=Address(city=""))
        with pytest.raises(ValidationError) as caught:
            person.full_clean()
        assert caught.value.message_dict["address"] == ["city: This field cannot be blank."]

    def test_list_of_embedded_errors_name_index_and_field(self):
        order = Order(number=1, items=[LineItem(name="ok", price=1), LineItem(name="", price=1)])
        with pytest.raises(ValidationError) as caught:
            order.full_clean()
        assert caught.value.message_dict["items"] == ["Item 1: name: This field cannot be blank."]

    def test_to_python_from_dict_converts_and_reports_unknown_fields(self):
        field = Person._meta.get_field("address")
        address = field.to_python({"city": "Oslo", "since": "2020-01-02"})
        assert address.since == datetime.date(2020, 1, 2)
        with pytest.raises(ValidationError, match="Address has no field 'zip'"):
            field.to_python({"zip": "1"})
        with pytest.raises(ValidationError, match="since: "):
            field.to_python({"since": "not a date"})

    def test_abstract_model_is_refused(self):
        class Base(models.Model):
            class Meta:
                abstract = True
                app_label = "app"

        with pytest.raises(TypeError, match="abstract"):
            EmbeddedModelField(Base)

    @isolate_apps("tests.app")
    def test_unknown_reference_is_a_check_error(self):
        class Holder(models.Model):
            thing = EmbeddedModelField("app.Missing")
            things = ListField(EmbeddedModelField("Missing"))

            class Meta:
                app_label = "app"
                managed = False

        errors = [error.id for error in Holder.check()]
        assert errors.count("django_nonrel.fields.E001") == 2
        with pytest.raises(ImproperlyConfigured, match="not installed"):
            Holder._meta.get_field("thing").stored_fields()


class EmbeddedLookupTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        Person.objects.create(
            name="ann",
            address=Address(city="Paris", street="Main", since=datetime.date(2020, 5, 1)),
            previous=[Address(city="Rome"), Address(city="Oslo", street="Side")],
        )
        Person.objects.create(
            name="bob",
            address=Address(city="Parma", since=datetime.date(2010, 1, 1)),
            previous=[Address(city="Lima")],
        )
        Person.objects.create(name="cid", address=None)

    def names(self, **lookup):
        return sorted(Person.objects.filter(**lookup).values_list("name", flat=True))

    def test_field_equality(self):
        assert self.names(address__city="Paris") == ["ann"]
        assert self.names(address__city="Berlin") == []

    def test_text_lookups(self):
        assert self.names(address__city__istartswith="par") == ["ann", "bob"]
        assert self.names(address__city__startswith="Parm") == ["bob"]
        assert self.names(address__city__icontains="ARI") == ["ann"]
        assert self.names(address__city__in=["Parma", "Oslo"]) == ["bob"]

    def test_values_are_prepared_by_the_embedded_field(self):
        assert self.names(address__since=datetime.date(2020, 5, 1)) == ["ann"]
        assert self.names(address__since__gt=datetime.date(2015, 1, 1)) == ["ann"]
        assert self.names(address__since__lt=datetime.date(2015, 1, 1)) == ["bob"]
        assert self.names(address__since__year=2010) == ["bob"]

    def test_isnull(self):
        assert self.names(address__isnull=True) == ["cid"]
        assert self.names(address__isnull=False) == ["ann", "bob"]

    def test_exclude(self):
        assert sorted(
            Person.objects.exclude(address__city="Paris").values_list("name", flat=True)
        ) == ["bob", "cid"]

    def test_any_element_of_a_list(self):
        assert self.names(previous__city="Oslo") == ["ann"]
        assert self.names(previous__city="Lima") == ["bob"]
        assert self.names(previous__city="Paris") == []
        assert self.names(previous__city__startswith="L") == ["bob"]
        assert self.names(previous__street="Side") == ["ann"]

    def test_any_element_case_insensitive(self):
        assert self.names(previous__city__iexact="OSLO") == ["ann"]
        assert self.names(previous__city__istartswith="li") == ["bob"]
        assert self.names(previous__city__icontains="OM") == ["ann"]

    def test_exclude_any_element(self):
        assert sorted(
            Person.objects.exclude(previous__city="Oslo").values_list("name", flat=True)
        ) == ["bob", "cid"]

    def test_list_index_then_field(self):
        assert self.names(previous__0__city="Rome") == ["ann"]
        assert self.names(previous__1__city="Oslo") == ["ann"]
        assert self.names(previous__0__city="Oslo") == []

    def test_order_by_a_path(self):
        ordered = Person.objects.filter(address__isnull=False).order_by("-address__city")
        assert list(ordered.values_list("name", flat=True)) == ["bob", "ann"]

    def test_select_a_path(self):
        cities = Person.objects.order_by("name").values_list("address__city", flat=True)
        assert list(cities) == ["Paris", "Parma", None]

    def test_filtered_querysets_pickle(self):
        for queryset in (
            Person.objects.filter(address__city__istartswith="par"),
            Person.objects.filter(previous__city="Oslo"),
        ):
            restored = pickle.loads(pickle.dumps(queryset.query))
            copy = Person.objects.all()
            copy.query = restored
            assert sorted(p.name for p in copy) == sorted(p.name for p in queryset)

    def test_unknown_field_names_the_model_and_choices(self):
        with pytest.raises(FieldError, match=r"'town' into a field of Address.*city"):
            list(Person.objects.filter(address__town="x"))
        with pytest.raises(FieldError, match="Address"):
            list(Person.objects.filter(previous__town="x"))


class ListOfEmbeddedLookupTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        Order.objects.create(
            number=1,
            items=[
                LineItem(name="pen", price=Decimal("1.50"), tags=["blue", "cheap"]),
                LineItem(name="ink", price=Decimal("12.00"), origin=Address(city="Oslo")),
            ],
        )
        Order.objects.create(
            number=2, items=[LineItem(name="pad", price=Decimal("3"), tags=["cheap"])]
        )
        Order.objects.create(number=3, items=[])

    def numbers(self, **lookup):
        return sorted(Order.objects.filter(**lookup).values_list("number", flat=True))

    def test_any_element_field_equals(self):
        assert self.numbers(items__name="ink") == [1]
        assert self.numbers(items__name="pad") == [2]
        assert self.numbers(items__name="cap") == []

    def test_any_element_comparison_prepared_by_the_field(self):
        assert self.numbers(items__price__gt=Decimal("10")) == [1]
        assert self.numbers(items__price__gt=2) == [1, 2]
        assert self.numbers(items__price__gte=Decimal("12")) == [1]
        assert self.numbers(items__price__lt=Decimal("1.5")) == []
        assert self.numbers(items__price=Decimal("3.00")) == [2]

    def test_nested_list_and_embedded_paths(self):
        assert self.numbers(items__tags="cheap") == [1, 2]
        assert self.numbers(items__tags="blue") == [1]
        assert self.numbers(items__tags__contains=["blue", "cheap"]) == [1]
        assert self.numbers(items__tags__len=2) == [1]
        assert self.numbers(items__origin__city="Oslo") == [1]
        assert self.numbers(items__origin__city="Rome") == []

    def test_two_conditions_are_independent_any_element_tests(self):
        # MongoDB semantics: each condition may match a different element.
        assert self.numbers(items__name="pen", items__price__gt=10) == [1]

    def test_list_length(self):
        assert self.numbers(items__len=2) == [1]
        assert self.numbers(items__len=0) == [3]
