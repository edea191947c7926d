"""ShardKey in migrations: autodetected and written like an index, rendered without a
server, applied as shardCollection on a (simulated) mongos and as the index alone
elsewhere, and not reversed where MongoDB cannot unshard."""

import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import NotSupportedError, connection, connections, models
from django.db.migrations import AddIndex, CreateModel, Migration, RemoveIndex
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.questioner import MigrationQuestioner
from django.db.migrations.state import ModelState, ProjectState
from django.db.migrations.writer import MigrationWriter

from django_nonrel.backends.mongodb.index_set import IndexSpec
from django_nonrel.sharding import ShardKey
from tests.sharding.mongos import ALIAS
from tests.sharding.shop import shop_models, tables
from tests.singlestore.offline import create_sql, offline_connection

pytestmark = pytest.mark.usefixtures("on_mongodb")

#: What the backend asks a server about itself (not DDL).
ADMIN_QUERIES = ("find", "hello", "buildInfo")
#: The schema record introspection reads (schema_record.py): bookkeeping, not DDL.
SCHEMA_RECORD = "shop.django_nonrel_schema"
KEY = ShardKey(fields=["tenant", "number"], name="shop_order_key_shk")


def order_state(*indexes) -> ProjectState:
    state = ProjectState()
    fields = [
        ("id", models.AutoField(primary_key=True)),
        ("tenant", models.IntegerField()),
        ("number", models.IntegerField()),
    ]
    state.add_model(ModelState("shop", "Order", fields, {"indexes": list(indexes)}))
    return state


def create_order() -> CreateModel:
    return CreateModel(
        "Order",
        [
            ("id", models.AutoField(primary_key=True)),
            ("tenant", models.IntegerField()),
            ("number", models.IntegerField()),
        ],
    )


def apply(editor, state: ProjectState, operation, backwards: bool = False) -> ProjectState:
    """Run one operation forwards (or backwards from the state it leads to)."""
    after = state.clone()
    operation.state_forwards("shop", after)
    if backwards:
        operation.database_backwards("shop", editor, after, state)
    else:
        operation.database_forwards("shop", editor, state, after)
    return after


# -- the API ----------------------------------------------------------------------
def test_shard_key_declarations():
    assert ShardKey(fields=["tenant"], hashed=True).key == [("tenant", "hashed")]
    assert ShardKey(fields=["region", "tenant"], hashed="tenant").key == [
        ("region", 1),
        ("tenant", "hashed"),
    ]
    for bad, message in [
        ({"fields": []}, "needs fields"),
        ({"fields": ["-tenant"]}, "ascending"),
        ({"fields": ["address__city"]}, "no '__' paths"),
        ({"fields": ["a", "b"], "hashed": True}, "name the hashed field"),
        ({"fields": ["a"], "hashed": "b"}, "not one of the shard key fields"),
        ({"fields": ["a", "a"]}, "repeat"),
    ]:
        with pytest.raises(ValueError, match=message):
            ShardKey(**bad)


def test_autodetector_records_a_shard_key_as_a_reversible_index():
    key = ShardKey(fields=["tenant"], hashed=True, name="shop_order_tenant_shk")
    questioner = MigrationQuestioner(specified_apps={"shop"})
    detector = MigrationAutodetector(order_state(), order_state(key), questioner)
    changes = detector.changes(graph=MigrationGraph())
    (migration,) = changes["shop"]
    (operation,) = migration.operations
    assert isinstance(operation, AddIndex) and operation.index == key
    assert operation.reversible
    text = MigrationWriter(migration).as_string()
    assert "import django_nonrel.sharding" in text
    assert (
        "django_nonrel.sharding.ShardKey(fields=['tenant'], hashed=True, "
        "name='shop_order_tenant_shk')" in text
    )
    # Changing the key is a new index: the old one removed, the new one added.
    changed = ShardKey(fields=["tenant", "number"], name="shop_order_tenant_shk")
    detector = MigrationAutodetector(order_state(key), order_state(changed), questioner)
    (migration,) = detector.changes(graph=MigrationGraph())["shop"]
    assert [type(op) for op in migration.operations] == [RemoveIndex, AddIndex]


def test_the_name_comes_from_the_model_like_an_index_name():
    order = shop_models().Order
    (key,) = order._meta.indexes
    assert key.name.endswith("_shk") and len(key.name) <= 30


# -- rendered without a server -------------------------------------------------------
@pytest.fixture
def unreachable(django_db_blocker):
    """A MongoDB connection to a port nothing listens on (a query would fail at once)."""
    settings_dict = connections.settings["default"] | {
        "ENGINE": "django_nonrel.backends.mongodb",
        "HOST": "mongodb://127.0.0.1:9",
        "NAME": "shop",
        "OPTIONS": {"serverSelectionTimeoutMS": 200},
        "TEST": {},
    }
    from django_nonrel.backends.mongodb.base import DatabaseWrapper

    connections["offline"] = DatabaseWrapper(settings_dict, "offline")
    try:
        yield connections["offline"]
    finally:
        del connections["offline"]


def test_a_sharding_migration_renders_without_a_server(unreachable):
    migration = Migration("0001_initial", "shop")
    migration.operations = [create_order(), AddIndex("order", KEY)]
    with unreachable.schema_editor(collect_sql=True, atomic=False) as editor:
        migration.apply(ProjectState(), editor, collect_sql=True)
    text = "\n".join(editor.collected_sql)
    assert "db.shop_order.createIndex({'tenant': 1, 'number': 1}, " in text
    assert "on a mongos only" in text
    assert "db.adminCommand({'enableSharding': 'shop'});" in text
    assert (
        "db.adminCommand({'shardCollection': 'shop.shop_order', "
        "'key': {'tenant': 1, 'number': 1}});" in text
    )
    backwards = Migration("0002_unshard", "shop")
    backwards.operations = [RemoveIndex("order", KEY.name)]
    state = order_state(KEY)
    with unreachable.schema_editor(collect_sql=True, atomic=False) as editor:
        backwards.apply(state, editor, collect_sql=True)
    assert any("refused on a mongos" in line for line in editor.collected_sql)


def test_sqlmigrate_needs_no_mongodb_server(unreachable):
    out = StringIO()
    call_command("sqlmigrate", "relations", "0001", database="offline", stdout=out)
    assert "db.createCollection(" in out.getvalue()


# -- applied on a mongos ---------------------------------------------------------------
def test_add_index_shards_an_existing_collection_on_a_mongos(mongos):
    database = connections[ALIAS]
    with database.schema_editor() as editor:
        state = apply(editor, ProjectState(), create_order())
    mongos.backing["shop"]["shop_order"].insert_many(
        [{"_id": n, "tenant": n % 3, "number": n} for n in range(1, 10)]
    )
    mongos.sent.clear()
    with database.schema_editor() as editor:
        apply(editor, state, AddIndex("order", KEY))
    steps = [
        (s.name, s.options)
        for s in mongos.sent
        if s.name not in ADMIN_QUERIES and s.namespace != SCHEMA_RECORD
    ]
    assert steps == [
        ("createIndexes", {"key": [("tenant", 1), ("number", 1)], "name": KEY.name}),
        ("enableSharding", {"enableSharding": "shop"}),
        (
            "shardCollection",
            {"shardCollection": "shop.shop_order", "key": {"tenant": 1, "number": 1}},
        ),
    ]
    assert mongos.shard_keys == {"shop.shop_order": {"tenant": 1, "number": 1}}


def test_create_model_with_a_hashed_key_shards_the_new_collection(mongos):
    key = ShardKey(fields=["tenant"], hashed=True, name="shop_order_tenant_shk")
    operation = CreateModel(
        "Order",
        [("id", models.AutoField(primary_key=True)), ("tenant", models.IntegerField())],
        options={"indexes": [key]},
    )
    with connections[ALIAS].schema_editor() as editor:
        apply(editor, ProjectState(), operation)
    assert mongos.shard_keys == {"shop.shop_order": {"tenant": "hashed"}}
    assert mongos.commands("shardCollection") == [
        {"shardCollection": "shop.shop_order", "key": {"tenant": "hashed"}}
    ]


def test_removing_a_shard_key_is_refused_on_a_sharded_collection(mongos):
    database = connections[ALIAS]
    with database.schema_editor() as editor:
        state = apply(editor, ProjectState(), create_order())
        state = apply(editor, state, AddIndex("order", KEY))
    with (
        database.schema_editor() as editor,
        pytest.raises(NotSupportedError, match="does not unshard") as refused,
    ):
        apply(editor, order_state(), AddIndex("order", KEY), backwards=True)
    for fix in ("reshardCollection", "unshardCollection", "--fake"):
        assert fix in str(refused.value)
    assert KEY.name in mongos.backing["shop"]["shop_order"].index_information()


def test_a_unique_index_the_key_does_not_start_is_refused_by_the_mongos_as_by_the_check(mongos):
    """The simulated mongos enforces the rule the system check reports (mongodb.E001)."""
    database = connections[ALIAS]
    with database.schema_editor() as editor:
        state = apply(editor, ProjectState(), create_order())
        state = apply(editor, state, AddIndex("order", KEY))
        with pytest.raises(Exception, match="cannot create unique index"):
            editor._ensure("shop_order", IndexSpec("bad", (("number", 1),), unique=True))
        keys = (("tenant", 1), ("number", 1), ("id", 1))
        editor._ensure("shop_order", IndexSpec("good", keys, unique=True))


# -- applied on the tier's own server (not a mongos) ---------------------------------------
@pytest.mark.django_db(transaction=True)
def test_elsewhere_only_the_index_is_created_and_a_warning_says_so(caplog):
    if connection.features.is_sharded_cluster:
        pytest.skip("this tier is a mongos: test_sharding_live.py shards for real there")
    with connection.schema_editor() as editor:
        state = apply(editor, ProjectState(), create_order())
        try:
            with caplog.at_level(logging.WARNING, logger="django_nonrel.sharding"):
                state = apply(editor, state, AddIndex("order", KEY))
            indexes = connection.database["shop_order"].index_information()
            assert [tuple(k) for k in indexes[KEY.name]["key"]] == [("tenant", 1), ("number", 1)]
            (record,) = caplog.records
            assert "not a sharded cluster (no mongos)" in record.getMessage()
            assert "got the index of its ShardKey" in record.getMessage()
            apply(editor, order_state(), AddIndex("order", KEY), backwards=True)
            assert KEY.name not in connection.database["shop_order"].index_information()
        finally:
            editor.delete_model(state.apps.get_model("shop", "Order"))


def test_a_shard_key_on_an_indexed_foreign_key_shares_its_index(mongos):
    """MongoDB refuses two indexes on one key; the foreign key's supports the shard key."""
    shop = shop_models()
    with tables(connections[ALIAS], shop.Tenant, shop.Order, shop.Line):
        indexes = mongos.backing["shop"]["shop_line"].index_information()
        keys = [tuple(map(tuple, info["key"])) for info in indexes.values()]
        # A hashed key is another key than the foreign key's ascending one: both exist.
        assert set(keys) == {
            (("_id", 1),),
            (("order_id", "hashed"),),
            (("order_id", 1),),
            (("tenant_id", 1),),
        }
    ranged = ShardKey(fields=["tenant"], name="shop_order_tenant_shk")
    operation = CreateModel(
        "Order",
        [
            ("id", models.AutoField(primary_key=True)),
            ("tenant", models.IntegerField(db_index=True)),
        ],
        options={"indexes": [ranged]},
    )
    with connections[ALIAS].schema_editor() as editor:
        apply(editor, ProjectState(), operation)
    indexes = mongos.backing["shop"]["shop_order"].index_information()
    assert [list(map(tuple, i["key"])) for i in indexes.values()].count([("tenant", 1)]) == 1
    assert ranged.name not in indexes
    assert mongos.shard_keys["shop.shop_order"] == {"tenant": 1}


@pytest.mark.django_db(transaction=True)
def test_changing_a_fields_own_index_keeps_the_meta_indexes_on_it():
    """AlterField that toggles db_index/unique used to drop every one-field index on the
    column, a ShardKey's or an Index of Meta.indexes included, and not rebuild it."""
    # (Descending: MongoDB refuses a second index on the very same key.)
    before = order_state(KEY, models.Index(fields=["-number"], name="shop_order_number_idx"))
    with connection.schema_editor() as editor:
        state = apply(editor, ProjectState(), create_order())
        for index in before.models["shop", "order"].options["indexes"]:
            state = apply(editor, state, AddIndex("order", index))
        try:
            from django.db.migrations import AlterField

            state = apply(
                editor, state, AlterField("order", "number", models.IntegerField(unique=True))
            )
            indexes = connection.database["shop_order"].index_information()
            assert {KEY.name, "shop_order_number_idx"} <= set(indexes)
            assert any(info.get("unique") for info in indexes.values())
        finally:
            editor.delete_model(state.apps.get_model("shop", "Order"))


def test_on_sql_backends_a_shard_key_is_a_plain_index(django_db_blocker):
    order = shop_models().Order
    (key,) = order._meta.indexes
    with (
        django_db_blocker.unblock(),
        connections["sqlite"].schema_editor(collect_sql=True) as editor,
    ):
        editor.create_model(order)
    assert f'CREATE INDEX "{key.name}" ON "shop_order" ("tenant_id", "number")' in "\n".join(
        editor.collected_sql
    )
    ddl = "\n".join(create_sql(offline_connection("singlestore"), order))
    assert f"CREATE INDEX `{key.name}` ON `shop_order` (`tenant_id`, `number`)" in ddl
    assert "SHARD KEY (`id`)" in ddl  # SingleStore's shard key stays the primary key
