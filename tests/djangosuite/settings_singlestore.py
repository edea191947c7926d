"""The SingleStore backend in its mysql dialect, on the MariaDB the harness starts.

The server comes from NONREL_TEST_MARIADB_URL (``python -m tests.servers --mariadb``
exports it; the nox djangosuite sessions start MariaDB when it is unset). Tables
are ROWSTORE REFERENCE, as django-singlestore's own CI configures Django's test
apps: Django's tests rely on enforced unique keys, which SingleStore only
enforces everywhere on reference tables (and in this project's system checks,
every other storage type would refuse those test models up front).
"""

import os
from urllib.parse import unquote, urlsplit

import django
from django.core.exceptions import ImproperlyConfigured

URL = os.environ.get("NONREL_TEST_MARIADB_URL")
if not URL:
    raise ImproperlyConfigured(
        "the singlestore target needs NONREL_TEST_MARIADB_URL: run it under "
        "`python -m tests.servers --mariadb -- ...` or through nox"
    )
_parts = urlsplit(URL)


def _database(name: str) -> dict:
    return {
        "ENGINE": "django_nonrel.backends.singlestore",
        "HOST": _parts.hostname,
        "PORT": _parts.port,
        "USER": unquote(_parts.username or "root"),
        "PASSWORD": unquote(_parts.password or ""),
        "NAME": name,
        "OPTIONS": {"dialect": "mysql", "table_storage_type": "ROWSTORE REFERENCE"},
        "TEST": {"NAME": f"test_{name}"},
    }


DATABASES = {"default": _database("djangotests"), "other": _database("djangotests_other")}
SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if django.VERSION < (6, 0):
    # As Django's own tests/test_sqlite.py: 5.2 pins AutoField, 6.x keeps its
    # BigAutoField default (its tests expect BigAutoField keys).
    DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = False

TEST_RUNNER = "tests.djangosuite.overlay.CheckingTestRunner"
if os.environ.get("NONREL_SINGLESTORE_DDL_AUDIT"):
    # Every schema operation also rendered in the singlestore dialect (ddl_audit.py).
    TEST_RUNNER = "tests.djangosuite.ddl_audit.AuditingTestRunner"
DJANGOSUITE_EXPECTED_PATCHES = "all"
