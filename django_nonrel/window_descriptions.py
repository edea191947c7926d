"""How ``str(queryset.query)`` describes the window functions a read computes on the client.

The command a windowed read sends is a plain ``find`` (``django_nonrel.windows``
computes the windows over its rows), so its description alone would hide the
part of the query a user debugging it cares about: which partitions, which
order, which frame. Those have SQL's meaning, and SQL is the clearest way to
write them, so the step after the command is written as SQL writes it:
``then over the rows read: RANK() OVER (PARTITION BY ... ORDER BY ... ROWS
BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS "r"``, rendered by Django's SQLite
compiler on the in-memory database of ``django_nonrel.sqlite_evaluation``
(nothing is run there), and ``; keep the rows where ...`` when the query
filters on a window. Only the text is SQL; nothing is sent anywhere.
"""

from __future__ import annotations

from typing import Any

from django.db.models.expressions import Window
from django.db.models.sql.query import Query

from django_nonrel.sqlite_evaluation import sqlite_connection


def windows_step(query: Query) -> str | None:
    """The description of the windows ``query`` computes over its rows, or None."""
    windows = {
        alias: annotation
        for alias, annotation in query.annotations.items()
        if getattr(annotation, "contains_over_clause", False)
    }
    if not windows:
        return None
    connection = sqlite_connection()
    compiler = query.get_compiler(connection=connection)
    columns = [
        f"{_sql(compiler, expression)} AS {connection.ops.quote_name(alias)}"
        for alias, expression in windows.items()
    ]
    step = "then over the rows read: " + ", ".join(columns)
    _, _, qualify = query.where.split_having_qualify(must_group_by=query.group_by is not None)
    if qualify is not None:
        step += f"; keep the rows where {_sql(compiler, qualify)}"
    return step


def _sql(compiler: Any, expression: Any) -> str:
    """``expression`` as SQLite's SQL, parameters written in; its repr where SQLite
    cannot write it (a function SQLite lacks)."""
    try:
        sql, params = compiler.compile(expression)
        return sql % tuple(repr(param) for param in params)
    except Exception:  # a description never fails the query it describes
        return str(expression) if isinstance(expression, Window) else repr(expression)
