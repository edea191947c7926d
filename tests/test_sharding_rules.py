"""The rules of a sharded MongoDB cluster as system checks, found with no cluster.

``manage.py check --database <alias>`` (and ``migrate``) reports every rule a
model with a ShardKey breaks, on any MongoDB server, before a mongos refuses the
migration or the write. Each test names the rule and shows that the fix the
hint gives clears it.
"""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import models
from django.db.models import UniqueConstraint
from django.db.utils import ConnectionHandler
from django.test.utils import override_settings

from django_nonrel.fields import DictField, ListField, VersionField
from django_nonrel.sharding import ShardKey
from tests.singlestore.offline import Registry

pytestmark = pytest.mark.usefixtures("on_mongodb")


def mongodb(name="shop"):
    """A MongoDB connection nothing listens for: the checks need no server."""
    settings = {"ENGINE": "django_nonrel.backends.mongodb", "HOST": "mongodb://127.0.0.1:9",
                "NAME": name}  # fmt: skip
    return ConnectionHandler({"default": settings})["default"]


def sharded(fields, key=("tenant",), meta=None, **key_options):
    meta = {"indexes": [ShardKey(fields=list(key), **key_options)], **(meta or {})}
    base = {"tenant": models.IntegerField()}
    return Registry().model("Order", {**base, **fields}, meta=meta)


def ids(model, name="shop"):
    return [(message.id, message.obj) for message in mongodb(name).validation.check_models([model])]


def messages(model):
    return mongodb().validation.check_models([model])


def test_an_unsharded_model_breaks_no_sharding_rule():
    model = Registry().model("Plain", {"email": models.EmailField(unique=True)})
    assert messages(model) == []


def test_unique_field_that_is_not_the_shard_key():
    model = sharded({"email": models.EmailField(unique=True)})
    (error,) = messages(model)
    assert error.id == "mongodb.E001" and error.obj is model._meta.get_field("email")
    assert "field 'email' (unique=True) is a unique index on ['email']" in error.msg
    assert "does not start with the shard key ['tenant']" in error.msg
    assert "UniqueConstraint(fields=['tenant', 'email'], name=...)" in error.hint
    fixed = sharded(
        {"email": models.EmailField()},
        meta={"constraints": [UniqueConstraint(fields=["tenant", "email"], name="email_uniq")]},
    )
    assert messages(fixed) == []


def test_the_shard_key_must_be_a_prefix_in_order():
    """MongoDB's rule is a prefix of field names, in the key's order, not containment."""
    key = ("tenant", "number")
    extra = {"number": models.IntegerField(), "code": models.CharField(max_length=5)}
    reordered = sharded(extra, key, meta={"unique_together": [("number", "tenant", "code")]})
    assert ids(reordered) == [("mongodb.E001", reordered)]
    prefixed = sharded(extra, key, meta={"unique_together": [("tenant", "number", "code")]})
    assert ids(prefixed) == []
    partial = sharded(extra, key, meta={"unique_together": [("tenant", "code")]})
    assert ids(partial) == [("mongodb.E001", partial)]


def test_a_unique_index_starting_with_id_is_always_allowed():
    model = sharded(
        {"code": models.CharField(max_length=5)},
        meta={"constraints": [UniqueConstraint(fields=["id", "code"], name="by_id")]},
    )
    assert ids(model) == []


def test_hashed_keys_follow_the_same_prefix_rule():
    bad = sharded({"email": models.EmailField(unique=True)}, hashed=True)
    assert ids(bad) == [("mongodb.E001", bad._meta.get_field("email"))]
    good = sharded(
        {"email": models.EmailField()},
        meta={"constraints": [UniqueConstraint(fields=["tenant", "email"], name="per_tenant")]},
        hashed=True,
    )
    assert ids(good) == []


def test_nullable_shard_key_field():
    model = Registry().model(
        "Order",
        {"tenant": models.IntegerField(null=True)},
        meta={"indexes": [ShardKey(fields=["tenant"])]},
    )
    (error,) = messages(model)
    assert error.id == "mongodb.E002" and "nullable" in error.msg and "null=False" in error.hint


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        (models.DateTimeField(auto_now=True), "auto_now sets it on every save"),
        (VersionField(), "a VersionField changes on every save"),
    ],
)
def test_shard_key_fields_that_change_on_every_save(field, reason):
    model = sharded({"stamp": field}, key=("tenant", "stamp"))
    (error,) = messages(model)
    assert error.id == "mongodb.E003" and reason in error.msg


def test_shard_key_foreign_key_rewritten_by_a_cascade():
    registry = Registry()
    tenant = registry.model("Tenant", {})
    model = registry.model(
        "Order",
        {"tenant": models.ForeignKey(tenant, models.SET_DEFAULT, default=1)},
        meta={"indexes": [ShardKey(fields=["tenant"])]},
    )
    (error,) = messages(model)
    assert error.id == "mongodb.E003" and "on_delete=SET_DEFAULT" in error.msg
    kept = registry.model(
        "Kept",
        {"tenant": models.ForeignKey(tenant, models.PROTECT)},
        meta={"indexes": [ShardKey(fields=["tenant"])]},
    )
    assert messages(kept) == []


@pytest.mark.parametrize(
    "field",
    [ListField(models.IntegerField()), models.JSONField(), DictField(models.IntegerField())],
)
def test_shard_key_fields_holding_lists(field):
    model = sharded({"tags": field}, key=("tags",))
    assert [m.id for m in messages(model)] == ["mongodb.E004"]


def test_one_shard_key_per_model():
    model = Registry().model(
        "Order",
        {"tenant": models.IntegerField(), "number": models.IntegerField()},
        meta={"indexes": [ShardKey(fields=["tenant"]), ShardKey(fields=["number"])]},
    )
    assert ids(model) == [("mongodb.E005", model)]


def test_collections_mongodb_cannot_shard():
    model = sharded({})
    assert ids(model, name="config") == [("mongodb.E006", model)]
    system = Registry().model(
        "Profile",
        {"tenant": models.IntegerField()},
        meta={"db_table": "system.profile", "indexes": [ShardKey(fields=["tenant"])]},
    )
    assert ids(system) == [("mongodb.E006", system)]


def test_application_set_primary_key_outside_the_shard_key_warns():
    model = sharded({"code": models.CharField(max_length=10, primary_key=True)})
    (warning,) = messages(model)
    assert warning.id == "mongodb.W001" and warning.level == 30
    assert "enforces _id uniqueness per shard only" in warning.msg
    on_pk = sharded({"code": models.CharField(max_length=10, primary_key=True)}, key=("code",))
    assert messages(on_pk) == []


@pytest.mark.django_db
def test_manage_py_check_database_reports_the_rules():
    from django.conf import settings

    installed = [*settings.INSTALLED_APPS, "tests.sharding.checked"]
    with override_settings(INSTALLED_APPS=installed), pytest.raises(SystemCheckError) as found:
        call_command("check", databases=["default"])
    assert "checked.Customer.email: (mongodb.E001)" in str(found.value)
