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
``Least`` are NULL when an argument is. The compiler then uses them

- for annotations in the SELECT: the row is already fetched, so evaluation
  costs no command and gives the same answer on every server;
- for filters and ordering the server cannot run: the rows matching the rest
  of the filter are read (projected to the columns the expressions need) and
  the condition or sort key is evaluated on them. That read is bounded
  (``DatabaseFeatures.max_rows_evaluated_in_python``); past the bound the query
  raises NotSupportedError instead of reading a whole collection silently.

Expressions that need data from another row or model (subqueries, aggregates,
window functions, columns of joined models) and raw SQL raise
NotSupportedError saying what to do instead.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import math
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DataError, NotSupportedError
from django.db.models import Field
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
    Value,
)
from django.db.models.fields.json import KeyTransform
from django.db.models.functions.datetime import TruncBase
from django.db.models.lookups import Lookup, UUIDTextMixin
from django.db.models.sql.query import Query
from django.db.models.sql.where import AND, XOR, NothingNode, WhereNode
from django.utils import timezone

from django_nonrel.where import WhereBuilder

Row = dict[str, Any]
Evaluator = Callable[[Row], Any]

#: Date parts a filter can push to every server (``year`` as a range, ``date``
#: as day ranges); others need ``$expr`` date operators.
PORTABLE_PARTS = frozenset({"year", "date"})


def unsupported(what: str, instead: str) -> NotSupportedError:
    return NotSupportedError(f"{what} is not supported on this backend. {instead}")


# -- which filters need Python ---------------------------------------------------
def needs_python(node: Any, date_parts: bool) -> bool:
    """Whether a WHERE node has a condition the filter translator cannot push down.

    ``date_parts`` says whether the server evaluates month/day/hour... parts
    (``$expr`` date operators); without them those lookups are evaluated here.
    """
    if isinstance(node, WhereNode):
        return any(needs_python(child, date_parts) for child in node.children)
    if not isinstance(node, Lookup):
        return False
    rhs = node.rhs
    if isinstance(rhs, ExpressionList) and not all(
        isinstance(e, Value) for e in rhs.get_source_expressions()
    ):
        return True
    if (
        hasattr(rhs, "resolve_expression")
        and not isinstance(rhs, (Value, Query, ExpressionList))
        and not getattr(rhs, "nonrel_native", False)
    ):
        return True
    if isinstance(rhs, (list, tuple)) and any(
        hasattr(v, "resolve_expression") and not isinstance(v, Value) for v in rhs
    ):
        return True
    return not _native_lhs(node.lhs, date_parts)


def _native_lhs(lhs: Any, date_parts: bool) -> bool:
    node = lhs
    while True:
        if isinstance(node, (Col, ColPairs, Exists)):
            return True
        if isinstance(getattr(node, "expression", None), Exists):
            return True
        if getattr(node, "nonrel_path_segment", None) is not None or isinstance(node, KeyTransform):
            node = node.lhs
            continue
        if getattr(node, "nonrel_transform", None):
            node = node.lhs
            continue
        part = WhereBuilder._date_part(node)
        if part is not None:
            source = getattr(node.lhs, "output_field", None)
            on_time = source is not None and source.get_internal_type() == "TimeField"
            if not (date_parts or part in PORTABLE_PARTS or on_time):
                return False
            if part == "quarter":
                return False
            node = node.lhs
            continue
        return False


# -- SQL value helpers -------------------------------------------------------------
def _numbers(a: Any, b: Any) -> tuple[Any, Any]:
    """Operands of one numeric type: Decimal with a float becomes float, as SQL does."""
    if isinstance(a, decimal.Decimal) and isinstance(b, float):
        return float(a), b
    if isinstance(b, decimal.Decimal) and isinstance(a, float):
        return a, float(b)
    return a, b


def _divide(a: Any, b: Any) -> Any:
    if b == 0:
        return None  # SQLite and MySQL answer NULL; no row-level error here
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
        quotient = abs(a) // abs(b)
        return quotient if (a >= 0) == (b >= 0) else -quotient
    return a / b


def _modulo(a: Any, b: Any) -> Any:
    if b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        return int(math.fmod(a, b)) if abs(a) < 2**52 else a - b * _divide(a, b)
    if isinstance(a, decimal.Decimal) or isinstance(b, decimal.Decimal):
        return decimal.Decimal(a) % decimal.Decimal(b)  # sign of the dividend, as SQL
    return math.fmod(a, b)


ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "%%": _modulo,
    "^": lambda a, b: float(a) ** float(b),
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "<<": lambda a, b: a << b,
    ">>": lambda a, b: a >> b,
    "#": lambda a, b: a ^ b,
}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _round(value: Any, places: int) -> Any:
    """SQL ROUND: halves away from zero, the input's type kept."""
    exact = decimal.Decimal(str(value)) if isinstance(value, float) else decimal.Decimal(value)
    rounded = exact.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)
    if isinstance(value, int):
        return int(rounded)
    return float(rounded) if isinstance(value, float) else rounded


def _like(pattern: str, insensitive: bool) -> re.Pattern:
    try:
        return re.compile(pattern, re.DOTALL | (re.IGNORECASE if insensitive else 0))
    except re.error as error:
        # As a server refuses it: Django's DataError, not the regex engine's error.
        raise DataError(f"Invalid regular expression {pattern!r}: {error}.") from None


LOOKUPS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": lambda a, b: a == b,
    "iexact": lambda a, b: _text(a).casefold() == _text(b).casefold(),
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "in": lambda a, b: a in [v for v in b if v is not None],
    "range": lambda a, b: b[0] <= a <= b[1],
    "contains": lambda a, b: _text(b) in _text(a),
    "icontains": lambda a, b: _text(b).casefold() in _text(a).casefold(),
    "startswith": lambda a, b: _text(a).startswith(_text(b)),
    "istartswith": lambda a, b: _text(a).casefold().startswith(_text(b).casefold()),
    "endswith": lambda a, b: _text(a).endswith(_text(b)),
    "iendswith": lambda a, b: _text(a).casefold().endswith(_text(b).casefold()),
    "regex": lambda a, b: _like(_text(b), False).search(_text(a)) is not None,
    "iregex": lambda a, b: _like(_text(b), True).search(_text(a)) is not None,
}


def sort_order(a: Any, b: Any) -> int:
    """-1, 0 or 1: how two non-NULL values sort when rows are ordered in Python.

    As the store sorts: NaN below every other number and level with NaN (Python
    finds NaN neither smaller, larger nor equal, which scrambles a sort), values
    of types Python cannot compare by their type's name.
    """
    a_nan, b_nan = isinstance(a, float) and a != a, isinstance(b, float) and b != b
    if a_nan or b_nan:
        return 0 if a_nan and b_nan else -1 if a_nan else 1
    if a == b:
        return 0
    try:
        return -1 if a < b else 1
    except TypeError:
        return -1 if type(a).__name__ < type(b).__name__ else 1


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    """SQL compares a date with a datetime column and numbers of any kind."""
    if isinstance(a, datetime.datetime) and type(b) is datetime.date:
        return a, datetime.datetime.combine(b, datetime.time(), a.tzinfo)
    if isinstance(b, datetime.datetime) and type(a) is datetime.date:
        return datetime.datetime.combine(a, datetime.time(), b.tzinfo), b
    return _numbers(a, b)


# -- dates --------------------------------------------------------------------------
def _local(value: Any, zone: Any) -> Any:
    """A stored instant in the expression's time zone (naive values stay as they are)."""
    if isinstance(value, datetime.datetime) and zone is not None and timezone.is_aware(value):
        return timezone.localtime(value, zone)
    return value


EXTRACT_PARTS = frozenset(
    {"year", "iso_year", "month", "day", "week", "week_day", "iso_week_day", "quarter"}
    | {"hour", "minute", "second"}
)
TRUNC_KINDS = frozenset(
    {"year", "quarter", "month", "week", "day", "hour", "minute", "second", "date", "time"}
)


def _zone(expr: Any) -> Any:
    """The time zone a date function works in: its tzinfo, else the current one."""
    if not settings.USE_TZ:
        return None
    return expr.tzinfo or timezone.get_current_timezone()


def _extract(value: Any, part: str) -> Any:
    if part == "year":
        return value.year
    if part == "iso_year":
        return value.isocalendar()[0]
    if part == "month":
        return value.month
    if part == "day":
        return value.day
    if part == "week":
        return value.isocalendar()[1]
    if part == "week_day":
        return value.isoweekday() % 7 + 1  # Sunday=1 ... Saturday=7
    if part == "iso_week_day":
        return value.isoweekday()
    if part == "quarter":
        return (value.month - 1) // 3 + 1
    if part in ("hour", "minute", "second"):
        if type(value) is datetime.date:
            return 0
        return getattr(value, part)
    raise ValueError(f"Invalid lookup type: {part!r}")


def _truncate(value: Any, kind: str) -> Any:
    if kind == "date":
        return value.date() if isinstance(value, datetime.datetime) else value
    if kind == "time":
        return value.time() if isinstance(value, datetime.datetime) else value
    if isinstance(value, datetime.time):
        parts = {"hour": 1, "minute": 2, "second": 3}
        if kind not in parts:
            raise ValueError(f"Invalid kind {kind!r} for truncating a time.")
        names = ("hour", "minute", "second")
        return value.replace(microsecond=0, **{n: 0 for n in names[parts[kind] :]})
    day = value.date() if isinstance(value, datetime.datetime) else value
    if kind == "year":
        day = day.replace(month=1, day=1)
    elif kind == "quarter":
        day = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    elif kind == "month":
        day = day.replace(day=1)
    elif kind == "week":
        day = day - datetime.timedelta(days=day.weekday())
    if not isinstance(value, datetime.datetime):
        return day
    if kind in ("year", "quarter", "month", "week", "day"):
        return value.replace(
            year=day.year, month=day.month, day=day.day, hour=0, minute=0, second=0, microsecond=0
        )
    if kind == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    if kind == "minute":
        return value.replace(second=0, microsecond=0)
    if kind == "second":
        return value.replace(microsecond=0)
    raise ValueError(f"Invalid kind: {kind!r}")


# -- casts --------------------------------------------------------------------------
def cast(value: Any, field: Field) -> Any:
    """``value`` as SQL's CAST to ``field``'s type gives it (None stays None)."""
    if value is None:
        return None
    kind = field.get_internal_type()
    if kind in ("CharField", "TextField", "SlugField", "EmailField", "URLField"):
        if isinstance(value, datetime.datetime):
            value = value.replace(tzinfo=None).isoformat(" ")
        text = _text(value)
        length = getattr(field, "max_length", None)
        return text[:length] if length else text
    if kind.endswith("IntegerField") or kind in ("AutoField", "BigAutoField", "SmallAutoField"):
        if isinstance(value, str):
            match = re.match(r"\s*[-+]?\d+", value)
            return int(match.group()) if match else 0
        return int(value)
    if kind == "FloatField":
        return float(value)
    if kind == "DecimalField":
        number = decimal.Decimal(str(value) if isinstance(value, float) else value)
        if field.decimal_places is not None:
            number = number.quantize(
                decimal.Decimal(1).scaleb(-field.decimal_places), rounding=decimal.ROUND_HALF_UP
            )
        return number
    if kind == "BooleanField":
        return bool(value)
    if kind == "DateField":
        if isinstance(value, datetime.datetime):
            return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        if isinstance(value, str):
            return datetime.date.fromisoformat(value[:10])
        return value
    if kind == "DateTimeField":
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        elif type(value) is datetime.date:
            value = datetime.datetime.combine(value, datetime.time())
        if settings.USE_TZ and timezone.is_naive(value):
            value = timezone.make_aware(value, datetime.UTC)
        return value
    if kind == "TimeField":
        if isinstance(value, datetime.datetime):
            return value.time()
        if isinstance(value, str):
            return datetime.time.fromisoformat(value)
        return value
    if kind == "DurationField" and isinstance(value, datetime.timedelta):
        return value
    if kind == "JSONField":
        return value
    raise unsupported(f"Cast to {kind}", "Cast to a text, number, boolean or date/time field.")


def output_value(value: Any, expression: Any) -> Any:
    """A computed value in the Python type Django returns for the expression's output."""
    if value is None:
        return None
    try:
        field = expression.output_field
    except Exception:  # mixed types without output_field: Django's own error comes later
        return value
    kind = field.get_internal_type()
    if kind == "DecimalField" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return cast(value, field)
    if kind == "FloatField" and isinstance(value, (int, decimal.Decimal)):
        return float(value)
    if (kind.endswith("IntegerField") or kind == "AutoField") and isinstance(value, float):
        return int(value)
    if kind == "BooleanField" and isinstance(value, int):
        return bool(value)
    if kind == "DateTimeField" and type(value) is datetime.date:
        return cast(value, field)  # date +/- interval is a timestamp in SQL
    return value


# -- the compiler --------------------------------------------------------------------
class ExpressionEvaluator:
    """Compile expressions of one query into functions of a stored row.

    ``base_alias`` is the queried table's alias: columns of other aliases
    (JOINs) are refused. ``subquery_values`` runs a queryset used as an ``in``
    value once, at compile time. ``columns`` collects the stored columns the
    compiled functions read, for the read's projection.
    """

    def __init__(
        self, connection, base_alias: str, subquery_values: Callable[[Query], list[Any]]
    ) -> None:
        self.connection = connection
        self.base_alias = base_alias
        self.subquery_values = subquery_values
        self.columns: list[str] = []

    def compile(self, expr: Any) -> Evaluator:
        """A function row -> value of ``expr`` (SQL NULL is None)."""
        for cls in type(expr).__mro__:
            handler = HANDLERS.get(cls)
            if handler is not None:
                return handler(self, expr)
        # Django 6.1 resolves Subquery(queryset) to the inner Query itself.
        name = "Subquery" if isinstance(expr, Query) else type(expr).__name__
        raise unsupported(
            f"The expression {name}",
            "Use fields, values, arithmetic, Case/When, Coalesce, Cast and Django's text, "
            "math and date functions, or compute the value in Python.",
        )

    def predicate(self, node: Any) -> Evaluator:
        """A function row -> True/False/None (UNKNOWN) of a WHERE node or lookup."""
        return self.compile(node)

    # -- leaves ----------------------------------------------------------------------
    def _value(self, expr: Value) -> Evaluator:
        value = expr.value
        return lambda row: value

    def _col(self, expr: Col) -> Evaluator:
        if expr.alias not in (self.base_alias, None):
            raise unsupported(
                f"An expression over the related field {expr.target.name!r}",
                "Use fields of the queried model in expressions; read related values "
                "with values() or select_related() and combine them in Python.",
            )
        column = expr.target.column
        if column not in self.columns:
            self.columns.append(column)
        connection = self.connection
        converters = connection.ops.get_db_converters(expr) + expr.get_db_converters(connection)

        def read(row: Row) -> Any:
            value = row.get(column)
            for converter in converters:
                value = converter(value, expr, connection)
            return value

        return read

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
            a, b = _numbers(a, b)
            return output_value(operation(a, b), expr)

        return combine

    def _where(self, node: WhereNode) -> Evaluator:
        if node.connector == XOR:
            children = [self.predicate(child) for child in node.children]

            def parity(row: Row) -> Any:
                values = [child(row) for child in children]
                if None in values:
                    return None
                result = sum(bool(v) for v in values) % 2 == 1
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

    def _nothing(self, node: NothingNode) -> Evaluator:
        return lambda row: False

    def _lookup(self, lookup: Lookup) -> Evaluator:
        name = lookup.lookup_name
        lhs = self.compile(lookup.lhs)
        if name == "isnull":
            wanted = bool(lookup.rhs)
            return lambda row: (lhs(row) is None) == wanted
        test = LOOKUPS.get(name)
        if test is None:
            raise unsupported(
                f"The {name!r} lookup inside an expression",
                f"Use one of {', '.join(sorted(LOOKUPS))} or isnull.",
            )
        rhs = self._rhs(lookup)
        # A UUID compared as text is its stored text: 32 hex digits where the
        # backend has no native UUID type, and the pattern loses its dashes.
        uuid_text = isinstance(lookup, UUIDTextMixin) and not getattr(
            self.connection.features, "has_native_uuid_field", False
        )

        def compare(row: Row) -> Any:
            a = lhs(row)
            b = rhs(row)
            if a is None or b is None:
                return None
            if uuid_text:
                a = a.hex if hasattr(a, "hex") and not isinstance(a, float) else a
                b = _text(b).replace("-", "")
            if name in ("in", "range"):
                b = [_comparable(a, v)[1] if v is not None else None for v in b]
            else:
                a, b = _comparable(a, b)
            try:
                return test(a, b)
            except TypeError:
                raise unsupported(
                    f"Comparing {type(a).__name__} with {type(b).__name__} in {name!r}",
                    "Compare values of the same type (Cast one side).",
                ) from None

        return compare

    def _rhs(self, lookup: Lookup) -> Evaluator:
        rhs = lookup.rhs
        if isinstance(rhs, Query):
            values = self.subquery_values(rhs)
            return lambda row: values
        if isinstance(rhs, ExpressionList):
            rhs = list(rhs.get_source_expressions())
        if lookup.lookup_name in ("in", "range") and isinstance(rhs, (list, tuple, set)):
            items = [
                self.compile(v) if hasattr(v, "resolve_expression") else (lambda row, v=v: v)
                for v in rhs
            ]
            return lambda row: [item(row) for item in items]
        if hasattr(rhs, "resolve_expression"):
            return self.compile(rhs)
        return lambda row: rhs

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
            return "".join("" if value is None else _text(value) for value in values)

        return join

    def _cast(self, expr: fn.Cast) -> Evaluator:
        (argument,) = self._arguments(expr)
        field = expr.output_field
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
        zone = _zone(expr)

        def extract(row: Row) -> Any:
            value = argument(row)
            return None if value is None else _extract(_local(value, zone), part)

        return extract

    def _trunc(self, expr: TruncBase) -> Evaluator:
        (argument,) = self._arguments(expr)
        kind = expr.kind
        if kind not in TRUNC_KINDS:
            raise ValueError(f"Invalid kind: {kind!r}")
        zone = _zone(expr)
        output = expr.output_field.get_internal_type()

        def truncate(row: Row) -> Any:
            value = argument(row)
            if value is None:
                return None
            value = _truncate(_local(value, zone), kind)
            if output == "DateField" and isinstance(value, datetime.datetime):
                return value.date()
            if output == "TimeField" and isinstance(value, datetime.datetime):
                return value.time()
            return value

        return truncate

    def _now(self, expr: fn.Now) -> Evaluator:
        return lambda row: timezone.now()

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
            return output_value(_round(values[0], places), expr)

        return round_

    def _substr(self, expr: fn.Substr) -> Evaluator:
        def substr(text: Any, position: int, length: int | None = None) -> str:
            text = _text(text)
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
        source = self.compile(expr.lhs)
        key = expr.key_name

        def dig(row: Row) -> Any:
            value = source(row)
            if isinstance(value, dict):
                return value.get(key)
            if isinstance(value, list) and key.lstrip("-").isdigit():
                index = int(key)
                return value[index] if -len(value) <= index < len(value) else None
            return None

        return dig


def _pad(left: bool) -> Callable[..., str]:
    def pad(text: Any, length: int, fill: str = " ") -> str:
        text = _text(text)
        if length <= len(text) or not fill:
            return text[:length]
        filler = (fill * (length // len(fill) + 1))[: length - len(text)]
        return filler + text if left else text + filler

    return pad


def _ceil_floor(function: Callable[[Any], int]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        result = function(value)
        return float(result) if isinstance(value, float) else result

    return apply


def _sign(value: Any) -> int:
    return (value > 0) - (value < 0)


def _log(base: Any, value: Any) -> Any:
    return math.log(float(value), float(base))


TEXT_FUNCTIONS: dict[type, Callable[..., Any]] = {
    fn.Lower: lambda s: _text(s).lower(),
    fn.Upper: lambda s: _text(s).upper(),
    fn.Length: lambda s: len(_text(s)),
    fn.Trim: lambda s: _text(s).strip(" "),
    fn.LTrim: lambda s: _text(s).lstrip(" "),
    fn.RTrim: lambda s: _text(s).rstrip(" "),
    fn.Reverse: lambda s: _text(s)[::-1],
    fn.Repeat: lambda s, n: _text(s) * max(int(n), 0),
    fn.Replace: lambda s, old, new="": _text(s).replace(_text(old), _text(new)),
    fn.StrIndex: lambda s, sub: _text(s).find(_text(sub)) + 1,
    fn.Left: lambda s, n: _text(s)[: max(int(n), 0)],
    fn.Right: lambda s, n: _text(s)[-int(n) :] if int(n) > 0 else "",
    fn.LPad: _pad(left=True),
    fn.RPad: _pad(left=False),
    fn.Chr: lambda n: chr(int(n)),
    fn.MD5: lambda s: hashlib.md5(_text(s).encode()).hexdigest(),
    fn.SHA1: lambda s: hashlib.sha1(_text(s).encode()).hexdigest(),
    fn.SHA224: lambda s: hashlib.sha224(_text(s).encode()).hexdigest(),
    fn.SHA256: lambda s: hashlib.sha256(_text(s).encode()).hexdigest(),
    fn.SHA384: lambda s: hashlib.sha384(_text(s).encode()).hexdigest(),
    fn.SHA512: lambda s: hashlib.sha512(_text(s).encode()).hexdigest(),
    fn.Ord: lambda s: ord(_text(s)[0]) if _text(s) else 0,
}
MATH_FUNCTIONS: dict[type, Callable[..., Any]] = {
    fn.Abs: abs,
    fn.Ceil: _ceil_floor(math.ceil),
    fn.Floor: _ceil_floor(math.floor),
    fn.Sign: _sign,
    fn.Sqrt: lambda x: math.sqrt(float(x)),
    fn.Power: lambda x, y: float(x) ** float(y),
    fn.Mod: _modulo,
    fn.Exp: lambda x: math.exp(float(x)),
    fn.Ln: lambda x: math.log(float(x)),
    fn.Log: _log,
    fn.Pi: lambda: math.pi,
    fn.Degrees: lambda x: math.degrees(float(x)),
    fn.Radians: lambda x: math.radians(float(x)),
    fn.Sin: lambda x: math.sin(float(x)),
    fn.Cos: lambda x: math.cos(float(x)),
    fn.Tan: lambda x: math.tan(float(x)),
    fn.Cot: lambda x: 1 / math.tan(float(x)),
    fn.ASin: lambda x: math.asin(float(x)),
    fn.ACos: lambda x: math.acos(float(x)),
    fn.ATan: lambda x: math.atan(float(x)),
    fn.ATan2: lambda y, x: math.atan2(float(y), float(x)),
    fn.Greatest: lambda *values: max(_numbers(*values) if len(values) == 2 else values),
    fn.Least: lambda *values: min(_numbers(*values) if len(values) == 2 else values),
}

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
    **{
        cls: (lambda self, expr, f=function: self._strict(f)(expr))
        for cls, function in {**TEXT_FUNCTIONS, **MATH_FUNCTIONS}.items()
    },
}

HANDLERS: dict[type, Callable[[ExpressionEvaluator, Any], Evaluator]] = {
    Value: ExpressionEvaluator._value,
    Col: ExpressionEvaluator._col,
    Ref: ExpressionEvaluator._ref,
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
