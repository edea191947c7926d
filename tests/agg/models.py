"""Models for the aggregation and MongoDB power-feature tests."""

from django.db import models

from django_nonrel.backends.mongodb.gridfs_storage import GridFSStorage
from django_nonrel.backends.mongodb.managers import MongoManager
from django_nonrel.fields import DictField, EmbeddedModelField, ListField
from django_nonrel.indexes import PathIndex


class Publisher(models.Model):
    name = models.CharField(max_length=50)
    country = models.CharField(max_length=20)

    class Meta:
        ordering = ["name"]


class Genre(models.Model):
    name = models.CharField(max_length=30)
    weight = models.IntegerField(default=1)


class Novel(models.Model):
    title = models.CharField(max_length=100)
    publisher = models.ForeignKey(Publisher, models.CASCADE, null=True, related_name="novels")
    pages = models.IntegerField(null=True)
    price = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    rating = models.FloatField(null=True)
    genres = models.ManyToManyField(Genre, related_name="novels")
    meta = DictField(blank=True)

    class Meta:
        ordering = ["title"]


class Venue(models.Model):
    """Embedded only: Shop.address."""

    city = models.CharField(max_length=30)
    zip = models.CharField(max_length=10, blank=True)

    class Meta:
        managed = False


class Shop(models.Model):
    name = models.CharField(max_length=30)
    address = EmbeddedModelField(Venue, null=True, blank=True)
    tags = ListField(models.CharField(max_length=20), blank=True)
    visits = models.IntegerField(default=0)

    objects = MongoManager()

    class Meta:
        # MySQL/MariaDB cannot index the JSON columns these indexes start with
        # on SQL backends; the model exists to show MongoDB path indexes.
        required_db_vendor = "mongodb"
        indexes = [
            PathIndex(fields=["address__city", "-visits"], name="shop_city_visits"),
            models.Index(fields=["tags"], name="shop_tags"),
        ]


def gridfs_storage():
    return GridFSStorage(bucket="attachments")


class Attachment(models.Model):
    name = models.CharField(max_length=30)
    upload = models.FileField(upload_to="docs/", blank=True, storage=gridfs_storage)

    objects = MongoManager()
