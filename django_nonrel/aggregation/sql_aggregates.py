"""Aggregates whose meaning is their own SQL, evaluated by SQLite over the group's values.

Django's own aggregates (Count, Sum, Avg, Min, Max, StdDev, Variance and 6.1's
general ones) are folded by the store or by ``partials.Partial``. A project may
also define its own: an ``Aggregate`` subclass with its own ``function``,
``template`` or ``as_sql()`` (a multi-argument aggregate that renders only some
of its arguments), or a ``Func(..., function="COUNT")`` it marks
``contains_aggregate``. Their meaning is the SQL they write, and SQL can be run
without a server (as ``django_nonrel.sqlite_evaluation`` does for per-row
functions): the arguments are evaluated per row as usual, collected per group,
loaded into a temporary table of an in-memory SQLite database (one per thread)
and the aggregate, compiled by Django's SQLite backend with each argument
replaced by its column, runs over that table. The answer is SQL's, NULL rules
and DISTINCT included; a ``filter=`` is applied in Python before the rows are
collected. SQL SQLite cannot run (another dialect's function) raises
NotSupportedError naming the aggregate and SQLite's error.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from django.db.models import Func, Window
from django.db.models.aggregates import Aggregate
from django.db.models.expressions import RawSQL
from django.db.models.sql.query import Query

from django_nonrel.exceptions import unsupported
from django_nonrel.sqlite_evaluation import field_of, read_back, sqlite_connection

#: The temporary table the collected rows are loaded into (dropped after each run).
TABLE = "django_nonrel_aggregated_rows"


def is_sql_aggregate(expr: Any) -> bool:
    """Whether ``expr`` is an aggregate only its SQL defines: an Aggregate subclass
    the planner does not fold itself (the caller asks after its own), or a Func
    marked ``contains_aggregate`` whose arguments aggregate nothing."""
    if isinstance(expr, Window) or getattr(expr, "contains_over_clause", False):
        return False
    if isinstance(expr, Aggregate):
        return not any(getattr(s, "contains_aggregate", False) for s in arguments(expr))
    return (
        isinstance(expr, Func)
        and bool(getattr(expr, "contains_aggregate", False))
        and not any(getattr(s, "contains_aggregate", False) for s in expr.get_source_expressions())
    )


def arguments(expr: Any) -> list[Any]:
    """The aggregate's arguments: its source expressions without an Aggregate's
    ``filter`` (and Django 6.1's ``order_by``)."""
    sources = expr.get_source_expressions()
    if isinstance(expr, Aggregate):
        return sources[: len(expr.source_expressions)]
    return sources


def sql_aggregate(alias: str, expr: Any) -> Callable[[list[tuple]], Any]:
    """A function of the collected argument rows (one tuple per row) giving the
    aggregate's value, as SQL computes it over those rows."""
    if isinstance(expr, Aggregate) and getattr(expr, "order_by", None) is not None:
        raise unsupported(
            f"The aggregate {alias!r} ({type(expr).__name__}) with order_by=",
            "Drop order_by= (Django's StringAgg takes one), or compute the value in Python.",
        )
    sources = arguments(expr)
    fields = [field_of(source) for source in sources]
    bound = copy.copy(expr)
    columns = [RawSQL(f'"c{index}"', (), output_field=field) for index, field in enumerate(fields)]
    extra = len(expr.get_source_expressions()) - len(sources)
    bound.set_source_expressions([*columns, *([None] * extra)])

    def evaluate(rows: list[tuple]) -> Any:
        connection = sqlite_connection()
        prepared = [
            tuple(
                value if field is None else field.get_db_prep_value(value, connection)
                for value, field in zip(row, fields, strict=True)
            )
            for row in rows
        ]
        names = ", ".join(f'"c{index}"' for index in range(len(fields))) or '"c0"'
        placeholders = ", ".join(["%s"] * len(fields))
        try:
            sql, params = Query(None).get_compiler(connection=connection).compile(bound)
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE TEMP TABLE "{TABLE}" ({names})')
                try:
                    if prepared and fields:
                        cursor.executemany(
                            f'INSERT INTO "{TABLE}" VALUES ({placeholders})', prepared
                        )
                    elif prepared:
                        cursor.executemany(f'INSERT INTO "{TABLE}" VALUES (NULL)', [()] * len(rows))
                    cursor.execute(f'SELECT {sql} FROM "{TABLE}"', params)
                    (value,) = cursor.fetchone()
                finally:
                    cursor.execute(f'DROP TABLE "{TABLE}"')
        except (DatabaseError, ValueError, TypeError) as error:
            raise unsupported(
                f"The aggregate {alias!r} ({type(expr).__name__}; its SQL evaluated with "
                f"SQLite: {error})",
                "Use Django's aggregates, give it SQL SQLite runs, or compute the value in Python.",
            ) from error
        return read_back(bound, value)

    evaluate([])  # SQL SQLite cannot run is refused whatever rows the query has
    return evaluate
