"""Index declarations MongoDB cannot enforce as written, reported as system-check warnings.

``manage.py check --database <alias>`` and ``migrate`` report them (through
``validation``). Django's own model checks already warn, from the feature
flags, about conditions on a server without partial indexes (W036/W037),
expressions (W043/W044), include (W039/W040), deferrable (W038),
nulls_distinct (W047) and CHECK constraints (W027). These warnings cover what
only this backend knows:

``mongodb.W002`` a ``UniqueConstraint`` condition with no exact
    ``partialFilterExpression`` form, on a server with partial indexes: the
    constraint is not created;
``mongodb.W003`` the same for an ``Index`` condition: the index covers every
    document;
``mongodb.W004`` a constraint class MongoDB cannot create at all.

(``mongodb.W005``, a unique set of several fields with a nullable one on a
server without partial indexes, is retired: every supported server now skips
the rows with a NULL among them, as SQL does -- see ``index_specs``.)

Nothing is refused in the middle of ``migrate``; see ``index_specs``. (The
sharding rules, ``shard_rules``, hold mongodb.E001-E006 and W001.)
"""

from __future__ import annotations

from collections.abc import Iterator

from django.core import checks
from django.db import models
from django.db.models import CheckConstraint, UniqueConstraint

from django_nonrel.rules import RuleViolation

from .partial_filters import partial_filter

CONDITION_FORMS = (
    "MongoDB partial indexes take an AND of exact, gt, gte, lt, lte, range and isnull "
    "lookups on the model's own scalar fields"
)


def violations(model: type[models.Model], connection) -> Iterator[RuleViolation]:
    """The warnings for ``model``'s Meta.indexes and Meta.constraints on ``connection``.

    The server is asked whether it has partial indexes only for a declaration
    with a condition: the other checks need no server.
    """

    def inexpressible(condition) -> bool:
        return (
            condition is not None
            and connection.features.supports_partial_indexes
            and partial_filter(model, condition, connection) is None
        )

    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint):
            if inexpressible(constraint.condition):
                yield RuleViolation(
                    "mongodb.W002",
                    model,
                    f"The condition of UniqueConstraint {constraint.name!r} has no "
                    "MongoDB partial index form; the constraint won't be created.",
                    f"{CONDITION_FORMS}. Model.validate_constraints() still checks it "
                    "(forms, admin, full_clean()).",
                    level=checks.WARNING,
                )
        elif not isinstance(constraint, CheckConstraint):
            yield RuleViolation(
                "mongodb.W004",
                model,
                f"MongoDB cannot create {type(constraint).__name__} {constraint.name!r}; "
                "it won't be created.",
                "Model.validate_constraints() still checks it, if the constraint can "
                "validate in Python.",
                level=checks.WARNING,
            )
    for index in model._meta.indexes:
        if inexpressible(index.condition):
            yield RuleViolation(
                "mongodb.W003",
                model,
                f"The condition of index {index.name!r} has no MongoDB partial index form; "
                "the index will cover every document.",
                f"{CONDITION_FORMS}. Silence this warning if you don't care.",
                level=checks.WARNING,
            )
