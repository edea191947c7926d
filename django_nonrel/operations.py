"""The hooks django-nonrel calls on a backend's ``DatabaseOperations``, declared once.

As ``NonrelFeatures`` declares flags, ``NonrelOperations`` declares the
methods django-nonrel may call on ``connection.ops`` beyond Django's own, each
with a default under which Django behaves as on its stock backends. A backend
(or a project's subclass of one) inherits it and overrides what it does
differently. Code that runs on every connection -- the patches -- reads
``nonrel_operations(connection)``: a stock backend's operations do not inherit
this class, and get the defaults.
"""

from __future__ import annotations

import datetime
from typing import Any


class NonrelOperations:
    """The methods django-nonrel adds to a backend's ``DatabaseOperations``."""

    def take_over_cascade(self, collector: Any, objs: Any, **collect_kwargs: Any) -> bool:
        """Whether the backend ran the cascade of deleting ``objs`` itself.

        Asked by ``Collector.collect()`` (the ``cascade`` patch) before Django
        collects, after the project's ``NONREL_CASCADE_HANDLER``; see
        docs/patches.md for the contract. Returning True skips Django's
        recursive collection: the hook has put at least ``objs`` into
        ``collector``. Default: False (Django's on_delete rules and signals).
        """
        return False

    def datetime_zone_stored_as_given(self) -> datetime.tzinfo | None:
        """The zone whose aware datetimes need no ``adapt_datetimefield_value`` on insert.

        A backend whose driver stores an aware datetime of this zone exactly as
        it stores what ``adapt_datetimefield_value`` makes of it returns the zone
        (asked once per insert): inserts then hand such values of stock
        ``DateTimeField`` columns to the driver as they are
        (``django_nonrel.passthrough``). Default: None (every value is adapted).
        """
        return None


STOCK_OPERATIONS = NonrelOperations()


def nonrel_operations(connection: Any) -> NonrelOperations:
    """``connection.ops`` when its backend declares the hooks, else the defaults."""
    ops = connection.ops
    return ops if isinstance(ops, NonrelOperations) else STOCK_OPERATIONS
