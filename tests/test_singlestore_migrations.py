"""Migration operations in the singlestore dialect, rendered with no server reachable.

Each operation runs as ``sqlmigrate`` runs it (state_forwards, then
database_forwards into ``schema_editor(collect_sql=True)``). Every statement it
renders must be SingleStore DDL (tests/singlestore/grammar.py), and every
operation SingleStore would refuse must be refused before its first statement,
with an error naming the model, the rule and the fix. The last test walks every
operation class Django has, so a new one cannot go unjudged.
"""

import pytest
from django.db import NotSupportedError, migrations, models
from django.db.migrations.state import ProjectState

from django_nonrel.backends.singlestore import ModelStorageManager
from tests.singlestore.grammar import grammar_errors
from tests.singlestore.offline import Registry, offline_connection

STORAGE_ENV = "DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_SHOP"
UNIQUE_ENV = "DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_SHOP"
ROWSTORE, REFERENCE, ROWSTORE_REFERENCE, COLUMNSTORE = (
    "ROWSTORE",
    "REFERENCE",
    "ROWSTORE REFERENCE",
    "",
)


@pytest.fixture
def shop(monkeypatch):
    monkeypatch.delenv(UNIQUE_ENV, raising=False)
    monkeypatch.setenv(STORAGE_ENV, ROWSTORE_REFERENCE)
    registry = Registry()
    tag = registry.model("Tag", {"name": models.CharField(max_length=20)})
    registry.model(
        "Item",
        {
            "name": models.CharField(max_length=20),
            "qty": models.IntegerField(default=0),
            "kind": models.CharField(max_length=10, db_index=True),
            "note": models.CharField(max_length=20, null=True),
            "tag": models.ForeignKey(tag, models.CASCADE, null=True),
        },
    )
    return registry


def render(shop, *operations) -> list[str]:
    """What ``sqlmigrate`` prints for ``operations`` on the shop app (no server)."""
    state = ProjectState.from_apps(shop.apps)
    with offline_connection().schema_editor(collect_sql=True, atomic=False) as editor:
        for operation in operations:
            new_state = state.clone()
            operation.state_forwards("shop", new_state)
            operation.database_forwards("shop", editor, state, new_state)
            state = new_state
    statements = [sql.removesuffix(";") for sql in editor.collected_sql]
    for sql in statements:
        assert grammar_errors(sql) == [], sql
    return statements


def refused(shop, *operations) -> str:
    """The refusal of ``operations``: raised before any statement was rendered."""
    state = ProjectState.from_apps(shop.apps)
    editor = offline_connection().schema_editor(collect_sql=True, atomic=False)
    with pytest.raises(NotSupportedError) as error, editor:
        for operation in operations:
            new_state = state.clone()
            operation.state_forwards("shop", new_state)
            operation.database_forwards("shop", editor, state, new_state)
            state = new_state
    assert editor.collected_sql == []
    return str(error.value)


def use(monkeypatch, storage):
    monkeypatch.setenv(STORAGE_ENV, storage)


# -- unique keys added by AddField / AlterField ------------------------------------


def test_add_unique_field_on_distributed_rowstore_is_refused_naming_the_fix(shop, monkeypatch):
    use(monkeypatch, ROWSTORE)
    message = refused(
        shop, migrations.AddField("item", "code", models.IntegerField(unique=True, null=True))
    )
    assert message.startswith("shop.Item: field 'code' is unique on a distributed table (ROWSTORE")
    assert "contain the shard key (id)" in message
    assert (
        'DATABASES["default"]["OPTIONS"]["table_storage_types"] = {"shop": "ROWSTORE REFERENCE"}'
        in message
    )
    assert "DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_SHOP=1" in message
    assert "(singlestore.E001)" in message


def test_alter_field_to_unique_on_distributed_rowstore_is_refused(shop, monkeypatch):
    use(monkeypatch, ROWSTORE)
    message = refused(
        shop, migrations.AlterField("item", "name", models.CharField(max_length=20, unique=True))
    )
    assert "shop.Item: field 'name' is unique on a distributed table" in message
    assert "(singlestore.E001)" in message


def test_unique_field_added_to_a_reference_rowstore_table(shop):
    assert render(
        shop, migrations.AddField("item", "code", models.IntegerField(unique=True, null=True))
    ) == [
        "ALTER TABLE `shop_item` ADD COLUMN `code` integer NULL",
        "ALTER TABLE `shop_item` ADD UNIQUE KEY `shop_item_code_7fe3372d_uniq` (`code`)",
    ]
    assert render(
        shop, migrations.AlterField("item", "name", models.CharField(max_length=20, unique=True))
    ) == ["ALTER TABLE `shop_item` ADD UNIQUE KEY `shop_item_name_c85f6249_uniq` (`name`)"]


def test_unenforced_unique_field_added_to_a_distributed_table(shop, monkeypatch):
    use(monkeypatch, ROWSTORE)
    monkeypatch.setenv(UNIQUE_ENV, "1")
    operation = migrations.AddField("item", "code", models.IntegerField(unique=True, null=True))
    assert render(shop, operation)[1] == (
        "ALTER TABLE `shop_item` ADD UNIQUE KEY `shop_item_code_7fe3372d_uniq` (`code`) "
        "UNENFORCED RELY"
    )
    # MariaDB/MySQL: an index, unenforced there too (the rest of this operation's
    # mysql-dialect DDL reads the server's version, so only the key is rendered here).
    item = shop.apps.get_model("shop", "Item")
    editor = offline_connection("mysql").schema_editor(collect_sql=True, atomic=False)
    key = editor._create_unique_sql(item, [item._meta.get_field("name")])
    assert str(key) == "ALTER TABLE `shop_item` ADD KEY `shop_item_name_c85f6249_uniq` (`name`)"


def test_unique_keys_cannot_be_added_to_columnstore_tables(shop, monkeypatch):
    use(monkeypatch, REFERENCE)
    message = refused(
        shop, migrations.AddField("item", "code", models.IntegerField(unique=True, null=True))
    )
    assert "SingleStore cannot add the unique column 'code' on a columnstore table" in message
    assert "(singlestore.E006)" in message


# -- the primary key ----------------------------------------------------------------


@pytest.mark.parametrize("storage", [ROWSTORE, ROWSTORE_REFERENCE, COLUMNSTORE])
def test_changing_the_primary_key_is_refused_on_every_storage(shop, monkeypatch, storage):
    use(monkeypatch, storage)
    message = refused(
        shop,
        migrations.AlterField(
            "item", "name", models.CharField(max_length=20, primary_key=True, serialize=False)
        ),
    )
    assert "shop.Item: SingleStore cannot make 'name' the primary key" in message
    assert "PRIMARY KEY is fixed when the table is created" in message
    assert "Create a new model with the wanted primary key" in message
    assert "(singlestore.E007)" in message


@pytest.mark.parametrize("storage", [ROWSTORE, ROWSTORE_REFERENCE])
def test_dropping_or_adding_the_primary_key_is_refused(shop, monkeypatch, storage):
    use(monkeypatch, storage)
    message = refused(shop, migrations.RemoveField("item", "id"))
    assert "shop.Item: SingleStore cannot drop the primary key 'id'" in message
    message = refused(
        shop,
        migrations.AddField(
            "tag", "code", models.IntegerField(primary_key=True, default=1), preserve_default=False
        ),
    )
    assert "SingleStore cannot add the primary key 'code'" in message


# -- table comments, duplicate indexes, AUTO_INCREMENT ----------------------------------


@pytest.mark.parametrize("storage", [ROWSTORE, ROWSTORE_REFERENCE, COLUMNSTORE])
def test_a_table_comment_cannot_change(shop, monkeypatch, storage):
    use(monkeypatch, storage)
    message = refused(shop, migrations.AlterModelTableComment("item", "stock items"))
    assert message.startswith("shop.Item: SingleStore cannot change a table's comment")
    assert "(singlestore.E008)" in message


def test_a_new_table_takes_its_comment_inline(shop):
    statements = render(
        shop,
        migrations.CreateModel(
            "Shelf",
            [("id", models.BigAutoField(primary_key=True))],
            options={"db_table_comment": "where items sit"},
        ),
    )
    assert statements == [
        "CREATE ROWSTORE REFERENCE TABLE `shop_shelf` (`id` bigint AUTO_INCREMENT NOT NULL "
        "PRIMARY KEY) COMMENT 'where items sit'"
    ]


def test_add_index_duplicating_a_db_index_column_on_columnstore_is_refused(shop, monkeypatch):
    use(monkeypatch, REFERENCE)
    message = refused(
        shop, migrations.AddIndex("item", models.Index(fields=["kind"], name="item_kind"))
    )
    assert "shop.Item: index 'item_kind' and db_index on 'kind' index the same columns" in message
    assert "(singlestore.E004)" in message
    # Rowstore takes both.
    use(monkeypatch, ROWSTORE_REFERENCE)
    assert render(
        shop, migrations.AddIndex("item", models.Index(fields=["kind"], name="item_kind"))
    ) == ["CREATE INDEX `item_kind` ON `shop_item` (`kind`)"]


def test_alter_field_adding_db_index_next_to_an_index_on_columnstore_is_refused(shop, monkeypatch):
    use(monkeypatch, REFERENCE)
    operations = [
        migrations.AddIndex("item", models.Index(fields=["name"], name="item_name")),
        migrations.AlterField("item", "name", models.CharField(max_length=20, db_index=True)),
    ]
    with pytest.raises(NotSupportedError, match="db_index on 'name' and index 'item_name'"):
        render(shop, *operations)


def test_explicit_auto_field_on_a_distributed_table_is_reported(monkeypatch):
    """INTEGER AUTO_INCREMENT: SingleStore wants BIGINT on a distributed table."""
    monkeypatch.setenv(STORAGE_ENV, ROWSTORE)
    shop = Registry("django.db.models.AutoField")
    model = shop.model("Order", {})
    (error,) = offline_connection().validation.check_models([model])
    assert error.id == "singlestore.E005"
    assert "shop.Order.id is an AutoField (AUTO_INCREMENT narrower than BIGINT)" in error.msg
    assert "DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'" in error.hint
    with pytest.raises(NotSupportedError, match="singlestore.E005"):
        render(shop, migrations.CreateModel("Order", [("id", models.AutoField(primary_key=True))]))
    # A reference table takes an INTEGER AUTO_INCREMENT.
    monkeypatch.setenv(STORAGE_ENV, ROWSTORE_REFERENCE)
    assert offline_connection().validation.check_models([model]) == []


# -- what SingleStore's ALTER grammar renders differently from MySQL's ------------------


def test_renames_use_singlestore_grammar(shop):
    assert render(shop, migrations.RenameField("item", "note", "remark")) == [
        "ALTER TABLE `shop_item` CHANGE `note` `remark`"
    ]
    assert render(shop, migrations.RenameModel("Tag", "Label")) == [
        "ALTER TABLE `shop_tag` RENAME TO `shop_label`"
    ]
    assert render(shop, migrations.AlterModelTable("tag", "labels")) == [
        "ALTER TABLE `shop_tag` RENAME TO `labels`"
    ]
    assert render(shop, migrations.DeleteModel("Item")) == ["DROP TABLE `shop_item`"]


def test_defaults_change_by_modify_column(shop):
    assert render(shop, migrations.AddField("item", "size", models.IntegerField(default=3))) == [
        "ALTER TABLE `shop_item` ADD COLUMN `size` integer DEFAULT 3 NOT NULL",
        "ALTER TABLE `shop_item` MODIFY COLUMN `size` integer NOT NULL",
    ]
    # NULL -> NOT NULL with a default on rowstore: Django's four steps, MODIFY for the defaults.
    assert render(
        shop, migrations.AlterField("item", "note", models.CharField(max_length=20, default="-"))
    ) == [
        "ALTER TABLE `shop_item` MODIFY COLUMN `note` varchar(20) DEFAULT '-' NULL",
        "UPDATE `shop_item` SET `note` = '-' WHERE `note` IS NULL",
        "ALTER TABLE `shop_item` MODIFY `note` varchar(20) NOT NULL",
        "ALTER TABLE `shop_item` MODIFY COLUMN `note` varchar(20) NOT NULL",
    ]
    assert render(
        shop, migrations.AlterField("item", "qty", models.IntegerField(db_default=5))
    ) == ["ALTER TABLE `shop_item` MODIFY COLUMN `qty` integer DEFAULT 5 NOT NULL"]


def test_a_stored_generated_field_is_a_persisted_computed_column(shop):
    field = models.GeneratedField(
        expression=models.F("qty") * 2, output_field=models.IntegerField(), db_persist=True
    )
    assert render(shop, migrations.AddField("item", "double", field)) == [
        "ALTER TABLE `shop_item` ADD COLUMN `double` AS ((`qty` * 2)) PERSISTED integer"
    ]


def test_foreign_keys_need_no_server_to_remove(shop):
    assert render(shop, migrations.RemoveField("item", "tag")) == [
        "ALTER TABLE `shop_item` DROP COLUMN `tag_id`"
    ]


# -- every operation class -------------------------------------------------------------

#: One case per operation class of django.db.migrations.operations: the operations
#: (on the shop app, ROWSTORE REFERENCE) and what happens: "ddl" (SingleStore DDL),
#: "none" (no statement), or the id of the refusal.
EVERY_OPERATION = {
    "CreateModel": (
        [migrations.CreateModel("Box", [("id", models.BigAutoField(primary_key=True))])],
        "ddl",
    ),
    "DeleteModel": ([migrations.DeleteModel("Item")], "ddl"),
    "AlterModelTable": ([migrations.AlterModelTable("tag", "labels")], "ddl"),
    "AlterModelTableComment": (
        [migrations.AlterModelTableComment("tag", "labels")],
        "singlestore.E008",
    ),
    "AlterUniqueTogether": ([migrations.AlterUniqueTogether("item", {("name", "kind")})], "ddl"),
    "RenameModel": ([migrations.RenameModel("Tag", "Label")], "ddl"),
    "AlterIndexTogether": ([migrations.AlterIndexTogether("item", {("name", "qty")})], "ddl"),
    "AlterModelOptions": ([migrations.AlterModelOptions("item", {"ordering": ["name"]})], "none"),
    "AddIndex": ([migrations.AddIndex("item", models.Index(fields=["qty"], name="q"))], "ddl"),
    "RemoveIndex": (
        [
            migrations.AddIndex("item", models.Index(fields=["qty"], name="q")),
            migrations.RemoveIndex("item", "q"),
        ],
        "ddl",
    ),
    "RenameIndex": (
        [
            migrations.AddIndex("item", models.Index(fields=["qty"], name="q")),
            migrations.RenameIndex("item", new_name="q2", old_name="q"),
        ],
        "ddl",
    ),
    "AddField": ([migrations.AddField("item", "size", models.IntegerField(default=1))], "ddl"),
    "RemoveField": ([migrations.RemoveField("item", "note")], "ddl"),
    "AlterField": (
        [migrations.AlterField("item", "name", models.CharField(max_length=40))],
        "ddl",
    ),
    "RenameField": ([migrations.RenameField("item", "note", "remark")], "ddl"),
    "AddConstraint": (
        [
            migrations.AddConstraint(
                "item", models.UniqueConstraint(fields=["name", "kind"], name="nk")
            )
        ],
        "ddl",
    ),
    "RemoveConstraint": (
        [
            migrations.AddConstraint(
                "item", models.UniqueConstraint(fields=["name", "kind"], name="nk")
            ),
            migrations.RemoveConstraint("item", "nk"),
        ],
        "ddl",
    ),
    "AlterConstraint": (
        [
            migrations.AddConstraint(
                "item", models.UniqueConstraint(fields=["name", "kind"], name="nk")
            ),
            migrations.AlterConstraint(
                "item",
                "nk",
                models.UniqueConstraint(
                    fields=["name", "kind"], name="nk", violation_error_message="taken"
                ),
            ),
        ],
        "ddl",
    ),
    "SeparateDatabaseAndState": (
        [migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel("Item")])],
        "none",
    ),
    "RunSQL": ([migrations.RunSQL("UPDATE `shop_item` SET `qty` = 0")], "ddl"),
    "RunPython": ([migrations.RunPython(migrations.RunPython.noop)], "none"),
    "AlterOrderWithRespectTo": (
        [migrations.AlterOrderWithRespectTo("item", "tag")],
        "ddl",
    ),
    "AlterModelManagers": ([migrations.AlterModelManagers("item", [])], "none"),
}


def test_every_operation_class_is_judged():
    assert set(EVERY_OPERATION) == set(migrations.operations.__all__)


@pytest.mark.parametrize("name", sorted(EVERY_OPERATION))
def test_every_operation_renders_singlestore_ddl_or_is_refused(shop, name):
    operations, outcome = EVERY_OPERATION[name]
    if outcome.startswith("singlestore."):
        assert f"({outcome})" in refused(shop, *operations)
        return
    statements = render(shop, *operations)
    assert bool(statements) == (outcome == "ddl")


def test_a_widened_key_widens_the_columns_that_refer_to_it(shop):
    """No FOREIGN KEY is dropped and remade here, so Django would leave them narrow."""
    operation = migrations.AlterField(
        "tag", "id", models.BigAutoField(primary_key=True, serialize=False)
    )
    shop_int = Registry("django.db.models.AutoField")
    tag = shop_int.model("Tag", {})
    shop_int.model("Item", {"tag": models.ForeignKey(tag, models.CASCADE)})
    assert render(shop_int, operation) == [
        "ALTER TABLE `shop_tag` MODIFY COLUMN `id` bigint AUTO_INCREMENT NOT NULL",
        "ALTER TABLE `shop_item` MODIFY COLUMN `tag_id` bigint NOT NULL",
    ]


def test_a_referring_columnstore_table_refuses_the_key_change(monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, ROWSTORE_REFERENCE)
    shop = Registry("django.db.models.AutoField")
    tag = shop.model("Tag", {})
    shop.model(
        "Item",
        {"tag": models.ForeignKey(tag, models.CASCADE)},
        objects=ModelStorageManager("REFERENCE"),
    )
    operation = migrations.AlterField(
        "tag", "id", models.BigAutoField(primary_key=True, serialize=False)
    )
    message = refused(shop, operation)
    assert message.startswith(
        "shop.Item: SingleStore cannot change the type of column 'tag_id', which refers to "
        "shop.Tag.id on a columnstore table"
    )


def test_a_virtual_generated_field_is_refused(shop):
    field = models.GeneratedField(
        expression=models.F("qty") * 2, output_field=models.IntegerField(), db_persist=False
    )
    message = refused(shop, migrations.AddField("item", "double", field))
    assert "SingleStore has persisted computed columns only" in message
    assert "db_persist=True" in message
    assert offline_connection().features.supports_virtual_generated_columns is False
