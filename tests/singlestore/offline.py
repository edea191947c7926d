"""SingleStore connections and throwaway models for tests that run without a server.

``offline_connection()`` builds a connection to a port nothing listens on: any
test that renders DDL or SQL through it proves that rendering needs no server
(a query would fail with OperationalError). Models are declared in a private
app registry per test, so they never reach the project's apps or checks.
"""

from __future__ import annotations

import sys

from django.apps import AppConfig
from django.apps.registry import Apps
from django.db import models
from django.db.utils import ConnectionHandler

#: Port 9 (discard) on loopback: nothing answers, so a query fails at once.
UNREACHABLE = {"HOST": "127.0.0.1", "PORT": 9, "USER": "nobody", "NAME": "shopdb"}


def offline_connection(dialect: str = "singlestore", server_info: str | None = None, **options):
    """A connection nothing answers; ``server_info`` stands in for the version a mysql-dialect
    server would report (e.g. ``"10.11.6-MariaDB"``), for what depends on it."""
    settings = {
        "ENGINE": "django_nonrel.backends.singlestore",
        **UNREACHABLE,
        "OPTIONS": {"dialect": dialect, **options},
    }
    connection = ConnectionHandler({"default": settings})["default"]
    if server_info is not None:
        connection.__dict__["mysql_server_info"] = server_info
    return connection


def create_sql(connection, *model_classes) -> list[str]:
    """The statements ``create_model`` would run, collected without a server."""
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        for model in model_classes:
            editor.create_model(model)
    return [sql.removesuffix(";") for sql in editor.collected_sql]


class Registry:
    """Declares models in the app ``shop`` of a fresh app registry.

    Its automatic primary keys are BigAutoField, as in a project made by
    ``startproject`` (SingleStore wants BIGINT AUTO_INCREMENT on distributed
    tables); ``Registry("django.db.models.AutoField")`` for INTEGER ones.
    """

    def __init__(self, default_auto_field: str = "django.db.models.BigAutoField") -> None:
        # An app config for "shop", so the registry lists its models (reverse relations).
        config = AppConfig("tests.singlestore", sys.modules["tests.singlestore"])
        config.label = "shop"
        config.default_auto_field = default_auto_field
        self.apps = Apps([config])

    def model(self, name: str, fields: dict, meta: dict | None = None, **attrs):
        meta_attrs = {"app_label": "shop", "apps": self.apps, **(meta or {})}
        body = {
            "__module__": "tests.singlestore.shop",
            "Meta": type("Meta", (), meta_attrs),
            **fields,
            **attrs,
        }
        return type(name, (models.Model,), body)
