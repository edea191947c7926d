"""The bench shapes as django-mongodb-backend users declare them.

ObjectIdAutoField keys (the backend refuses AutoField), EmbeddedModel for the
nested parts, ArrayField for the tag list, JSONField for the free-form dict.
"""

from django.db import models
from django_mongodb_backend.fields import ArrayField, EmbeddedModelArrayField, EmbeddedModelField
from django_mongodb_backend.models import EmbeddedModel

from bench.shapes import LARGE_FLAT_GROUPS


class SmallFlat(models.Model):
    name = models.CharField(max_length=50)
    email = models.CharField(max_length=100)
    age = models.IntegerField()
    score = models.FloatField()
    active = models.BooleanField()


class LargeFlat(models.Model):
    for _i in range(LARGE_FLAT_GROUPS):
        locals()[f"text{_i}"] = models.CharField(max_length=100)
        locals()[f"number{_i}"] = models.IntegerField()
        locals()[f"ratio{_i}"] = models.FloatField()
        locals()[f"flag{_i}"] = models.BooleanField()
        locals()[f"stamp{_i}"] = models.DateTimeField()
    del _i


class Geo(EmbeddedModel):
    lat = models.FloatField()
    lng = models.FloatField()


class Address(EmbeddedModel):
    street = models.CharField(max_length=100)
    city = models.CharField(max_length=50)
    zip_code = models.CharField(max_length=10)
    geo = EmbeddedModelField(Geo)


class Item(EmbeddedModel):
    sku = models.CharField(max_length=20)
    quantity = models.IntegerField()
    price = models.FloatField()


class LargeNested(models.Model):
    name = models.CharField(max_length=50)
    tags = ArrayField(models.CharField(max_length=20))
    address = EmbeddedModelField(Address)
    items = EmbeddedModelArrayField(Item)
    attributes = models.JSONField()


class Blog(models.Model):
    name = models.CharField(max_length=50)


class Entry(models.Model):
    blog = models.ForeignKey(Blog, models.CASCADE, related_name="entries")
    title = models.CharField(max_length=100)
    rank = models.IntegerField()
