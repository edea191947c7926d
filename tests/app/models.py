"""Models shared by django-nonrel's own tests."""

from django.db import models

from django_nonrel.fields import DictField, EmbeddedModelField, ListField, SetField

# -- ListField / SetField / DictField / EmbeddedModelField (tests/test_fields_*.py) --


class Address(models.Model):
    """Embedded only (never saved to a table of its own)."""

    street = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=50)
    since = models.DateField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        managed = False


class LineItem(models.Model):
    """Embedded only: an element of Order.items."""

    name = models.CharField(max_length=50)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    tags = ListField(models.CharField(max_length=20), blank=True)
    origin = EmbeddedModelField(Address, null=True, blank=True)

    class Meta:
        managed = False


class Post(models.Model):
    title = models.CharField(max_length=100)
    tags = ListField(models.CharField(max_length=20), blank=True)
    scores = ListField(models.IntegerField(), blank=True)
    labels = SetField(models.CharField(max_length=20), blank=True)
    meta = DictField(blank=True)
    optional_tags = ListField(models.CharField(max_length=20), null=True, blank=True)
    extras = ListField(blank=True)  # untyped items

    def __str__(self) -> str:
        return self.title


class Person(models.Model):
    name = models.CharField(max_length=50)
    address = EmbeddedModelField(Address, null=True, blank=True)
    previous = ListField(EmbeddedModelField("Address"), blank=True)
    visits = ListField(models.DateField(), blank=True)
    balances = ListField(models.DecimalField(max_digits=8, decimal_places=2), blank=True)
    seen = ListField(models.DateTimeField(), blank=True)
    ids = SetField(models.UUIDField(), blank=True)
    limits = DictField(models.DecimalField(max_digits=6, decimal_places=1), blank=True)

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    number = models.IntegerField()
    items = ListField(EmbeddedModelField(LineItem), blank=True)
    by_size = DictField(EmbeddedModelField(LineItem), blank=True)
    matrix = ListField(ListField(models.IntegerField()), blank=True)
