"""What third-party apps that require savepoints do, driven through the admin.

django-reversion's VersionAdmin refuses a database without savepoints
(``connection.features.uses_savepoints``) because of its revision preview: it
reverts the object to an old version inside ``atomic()``, renders the admin's
change form from the reverted rows, then raises an exception to roll the
revert back. Its revisions are written in nested ``atomic()`` blocks, and an
inner failure must not take the outer work with it. These tests do exactly
that with Django's serializers and the admin, on every tier.
"""

import pytest
from django.core import serializers
from django.db import IntegrityError, connection, transaction

from tests.orm.models import Author, Book

pytestmark = pytest.mark.django_db

CHANGE = "/admin/orm/author/{}/change/"


class RollBackPreview(Exception):
    """Raised, as reversion raises its own, to undo a revert once it is rendered."""

    def __init__(self, response):
        super().__init__("preview rendered")
        self.response = response


@pytest.fixture
def versioned():
    """An author with a saved version (age 30) and a later state (age 31, one book)."""
    ann = Author.objects.create(name="Ann", age=30, email="ann@example.com")
    version = serializers.serialize("json", [ann])
    ann.age, ann.email = 31, "ann@new.example.com"
    ann.save()
    Book.objects.create(title="Later", author=ann)
    return ann, version


def revert(version: str) -> None:
    for restored in serializers.deserialize("json", version):
        restored.save()


def test_the_database_offers_what_version_admin_checks():
    if not connection.features.uses_savepoints:
        pytest.skip(f"{connection.vendor} here has no savepoints; VersionAdmin refuses it too")
    assert connection.features.supports_transactions


def test_a_revision_preview_renders_the_old_version_and_changes_nothing(admin_client, versioned):
    ann, version = versioned
    with pytest.raises(RollBackPreview) as preview, transaction.atomic():
        revert(version)
        with transaction.atomic():
            response = admin_client.get(CHANGE.format(ann.pk))
            assert response.status_code == 200
            raise RollBackPreview(response)
    form = preview.value.response.context["adminform"].form
    assert form.initial["age"] == 30 and form.initial["email"] == "ann@example.com"
    ann.refresh_from_db()
    assert (ann.age, ann.email) == (31, "ann@new.example.com")
    assert Book.objects.filter(author=ann).count() == 1


def test_reverting_through_the_admin_keeps_the_change(admin_client, versioned):
    ann, version = versioned
    with transaction.atomic():
        revert(version)
        response = admin_client.post(
            CHANGE.format(ann.pk),
            {"name": "Ann", "email": "ann@example.com", "age": "30", "active": "on"},
        )
        assert response.status_code == 302
    ann.refresh_from_db()
    assert (ann.age, ann.email) == (30, "ann@example.com")


def test_a_failed_inner_revision_leaves_the_outer_work(versioned):
    ann, _ = versioned
    with transaction.atomic():
        Book.objects.create(title="Outer", author=ann)
        with pytest.raises(IntegrityError), transaction.atomic():
            Book.objects.create(title="Inner", author=ann)
            Author.objects.create(name="Ann")  # unique name: the revision fails
        Book.objects.create(title="After", author=ann)
    titles = sorted(Book.objects.values_list("title", flat=True))
    assert titles == ["After", "Later", "Outer"]
