"""Models of the differential tests: one of each common field type, relations, document fields.

The same rows are written to stock SQLite (the oracle) and to the backend under
test, so every field here must round-trip on both: nullable scalars of each
common type, an FK chain (Item -> Owner -> Team), an M2M (Item.labels) and the
nonrel document fields; Badge and Slot add keys that are not integers (UUID,
text) and foreign keys over them, for the write and subquery profile.
"""

from django.db import models

from django_nonrel.fields import DictField, EmbeddedModelField, ListField


class Team(models.Model):
    name = models.CharField(max_length=40)


class Owner(models.Model):
    name = models.CharField(max_length=40)
    team = models.ForeignKey(Team, models.CASCADE, null=True, related_name="owners")


class Label(models.Model):
    name = models.CharField(max_length=40)


class Spot(models.Model):
    """Embedded only: Item.place."""

    city = models.CharField(max_length=40)
    floor = models.IntegerField(null=True)

    class Meta:
        managed = False


class Item(models.Model):
    name = models.CharField(max_length=40)
    note = models.TextField(null=True)
    number = models.IntegerField(null=True)
    big = models.BigIntegerField(null=True)
    ratio = models.FloatField(null=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, null=True)
    flag = models.BooleanField(null=True)
    day = models.DateField(null=True)
    moment = models.DateTimeField(null=True)
    code = models.UUIDField(null=True)
    tags = ListField(models.CharField(max_length=20), blank=True)
    meta = DictField(blank=True)
    place = EmbeddedModelField(Spot, null=True, blank=True)
    owner = models.ForeignKey(Owner, models.CASCADE, null=True, related_name="items")
    labels = models.ManyToManyField(Label, related_name="items")


class Badge(models.Model):
    """A UUID primary key, and a foreign key to Item (deleted with it)."""

    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=20)
    item = models.ForeignKey(Item, models.CASCADE, null=True, related_name="badges")


class Slot(models.Model):
    """A text primary key, and a foreign key over Badge's UUID key."""

    code = models.CharField(max_length=20, primary_key=True)
    badge = models.ForeignKey(Badge, models.CASCADE, null=True, related_name="slots")
