"""Every write of a sharded model carries its shard key, checked on a simulated mongos.

The simulated mongos (tests/sharding/mongos.py) refuses what a sharded cluster
refuses (an upsert without the full shard key, a multi-document update that
changes one) and records whether each command's filter names the shard key,
i.e. whether a cluster could send it to the shards owning the row instead of
to all of them.
"""

import pytest
from django.db import NotSupportedError, connections
from django.db.models.signals import post_delete
from django.db.utils import DatabaseError

from django_nonrel.exceptions import ConflictError
from tests.sharding.mongos import ALIAS, SimulatedMongos, register, unregister
from tests.sharding.shop import shop_models, tables

pytestmark = pytest.mark.usefixtures("on_mongodb")

SHARDED = ("shop_order", "shop_line", "shop_account")


@pytest.fixture
def shop(mongos, django_db_blocker):
    models = shop_models()
    connection = connections[ALIAS]
    classes = (models.Tenant, models.Order, models.Line, models.Account, models.Memo)
    with django_db_blocker.unblock(), tables(connection, *classes):
        assert set(mongos.shard_keys) == {f"shop.{table}" for table in SHARDED}
        mongos.sent.clear()
        yield models


def untargeted(mongos, table):
    """Writes to ``table`` whose filter lacks the shard key (inserts route by document)."""
    return [s for s in mongos.writes(table) if s.name != "insert_many" and not s.targeted]


def stored(mongos, table, pk):
    return mongos.backing["shop"][table].find_one({"_id": pk})


def test_saves_upsert_by_the_full_shard_key(mongos, shop):
    acme = shop.Tenant.objects.using(ALIAS).create(name="acme")
    order = shop.Order(tenant=acme, number=1)
    order.save(using=ALIAS)
    order.note = "gift"
    order.save(using=ALIAS)
    (upsert,) = [s for s in mongos.writes("shop_order") if s.name == "update_one"]
    assert upsert.options == {"upsert": True}
    assert upsert.filter == {"_id": order.pk, "tenant_id": {"$eq": acme.pk},
                             "number": {"$eq": 1}}  # fmt: skip
    assert untargeted(mongos, "shop_order") == []
    assert stored(mongos, "shop_order", order.pk)["note"] == "gift"


def test_a_loaded_instance_saves_under_the_key_it_was_loaded_with(mongos, shop):
    acme = shop.Tenant.objects.using(ALIAS).create(name="acme")
    shop.Order.objects.using(ALIAS).create(tenant=acme, number=7)
    loaded = shop.Order.objects.using(ALIAS).get(number=7)
    mongos.sent.clear()
    loaded.note = "seen"
    loaded.save()
    (upsert,) = mongos.writes("shop_order")
    assert upsert.targeted and upsert.filter["number"] == {"$eq": 7}


def test_changing_the_shard_key_moves_the_document_in_one_single_document_write(mongos, shop):
    acme = shop.Tenant.objects.using(ALIAS).create(name="acme")
    globex = shop.Tenant.objects.using(ALIAS).create(name="globex")
    order = shop.Order.objects.using(ALIAS).create(tenant=acme, number=1)
    order = shop.Order.objects.using(ALIAS).get(pk=order.pk)
    mongos.sent.clear()
    order.tenant = globex
    order.number = 2
    order.save()
    (move,) = mongos.writes("shop_order")
    assert move.name == "update_one"
    assert move.filter["tenant_id"] == {"$eq": acme.pk} and move.filter["number"] == {"$eq": 1}
    assert move.update["$set"]["tenant_id"] == globex.pk
    document = stored(mongos, "shop_order", order.pk)
    assert (document["tenant_id"], document["number"]) == (globex.pk, 2)
    assert mongos.backing["shop"]["shop_order"].count_documents({}) == 1
    # The instance now remembers where the document is: the next save targets it there.
    mongos.sent.clear()
    order.note = "moved"
    order.save()
    (again,) = mongos.writes("shop_order")
    assert again.filter["tenant_id"] == {"$eq": globex.pk}


def test_a_move_needs_retryable_writes_as_on_a_cluster(django_db_blocker):
    simulated = SimulatedMongos(retry_writes=False)
    models = shop_models()
    with django_db_blocker.unblock():
        connection = register(ALIAS, simulated)
        try:
            with tables(connection, models.Tenant, models.Order):
                acme = models.Tenant.objects.using(ALIAS).create(name="acme")
                globex = models.Tenant.objects.using(ALIAS).create(name="globex")
                order = models.Order.objects.using(ALIAS).create(tenant=acme, number=1)
                order.tenant = globex
                with pytest.raises(DatabaseError, match="retryWrites"):
                    order.save()
        finally:
            unregister(ALIAS)


def test_update_fields_filters_on_the_stored_shard_key(mongos, shop):
    acme = shop.Tenant.objects.using(ALIAS).create(name="acme")
    order = shop.Order.objects.using(ALIAS).create(tenant=acme, number=3)
    mongos.sent.clear()
    order.note = "only this"
    order.save(update_fields=["note"])
    (update,) = mongos.writes("shop_order")
    assert update.name == "update_many" and update.targeted
    assert update.update == {"$set": {"note": "only this"}}


def test_update_fields_cannot_change_the_shard_key(mongos, shop):
    acme = shop.Tenant.objects.using(ALIAS).create(name="acme")
    order = shop.Order.objects.using(ALIAS).create(tenant=acme, number=3)
    order.number = 4
    with pytest.raises(NotSupportedError, match="plain save"):
        order.save(update_fields=["number"])
    assert stored(mongos, "shop_order", order.pk)["number"] == 3
    order.save()  # the fix the message names
    assert stored(mongos, "shop_order", order.pk)["number"] == 4


def test_queryset_update_of_a_shard_key_is_refused_before_the_cluster_refuses_it(mongos, shop):
    acme = shop.Tenant.objects.using(ALIAS).create(name="acme")
    shop.Order.objects.using(ALIAS).create(tenant=acme, number=1)
    orders = shop.Order.objects.using(ALIAS)
    with pytest.raises(NotSupportedError, match="part of the shard key of shop.Order"):
        orders.update(number=9)
    with pytest.raises(NotSupportedError, match="bulk_update"):
        orders.filter(number=1).update(number=9, note="x")
    # Setting the value the filter pins it to changes nothing: allowed and targeted.
    assert orders.filter(tenant=acme, number=1).update(number=1, note="kept") == 1
    # Without the shard key the cluster broadcasts the update, and accepts it.
    assert orders.update(note="all") == 1
    assert mongos.writes("shop_order")[-1].targeted is False


def test_version_guard_carries_the_shard_key(mongos, shop):
    acme = shop.Tenant.objects.using(ALIAS).create(name="acme")
    account = shop.Account.objects.using(ALIAS).create(tenant=acme)
    stale = shop.Account.objects.using(ALIAS).get(pk=account.pk)
    account.balance = 10
    account.save()
    stale.balance = 99
    with pytest.raises(ConflictError):
        stale.save()
    upserts = [s for s in mongos.writes("shop_account") if s.name == "update_one"]
    assert all(s.targeted and "version" in s.filter for s in upserts[1:])
    assert stored(mongos, "shop_account", account.pk)["balance"] == 10
    account.balance = 11
    account.save(update_fields=["balance"])  # Django's UPDATE ... AND version = n
    assert untargeted(mongos, "shop_account") == []


def test_deletes_and_cascades_carry_the_shard_keys_of_the_rows(mongos, shop):
    acme = shop.Tenant.objects.using(ALIAS).create(name="acme")
    orders = [shop.Order.objects.using(ALIAS).create(tenant=acme, number=n) for n in (1, 2)]
    for order in orders:
        shop.Line.objects.using(ALIAS).create(order=order, tenant=acme)
    memo = shop.Memo.objects.using(ALIAS).create(order=orders[0])
    mongos.sent.clear()
    pk = orders[0].pk
    orders[0].delete()
    (order_delete,) = mongos.writes("shop_order")
    assert order_delete.name == "delete_many" and order_delete.targeted
    # Lines are deleted by their foreign key, which is their shard key: targeted.
    (lines,) = mongos.writes("shop_line")
    assert lines.name == "delete_many" and lines.targeted
    assert lines.filter == {"order_id": {"$in": [pk]}}
    assert stored(mongos, "shop_memo", memo.pk).get("order_id") is None
    assert orders[0].pk is None


def test_deletes_with_signals_go_through_djangos_collector_routed(mongos, shop):
    acme = shop.Tenant.objects.using(ALIAS).create(name="acme")
    orders = [shop.Order.objects.using(ALIAS).create(tenant=acme, number=n) for n in (1, 2, 3)]
    deleted = []

    def receiver(sender, instance, **kwargs):
        deleted.append(instance.number)

    post_delete.connect(receiver, sender=shop.Order)
    try:
        mongos.sent.clear()
        shop.Order.objects.using(ALIAS).filter(number__in=[1, 2]).delete()
        orders[2].delete()
    finally:
        post_delete.disconnect(receiver, sender=shop.Order)
    assert sorted(deleted) == [1, 2, 3]
    assert untargeted(mongos, "shop_order") == []
    batch = mongos.writes("shop_order")[0]
    tenants, numbers = batch.filter["$and"][1:]
    assert tenants == {"tenant_id": {"$in": [acme.pk]}}
    assert sorted(numbers["number"]["$in"]) == [1, 2]


def test_the_key_allocator_writes_only_unsharded_bookkeeping(mongos, shop):
    acme = shop.Tenant.objects.using(ALIAS).create(name="acme")
    shop.Order.objects.using(ALIAS).bulk_create(
        [shop.Order(tenant=acme, number=n) for n in range(3)]
    )
    counters = [s for s in mongos.sent if s.namespace == "shop.django_nonrel_sequences"]
    assert counters and all(not s.sharded for s in counters)
    assert "shop.django_nonrel_sequences" not in mongos.shard_keys


def test_every_write_of_a_session_of_work_is_targeted(mongos, shop):
    """A day of ordinary ORM work on sharded models: no write reaches every shard."""
    acme = shop.Tenant.objects.using(ALIAS).create(name="acme")
    globex = shop.Tenant.objects.using(ALIAS).create(name="globex")
    order = shop.Order.objects.using(ALIAS).create(tenant=acme, number=1)
    line = shop.Line.objects.using(ALIAS).create(order=order, tenant=acme, quantity=2)
    account = shop.Account.objects.using(ALIAS).create(tenant=acme)
    for instance in shop.Line.objects.using(ALIAS).filter(order=order):
        instance.quantity += 1
        instance.save()
    account.balance = 5
    account.save()
    order.tenant = globex
    order.save()
    order.note = "done"
    order.save(update_fields=["note"])
    shop.Account.objects.using(ALIAS).get(pk=account.pk).delete()
    line.delete()
    order.delete()
    for table in SHARDED:
        assert mongos.writes(table), table
        assert untargeted(mongos, table) == [], table


def test_a_queryset_delete_that_cascades_deletes_its_rows_by_their_shard_keys(mongos, shop):
    """Deleting a tenant's orders re-reads their keys for the cascade; the shard keys
    come along, so the delete of the orders reaches their shards only."""
    acme = shop.Tenant.objects.using(ALIAS).create(name="acme")
    globex = shop.Tenant.objects.using(ALIAS).create(name="globex")
    for tenant in (acme, globex):
        order = shop.Order.objects.using(ALIAS).create(tenant=tenant, number=1)
        shop.Line.objects.using(ALIAS).create(order=order, tenant=tenant)
    mongos.sent.clear()
    shop.Order.objects.using(ALIAS).filter(tenant=acme).delete()
    assert untargeted(mongos, "shop_order") == [] and untargeted(mongos, "shop_line") == []
    (remaining,) = mongos.backing["shop"]["shop_order"].find()
    assert remaining["tenant_id"] == globex.pk
    assert mongos.backing["shop"]["shop_line"].count_documents({}) == 1
