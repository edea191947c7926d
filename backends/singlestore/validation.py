"""System checks for SingleStore's rules: ``manage.py check --database <alias>``.

Each model routed to this database is planned as the schema editor would
create it (rules.plan_table), and every rule it breaks becomes a checks.Error
naming the model or field, the rule and the fixes -- before a migration meets
the server. Runs in both dialects: on MariaDB the same models would be refused
by SingleStore. The reporting is django_nonrel.rules', shared with the MongoDB
backend's sharding rules.
"""

from django.db.backends.mysql.validation import DatabaseValidation as MySQLValidation

from django_nonrel.rules import RuleValidation, RuleViolation

from .rules import plan_table


class DatabaseValidation(RuleValidation, MySQLValidation):
    """Django's MySQL checks (strict mode, index-less column types) and SingleStore's rules."""

    def violations(self, model) -> list[RuleViolation]:
        """The SingleStore rules ``model`` breaks, as migrate would refuse them."""
        return plan_table(model, self.connection.storage_settings).violations

    def check_field_type(self, field, field_type):
        issues = super().check_field_type(field, field_type)
        if self.connection.is_singlestore:
            # mysql.W003 is InnoDB's index-length limit, not SingleStore's.
            issues = [issue for issue in issues if issue.id != "mysql.W003"]
        return issues
