"""The ``django_nonrel`` app: applies the ORM patches and registers system checks."""

from django.apps import AppConfig


class DjangoNonrelConfig(AppConfig):
    name = "django_nonrel"
    verbose_name = "django-nonrel"

    def ready(self) -> None:
        from django_nonrel.patches import apply_all

        apply_all()
