"""Sharded models on the tier's own server: FerretDB and mongomock keep the index and
run every write; a real mongos (NONREL_TEST_DB/MONGODB_URI naming one) shards the
collections and accepts every write the ORM sends."""

import logging

import pytest
from django.db import connection

from tests.sharding.shop import shop_models, tables

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("on_mongodb")]


@pytest.fixture
def shop(caplog):
    models = shop_models()
    classes = (models.Tenant, models.Order, models.Line, models.Account, models.Memo)
    with (
        caplog.at_level(logging.WARNING, logger="django_nonrel.sharding"),
        tables(connection, *classes),
    ):
        yield models


def documents(model):
    return {d["_id"]: d for d in connection.database[model._meta.db_table].find()}


def test_collections_are_sharded_on_a_mongos_and_indexed_elsewhere(shop, caplog):
    namespace = f"{connection.settings_dict['NAME']}.shop_order"
    if connection.features.is_sharded_cluster:
        sharded = connection.database.client["config"]["collections"].find_one({"_id": namespace})
        assert sharded["key"] == {"tenant_id": 1, "number": 1}
        assert not caplog.get_records("setup")
    else:
        warned = [r.getMessage() for r in caplog.get_records("setup")]
        assert len(warned) == 3 and all("not a sharded cluster" in m for m in warned)
    indexes = connection.database["shop_order"].index_information()
    assert [("tenant_id", 1), ("number", 1)] in [
        list(map(tuple, i["key"])) for i in indexes.values()
    ]


def test_saves_moves_updates_and_deletes_keep_one_document_per_row(shop):
    acme = shop.Tenant.objects.create(name="acme")
    globex = shop.Tenant.objects.create(name="globex")
    order = shop.Order.objects.create(tenant=acme, number=1)
    line = shop.Line.objects.create(order=order, tenant=acme)
    loaded = shop.Order.objects.get(pk=order.pk)
    loaded.tenant, loaded.number = globex, 2
    loaded.save()  # moves it (a cluster sends it to the new shard key's shard)
    loaded.note = "after the move"
    loaded.save(update_fields=["note"])
    (stored,) = documents(shop.Order).values()
    assert (stored["tenant_id"], stored["number"], stored["note"]) == (
        globex.pk,
        2,
        "after the move",
    )
    account = shop.Account.objects.create(tenant=acme)
    account.balance = 3
    account.save()
    assert documents(shop.Account)[account.pk]["version"] == 2
    loaded.delete()
    assert documents(shop.Order) == {} and line.pk not in documents(shop.Line)


def test_a_save_after_another_process_moved_the_row_updates_that_row(shop):
    acme = shop.Tenant.objects.create(name="acme")
    globex = shop.Tenant.objects.create(name="globex")
    order = shop.Order.objects.create(tenant=acme, number=1)
    elsewhere = shop.Order.objects.get(pk=order.pk)
    elsewhere.tenant = globex
    elsewhere.save()
    order.refresh_from_db()  # sees globex; still remembers acme as where it was loaded
    order.note = "kept"
    order.save()
    (stored,) = documents(shop.Order).values()
    assert (stored["tenant_id"], stored["note"]) == (globex.pk, "kept")
