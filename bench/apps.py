"""The benchmark models' app (label ``bench``)."""

from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "bench"
    label = "bench"
    # What `startproject` sets, and what SingleStore's distributed tables need
    # (singlestore.E005 refuses a narrower AUTO_INCREMENT there).
    default_auto_field = "django.db.models.BigAutoField"
