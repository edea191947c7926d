"""SingleStore SQL for expressions whose MySQL SQL SingleStore does not take.

Registered as ``as_singlestore()`` / ``sql_singlestore()`` methods, which only a
connection whose vendor is ``"singlestore"`` ever calls (Django dispatches on
``"as_" + connection.vendor``), so other backends are untouched. Everything not
listed here compiles with its ``as_mysql()`` SQL (see compiler.py).

* ``Cast`` -> SingleStore's ``expr :> type`` operator.
* Django's JSONField key paths -> ``JSON_EXTRACT_JSON(doc, 'k1', 'k2')``.
* The nonrel fields' lookups (ListField, SetField, DictField,
  EmbeddedModelField) -> ``JSON_EXTRACT_STRING`` / ``JSON_EXTRACT_JSON`` with a
  key path per argument, ``JSON_ARRAY_CONTAINS_JSON``, ``JSON_LENGTH``,
  ``JSON_GET_TYPE``, and ``TABLE(JSON_TO_ARRAY(...))`` to iterate a list's
  elements. SingleStore's key paths are one argument per key or index, not
  MySQL's ``'$.a[0]'`` strings, so locations are rebuilt from the path
  transforms' ``nonrel_path_segment``s.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import BooleanField, DecimalField
from django.db.models.fields import json as django_json
from django.db.models.functions import Cast

from django_nonrel.fields import lookups as nonrel

_registered = False


@dataclass(frozen=True)
class KeyPath:
    """A JSON document's SQL and the key path into it, one SQL argument per step."""

    document: str
    params: tuple
    keys: tuple = ()

    def call(self, function: str, *extra: str) -> tuple[str, tuple]:
        args = [self.document, *["%s"] * len(self.keys), *extra]
        return f"{function}({', '.join(args)})", (*self.params, *self.keys)


def key_path(expression: Any, compiler, connection) -> KeyPath:
    """Where ``expression`` (a column or nonrel path transforms on it) points."""
    if isinstance(expression, nonrel.ElementKeyTransform):
        inner = key_path(expression.lhs, compiler, connection)
        # The scope keeps the list's key tuple (repr) where MySQL keeps a JSON path.
        location = nonrel.JsonLocation(inner.document, inner.params, repr(inner.keys))
        alias = nonrel.element_alias(location)
        return KeyPath(f"{alias}.table_col", (), (expression.nonrel_path_segment,))
    if isinstance(expression, nonrel.PathTransform):
        inner = key_path(expression.lhs, compiler, connection)
        return KeyPath(inner.document, inner.params, (*inner.keys, expression.nonrel_path_segment))
    sql, params = compiler.compile(expression)
    return KeyPath(sql, tuple(params))


def element_exists(source: nonrel.ElementSource, sql: str, params: tuple) -> tuple[str, tuple]:
    """EXISTS over the elements of a list, each as ``<alias>.table_col``."""
    document, document_params = source.location.document, source.location.params
    array = KeyPath(document, document_params, ast.literal_eval(source.location.path))
    array_sql, array_params = array.call("JSON_EXTRACT_JSON")
    alias = source.alias
    return (
        f"EXISTS(SELECT 1 FROM TABLE(JSON_TO_ARRAY({array_sql})) AS {alias} "
        f"WHERE JSON_GET_TYPE({alias}.table_col) = 'object' AND {sql})",
        (*array_params, *params),
    )


def path_transform_sql(self, compiler, connection):
    path = key_path(self, compiler, connection)
    if isinstance(self.output_field, BooleanField):
        sql, params = path.call("JSON_EXTRACT_JSON")
        return f"(CASE {sql} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)", params
    sql, params = path.call("JSON_EXTRACT_STRING")
    if isinstance(self.output_field, DecimalField):
        sql = f"({sql} :> DECIMAL(65, 30))"
    return sql, params


def length_sql(self, compiler, connection):
    sql, params = key_path(self.lhs, compiler, connection).call("JSON_EXTRACT_JSON")
    return f"JSON_LENGTH({sql})", params


def array_contains(path: KeyPath, item_json: str) -> tuple[str, tuple]:
    sql, params = path.call("JSON_EXTRACT_JSON")
    return f"JSON_ARRAY_CONTAINS_JSON({sql}, %s)", (*params, item_json)


def json_equals(path: KeyPath, value_json: str) -> tuple[str, tuple]:
    sql, params = path.call("JSON_EXTRACT_JSON")
    return f"{sql} = (%s :> JSON)", (*params, value_json)


def list_exact_sql(self, compiler, connection):
    path = key_path(self.lhs, compiler, connection)
    if self.whole:
        return json_equals(path, self.json_param(connection))
    return array_contains(path, self.json_param(connection))


def list_contains_sql(self, compiler, connection):
    path = key_path(self.lhs, compiler, connection)
    if not self.rhs:
        sql, params = path.call("JSON_EXTRACT_JSON")
        return f"JSON_GET_TYPE({sql}) = 'array'", params
    parts = [array_contains(path, json.dumps(item)) for item in self.nonrel_value(connection)]
    return "(" + " AND ".join(sql for sql, _ in parts) + ")", sum((p for _, p in parts), ())


def list_overlap_sql(self, compiler, connection):
    if not self.rhs:
        raise EmptyResultSet
    path = key_path(self.lhs, compiler, connection)
    parts = [array_contains(path, json.dumps(item)) for item in self.nonrel_value(connection)]
    return "(" + " OR ".join(sql for sql, _ in parts) + ")", sum((p for _, p in parts), ())


def document_exact_sql(self, compiler, connection):
    return json_equals(key_path(self.lhs, compiler, connection), self.json_param(connection))


def scoped_singlestore(self, compiler, connection):
    return self.compile_scoped(compiler, connection, element_exists)


def cast_singlestore(self, compiler, connection, **extra_context):
    # Django's MySQL cast types (CHAR, SIGNED, DATETIME(6)...) are SingleStore's too.
    return self.as_sql(
        compiler, connection, template="(%(expressions)s :> %(db_type)s)", **extra_context
    )


def json_key_transform_singlestore(self, compiler, connection):
    lhs, params, key_transforms = self.preprocess_lhs(compiler, connection)
    keys = [int(k) if k.lstrip("-").isdigit() else k for k in key_transforms]
    placeholders = ", ".join(["%s"] * len(keys))
    return f"JSON_EXTRACT_JSON({lhs}, {placeholders})", (*params, *keys)


def register_functions() -> None:
    """Attach the SingleStore SQL above (idempotent)."""
    global _registered
    if _registered:
        return
    _registered = True
    Cast.as_singlestore = cast_singlestore
    django_json.KeyTransform.as_singlestore = json_key_transform_singlestore
    nonrel.PathTransform.as_singlestore = path_transform_sql
    nonrel.LengthTransform.as_singlestore = length_sql
    nonrel.ElementScopeMixin.as_singlestore = scoped_singlestore
    nonrel.ListExact.sql_singlestore = list_exact_sql
    nonrel.ListContains.sql_singlestore = list_contains_sql
    nonrel.ListOverlap.sql_singlestore = list_overlap_sql
    nonrel.DocumentExact.sql_singlestore = document_exact_sql
