"""SingleStore's rules caught before deploy: system checks and migration-time errors.

Each rule a model or migration can break gives a checks.Error (``manage.py check
--database <alias>``) and the same refusal from the schema editor, naming the
model or field, the rule and the fixes. Checked with no server: the rules are
about the models, and they apply in both dialects.
"""

import pytest
from django.core.management import call_command
from django.db import NotSupportedError, connection, models

from django_nonrel.backends.singlestore import ModelStorageManager
from tests.singlestore.offline import Registry, create_sql, offline_connection

STORAGE_ENV = "DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_SHOP"
UNIQUE_ENV = "DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_SHOP"
DIALECTS = ["singlestore", "mysql"]


@pytest.fixture
def shop(monkeypatch):
    for name in (STORAGE_ENV, UNIQUE_ENV):
        monkeypatch.delenv(name, raising=False)
    return Registry()


def errors(model, dialect="singlestore"):
    return offline_connection(dialect).validation.check_models([model])


@pytest.mark.parametrize("dialect", DIALECTS)
def test_unique_field_on_distributed_table(shop, dialect):
    model = shop.model("Account", {"email": models.EmailField(unique=True)})
    (error,) = errors(model, dialect)
    assert error.id == "singlestore.E001"
    assert error.obj is model._meta.get_field("email")
    assert "shop.Account: field 'email' is unique on a distributed table" in error.msg
    assert "contain the shard key (id)" in error.msg
    for fix in ("ROWSTORE REFERENCE", "DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_SHOP=1", "'id'"):
        assert fix in error.hint


@pytest.mark.parametrize(
    "fix",
    ["reference-env", "reference-manager", "unenforced", "pk-in-key"],
)
def test_each_fix_named_by_the_hint_clears_the_error(shop, monkeypatch, fix):
    fields = {"email": models.EmailField(unique=fix != "pk-in-key")}
    meta = {"unique_together": [("id", "email")]} if fix == "pk-in-key" else None
    attrs = {}
    if fix == "reference-env":
        monkeypatch.setenv(STORAGE_ENV, "ROWSTORE REFERENCE")
    elif fix == "reference-manager":
        attrs["objects"] = ModelStorageManager("ROWSTORE REFERENCE")
    elif fix == "unenforced":
        monkeypatch.setenv(UNIQUE_ENV, "1")
    else:  # on columnstore a second, multi-column unique index breaks another rule
        monkeypatch.setenv(STORAGE_ENV, "ROWSTORE")
    model = shop.model("Account", fields, meta=meta, **attrs)
    assert errors(model) == []
    assert create_sql(offline_connection(), model)


def test_one_to_one_not_primary_key_names_primary_key_fix(shop, monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE")
    user = shop.model("User", {})
    profile = shop.model("Profile", {"user": models.OneToOneField(user, models.CASCADE)})
    (error,) = errors(profile)
    assert "OneToOneField 'user' is unique on a distributed table" in error.msg
    assert "make 'user' the primary key (primary_key=True)" in error.hint
    keyed = shop.model(
        "KeyedProfile",
        {"user": models.OneToOneField(user, models.CASCADE, primary_key=True)},
    )
    assert errors(keyed) == []


def test_unique_constraint_is_checked_like_unique_together(shop, monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE")
    model = shop.model(
        "Seat",
        {"row": models.IntegerField(), "number": models.IntegerField()},
        meta={"constraints": [models.UniqueConstraint(fields=["row", "number"], name="seat")]},
    )
    (error,) = errors(model)
    assert "UniqueConstraint 'seat' is unique on a distributed table" in error.msg


def test_columnstore_multiple_unique_indexes_with_a_multi_column_one(shop, monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, "REFERENCE")  # columnstore, no shard-key rule
    model = shop.model(
        "Seat",
        {"row": models.IntegerField(), "number": models.IntegerField()},
        meta={"unique_together": [("row", "number")]},
    )
    (error,) = errors(model)
    assert error.id == "singlestore.E002"
    assert "only when each has one column" in error.msg
    assert "ROWSTORE" in error.hint
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE REFERENCE")
    assert errors(model) == []


def test_float_primary_key_on_columnstore(shop, monkeypatch):
    model = shop.model("Reading", {"value": models.FloatField(primary_key=True)})
    (error,) = errors(model)
    assert error.id == "singlestore.E003"
    assert "shop.Reading.value is a FloatField primary key on a columnstore table" in error.msg
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE")
    assert errors(model) == []


def test_two_indexes_on_the_same_columns_of_a_columnstore_table(shop):
    model = shop.model(
        "Event",
        {"kind": models.CharField(max_length=10, db_index=True)},
        meta={"indexes": [models.Index(fields=["kind"], name="event_kind")]},
    )
    (error,) = errors(model)
    assert error.id == "singlestore.E004"
    assert "index 'event_kind' and db_index on 'kind'" in error.msg


def test_m2m_through_tables_need_no_fix(shop):
    tag = shop.model("Tag", {})
    post = shop.model("Post", {"tags": models.ManyToManyField(tag)})
    through = post._meta.get_field("tags").remote_field.through
    assert errors(through) == []


# -- migration-time errors -------------------------------------------------------


def altered(model, name, field):
    field.set_attributes_from_name(name)
    field.model = model
    return field


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("new_field", "what"),
    [
        (models.BigIntegerField(default=0), "change the type of column 'qty'"),
        (models.IntegerField(default=0, unique=True), "add a unique index on 'qty'"),
        (models.IntegerField(default=0, db_comment="how many"), "change the comment"),
    ],
)
def test_columnstore_alters_are_refused_with_add_copy_drop(shop, dialect, new_field, what):
    model = shop.model("Item", {"qty": models.IntegerField(default=0)})
    old = model._meta.get_field("qty")
    editor = offline_connection(dialect).schema_editor(collect_sql=True, atomic=False)
    with pytest.raises(NotSupportedError) as refused, editor:
        editor.alter_field(model, old, altered(model, "qty", new_field))
    message = str(refused.value)
    assert message.startswith("shop.Item: SingleStore cannot ")
    assert what in message
    assert "adding a new field" in message and "copying the data" in message


def test_null_to_not_null_on_columnstore_is_refused(shop):
    model = shop.model("Item", {"qty": models.IntegerField(null=True)})
    old = model._meta.get_field("qty")
    editor = offline_connection().schema_editor(collect_sql=True, atomic=False)
    with pytest.raises(NotSupportedError, match="make column 'qty' NOT NULL"), editor:
        editor.alter_field(model, old, altered(model, "qty", models.IntegerField()))


def test_rowstore_alters_go_through(shop, monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE")
    model = shop.model("Item", {"qty": models.IntegerField(default=0)})
    old = model._meta.get_field("qty")
    with offline_connection().schema_editor(collect_sql=True, atomic=False) as editor:
        editor.alter_field(model, old, altered(model, "qty", models.BigIntegerField(default=0)))
    assert editor.collected_sql == ["ALTER TABLE `shop_item` MODIFY COLUMN `qty` bigint NOT NULL;"]


def test_adding_unique_keys_to_columnstore_tables_is_refused(shop):
    model = shop.model("Item", {"qty": models.IntegerField(default=0)})
    editor = offline_connection().schema_editor(collect_sql=True, atomic=False)
    expected = "add a unique index \\(UniqueConstraint 'item_qty'\\)"
    with pytest.raises(NotSupportedError, match=expected), editor:
        editor.add_constraint(model, models.UniqueConstraint(fields=["qty"], name="item_qty"))
    editor = offline_connection().schema_editor(collect_sql=True, atomic=False)
    with pytest.raises(NotSupportedError, match="add a unique index"), editor:
        editor.alter_unique_together(model, [], [("id", "qty")])


@pytest.mark.django_db
def test_project_models_pass_the_database_checks_on_this_tier():
    """``manage.py check --database default`` on the tier's own models (SingleStore tiers)."""
    if not hasattr(connection, "is_singlestore"):
        pytest.skip(f"SingleStore backend checks; this tier runs {connection.vendor}")
    call_command("check", databases=["default"])


def test_unique_keys_added_by_migrations_obey_the_shard_key_rule(shop, monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE")
    model = shop.model(
        "Seat",
        {"row": models.IntegerField(), "number": models.IntegerField()},
        meta={"unique_together": [("row", "number")]},  # the migration's new state
    )
    editor = offline_connection().schema_editor(collect_sql=True, atomic=False)
    with pytest.raises(NotSupportedError, match="singlestore.E001"), editor:
        editor.alter_unique_together(model, [], [("row", "number")])
