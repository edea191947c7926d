from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "django_nonrel.demo"
    label = "demo"
    default_auto_field = "django.db.models.AutoField"
