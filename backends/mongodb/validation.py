"""System checks: ``manage.py check --database <alias>`` (``migrate`` runs them too).

Every model routed to this database is checked, on every MongoDB server, for

- the rules a sharded cluster enforces on a model with a ``ShardKey``
  (``shard_rules``: mongodb.E001-E006, W001) -- a replica set or FerretDB
  accepts what a cluster would refuse, and the check finds it before the
  models meet one;
- index declarations this server cannot enforce as written (``index_rules``:
  warnings mongodb.W002-W004), which migrate skips instead of refusing.
"""

from django_nonrel.rules import RuleValidation, RuleViolation

from . import index_rules, shard_rules


class DatabaseValidation(RuleValidation):
    def violations(self, model) -> list[RuleViolation]:
        """The sharding rules ``model`` breaks and the index declarations not created."""
        editor = self.connection.schema_editor(collect_sql=True)
        return [
            *shard_rules.violations(model, editor),
            *index_rules.violations(model, self.connection),
        ]
