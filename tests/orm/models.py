"""Models for the ORM tests: plain fields, keys of every kind, relations."""

import uuid

from django.db import models
from django.db.models.functions import Lower

from django_nonrel.backends.mongodb.fields import ObjectIdAutoField


class Author(models.Model):
    name = models.CharField(max_length=100, unique=True)
    email = models.EmailField(blank=True)
    age = models.IntegerField(null=True)
    born = models.DateField(null=True)
    joined = models.DateTimeField(null=True)
    rating = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    active = models.BooleanField(default=True)
    handle = models.SlugField(unique=True, null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Book(models.Model):
    title = models.CharField(max_length=200, db_index=True)
    author = models.ForeignKey(Author, models.CASCADE, related_name="books")
    pages = models.PositiveIntegerField(default=0)
    published = models.DateTimeField(null=True)
    data = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["-pages"], name="book_pages_desc")]


class Review(models.Model):
    book = models.ForeignKey(Book, models.CASCADE, related_name="reviews")
    editor = models.ForeignKey(Author, models.SET_NULL, null=True, related_name="edited")
    stars = models.SmallIntegerField()


class Tag(models.Model):
    id = ObjectIdAutoField(primary_key=True)
    name = models.CharField(max_length=50)


class Token(models.Model):
    key = models.CharField(max_length=40, primary_key=True)
    uses = models.IntegerField(default=0)


class Ticket(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    seat = models.CharField(max_length=10)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seat"], name="unique_seat")]


class Alarm(models.Model):
    """A TimeField: MongoDB stores times as text, lookups on their parts read it."""

    desc = models.CharField(max_length=20)
    time = models.TimeField(null=True)


class Snapshot(models.Model):
    """Overrides from_db, as Django documents for tracking loaded values."""

    label = models.CharField(max_length=20)
    count = models.IntegerField(default=0)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance.loaded_values = dict(zip(field_names, values, strict=True))
        return instance


class ProxyAuthor(Author):
    """A proxy: its options have no auto_field of their own."""

    class Meta:
        proxy = True


class Gauge(models.Model):
    """A DecimalField with more decimal places than a double holds digits."""

    reading = models.DecimalField(max_digits=20, decimal_places=17, null=True)


class Reading(models.Model):
    """Keyed by a DateTimeField, as Django's tests' DateTimePK: the key is a date."""

    taken = models.DateTimeField(primary_key=True)
    value = models.IntegerField(default=0)


class Counter(models.Model):
    """Fields left to the database (``db_default``)."""

    name = models.CharField(max_length=20)
    hits = models.IntegerField(db_default=7)
    label = models.CharField(max_length=20, db_default="new")


class Stage(models.Model):
    """A chain of stages: a one-to-one relation of a model to itself."""

    name = models.CharField(max_length=20)
    rank = models.IntegerField()
    previous = models.OneToOneField("self", models.CASCADE, null=True, related_name="following")


class Genre(models.Model):
    """Ordered by an expression: a relation to it sorts by ``Lower(name)`` over the
    related row (SQL's ORDER BY LOWER(genre.name) after the JOIN)."""

    name = models.CharField(max_length=30)

    class Meta:
        ordering = [Lower("name")]


class Studio(models.Model):
    """Ordered by an OrderBy with its own direction and NULL placement."""

    name = models.CharField(max_length=30, null=True)

    class Meta:
        ordering = [models.F("name").desc(nulls_last=True)]


class Album(models.Model):
    """Ordered by its genre, which is ordered by an expression."""

    title = models.CharField(max_length=30)
    genre = models.ForeignKey(Genre, models.CASCADE, related_name="albums")
    studio = models.ForeignKey(Studio, models.SET_NULL, null=True, related_name="albums")

    class Meta:
        ordering = ["genre"]


class Track(models.Model):
    """Two relations away from the expression its album's ordering ends in."""

    title = models.CharField(max_length=30)
    album = models.ForeignKey(Album, models.CASCADE, related_name="tracks")
