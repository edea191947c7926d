"""System checks for sharded clusters: ``manage.py check --database <alias>``.

Every model routed to this database that declares a ``ShardKey`` is checked
against the rules a sharded cluster enforces (shard_rules.py), on every
MongoDB server: a replica set or FerretDB accepts what a cluster would refuse,
and the check finds it before the models meet one.
"""

from django_nonrel.rules import RuleValidation

from .shard_rules import violations


class DatabaseValidation(RuleValidation):
    def violations(self, model):
        """The sharding rules ``model`` breaks (nothing for an unsharded model)."""
        return violations(model, self.connection.schema_editor(collect_sql=True))
