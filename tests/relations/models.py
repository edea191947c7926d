"""Models for relation tests: FK chains, nullable FKs, M2M (auto and custom through),
one-to-one, generic relations (integer and text object ids) and multi-table
inheritance (one parent per level, and two parents)."""

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Country(models.Model):
    name = models.CharField(max_length=50)


class Publisher(models.Model):
    name = models.CharField(max_length=50)
    country = models.ForeignKey(Country, models.CASCADE, related_name="publishers")


class Label(models.Model):
    name = models.CharField(max_length=50)


class Writer(models.Model):
    name = models.CharField(max_length=50)
    publisher = models.ForeignKey(Publisher, models.CASCADE, related_name="writers")
    mentor = models.ForeignKey("self", models.SET_NULL, null=True, related_name="pupils")


class Novel(models.Model):
    title = models.CharField(max_length=50)
    pages = models.IntegerField(default=0)
    writer = models.ForeignKey(Writer, models.CASCADE, related_name="novels")
    labels = models.ManyToManyField(Label, related_name="novels")
    notes = GenericRelation("Note", related_query_name="novel")
    reviews = GenericRelation("Review", object_id_field="object_pk", related_query_name="novel")


class Profile(models.Model):
    writer = models.OneToOneField(Writer, models.CASCADE, related_name="profile")
    bio = models.CharField(max_length=50)


class Club(models.Model):
    name = models.CharField(max_length=50)
    members = models.ManyToManyField(Writer, through="Membership", related_name="clubs")


class Membership(models.Model):
    club = models.ForeignKey(Club, models.CASCADE)
    writer = models.ForeignKey(Writer, models.CASCADE)
    role = models.CharField(max_length=20)


class Note(models.Model):
    text = models.CharField(max_length=50)
    content_type = models.ForeignKey(ContentType, models.CASCADE)
    object_id = models.PositiveIntegerField()
    target = GenericForeignKey("content_type", "object_id")


class Review(models.Model):
    """A generic relation with a text object id (as django-contrib-comments' object_pk)."""

    text = models.CharField(max_length=50)
    content_type = models.ForeignKey(ContentType, models.CASCADE)
    object_pk = models.CharField(max_length=64)
    target = GenericForeignKey("content_type", "object_pk")


class Place(models.Model):
    name = models.CharField(max_length=50)
    city = models.CharField(max_length=50)
    country = models.ForeignKey(Country, models.SET_NULL, null=True, related_name="places")

    class Meta:
        ordering = ["name"]


class Restaurant(Place):
    serves_pizza = models.BooleanField(default=False)


class Pizzeria(Restaurant):
    oven = models.CharField(max_length=20)


class Brand(models.Model):
    # A key of its own name: Franchise inherits both Place's id and this.
    brand_id = models.AutoField(primary_key=True)
    label = models.CharField(max_length=50)


class Franchise(Restaurant, Brand):
    """Two parents: its key is Place's, Brand's row has a key of its own."""

    licence = models.CharField(max_length=20)


class Menu(models.Model):
    franchise = models.ForeignKey(Franchise, models.CASCADE, related_name="menus")
    dish = models.CharField(max_length=50)


class Team(models.Model):
    """A row keyed, for relations, by two columns (country code and number)."""

    country_code = models.CharField(max_length=2)
    number = models.IntegerField()
    name = models.CharField(max_length=50)

    class Meta:
        unique_together = [("country_code", "number")]


class Player(models.Model):
    """A relation over two columns: ``team`` matches both of them (a composite key)."""

    name = models.CharField(max_length=50)
    rating = models.IntegerField(default=0)
    team_country = models.CharField(max_length=2, null=True)
    team_number = models.IntegerField(null=True)
    team = models.ForeignObject(
        Team,
        models.CASCADE,
        from_fields=["team_country", "team_number"],
        to_fields=["country_code", "number"],
        null=True,
        related_name="players",
    )
