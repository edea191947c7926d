"""auth, contenttypes, sessions, sites and messages as a project uses them, unmodified."""

import pytest
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.contrib.sites.models import Site
from django.contrib.sites.shortcuts import get_current_site
from django.core.management import call_command
from django.test import Client, RequestFactory

from tests.orm.models import Author

pytestmark = pytest.mark.django_db


def test_migrate_created_content_types_and_permissions():
    author_type = ContentType.objects.get_for_model(Author)
    assert (author_type.app_label, author_type.model) == ("orm", "author")
    assert author_type.model_class() is Author
    codenames = set(
        Permission.objects.filter(content_type=author_type).values_list("codename", flat=True)
    )
    assert codenames == {"add_author", "change_author", "delete_author", "view_author"}


def test_content_type_cache_and_lookup_by_id():
    ContentType.objects.clear_cache()
    author_type = ContentType.objects.get_for_model(Author)
    assert ContentType.objects.get_for_id(author_type.pk) is author_type
    assert isinstance(author_type.pk, int)


def test_users_passwords_and_authenticate():
    user = User.objects.create_user("ann", "ann@example.com", "pw-1")
    assert isinstance(user.pk, int)
    assert authenticate(username="ann", password="pw-1") == user
    assert authenticate(username="ann", password="wrong") is None
    user.set_password("pw-2")
    user.save()
    assert authenticate(username="ann", password="pw-2") == user
    assert User.objects.get_by_natural_key("ann") == user


def test_superuser_has_every_permission():
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    assert root.has_perm("orm.delete_author")
    assert root.has_module_perms("orm")


def test_inactive_user_has_no_permission():
    user = User.objects.create_user("off", password="pw", is_active=False)
    assert not user.has_perm("orm.view_author")
    assert authenticate(username="off", password="pw") is None


def test_has_perm_through_user_permissions():
    user = User.objects.create_user("bob", password="pw")
    assert not user.has_perm("orm.change_author")
    user.user_permissions.add(Permission.objects.get(codename="change_author"))
    user = User.objects.get(pk=user.pk)  # permissions are cached per instance
    assert user.has_perm("orm.change_author")
    assert not user.has_perm("orm.delete_author")


def test_has_perm_through_a_group():
    editors = Group.objects.create(name="editors")
    editors.permissions.add(*Permission.objects.filter(codename__in=["view_author", "add_author"]))
    user = User.objects.create_user("cid", password="pw")
    user.groups.add(editors)
    user = User.objects.get(pk=user.pk)
    assert user.get_group_permissions() == {"orm.view_author", "orm.add_author"}
    assert user.has_perm("orm.add_author")
    assert user.has_perms(["orm.view_author", "orm.add_author"])
    assert not user.has_perm("orm.delete_author")
    assert user.has_module_perms("orm")


def test_group_membership_is_stored_both_ways():
    editors = Group.objects.create(name="editors")
    user = User.objects.create_user("dee", password="pw")
    user.groups.add(editors)
    assert list(user.groups.values_list("name", flat=True)) == ["editors"]
    assert list(editors.user_set.values_list("username", flat=True)) == ["dee"]
    user.groups.remove(editors)
    assert not user.groups.exists()


def test_database_session_store_round_trip():
    store = SessionStore()
    store["cart"] = [1, 2, 3]
    store.set_expiry(300)
    store.create()
    key = store.session_key
    assert Session.objects.filter(session_key=key).exists()
    again = SessionStore(session_key=key)
    assert again["cart"] == [1, 2, 3]
    again["cart"].append(4)
    again.modified = True
    again.save()
    assert SessionStore(session_key=key)["cart"] == [1, 2, 3, 4]
    again.delete()
    assert not Session.objects.filter(session_key=key).exists()
    assert not SessionStore().exists(key)


def test_expired_sessions_are_not_loaded_and_clearsessions_removes_them():
    store = SessionStore()
    store["x"] = 1
    store.set_expiry(-1)  # already expired
    store.create()
    assert SessionStore(session_key=store.session_key).load() == {}
    call_command("clearsessions")
    assert not Session.objects.filter(session_key=store.session_key).exists()


def test_login_and_logout_through_the_client_use_the_database_session():
    User.objects.create_user("eve", password="pw")
    client = Client()
    assert client.login(username="eve", password="pw")
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    client.logout()
    assert not Session.objects.filter(session_key=key).exists()


def test_default_site_and_current_site():
    site = Site.objects.get_current()
    assert site.pk == 1 and site.domain == "example.com"
    Site.objects.filter(pk=1).update(domain="nonrel.test", name="nonrel")
    Site.objects.clear_cache()
    request = RequestFactory().get("/")
    assert get_current_site(request).domain == "nonrel.test"
    other = Site.objects.create(domain="other.test", name="other")
    assert isinstance(other.pk, int) and other.pk != 1
    assert Site.objects.get_by_natural_key("other.test") == other


def test_messages_survive_a_redirect_in_the_session():
    """The admin's success message goes through the session and is shown once."""
    User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.login(username="root", password="pw")
    response = client.post(
        "/admin/orm/author/add/", {"name": "Gus", "age": "5", "active": "on", "email": ""}
    )
    assert response.status_code == 302
    follow = client.get(response["Location"])
    shown = list(follow.context["messages"])
    assert [m.level for m in shown] == [messages.SUCCESS]
    assert "Gus" in str(shown[0])
    again = client.get(response["Location"])
    assert list(again.context["messages"]) == []  # consumed
