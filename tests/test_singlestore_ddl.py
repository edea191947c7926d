"""Golden DDL of the SingleStore backend, rendered with no server reachable.

Every storage type (environment variable and ModelStorageManager, the four
values), unique columns with and without DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE,
many-to-many tables, and both dialects. The expected statements are written out
in full: they are what `sqlmigrate` prints and what SingleStore receives.
"""

import pytest
from django.db import NotSupportedError, models

from django_nonrel.backends.singlestore import ModelStorageManager
from tests.singlestore.offline import Registry, create_sql, offline_connection

STORAGE_ENV = "DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_SHOP"
UNIQUE_ENV = "DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_SHOP"


@pytest.fixture
def shop(monkeypatch):
    for name in (STORAGE_ENV, UNIQUE_ENV):
        monkeypatch.delenv(name, raising=False)
    return Registry()


def plain_model(shop, **attrs):
    return shop.model(
        "Item",
        {"name": models.CharField(max_length=20), "qty": models.IntegerField(default=0)},
        **attrs,
    )


ITEM_COLUMNS = (
    "`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
    "`name` varchar(20) NOT NULL, `qty` integer NOT NULL"
)

STORAGE_CASES = [
    # (storage value, singlestore DDL prefix, shard key?)
    ("", "CREATE TABLE", True),
    ("COLUMNSTORE", "CREATE TABLE", True),
    ("ROWSTORE", "CREATE ROWSTORE TABLE", True),
    ("REFERENCE", "CREATE REFERENCE TABLE", False),
    ("ROWSTORE REFERENCE", "CREATE ROWSTORE REFERENCE TABLE", False),
]


@pytest.mark.parametrize(("storage", "prefix", "sharded"), STORAGE_CASES)
@pytest.mark.parametrize("source", ["env", "manager"])
def test_storage_type_and_shard_key(shop, monkeypatch, storage, prefix, sharded, source):
    if source == "env":
        monkeypatch.setenv(STORAGE_ENV, storage)
        model = plain_model(shop)
    else:
        model = plain_model(shop, objects=ModelStorageManager(table_storage_type=storage))
    shard = ", SHARD KEY (`id`)" if sharded else ""
    assert create_sql(offline_connection(), model) == [
        f"{prefix} `shop_item` ({ITEM_COLUMNS}{shard})"
    ]
    # The mysql dialect renders neither the storage keyword nor the shard key.
    assert create_sql(offline_connection("mysql"), model) == [
        f"CREATE TABLE `shop_item` ({ITEM_COLUMNS})"
    ]


def test_manager_overrides_the_app_variable(shop, monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE")
    model = plain_model(shop, objects=ModelStorageManager("REFERENCE"))
    assert create_sql(offline_connection(), model)[0].startswith("CREATE REFERENCE TABLE")


def test_connection_default_storage_applies_when_nothing_else_says(shop, monkeypatch):
    model = plain_model(shop)
    connection = offline_connection(table_storage_type="rowstore reference")
    assert create_sql(connection, model)[0].startswith("CREATE ROWSTORE REFERENCE TABLE")
    monkeypatch.setenv(STORAGE_ENV, "")  # explicitly columnstore: the variable wins
    assert create_sql(connection, model)[0].startswith("CREATE TABLE")


def test_bad_storage_value_names_its_source(shop, monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv(STORAGE_ENV, "ROWSTOR")
    with pytest.raises(ImproperlyConfigured, match=STORAGE_ENV):
        create_sql(offline_connection(), plain_model(shop))
    with pytest.raises(ImproperlyConfigured, match="table_storage_type"):
        ModelStorageManager("HEAP")


def unique_model(shop):
    return shop.model(
        "Member",
        {
            "email": models.CharField(max_length=50, unique=True),
            "team": models.IntegerField(),
            "number": models.IntegerField(),
        },
        meta={"unique_together": [("team", "number")]},
    )


MEMBER_COLUMNS = (
    "`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, `email` varchar(50) NOT NULL, "
    "`team` integer NOT NULL, `number` integer NOT NULL"
)


@pytest.mark.parametrize("storage", ["REFERENCE", "ROWSTORE REFERENCE"])
def test_reference_tables_enforce_unique_keys_inline(shop, monkeypatch, storage):
    monkeypatch.setenv(STORAGE_ENV, storage)
    model = unique_model(shop)
    keys = (
        "UNIQUE KEY `shop_member_email_uniq` (`email`), "
        "UNIQUE KEY `shop_member_team_number_9e2fe13b_uniq` (`team`, `number`)"
    )
    if storage == "REFERENCE":
        # Columnstore: a multi-column unique key next to others is refused.
        with pytest.raises(NotSupportedError, match="singlestore.E002"):
            create_sql(offline_connection(), model)
        return
    assert create_sql(offline_connection(), model) == [
        f"CREATE {storage} TABLE `shop_member` ({MEMBER_COLUMNS}, {keys})"
    ]
    assert create_sql(offline_connection("mysql"), model) == [
        f"CREATE TABLE `shop_member` ({MEMBER_COLUMNS}, {keys})"
    ]


@pytest.mark.parametrize(
    ("storage", "prefix"), [("", "CREATE TABLE"), ("ROWSTORE", "CREATE ROWSTORE TABLE")]
)
def test_not_enforced_unique_on_distributed_tables(shop, monkeypatch, storage, prefix):
    monkeypatch.setenv(STORAGE_ENV, storage)
    monkeypatch.setenv(UNIQUE_ENV, "1")
    model = unique_model(shop)
    assert create_sql(offline_connection(), model) == [
        f"{prefix} `shop_member` ({MEMBER_COLUMNS}, "
        "UNIQUE KEY `shop_member_email_uniq` (`email`) UNENFORCED RELY, "
        "UNIQUE KEY `shop_member_team_number_9e2fe13b_uniq` (`team`, `number`) UNENFORCED RELY, "
        "SHARD KEY (`id`))"
    ]
    # MariaDB gets plain indexes: unenforced there too, as on SingleStore.
    assert create_sql(offline_connection("mysql"), model) == [
        f"CREATE TABLE `shop_member` ({MEMBER_COLUMNS}, "
        "KEY `shop_member_email_uniq` (`email`), "
        "KEY `shop_member_team_number_9e2fe13b_uniq` (`team`, `number`))"
    ]


@pytest.mark.parametrize("dialect", ["singlestore", "mysql"])
@pytest.mark.parametrize("storage", ["", "ROWSTORE"])
def test_enforced_unique_on_distributed_tables_is_refused(shop, monkeypatch, dialect, storage):
    monkeypatch.setenv(STORAGE_ENV, storage)
    with pytest.raises(NotSupportedError) as refused:
        create_sql(offline_connection(dialect), unique_model(shop))
    message = str(refused.value)
    assert "shop.Member: field 'email' is unique on a distributed table" in message
    assert "unique_together ('team', 'number')" in message
    assert "DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_SHOP" in message
    assert "ROWSTORE REFERENCE" in message


def test_unique_key_containing_the_shard_key_is_enforced(shop, monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE")
    model = shop.model(
        "Slot",
        {"day": models.IntegerField()},
        meta={"unique_together": [("id", "day")]},
    )
    assert create_sql(offline_connection(), model) == [
        "CREATE ROWSTORE TABLE `shop_slot` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
        "`day` integer NOT NULL, UNIQUE KEY `shop_slot_id_day_d0b340c5_uniq` (`id`, `day`), "
        "SHARD KEY (`id`))"
    ]


def m2m_models(shop):
    tag = shop.model("Tag", {"name": models.CharField(max_length=10)})
    post = shop.model("Post", {"tags": models.ManyToManyField(tag)})
    return tag, post, post._meta.get_field("tags").remote_field.through


M2M_LAYOUT = (
    "`id` bigint AUTO_INCREMENT NOT NULL, `post_id` bigint NOT NULL, "
    "`tag_id` bigint NOT NULL, PRIMARY KEY (`post_id`, `tag_id`), KEY (`id`)"
)


@pytest.mark.parametrize(
    ("storage", "prefix", "shard"),
    [
        ("", "CREATE TABLE", ", SHARD KEY (`post_id`)"),
        ("ROWSTORE", "CREATE ROWSTORE TABLE", ", SHARD KEY (`post_id`)"),
        ("REFERENCE", "CREATE REFERENCE TABLE", ""),
    ],
)
def test_m2m_tables_get_a_layout_singlestore_accepts(shop, monkeypatch, storage, prefix, shard):
    monkeypatch.setenv(STORAGE_ENV, storage)
    _, _, through = m2m_models(shop)
    statements = create_sql(offline_connection(), through)
    assert statements[0] == f"{prefix} `shop_post_tags` ({M2M_LAYOUT}{shard})"
    # The foreign keys get indexes; no FOREIGN KEY constraint anywhere.
    assert all("FOREIGN KEY" not in sql and "REFERENCES" not in sql for sql in statements)
    assert create_sql(offline_connection("mysql"), through)[0] == (
        f"CREATE TABLE `shop_post_tags` ({M2M_LAYOUT})"
    )


def test_m2m_on_rowstore_reference_keeps_djangos_layout(shop, monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE REFERENCE")
    _, _, through = m2m_models(shop)
    assert create_sql(offline_connection(), through)[0] == (
        "CREATE ROWSTORE REFERENCE TABLE `shop_post_tags` (`id` bigint AUTO_INCREMENT NOT NULL "
        "PRIMARY KEY, `post_id` bigint NOT NULL, `tag_id` bigint NOT NULL, UNIQUE KEY "
        "`shop_post_tags_post_id_tag_id_521e56a0_uniq` (`post_id`, `tag_id`))"
    )


def test_foreign_keys_get_an_index_and_no_constraint(shop, monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE")
    tag = shop.model("Tag", {"name": models.CharField(max_length=10)})
    note = shop.model("Note", {"tag": models.ForeignKey(tag, models.CASCADE)})
    statements = create_sql(offline_connection(), note)
    assert statements[0] == (
        "CREATE ROWSTORE TABLE `shop_note` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
        "`tag_id` bigint NOT NULL, SHARD KEY (`id`))"
    )
    assert len(statements) == 2 and statements[1].startswith("CREATE INDEX `shop_note_tag_id_")
    assert "FOREIGN KEY" not in " ".join(statements)


def test_defaults_render_without_a_server(shop, monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE")
    item = plain_model(shop)
    field = models.CharField(max_length=10, default="it's")
    field.set_attributes_from_name("label")
    with offline_connection().schema_editor(collect_sql=True, atomic=False) as editor:
        editor.add_field(item, field)
    assert editor.collected_sql[0] == (
        "ALTER TABLE `shop_item` ADD COLUMN `label` varchar(10) DEFAULT 'it\\'s' NOT NULL;"
    )


def test_long_unique_key_names_are_shortened_like_djangos(shop, monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE REFERENCE")
    model = shop.model(
        "AVeryLongModelNameForKeys",
        {"a_rather_long_field_name_that_is_unique": models.IntegerField(unique=True)},
    )
    (sql,) = create_sql(offline_connection(), model)
    name = sql.split("UNIQUE KEY `", 1)[1].split("`", 1)[0]
    assert len(name) <= 64 and name.endswith("_uniq")


def test_a_migration_renders_without_a_server(monkeypatch):
    """What ``sqlmigrate contenttypes 0001`` prints, with nothing listening.

    Django's command also reads the django_migrations table (needing a server);
    the DDL itself comes from the loader's collect_sql, run here offline.
    """
    from django.db.migrations.loader import MigrationLoader

    # contenttypes is ROWSTORE REFERENCE by default (its contrib storage).
    monkeypatch.delenv("DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_CONTENTTYPES", raising=False)
    offline = offline_connection()
    loader = MigrationLoader(None, replace_migrations=False)  # no applied-migrations query
    loader.connection = offline
    node = loader.graph.nodes[("contenttypes", "0001_initial")]
    statements = [sql for sql in loader.collect_sql([(node, False)]) if not sql.startswith("--")]
    assert statements == [
        "CREATE ROWSTORE REFERENCE TABLE `django_content_type` (`id` integer AUTO_INCREMENT "
        "NOT NULL PRIMARY KEY, `name` varchar(100) NOT NULL, `app_label` varchar(100) NOT NULL, "
        "`model` varchar(100) NOT NULL);",
        # AlterUniqueTogether: allowed on rowstore (refused on columnstore, see the rules).
        "ALTER TABLE `django_content_type` ADD UNIQUE KEY "
        "`django_content_type_app_label_model_76bd3d3b_uniq` (`app_label`, `model`);",
    ]


def test_sqlmigrate_prints_ddl_with_no_server_reachable(monkeypatch):
    """``manage.py sqlmigrate`` for the singlestore dialect needs no server at all."""
    from io import StringIO

    from django.core.management import call_command
    from django.db import connections

    monkeypatch.delenv("DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_CONTENTTYPES", raising=False)
    connections["offline"] = offline_connection()
    try:
        out = StringIO()
        call_command("sqlmigrate", "contenttypes", "0001", database="offline", stdout=out)
    finally:
        del connections["offline"]
    assert "CREATE ROWSTORE REFERENCE TABLE `django_content_type`" in out.getvalue()
    assert "ADD UNIQUE KEY `django_content_type_app_label_model_76bd3d3b_uniq`" in out.getvalue()
