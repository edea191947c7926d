"""Rows and embedded documents become instances as Model.from_db would make them.

``django_nonrel.instances`` skips ``Model.from_db``/``__init__`` for models that
override nothing of that machinery; these tests pin what must not change:
signals, custom ``from_db``/``__init__``, deferred fields, descriptors.
"""

import datetime

from django.db import connection, models
from django.db.models.signals import post_init, pre_init
from django.test import TestCase
from django.test.utils import isolate_apps

from django_nonrel.fields import EmbeddedModelField
from django_nonrel.instances import builds_like_django, document_builder, instance_builder
from tests.app.models import Address, Person
from tests.orm.models import Author, Book, Snapshot


def attnames(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


class Upper:
    """A data descriptor with a setter: instances must not bypass it."""

    def __get__(self, instance, owner):
        return self if instance is None else instance.__dict__["name"]

    def __set__(self, instance, value):
        instance.__dict__["name"] = value.upper()


class Recorder:
    """Receivers of pre_init and post_init that note what they were sent."""

    def __init__(self, sender):
        self.sender, self.calls = sender, []

    def __enter__(self):
        pre_init.connect(self.pre, sender=self.sender)
        post_init.connect(self.post, sender=self.sender)
        return self

    def __exit__(self, *exc):
        pre_init.disconnect(self.pre, sender=self.sender)
        post_init.disconnect(self.post, sender=self.sender)

    def pre(self, sender, args, kwargs, **extra):
        self.calls.append(("pre_init", sender, args, kwargs))

    def post(self, sender, instance, **extra):
        state = instance._state
        fields = {k: v for k, v in instance.__dict__.items() if k != "_state"}
        self.calls.append(("post_init", sender, fields, state.adding, state.db))


class WhenTheShortcutApplies(TestCase):
    def test_plain_models_and_foreign_keys(self):
        assert builds_like_django(Author, attnames(Author))
        assert builds_like_django(Book, attnames(Book))  # a ForeignKey attribute has a setter

    def test_not_for_a_row_with_deferred_fields(self):
        assert not builds_like_django(Author, attnames(Author)[:2])

    def test_not_for_a_custom_from_db(self):
        assert not builds_like_django(Snapshot, attnames(Snapshot))

    @isolate_apps("tests.app")
    def test_not_for_custom_construction(self):
        class CustomInit(models.Model):
            name = models.CharField(max_length=10)

            class Meta:
                app_label = "app"

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)

        class Mixin:
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)

        class MixinInit(models.Model, Mixin):
            name = models.CharField(max_length=10)

            class Meta:
                app_label = "app"

        class CustomSetattr(models.Model):
            name = models.CharField(max_length=10)

            class Meta:
                app_label = "app"

            def __setattr__(self, name, value):
                super().__setattr__(name, value)

        class WithSetter(models.Model):
            name = models.CharField(max_length=10)

            class Meta:
                app_label = "app"

        WithSetter.name = Upper()
        for model in (CustomInit, MixinInit, CustomSetattr, WithSetter):
            assert not builds_like_django(model, attnames(model)), model.__name__

    @isolate_apps("tests.app")
    def test_a_setter_still_runs_when_not_shortcut(self):
        class Shouting(models.Model):
            name = models.CharField(max_length=10)

            class Meta:
                app_label = "app"

        Shouting.name = Upper()
        built = instance_builder(Shouting, attnames(Shouting))("default", [1, "hey"])
        assert built.name == "HEY" and built._state.db == "default"


class SameAsFromDb(TestCase):
    def test_instance_state_and_signals_match_from_db(self):
        names, values = attnames(Author), [7, "Ann", "", 30, None, None, None, True, None]
        assert len(names) == len(values), names
        with Recorder(Author) as django:
            expected = Author.from_db("default", names, values)
        with Recorder(Author) as ours:
            built = instance_builder(Author, names)("default", values)
        assert ours.calls == django.calls
        assert ours.calls[0] == ("pre_init", Author, tuple(values), {})
        assert ours.calls[1][3:] == (True, None)  # post_init sees a state not yet loaded
        assert built.__dict__.keys() == expected.__dict__.keys()
        assert [getattr(built, n) for n in names] == [getattr(expected, n) for n in names]
        assert (built._state.adding, built._state.db) == (False, "default")

    def test_rows_send_signals(self):
        Author.objects.create(name="Ann", age=30)
        with Recorder(Author) as recorder:
            (author,) = Author.objects.all()
        assert [call[0] for call in recorder.calls] == ["pre_init", "post_init"]
        assert recorder.calls[1][2]["name"] == "Ann"
        assert author._state.adding is False and author._state.db == "default"

    def test_custom_from_db_runs_for_rows(self):
        Snapshot.objects.create(label="a", count=2)
        (loaded,) = Snapshot.objects.all()
        assert loaded.loaded_values == {"id": loaded.pk, "label": "a", "count": 2}

    def test_deferred_fields_stay_deferred(self):
        Author.objects.create(name="Ann", age=30)
        (author,) = Author.objects.only("name")
        assert author.get_deferred_fields() == {
            f.attname for f in Author._meta.concrete_fields if f.attname not in ("id", "name")
        }
        assert author.age == 30  # loaded on access


class EmbeddedInstances(TestCase):
    def test_embedded_documents_send_signals(self):
        Person.objects.create(name="p", address=Address(city="Oslo"), previous=[Address(city="A")])
        with Recorder(Address) as recorder:
            person = Person.objects.get(name="p")
        assert [c[0] for c in recorder.calls] == ["pre_init", "post_init"] * 2
        assert [c[2]["city"] for c in recorder.calls[1::2]] == ["Oslo", "A"]
        assert person.address._state.adding is False

    def test_a_whole_document_builds_as_its_list_of_values(self):
        # Readers fill instances from the stored document itself (no list of values):
        # the same instance as instance_builder's, converters applied in place.
        names = attnames(Address)
        stamp = datetime.datetime(2024, 5, 6, 7, 8, 9)
        stored = {"street": "", "city": "Oslo", "since": None, "updated": stamp, "created": stamp}
        reads = {"updated": lambda v: v.replace(tzinfo=datetime.UTC), "created": lambda v: ("r", v)}

        def convert(values):
            for name, read in reads.items():
                values[name] = read(values[name])

        build = document_builder(Address, names, list(stored), convert)
        values = [None, *stored.values()]
        for name, read in reads.items():
            values[names.index(name)] = read(values[names.index(name)])
        expected = instance_builder(Address, names)("other", values)
        # Any key order in the document, and a document lacking a column (read as None).
        for document in (stored, dict(reversed(stored.items()))):
            built = build("other", document)
            assert list(built.__dict__) == list(expected.__dict__) == ["_state", *names]
            assert [getattr(built, n) for n in names] == values
            assert (built._state.adding, built._state.db) == (False, "other")
        assert stored["updated"] is stamp  # the stored document is left as read
        partial = build("other", {k: v for k, v in stored.items() if k != "street"})
        assert list(partial.__dict__) == ["_state", *names] and partial.street is None
        with Recorder(Address) as recorder:
            signalled = build("default", stored)
        assert recorder.calls[0] == ("pre_init", Address, tuple(values), {})
        assert [getattr(signalled, n) for n in names] == values

    def test_no_document_builder_where_from_db_runs(self):
        names = attnames(Snapshot)
        assert document_builder(Snapshot, names, names) is None

    @isolate_apps("tests.app")
    def test_custom_from_db_runs_for_embedded_documents(self):
        class Tracked(models.Model):
            city = models.CharField(max_length=20)

            class Meta:
                app_label = "app"
                managed = False

            @classmethod
            def from_db(cls, db, field_names, values):
                instance = super().from_db(db, field_names, values)
                instance.loaded = list(values)
                return instance

        class Holder(models.Model):
            place = EmbeddedModelField(Tracked)

            class Meta:
                app_label = "app"

        field = Holder._meta.get_field("place")
        place = field.from_storage({"city": "Oslo"}, connection)
        assert place.loaded == [None, "Oslo"] and place.city == "Oslo"

    @isolate_apps("tests.app")
    def test_missing_fields_get_their_default(self):
        class Later(models.Model):
            city = models.CharField(max_length=20)
            rank = models.IntegerField(default=5)

            class Meta:
                app_label = "app"
                managed = False

        class Holder(models.Model):
            place = EmbeddedModelField(Later)

            class Meta:
                app_label = "app"

        place = Holder._meta.get_field("place").from_storage({"city": "Oslo"}, connection)
        assert (place.pk, place.city, place.rank) == (None, "Oslo", 5)
