"""OPTIONS READ_PREFERENCE, WRITE_CONCERN and READ_CONCERN: validated, then applied.

A sharded cluster or replica set is configured per database in settings; a
wrong value is an ImproperlyConfigured naming the option when the connection's
parameters are read, not a driver error at the first query.
"""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.utils import ConnectionHandler
from pymongo import WriteConcern
from pymongo.read_preferences import Nearest, PrimaryPreferred

from django_nonrel.backends.mongodb.concerns import Concerns
from tests.orm.models import Author

pytestmark = pytest.mark.usefixtures("on_mongodb")


def wrapper(host="mongodb://127.0.0.1:9", **options):
    """A MongoDB connection with ``options``; pymongo connects lazily, so none is made."""
    settings = {"ENGINE": "django_nonrel.backends.mongodb", "HOST": host, "NAME": "shop",
                "OPTIONS": options}  # fmt: skip
    return ConnectionHandler({"default": settings})["default"]


def test_settings_become_the_database_objects_every_command_uses(django_db_blocker):
    offline = wrapper(
        READ_PREFERENCE={"mode": "nearest", "tag_sets": [{"dc": "east"}], "max_staleness": 120},
        WRITE_CONCERN={"w": "majority", "j": True, "wtimeout": 5000},
        READ_CONCERN="majority",
    )
    with django_db_blocker.unblock():
        collection = offline.store.collection("shop_order")
        assert collection.read_preference == Nearest(tag_sets=[{"dc": "east"}], max_staleness=120)
        assert collection.write_concern == WriteConcern(w="majority", j=True, wtimeout=5000)
        assert collection.read_concern.level == "majority"
        # None of them reaches MongoClient as an unknown keyword argument.
        assert "READ_PREFERENCE" not in offline.get_connection_params()["options"]
        offline.close()


def test_shorthands():
    concerns = Concerns.from_options({"READ_PREFERENCE": "primaryPreferred", "WRITE_CONCERN": 2})
    assert concerns.read_preference == PrimaryPreferred()
    assert concerns.write_concern == WriteConcern(w=2)
    assert Concerns.from_options({}).database_options() == {}


def test_transactions_read_from_the_primary_with_the_configured_concerns():
    concerns = Concerns.from_options(
        {"READ_PREFERENCE": "secondary", "WRITE_CONCERN": "majority", "READ_CONCERN": "majority"}
    )
    options = concerns.transaction_options()
    assert "read_preference" not in options  # the client's: primary
    assert options["write_concern"] == WriteConcern(w="majority")
    assert options["read_concern"].level == "majority"
    # A level a transaction refuses is left to the server's default there.
    linearizable = Concerns.from_options({"READ_CONCERN": "linearizable"})
    assert "read_concern" not in linearizable.transaction_options()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"READ_PREFERENCE": "fastest"}, "mode must be one of primary, primaryPreferred"),
        ({"READ_PREFERENCE": {"tag_sets": []}}, "must be a mode"),
        ({"READ_PREFERENCE": {"mode": "primary", "tag_sets": [{"dc": "a"}]}}, "cannot be combined"),
        ({"WRITE_CONCERN": {"w": 1, "fsync": True}}, "takes w, j, wtimeout; got fsync"),
        ({"WRITE_CONCERN": 0}, "w=0 .* cannot work"),
        ({"WRITE_CONCERN": {"w": -1}}, "WRITE_CONCERN"),
        ({"READ_CONCERN": "snapshot"}, "snapshot is a transaction's read concern"),
        ({"READ_CONCERN": "majority", "readConcernLevel": "local"}, "set it one way"),
        ({"WRITE_CONCERN": "majority", "w": 1}, "driver option.* w"),
    ],
)
def test_bad_settings_are_refused_with_the_option_named(options, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        wrapper(**options).get_connection_params()


@pytest.mark.django_db(transaction=True)
def test_the_tiers_server_accepts_them():
    """A save and a read through a connection with all three set (mongomock ignores them)."""
    settings = connections.settings["default"] | {
        "OPTIONS": {
            **connection.settings_dict.get("OPTIONS", {}),
            "READ_PREFERENCE": "primaryPreferred",
            "WRITE_CONCERN": {"w": 1},
            "READ_CONCERN": "local",
        },
        "NAME": connection.settings_dict["NAME"],
    }
    configured = ConnectionHandler({"default": settings})["default"]
    try:
        author = Author.objects.create(name="Ann")
        documents = configured.store.collection(Author._meta.db_table)
        assert documents.find_one({"_id": author.pk})["name"] == "Ann"
        documents.update_one({"_id": author.pk}, {"$set": {"name": "Bo"}})
        author.refresh_from_db()
        assert author.name == "Bo"
    finally:
        configured.close()
