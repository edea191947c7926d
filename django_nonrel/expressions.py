"""Django expressions evaluated in Python on a stored row, with SQL's semantics.

``annotate(x=F("a") + 1)``, ``Lower("name")``, ``Case(When(...))``, a lookup used
as a value (``GreaterThan(F("a"), 1)``), ``filter(a__gt=F("b"))`` and
``order_by(Length("name"))`` are SQL expressions on Django's stock backends. A
nonrel store has no SQL, and the MongoDB-compatible servers differ widely in
aggregation expressions: FerretDB v1.24 implements none of ``$add``,
``$toLower``, ``$cond``, ``$literal`` in ``$project``/``$addFields``, no
comparison inside ``$expr`` and no pipeline updates, while MongoDB has them
all. Translating expressions to server syntax would give one behaviour per
server (and MongoDB's own NULL, division and string rules, not SQL's).

So this module compiles an expression tree once per query into small Python
functions over the stored row (``{column: stored value}``) of the queried
model: column values go through the same converters as a read, and each node
follows SQL: NULL in, NULL out; comparisons with NULL are UNKNOWN (None);
integer division truncates; ``Concat`` treats NULL as ``''``; ``Greatest`` and
``Least`` are NULL when an argument is (the value rules live in
``django_nonrel.sql_values``). The compiler then uses them

- for annotations in the SELECT: the row is already fetched, so evaluation
  costs no command and gives the same answer on every server;
- for filters and ordering the server cannot run: the rows matching the rest
  of the filter are read (projected to the columns the expressions need) and
  the condition or sort key is evaluated on them. That read is bounded
  (``DatabaseFeatures.max_rows_evaluated_in_python``); past the bound the query
  raises NotSupportedError instead of reading a whole collection silently.

A row is ``{alias: document}``: the queried model's stored row under its
alias, and, where an expression reads a related model's field
(``F("author__name")``), the joined rows under theirs (``None`` where a LEFT
OUTER JOIN found none), fetched by key before evaluation
(``django_nonrel.rows``). Subqueries (``Subquery``, ``Exists``, ``OuterRef``)
are queries of this backend run per outer binding or batched
(``django_nonrel.subqueries``). Window functions are computed over all the
rows of a read first (``django_nonrel.windows``, whose evaluator reads
compile with); raw SQL raises NotSupportedError saying what to do instead.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import django
from django.conf import settings
from django.db import DataError, NotSupportedError
from django.db.models import DateTimeField, ForeignObjectRel, JSONField
from django.db.models import functions as fn
from django.db.models.expressions import (
    Case,
    Col,
    ColPairs,
    CombinedExpression,
    Exists,
    ExpressionList,
    ExpressionWrapper,
    NegatedExpression,
    Ref,
    ResolvedOuterRef,
    Value,
    Window,
)
from django.db.models.fields.json import JSONExact, KeyTransform
from django.db.models.functions.datetime import TruncBase
from django.db.models.lookups import Lookup, UUIDTextMixin
from django.db.models.sql.query import Query
from django.db.models.sql.where import AND, XOR, NothingNode, WhereNode
from django.utils import timezone

from django_nonrel import json_keys
from django_nonrel.column_tuples import expand, is_multi_column
from django_nonrel.compile_warnings import warn_as_django_compiles
from django_nonrel.evaluation_scope import user_defined
from django_nonrel.exceptions import unsupported
from django_nonrel.native import NativeCondition
from django_nonrel.sql_values import (
    ARITHMETIC,
    EXTRACT_PARTS,
    LOOKUPS,
    MATH_FUNCTIONS,
    TEXT_FUNCTIONS,
    TRUNC_KINDS,
    as_text,
    cast,
    comparable,
    extract_part,
    local_time,
    numbers,
    output_value,
    round_half_up,
    time_zone,
    truncate_to,
)
from django_nonrel.sqlite_evaluation import evaluable, sql_evaluator
from django_nonrel.subqueries import (
    EXISTS,
    SCALAR,
    VALUES,
    CorrelatedSubquery,
    outer_references,
    subquery_of,
)

#: A stored row of one table: column -> stored value.
Document = dict[str, Any]
#: A row of a query: table alias -> that table's document (None: no joined row).
Row = dict[str, Document | None]
Evaluator = Callable[[Row], Any]
#: What a JSON key read gives where the document has no such key.
MISSING = object()


# -- the compiler --------------------------------------------------------------------
class ExpressionEvaluator:
    """Compile expressions of one query into functions of a row (``{alias: document}``).

    ``base_alias`` is the queried table's alias. ``columns``
    collects the stored columns of the queried table the compiled functions
    read, ``joined`` those of other aliases (which the read must join first),
    ``subqueries`` the correlated subqueries (``prepare`` batches them over
    the rows to evaluate).
    """

    def __init__(self, connection, base_alias: str) -> None:
        self.connection = connection
        self.base_alias = base_alias
        self.columns: list[str] = []
        self.joined: dict[str, list[str]] = {}
        self.subqueries: list[CorrelatedSubquery] = []
        #: The statement's time, read at the first Now() evaluated (one per query).
        self.clock: dict[str, datetime.datetime] = {}

    def compile(self, expr: Any) -> Evaluator:
        """A function row -> value of ``expr`` (SQL NULL is None)."""
        for cls in type(expr).__mro__:
            handler = HANDLERS.get(cls)
            if handler is not None:
                return handler(self, expr)
        if isinstance(expr, Window):
            return self._window(expr)
        if subquery_of(expr) is not None:
            return self._subquery(expr)
        if evaluable(expr):
            return sql_evaluator(expr, self._arguments(expr))
        raise unsupported(
            f"The expression {type(expr).__name__}",
            "Use fields, values, arithmetic, Case/When, Coalesce, Cast and Django's text, "
            "math and date functions, or compute the value in Python.",
        )

    def predicate(self, node: Any) -> Evaluator:
        """A function row -> True/False/None (UNKNOWN) of a WHERE node or lookup."""
        return self.compile(node)

    def prepare(self, rows: list[Row]) -> None:
        """Run the correlated subqueries for all ``rows`` at once (before evaluating them)."""
        for subquery in self.subqueries:
            subquery.prepare(rows)

    def _window(self, expr: Window) -> Evaluator:
        """A window function where no rows are read to compute it over: reads
        compile with ``django_nonrel.windows.WindowEvaluator``."""
        if not self.connection.features.supports_over_clause:
            # Django's own words (Window.as_sql on a backend without OVER).
            raise NotSupportedError("This backend does not support window expressions.")
        raise unsupported(
            "A window function in a grouped query (values().annotate() with an aggregate) "
            "or inside an aggregate",
            "Annotate the window on a plain queryset, or compute it in Python over the rows.",
        )

    # -- leaves ----------------------------------------------------------------------
    def _value(self, expr: Value) -> Evaluator:
        value = expr.value
        return lambda row: value

    def _col(self, expr: Col) -> Evaluator:
        alias = self.base_alias if expr.alias is None else expr.alias
        column = expr.target.column
        read_columns = (
            self.columns if alias == self.base_alias else self.joined.setdefault(alias, [])
        )
        if column not in read_columns:
            read_columns.append(column)
        connection = self.connection
        if isinstance(expr.output_field, ForeignObjectRel):
            # A reverse relation (filter(book=F(...))) reads the joined key.
            expr = expr.target.get_col(alias)
        converters = connection.ops.get_db_converters(expr) + expr.get_db_converters(connection)

        def read(row: Row) -> Any:
            document = row.get(alias)
            value = None if document is None else document.get(column)
            for converter in converters:
                value = converter(value, expr, connection)
            return value

        return read

    def _outer_reference(self, expr: ResolvedOuterRef) -> Evaluator:
        # Django's own error: a queryset with OuterRef() run on its own.
        raise ValueError(
            "This queryset contains a reference to an outer query and may only be used "
            "in a subquery."
        )

    def _subquery(self, expr: Any) -> Evaluator:
        """A subquery's value per row: the first value, whether it has rows, or its values."""
        query = subquery_of(expr)
        kind = EXISTS if isinstance(expr, Exists) else SCALAR
        return self._correlated(query, kind)

    def _correlated(self, query: Query, kind: str) -> Evaluator:
        references = [(col, self._col(col)) for col in outer_references(query)]
        subquery = CorrelatedSubquery(
            self.connection,
            query,
            kind,
            references,
            self.connection.features.max_keys_per_command,
        )
        self.subqueries.append(subquery)
        return subquery

    def _native(self, expr: NativeCondition) -> Evaluator:
        # Only the store runs its own filter syntax: a raw_query() filter under
        # OR/NOT with a condition evaluated here would have to run in Python.
        raise unsupported(
            "A raw_query() filter combined by OR or NOT with a condition evaluated in Python",
            "Combine it with field lookups the database runs, or filter the rows in Python.",
        )

    def _ref(self, expr: Ref) -> Evaluator:
        return self.compile(expr.source)

    def _wrapper(self, expr: ExpressionWrapper) -> Evaluator:
        return self.compile(expr.expression)

    def _negated(self, expr: NegatedExpression) -> Evaluator:
        inner = self.compile(expr.expression)

        def negate(row: Row) -> Any:
            value = inner(row)
            return None if value is None else not value

        return negate

    # -- operators ---------------------------------------------------------------------
    def _combined(self, expr: CombinedExpression) -> Evaluator:
        operation = ARITHMETIC.get(expr.connector)
        if operation is None:
            raise unsupported(f"The operator {expr.connector!r}", "Compute the value in Python.")
        lhs, rhs = self.compile(expr.lhs), self.compile(expr.rhs)

        def combine(row: Row) -> Any:
            a, b = lhs(row), rhs(row)
            if a is None or b is None:
                return None
            a, b = numbers(a, b)
            try:
                value = operation(a, b)
            except TypeError:
                # SQL refuses the operator for these types (a date times a duration).
                raise DataError(
                    f"Cannot apply {expr.connector!r} to {type(a).__name__} and {type(b).__name__}."
                ) from None
            return output_value(value, expr)

        return combine

    def _where(self, node: WhereNode) -> Evaluator:
        if node.connector == XOR:
            # As Django writes XOR for databases without it: (a OR b ...) AND an odd
            # number of TRUE children. UNKNOWN counts as not TRUE; the result is
            # never UNKNOWN.
            children = [self.predicate(child) for child in node.children]

            def parity(row: Row) -> bool:
                result = sum(bool(child(row)) for child in children) % 2 == 1
                return not result if node.negated else result

            return parity
        children = [self.predicate(child) for child in node.children]
        conjunction = node.connector == AND

        def evaluate(row: Row) -> Any:
            unknown = False
            for child in children:
                value = child(row)
                if value is None:
                    unknown = True
                elif bool(value) != conjunction:
                    result = not conjunction
                    break
            else:
                result = None if unknown else conjunction
            if node.negated and result is not None:
                return not result
            return result

        return evaluate

    def _col_pairs(self, expr: ColPairs) -> Evaluator:
        """A key over several columns (a composite primary key, a ForeignObject):
        the tuple of its columns' values, as Django's compiler reads it
        (``composite_fields_to_tuples``)."""
        cols = [self._col(col) for col in expr.get_cols()]
        return lambda row: tuple(col(row) for col in cols)

    def _nothing(self, node: NothingNode) -> Evaluator:
        return lambda row: False

    def _lookup(self, lookup: Lookup) -> Evaluator:
        if is_multi_column(lookup):
            return self.predicate(expand(lookup, self.connection))
        name = lookup.lookup_name
        if hasattr(lookup, "nonrel_value"):
            # List membership, dict and embedded paths follow MongoDB's matching
            # rules (django_nonrel.fields.lookups); plain Python equality would
            # answer something else (tags="x" is membership, not list == "x").
            raise unsupported(
                f"The expression {type(lookup).__name__} (a lookup on a list, dict or "
                "embedded field) inside a condition evaluated in Python",
                "Run the alternatives of the OR/NOT as separate querysets and combine their keys.",
            )
        warn_as_django_compiles(lookup)
        if _compares_to_json_null(lookup):
            return self._holds_json_null(lookup.lhs)
        if name in json_keys.KEY_LOOKUPS:
            value, paths = self.compile(lookup.lhs), json_keys.key_paths(lookup.rhs)
            every = json_keys.KEY_LOOKUPS[name]
            return lambda row: json_keys.has_keys(value(row), paths, every)
        if name == "isnull" and isinstance(lookup.lhs, KeyTransform):
            # As has_key: a key holding JSON null is not "null" here (SQL's
            # JSON_TYPE(...) IS NULL holds for an absent key only).
            present, wanted = self._key_or_missing(lookup.lhs), bool(lookup.rhs)
            return lambda row: (present(row) is MISSING) == wanted
        lhs = self.compile(lookup.lhs)
        if json_keys.is_pattern_on_json_column(lookup):
            lhs = json_keys.as_json_text(lhs)
        if name == "isnull":
            wanted = bool(lookup.rhs)
            return lambda row: (lhs(row) is None) == wanted
        test = LOOKUPS.get(name)
        if test is None and user_defined(lookup) and evaluable(lookup):
            return sql_evaluator(lookup, self._arguments(lookup))
        if test is None:
            raise unsupported(
                f"The {name!r} lookup inside an expression",
                f"Use one of {', '.join(sorted(LOOKUPS))} or isnull.",
            )
        rhs = self._rhs(lookup)
        # A UUID compared as text is its stored text: 32 hex digits where the
        # backend has no native UUID type, and the pattern loses its dashes.
        uuid_text = (
            isinstance(lookup, UUIDTextMixin) and not self.connection.features.has_native_uuid_field
        )

        def compare(row: Row) -> Any:
            a = lhs(row)
            b = rhs(row)
            if a is None or b is None:
                return None
            if uuid_text:
                a = a.hex if hasattr(a, "hex") and not isinstance(a, float) else a
                b = as_text(b).replace("-", "")
            if name == "range" and None in b:
                return None  # BETWEEN a NULL bound is UNKNOWN
            if name in ("in", "range"):
                b = [comparable(a, v)[1] if v is not None else None for v in b]
            else:
                a, b = comparable(a, b)
            try:
                return test(a, b)
            except TypeError:
                raise unsupported(
                    f"Comparing {type(a).__name__} with {type(b).__name__} in {name!r}",
                    "Compare values of the same type (Cast one side).",
                ) from None

        if name == "in" and subquery_of(lookup.rhs) is not None:
            # SQL: x IN (a queryset with a NULL) is UNKNOWN, not FALSE, where unmatched.
            def unknown_unless_matched(row: Row) -> Any:
                result = compare(row)
                return None if result is False and None in rhs(row) else result

            return unknown_unless_matched
        return compare

    def _rhs(self, lookup: Lookup) -> Evaluator:
        rhs = lookup.rhs
        query = subquery_of(rhs)
        if query is not None:
            many = lookup.lookup_name in ("in", "range")
            return self._correlated(query, VALUES if many else SCALAR)
        if isinstance(rhs, ExpressionList):
            rhs = list(rhs.get_source_expressions())
        if lookup.lookup_name in ("in", "range") and isinstance(rhs, (list, tuple, set)):
            items = [self._rhs_value(lookup, v) for v in rhs]
            return lambda row: [item(row) for item in items]
        return self._rhs_value(lookup, rhs)

    def _rhs_value(self, lookup: Lookup, value: Any) -> Evaluator:
        """One value of a lookup's right-hand side, through the lhs's bilateral
        transforms as Django's ``process_rhs`` applies them
        (``name__upper="x"`` with a bilateral ``Upper`` compares to ``UPPER('x')``)."""
        if lookup.bilateral_transforms:
            if not hasattr(value, "resolve_expression"):
                value = Value(value, output_field=lookup.lhs.output_field)
            value = lookup.apply_bilateral_transforms(value).resolve_expression(None)
        if hasattr(value, "resolve_expression"):
            return self.compile(value)
        return lambda row: value

    def _case(self, expr: Case) -> Evaluator:
        cases = [(self.predicate(when.condition), self.compile(when.result)) for when in expr.cases]
        default = self.compile(expr.default)

        def choose(row: Row) -> Any:
            for condition, result in cases:
                if condition(row):
                    return output_value(result(row), expr)
            return output_value(default(row), expr)

        return choose

    # -- functions ---------------------------------------------------------------------
    def _arguments(self, expr: Any) -> list[Evaluator]:
        return [self.compile(source) for source in expr.get_source_expressions()]

    def _strict(self, function: Callable[..., Any]) -> Callable[[Any], Evaluator]:
        """NULL in any argument gives NULL; otherwise ``function(*arguments)``."""

        def build(expr: Any) -> Evaluator:
            arguments = self._arguments(expr)

            def call(row: Row) -> Any:
                values = [argument(row) for argument in arguments]
                if any(value is None for value in values):
                    return None
                return output_value(function(*values), expr)

            return call

        return build

    def _function(self, expr: Any) -> Evaluator:
        implementation = FUNCTIONS.get(type(expr))
        if implementation is None:
            for cls, candidate in FUNCTIONS.items():
                if isinstance(expr, cls):
                    implementation = candidate
                    break
        if implementation is None:
            raise unsupported(
                f"The database function {type(expr).__name__}",
                "Compute the value in Python, or use a function this backend evaluates "
                "(see docs/mongodb.md).",
            )
        return implementation(self, expr)

    def _coalesce(self, expr: Any) -> Evaluator:
        arguments = self._arguments(expr)

        def first(row: Row) -> Any:
            for argument in arguments:
                value = argument(row)
                if value is not None:
                    return output_value(value, expr)
            return None

        return first

    def _concat(self, expr: Any) -> Evaluator:
        arguments = self._arguments(expr)

        def join(row: Row) -> Any:
            values = [argument(row) for argument in arguments]
            return "".join("" if value is None else as_text(value) for value in values)

        return join

    def _cast(self, expr: fn.Cast) -> Evaluator:
        (argument,) = self._arguments(expr)
        field = expr.output_field
        if isinstance(field, JSONField) and _is_text(expr.source_expressions[0]):
            # CAST(text AS JSON) parses the text: '"a"' is the JSON string a, '1' a number.
            return lambda row: _parsed_json(argument(row))
        return lambda row: cast(argument(row), field)

    def _extract(self, expr: fn.Extract) -> Evaluator:
        (argument,) = self._arguments(expr)
        part = expr.lookup_name
        if part not in EXTRACT_PARTS:
            raise ValueError(f"Invalid lookup type: {part!r}")
        source = getattr(expr.lhs, "output_field", None)
        if source is not None and source.get_internal_type() == "DurationField":
            # Django's own error for backends without a native interval type.
            raise ValueError("Extract requires native DurationField database support.")
        zone = _zone_of(expr, source)

        def extract(row: Row) -> Any:
            value = argument(row)
            return None if value is None else extract_part(local_time(value, zone), part)

        return extract

    def _trunc(self, expr: TruncBase) -> Evaluator:
        (argument,) = self._arguments(expr)
        kind = expr.kind
        if kind not in TRUNC_KINDS:
            # What a SQL server answers for an unknown DATE_TRUNC unit: a data
            # error, never a truncation to something else.
            raise DataError(
                f"Invalid kind {kind!r} for Trunc: use one of {', '.join(sorted(TRUNC_KINDS))}."
            )
        zone = _zone_of(expr, getattr(expr.lhs, "output_field", None))
        output = expr.output_field.get_internal_type()

        def truncate(row: Row) -> Any:
            value = argument(row)
            if value is None:
                return None
            value = truncate_to(local_time(value, zone), kind)
            if output == "DateField" and isinstance(value, datetime.datetime):
                return value.date()
            if output == "TimeField" and isinstance(value, datetime.datetime):
                return value.time()
            return value

        return truncate

    def _now(self, expr: fn.Now) -> Evaluator:
        """The server's clock reads UTC (MongoDB's ``$$NOW``, SQLite's ``'now'``): with
        USE_TZ = False that is a naive UTC time, as Django's SQLite backend returns it,
        not the local time of TIME_ZONE that ``timezone.now()`` would give."""
        clock = self.clock

        def now(row: Row) -> Any:
            # One value per statement, as SQL's CURRENT_TIMESTAMP (Now() - Now() is 0).
            if "now" not in clock:
                moment = timezone.now() if settings.USE_TZ else None
                clock["now"] = moment or datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
            return clock["now"]

        return now

    def _nullif(self, expr: fn.NullIf) -> Evaluator:
        first, second = self._arguments(expr)

        def nullif(row: Row) -> Any:
            a = first(row)
            return None if a is not None and a == second(row) else a

        return nullif

    def _round(self, expr: fn.Round) -> Evaluator:
        arguments = self._arguments(expr)

        def round_(row: Row) -> Any:
            values = [argument(row) for argument in arguments]
            if any(v is None for v in values):
                return None
            places = int(values[1]) if len(values) > 1 else 0
            return output_value(round_half_up(values[0], places), expr)

        return round_

    def _substr(self, expr: fn.Substr) -> Evaluator:
        def substr(text: Any, position: int, length: int | None = None) -> str:
            text = as_text(text)
            start = position - 1 if position > 0 else max(len(text) + position, 0)
            return text[start:] if length is None else text[start : start + max(length, 0)]

        return self._strict(substr)(expr)

    def _json_array(self, expr: Any) -> Evaluator:
        arguments = self._arguments(expr)
        return lambda row: [argument(row) for argument in arguments]

    def _json_object(self, expr: Any) -> Evaluator:
        sources = expr.get_source_expressions()
        keys = [source.value for source in sources[::2]]
        values = [self.compile(source) for source in sources[1::2]]
        return lambda row: {key: value(row) for key, value in zip(keys, values, strict=True)}

    def _key(self, expr: KeyTransform) -> Evaluator:
        present = self._key_or_missing(expr)

        def dig(row: Row) -> Any:
            value = present(row)
            return None if value is MISSING else value

        return dig

    def _key_or_missing(self, expr: KeyTransform) -> Evaluator:
        """A JSON key's value, or MISSING where the document has no such key
        (``data__key`` reads both as NULL; only a JSON null test tells them apart)."""
        source = self.compile(expr.lhs)
        key = expr.key_name

        def dig(row: Row) -> Any:
            value = source(row)
            if isinstance(value, dict):
                return value.get(key, MISSING)
            if isinstance(value, list) and key.lstrip("-").isdigit():
                index = int(key)
                return value[index] if -len(value) <= index < len(value) else MISSING
            return MISSING

        return dig

    def _holds_json_null(self, expr: Any) -> Evaluator:
        """``data__key=None`` / ``Value(None, JSONField())`` / ``JSONNull()``: as
        SQL's ``JSON_TYPE(data, '$.key') = 'null'``, TRUE where the key holds JSON
        null, FALSE where it holds anything else, UNKNOWN where it is absent.

        On the whole field (``data=JSONNull()``) JSON null is stored as null, as
        SQL NULL is (docs/mongodb.md): TRUE where the value is null, as the
        filter ``{data: null}`` a ``filter(data=JSONNull())`` sends matches."""
        if not isinstance(expr, KeyTransform):
            whole = self.compile(expr)
            return lambda row: whole(row) is None
        value = self._key_or_missing(expr)

        def test(row: Row) -> bool | None:
            found = value(row)
            return None if found is MISSING else found is None

        return test


def _compares_to_json_null(lookup: Lookup) -> bool:
    """Whether ``lookup`` asks if a JSON value or key holds JSON null (not SQL
    NULL): an exact lookup on a JSONField or a key whose right-hand side is None
    (deprecated on the whole field by Django 6.1, as its warning says), a
    ``Value(None, JSONField())`` or Django 6.1's ``JSONNull()``."""
    if not isinstance(lookup, JSONExact):
        return False
    return lookup.rhs is None or json_keys.is_json_null(lookup.rhs)


def _zone_of(expr: Any, source: Any) -> Any:
    """The time zone of an Extract/Trunc over ``source`` (a field or None).

    As Django's ``as_sql``: ``tzinfo`` applies to datetimes only, and given for a
    date or time it is the user's mistake, reported as Django reports it.
    """
    if expr.tzinfo is not None and source is not None and not isinstance(source, DateTimeField):
        raise ValueError("tzinfo can only be used with DateTimeField.")
    return time_zone(expr)


def _uuid4(self: ExpressionEvaluator, expr: Any) -> Evaluator:
    return lambda row: uuid.uuid4()


def _uuid7(self: ExpressionEvaluator, expr: Any) -> Evaluator:
    """``UUID7([shift])``: where Python has ``uuid.uuid7`` (3.14), a version-7 UUID
    whose timestamp is now plus ``shift``; elsewhere Django's own refusal."""
    if not self.connection.features.supports_uuid7_function:
        raise NotSupportedError("UUID7 is not supported on this database backend.")
    arguments = self._arguments(expr)

    def generate(row: Row) -> Any:
        shift = arguments[0](row) if arguments else None
        if not shift:
            return uuid.uuid7()
        # uuid7() reads the clock itself: build the shifted one from its parts.
        milliseconds = (
            time.time_ns() // 1_000_000 + shift // datetime.timedelta(milliseconds=1)
        ) & ((1 << 48) - 1)
        return uuid.UUID(int=(uuid.uuid7().int & ((1 << 80) - 1)) | milliseconds << 80)

    return generate


#: Django 6.1's UUID functions (absent from Django 5.2).
UUID_FUNCTIONS: dict[type, Callable[[ExpressionEvaluator, Any], Evaluator]] = (
    {fn.UUID4: _uuid4, fn.UUID7: _uuid7} if django.VERSION >= (6, 1) else {}
)

#: Function classes -> how the evaluator compiles them (subclasses match too).
FUNCTIONS: dict[type, Callable[[ExpressionEvaluator, Any], Evaluator]] = {
    fn.Coalesce: ExpressionEvaluator._coalesce,
    fn.Concat: lambda self, expr: self.compile(expr.get_source_expressions()[0]),
    fn.ConcatPair: ExpressionEvaluator._concat,
    fn.Cast: ExpressionEvaluator._cast,
    fn.NullIf: ExpressionEvaluator._nullif,
    fn.Now: ExpressionEvaluator._now,
    fn.Round: ExpressionEvaluator._round,
    fn.Substr: ExpressionEvaluator._substr,
    fn.Extract: ExpressionEvaluator._extract,
    fn.JSONArray: ExpressionEvaluator._json_array,
    fn.JSONObject: ExpressionEvaluator._json_object,
    TruncBase: ExpressionEvaluator._trunc,
    **UUID_FUNCTIONS,
    **{
        cls: (lambda self, expr, f=function: self._strict(f)(expr))
        for cls, function in {**TEXT_FUNCTIONS, **MATH_FUNCTIONS}.items()
    },
}

HANDLERS: dict[type, Callable[[ExpressionEvaluator, Any], Evaluator]] = {
    Value: ExpressionEvaluator._value,
    Col: ExpressionEvaluator._col,
    ColPairs: ExpressionEvaluator._col_pairs,
    Ref: ExpressionEvaluator._ref,
    ResolvedOuterRef: ExpressionEvaluator._outer_reference,
    NativeCondition: ExpressionEvaluator._native,
    ExpressionWrapper: ExpressionEvaluator._wrapper,
    NegatedExpression: ExpressionEvaluator._negated,
    CombinedExpression: ExpressionEvaluator._combined,
    WhereNode: ExpressionEvaluator._where,
    NothingNode: ExpressionEvaluator._nothing,
    Case: ExpressionEvaluator._case,
    KeyTransform: ExpressionEvaluator._key,
    Lookup: ExpressionEvaluator._lookup,
    fn.Coalesce: ExpressionEvaluator._function,
}
for _cls in FUNCTIONS:
    HANDLERS[_cls] = ExpressionEvaluator._function


def _is_text(expression: Any) -> bool:
    """Whether ``expression`` gives SQL text (a CharField/TextField column or value)."""
    field = getattr(expression, "_output_field_or_none", None)
    return field is not None and field.get_internal_type() in ("CharField", "TextField")


def _parsed_json(text: Any) -> Any:
    """The JSON value ``text`` writes, as a SQL database's CAST to JSON reads it."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError as error:
        raise DataError(f"Cast to JSONField: {text[:40]!r} is not JSON ({error}).") from error
