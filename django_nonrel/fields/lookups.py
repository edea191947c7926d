"""Lookups and path transforms of ListField, SetField, DictField and EmbeddedModelField.

Django's own syntax reaches into stored structures::

    Post.objects.filter(tags="django")               # membership
    Post.objects.filter(tags=["a", "b"])             # whole-list equality
    Post.objects.filter(tags__contains=["a", "b"])   # every one of
    Post.objects.filter(tags__overlap=["a", "b"])    # any one of
    Post.objects.filter(tags__len__gt=2, tags__0__startswith="dj")
    Post.objects.filter(address__city__istartswith="par")     # embedded model
    Post.objects.filter(meta__dims__w__gt=3)                  # dict key path
    Post.objects.filter(items__price__gt=3)          # any element of a list of embedded models

On SQL backends the lookups compile to JSON SQL through Django's ``as_<vendor>()``
hooks (``as_sqlite``, ``as_mysql``); elsewhere they raise NotSupportedError.
Document backends never compile SQL: ``django_nonrel.where`` reads the
attributes below and builds ``django_nonrel.query.Leaf`` objects.

Contract with the nonrel compiler
---------------------------------
Path transforms -- every step into a stored structure is a ``Transform`` with

* ``nonrel_path_segment``: ``int`` for a list index (:class:`IndexTransform`),
  ``str`` for a dict key or an embedded field's column (:class:`KeyTransform`,
  :class:`ElementKeyTransform`);
* ``lhs``: the previous step (another transform, or the column's ``Col``);
* ``output_field``: the field that prepares values compared at the end of the
  path -- the embedded model's field, the list's item field, the dict's value
  field, or a :class:`~django_nonrel.fields.raw.RawValueField` (values pass
  through unconverted) for untyped values.

  The compiler appends the segments after the column's name: ``address__city``
  is the path ``("address", "city")``, ``tags__0`` is ``("tags", 0)``.
  :class:`ElementKeyTransform` (``items__price`` on a list of embedded models
  or dicts) means "the key of *any* element"; its path is the same dotted path,
  which MongoDB already matches against every element of an array.

The length transform -- :class:`LengthTransform` (``tags__len``) has
``nonrel_transform = "len"`` and an ``IntegerField`` output; the lookup applied
to it (``exact``, ``gt``...) is Django's, and becomes ``Leaf.compare``.

Lookups registered here -- each has ``nonrel_lookup`` (the NonrelQuery lookup
name) and ``nonrel_value(connection)`` returning the right-hand side converted
for that connection, exactly as stored values are:

========================  ===========  ==============  ===================================
class                     lookup_name  nonrel_lookup   nonrel_value(connection)
========================  ===========  ==============  ===================================
:class:`ListExact`        exact        exact           one converted item (membership), or
                                                       a list of converted items when the
                                                       value is a list/tuple/set (whole-
                                                       list equality; SetField sorts it)
:class:`ListContains`     contains     all             list of converted items; an empty
                                                       list matches every row whose value
                                                       is an array (MongoDB's
                                                       ``$all: []`` matches nothing, so
                                                       translate it as ``$type: "array"``)
:class:`ListOverlap`      overlap      overlap         list of converted items (empty:
                                                       matches nothing)
:class:`DocumentExact`    exact        exact           the whole stored dict (DictField,
                                                       EmbeddedModelField)
========================  ===========  ==============  ===================================

Every other lookup reached through these paths (``isnull``, ``gt``,
``istartswith``, ``in``...) is Django's class for the ``output_field`` -- or a
subclass of it made by :func:`adapted` (named ``AnyElement...`` or
``Document...``) that only changes its SQL; treat it as its Django base class.
The compiler converts its value with ``output_field.get_db_prep_value(...,
prepared=True)``.

Any-element scopes on SQL
-------------------------
A condition through :class:`ElementKeyTransform` holds when it holds for *some*
element, so on SQL it is wrapped in ``EXISTS (SELECT 1 FROM json_each(...))``
(SQLite) or ``EXISTS (SELECT 1 FROM JSON_TABLE(...))`` (MySQL 8.0.21+, MariaDB
10.9+ for JSON_OVERLAPS).
The transform registers the list it iterates in a scope that the enclosing
lookup opens (:class:`ElementScopeMixin`); Django's lookups and transforms
reached through such a path are given that mixin by :func:`adapted` so they
open the scope too.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import NotSupportedError
from django.db.models import BooleanField, DecimalField, IntegerField, Lookup, Transform
from django.db.models.fields.json import CaseInsensitiveMixin

# -- JSON locations ------------------------------------------------------------


@dataclass(frozen=True)
class JsonLocation:
    """A place in a JSON document: SQL for the document and a JSON path into it."""

    document: str
    params: tuple
    path: str = "$"

    def child(self, segment: str | int) -> JsonLocation:
        step = f"[{segment}]" if isinstance(segment, int) else "." + json.dumps(segment)
        return JsonLocation(self.document, self.params, self.path + step)

    def sql(self, template: str) -> tuple[str, tuple]:
        """``template`` with ``{doc}`` filled in, and the params: doc's, then the path."""
        return template.replace("{doc}", self.document), (*self.params, self.path)


def locate(expression: Any, compiler, connection) -> JsonLocation:
    """Where ``expression`` (a column or a chain of path transforms) points."""
    if isinstance(expression, PathTransform):
        return expression.locate(compiler, connection)
    sql, params = compiler.compile(expression)
    return JsonLocation(sql, tuple(params))


# -- any-element scopes --------------------------------------------------------


@dataclass(frozen=True)
class ElementSource:
    """A list iterated by an EXISTS subquery, its rows named ``alias``."""

    alias: str
    location: JsonLocation


_open_sources: ContextVar[list[ElementSource] | None] = ContextVar(
    "django_nonrel_element_sources", default=None
)


def element_alias(location: JsonLocation) -> str:
    """The alias under which the enclosing lookup iterates the list at ``location``."""
    sources = _open_sources.get()
    if sources is None:
        raise NotSupportedError(
            "A filter through a list of embedded models or dicts (e.g. items__name) "
            "can only end in a lookup on SQL databases: it cannot be selected, "
            "ordered by, or followed by a function such as Lower(). Filter with a "
            "lookup (items__name__iexact=...) instead."
        )
    for source in sources:
        if source.location == location:
            return source.alias
    alias = f"nonrel_e{len(sources)}"
    sources.append(ElementSource(alias, location))
    return alias


def sqlite_exists(source: ElementSource, sql: str, params: tuple) -> tuple[str, tuple]:
    iterated, iterated_params = source.location.sql("json_each({doc}, %s)")
    return (
        f"EXISTS(SELECT 1 FROM {iterated} AS {source.alias} "
        f"WHERE {source.alias}.type = 'object' AND {sql})",
        (*iterated_params, *params),
    )


def mysql_exists(source: ElementSource, sql: str, params: tuple) -> tuple[str, tuple]:
    # JSON_TABLE wants a literal path, so the list is extracted first.
    iterated, iterated_params = source.location.sql(
        "JSON_TABLE(JSON_EXTRACT({doc}, %s), '$[*]' COLUMNS (value JSON PATH '$'))"
    )
    return (
        f"EXISTS(SELECT 1 FROM {iterated} AS {source.alias} "
        f"WHERE JSON_TYPE({source.alias}.value) = 'OBJECT' AND {sql})",
        (*iterated_params, *params),
    )


class ElementScopeMixin:
    """Makes a lookup the scope of any-element steps on its left-hand side.

    The lookup's SQL is compiled with an empty source list open; each
    :class:`ElementKeyTransform` on the way registers the list it iterates, and
    the SQL is then wrapped in one EXISTS per registered list, outermost first.
    """

    def unscoped_sql(self, compiler, connection) -> tuple[str, Any]:
        base = super()
        compile_ = getattr(base, "as_" + connection.vendor, None) or base.as_sql
        return compile_(compiler, connection)

    def compile_scoped(self, compiler, connection, exists) -> tuple[str, tuple]:
        sources: list[ElementSource] = []
        token = _open_sources.set(sources)
        try:
            sql, params = self.unscoped_sql(compiler, connection)
        finally:
            _open_sources.reset(token)
        params = tuple(params)
        for source in reversed(sources):
            sql, params = exists(source, sql, params)
        return sql, params

    def as_sql(self, compiler, connection):
        return self.compile_scoped(compiler, connection, None)

    def as_sqlite(self, compiler, connection):
        return self.compile_scoped(compiler, connection, sqlite_exists)

    def as_mysql(self, compiler, connection):
        return self.compile_scoped(compiler, connection, mysql_exists)


class ScopedTransformMixin:
    """Keeps a Django transform inside an any-element path scope-aware."""

    def get_lookup(self, lookup_name: str):
        return adapted(super().get_lookup(lookup_name), element_scope=True)

    def get_transform(self, lookup_name: str):
        return adapted(super().get_transform(lookup_name), element_scope=True)


class AdaptedClassPickling:
    """Pickles instances of classes made by :func:`adapted` by what they adapt."""

    nonrel_adapted_from: tuple[type, bool]

    def __reduce__(self):
        return (restore_adapted, self.nonrel_adapted_from, self.__getstate__())


#: Lookups that compare text case-insensitively. MySQL compares strings taken
#: from JSON with a binary collation, so these get Django's own
#: CaseInsensitiveMixin (LOWER() on both sides there, no-op elsewhere).
CASE_INSENSITIVE_LOOKUPS = frozenset({"iexact", "icontains", "istartswith", "iendswith"})

_adapted_classes: dict[tuple[type, bool], type] = {}


def adapted(found: Any, element_scope: bool) -> Any:
    """``found`` (a lookup or transform for a value inside a document), adapted to it.

    Django's lookups get :class:`ElementScopeMixin` inside an any-element path
    and CaseInsensitiveMixin if they are case-insensitive; Django's transforms
    inside an any-element path get :class:`ScopedTransformMixin`. Our own
    classes and path factories are returned unchanged.
    """
    if not isinstance(found, type) or issubclass(
        found, (NonrelLookup, NonrelTransform, AdaptedClassPickling)
    ):
        return found
    key = (found, element_scope)
    cached = _adapted_classes.get(key)
    if cached is not None:
        return cached
    mixins: list[type] = []
    if issubclass(found, Lookup):
        if element_scope:
            mixins.append(ElementScopeMixin)
        if found.lookup_name in CASE_INSENSITIVE_LOOKUPS:
            mixins.append(CaseInsensitiveMixin)
    elif issubclass(found, Transform) and element_scope:
        mixins.append(ScopedTransformMixin)
    if not mixins:
        return found
    prefix = "AnyElement" if element_scope else "Document"
    cls = type(
        prefix + found.__name__,
        (AdaptedClassPickling, *mixins, found),
        {"__module__": __name__, "nonrel_adapted_from": key},
    )
    _adapted_classes[key] = cls
    return cls


def restore_adapted(found: type, element_scope: bool) -> Any:
    """Unpickling helper: an empty instance of ``adapted(found, element_scope)``."""
    cls = adapted(found, element_scope)
    return cls.__new__(cls)


# -- transforms ----------------------------------------------------------------


class NonrelTransform(Transform):
    """Base of our transforms: SQL per vendor hook, scope-aware lookups."""

    def in_element_scope(self) -> bool:
        node: Any = self
        while isinstance(node, Transform):
            if isinstance(node, ElementKeyTransform):
                return True
            node = node.lhs
        return False

    def get_lookup(self, lookup_name: str):
        return adapted(super().get_lookup(lookup_name), self.in_element_scope())

    def get_transform(self, lookup_name: str):
        return adapted(super().get_transform(lookup_name), self.in_element_scope())

    def as_sql(self, compiler, connection):
        raise NotSupportedError(
            f"Filtering inside ListField/DictField/EmbeddedModelField values "
            f"({self.lookup_name!r}) is not implemented for {connection.vendor}; it "
            "works on SQLite, MySQL/MariaDB and MongoDB. Load the rows "
            "and filter in Python, or keep the value in a column of its own."
        )


class PathTransform(NonrelTransform):
    """One step into a stored structure: see the module docstring's contract."""

    nonrel_path_segment: str | int

    def __init__(self, segment: str | int, lhs: Any, output_field: Any) -> None:
        self.nonrel_path_segment = segment
        self.lookup_name = str(segment)
        super().__init__(lhs, output_field=output_field)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.nonrel_path_segment!r}, {self.lhs!r})"

    @property
    def identity(self) -> tuple:
        """The step and what it starts from; the output field follows from those.

        Django's identity would include the inner output field, which has a
        name but no model, and fails when SQL compilers hash the expression
        (``order_by()`` together with ``values()`` of a path).
        """
        return (type(self), self.nonrel_path_segment, self.lhs)

    def locate(self, compiler, connection) -> JsonLocation:
        return locate(self.lhs, compiler, connection).child(self.nonrel_path_segment)

    def casts_to_numeric(self) -> bool:
        # Decimals are stored as strings (exact); compare them as numbers.
        return isinstance(self.output_field, DecimalField)

    def as_sqlite(self, compiler, connection):
        sql, params = self.locate(compiler, connection).sql("json_extract({doc}, %s)")
        if self.casts_to_numeric():
            sql = f"CAST({sql} AS NUMERIC)"
        return sql, params

    def as_mysql(self, compiler, connection):
        location = self.locate(compiler, connection)
        # JSON_VALUE gives scalars as SQL text (NULL for JSON null) that compare
        # like the field's own parameters; objects and arrays stay JSON.
        template = (
            "(CASE WHEN JSON_TYPE(JSON_EXTRACT({doc}, %s)) IN ('OBJECT', 'ARRAY') "
            "THEN JSON_EXTRACT({doc}, %s) ELSE JSON_VALUE({doc}, %s) END)"
        )
        if isinstance(self.output_field, BooleanField):
            template = "(CASE JSON_VALUE({doc}, %s) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)"
        sql = template.replace("{doc}", location.document)
        params = (*location.params, location.path) * template.count("{doc}")
        if self.casts_to_numeric():
            sql = f"CAST({sql} AS DECIMAL(65, 30))"
        return sql, params


class KeyTransform(PathTransform):
    """A dict key or an embedded model's column (``meta__color``, ``address__city``)."""


class IndexTransform(PathTransform):
    """A list index (``tags__0``)."""


class ElementKeyTransform(PathTransform):
    """A key of any element of a list (``items__name`` on a list of embedded models)."""

    def locate(self, compiler, connection) -> JsonLocation:
        alias = element_alias(locate(self.lhs, compiler, connection))
        return JsonLocation(f"{alias}.value", ()).child(self.nonrel_path_segment)


class LengthTransform(NonrelTransform):
    """Number of items of a list or set (``tags__len``)."""

    lookup_name = "len"
    nonrel_transform = "len"
    output_field = IntegerField()

    def as_sqlite(self, compiler, connection):
        return locate(self.lhs, compiler, connection).sql("json_array_length({doc}, %s)")

    def as_mysql(self, compiler, connection):
        return locate(self.lhs, compiler, connection).sql("JSON_LENGTH({doc}, %s)")


class PathStep:
    """What a field's get_transform() returns for a path name; Django calls it with the lhs."""

    def __init__(self, transform_class: type[PathTransform], segment: str | int, output_field):
        self.transform_class = transform_class
        self.segment = segment
        self.output_field = output_field

    def __call__(self, lhs: Any) -> PathTransform:
        return self.transform_class(self.segment, lhs, self.output_field)

    def any_element(self) -> PathStep:
        """The same key, taken from every element of a list."""
        return PathStep(ElementKeyTransform, self.segment, self.output_field)


# -- lookups -------------------------------------------------------------------


class NonrelLookup(ElementScopeMixin, Lookup):
    """Base of our lookups: literal right-hand sides, SQL in ``sql_<vendor>``."""

    nonrel_lookup: str

    def get_prep_lookup(self) -> Any:
        if hasattr(self.rhs, "resolve_expression"):
            raise NotSupportedError(
                f"The {self.lookup_name!r} lookup on {type(self.lhs.output_field).__name__} "
                "compares with literal values only, not F() or other expressions."
            )
        return self.prepare(self.rhs)

    def prepare(self, value: Any) -> Any:
        return value

    @property
    def field(self) -> Any:
        return self.lhs.output_field

    def nonrel_value(self, connection) -> Any:
        raise NotImplementedError

    def unscoped_sql(self, compiler, connection) -> tuple[str, tuple]:
        compile_ = getattr(self, "sql_" + connection.vendor, None)
        if compile_ is None:
            raise NotSupportedError(
                f"The {self.lookup_name!r} lookup on {type(self.field).__name__} is not "
                f"implemented for {connection.vendor}; it works on SQLite, MySQL/"
                "MariaDB and MongoDB. Filter in Python instead."
            )
        return compile_(compiler, connection)

    def json_param(self, connection) -> str:
        return json.dumps(self.nonrel_value(connection))


def json_equals_mysql(location: JsonLocation, json_text: str, connection) -> tuple[str, tuple]:
    """The JSON at ``location`` equals ``json_text`` (MariaDB keeps JSON as text)."""
    template = "JSON_EXTRACT({doc}, %s) = CAST(%s AS JSON)"
    if connection.mysql_is_mariadb:
        template = "JSON_EQUALS(JSON_EXTRACT({doc}, %s), %s)"
    sql, params = location.sql(template)
    return sql, (*params, json_text)


def json_contains_mysql(location: JsonLocation, json_text: str) -> tuple[str, tuple]:
    """The array at ``location`` contains the item, or every item of the array, ``json_text``."""
    sql = f"JSON_CONTAINS({location.document}, %s, %s)"
    return sql, (*location.params, json_text, location.path)


def as_item_list(value: Any) -> list:
    """A lookup value as a list of items: a lone item is a list of one."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]


class ListExact(NonrelLookup):
    """``tags="a"``: some item equals; ``tags=[...]``: the whole list equals."""

    lookup_name = "exact"
    nonrel_lookup = "exact"

    def prepare(self, value: Any) -> Any:
        if isinstance(value, (list, tuple, set, frozenset)):
            return self.field.ordered_items(value)
        return value

    @property
    def whole(self) -> bool:
        return isinstance(self.rhs, list)

    def nonrel_value(self, connection) -> Any:
        if self.whole:
            return self.field.items_to_storage(self.rhs, connection)
        return self.field.item_to_storage(self.rhs, connection)

    def sql_sqlite(self, compiler, connection):
        location = locate(self.lhs, compiler, connection)
        value = self.nonrel_value(connection)
        if self.whole:
            sql, params = location.sql("json_extract({doc}, %s) = json(%s)")
            return sql, (*params, json.dumps(value))
        sql, params = location.sql("json_each({doc}, %s)")
        if isinstance(value, (dict, list)):
            return (
                f"EXISTS(SELECT 1 FROM {sql} AS nonrel_item WHERE nonrel_item.value = json(%s))",
                (*params, json.dumps(value)),
            )
        return (
            f"EXISTS(SELECT 1 FROM {sql} AS nonrel_item WHERE nonrel_item.value = %s)",
            (*params, value),
        )

    def sql_mysql(self, compiler, connection):
        location = locate(self.lhs, compiler, connection)
        if self.whole:
            return json_equals_mysql(location, self.json_param(connection), connection)
        return json_contains_mysql(location, self.json_param(connection))


class ItemsLookup(NonrelLookup):
    """A lookup whose value is a list of items (a lone item is a list of one)."""

    def prepare(self, value: Any) -> list:
        return as_item_list(value)

    def nonrel_value(self, connection) -> list:
        return self.field.items_to_storage(self.rhs, connection)


class ListContains(ItemsLookup):
    """``tags__contains=["a", "b"]``: every given item is in the list."""

    lookup_name = "contains"
    nonrel_lookup = "all"

    def sql_sqlite(self, compiler, connection):
        location = locate(self.lhs, compiler, connection)
        if not self.rhs:
            return location.sql("json_type({doc}, %s) = 'array'")
        items, items_params = location.sql("json_each({doc}, %s)")
        return (
            "NOT EXISTS(SELECT 1 FROM json_each(%s) AS nonrel_wanted WHERE NOT EXISTS("
            f"SELECT 1 FROM {items} AS nonrel_item "
            "WHERE nonrel_item.value = nonrel_wanted.value))",
            (self.json_param(connection), *items_params),
        )

    def sql_mysql(self, compiler, connection):
        location = locate(self.lhs, compiler, connection)
        if not self.rhs:
            return location.sql("JSON_TYPE(JSON_EXTRACT({doc}, %s)) = 'ARRAY'")
        return json_contains_mysql(location, self.json_param(connection))


class ListOverlap(ItemsLookup):
    """``tags__overlap=["a", "b"]``: at least one given item is in the list."""

    lookup_name = "overlap"
    nonrel_lookup = "overlap"

    def sql_sqlite(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        items, params = locate(self.lhs, compiler, connection).sql("json_each({doc}, %s)")
        return (
            f"EXISTS(SELECT 1 FROM {items} AS nonrel_item WHERE nonrel_item.value IN "
            "(SELECT value FROM json_each(%s)))",
            (*params, self.json_param(connection)),
        )

    def sql_mysql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        sql, params = locate(self.lhs, compiler, connection).sql(
            "JSON_OVERLAPS(JSON_EXTRACT({doc}, %s), %s)"
        )
        return sql, (*params, self.json_param(connection))


class DocumentExact(NonrelLookup):
    """``meta={...}`` / ``address=Address(...)``: the whole stored document equals."""

    lookup_name = "exact"
    nonrel_lookup = "exact"

    def nonrel_value(self, connection) -> Any:
        return self.field.to_storage(self.rhs, connection)

    def sql_sqlite(self, compiler, connection):
        sql, params = locate(self.lhs, compiler, connection).sql(
            "json_extract({doc}, %s) = json(%s)"
        )
        return sql, (*params, self.json_param(connection))

    def sql_mysql(self, compiler, connection):
        location = locate(self.lhs, compiler, connection)
        return json_equals_mysql(location, self.json_param(connection), connection)
