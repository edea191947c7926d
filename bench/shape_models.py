"""The scalar fields of the bench shapes, as abstract models every backend's models share.

``bench.models`` (django-nonrel) and ``bench.peers.official.models``
(django-mongodb-backend, under another Django) declare their tables by
subclassing these, adding only what their backend spells differently (keys,
embedded and list fields). Pure Django: no backend is imported here.
"""

from django.db import models

from bench.shapes import LARGE_FLAT_GROUPS


class SmallFlatFields(models.Model):
    name = models.CharField(max_length=50)
    email = models.CharField(max_length=100)
    age = models.IntegerField()
    score = models.FloatField()
    active = models.BooleanField()

    class Meta:
        abstract = True


class LargeFlatFields(models.Model):
    """30 scalar fields of five types, declared in a loop to keep the shape obvious."""

    for _i in range(LARGE_FLAT_GROUPS):
        locals()[f"text{_i}"] = models.CharField(max_length=100)
        locals()[f"number{_i}"] = models.IntegerField()
        locals()[f"ratio{_i}"] = models.FloatField()
        locals()[f"flag{_i}"] = models.BooleanField()
        locals()[f"stamp{_i}"] = models.DateTimeField()
    del _i

    class Meta:
        abstract = True


class GeoFields(models.Model):
    lat = models.FloatField()
    lng = models.FloatField()

    class Meta:
        abstract = True


class AddressFields(models.Model):
    """An address without its ``geo`` (each backend embeds it its own way)."""

    street = models.CharField(max_length=100)
    city = models.CharField(max_length=50)
    zip_code = models.CharField(max_length=10)

    class Meta:
        abstract = True


class ItemFields(models.Model):
    sku = models.CharField(max_length=20)
    quantity = models.IntegerField()
    price = models.FloatField()

    class Meta:
        abstract = True


class BlogFields(models.Model):
    name = models.CharField(max_length=50)

    class Meta:
        abstract = True


class EntryFields(models.Model):
    """An entry of the ``Blog`` of the subclass's own app."""

    blog = models.ForeignKey("Blog", models.CASCADE, related_name="entries")
    title = models.CharField(max_length=100)
    rank = models.IntegerField()

    class Meta:
        abstract = True
