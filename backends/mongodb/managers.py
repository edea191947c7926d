"""Raw MongoDB access from the ORM: ``raw_query()`` and ``raw_update()``.

Everywhere else django-nonrel treats user values as data, never as MongoDB
operators. These two methods are the deliberate exception: their dicts *are*
MongoDB syntax, for the queries and updates the ORM cannot express (``$elemMatch``,
``$push``, ``$pull``, ``$rename``, geo operators...). Use them with trusted
input only.

Attach the manager to a model (``objects = MongoManager()``), or build your own
with ``MongoQuerySet.as_manager()`` / ``Manager.from_queryset(MongoQuerySet)``.
Both methods combine with the queryset's ORM filters, so
``Shop.objects.filter(visits__gt=10).raw_query({"tags": {"$size": 2}})`` is
one ``find`` with both conditions, and the result is an ordinary queryset
(ordering, slicing, ``count()``, ``values()``, ``|`` and ``&``...): the filter
is a condition in its WHERE (``django_nonrel.native``). On a database other
than MongoDB the queryset raises NotSupportedError when it runs.
"""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError, connections
from django.db.models import Manager, Q, QuerySet

from django_nonrel.native import NativeCondition


class MongoQuerySet(QuerySet):
    """A QuerySet with ``raw_query()`` and ``raw_update()`` for MongoDB databases."""

    def _require_mongodb(self, method: str) -> Any:
        connection = connections[self.db]
        if connection.vendor != "mongodb":
            raise NotSupportedError(
                f"{method}() runs MongoDB syntax, but the database {self.db!r} is "
                f"{connection.vendor}. Use filter()/update() there."
            )
        return connection

    def raw_query(self, filter: dict[str, Any] | None = None) -> MongoQuerySet:  # noqa: A002
        """This queryset further restricted by ``filter``, a MongoDB filter document.

        Field names are stored names (``_id`` for the primary key, ``author_id``
        for a foreign key, ``address.city`` for embedded paths). Several
        ``raw_query()`` calls are ANDed.
        """
        if filter is not None and not isinstance(filter, dict):
            raise TypeError("raw_query() takes a MongoDB filter document (a dict).")
        clone = self._chain()
        if filter:
            clone.query.add_q(Q(NativeCondition(filter)))
        return clone

    def raw_update(
        self,
        filter: dict[str, Any] | None,  # noqa: A002
        update: dict[str, Any],
    ) -> int:
        """Apply ``update`` (MongoDB update operators) to the matching documents.

        Matching documents are those of this queryset that also match ``filter``;
        one ``updateMany`` command; returns how many documents matched. Model
        signals are not sent and field validation does not run.
        """
        connection = self._require_mongodb("raw_update")
        if not isinstance(update, dict) or not update:
            raise TypeError("raw_update() takes a non-empty MongoDB update document (a dict).")
        if not all(str(key).startswith("$") for key in update):
            raise ValueError(
                "raw_update() takes update operators ({'$set': {...}, '$inc': {...}}); "
                "a plain document would replace every matching document's fields."
            )
        if self.query.is_sliced:
            raise NotSupportedError("raw_update() of a sliced queryset.")
        queryset = self.raw_query(filter) if filter else self._chain()
        compiler = queryset.query.get_compiler(using=self.db)
        nq = compiler.build_query(with_projection=False).query
        if nq.matches_nothing:
            return 0
        store = connection.store
        filter_doc = store.filter_document(nq)
        collection = store.collection(nq.table)
        store.journal.changing(nq.table, filter_doc)
        result = store.run(
            f"db.{nq.table}.updateMany({filter_doc!r}, {update!r})",
            collection.update_many,
            filter_doc,
            update,
        )
        return result.matched_count


class MongoManager(Manager.from_queryset(MongoQuerySet)):
    """``objects = MongoManager()``: the default manager plus raw MongoDB access."""
