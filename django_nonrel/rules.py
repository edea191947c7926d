"""Rules a distributed database puts on models, reported as system checks.

SingleStore and a sharded MongoDB cluster both refuse schemas a single node
accepts (unique keys that do not contain the shard key, above all), and both
backends report them where the user can act: ``manage.py check --database
<alias>`` (and ``migrate``, which runs the same checks), before the server
refuses a migration. Each backend decides its own rules; this module holds
what reporting them shares:

- :class:`RuleViolation`, one broken rule: its check id, the model or field
  it is about, what is wrong, and the fix;
- :class:`RuleValidation`, a ``DatabaseValidation`` base whose ``check()``
  runs the backend's ``violations(model)`` over every model routed to the
  database (``routing.routed_models``) and returns them as Django check
  messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core import checks
from django.db import models
from django.db.backends.base.validation import BaseDatabaseValidation

from .routing import routed_models

#: Check message class per level.
MESSAGE_CLASSES = {checks.ERROR: checks.Error, checks.WARNING: checks.Warning}


@dataclass(frozen=True)
class RuleViolation:
    """A rule a model breaks: what, which rule, how to fix it."""

    id: str
    obj: object
    message: str
    hint: str
    #: ``checks.ERROR`` (the database refuses it) or ``checks.WARNING`` (it works, badly).
    level: int = checks.ERROR

    def as_check_message(self) -> checks.CheckMessage:
        return MESSAGE_CLASSES[self.level](self.message, hint=self.hint, obj=self.obj, id=self.id)


class RuleValidation(BaseDatabaseValidation):
    """Checks every model routed to this database against the backend's rules."""

    def violations(self, model: type[models.Model]) -> Iterable[RuleViolation]:
        """The rules ``model`` breaks on this database (a backend defines them)."""
        raise NotImplementedError

    def check(self, **kwargs) -> list[checks.CheckMessage]:
        issues = super().check(**kwargs)
        routed = routed_models(self.connection.alias, kwargs.get("app_configs"))
        return issues + self.check_models(routed)

    def check_models(self, models_to_check) -> list[checks.CheckMessage]:
        """One message per rule each of the models breaks (tables Django creates only)."""
        issues = []
        for model in models_to_check:
            meta = model._meta
            if not meta.managed or meta.proxy or meta.swapped:
                continue
            issues.extend(violation.as_check_message() for violation in self.violations(model))
        return issues
