"""django-nonrel's feature flags, each declared once with its default and meaning.

A nonrel backend's ``DatabaseFeatures`` inherits ``NonrelFeatures`` (before
Django's features class) and overrides the flags it answers differently. Every
default is the value under which Django behaves as it does on its stock
backends, so a flag a backend does not override changes nothing.

Code that only runs on a nonrel connection (the compiler, the store) reads
``connection.features.<flag>`` directly. Code that runs on every connection --
the patches of ``django_nonrel.patches`` and the fields -- reads
``nonrel_features(connection)``: a stock backend's features (sqlite,
postgresql, mysql) do not inherit this class, and get these defaults.
"""

from __future__ import annotations

from typing import Any


class NonrelFeatures:
    """The flags django-nonrel adds to a backend's ``DatabaseFeatures``.

    A backend whose features inherit this class also provides
    ``connection.store``, a ``django_nonrel.store_contract.RowWriter``.
    """

    #: Reads go through ``django_nonrel.compiler`` and yield structured rows
    #: (``{"result": ..., "related_selection": ..., ...}``) that the
    #: ``structured_rows`` patch turns into instances and values() rows.
    returns_structured_rows: bool = False
    #: ``save()`` chooses between UPDATE and INSERT as Django does. False: one
    #: upsert round trip through ``connection.store.upsert`` (``patches/upsert.py``).
    distinguishes_insert_from_update: bool = True
    #: Lists and dicts are stored as native documents; False: as JSON text
    #: (``django_nonrel.fields``).
    supports_nested_documents: bool = False
    #: The server does not enforce NOT NULL: writes check ``null=False`` fields in
    #: Python and raise IntegrityError as a SQL database would (``django_nonrel.nulls``).
    checks_not_null: bool = False
    #: A NULL in a unique field is stored as an absent key, so that several rows
    #: may hold NULL under a unique index, as in SQL (``django_nonrel.nulls``).
    stores_unique_nulls_as_absent: bool = False
    #: Keys one ``in`` command may carry: key lookups across relations, batched
    #: fetches, cascades and bulk batches are cut to this size. None: no limit of
    #: the backend's own (cascades then batch as Django does).
    max_keys_per_command: int | None = None
    #: Rows a read may evaluate filters, sort keys or update expressions on in
    #: Python (``django_nonrel.expressions``); more raise NotSupportedError.
    max_rows_evaluated_in_python: int = 10_000
    #: The store filters on date parts other than year and date (month, day,
    #: hour...); False: those lookups are evaluated in Python on bounded reads.
    supports_date_part_expressions: bool = True
    #: Lists inside lists can be stored (``ListField(ListField())``, nested JSON
    #: arrays in a JSONField).
    supports_nested_arrays: bool = True
    #: NaN doubles are stored and sort below every other number, with every
    #: comparison but equality false (MongoDB's rules); bookmark pages follow them.
    sorts_nan_below_numbers: bool = False
    #: Models may declare a ``django_nonrel.sharding.ShardKey``: writes carry it in
    #: their filters and migrations shard the collection (``patches/shard_keys.py``).
    supports_shard_keys: bool = False
    #: ``sqlmigrate`` renders without a server: the migration history is not read
    #: (``django_nonrel/management/commands/sqlmigrate.py``).
    renders_migrations_offline: bool = False


#: The flags of a connection whose backend declares none (Django's stock backends).
STOCK_FEATURES = NonrelFeatures()


def nonrel_features(connection: Any) -> NonrelFeatures:
    """``connection.features`` when its backend is a nonrel one, else the defaults."""
    features = connection.features
    return features if isinstance(features, NonrelFeatures) else STOCK_FEATURES
