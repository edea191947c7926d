"""Where a model's table lives: SingleStore's table storage types.

django-singlestore's names are kept so projects move over by changing imports:

* ``DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_<APP_LABEL>`` (environment) sets the
  storage of every table of an app;
* ``ModelStorageManager(table_storage_type=...)`` among a model's managers
  overrides it for that model;
* ``DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_<APP_LABEL>`` (any non-empty value)
  turns the app's unique columns into ``UNIQUE KEY(...) UNENFORCED RELY``.

Added here: ``OPTIONS["table_storage_types"]`` (``{app_label: type}``) says the
same as the environment variable from the project's settings;
``OPTIONS["table_storage_type"]`` is the storage of every other table; and
Django's contrib apps get a storage SingleStore accepts for their models
(:data:`CONTRIB_STORAGE`) unless one of the above names them.

The storage type decides which of SingleStore's rules a table is under, so the
schema editor, the system checks and the migration-time errors all ask
:func:`table_storage` instead of reading the environment themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

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


#: Storage for the models of Django's contrib apps, chosen so that SingleStore
#: accepts them as Django declares them (docs/singlestore.md, "Django's contrib
#: apps"). Small tables with unique keys that must be enforced (usernames,
#: permission codenames, content types, site domains, redirects) are ROWSTORE
#: REFERENCE: a distributed table could not enforce them, and a columnstore one
#: refuses Permission's second, multi-column unique key. The admin's log grows
#: with use and has no unique key: REFERENCE (columnstore, on disk). Each app's
#: models also declare ``AutoField`` keys, which only reference tables take as
#: INTEGER AUTO_INCREMENT. Sessions (a string key, nothing else unique) keep the
#: connection's default, distributed by session key.
CONTRIB_STORAGE = {
    "django.contrib.admin": REFERENCE,
    "django.contrib.auth": ROWSTORE_REFERENCE,
    "django.contrib.contenttypes": ROWSTORE_REFERENCE,
    "django.contrib.flatpages": ROWSTORE_REFERENCE,
    "django.contrib.redirects": ROWSTORE_REFERENCE,
    "django.contrib.sites": ROWSTORE_REFERENCE,
}


@dataclass(frozen=True)
class StorageSettings:
    """What a connection's OPTIONS say about storage, as a value the rules take."""

    #: ``OPTIONS["table_storage_type"]``: every table nothing else decides.
    default: str | None = None
    #: ``OPTIONS["table_storage_types"]``: ``{app_label: storage type}``.
    by_app: Mapping[str, str] = field(default_factory=dict)
    #: The connection's alias, to name the setting in messages.
    alias: str = "default"

    @classmethod
    def from_options(cls, options: Mapping, alias: str) -> StorageSettings:
        by_app = options.get("table_storage_types") or {}
        if not isinstance(by_app, Mapping):
            raise ImproperlyConfigured(
                f'DATABASES["{alias}"]["OPTIONS"]["table_storage_types"] is {by_app!r}; use a '
                'dict of app labels to storage types, e.g. {"myapp": "ROWSTORE REFERENCE"}.'
            )
        for label, value in by_app.items():
            normalized_storage_type(value, cls.option(alias, label))
        return cls(options.get("table_storage_type"), dict(by_app), alias)

    @staticmethod
    def option(alias: str, app_label: str) -> str:
        return f'DATABASES["{alias}"]["OPTIONS"]["table_storage_types"]["{app_label}"]'

    def setting_for(self, app_label: str, storage_type: str) -> str:
        """The exact setting that stores ``app_label``'s tables as ``storage_type``."""
        return (
            f'DATABASES["{self.alias}"]["OPTIONS"]["table_storage_types"] = '
            f'{{"{app_label}": "{storage_type}"}} in settings.py (or the environment variable '
            f'{app_env(STORAGE_ENV_PREFIX, app_label)}="{storage_type}")'
        )


def contrib_app(app_label: str) -> str | None:
    """The django.contrib module installed under ``app_label``, if it has a contrib storage."""
    from django.apps import apps

    try:
        name = apps.get_app_config(app_label).name
    except LookupError:
        return None
    return name if name in CONTRIB_STORAGE else None


def table_storage(model: type[models.Model], settings: StorageSettings) -> TableStorage:
    """The storage of ``model``'s table.

    Its ModelStorageManager, else its app's environment variable, else its
    app's entry in ``OPTIONS["table_storage_types"]``, else the contrib
    storage of a django.contrib app, else ``OPTIONS["table_storage_type"]``,
    else the server's default, columnstore.
    """
    meta = model._meta
    source_model = model
    if meta.auto_created:
        # An auto-created m2m through table follows the model that declares the field.
        source_model = meta.auto_created
    label = meta.app_label
    unenforced = bool(os.environ.get(app_env(UNENFORCED_UNIQUE_ENV_PREFIX, label)))
    for manager in source_model._meta.managers:
        if isinstance(manager, ModelStorageManager):
            return TableStorage(
                manager.table_storage_type,
                unenforced,
                f"ModelStorageManager on {source_model._meta.label}",
            )
    variable = app_env(STORAGE_ENV_PREFIX, label)
    if variable in os.environ:
        value = os.environ[variable]
        return TableStorage(normalized_storage_type(value, variable), unenforced, variable)
    if label in settings.by_app:
        option = settings.option(settings.alias, label)
        return TableStorage(
            normalized_storage_type(settings.by_app[label], option), unenforced, option
        )
    contrib = contrib_app(label)
    if contrib is not None:
        return TableStorage(
            CONTRIB_STORAGE[contrib], unenforced, f"this backend's storage for {contrib}"
        )
    source = (
        f'DATABASES["{settings.alias}"]["OPTIONS"]["table_storage_type"]'
        if settings.default is not None
        else f"the server default (no ModelStorageManager, {variable} unset)"
    )
    return TableStorage(normalized_storage_type(settings.default, source), unenforced, source)
