"""Settings for django-nonrel's own test suite.

The database under test comes from ``NONREL_TEST_DB`` (a URL), so the same test
modules run on every tier:

- ``mongomock://``            the in-process embedded store (default)
- ``mongodb://HOST:PORT``     FerretDB started by the test command, or a real MongoDB
- ``sqlite://``               Django's stock SQLite backend with the overlay active
- ``mysql://USER@HOST:PORT``  Django's stock MySQL backend on the MariaDB the test command starts
- ``singlestore://USER:PASSWORD@HOST:PORT?dialect=mysql``  the SingleStore backend;
  ``dialect=mysql`` on MariaDB (the test command's SQL-wire tier), the default ``singlestore``
  on a SingleStore server (``SINGLESTORE_URL``); ``storage=`` sets its table storage type.

The ``sqlite`` alias is always stock SQLite: differential tests compare against it.
"""

import importlib.util
import os
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

# The suite imports django_nonrel from the checkout's root, where backends/ and
# patches/ sit beside the package: only an editable install maps them into it.
if importlib.util.find_spec("django_nonrel.backends") is None:
    raise ImproperlyConfigured(
        "The tests need this checkout installed editable (its backends/ and patches/ "
        "join django_nonrel only through the install): python3 -m pip install -e '.[test]'"
    )

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
    if scheme == "singlestore":
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        options = {"dialect": query.get("dialect", "singlestore")}
        if "storage" in query:
            options["table_storage_type"] = query["storage"]
        return {
            "ENGINE": "django_nonrel.backends.singlestore",
            "HOST": parts.hostname,
            "PORT": parts.port or 3306,
            "USER": unquote(parts.username or "root"),
            "PASSWORD": unquote(parts.password or ""),
            "NAME": name,
            "OPTIONS": options,
            "TEST": {"NAME": f"test_{name}"},
        }
    raise ValueError(f"NONREL_TEST_DB: unsupported URL scheme {scheme!r} in {url!r}")


DATABASES = {
    "default": database_from_url(TARGET, "nonrel_tests"),
    "sqlite": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.messages",
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

# The contrib apps as a project uses them (tests/contrib drives the admin through
# Django's test client): database sessions, cookie-or-session messages, one site.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
ROOT_URLCONF = "tests.contrib.urls"
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SITE_ID = 1
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
