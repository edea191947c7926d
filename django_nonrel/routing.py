"""The models a database's migrations create: what a backend's system checks look at."""

from __future__ import annotations

from django.apps import apps
from django.db import router


def routed_models(alias: str, app_configs=None) -> list:
    """The models (auto-created ones too) that migrations on ``alias`` may create.

    ``app_configs`` is what Django passes to checks: None for every installed app.
    """
    if app_configs is None:
        models = apps.get_models(include_auto_created=True)
    else:
        models = [
            model
            for config in app_configs
            for model in config.get_models(include_auto_created=True)
        ]
    return [model for model in models if router.allow_migrate_model(alias, model)]
