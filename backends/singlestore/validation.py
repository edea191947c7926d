"""System checks for SingleStore's rules: ``manage.py check --database <alias>``.

Each model routed to this database is planned as the schema editor would
create it (rules.plan_table), and every rule it breaks becomes a checks.Error
naming the model or field, the rule and the fixes -- before a migration meets
the server. Runs in both dialects: on MariaDB the same models would be refused
by SingleStore.
"""

from django.apps import apps
from django.core import checks
from django.db import router
from django.db.backends.mysql.validation import DatabaseValidation as MySQLValidation

from .rules import plan_table


class DatabaseValidation(MySQLValidation):
    """Django's MySQL checks (strict mode, index-less column types) and SingleStore's rules."""

    def check(self, **kwargs):
        issues = super().check(**kwargs)
        app_configs = kwargs.get("app_configs")
        models = (
            apps.get_models(include_auto_created=True)
            if app_configs is None
            else [
                model
                for config in app_configs
                for model in config.get_models(include_auto_created=True)
            ]
        )
        routed = [
            model for model in models if router.allow_migrate_model(self.connection.alias, model)
        ]
        return issues + self.check_models(routed)

    def check_field_type(self, field, field_type):
        issues = super().check_field_type(field, field_type)
        if self.connection.is_singlestore:
            # mysql.W003 is InnoDB's index-length limit, not SingleStore's.
            issues = [issue for issue in issues if issue.id != "mysql.W003"]
        return issues

    def check_models(self, models) -> list[checks.CheckMessage]:
        """One Error per SingleStore rule each of ``models`` breaks, as migrate would refuse."""
        settings = self.connection.storage_settings
        issues = []
        for model in models:
            meta = model._meta
            if not meta.managed or meta.proxy or meta.swapped:
                continue
            for violation in plan_table(model, settings).violations:
                issues.append(
                    checks.Error(
                        violation.message, hint=violation.hint, obj=violation.obj, id=violation.id
                    )
                )
        return issues
