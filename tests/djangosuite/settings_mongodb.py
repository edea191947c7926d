"""The MongoDB backend on FerretDB (NONREL_TEST_FERRETDB_URI), MONGODB_URI, or mongomock."""

import os

HOST = (
    os.environ.get("NONREL_TEST_FERRETDB_URI")
    or os.environ.get("MONGODB_URI")
    or "mongomock://djangotests"
)
DATABASES = {
    "default": {"ENGINE": "django_nonrel.backends.mongodb", "HOST": HOST, "NAME": "djangotests"},
    "other": {"ENGINE": "django_nonrel.backends.mongodb", "HOST": HOST, "NAME": "djangotests2"},
}
SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = False
