"""The bench shapes as django-mongodb-backend users declare them.

ObjectIdAutoField keys (the backend refuses AutoField), EmbeddedModel for the
nested parts, ArrayField for the tag list, JSONField for the free-form dict;
the scalar fields are ``bench.shape_models``'.
"""

from django.db import models
from django_mongodb_backend.fields import ArrayField, EmbeddedModelArrayField, EmbeddedModelField
from django_mongodb_backend.models import EmbeddedModel

from bench import shape_models


class SmallFlat(shape_models.SmallFlatFields):
    pass


class LargeFlat(shape_models.LargeFlatFields):
    pass


class Geo(EmbeddedModel, shape_models.GeoFields):
    pass


class Address(EmbeddedModel, shape_models.AddressFields):
    geo = EmbeddedModelField(Geo)


class Item(EmbeddedModel, shape_models.ItemFields):
    pass


class LargeNested(models.Model):
    name = models.CharField(max_length=50)
    tags = ArrayField(models.CharField(max_length=20))
    address = EmbeddedModelField(Address)
    items = EmbeddedModelArrayField(Item)
    attributes = models.JSONField()


class Blog(shape_models.BlogFields):
    pass


class Entry(shape_models.EntryFields):
    pass
