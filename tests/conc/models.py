"""Models for the concurrency, pagination and cascade tests."""

from django.db import models

from django_nonrel.fields import VersionField


class Board(models.Model):
    name = models.CharField(max_length=50)


class Thread(models.Model):
    board = models.ForeignKey(Board, models.CASCADE, related_name="threads")
    title = models.CharField(max_length=50)


class Post(models.Model):
    thread = models.ForeignKey(Thread, models.CASCADE, related_name="posts")
    moderator = models.ForeignKey(
        Board, models.SET_NULL, null=True, blank=True, related_name="moderated"
    )
    body = models.CharField(max_length=50, blank=True)


class Shelf(models.Model):
    name = models.CharField(max_length=50)


class Pin(models.Model):
    """A PROTECT relation: deleting a shelf with pins must fail, as in Django."""

    shelf = models.ForeignKey(Shelf, models.PROTECT, related_name="pins")


class Node(models.Model):
    """A self-referencing tree: cascades must end on cycles of relations."""

    parent = models.ForeignKey("self", models.CASCADE, null=True, related_name="children")
    name = models.CharField(max_length=20)


class Account(models.Model):
    owner = models.CharField(max_length=50)
    balance = models.IntegerField(default=0)
    version = VersionField()


class Entry(models.Model):
    """Rows to paginate: ties, NULLs and mixed directions."""

    group = models.IntegerField()
    score = models.IntegerField(null=True)
    title = models.CharField(max_length=50)

    class Meta:
        ordering = ["group", "-score"]


#: Calls of fallback_campaign(), which Django makes only when a banner needs it.
FALLBACK_CALLS: list = []


def fallback_campaign():
    FALLBACK_CALLS.append(1)


class Campaign(models.Model):
    name = models.CharField(max_length=50)


class Ad(models.Model):
    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="ads")


class Banner(models.Model):
    campaign = models.ForeignKey(
        Campaign, models.SET(fallback_campaign), null=True, related_name="banners"
    )


class Ledger(models.Model):
    """A BigAutoField key: explicit keys up to the end of the int64 range."""

    id = models.BigAutoField(primary_key=True)
    note = models.CharField(max_length=50)


class Desk(models.Model):
    code = models.IntegerField(unique=True)


class Memo(models.Model):
    """Two relations to one parent model, one to a non-key column (to_field)."""

    author = models.ForeignKey(Desk, models.CASCADE, related_name="memos")
    copied = models.ForeignKey(Desk, models.CASCADE, to_field="code", related_name="+")
