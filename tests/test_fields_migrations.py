"""deconstruct() and makemigrations for the nonrel fields."""

import importlib
import sys
import uuid

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, models
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState
from django.db.migrations.writer import MigrationWriter
from django.test import TestCase, override_settings
from django.utils.module_loading import import_string

from django_nonrel.fields import DictField, EmbeddedModelField, ListField, SetField
from tests.app.models import Address, Order, Person, Post

NONREL_FIELDS = (ListField, SetField, DictField, EmbeddedModelField)


def deep(field):
    """What the autodetector compares: deconstruct(), recursively, minus the name."""
    return MigrationAutodetector(ProjectState(), ProjectState()).deep_deconstruct(field)[1:]


def nonrel_fields(*models_):
    return [
        field
        for model in models_
        for field in model._meta.get_fields()
        if isinstance(field, NONREL_FIELDS)
    ]


class DeconstructTests(TestCase):
    def test_round_trip(self):
        for field in nonrel_fields(Post, Person, Order):
            name, path, args, kwargs = field.deconstruct()
            assert path.startswith("django_nonrel.fields.")
            rebuilt = import_string(path)(*args, **kwargs)
            assert deep(rebuilt) == deep(field), field.name

    def test_kwargs(self):
        _, path, _, kwargs = Post._meta.get_field("tags").deconstruct()
        assert path == "django_nonrel.fields.ListField"
        assert "default" not in kwargs  # the implicit empty list is not written
        assert isinstance(kwargs["item_field"], models.CharField)
        assert kwargs["item_field"].max_length == 20
        _, _, _, kwargs = Post._meta.get_field("meta").deconstruct()
        assert "value_field" not in kwargs
        _, path, _, kwargs = Person._meta.get_field("address").deconstruct()
        assert path == "django_nonrel.fields.EmbeddedModelField"
        assert kwargs["model"] == "app.Address"
        _, _, _, kwargs = Person._meta.get_field("previous").deconstruct()
        assert kwargs["item_field"].deconstruct()[3]["model"] == "Address"

    def test_explicit_default_is_kept(self):
        kwargs = ListField(default=[1]).deconstruct()[3]
        assert kwargs["default"] == [1]

    def test_migration_writer_serializes_fields(self):
        for field in nonrel_fields(Post, Person, Order):
            text, imports = MigrationWriter.serialize(field)
            namespace = {}
            for statement in imports:
                exec(statement, namespace)
            rebuilt = eval(text, namespace)
            assert deep(rebuilt) == deep(field)

    def test_clone_does_not_share_inner_fields(self):
        field = Person._meta.get_field("previous")
        assert field.clone().item_field is not field.item_field


@pytest.fixture
def migrations_package(tmp_path, monkeypatch):
    name = f"nonrel_migrations_{uuid.uuid4().hex}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield name
    for module in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[module]


@pytest.mark.django_db
def test_makemigrations_writes_a_migration_that_loads(migrations_package):
    with override_settings(MIGRATION_MODULES={"app": migrations_package}):
        call_command("makemigrations", "app", verbosity=0)
        loader = MigrationLoader(connection)
        leaf = loader.graph.leaf_nodes("app")[0]
        state = loader.project_state(leaf)
        for model in (Post, Person, Order):
            state_model = state.apps.get_model("app", model.__name__)
            for field in nonrel_fields(model):
                state_field = state_model._meta.get_field(field.name)
                assert deep(state_field) == deep(field)
        # Embedded references resolve inside the migration state's registry.
        state_person = state.apps.get_model("app", "Person")
        embedded = state_person._meta.get_field("address").embedded_model
        assert embedded is state.apps.get_model("app", "Address")
        assert embedded is not Address
        item = state_person._meta.get_field("previous").item_field
        assert item.embedded_model is embedded
        # ...and the models stay as they were.
        assert Person._meta.get_field("previous").item_field.embedded_model is Address
        # No further changes detected.
        call_command("makemigrations", "app", check=True, dry_run=True, verbosity=0)
    assert apps.get_model("app", "Address") is Address
