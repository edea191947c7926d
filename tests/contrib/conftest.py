"""Fixtures of the contrib tests."""

import pytest
from django.contrib.auth.models import User
from django.test import Client


@pytest.fixture
def admin_client():
    """A test client logged in as a superuser (through the database session backend)."""
    User.objects.create_superuser("root", "root@example.com", "secret")
    client = Client()
    assert client.login(username="root", password="secret")
    return client
