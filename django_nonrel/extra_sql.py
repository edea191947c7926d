"""The ``extra(select=...)`` snippets a nonrel read can answer without running SQL.

``QuerySet.extra()`` hands the database SQL text; a nonrel store runs none, so
``extra()`` is refused in general (``extra(where=...)``, ``tables=``, function
calls, ``CASE``: "use filter() and annotate() instead"). A small set of
snippets means the same thing on every SQL database and maps one to one onto a
Django expression, which is then evaluated like an annotation
(``django_nonrel.expressions``, SQL's NULL rules):

- a column of the queried model's own table, bare or quoted (``num``,
  ``"name"``), or qualified by an alias of the query (``"queries_item"."name"``);
- a placeholder (``%s``, its value from ``select_params``) and literals: an
  integer or decimal number, a single-quoted string (``'%%s'`` reads ``%s``,
  as the database driver formats it);
- ``+``, ``-``, ``*`` and ``/`` of those, with parentheses and unary minus
  (SQL's precedence). ``/`` is Django's division expression, evaluated as
  ``annotate(F("a") / F("b"))`` is on this backend (integers truncate toward
  zero, as SQLite and PostgreSQL divide; NULL for a zero divisor).

Anything else returns None and the caller refuses the queryset. Values are
those of the field read (a date column gives a ``date``), not a database's raw
column value (SQLite's raw SQL returns text for dates).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldError
from django.db.models.expressions import Col, CombinedExpression, Value
from django.db.models.sql.query import Query

from django_nonrel.sql_restrictions import model_of_table

TOKEN = re.compile(
    r"""\s*(?:
        (?P<param>%s)
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<string>'(?:[^']|'')*')
      | (?P<name>(?:"\w+"|`\w+`|\w+)(?:\.(?:"\w+"|`\w+`|\w+))?)
      | (?P<op>[-+*/()])
    )""",
    re.VERBOSE,
)


class _Unsupported(Exception):
    """The snippet is outside the grammar above."""


def extra_expression(query: Query, base_alias: str, name: str) -> Any | None:
    """The Django expression of ``query.extra[name]``; None for other SQL."""
    sql_text, params = query.extra[name]
    try:
        tokens = _tokens(sql_text, list(params))
        parser = _Parser(query, base_alias, tokens)
        expression = parser.sum()
        if parser.position != len(tokens):
            return None
        expression.output_field  # noqa: B018 -- mixed types: Django's FieldError
    except (_Unsupported, FieldError):
        return None
    return expression


def extra_expressions(query: Query, base_alias: str) -> dict[str, Any] | None:
    """Per selected ``extra(select=...)`` name, its expression; None if any is other SQL."""
    found = {}
    for name in query.extra_select:
        expression = extra_expression(query, base_alias, name)
        if expression is None:
            return None
        found[name] = expression
    return found


def _tokens(sql_text: str, params: list[Any]) -> list[tuple[str, Any]]:
    tokens = []
    position = 0
    text = sql_text.rstrip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None:
            raise _Unsupported
        position = match.end()
        kind = match.lastgroup
        value = match[kind]
        if kind == "param":
            if not params:
                raise _Unsupported
            tokens.append(("value", params.pop(0)))
        elif kind == "number":
            tokens.append(("value", Decimal(value) if "." in value else int(value)))
        elif kind == "string":
            if re.search(r"%(?!%)", value.replace("%%", "")):
                raise _Unsupported  # a placeholder inside quotes
            tokens.append(("value", value[1:-1].replace("''", "'").replace("%%", "%")))
        else:
            tokens.append((kind, value))
    if params:
        raise _Unsupported
    return tokens


class _Parser:
    """Recursive descent over the tokens: sum := product (('+'|'-') product)*,
    product := factor (('*'|'/') factor)*, factor := '-' factor | '(' sum ')' | operand."""

    def __init__(self, query: Query, base_alias: str, tokens: list[tuple[str, Any]]) -> None:
        self.query = query
        self.base_alias = base_alias
        self.tokens = tokens
        self.position = 0

    def _peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, Any]:
        token = self._peek()
        if token is None:
            raise _Unsupported
        self.position += 1
        return token

    def sum(self) -> Any:
        left = self._product()
        while self._peek() in (("op", "+"), ("op", "-")):
            _, op = self._take()
            left = CombinedExpression(left, op, self._product())
        return left

    def _product(self) -> Any:
        left = self._factor()
        while self._peek() in (("op", "*"), ("op", "/")):
            _, op = self._take()
            left = CombinedExpression(left, op, self._factor())
        return left

    def _factor(self) -> Any:
        kind, value = self._take()
        if (kind, value) == ("op", "-"):
            return CombinedExpression(Value(-1), "*", self._factor())
        if (kind, value) == ("op", "("):
            inner = self.sum()
            if self._take() != ("op", ")"):
                raise _Unsupported
            return inner
        if kind == "value":
            return Value(value)
        if kind == "name":
            return self._column(value)
        raise _Unsupported

    def _column(self, text: str) -> Col:
        parts = [part.strip('"`') for part in text.split(".")]
        alias = self.base_alias if len(parts) == 1 else parts[0]
        table = self.query.alias_map.get(alias)
        if table is None:
            raise _Unsupported
        model = model_of_table(table.table_name)
        if model is None:
            raise _Unsupported
        field = next((f for f in model._meta.local_concrete_fields if f.column == parts[-1]), None)
        if field is None:
            raise _Unsupported
        return field.get_col(alias)
