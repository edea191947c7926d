"""Join restrictions that only render SQL, read back as Django lookups.

A relation field can restrict its join with an object that only has
``as_sql()``: django-taggit's tag managers return ``ExtraJoinRestriction``,
which renders ``"alias"."content_type_id" IN (%s, %s)``. A SQL database pastes
that into the JOIN's ON clause (and, after ``exclude()`` trims the join, into
the WHERE clause); this backend follows relations by key lookups and needs
Django lookups. The one shape such classes render -- a column of a table of
the query, qualified by its alias, compared with parameters by ``=`` or
``IN (...)``, several of them joined by ``AND`` -- means the same on every SQL
database, so it is read back as ``exact`` / ``in`` lookups on that column's
field and runs like any filter. Anything else (other operators, functions,
literals in the text, a NULL parameter, which ``=`` would never match)
returns None and the caller refuses it as before. ``extra(where=...)`` is the
user's own raw SQL and is not read this way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db.models.lookups import Lookup
from django.db.models.sql.where import AND, ExtraWhere, NothingNode, WhereNode

NAME = r'(?:"\w+"|`\w+`|\w+)'
COMPARISON = re.compile(
    rf"""\s*\(?\s*(?P<alias>{NAME})\.(?P<column>{NAME})\s*
    (?:(?P<equals>=)\s*%s|IN\s*\(\s*(?P<values>%s(?:\s*,\s*%s)*)\s*\))
    \s*\)?\s*""",
    re.IGNORECASE | re.VERBOSE,
)
AND_SPLIT = re.compile(r"\s+AND\s+", re.IGNORECASE)

#: The model stored in the table an alias of the query names (None: unknown).
ModelOf = Callable[[str], Any]


class _Unreadable(Exception):
    """The restriction renders SQL outside the shape above."""


class _QuotingCompiler:
    """What an SQL-only restriction may ask of the compiler to render itself:
    quoted names. Anything else (compiling nested expressions) is unreadable."""

    def quote_name_unless_alias(self, name: str) -> str:
        return f'"{name}"'

    quote_name = quote_name_unless_alias

    def compile(self, node: Any) -> Any:
        raise _Unreadable


def side_models(relation: Any, joined_alias: str, parent_alias: str) -> dict[str, Any]:
    """The models of a relation's two tables by alias: its joining fields pair a
    field of the table joined from with one of the table joined."""
    try:
        parent_field, joined_field = relation.get_joining_fields()[0]
    except (AttributeError, IndexError):
        return {}
    return {joined_alias: joined_field.model, parent_alias: parent_field.model}


def model_of_table(table_name: str) -> Any:
    """The concrete model whose table is ``table_name`` (None if no installed model)."""
    return next(
        (
            model
            for model in apps.get_models(include_auto_created=True)
            if model._meta.db_table == table_name and not model._meta.proxy
        ),
        None,
    )


def is_sql_only(node: Any) -> bool:
    """A condition that renders SQL and is not one of Django's own condition
    nodes (a lookup, a WhereNode, NothingNode, extra(where=...))."""
    return hasattr(node, "as_sql") and not isinstance(
        node, (Lookup, WhereNode, NothingNode, ExtraWhere)
    )


def as_lookups(node: Any, connection, model_of: ModelOf) -> Any:
    """``node`` with every SQL-only restriction in it read back as lookups; a
    restriction outside the readable shape is left as it is (the caller refuses it)."""
    if isinstance(node, WhereNode):
        children = []
        for child in node.children:
            readable = as_lookups(child, connection, model_of)
            if readable is not child and node.connector == AND:
                children.extend(readable.children)  # (a AND (b AND c)): one level
            else:
                children.append(readable)
        return node.create(children, node.connector, node.negated)
    if not is_sql_only(node):
        return node
    try:
        return _read(node, connection, model_of)
    except _Unreadable:
        return node


def _read(node: Any, connection, model_of: ModelOf) -> WhereNode:
    try:
        sql_text, params = node.as_sql(_QuotingCompiler(), connection)
    except (AttributeError, TypeError) as error:
        raise _Unreadable from error
    params = list(params)
    lookups = []
    for part in AND_SPLIT.split(sql_text.strip()):
        match = COMPARISON.fullmatch(part)
        if match is None:
            raise _Unreadable
        count = 1 if match["equals"] else match["values"].count("%s")
        values, params = params[:count], params[count:]
        if len(values) != count or any(value is None for value in values):
            raise _Unreadable
        field = _field(model_of(match["alias"].strip('"`')), match["column"].strip('"`'))
        column = field.get_col(match["alias"].strip('"`'))
        if match["equals"]:
            lookups.append(field.get_lookup("exact")(column, values[0]))
        else:
            lookups.append(field.get_lookup("in")(column, values))
    if params:
        raise _Unreadable
    return WhereNode(lookups, connector=AND)


def _field(model: Any, column: str) -> Any:
    if model is None:
        raise _Unreadable
    field = next((f for f in model._meta.local_concrete_fields if f.column == column), None)
    if field is None:
        raise _Unreadable
    return field
