"""Where tables live by default: Django's contrib apps, per-app settings, third-party apps.

On default settings (no storage configured: SingleStore's distributed
columnstore) a project with Django's contrib apps must pass ``manage.py check
--database`` and migrate; the contrib storage stays overridable by the same
environment variables and settings as any app; and an app whose models cannot
be edited is told the exact setting that makes SingleStore accept them.
"""

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import NotSupportedError, models
from django.db.migrations.loader import MigrationLoader

from django_nonrel.backends.singlestore import ModelStorageManager
from django_nonrel.backends.singlestore.rules import plan_table
from tests.singlestore.grammar import grammar_errors
from tests.singlestore.offline import Registry, create_sql, offline_connection

CONTRIB = ["admin", "auth", "contenttypes", "sessions", "sites"]


@pytest.fixture(autouse=True)
def no_storage_variables(monkeypatch):
    for label in [*CONTRIB, "shop"]:
        monkeypatch.delenv(f"DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_{label.upper()}", raising=False)
        monkeypatch.delenv(f"DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_{label.upper()}", raising=False)


def contrib_models():
    return [
        model
        for label in CONTRIB
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    ]


@pytest.mark.parametrize("dialect", ["singlestore", "mysql"])
def test_contrib_apps_pass_the_checks_on_default_settings(dialect):
    assert offline_connection(dialect).validation.check_models(contrib_models()) == []


def test_contrib_storage_per_app():
    settings = offline_connection().storage_settings
    storage = {
        model._meta.label: plan_table(model, settings).storage.storage_type
        for model in contrib_models()
    }
    assert storage["auth.User"] == "ROWSTORE REFERENCE"
    assert storage["auth.User_groups"] == "ROWSTORE REFERENCE"
    assert storage["auth.Permission"] == "ROWSTORE REFERENCE"
    assert storage["contenttypes.ContentType"] == "ROWSTORE REFERENCE"
    assert storage["sites.Site"] == "ROWSTORE REFERENCE"
    assert storage["admin.LogEntry"] == "REFERENCE"
    assert storage["sessions.Session"] == ""  # the connection's default: distributed columnstore


def test_contrib_migrations_render_on_default_settings():
    """``migrate`` of auth, contenttypes, admin, sessions and sites: every statement renders."""
    loader = MigrationLoader(None, replace_migrations=False)
    loader.connection = offline_connection()
    plan = [
        (loader.graph.nodes[key], False)
        for key in loader.graph.forwards_plan(("auth", "0012_alter_user_first_name_max_length"))
        + loader.graph.forwards_plan(("admin", "0003_logentry_add_action_flag_choices"))
        + loader.graph.forwards_plan(("sessions", "0001_initial"))
        + loader.graph.forwards_plan(("sites", "0002_alter_domain_unique"))
    ]
    statements = [sql for sql in loader.collect_sql(plan) if not sql.startswith("--")]
    assert {sql: grammar_errors(sql) for sql in statements if grammar_errors(sql)} == {}
    assert "CREATE ROWSTORE REFERENCE TABLE `auth_user` (" in "\n".join(statements)
    assert any(sql.startswith("CREATE TABLE `django_session`") for sql in statements)


@pytest.mark.parametrize("source", ["env", "option"])
def test_contrib_storage_is_overridden_like_any_app(monkeypatch, source):
    if source == "env":
        monkeypatch.setenv("DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_AUTH", "ROWSTORE")
        connection = offline_connection()
    else:
        connection = offline_connection(table_storage_types={"auth": "ROWSTORE"})
    errors = connection.validation.check_models(contrib_models())
    assert {error.id for error in errors} == {"singlestore.E001", "singlestore.E005"}
    assert "auth.User: field 'username' is unique on a distributed table (ROWSTORE" in "\n".join(
        error.msg for error in errors
    )


def test_a_per_app_option_sets_an_apps_storage():
    shop = Registry()
    item = shop.model("Item", {"code": models.IntegerField(unique=True)})
    connection = offline_connection(table_storage_types={"shop": "rowstore reference"})
    assert create_sql(connection, item)[0].startswith("CREATE ROWSTORE REFERENCE TABLE")
    # The model's manager still wins.
    managed = shop.model("Box", {}, objects=ModelStorageManager("ROWSTORE"))
    assert create_sql(connection, managed)[0].startswith("CREATE ROWSTORE TABLE")
    with pytest.raises(ImproperlyConfigured, match=r'\["table_storage_types"\]\["shop"\]'):
        create_sql(offline_connection(table_storage_types={"shop": "HEAP"}), item)
    with pytest.raises(ImproperlyConfigured, match="dict of app labels"):
        create_sql(offline_connection(table_storage_types="ROWSTORE"), item)


def test_a_third_party_one_to_one_names_the_exact_setting_to_add():
    """A package's models cannot be edited: the fix is a setting, written out in full."""
    shop = Registry()
    shop.apps.get_app_config("shop").path = "/venv/lib/python3.12/site-packages/shop"
    user = shop.model("Account", {})
    profile = shop.model("Profile", {"account": models.OneToOneField(user, models.CASCADE)})
    (error,) = offline_connection().validation.check_models([profile])
    assert error.id == "singlestore.E001"
    assert error.hint.startswith(
        "Either store the 'shop' app's tables as ROWSTORE REFERENCE (SingleStore enforces unique "
        'keys of reference tables on every node): add DATABASES["default"]["OPTIONS"]'
        '["table_storage_types"] = {"shop": "ROWSTORE REFERENCE"} in settings.py (or the '
        'environment variable DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_SHOP="ROWSTORE REFERENCE")'
    )
    # Fixes that mean editing the package's models are not offered.
    assert "primary_key=True" not in error.hint
    assert "ModelStorageManager" not in error.hint
    # The test database cannot be created either, with the same message.
    with pytest.raises(NotSupportedError, match=r'"shop": "ROWSTORE REFERENCE"'):
        create_sql(offline_connection(), profile)
    connection = offline_connection(table_storage_types={"shop": "ROWSTORE REFERENCE"})
    assert connection.validation.check_models([profile]) == []
