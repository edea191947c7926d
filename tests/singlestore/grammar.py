"""SingleStore's DDL grammar, as its documentation writes it, to check rendered statements.

No SingleStore server runs here and no parser for its dialect is usable (see
docs/singlestore.md), so golden-DDL tests check every statement the
singlestore dialect renders against the statement shapes SingleStore documents
for CREATE TABLE, ALTER TABLE, CREATE INDEX, DROP INDEX and DROP TABLE, and
against the MySQL forms SingleStore lacks. A statement that matches no shape,
or carries a form SingleStore does not have, is reported with the reason.
"""

from __future__ import annotations

import re

NAME = r"`[^`]+`"
COLUMNS = r"\([^()]*(\([^()]*\)[^()]*)*\)"

#: ``ALTER TABLE`` specifications in SingleStore's grammar.
ALTER_SPECIFICATIONS = (
    rf"ADD (COLUMN )?{NAME} .+",
    rf"ADD (UNIQUE )?KEY {NAME} {COLUMNS}( UNENFORCED RELY)?",
    rf"DROP (COLUMN )?{NAME}",
    rf"DROP (INDEX|KEY) {NAME}",
    rf"MODIFY (COLUMN )?{NAME} .+",
    rf"CHANGE {NAME} {NAME}",
    rf"RENAME TO {NAME}",
)
STATEMENTS = (
    rf"CREATE (ROWSTORE )?(REFERENCE )?TABLE {NAME} \(.+\)( COMMENT '.*')?",
    rf"ALTER TABLE {NAME} ({'|'.join(ALTER_SPECIFICATIONS)})",
    rf"CREATE (UNIQUE )?INDEX {NAME} ON {NAME} {COLUMNS}",
    rf"DROP INDEX {NAME} ON {NAME}",
    rf"DROP TABLE {NAME}",
    rf"UPDATE {NAME} SET .+",
)
#: MySQL forms SingleStore has no equivalent of, with what it has instead.
NOT_SINGLESTORE = {
    "ALTER COLUMN": "column defaults change by MODIFY COLUMN with the whole definition",
    "ADD CONSTRAINT": "unique keys are added by ADD UNIQUE KEY",
    "RENAME COLUMN": "columns are renamed by CHANGE old new",
    "DROP PRIMARY KEY": "a primary key is fixed at CREATE TABLE",
    "FOREIGN KEY": "SingleStore has no FOREIGN KEY constraints",
    "CASCADE": "DROP TABLE takes no CASCADE",
    "COMMENT =": "a table comment cannot change after CREATE TABLE",
    "GENERATED ALWAYS": "computed columns are AS (expr) PERSISTED type",
    "RENAME TABLE": "tables are renamed by ALTER TABLE ... RENAME TO",
}


def grammar_errors(statement: str) -> list[str]:
    """Why ``statement`` is not SingleStore DDL (empty when it is)."""
    sql = statement.strip().removesuffix(";")
    errors = [f"{form!r}: {instead}" for form, instead in NOT_SINGLESTORE.items() if form in sql]
    if sql.startswith("ALTER TABLE") and "PRIMARY KEY" in sql:
        errors.append("'PRIMARY KEY' in ALTER TABLE: a primary key is fixed at CREATE TABLE")
    if not any(re.fullmatch(shape, sql, re.DOTALL) for shape in STATEMENTS):
        errors.append("no documented statement shape matches")
    return errors
