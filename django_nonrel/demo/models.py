"""The demo's models: a recipe document with lists, a dict and embedded models."""

from django.db import models

from django_nonrel.fields import DictField, EmbeddedModelField, ListField


class Chef(models.Model):
    """Embedded in Recipe: never stored in a table of its own."""

    name = models.CharField(max_length=60)
    country = models.CharField(max_length=60)

    class Meta:
        app_label = "demo"


class Ingredient(models.Model):
    name = models.CharField(max_length=60)
    grams = models.PositiveIntegerField()

    class Meta:
        app_label = "demo"


class Recipe(models.Model):
    title = models.CharField(max_length=100)
    tags = ListField(models.CharField(max_length=30))
    chef = EmbeddedModelField(Chef)
    ingredients = ListField(EmbeddedModelField(Ingredient))
    nutrition = DictField()

    class Meta:
        app_label = "demo"
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
