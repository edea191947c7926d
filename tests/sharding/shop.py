"""Throwaway sharded models (app ``shop`` in a private registry), and a place to store them.

Declared per test so nothing reaches the project's apps, checks or test
database; :func:`tables` creates their collections on a connection (a
simulated mongos, or the tier's server) and drops them afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import SimpleNamespace

from django.db import models

from django_nonrel.fields import VersionField
from django_nonrel.sharding import ShardKey
from tests.singlestore.offline import Registry


def shop_models() -> SimpleNamespace:
    """Tenants, orders sharded on (tenant, number), their lines sharded on the hashed
    order (a cascade from an order finds them on its shard), a versioned account
    sharded on the hashed tenant, and an unsharded memo that points at orders."""
    registry = Registry()
    tenant = registry.model("Tenant", {"name": models.CharField(max_length=20)})
    order = registry.model(
        "Order",
        {
            "tenant": models.ForeignKey(tenant, models.CASCADE),
            "number": models.IntegerField(),
            "note": models.CharField(max_length=40, default=""),
        },
        meta={"indexes": [ShardKey(fields=["tenant", "number"])]},
    )
    line = registry.model(
        "Line",
        {
            "order": models.ForeignKey(order, models.CASCADE),
            "tenant": models.ForeignKey(tenant, models.CASCADE, related_name="+"),
            "quantity": models.IntegerField(default=1),
        },
        meta={"indexes": [ShardKey(fields=["order"], hashed=True)]},
    )
    account = registry.model(
        "Account",
        {
            "tenant": models.ForeignKey(tenant, models.CASCADE, related_name="+"),
            "balance": models.IntegerField(default=0),
            "version": VersionField(),
        },
        meta={"indexes": [ShardKey(fields=["tenant"], hashed=True)]},
    )
    memo = registry.model(
        "Memo",
        {
            "order": models.ForeignKey(order, models.SET_NULL, null=True),
            "text": models.CharField(max_length=40, default=""),
        },
    )
    return SimpleNamespace(
        Tenant=tenant, Order=order, Line=line, Account=account, Memo=memo, registry=registry
    )


@contextlib.contextmanager
def tables(connection, *model_classes) -> Iterator[None]:
    """Create the collections of ``model_classes`` on ``connection``; drop them after."""
    with connection.schema_editor() as editor:
        for model in model_classes:
            editor.create_model(model)
    try:
        yield
    finally:
        with connection.schema_editor() as editor:
            for model in model_classes:
                editor.delete_model(model)
