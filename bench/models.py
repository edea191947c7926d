"""Document shapes after the MongoDB ODM benchmark: small flat, large flat, large nested.

Plus the relation, pagination and cascade models. Integer (BigAutoField) keys, as
Django projects use them; embedded models are ``managed = False``.
"""

from django.db import models

from bench import shape_models
from django_nonrel.fields import DictField, EmbeddedModelField, ListField


class SmallFlat(shape_models.SmallFlatFields):
    pass


class LargeFlat(shape_models.LargeFlatFields):
    pass


class Geo(shape_models.GeoFields):
    class Meta:
        managed = False


class Address(shape_models.AddressFields):
    geo = EmbeddedModelField(Geo)

    class Meta:
        managed = False


class Item(shape_models.ItemFields):
    class Meta:
        managed = False


class LargeNested(models.Model):
    name = models.CharField(max_length=50)
    tags = ListField(models.CharField(max_length=20))
    address = EmbeddedModelField(Address)
    items = ListField(EmbeddedModelField(Item))
    attributes = DictField()


class Blog(shape_models.BlogFields):
    pass


class Entry(shape_models.EntryFields):
    pass


class Parent(models.Model):
    name = models.CharField(max_length=50)


class Child(models.Model):
    parent = models.ForeignKey(Parent, models.CASCADE, related_name="children")
    name = models.CharField(max_length=50)
    position = models.IntegerField()
