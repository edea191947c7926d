"""Stock SQLite, configured as Django's own tests/test_sqlite.py does: the baseline.

Two in-memory databases, ``default`` and ``other``, as runtests.py expects. No
django-nonrel patch may be in effect (checked by the test runner).
"""

import django

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3"},
    "other": {"ENGINE": "django.db.backends.sqlite3"},
}
SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if django.VERSION < (6, 0):
    # As Django's own tests/test_sqlite.py: 5.2 pins AutoField, 6.x keeps its
    # BigAutoField default (its tests expect BigAutoField keys).
    DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = False

TEST_RUNNER = "tests.djangosuite.overlay.CheckingTestRunner"
DJANGOSUITE_EXPECTED_PATCHES = "none"
