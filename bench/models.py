"""Document shapes after the MongoDB ODM benchmark: small flat, large flat, large nested.

Plus the relation, pagination and cascade models. Integer AutoField keys, as
Django projects use them; embedded models are ``managed = False``.
"""

from django.db import models

from bench.shapes import LARGE_FLAT_GROUPS
from django_nonrel.fields import DictField, EmbeddedModelField, ListField


class SmallFlat(models.Model):
    name = models.CharField(max_length=50)
    email = models.CharField(max_length=100)
    age = models.IntegerField()
    score = models.FloatField()
    active = models.BooleanField()


class LargeFlat(models.Model):
    """30 scalar fields of five types, declared in a loop to keep the shape obvious."""

    for _i in range(LARGE_FLAT_GROUPS):
        locals()[f"text{_i}"] = models.CharField(max_length=100)
        locals()[f"number{_i}"] = models.IntegerField()
        locals()[f"ratio{_i}"] = models.FloatField()
        locals()[f"flag{_i}"] = models.BooleanField()
        locals()[f"stamp{_i}"] = models.DateTimeField()
    del _i


class Geo(models.Model):
    lat = models.FloatField()
    lng = models.FloatField()

    class Meta:
        managed = False


class Address(models.Model):
    street = models.CharField(max_length=100)
    city = models.CharField(max_length=50)
    zip_code = models.CharField(max_length=10)
    geo = EmbeddedModelField(Geo)

    class Meta:
        managed = False


class Item(models.Model):
    sku = models.CharField(max_length=20)
    quantity = models.IntegerField()
    price = models.FloatField()

    class Meta:
        managed = False


class LargeNested(models.Model):
    name = models.CharField(max_length=50)
    tags = ListField(models.CharField(max_length=20))
    address = EmbeddedModelField(Address)
    items = ListField(EmbeddedModelField(Item))
    attributes = DictField()


class Blog(models.Model):
    name = models.CharField(max_length=50)


class Entry(models.Model):
    blog = models.ForeignKey(Blog, models.CASCADE, related_name="entries")
    title = models.CharField(max_length=100)
    rank = models.IntegerField()


class Parent(models.Model):
    name = models.CharField(max_length=50)


class Child(models.Model):
    parent = models.ForeignKey(Parent, models.CASCADE, related_name="children")
    name = models.CharField(max_length=50)
    position = models.IntegerField()
