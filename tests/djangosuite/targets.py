"""The backend targets and the sets of Django test apps the harness runs on them.

Kept free of Django imports: the noxfile reads it in nox's own interpreter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

#: Set by the harness from ``--mongodb-uri``; wins over the variables below.
MONGODB_URI_OVERRIDE = "NONREL_DJANGOSUITE_MONGODB_URI"
#: Where the MongoDB target connects, in order of preference.
MONGODB_URI_SOURCES = (MONGODB_URI_OVERRIDE, "NONREL_TEST_FERRETDB_URI", "MONGODB_URI")
MONGOMOCK_URI = "mongomock://localhost"

APP_SETS = {
    # Apps whose results the overlay must leave unchanged on stock SQLite.
    "core": (
        "basic",
        "lookup",
        "queries",
        "model_fields",
        "delete",
        "save_delete_hooks",
        "update",
        "get_or_create",
        "bulk_create",
        "custom_pk",
        "many_to_one",
        "one_to_one",
        "ordering",
        "expressions",
    ),
    # Apps whose models live in one table each: the MongoDB backend's first yardstick.
    "mongodb-single-table": (
        "basic",
        "lookup",
        "ordering",
        "update",
        "get_or_create",
        "bulk_create",
        "custom_pk",
        "save_delete_hooks",
        "model_fields",
    ),
}


@dataclass(frozen=True)
class Target:
    """A backend configuration Django's tests run against."""

    name: str
    settings: str
    description: str
    default_apps: str

    @property
    def needs_mongodb(self) -> bool:
        return self.settings.endswith("_mongodb")

    @property
    def needs_mariadb(self) -> bool:
        return self.settings.endswith("_singlestore")


TARGETS = {
    target.name: target
    for target in (
        Target(
            "sqlite",
            "tests.djangosuite.settings_sqlite",
            "stock Django on SQLite, no django-nonrel patch: the baseline",
            "core",
        ),
        Target(
            "sqlite_overlay",
            "tests.djangosuite.settings_sqlite_overlay",
            "stock SQLite with every django-nonrel patch applied",
            "core",
        ),
        Target(
            "mongodb",
            "tests.djangosuite.settings_mongodb",
            "django_nonrel.backends.mongodb",
            "mongodb-single-table",
        ),
        Target(
            "singlestore",
            "tests.djangosuite.settings_singlestore",
            "django_nonrel.backends.singlestore, mysql dialect, on MariaDB",
            "core",
        ),
    )
}
#: The pair whose results must be identical: that is what the overlay promises.
OVERLAY_PAIR = ("sqlite", "sqlite_overlay")


def expand_apps(names: list[str]) -> list[str]:
    """App labels from labels and set names, in order, without repeats."""
    apps: list[str] = []
    for name in names:
        for app in APP_SETS.get(name, (name,)):
            if app not in apps:
                apps.append(app)
    return apps


def mongodb_uri() -> str:
    """The URI the MongoDB target connects to (mongomock when no server is given)."""
    for variable in MONGODB_URI_SOURCES:
        if os.environ.get(variable):
            return os.environ[variable]
    return MONGOMOCK_URI


def mongodb_server() -> str:
    """What ``mongodb_uri()`` points at, for reports (never the URI: it may hold a password)."""
    for variable in MONGODB_URI_SOURCES:
        uri = os.environ.get(variable)
        if uri:
            if uri.startswith("mongomock://"):
                return "mongomock (in process)"
            if variable == "NONREL_TEST_FERRETDB_URI":
                return "FerretDB (NONREL_TEST_FERRETDB_URI)"
            if variable == "MONGODB_URI":
                return "MongoDB server (MONGODB_URI)"
            return "server given by --mongodb-uri"
    return "mongomock (in process)"
