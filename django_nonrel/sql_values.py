"""Python values with SQL's semantics, for expressions evaluated on stored rows.

``django_nonrel.expressions`` compiles Django expressions into functions of a
stored row; this module holds what those functions compute with, written to
give what SQL gives: division by zero is NULL and integer division truncates;
a Decimal meeting a float becomes a float; booleans are 1/0 as text; ``ROUND``
rounds halves away from zero; date parts and truncations work in the
expression's time zone; ``Cast`` follows SQL's conversions; the text and math
functions Django ships map to Python here (``TEXT_FUNCTIONS``,
``MATH_FUNCTIONS``), and ``LOOKUPS`` are the comparisons a lookup makes.
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
from django.db import DataError
from django.db.models import Field
from django.db.models import functions as fn
from django.utils import timezone

from django_nonrel.exceptions import unsupported


# -- SQL value helpers -------------------------------------------------------------
def numbers(a: Any, b: Any) -> tuple[Any, Any]:
    """Operands of one numeric type: Decimal with a float (or with a duration, which
    Python scales only by int and float) becomes float, as SQL does."""
    if isinstance(a, decimal.Decimal) and isinstance(b, (float, datetime.timedelta)):
        return float(a), b
    if isinstance(b, decimal.Decimal) and isinstance(a, (float, datetime.timedelta)):
        return a, float(b)
    return a, b


def divide(a: Any, b: Any) -> Any:
    """SQL division: NULL for a zero divisor, integer division truncates toward zero."""
    if b == 0:
        return None  # SQLite and MySQL answer NULL; no row-level error here
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
        quotient = abs(a) // abs(b)
        return quotient if (a >= 0) == (b >= 0) else -quotient
    return a / b


def modulo(a: Any, b: Any) -> Any:
    """SQL modulo: NULL for a zero divisor, the sign of the dividend."""
    if b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        return int(math.fmod(a, b)) if abs(a) < 2**52 else a - b * divide(a, b)
    if isinstance(a, decimal.Decimal) or isinstance(b, decimal.Decimal):
        return decimal.Decimal(a) % decimal.Decimal(b)  # sign of the dividend, as SQL
    return math.fmod(a, b)


ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": divide,
    "%%": modulo,
    "^": lambda a, b: float(a) ** float(b),
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "<<": lambda a, b: a << b,
    ">>": lambda a, b: a >> b,
    "#": lambda a, b: a ^ b,
}


def as_text(value: Any) -> str:
    """A value as SQL turns it into text (booleans are 1 and 0)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def round_half_up(value: Any, places: int) -> Any:
    """SQL ROUND: halves away from zero, the input's type kept."""
    exact = decimal.Decimal(str(value)) if isinstance(value, float) else decimal.Decimal(value)
    rounded = exact.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)
    if isinstance(value, int):
        return int(rounded)
    return float(rounded) if isinstance(value, float) else rounded


def compile_regex(pattern: str, insensitive: bool) -> re.Pattern:
    """The ``regex``/``iregex`` lookups' pattern (``.`` matches newlines, as in SQL)."""
    try:
        return re.compile(pattern, re.DOTALL | (re.IGNORECASE if insensitive else 0))
    except re.error as error:
        # As a server refuses it: Django's DataError, not the regex engine's error.
        raise DataError(f"Invalid regular expression {pattern!r}: {error}.") from None


LOOKUPS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": lambda a, b: a == b,
    "iexact": lambda a, b: as_text(a).casefold() == as_text(b).casefold(),
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "in": lambda a, b: a in [v for v in b if v is not None],
    "range": lambda a, b: b[0] <= a <= b[1],
    "contains": lambda a, b: as_text(b) in as_text(a),
    "icontains": lambda a, b: as_text(b).casefold() in as_text(a).casefold(),
    "startswith": lambda a, b: as_text(a).startswith(as_text(b)),
    "istartswith": lambda a, b: as_text(a).casefold().startswith(as_text(b).casefold()),
    "endswith": lambda a, b: as_text(a).endswith(as_text(b)),
    "iendswith": lambda a, b: as_text(a).casefold().endswith(as_text(b).casefold()),
    "regex": lambda a, b: compile_regex(as_text(b), False).search(as_text(a)) is not None,
    "iregex": lambda a, b: compile_regex(as_text(b), True).search(as_text(a)) is not None,
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


def comparable(a: Any, b: Any) -> tuple[Any, Any]:
    """SQL compares a date with a datetime column and numbers of any kind."""
    if isinstance(a, datetime.datetime) and type(b) is datetime.date:
        return a, datetime.datetime.combine(b, datetime.time(), a.tzinfo)
    if isinstance(b, datetime.datetime) and type(a) is datetime.date:
        return datetime.datetime.combine(a, datetime.time(), b.tzinfo), b
    return numbers(a, b)


# -- dates --------------------------------------------------------------------------
def local_time(value: Any, zone: Any) -> Any:
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


def time_zone(expr: Any) -> Any:
    """The time zone a date function works in: its tzinfo, else the current one."""
    if not settings.USE_TZ:
        return None
    return expr.tzinfo or timezone.get_current_timezone()


def extract_part(value: Any, part: str) -> Any:
    """``Extract``'s date part of a date or datetime (``week_day``: Sunday is 1)."""
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


def truncate_to(value: Any, kind: str) -> Any:
    """``Trunc``: a date, datetime or time cut down to ``kind``."""
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
def value_field(field: Field) -> Field:
    """The field whose type a value of ``field`` has: a key column has its target's type.

    SQL casts to a ForeignKey (or OneToOneField) as to the column type of the
    field it refers to, and reads computed values typed by one the same way.
    """
    while field.is_relation and (field.many_to_one or field.one_to_one):
        field = field.target_field
    return field


def cast(value: Any, field: Field) -> Any:
    """``value`` as SQL's CAST to ``field``'s type gives it (None stays None)."""
    if value is None:
        return None
    field = value_field(field)
    kind = field.get_internal_type()
    if kind in ("CharField", "TextField", "SlugField", "EmailField", "URLField"):
        if isinstance(value, datetime.datetime):
            value = value.replace(tzinfo=None).isoformat(" ")
        text = as_text(value)
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
    field = value_field(field)
    kind = field.get_internal_type()
    if kind == "DecimalField" and isinstance(value, (int, float)) and not isinstance(value, bool):
        # A computed value is not a column: Django's SQL backends read it back unrounded
        # (SQLite: 15 significant digits of the double), never quantized to the places
        # of the field that gave the expression its type; only CAST rounds.
        if isinstance(value, int):
            return decimal.Decimal(value)
        return decimal.Context(prec=15).create_decimal_from_float(value)
    if kind == "FloatField" and isinstance(value, (int, decimal.Decimal)):
        return float(value)
    if (kind.endswith("IntegerField") or kind == "AutoField") and isinstance(value, float):
        return int(value)
    if kind == "BooleanField" and isinstance(value, int):
        return bool(value)
    if kind == "DateTimeField" and type(value) is datetime.date:
        return cast(value, field)  # date +/- interval is a timestamp in SQL
    return value


def _pad(left: bool) -> Callable[..., str]:
    def pad(text: Any, length: int, fill: str = " ") -> str:
        text = as_text(text)
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
    fn.Lower: lambda s: as_text(s).lower(),
    fn.Upper: lambda s: as_text(s).upper(),
    fn.Length: lambda s: len(as_text(s)),
    fn.Trim: lambda s: as_text(s).strip(" "),
    fn.LTrim: lambda s: as_text(s).lstrip(" "),
    fn.RTrim: lambda s: as_text(s).rstrip(" "),
    fn.Reverse: lambda s: as_text(s)[::-1],
    fn.Repeat: lambda s, n: as_text(s) * max(int(n), 0),
    fn.Replace: lambda s, old, new="": as_text(s).replace(as_text(old), as_text(new)),
    fn.StrIndex: lambda s, sub: as_text(s).find(as_text(sub)) + 1,
    fn.Left: lambda s, n: as_text(s)[: max(int(n), 0)],
    fn.Right: lambda s, n: as_text(s)[-int(n) :] if int(n) > 0 else "",
    fn.LPad: _pad(left=True),
    fn.RPad: _pad(left=False),
    fn.Chr: lambda n: chr(int(n)),
    fn.MD5: lambda s: hashlib.md5(as_text(s).encode()).hexdigest(),
    fn.SHA1: lambda s: hashlib.sha1(as_text(s).encode()).hexdigest(),
    fn.SHA224: lambda s: hashlib.sha224(as_text(s).encode()).hexdigest(),
    fn.SHA256: lambda s: hashlib.sha256(as_text(s).encode()).hexdigest(),
    fn.SHA384: lambda s: hashlib.sha384(as_text(s).encode()).hexdigest(),
    fn.SHA512: lambda s: hashlib.sha512(as_text(s).encode()).hexdigest(),
    fn.Ord: lambda s: ord(as_text(s)[0]) if as_text(s) else 0,
}


MATH_FUNCTIONS: dict[type, Callable[..., Any]] = {
    fn.Abs: abs,
    fn.Ceil: _ceil_floor(math.ceil),
    fn.Floor: _ceil_floor(math.floor),
    fn.Sign: _sign,
    fn.Sqrt: lambda x: math.sqrt(float(x)),
    fn.Power: lambda x, y: float(x) ** float(y),
    fn.Mod: modulo,
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
    fn.Greatest: lambda *values: max(numbers(*values) if len(values) == 2 else values),
    fn.Least: lambda *values: min(numbers(*values) if len(values) == 2 else values),
}
