"""``Node``/``Leaf`` filter trees -> MongoDB query documents.

Only operators every MongoDB-compatible server shares are used ($eq, $ne, $gt,
$gte, $lt, $lte, $in, $all, $size, $exists, $type, $regex, $and, $or, $nor), so
reads run on MongoDB, FerretDB and mongomock alike. Date parts other than the
year (month, day, hour, ...) need ``$expr`` and raise NotSupportedError on
servers that lack it.

User values are always data: every value is placed under an operator (``$eq``,
``$in``, ...), so a dict such as ``{"$ne": None}`` or a string such as
``"$where"`` is compared literally and never interpreted (the one exception is
``raw_query()``'s document, a ``native`` leaf, run as given). Equality on the
key is sent as ``{"_id": value}`` when the value is a plain scalar
(``key_equality``): FerretDB runs only that form in its storage (explain:
``filterPushdown``), and a scalar there cannot be an operator or a pattern. Path segments come
from model fields, and dict keys given in lookups are checked for ``.`` and a
leading ``$`` before they become part of a field path.

Patterns (``iexact``, ``startswith``, ``endswith``...) are regular expressions
anchored at the true start and end of the text: ``$`` also matches before a
final newline in PCRE (MongoDB) and Python's ``re`` (mongomock), so
``iexact="admin"`` would match ``"admin\\n"``. The end anchor is the one the
store's engine reads as "end of text" (``REGEX_END``).

NaN: MongoDB finds NaN equal to NaN and every other comparison with it false,
and sorts it below every other number. Comparisons with a NaN value are
written out in those terms, without sending NaN (FerretDB v1 closes the
connection on a NaN in a filter; mongomock compares NaN as Python does).
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from bson import Int64, ObjectId
from django.db import DataError, NotSupportedError

from django_nonrel.query import AND, NATIVE, Leaf, Node

from . import json_paths

ID = "_id"

KEY_LOOKUPS = frozenset({"has_key", "has_keys", "has_any_keys"})
COMPARISONS = {"gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
DATE_OPERATORS = {
    "month": "$month",
    "day": "$dayOfMonth",
    "week_day": "$dayOfWeek",
    "iso_week_day": "$isoDayOfWeek",
    "week": "$isoWeek",
    "iso_year": "$isoWeekYear",
    "hour": "$hour",
    "minute": "$minute",
    "second": "$second",
}
#: Key types ``{"_id": value}`` compares exactly as ``{"_id": {"$eq": value}}``: not a
#: document (an operator), a list (an array match), a pattern or NaN. Exact types,
#: so no subclass (``bool``, ``bson.Regex``...) slips in.
PLAIN_KEY_TYPES = frozenset({str, int, Int64, ObjectId, uuid.UUID})
MATCH_ALL: dict[str, Any] = {}
MATCH_NONE = {ID: {"$in": []}}
#: The end-of-text anchor of each regex dialect (``features.regex_dialect``):
#: mongomock runs Python's ``re`` (no ``\z`` before 3.14), MongoDB PCRE and
#: FerretDB v1 Go's RE2 (which refuses ``\Z``).
REGEX_END = {"python": r"\Z", "pcre": r"\z", "re2": r"\z"}
#: Comparisons a NaN value can take part in (MongoDB semantics, see the docstring).
NAN_LOOKUPS = frozenset({"exact", "gt", "gte", "lt", "lte", "in", "range"})


def key_equality(value: Any) -> Any:
    """The condition of ``_id == value``: the value itself when it is a plain scalar
    key (the form FerretDB filters in its storage rather than scanning every
    document in Go), else ``{"$eq": value}`` so that it stays data."""
    return value if type(value) in PLAIN_KEY_TYPES else {"$eq": value}


def field_path(path: tuple[str | int, ...], pk_column: str) -> str:
    """The dotted MongoDB path of ``path``; the primary key column is ``_id``."""
    head, *rest = path
    parts = [ID if head == pk_column else head]
    for segment in rest:
        if isinstance(segment, str) and (segment.startswith("$") or "." in segment or not segment):
            raise NotSupportedError(
                f"The key {segment!r} cannot be used in a lookup path: keys must be "
                "non-empty and must not contain '.' or start with '$'."
            )
        parts.append(str(segment))
    return ".".join(parts)


class FilterTranslator:
    """Translate filter trees for one collection.

    ``year_bounds(year, field)`` returns the stored [first, last] instants of a
    calendar year for a date/datetime field (the backend's operations know the
    time zone and storage form). ``time_zone(field)`` is the zone name ``$expr``
    date operators extract parts of that field in (None: as stored);
    ``date_parts`` says whether the server has those operators at all;
    ``null_parents`` spells out that a path under a null value is null (for
    mongomock, which does not match ``{"a.b": null}`` when ``a`` is null).
    ``day_bounds(day, field)`` returns the stored [first, last] instants of a
    calendar day for a datetime field: ``__date`` lookups become ranges, which
    every server runs (and an index serves). ``regex_dialect`` names the
    store's regex engine (a key of ``REGEX_END``).
    """

    def __init__(
        self,
        pk_column: str,
        year_bounds,
        time_zone,
        date_parts: bool = True,
        null_parents: bool = False,
        day_bounds=None,
        regex_dialect: str = "pcre",
    ) -> None:
        self.pk_column = pk_column
        self.regex_dialect = regex_dialect
        self.null_parents = null_parents
        self.date_parts = date_parts
        self.year_bounds = year_bounds
        self.time_zone = time_zone
        self.day_bounds = day_bounds

    def translate(self, node: Node | Leaf) -> dict[str, Any]:
        """The documents for which ``node`` is true."""
        return self._match(node, want=True)

    def _match(self, node: Node | Leaf, want: bool) -> dict[str, Any]:
        """Documents for which ``node`` is ``want`` -- SQL's three-valued logic.

        A comparison on a key inside a document is UNKNOWN in SQL when the key
        is missing or null, and NOT UNKNOWN is UNKNOWN: such a row matches
        neither ``filter()`` nor ``exclude()``. So negation is pushed down to
        the leaves (De Morgan), and a false leaf of that kind also requires the
        value to be there. Every other leaf is true or false, and its false
        form is ``$nor`` of its true form.
        """
        if isinstance(node, Leaf):
            condition = self.leaf(node)
            if want:
                return condition
            if node.unknown_when_null:
                # $exists as well: mongomock matches a missing list index with $ne.
                path = field_path(node.path, self.pk_column)
                present = {path: {"$exists": True, "$ne": None}}
                if node.json:
                    # Under a JSON key, JSON null is a value: only a missing key is NULL.
                    present = json_paths.key_exists(path, list(node.path[1:]))
                return {"$and": [present, {"$nor": [condition]}]}
            return {"$nor": [condition]} if condition else MATCH_NONE
        if node.negated:
            want = not want
        parts = [self._match(child, want) for child in node.children]
        # AND is true when all children are; it is false when any child is.
        conjunction = (node.connector == AND) == want
        if not parts:
            return MATCH_ALL if want else MATCH_NONE
        if len(parts) == 1:
            return parts[0]
        return {"$and" if conjunction else "$or": parts}

    # -- leaves ---------------------------------------------------------------
    def leaf(self, leaf: Leaf) -> dict[str, Any]:
        if leaf.lookup == NATIVE:
            return leaf.value  # raw_query(): the user's own filter, deliberately as given
        path = field_path(leaf.path, self.pk_column)
        if leaf.transform == "len":
            return self._length(path, leaf.compare, leaf.value)
        if leaf.transform == "year":
            return self._year(path, leaf)
        if leaf.transform == "date" and self._is_datetime(leaf.field) and self.day_bounds:
            return self._date(path, leaf)
        if leaf.transform is not None:
            return self._date_part(path, leaf)
        if leaf.lookup in KEY_LOOKUPS:
            return self._has_keys(leaf, path)
        if leaf.json and len(leaf.path) > 1 and not _holds_nan(leaf.lookup, leaf.value):
            return self._json_key(leaf, path)
        if leaf.json and leaf.lookup in ("exact", "in") and not _holds_nan(leaf.lookup, leaf.value):
            # The whole value: a list or dict compared whole, a scalar never with
            # the elements of a stored array.
            return json_paths.json_value_test(path, leaf.lookup, leaf.value, self.condition)
        if leaf.lookup == "isnull" and len(leaf.path) > 1 and self.null_parents:
            return self._isnull_through_parents(path, leaf.value)
        if leaf.lookup in NAN_LOOKUPS and _holds_nan(leaf.lookup, leaf.value):
            return _nan_comparison(path, leaf.lookup, leaf.value)
        if path == ID and leaf.lookup == "exact":
            return {ID: key_equality(leaf.value)}
        return {path: self.condition(leaf.lookup, leaf.value)}

    @staticmethod
    def _isnull_through_parents(path: str, isnull: bool) -> dict[str, Any]:
        """``a.b`` is null when ``a`` is: mongomock does not see through a null parent."""
        parts = path.split(".")
        paths = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if isnull:
            return {"$or": [{p: {"$eq": None}} for p in paths]}
        return {"$and": [{p: {"$ne": None}} for p in paths]}

    def _json_key(self, leaf: Leaf, path: str) -> dict[str, Any]:
        """A lookup on a JSONField key path, with SQL's JSON path semantics
        (``json_paths``): ``isnull`` asks whether the path exists, None is JSON null."""
        segments = list(leaf.path[1:])
        if leaf.lookup == "isnull":
            exists = json_paths.key_exists(path, segments)
            return {"$nor": [exists]} if leaf.value else exists
        lookup = "exact" if leaf.lookup == "iexact" and leaf.value is None else leaf.lookup
        test = json_paths.json_value_test(path, lookup, leaf.value, self.condition)
        return json_paths.key_condition(path, segments, test)

    def _has_keys(self, leaf: Leaf, path: str) -> dict[str, Any]:
        """JSONField has_key/has_keys/has_any_keys: the key paths exist, as
        object members (SQL's final key is a member name even when it is digits)."""
        keys = [leaf.value] if leaf.lookup == "has_key" else list(leaf.value)
        segments = list(leaf.path[1:])
        tests = [
            json_paths.key_exists(
                field_path((*leaf.path, str(key)), self.pk_column),
                [*segments, str(key)],
                final_key=True,
            )
            for key in keys
        ]
        if len(tests) == 1:
            return tests[0]
        return {"$and" if leaf.lookup == "has_keys" else "$or": tests}

    def condition(self, lookup: str, value: Any) -> dict[str, Any]:
        """The operator document for ``lookup`` against a literal ``value``."""
        if lookup == "exact":
            return {"$eq": value}
        if lookup in COMPARISONS:
            return {COMPARISONS[lookup]: value}
        if lookup == "in":
            return {"$in": list(value)}
        if lookup == "range":
            low, high = value
            return {"$gte": low, "$lte": high}
        if lookup == "isnull":
            return {"$eq": None} if value else {"$ne": None}
        if lookup == "all":
            # Every list contains the empty list; NULL is not a list (as on SQL).
            return {"$all": list(value)} if value else {"$type": "array"}
        if lookup == "overlap":
            return {"$in": list(value)}
        pattern = self._pattern(lookup, value)
        if pattern is not None:
            return pattern
        raise NotSupportedError(f"The {lookup!r} lookup is not supported on MongoDB.")

    def _pattern(self, lookup: str, value: Any) -> dict[str, Any] | None:
        insensitive = lookup.startswith("i") and lookup != "in"
        base = lookup[1:] if insensitive else lookup
        if base == "regex":
            expression = str(value)
            if self.regex_dialect == "python":
                check_python_regex(expression, insensitive)
        else:
            escaped = re.escape(str(value))
            end = REGEX_END[self.regex_dialect]
            expression = {
                "exact": f"^{escaped}{end}",
                "contains": escaped,
                "startswith": f"^{escaped}",
                "endswith": f"{escaped}{end}",
            }.get(base)
            if expression is None:
                return None
        result: dict[str, Any] = {"$regex": expression}
        if insensitive:
            result["$options"] = "i"
        return result

    @staticmethod
    def _length(path: str, compare: str | None, n: int) -> dict[str, Any]:
        """List length tests through ``$size`` and index existence (no $expr needed)."""
        is_array = {path: {"$type": "array"}}

        def has_index(i: int) -> dict[str, Any]:
            return {f"{path}.{i}": {"$exists": True}}

        def lacks_index(i: int) -> dict[str, Any]:
            return {"$and": [is_array, {f"{path}.{i}": {"$exists": False}}]}

        if compare == "exact":
            return {path: {"$size": n}}
        if compare == "gt":
            return has_index(n) if n >= 0 else is_array
        if compare == "gte":
            return has_index(n - 1) if n > 0 else is_array
        if compare == "lt":
            return lacks_index(n - 1) if n > 0 else MATCH_NONE
        if compare == "lte":
            return lacks_index(n) if n >= 0 else MATCH_NONE
        if compare == "in":
            return {"$or": [{path: {"$size": i}} for i in n]} if n else MATCH_NONE
        raise NotSupportedError(f"len__{compare} is not supported on MongoDB.")

    def _year(self, path: str, leaf: Leaf) -> dict[str, Any]:
        compare, year = leaf.compare, leaf.value
        if compare == "in":
            return {
                "$or": [
                    self._year(path, Leaf(leaf.path, "year", y, leaf.field, "year", "exact"))
                    for y in year
                ]
            }
        if compare == "range":
            low, _ = self.year_bounds(year[0], leaf.field)
            _, high = self.year_bounds(year[1], leaf.field)
            return {path: {"$gte": low, "$lte": high}}
        if compare not in ("exact", "gt", "gte", "lt", "lte"):
            raise NotSupportedError(f"year__{compare} is not supported on MongoDB.")
        first, last = self.year_bounds(year, leaf.field)
        return {path: _within(compare, first, last)}

    @staticmethod
    def _is_datetime(field) -> bool:
        return field is not None and field.get_internal_type() == "DateTimeField"

    def _date(self, path: str, leaf: Leaf) -> dict[str, Any]:
        """``datetime__date`` as a range of instants (the day in the current time zone)."""
        compare, value = leaf.compare, leaf.value

        def bounds(day: Any) -> list[Any]:
            if isinstance(day, datetime.datetime):
                day = day.date()  # a date arrives adapted to midnight for storage
            return self.day_bounds(day, leaf.field)

        if compare == "in":
            days = [day for day in value if day is not None]
            ranges = [bounds(day) for day in days]
            if not ranges:
                return dict(MATCH_NONE)
            return {"$or": [{path: {"$gte": first, "$lte": last}} for first, last in ranges]}
        if compare == "range":
            return {path: {"$gte": bounds(value[0])[0], "$lte": bounds(value[1])[1]}}
        if compare not in ("exact", "gt", "gte", "lt", "lte"):
            raise NotSupportedError(f"date__{compare} is not supported on MongoDB.")
        if value is None:
            raise NotSupportedError("Compare a date to a date; use isnull for missing values.")
        first, last = bounds(value)
        return {path: _within(compare, first, last)}

    def _time_part(self, path: str, leaf: Leaf) -> dict[str, Any] | None:
        """hour/minute/second of a TimeField, stored as ``HH:MM:SS.ffffff`` text.

        Equality (and ``in``) matches the digits at the part's place; the hour also
        orders, since zero-padded text sorts like the time. None: not expressible.
        """
        place = {"hour": "^", "minute": r"^\d\d:", "second": r"^\d\d:\d\d:"}.get(leaf.transform)
        if place is None:
            return None
        if leaf.compare in ("exact", "in"):
            values = leaf.value if leaf.compare == "in" else [leaf.value]
            tests = [
                {path: {"$regex": f"{place}{value:02d}[:.]"}}
                for value in values
                if isinstance(value, int) and 0 <= value <= 59
            ]
            if not tests:
                return dict(MATCH_NONE)
            return tests[0] if len(tests) == 1 else {"$or": tests}
        if leaf.transform == "hour" and leaf.compare in COMPARISONS:
            hour = leaf.value
            if not isinstance(hour, int):
                return None
            # "HH:" bounds: every stored time of hour h sorts in ["hh:", "(h+1):").
            at, after = f"{hour:02d}:", f"{hour + 1:02d}:"
            bound = {"gt": ("$gte", after), "gte": ("$gte", at), "lt": ("$lt", at)}
            operator, text = bound.get(leaf.compare, ("$lt", after))
            return {path: {operator: text}}  # text bounds match text only, never null
        return None

    def _date_part(self, path: str, leaf: Leaf) -> dict[str, Any]:
        if leaf.field is not None and leaf.field.get_internal_type() == "TimeField":
            found = self._time_part(path, leaf)
            if found is not None:
                return found
            raise NotSupportedError(
                f"{leaf.transform}__{leaf.compare} on a TimeField is not supported on MongoDB "
                "(times are stored as text: hour, minute and second support exact and in, "
                "the hour also gt/gte/lt/lte); filter on a range of times instead."
            )
        operator = DATE_OPERATORS.get(leaf.transform)
        if operator is not None and not self.date_parts:
            raise NotSupportedError(
                f"{leaf.transform} lookups need $expr date operators, which this server "
                "(FerretDB) lacks; filter on a date/datetime range instead (year works)."
            )
        if operator is None:
            raise NotSupportedError(
                f"The {leaf.transform!r} transform is not supported in MongoDB filters; "
                "filter on a range of the date/datetime field instead."
            )
        if leaf.compare not in ("exact", *COMPARISONS):
            raise NotSupportedError(
                f"{leaf.transform}__{leaf.compare} is not supported on MongoDB."
            )
        zone = self.time_zone(leaf.field)
        argument: Any = {"date": f"${path}", "timezone": zone} if zone else f"${path}"
        compare = "$eq" if leaf.compare == "exact" else COMPARISONS[leaf.compare]
        value = leaf.value
        if isinstance(value, datetime.date):
            raise NotSupportedError(f"{leaf.transform} lookups take numbers.")
        # $expr comparisons order null below numbers; SQL never matches NULL.
        expression = {"$expr": {compare: [{operator: argument}, value]}}
        return {"$and": [{path: {"$ne": None}}, expression]}


def check_python_regex(expression: str, insensitive: bool = False) -> re.Pattern:
    """``expression`` compiled by Python's ``re``, or DataError saying why it is invalid.

    A server refuses an invalid pattern before it reads a document; mongomock
    (and Python-evaluated filters) would raise ``re.error`` only when a
    document is there to test, so the pattern is checked up front.
    """
    try:
        return re.compile(expression, re.IGNORECASE if insensitive else 0)
    except re.error as error:
        raise DataError(f"Invalid regular expression {expression!r}: {error}.") from None


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


def _holds_nan(lookup: str, value: Any) -> bool:
    """Whether the value of ``lookup`` is NaN, or (``in``, ``range``) holds one."""
    if lookup in ("in", "range"):
        return isinstance(value, list | tuple | set | frozenset) and any(map(_is_nan, value))
    return _is_nan(value)


def is_nan(path: str) -> dict[str, Any]:
    """Documents whose ``path`` is a NaN double: a double that no comparison matches."""
    return {"$and": [{path: {"$type": "double"}}, {"$nor": [{path: {"$gte": float("-inf")}}]}]}


def _nan_comparison(path: str, lookup: str, value: Any) -> dict[str, Any]:
    """A comparison with NaN as MongoDB defines it: NaN equals NaN, and no other
    comparison with it is true (``gte``/``lte`` hold for NaN itself)."""
    if lookup in ("exact", "gte", "lte"):
        return is_nan(path)
    if lookup == "in":
        others = [item for item in value if not _is_nan(item)]
        return {"$or": [{path: {"$in": others}}, is_nan(path)]} if others else is_nan(path)
    if lookup == "range" and all(map(_is_nan, value)):
        return is_nan(path)
    return dict(MATCH_NONE)


def _within(compare: str, first: Any, last: Any) -> dict[str, Any]:
    """A comparison against a period stored as its [first, last] instants.

    ``year`` and ``date`` lookups compare with a whole year or day: equal means
    inside it, greater means after its last instant, and so on.
    """
    return {
        "exact": {"$gte": first, "$lte": last},
        "gt": {"$gt": last},
        "gte": {"$gte": first},
        "lt": {"$lt": first},
        "lte": {"$lte": last},
    }[compare]
