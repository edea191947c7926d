"""Models ``manage.py check --database`` must report (tests/test_sharding_rules.py)."""

from django.db import models

from django_nonrel.sharding import ShardKey


class Customer(models.Model):
    region = models.CharField(max_length=20)
    email = models.EmailField(unique=True)

    class Meta:
        indexes = [ShardKey(fields=["region"])]
