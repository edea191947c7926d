"""JSONField key lookups with SQL's JSON path semantics, in MongoDB operators.

SQL reads ``data__a__0`` as the JSON path ``$.a[0]``: a name segment selects
an object member, a digit segment an array element, and a path that does not
exist is SQL NULL, distinct from a key holding JSON ``null``. MongoDB's dotted
paths differ in two ways this module spells out:

* a name segment reaches into every element of an array (``data.a`` matches
  ``[{"a": 1}]``) and a comparison matches any element of an array value
  (``{"data.k": 1}`` matches ``{"k": [1]}``); so each prefix followed by a name
  must not be an array, a prefix followed by a digit must be one, and a scalar
  is compared with a value that is not an array;
* ``{"data.k": null}`` matches a missing key as well as JSON null; JSON null is a
  present null that is not an array, a missing key ``$exists: false``.

Only ``$type: "array"``, ``$exists``, ``$eq``, ``$in``, ``$and``, ``$or`` and ``$nor`` are
used, which MongoDB, FerretDB and mongomock run alike.
"""

from __future__ import annotations

from typing import Any

Condition = dict[str, Any]
#: Comparisons an array value would answer element by element on MongoDB.
SCALAR_COMPARISONS = frozenset({"gt", "gte", "lt", "lte", "range"})


def _is_index(segment: str | int) -> bool:
    return isinstance(segment, int) or (isinstance(segment, str) and segment.isdigit())


def _not_array(path: str) -> Condition:
    return {"$nor": [{path: {"$type": "array"}}]}


def shape_guards(parts: list[str], segments: list[str | int], final_key: bool = False) -> list:
    """Conditions that make the dotted path ``parts`` mean SQL's JSON path.

    ``parts[0]`` is the column; ``segments[i]`` is the segment that follows the
    prefix ``parts[: i + 1]``. ``final_key``: the last segment names an object
    member even when it is digits (has_key's rule, ``compile_json_path_final_key``).
    """
    guards: list[Condition] = []
    for i, segment in enumerate(segments):
        prefix = ".".join(parts[: i + 1])
        last = i == len(segments) - 1
        if _is_index(segment) and not (last and final_key):
            guards.append({prefix: {"$type": "array"}})
        else:
            guards.append(_not_array(prefix))
    return guards


def _all(conditions: list[Condition]) -> Condition:
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def key_exists(path: str, segments: list[str | int], final_key: bool = False) -> Condition:
    """The JSON path is there (it may hold JSON null): SQL's has_key / ``isnull=False``."""
    parts = path.split(".")
    return _all([*shape_guards(parts, segments, final_key), {path: {"$exists": True}}])


def key_condition(path: str, segments: list[str | int], condition: Condition) -> Condition:
    """``condition`` on the value at a JSON key path (not on the elements of an
    array there, nor through arrays above it)."""
    parts = path.split(".")
    return _all([*shape_guards(parts, segments), condition])


def json_value_test(path: str, lookup: str, value: Any, condition) -> Condition:
    """The operator document of ``lookup`` on the value at ``path``, SQL's way.

    ``condition(lookup, value)`` builds the ordinary operator document. None is
    JSON null (never a missing key); a list or dict is
    compared whole (``$eq``); a scalar is never matched against the elements of
    an array value.
    """
    if lookup == "exact":
        return _one_value(path, value, condition)
    if lookup == "in":
        scalars = [item for item in value if item is not None and not _is_container(item)]
        tests = [_scalar(path, {"$in": scalars})] if scalars else []
        tests += [
            _one_value(path, item, condition)
            for item in value
            if item is None or _is_container(item)
        ]
        if not tests:
            return {"_id": {"$in": []}}
        return tests[0] if len(tests) == 1 else {"$or": tests}
    if lookup not in SCALAR_COMPARISONS:
        return {path: condition(lookup, value)}  # patterns: text only, never an array
    return _scalar(path, condition(lookup, value))


def _is_container(value: Any) -> bool:
    return isinstance(value, list | dict)


def _one_value(path: str, value: Any, condition) -> Condition:
    if value is None:
        # JSON null: present and null ($type "null" is not implemented by mongomock).
        return {"$and": [{path: {"$exists": True, "$eq": None}}, _not_array(path)]}
    if _is_container(value):
        return {path: {"$eq": value}}
    return _scalar(path, condition("exact", value))


def _scalar(path: str, test: Condition) -> Condition:
    return {"$and": [{path: test}, _not_array(path)]}
