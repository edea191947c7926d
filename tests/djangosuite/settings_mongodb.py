"""The MongoDB backend: FerretDB, a real server from MONGODB_URI, or mongomock.

Which one is decided by ``tests.djangosuite.targets.mongodb_uri`` (the harness
records it next to the counts). The backend applies django-nonrel's patches when it
loads, and the test runner checks that all of them are in effect.
"""

import django

from tests.djangosuite.targets import mongodb_uri

HOST = mongodb_uri()
DATABASES = {
    "default": {"ENGINE": "django_nonrel.backends.mongodb", "HOST": HOST, "NAME": "djangotests"},
    "other": {
        "ENGINE": "django_nonrel.backends.mongodb",
        "HOST": HOST,
        "NAME": "djangotests_other",
    },
}
SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if django.VERSION < (6, 0):
    # As Django's own tests/test_sqlite.py: 5.2 pins AutoField, 6.x keeps its
    # BigAutoField default (its tests expect BigAutoField keys).
    DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = False

TEST_RUNNER = "tests.djangosuite.overlay.CheckingTestRunner"
DJANGOSUITE_EXPECTED_PATCHES = "all"
