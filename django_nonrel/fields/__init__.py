"""Model fields for document-shaped data, on every backend.

``ListField(item_field=None)``, ``SetField(item_field=None)``,
``DictField(value_field=None)`` and ``EmbeddedModelField(model)`` -- and any
nesting of them, such as ``ListField(EmbeddedModelField(Item))``. Values are
stored natively on document databases (MongoDB) and as JSON on SQL databases,
and are queried with Django's own lookup syntax (see
``django_nonrel.fields.lookups``)::

    from django.db import models
    from django_nonrel.fields import DictField, EmbeddedModelField, ListField

    class Address(models.Model):
        city = models.CharField(max_length=50)

        class Meta:
            managed = False  # embedded only: never saved to a table of its own

    class Person(models.Model):
        tags = ListField(models.CharField(max_length=20), blank=True)
        address = EmbeddedModelField(Address, null=True)
        meta = DictField(blank=True)

    Person.objects.filter(tags="admin", address__city__istartswith="par")

``VersionField()`` adds optimistic concurrency to a model: a save of a stale
instance raises ``django_nonrel.exceptions.ConflictError`` and writes nothing
(see ``django_nonrel.fields.version``).
"""

from django_nonrel.fields.dict import DictField
from django_nonrel.fields.embedded import EmbeddedModelField
from django_nonrel.fields.list import ListField, SetField
from django_nonrel.fields.version import VersionField

__all__ = ["DictField", "EmbeddedModelField", "ListField", "SetField", "VersionField"]
