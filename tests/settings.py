"""Settings for django-nonrel's own test suite.

The database under test comes from ``NONREL_TEST_DB`` (a URL), so the same test
modules run on every tier:

- ``mongomock://``            the in-process embedded store (default)
- ``mongodb://HOST:PORT``     FerretDB started by the test command, or a real MongoDB
- ``sqlite://``               Django's stock SQLite backend with the overlay active
- ``mysql://USER@HOST:PORT``  Django's stock MySQL backend on the MariaDB the test command starts

The ``sqlite`` alias is always stock SQLite: differential tests compare against it.
"""

import os
from urllib.parse import urlsplit

TARGET = os.environ.get("NONREL_TEST_DB", "mongomock://localhost")


def database_from_url(url: str, name: str) -> dict:
    """A DATABASES entry for ``url``; ``name`` is the database name on servers."""
    scheme = urlsplit(url).scheme
    if scheme in ("mongodb", "mongodb+srv", "mongomock"):
        return {
            "ENGINE": "django_nonrel.backends.mongodb",
            "HOST": url,
            "NAME": name,
            "TEST": {"NAME": f"test_{name}"},
        }
    if scheme == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    if scheme == "mysql":
        parts = urlsplit(url)
        return {
            "ENGINE": "django.db.backends.mysql",
            "HOST": parts.hostname,
            "PORT": parts.port or 3306,
            "USER": parts.username or "root",
            "PASSWORD": parts.password or "",
            "NAME": name,
            "TEST": {"NAME": f"test_{name}"},
        }
    raise ValueError(f"NONREL_TEST_DB: unsupported URL scheme {scheme!r} in {url!r}")


DATABASES = {
    "default": database_from_url(TARGET, "nonrel_tests"),
    "sqlite": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_nonrel",
    "tests.app",
    "tests.orm",
    "tests.relations",
    "tests.agg",
    "tests.conc",
    "tests.differential",
]

SECRET_KEY = "django-nonrel-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
