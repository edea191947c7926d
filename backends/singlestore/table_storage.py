"""Where a model's table lives: SingleStore's table storage types.

django-singlestore's names are kept so projects move over by changing imports:

* ``DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_<APP_LABEL>`` (environment) sets the
  storage of every table of an app;
* ``ModelStorageManager(table_storage_type=...)`` among a model's managers
  overrides it for that model;
* ``DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_<APP_LABEL>`` (any non-empty value)
  turns the app's unique columns into ``UNIQUE KEY(...) UNENFORCED RELY``.

The storage type decides which of SingleStore's rules a table is under, so the
schema editor, the system checks and the migration-time errors all ask
:func:`table_storage` instead of reading the environment themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import models

ROWSTORE = "ROWSTORE"
REFERENCE = "REFERENCE"
ROWSTORE_REFERENCE = "ROWSTORE REFERENCE"
#: The server's default (``CREATE TABLE`` with no storage keyword).
COLUMNSTORE = ""
STORAGE_TYPES = (COLUMNSTORE, ROWSTORE, REFERENCE, ROWSTORE_REFERENCE)

STORAGE_ENV_PREFIX = "DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_"
UNENFORCED_UNIQUE_ENV_PREFIX = "DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_"
SKIP_AUTOCOMMIT_ENV = "DJANGO_SINGLESTORE_SKIP_AUTOCOMMIT"


def normalized_storage_type(value: str | None, source: str) -> str:
    """``value`` as one of STORAGE_TYPES, or ImproperlyConfigured naming ``source``."""
    text = " ".join((value or "").upper().split())
    if text == "COLUMNSTORE":
        text = COLUMNSTORE
    if text not in STORAGE_TYPES:
        raise ImproperlyConfigured(
            f"{source} is {value!r}; use one of ROWSTORE, REFERENCE, ROWSTORE REFERENCE, "
            "COLUMNSTORE or an empty value (the server's default, columnstore)."
        )
    return text


class ModelStorageManager(models.Manager):
    """A manager that also says how the model's table is stored.

    Put it among the model's managers (``objects = ModelStorageManager("REFERENCE")``);
    it behaves as ``models.Manager`` for queries. It is written into migrations
    (``use_in_migrations``) because the schema editor reads the storage type from
    the historical model a migration renders.
    """

    use_in_migrations = True

    def __init__(self, table_storage_type: str = "") -> None:
        super().__init__()
        self.table_storage_type = normalized_storage_type(
            table_storage_type, "ModelStorageManager(table_storage_type=...)"
        )

    def deconstruct(self):
        as_manager, _, qs_class, args, kwargs = super().deconstruct()
        # The public import path, as written into migrations.
        path = "django_nonrel.backends.singlestore.ModelStorageManager"
        return as_manager, path, qs_class, (self.table_storage_type,), kwargs


@dataclass(frozen=True)
class TableStorage:
    """A table's storage type and what it implies for SingleStore's rules."""

    storage_type: str
    #: From the environment: unique columns become UNIQUE KEY ... UNENFORCED RELY.
    unenforced_unique: bool
    #: Where the storage type came from, for messages.
    source: str

    @property
    def is_reference(self) -> bool:
        """Copied to every node: no shard key, unique keys enforced anywhere."""
        return self.storage_type in (REFERENCE, ROWSTORE_REFERENCE)

    @property
    def is_distributed(self) -> bool:
        return not self.is_reference

    @property
    def is_columnstore(self) -> bool:
        """Columnstore (the default, and REFERENCE): no ALTER of most column properties."""
        return self.storage_type in (COLUMNSTORE, REFERENCE)

    @property
    def label(self) -> str:
        return self.storage_type or "COLUMNSTORE (the server default)"


def app_env(prefix: str, app_label: str) -> str:
    return prefix + app_label.upper()


def table_storage(model: type[models.Model], default: str | None = None) -> TableStorage:
    """The storage of ``model``'s table.

    Its ModelStorageManager, else its app's environment variable, else
    ``default`` (the connection's ``OPTIONS["table_storage_type"]``), else
    the server's default, columnstore.
    """
    meta = model._meta
    source_model = model
    if meta.auto_created:
        # An auto-created m2m through table follows the model that declares the field.
        source_model = meta.auto_created
    unenforced = bool(os.environ.get(app_env(UNENFORCED_UNIQUE_ENV_PREFIX, meta.app_label)))
    for manager in source_model._meta.managers:
        if isinstance(manager, ModelStorageManager):
            return TableStorage(
                manager.table_storage_type,
                unenforced,
                f"ModelStorageManager on {source_model._meta.label}",
            )
    variable = app_env(STORAGE_ENV_PREFIX, meta.app_label)
    if variable in os.environ:
        value = os.environ[variable]
        return TableStorage(normalized_storage_type(value, variable), unenforced, variable)
    source = (
        'the connection\'s OPTIONS["table_storage_type"]'
        if default is not None
        else f"the server default (no ModelStorageManager, {variable} unset)"
    )
    return TableStorage(normalized_storage_type(default, source), unenforced, source)
