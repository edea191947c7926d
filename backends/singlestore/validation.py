"""System checks for SingleStore's rules: ``manage.py check --database <alias>``.

Each model routed to this database is planned as the schema editor would
create it (rules.plan_table), and every rule it breaks becomes a checks.Error
naming the model or field, the rule and the fixes -- before a migration meets
the server. Runs in both dialects: on MariaDB the same models would be refused
by SingleStore. The reporting is django_nonrel.rules', shared with the MongoDB
backend's sharding rules.
"""

from django_nonrel.rules import RuleValidation

from .rules import plan_table


class DatabaseValidation(RuleValidation):
    def violations(self, model):
        """The SingleStore rules ``model`` breaks, as migrate would refuse them."""
        default = self.connection.settings_dict["OPTIONS"].get("table_storage_type")
        return plan_table(model, default).violations
