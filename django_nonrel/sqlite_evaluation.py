"""Custom SQL-only expressions evaluated by SQLite on a row's values.

A Django project may define its own ``Transform``, ``Lookup`` or ``Func`` with
nothing but ``as_sql`` (``"(%s) %%%% 3"``, ``"UPPER(%s)"``,
``connection.ops.date_extract_sql(...)``). A nonrel store runs no SQL, and
``django_nonrel.expressions`` knows only Django's own functions, so such a
query used to be refused. Its meaning is the SQL it writes, and SQL can be run
without a server: the arguments are evaluated here as usual (columns, nested
functions), then the expression, with each argument replaced by its value, is
compiled by Django's SQLite backend and run as ``SELECT <expression>`` on an
in-memory SQLite database (one per thread, no tables, Django's SQLite
functions registered). The answer is what a SQL database gives, with SQL's
NULL rules, for one command per row evaluated (bounded, as every condition
evaluated in Python, by ``max_rows_evaluated_in_python``).

What SQLite cannot run — SQL of another dialect (``::date``), references to
tables or columns written into the SQL itself — raises NotSupportedError
naming the expression and SQLite's error. Aggregates and window functions are
never evaluated here: over one row they would answer something else; nor is
``Collate``.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable
from typing import Any

import django
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.db.models import Func, Window
from django.db.models.aggregates import Aggregate
from django.db.models.expressions import Value
from django.db.models.functions import Collate
from django.db.models.lookups import Lookup
from django.db.models.sql.query import Query
from django.db.utils import ConnectionHandler

from django_nonrel.exceptions import unsupported

ENGINE = "django.db.backends.sqlite3"

#: The alias of the in-memory SQLite database: never in settings.DATABASES,
#: never seen by routers or the test runner.
ALIAS = "django_nonrel_sql_evaluation"
#: Per thread (SQLite connections stay in the thread that opened them): ``.wrapper``.
_PER_THREAD = threading.local()


def sqlite_connection() -> DatabaseWrapper:
    """This thread's in-memory SQLite database (no tables of the project's)."""
    wrapper = _PER_THREAD.__dict__.get("wrapper")
    if wrapper is None:
        # Django's defaults for every other key of a DATABASES entry.
        handler = ConnectionHandler({DEFAULT_DB_ALIAS: {"ENGINE": ENGINE, "NAME": ":memory:"}})
        wrapper = _PER_THREAD.wrapper = DatabaseWrapper(handler.settings[DEFAULT_DB_ALIAS], ALIAS)
    return wrapper


def evaluable(expr: Any) -> bool:
    """Whether ``expr`` is a user's SQL expression this module may evaluate: a
    Func (Transform) or Lookup, not an aggregate or window function, nor a
    collation (its meaning is how values compare, which a value cannot carry)."""
    if not isinstance(expr, (Func, Lookup)) or isinstance(expr, (Aggregate, Window, Collate)):
        return False
    return not (expr.contains_aggregate or expr.contains_over_clause)


def sql_evaluator(expr: Any, arguments: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    """A function row -> value of ``expr``: ``arguments`` (one per source
    expression, compiled by the caller) give the values SQLite computes on."""
    sources = expr.get_source_expressions()
    fields = [field_of(source) for source in sources]
    predicate = isinstance(expr, Lookup)
    _refuse_sql_aggregates(expr, fields)

    def evaluate(row: Any) -> Any:
        values = [
            Value(argument(row), output_field=field)
            for argument, field in zip(arguments, fields, strict=True)
        ]
        bound = copy.copy(expr)
        bound.set_source_expressions(
            [_Argument(index, value) for index, value in enumerate(values)]
        )
        result = _run(bound, values)
        return result if result is None or not predicate else bool(result)

    return evaluate


#: SQL aggregate functions SQLite knows: over the one row evaluated here they
#: would answer for that row (COUNT 1, SUM the value), not for the rows of the query.
_SQL_AGGREGATES = re.compile(
    r"\b(?:COUNT|SUM|TOTAL|AVG|GROUP_CONCAT|STRING_AGG|JSON_GROUP_ARRAY|JSON_GROUP_OBJECT"
    r"|JSONB_GROUP_ARRAY|JSONB_GROUP_OBJECT)\s*\(|\b(?:MIN|MAX)\s*\([^,()]*\)",
    re.IGNORECASE,
)


def _refuse_sql_aggregates(expr: Any, fields: list[Any]) -> None:
    """Refuse a Func whose SQL is an aggregate (``Func(F("pk"), function="Count")``,
    as django-treebeard counts descendants in a Subquery): Django does not know it
    aggregates, and evaluated per row it would silently give each row's own value."""
    placeholders = [Value(None, output_field=field) for field in fields]
    bound = copy.copy(expr)
    bound.set_source_expressions(placeholders)
    try:
        sql, _ = Query(None).get_compiler(connection=sqlite_connection()).compile(bound)
    except Exception:  # noqa: BLE001 - compiling is retried, with its error, per row
        return
    if _SQL_AGGREGATES.search(sql):
        raise unsupported(
            f"An SQL aggregate written as a {type(expr).__name__} ({sql}), which Django "
            "does not treat as an aggregate,",
            "Use Django's aggregates (Count, Sum, Avg, Min, Max), in a Subquery with "
            "values() and annotate() as Django's documentation shows, or compute the value "
            "in Python.",
        )


def field_of(source: Any) -> Any:
    """The output field of ``source``; None where Django cannot tell (mixed types)."""
    try:
        return source.output_field
    except Exception:  # noqa: BLE001 - Django raises FieldError for mixed types
        return None


class _Argument(Value):
    """Argument ``index`` of the expression evaluated, as SQL sees a row's column:
    ``a<index>`` of the one-row table the arguments' values are selected as. SQL
    that leaves an argument out (a Transform whose template is ``NULL``) then
    runs as it does over a table; bound as parameters, the values left out would
    not match the statement's placeholders. A Value otherwise (its output field,
    ``isinstance`` checks such as IsNull's on a Value's None)."""

    def __init__(self, index: int, value: Value) -> None:
        super().__init__(value.value, output_field=value._output_field_or_none)
        self.index = index

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        # Parameters of the type a column gives them (Django 6 made them tuples):
        # a user's as_sql adds them to the other side's (lhs_params + rhs_params).
        return f"a{self.index}", [] if django.VERSION < (6, 0) else ()


def _run(expr: Any, arguments: list[Value] = ()) -> Any:
    """The value SQLite computes for ``expr``, whose sources are ``_Argument``
    expressions standing for ``arguments``; SQL's answer for a condition Django compiles to nothing
    (FullResultSet: true for every row; EmptyResultSet: false, or the
    expression's value over no rows)."""
    connection = sqlite_connection()
    compiler = Query(None).get_compiler(connection=connection)
    try:
        try:
            sql, params = compiler.compile(expr)
        except FullResultSet:
            return True
        except EmptyResultSet:
            empty = getattr(expr, "empty_result_set_value", NotImplemented)
            return False if empty is NotImplemented else empty
        columns = [compiler.compile(argument) for argument in arguments]
        if columns:
            row = ", ".join(f"{sql_} AS a{index}" for index, (sql_, _) in enumerate(columns))
            sql = f"{sql} FROM (SELECT {row})"
            params = [*params, *(param for _, values in columns for param in values)]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {sql}", params)
            (value,) = cursor.fetchone()
    except (DatabaseError, ValueError, TypeError) as error:
        raise unsupported(
            f"The expression {type(expr).__name__} (SQL evaluated with SQLite: {error})",
            "Write it with Django's functions, give it SQL SQLite runs, or compute the value "
            "in Python.",
        ) from error
    return read_back(expr, value)


def read_back(expr: Any, value: Any) -> Any:
    """A value SQLite computed for ``expr`` as a read of it returns it (converters)."""
    connection = sqlite_connection()
    converters = connection.ops.get_db_converters(expr) + expr.get_db_converters(connection)
    for converter in converters:
        value = converter(value, expr, connection)
    return value
