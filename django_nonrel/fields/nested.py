"""What ListField, SetField, DictField and EmbeddedModelField share.

Each of these fields stores a structure whose leaves are values of *inner*
fields: a list's item field, a dict's value field, an embedded model's fields.
A leaf goes through its inner field exactly as a column would (``to_python``,
``pre_save``, ``get_db_prep_save``, converters, validators), so a
``DateField`` inside a list behaves like a ``DateField`` column.

Two storage forms, chosen per connection by ``features.supports_nested_documents``
(stock Django backends lack the flag, hence ``getattr(..., False)``):

* **documents** (MongoDB): the column holds a native list/dict. A leaf is what
  its inner field's ``get_db_prep_save`` returns on that connection (ObjectId,
  Decimal128, BSON datetimes... are left to the backend), and it is read back
  through the backend's ``get_db_converters`` and the field's ``from_db_value``,
  as a top-level column would be.
* **JSON** (SQLite, MySQL/MariaDB, SingleStore, PostgreSQL): the column has the
  backend's JSON type and holds JSON text. A leaf is the inner field's
  ``get_db_prep_save`` value made JSON-safe (:func:`json_safe`). Keeping the
  backend's own prepared form (dates as ``YYYY-MM-DD``, datetimes naive in the
  connection's time zone, UUIDs as hex) is what lets a lookup compare
  ``json_extract(...)`` against the same field's prepared parameter. Leaves are
  read back with the inner field's ``to_python`` (:func:`json_leaf_to_python`).

The *serialised* form (``value_to_string``, used by dumpdata and forms) is JSON
data independent of any backend; ``to_python`` accepts it back.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import json
import uuid
from collections.abc import Callable, Iterable
from functools import partial
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core import checks, exceptions
from django.db import NotSupportedError
from django.db.backends.utils import format_number
from django.db.models import DateTimeField, DecimalField, DurationField, Field, Model
from django.db.models.expressions import Col
from django.utils import timezone
from django.utils.duration import duration_microseconds

from django_nonrel.features import nonrel_features
from django_nonrel.passthrough import passthrough_type

#: Module whose names ``deconstruct()`` writes into migrations, so migrations
#: survive moving a field class between the package's modules.
PUBLIC_MODULE = "django_nonrel.fields"

Codec = Callable[[Any], Any]


def stores_documents(connection) -> bool:
    """Whether ``connection`` keeps lists and dicts natively (else: JSON text)."""
    return nonrel_features(connection).supports_nested_documents


def json_column_type(connection) -> str:
    """The JSON column type of a SQL backend, or NotSupportedError if it has none."""
    try:
        return connection.data_types["JSONField"]
    except KeyError:
        raise NotSupportedError(
            f"The {connection.vendor} backend has no JSON column type, which "
            "ListField, SetField, DictField and EmbeddedModelField need on SQL "
            "databases. Use a backend with JSON support (SQLite, MySQL 5.7+, "
            "MariaDB, PostgreSQL, SingleStore, MongoDB)."
        )


# -- dict keys -----------------------------------------------------------------


def invalid_key_reason(key: Any) -> str | None:
    """Why ``key`` cannot be a stored dict key, or None if it can.

    Keys must be strings (JSON would silently turn ``1`` into ``"1"``), and may
    neither contain ``.`` nor start with ``$`` -- MongoDB reads those as paths
    and operators -- nor contain NUL, which BSON keys cannot hold. The rule
    applies on every backend so data stays portable.
    """
    if not isinstance(key, str):
        return f"dict keys must be strings, not {type(key).__name__} ({key!r})"
    if "." in key:
        return f"dict key {key!r} contains '.'; use another separator"
    if key.startswith("$"):
        return f"dict key {key!r} starts with '$'; rename the key"
    if "\x00" in key:
        return f"dict key {key!r} contains a NUL character; remove it"
    return None


def invalid_key_at(value: Any, where: str = "") -> str | None:
    """Where (a dotted path) and why the first bad key inside ``value`` is, or None.

    Looks into dicts and lists at any depth.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            reason = invalid_key_reason(key)
            if reason:
                return f"{where or 'the value'}: {reason}"
            found = invalid_key_at(item, f"{where}.{key}" if where else str(key))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = invalid_key_at(item, f"{where}[{index}]")
            if found:
                return found
    return None


def check_storable_keys(value: Any) -> None:
    """Raise ValueError if any dict inside ``value`` (at any depth) has a bad key."""
    found = invalid_key_at(value)
    if found:
        raise ValueError(f"Cannot store {found}.")


# -- leaves on JSON backends ---------------------------------------------------


def json_safe(value: Any, field: Field | None = None) -> Any:
    """``value`` (a prepared database value) as JSON data that reads back exactly.

    Strings, numbers, booleans and None pass; what SQL drivers would adapt
    themselves becomes the text Django's SQL backends use for the same type.
    """
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, decimal.Decimal):
        # A fixed number of decimal places makes equal decimals equal strings
        # ("3.50" == "3.50"), which membership lookups compare.
        if isinstance(field, DecimalField):
            try:
                return format_number(value, field.max_digits, field.decimal_places)
            except decimal.InvalidOperation:
                raise ValueError(
                    f"{value} does not fit max_digits={field.max_digits}, "
                    f"decimal_places={field.decimal_places}."
                )
        return str(value)
    if isinstance(value, datetime.timedelta):
        return duration_microseconds(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dict):
        check_storable_keys(value)
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    raise ValueError(
        f"Cannot store a {type(value).__name__} in a JSON column; give the "
        "list/dict a typed item field that converts it, or store a string."
    )


def json_leaf_to_python(field: Field, value: Any, connection) -> Any:
    """A leaf read from JSON back into ``field``'s Python type."""
    if value is None:
        return None
    if hasattr(field, "from_db_value"):
        return field.from_db_value(value, None, connection)
    if isinstance(field, DurationField) and isinstance(value, int):
        return datetime.timedelta(microseconds=value)
    value = field.to_python(value)
    if (
        isinstance(field, DateTimeField)
        and isinstance(value, datetime.datetime)
        and settings.USE_TZ
        and timezone.is_naive(value)
    ):
        # SQL backends store naive datetimes in the connection's time zone.
        value = timezone.make_aware(value, connection.timezone)
    return value


# -- codecs: one per inner field and connection -------------------------------


def cached_per_connection(connection, owner: Any, kind: str, build: Callable[[], Any]) -> Any:
    """``build()``'s result for (``owner``, ``kind``), kept on ``connection``.

    Codecs are called once per stored leaf, so rows of nested documents would
    otherwise rebuild the same converter chain thousands of times per query.
    They depend on the connection (its backend's converters and storage form),
    so they live on it. Keyed by ``id(owner)`` -- fields copied by model
    inheritance compare equal yet may embed different models -- with ``owner``
    kept in the entry so the id is not reused while it is cached.
    """
    try:
        cache = connection.nonrel_codecs
    except AttributeError:
        cache = connection.nonrel_codecs = {}
    key = (id(owner), kind)
    entry = cache.get(key)
    if entry is None:
        # A model that embeds itself ("self") asks for this codec while it is
        # being built: it gets a function calling the finished one.
        cache[key] = (owner, BUILDING)
        try:
            entry = cache[key] = (owner, build())
        except BaseException:
            del cache[key]
            raise
    elif entry[1] is BUILDING:
        return partial(_built, cache, key)
    return entry[1]


#: The cache entry of a codec being built (see cached_per_connection).
BUILDING = object()


def _built(cache: dict, key: tuple, *args: Any) -> Any:
    """Call the codec cached under ``key``, built by now (a self-embedding model's)."""
    return cache[key][1](*args)


def writer(field: Field, connection) -> Codec:
    """A function turning ``field``'s Python values into stored leaves."""
    return cached_per_connection(connection, field, "write", lambda: _writer(field, connection))


def reader(field: Field, connection) -> Codec:
    """A function turning stored leaves back into ``field``'s Python values."""
    return cached_per_connection(connection, field, "read", lambda: _reader(field, connection))


def _writer(field: Field, connection) -> Codec:
    if isinstance(field, NestedValueField):
        write_stored = field.storage_writer(connection)
        return lambda value: None if value is None else write_stored(value)
    # A value of the stock field's own type needs no preparation (see passthrough).
    kind = passthrough_type(field, connection)
    if stores_documents(connection):
        if kind is not None:
            return lambda value: (
                value if type(value) is kind else field.get_db_prep_save(value, connection)
            )
        return lambda value: field.get_db_prep_save(value, connection)
    if kind is not None:
        return lambda value: (
            value
            if type(value) is kind
            else json_safe(field.get_db_prep_save(value, connection), field)
        )
    return lambda value: json_safe(field.get_db_prep_save(value, connection), field)


def unchanged(value: Any) -> Any:
    """The reader of leaves stored as their Python value (no converter applies).

    Containers test for it (``read is unchanged``) to copy their items instead
    of calling it once per item.
    """
    return value


def _reader(field: Field, connection) -> Codec:
    if isinstance(field, NestedValueField):
        return field.value_reader(connection)
    if not stores_documents(connection):
        return lambda value: json_leaf_to_python(field, value, connection)
    # The same converters a compiler applies to a column of this field.
    expression = Col(None, field)
    converters = [
        *connection.ops.get_db_converters(expression),
        *expression.get_db_converters(connection),
    ]
    if not converters:
        return unchanged
    if len(converters) == 1:
        (only,) = converters
        return lambda value: None if value is None else only(value, expression, connection)

    def read(value: Any) -> Any:
        if value is None:
            return None
        for converter in converters:
            value = converter(value, expression, connection)
        return value

    return read


def serialize_leaf(field: Field, value: Any) -> Any:
    """``value`` as JSON data via ``field.value_to_string`` (dumpdata, forms)."""
    if isinstance(field, NestedValueField):
        return field.to_serializable(value)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    # value_to_string reads the value from an object by attname.
    return field.value_to_string(SimpleNamespace(**{field.attname: value}))


# -- validation errors ---------------------------------------------------------


def prefixed_errors(
    error: exceptions.ValidationError, template: str, **params: Any
) -> list[exceptions.ValidationError]:
    """``error``'s messages, each rewritten by ``template`` to say where it came from.

    ``template`` gets ``%(message)s`` plus ``params`` (an index, a key, a
    field name). Codes are kept so callers can still match on them.
    """
    if hasattr(error, "error_dict"):
        out = []
        for name, errors in error.error_dict.items():
            for inner in errors:
                where = "" if name == exceptions.NON_FIELD_ERRORS else f"{name}: "
                for message in inner.messages:
                    out.append(
                        exceptions.ValidationError(
                            template,
                            code=inner.code,
                            params={**params, "message": f"{where}{message}"},
                        )
                    )
        return out
    return [
        exceptions.ValidationError(template, code=inner.code, params={**params, "message": message})
        for inner in error.error_list
        for message in inner.messages
    ]


def leaf_errors(
    field: Field, leaves: Iterable[tuple[Any, Any]], model_instance, template: str, label: str
) -> list[exceptions.ValidationError]:
    """Errors of ``field.validate`` and its validators on each ``(where, value)`` leaf.

    Each message is rewritten by ``template``, whose ``%(<label>)s`` names
    where the leaf is (a list index, a dict key).
    """
    errors = []
    for where, value in leaves:
        try:
            field.validate(value, model_instance)
            field.run_validators(value)
        except exceptions.ValidationError as error:
            errors.extend(prefixed_errors(error, template, **{label: where}))
    return errors


# -- the base field ------------------------------------------------------------


class NestedValueField(Field):
    """Base class: storage forms, defaults, binding of inner fields, checks.

    Subclasses implement :meth:`to_storage`, :meth:`from_storage`,
    :meth:`to_serializable`, ``to_python`` and, where values contain model
    instances, :meth:`pre_save_value`.
    """

    #: Type of the default value (list, set, dict) or None for no default.
    empty_container: type | None = None
    #: db_type() on document backends.
    document_type = "document"
    #: Lookups usable on the whole value; other names become path transforms.
    supported_lookups = frozenset({"exact", "isnull"})
    #: The model whose field this is, or holds this one as an inner field (see
    #: ``bind``); None until the outermost field is added to a model.
    nonrel_owner: type[Model] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # An empty container by default, made fresh per instance (the class is
        # the callable), so no two model instances ever share a mutable default.
        self._implicit_default = self.empty_container is not None and "default" not in kwargs
        if self._implicit_default:
            kwargs["default"] = self.empty_container
        super().__init__(*args, **kwargs)

    # -- inner fields ------------------------------------------------------------
    def inner_fields(self) -> Iterable[Field]:
        """Fields that convert the leaves (not the embedded model's own fields)."""
        return ()

    def contribute_to_class(self, cls, name, private_only=False) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        self.bind(cls, name)

    def bind(self, model, name: str) -> None:
        """Name inner fields after this one and tell them which model owns them.

        Inner fields never get ``.model`` (that would make pickling and
        ``__reduce__`` resolve them to the outer field); the owning model is kept
        as ``nonrel_owner`` for resolving lazy references such as "Address".
        """
        self.nonrel_owner = model
        for inner in self.inner_fields():
            inner.set_attributes_from_name(name)
            if isinstance(inner, NestedValueField):
                inner.bind(model, name)

    # -- defaults and migrations ---------------------------------------------------
    def get_default(self) -> Any:
        value = super().get_default()
        # A literal default=[...] is copied, so instances never share it.
        return value if callable(self.default) else copy.deepcopy(value)

    def deconstruct(self) -> tuple[str, str, list, dict]:
        name, path, args, kwargs = super().deconstruct()
        if path.startswith(PUBLIC_MODULE + "."):
            path = f"{PUBLIC_MODULE}.{type(self).__name__}"
        if self._implicit_default:
            kwargs.pop("default", None)
        return name, path, args, kwargs

    # -- schema ------------------------------------------------------------------
    def get_internal_type(self) -> str:
        return type(self).__name__

    def db_type(self, connection) -> str:
        if stores_documents(connection):
            return self.document_type
        return json_column_type(connection) % self.db_type_parameters(connection)

    def db_check(self, connection) -> str | None:
        if stores_documents(connection):
            return None
        check = connection.data_type_check_constraints.get("JSONField")
        return check % self.db_type_parameters(connection) if check else None

    # -- to and from the database ------------------------------------------------
    def to_storage(self, value: Any, connection) -> Any:
        """``value`` (Python) as the structure stored on ``connection``."""
        raise NotImplementedError

    def from_storage(self, value: Any, connection) -> Any:
        """A stored structure back into Python values."""
        raise NotImplementedError

    def storage_writer(self, connection) -> Codec:
        """A function doing ``to_storage(value, connection)`` for values (not None).

        As :meth:`storage_reader`: subclasses resolve the per-connection work
        once, when ``to_storage`` is their own.
        """
        return lambda value: self.to_storage(value, connection)

    def storage_reader(self, connection) -> Codec:
        """A function doing ``from_storage(value, connection)`` for stored values (not None).

        Subclasses return one that resolves the per-connection work (inner
        readers, the embedded model) once instead of per value, when
        ``from_storage`` is their own (a subclass overriding it gets this
        generic one); :func:`unchanged` when values are stored as they are.
        """
        return lambda value: self.from_storage(value, connection)

    def value_reader(self, connection) -> Codec:
        """A function reading a stored value or None (which reads as None).

        :meth:`storage_reader` behind a test for None. A subclass whose reader
        tests for None itself, after its common case, returns that reader: a
        ListField of embedded documents then makes one call per item, not two.
        """
        read_stored = self.storage_reader(connection)
        if read_stored is unchanged:
            return unchanged
        return lambda value: None if value is None else read_stored(value)

    def overrides(self, method: str, owner: type) -> bool:
        """Whether this field's class replaces ``owner``'s ``method`` (a user subclass)."""
        return getattr(type(self), method) is not getattr(owner, method)

    def to_serializable(self, value: Any) -> Any:
        """``value`` as backend-independent JSON data (see ``value_to_string``)."""
        raise NotImplementedError

    @property
    def nonrel_runs_pre_save(self) -> bool:
        """Whether :meth:`pre_save_value` can change anything (embedded models inside)."""
        return any(getattr(inner, "nonrel_runs_pre_save", False) for inner in self.inner_fields())

    def pre_save_value(self, value: Any, add: bool) -> Any:
        """``value`` after running inner fields' ``pre_save`` (auto_now...)."""
        return value

    def validate(self, value: Any, model_instance) -> None:
        super().validate(value, model_instance)
        if value is not None:
            self.validate_items(value, model_instance)

    def validate_items(self, value: Any, model_instance) -> None:
        """Validate what is inside ``value`` (not None); forms call this too."""

    def pre_save(self, model_instance, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if value is not None:
            value = self.pre_save_value(value, add)
            setattr(model_instance, self.attname, value)
        return value

    def get_db_prep_value(self, value: Any, connection, prepared: bool = False) -> Any:
        if value is None or hasattr(value, "as_sql"):
            return value
        # The field's writer (storage_writer, built once per connection) is
        # to_storage with the inner codecs already resolved: once per row of a
        # bulk insert instead of once per value inside it.
        structure = writer(self, connection)(value)
        if stores_documents(connection):
            return structure
        return connection.ops.adapt_json_value(structure, None)

    def from_db_value(self, value: Any, expression, connection) -> Any:
        if value is None:
            return None
        if isinstance(value, (str, bytes, bytearray)) and not stores_documents(connection):
            value = json.loads(value)
        return self.from_storage(value, connection)

    def get_db_converters(self, connection) -> list:
        # A column read on a document store: from_db_value is None-or-from_storage,
        # done by the field's reader without the layers in between.
        if stores_documents(connection) and not self.overrides("from_db_value", NestedValueField):
            read = reader(self, connection)
            if read is unchanged:
                return []
            return [lambda value, expression, connection: read(value)]
        return super().get_db_converters(connection)

    def value_to_string(self, obj) -> Any:
        """JSON data (a list or dict, not a string), as Django's JSONField does.

        The JSON and YAML serializers embed it as is, so fixtures read
        naturally; ``to_python`` accepts it, or the same data as JSON text.
        """
        return self.to_serializable(self.value_from_object(obj))

    def formfield(self, **kwargs: Any):
        if self._implicit_default:
            # An empty container is no time-dependent default like now(): the
            # hidden "initial-" input Django adds for callable defaults is noise.
            kwargs.setdefault("show_hidden_initial", False)
        return super().formfield(**kwargs)

    @staticmethod
    def parse_json_text(value: Any, error: exceptions.ValidationError) -> Any:
        """``value`` decoded if it is JSON text (fixtures, forms); else unchanged."""
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise error
        return value

    # -- lookups -----------------------------------------------------------------
    def get_lookup(self, lookup_name: str):
        # Field's text/number lookups (startswith, gt...) have no meaning on a
        # whole list or dict; without them the name can be a path step instead.
        if lookup_name not in self.supported_lookups:
            return None
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name: str):
        found = super().get_transform(lookup_name)
        return found if found is not None else self.path_transform(lookup_name)

    def path_transform(self, name: str):
        """A factory for the transform ``name`` names after this field, or None."""
        return None

    # -- checks ------------------------------------------------------------------
    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [*super().check(**kwargs), *self.check_inner(self)]

    def check_inner(self, obj: Field) -> list[checks.CheckMessage]:
        """Checks of inner fields, reported against the model field ``obj``."""
        errors = []
        for inner in self.inner_fields():
            if isinstance(inner, NestedValueField):
                errors.extend(inner.check_inner(obj))
        return errors
