"""EmbeddedModelField: a model instance stored inside another model's row.

The embedded model is an ordinary concrete model class -- usually declared
with ``managed = False`` so no table is created for it -- whose instances are
never saved on their own: the outer field stores ``{field.column: value}`` for
the embedded model's concrete fields, each converted by that field, and loads
back an instance (``_state.adding`` False, through ``Model.from_db``, so
``from_db`` overrides and ``post_init`` run as for a row).

Auto-created fields (the implicit ``id``, multi-table parent links) are not
stored: an embedded instance has no identity of its own. A primary key declared
explicitly is stored like any other field. Keys of a stored sub-document that
the embedded model has no field for stay with the loaded instance and are
written back by the next save (``django_nonrel.fields.unknown_keys``).

``model`` may be a class, an ``"app_label.ModelName"`` string, a bare
``"ModelName"`` (same app as the outer model) or ``"self"``; strings are
resolved on first use in the outer model's app registry, so migrations refer to
the model by name and load even before the embedded model's app is ready.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.core import checks, exceptions
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db.models import Field, Model
from django.utils.translation import gettext_lazy as _

from django_nonrel.fields.lookups import DocumentExact, KeyTransform, PathStep
from django_nonrel.fields.nested import (
    NestedValueField,
    cached_per_connection,
    prefixed_errors,
    reader,
    serialize_leaf,
    stores_documents,
    unchanged,
    writer,
)
from django_nonrel.fields.unknown_keys import carry_over, remember, write_back
from django_nonrel.instances import document_builder, instance_builder

#: A field absent from a stored document (``dict.get`` default).
MISSING = object()


class EmbeddedSaveValue:
    """An embedded instance on its way into a save.

    ``pre_save`` hands this to the compiler instead of the instance because
    Django's SQL update compiler refuses model instances as values of fields
    that are not relations; ``to_storage`` unwraps it.
    """

    __slots__ = ("instance",)

    def __init__(self, instance: Model) -> None:
        self.instance = instance

    def __repr__(self) -> str:
        return f"EmbeddedSaveValue({self.instance!r})"


class EmbeddedModelField(NestedValueField):
    """An instance of ``model`` stored as a nested document (JSON on SQL)."""

    document_type = "embedded"
    default_error_messages = {
        "invalid": _("Enter a %(model)s or a mapping of its field names to values."),
        "unknown_field": _("%(model)s has no field %(name)r; its fields are %(choices)s."),
        "field_invalid": _("%(message)s"),
    }
    description = _("Embedded %(model_reference)s")

    def __init__(self, model: type[Model] | str, **kwargs: Any) -> None:
        if isinstance(model, type) and issubclass(model, Model):
            if model._meta.abstract:
                raise TypeError(
                    f"EmbeddedModelField cannot embed the abstract model "
                    f"{model.__name__}: abstract models cannot be instantiated. Make "
                    "it concrete, with Meta.managed = False so no table is created."
                )
        elif not isinstance(model, str):
            raise TypeError(
                "EmbeddedModelField's model must be a model class or an "
                f"'app_label.ModelName' string, not {model!r}."
            )
        self.model_reference = model
        super().__init__(**kwargs)

    # -- the embedded model ------------------------------------------------------
    @property
    def embedded_model(self) -> type[Model]:
        """The embedded model class (resolving a string reference on first use)."""
        if not isinstance(self.model_reference, str):
            return self.model_reference
        resolved = self.__dict__.get("_embedded_model")
        if resolved is None:
            resolved = self._resolve(self.model_reference)
            self._embedded_model = resolved
        return resolved

    def _resolve(self, reference: str) -> type[Model]:
        owner = self.nonrel_owner
        if reference == "self" and owner is not None:
            return owner
        registry = owner._meta.apps if owner is not None else global_apps
        if "." not in reference and owner is not None:
            reference = f"{owner._meta.app_label}.{reference}"
        try:
            return registry.get_model(reference)
        except (LookupError, ValueError):
            raise ImproperlyConfigured(
                f"EmbeddedModelField {self.name!r} refers to the model "
                f"{self.model_reference!r}, which is not installed. Use "
                "'app_label.ModelName' of a model in INSTALLED_APPS."
            )

    def stored_fields(self) -> list[Field]:
        """The embedded model's fields that are stored (not auto-created ones)."""
        return [f for f in self.embedded_model._meta.concrete_fields if not f.auto_created]

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        reference = self.model_reference
        kwargs["model"] = reference if isinstance(reference, str) else reference._meta.label
        return name, path, args, kwargs

    # -- Python values -----------------------------------------------------------
    def to_python(self, value: Any) -> Any:
        model = self.embedded_model
        if value is None or isinstance(value, model):
            return value
        invalid = exceptions.ValidationError(
            self.error_messages["invalid"], code="invalid", params={"model": model.__name__}
        )
        value = self.parse_json_text(value, invalid)
        if not isinstance(value, dict):
            raise invalid
        by_key = {}
        for field in self.stored_fields():
            by_key.update(dict.fromkeys((field.column, field.name, field.attname), field))
        kwargs, errors = {}, []
        for key, item in value.items():
            field = by_key.get(key)
            if field is None:
                errors.append(self.unknown_field_error(key))
                continue
            try:
                kwargs[field.attname] = field.to_python(item)
            except exceptions.ValidationError as error:
                errors.extend(prefixed_errors(error, "%(name)s: %(message)s", name=field.name))
        if errors:
            raise exceptions.ValidationError(errors)
        return model(**kwargs)

    def unknown_field_error(self, name: str) -> exceptions.ValidationError:
        return exceptions.ValidationError(
            self.error_messages["unknown_field"],
            code="unknown_field",
            params={
                "model": self.embedded_model.__name__,
                "name": name,
                "choices": ", ".join(f.name for f in self.stored_fields()),
            },
        )

    def validate_items(self, value: Any, model_instance) -> None:
        model = self.embedded_model
        if not isinstance(value, model):
            raise exceptions.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"model": model.__name__}
            )
        # Field validation and Model.clean(), but not validate_unique() or
        # validate_constraints(): those query the embedded model's own table.
        try:
            value.clean_fields()
            value.clean()
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError(
                prefixed_errors(error, self.error_messages["field_invalid"])
            )

    nonrel_runs_pre_save = True

    def pre_save_value(self, value: Any, add: bool) -> Any:
        model = self.embedded_model
        if type(value) is not model:  # (the usual instance needs no conversion)
            value = self.as_instance(value)
        fields = self._fields_with_pre_save(model)
        if fields:
            adding = value._state.adding
            for field in fields:
                field.pre_save(value, adding)
        # Stored with its outer row from now on: auto_now_add must not fire again.
        value._state.adding = False
        return value

    def _fields_with_pre_save(self, model: type[Model]) -> list[Field]:
        """Stored fields of the embedded ``model`` whose ``pre_save`` does something:
        Field's own only reads the attribute (auto_now fields, nested fields and
        custom fields override it)."""
        cached = self.__dict__.get("_pre_save_fields")
        if cached is None or cached[0] is not model:
            fields = [f for f in self.stored_fields() if type(f).pre_save is not Field.pre_save]
            cached = self._pre_save_fields = (model, fields)
        return cached[1]

    def pre_save(self, model_instance, add: bool) -> Any:
        value = super().pre_save(model_instance, add)
        return None if value is None else EmbeddedSaveValue(value)

    # -- storage -----------------------------------------------------------------
    def as_instance(self, value: Any) -> Model:
        """``value`` (an instance, a dict of field values, a save value) as an instance."""
        model = self.embedded_model
        if type(value) is model:  # the usual case, tested first
            return value
        if isinstance(value, EmbeddedSaveValue):
            return value.instance
        if isinstance(value, dict):
            return self.to_python(value)
        if not isinstance(value, model):
            raise TypeError(
                f"EmbeddedModelField {self.name!r} holds a {model.__name__} instance, "
                f"not {type(value).__name__} ({value!r})."
            )
        return value

    def to_storage(self, value: Any, connection) -> dict:
        return self._cached(connection, "encode", self._encoder)(value)

    def storage_writer(self, connection):
        if self.overrides("to_storage", EmbeddedModelField):
            return super().storage_writer(connection)
        return self._cached(connection, "encode", self._encoder)

    def _cached(self, connection, kind: str, build):
        return cached_per_connection(connection, self, kind, lambda: build(connection))

    def _encoder(self, connection):
        """``to_storage`` with the stored fields and their writers looked up once."""
        plan = [
            (field.column, field.attname, writer(field, connection))
            for field in self.stored_fields()
        ]
        as_instance = self.as_instance
        documents = stores_documents(connection)
        model = self.embedded_model

        def encode(value: Any) -> dict:
            if type(value) is not model:
                value = as_instance(value)
            document = {column: write(getattr(value, attname)) for column, attname, write in plan}
            return write_back(value, document, documents)

        return encode

    def from_storage(self, value: Any, connection) -> Model:
        return self._cached(connection, "decode", self._decoder)(value)

    def storage_reader(self, connection):
        if self.overrides("from_storage", EmbeddedModelField):
            return super().storage_reader(connection)
        return self._cached(connection, "decode", self._decoder)

    def value_reader(self, connection):
        if self.overrides("from_storage", EmbeddedModelField) or self.overrides(
            "storage_reader", EmbeddedModelField
        ):
            return super().value_reader(connection)
        return self._cached(connection, "decode", self._decoder)

    def _decoder(self, connection):
        """A function from a stored document (or None) to an instance, through ``from_db``.

        Each stored field of the embedded model is read by its reader; a field
        the document lacks (added to the model after the row was written) gets
        its default. Auto-created fields are not stored and read as None.
        """
        model = self.embedded_model
        fields = model._meta.concrete_fields
        attnames = [field.attname for field in fields]
        build = instance_builder(model, attnames)
        alias = connection.alias
        stored = [field for field in fields if not field.auto_created]
        columns = [field.column for field in stored]
        absent = [MISSING] * len(stored)
        readers = [reader(field, connection) for field in stored]
        converted = [(index, read) for index, read in enumerate(readers) if read is not unchanged]
        # Where the unstored fields go: usually only the implicit "id", first.
        unstored = len(fields) - len(stored)
        # (concrete_fields is a tuple: compared as a list, or it never equals one.)
        leading = list(fields[:unstored]) == [f for f in fields if f.auto_created]
        name = self.name
        known = frozenset(columns)
        documents = stores_documents(connection)

        # A document holding exactly the stored fields (the usual case) is read in
        # one pass: comparing its keys with ``known`` (in C) proves that no field
        # is missing and no unknown key is to be remembered.
        shifted = [(index + unstored, read) for index, read in converted]
        reads = [(attnames[index], read) for index, read in shifted]

        def convert(values: dict[str, Any]) -> None:
            for attname, read in reads:
                values[attname] = read(values[attname])

        whole = (
            document_builder(model, attnames, columns, convert if reads else None)
            if leading
            else None
        )
        if whole is None and leading:
            prefix = [None] * unstored

            def whole(db: str, value: dict) -> Model:
                items = [*prefix, *map(value.__getitem__, columns)]
                for index, read in shifted:
                    items[index] = read(items[index])
                return build(db, items)

        def decode(value: Any) -> Model:
            if whole is not None and type(value) is dict and value.keys() == known:
                return whole(alias, value)
            if value is None:
                return None
            instance = build_instance(value)
            remember(instance, value, known, documents)
            return instance

        def build_instance(value: Any) -> Model:
            if not isinstance(value, dict):
                raise ValueError(
                    f"EmbeddedModelField {name!r}: the stored value is a "
                    f"{type(value).__name__}, not a document."
                )
            items = list(map(value.get, columns, absent))
            missing = MISSING in items  # before reading: stored values compare cheaply
            for index, read in converted:
                item = items[index]
                if item is not MISSING:
                    items[index] = read(item)
            if missing:
                items = [
                    field.get_default() if item is MISSING else item
                    for field, item in zip(stored, items, strict=True)
                ]
            if leading:
                return build(alias, [None] * unstored + items if unstored else items)
            found = iter(items)
            return build(alias, [None if f.auto_created else next(found) for f in fields])

        return decode

    def to_serializable(self, value: Any) -> dict | None:
        if value is None:
            return None
        return {
            field.attname: serialize_leaf(field, getattr(value, field.attname))
            for field in self.stored_fields()
        }

    def save_form_data(self, instance: Model, data: Any) -> None:
        # A form edits the known fields of the sub-document; the keys other
        # programs put there stay, as unknown top-level fields do.
        carry_over(getattr(instance, self.attname), data)
        super().save_form_data(instance, data)

    # -- lookups -----------------------------------------------------------------
    def path_transform(self, name: str) -> PathStep:
        for field in self.stored_fields():
            if name in (field.name, field.attname):
                return PathStep(KeyTransform, field.column, field)
        model = self.embedded_model
        raise FieldError(
            f"Cannot resolve {name!r} into a field of {model.__name__}, embedded in "
            f"{self.name!r}. Choices are: {', '.join(f.name for f in self.stored_fields())} "
            "(and the lookups exact, isnull on the whole value)."
        )

    # -- checks ------------------------------------------------------------------
    def check_inner(self, obj: Field) -> list[checks.CheckMessage]:
        try:
            model = self.embedded_model
        except ImproperlyConfigured as error:
            return [checks.Error(str(error), obj=obj, id="django_nonrel.fields.E001")]
        if model._meta.abstract:
            return [
                checks.Error(
                    f"EmbeddedModelField embeds the abstract model {model.__name__}, "
                    "which cannot be instantiated.",
                    hint="Make it concrete, with Meta.managed = False.",
                    obj=obj,
                    id="django_nonrel.fields.E002",
                )
            ]
        return []

    # -- forms -------------------------------------------------------------------
    def formfield(self, **kwargs: Any):
        from django_nonrel.fields.forms import EmbeddedModelFormField

        return super().formfield(
            **{"form_class": EmbeddedModelFormField, "model_field": self, **kwargs}
        )


EmbeddedModelField.register_lookup(DocumentExact)
