"""System checks for index declarations MongoDB cannot enforce as written.

``manage.py check --database <alias>`` and ``migrate`` run them. Django's own
model checks already warn, from the feature flags, about conditions on a
server without partial indexes (W036/W037), expressions (W043/W044), include
(W039/W040), deferrable (W038), nulls_distinct (W047) and CHECK constraints
(W027). These warnings cover what only this backend knows:

- mongodb.W001: a ``UniqueConstraint`` condition with no exact
  ``partialFilterExpression`` form, on a server with partial indexes: the
  constraint is not created;
- mongodb.W002: the same for an ``Index`` condition: the index covers every
  document;
- mongodb.W003: a constraint class MongoDB cannot create at all.

Nothing is refused in the middle of ``migrate``; see ``index_specs``.
"""

from __future__ import annotations

from django.core import checks
from django.db.backends.base.validation import BaseDatabaseValidation
from django.db.models import CheckConstraint, UniqueConstraint

from django_nonrel.routing import routed_models

from .partial_filters import partial_filter

CONDITION_FORMS = (
    "MongoDB partial indexes take an AND of exact, gt, gte, lt, lte, range and isnull "
    "lookups on the model's own scalar fields"
)


class DatabaseValidation(BaseDatabaseValidation):
    def check(self, **kwargs):
        issues = super().check(**kwargs)
        for model in routed_models(self.connection.alias, kwargs.get("app_configs")):
            meta = model._meta
            if meta.managed and not (meta.proxy or meta.swapped):
                issues.extend(self.check_indexes(model))
        return issues

    def check_indexes(self, model) -> list[checks.CheckMessage]:
        """The warnings for ``model``'s Meta.indexes and Meta.constraints."""
        partial = self.connection.features.supports_partial_indexes
        issues = []
        for constraint in model._meta.constraints:
            if isinstance(constraint, UniqueConstraint):
                if partial and self._inexpressible(model, constraint.condition):
                    issues.append(
                        checks.Warning(
                            f"The condition of UniqueConstraint {constraint.name!r} has no "
                            "MongoDB partial index form; the constraint won't be created.",
                            hint=f"{CONDITION_FORMS}. Model.validate_constraints() still "
                            "checks it (forms, admin, full_clean()).",
                            obj=model,
                            id="mongodb.W001",
                        )
                    )
            elif not isinstance(constraint, CheckConstraint):
                issues.append(
                    checks.Warning(
                        f"MongoDB cannot create {type(constraint).__name__} "
                        f"{constraint.name!r}; it won't be created.",
                        hint="Model.validate_constraints() still checks it, if the "
                        "constraint can validate in Python.",
                        obj=model,
                        id="mongodb.W003",
                    )
                )
        for index in model._meta.indexes:
            if partial and self._inexpressible(model, index.condition):
                issues.append(
                    checks.Warning(
                        f"The condition of index {index.name!r} has no MongoDB partial "
                        "index form; the index will cover every document.",
                        hint=f"{CONDITION_FORMS}. Silence this warning if you don't care.",
                        obj=model,
                        id="mongodb.W002",
                    )
                )
        return issues

    def _inexpressible(self, model, condition) -> bool:
        return condition is not None and partial_filter(model, condition, self.connection) is None
