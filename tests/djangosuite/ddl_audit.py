"""The singlestore dialect's DDL for every schema operation Django's own tests perform.

Django's test suite runs the SingleStore target in the mysql dialect (MariaDB
cannot run SingleStore's DDL). With ``NONREL_SINGLESTORE_DDL_AUDIT=FILE`` set, each
schema-editor operation those tests perform (create_model, alter_field,
add_index, ...) is first rendered in the singlestore dialect as well -- by a
``collect_sql`` editor on a second connection to the same test database, so
that it sees the same tables and indexes -- and the result is appended to FILE
as one JSON line: the statements and what SingleStore's documented grammar
says of each (tests/singlestore/grammar.py), or the refusal (with its rule id),
or any other exception. The mysql-dialect operation then runs as usual: the
audit never changes an outcome. ``python -m tests.djangosuite.ddl_audit FILE``
summarises a file.

Used for docs/singlestore.md's claim that every migration operation of
Django's ``migrations`` and ``schema`` test apps is either rendered as
SingleStore accepts it or refused with the fix.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections import Counter
from pathlib import Path

from tests.djangosuite.overlay import CheckingTestRunner

#: Environment variable naming the JSON-lines file to append to.
AUDIT_ENV = "NONREL_SINGLESTORE_DDL_AUDIT"
OPERATIONS = (
    "create_model",
    "delete_model",
    "add_field",
    "remove_field",
    "alter_field",
    "alter_unique_together",
    "alter_index_together",
    "alter_db_table",
    "alter_db_table_comment",
    "add_index",
    "remove_index",
    "rename_index",
    "add_constraint",
    "remove_constraint",
)


#: Editors inside an audited operation (the tests run in one thread).
_running: list = []


def install(path: str) -> None:
    """Render every operation of mysql-dialect schema editors in the singlestore dialect too."""
    from django_nonrel.backends.singlestore.schema import DatabaseSchemaEditor

    for name in OPERATIONS:
        original = getattr(DatabaseSchemaEditor, name)
        setattr(DatabaseSchemaEditor, name, _audited(original, name, Path(path)))


def _audited(original, name: str, path: Path):
    @functools.wraps(original)
    def operation(editor, *args, **kwargs):
        connection = editor.connection
        if connection.is_singlestore or editor.collect_sql or editor in _running:
            # Not the audited editors; or an operation inside another (create_model's
            # own alter_db_table_comment): rendered with the outer one.
            return original(editor, *args, **kwargs)
        result = _render(connection, name, args, kwargs)
        _running.append(editor)
        try:
            return original(editor, *args, **kwargs)
        except Exception as error:
            if result["outcome"] == "error" and result["message"] == _describe(error):
                # Django itself refuses the operation, in both dialects alike.
                result["outcome"] = "refused by Django"
            raise
        finally:
            _running.remove(editor)
            _record(path, name, args, result)

    return operation


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _render(connection, name: str, args, kwargs) -> dict:
    """The singlestore dialect's statements for the operation, or its refusal."""
    from django.db import NotSupportedError

    from tests.singlestore.grammar import grammar_errors

    settings = {**connection.settings_dict}
    settings["OPTIONS"] = {**settings["OPTIONS"], "dialect": "singlestore"}
    shadow = type(connection)(settings, connection.alias)
    # The shadow's statements stay out of the schema log the tests read (assertLogs).
    schema_log = logging.getLogger("django.db.backends.schema")
    schema_log.disabled = True
    try:
        with shadow.schema_editor(collect_sql=True, atomic=False) as editor:
            getattr(editor, name)(*args, **kwargs)
    except NotSupportedError as refusal:
        message = str(refusal)
        rule = message.rsplit("(", 1)[-1].rstrip(")") if "(singlestore." in message else ""
        return {"outcome": "refused", "rule": rule, "message": message}
    except Exception as error:  # recorded, never raised: the audit must not change outcomes
        return {"outcome": "error", "message": _describe(error)}
    finally:
        schema_log.disabled = False
        shadow.close()
    statements = [sql.removesuffix(";") for sql in editor.collected_sql]
    problems = {sql: grammar_errors(sql) for sql in statements if grammar_errors(sql)}
    return {"outcome": "ddl", "statements": statements, "grammar": problems}


def _record(path: Path, name: str, args, result: dict) -> None:
    # Every audited operation takes the model first.
    line = {"operation": name, "model": args[0]._meta.label, **result}
    with path.open("a") as file:
        file.write(json.dumps(line) + "\n")


def summary(path: Path) -> dict:
    """Counts by outcome and rule, and every operation that is neither DDL nor refused."""
    lines = [json.loads(line) for line in path.read_text().splitlines() if line]
    outcomes = Counter(line["outcome"] for line in lines)
    rules = Counter(line["rule"] for line in lines if line["outcome"] == "refused")
    operations = Counter(line["operation"] for line in lines)
    ungrammatical = [line for line in lines if line["outcome"] == "ddl" and line["grammar"]]
    errors = [line for line in lines if line["outcome"] == "error"]
    refused_by_django = Counter(
        line["message"].split(":")[0] for line in lines if line["outcome"] == "refused by Django"
    )
    unexplained = [line for line in lines if line["outcome"] == "refused" and not line["rule"]]
    return {
        "operations": len(lines),
        "by_operation": dict(operations.most_common()),
        "outcomes": dict(outcomes),
        "refused_by_rule": dict(rules.most_common()),
        "refused_by_django": dict(refused_by_django.most_common()),
        "statements": sum(len(line.get("statements", ())) for line in lines),
        "ungrammatical": ungrammatical,
        "errors": errors,
        "refused_without_rule": unexplained,
    }


class AuditingTestRunner(CheckingTestRunner):
    """The harness's runner, with the audit installed before the tests run.

    The tests this backend declares skipped (backends/singlestore/testsuite.py)
    run too, so that the operations SingleStore refuses are recorded as refused;
    an audit run's outcomes are not conformance numbers.
    """

    def setup_test_environment(self, **kwargs):
        install(os.environ[AUDIT_ENV])
        super().setup_test_environment(**kwargs)

    def setup_databases(self, **kwargs):
        from django.db import connections

        from django_nonrel.backends.singlestore.testsuite import SKIPS

        declared = set().union(*SKIPS.values())
        for connection in connections.all():
            skips = connection.features.django_test_skips
            connection.features.__dict__["django_test_skips"] = {
                reason: tests - declared for reason, tests in skips.items()
            }
        return super().setup_databases(**kwargs)


if __name__ == "__main__":
    print(json.dumps(summary(Path(sys.argv[1])), indent=2))
