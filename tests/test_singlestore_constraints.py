"""Constraint and index options SingleStore cannot hold, handled as Django's MySQL backend does.

A UniqueConstraint with a condition, include, deferrable, nulls_distinct or
expressions is never rendered as a plain UNIQUE KEY (that key would refuse rows
the condition allows, and two conditional constraints on one field would give
two keys of the same name). It is left out of the DDL with Django's system-check
warning, and Model.validate_constraints checks it in Python. Index options are
dropped where that only makes the index less selective (condition, include,
opclasses) and the index is left out where it cannot exist (expressions).
Both dialects behave the same.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, models

from tests.singlestore.offline import Registry, create_sql, offline_connection

STORAGE_ENV = "DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_SHOP"
DIALECTS = ["singlestore", "mysql"]

UNHELD_UNIQUE = [
    # (constraint, Django's warning id)
    (models.UniqueConstraint(fields=["code"], name="u", condition=models.Q(open=True)), "W036"),
    (
        models.UniqueConstraint(fields=["code"], name="u", deferrable=models.Deferrable.DEFERRED),
        "W038",
    ),
    (models.UniqueConstraint(fields=["code"], name="u", include=["open"]), "W039"),
    (models.UniqueConstraint(models.F("code"), name="u"), "W044"),
    (models.UniqueConstraint(fields=["code"], name="u", nulls_distinct=False), "W047"),
]


@pytest.fixture
def shop(monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE REFERENCE")
    return Registry()


def ticket(shop, constraints, indexes=()):
    return shop.model(
        "Ticket",
        {"code": models.IntegerField(null=True), "open": models.BooleanField(default=True)},
        meta={"constraints": list(constraints), "indexes": list(indexes)},
    )


COLUMNS = (
    "`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, `code` integer NULL, `open` bool NOT NULL"
)
PREFIX = {"singlestore": "CREATE ROWSTORE REFERENCE TABLE", "mysql": "CREATE TABLE"}


def model_warnings(model, dialect) -> list[str]:
    """Django's own model checks for ``model`` against a connection in ``dialect``."""
    connections["offline"] = offline_connection(dialect, server_info="10.11.6-MariaDB")
    try:
        return [message.id for message in model.check(databases=["offline"])]
    finally:
        del connections["offline"]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("constraint", "warning"), UNHELD_UNIQUE)
def test_unique_constraints_singlestore_cannot_hold_are_left_out_with_djangos_warning(
    shop, dialect, constraint, warning
):
    model = ticket(shop, [constraint])
    assert create_sql(offline_connection(dialect), model) == [
        f"{PREFIX[dialect]} `shop_ticket` ({COLUMNS})"
    ]
    assert f"models.{warning}" in model_warnings(model, dialect)
    # Nothing is added by a migration either, and nothing is refused.
    with offline_connection(dialect).schema_editor(collect_sql=True, atomic=False) as editor:
        editor.add_constraint(model, constraint)
        editor.remove_constraint(model, constraint)
    assert editor.collected_sql == []


def one_code_per_state():
    """Two conditional constraints on one field: DRF's test models have this shape."""
    return [
        models.UniqueConstraint(fields=["code"], name="open_code", condition=models.Q(open=True)),
        models.UniqueConstraint(
            fields=["code"], name="closed_code", condition=models.Q(open=False)
        ),
    ]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_two_conditional_constraints_on_one_field_give_no_key_at_all(shop, dialect):
    """The defect: both became ``UNIQUE KEY shop_ticket_code_uniq (code)`` (error 1061)."""
    model = ticket(
        shop,
        [
            *one_code_per_state(),
            models.UniqueConstraint(fields=["code", "open"], name="code_open"),
        ],
    )
    assert create_sql(offline_connection(dialect), model) == [
        f"{PREFIX[dialect]} `shop_ticket` ({COLUMNS}, UNIQUE KEY `code_open` (`code`, `open`))"
    ]


def test_a_unique_constraint_key_is_named_after_the_constraint(shop):
    """Two constraints on the same columns keep their own names (RemoveConstraint finds them)."""
    model = ticket(
        shop,
        [
            models.UniqueConstraint(fields=["code"], name="first"),
            models.UniqueConstraint(fields=["code"], name="second", opclasses=["int4_ops"]),
        ],
    )
    assert create_sql(offline_connection(), model) == [
        f"CREATE ROWSTORE REFERENCE TABLE `shop_ticket` ({COLUMNS}, "
        "UNIQUE KEY `first` (`code`), UNIQUE KEY `second` (`code`))"
    ]


def test_conditional_constraints_do_not_count_for_the_shard_key_rule(shop, monkeypatch):
    monkeypatch.setenv(STORAGE_ENV, "")  # distributed columnstore: a key would be E001
    model = ticket(
        shop,
        [models.UniqueConstraint(fields=["code"], name="u", condition=models.Q(open=True))],
    )
    assert offline_connection().validation.check_models([model]) == []
    assert create_sql(offline_connection(), model) == [
        f"CREATE TABLE `shop_ticket` ({COLUMNS}, SHARD KEY (`id`))"
    ]


def indexed_ticket(shop):
    return ticket(
        shop,
        [],
        indexes=[
            models.Index(fields=["code"], name="partial", condition=models.Q(open=True)),
            models.Index(fields=["open"], name="covering", include=["code"]),
            models.Index(fields=["code", "open"], name="opclass", opclasses=["a", "b"]),
            models.Index(models.F("code") + 1, name="expression"),
        ],
    )


@pytest.mark.parametrize("dialect", DIALECTS)
def test_index_options_are_dropped_only_where_that_loosens_the_index(shop, dialect):
    model = indexed_ticket(shop)
    warnings = model_warnings(model, dialect)
    assert {"models.W037", "models.W040", "models.W043"} <= set(warnings)
    if dialect == "mysql":
        return  # its DDL reads the server's version (index column ordering): see the live test
    statements = create_sql(offline_connection(dialect), model)
    assert statements[1:] == [
        "CREATE INDEX `partial` ON `shop_ticket` (`code`)",
        "CREATE INDEX `covering` ON `shop_ticket` (`open`)",
        "CREATE INDEX `opclass` ON `shop_ticket` (`code`, `open`)",
    ]


@pytest.mark.django_db(transaction=True)
def test_conditional_uniqueness_is_validated_in_python_and_the_table_takes_what_it_allows():
    """On the SingleStore tiers: the rows the condition allows are stored; validate_constraints
    refuses the one it forbids, as on Django's MySQL backend."""
    if not hasattr(connection, "is_singlestore"):
        pytest.skip(f"SingleStore backend DDL; this tier runs {connection.vendor}")
    shop = Registry()
    model = ticket(shop, one_code_per_state())
    with connection.schema_editor() as editor:
        editor.create_model(model)
    try:
        model.objects.create(code=1, open=True)
        model.objects.create(code=1, open=False)  # a plain key on code would refuse this
        duplicate = model(code=1, open=True)
        with pytest.raises(ValidationError, match="open_code"):
            duplicate.validate_constraints()
        model(code=2, open=True).validate_constraints()
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(model)


@pytest.mark.django_db(transaction=True)
def test_index_options_on_the_server():
    if not hasattr(connection, "is_singlestore"):
        pytest.skip(f"SingleStore backend DDL; this tier runs {connection.vendor}")
    model = indexed_ticket(Registry())
    with connection.schema_editor() as editor:
        editor.create_model(model)
    try:
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(model)
    indexes = {
        name: info["columns"]
        for name, info in found.items()
        if info["index"] and not info["primary_key"]
    }
    assert indexes == {"partial": ["code"], "covering": ["open"], "opclass": ["code", "open"]}
