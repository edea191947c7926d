"""The admin, driven through Django's test client as a staff user would drive it.

Unmodified contrib code on integer primary keys: login through the database session
backend, the changelist (search, list_filter, ordering, pagination), add / change /
delete with their LogEntry history and success messages.
"""

import re

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.test import Client

from tests.orm.models import Author, Book

pytestmark = pytest.mark.django_db

ADMIN = "/admin/orm/author/"


@pytest.fixture
def authors():
    names = [("Ann", 30, True), ("Bob", 40, False), ("Cid", 25, True), ("Dee", 35, True)]
    return [Author.objects.create(name=n, age=a, active=act) for n, a, act in names]


def shown(response) -> list[str]:
    """Author names on a changelist page, in the order shown."""
    assert response.status_code == 200
    return [row.name for row in response.context["cl"].result_list]


def test_login_uses_the_database_session(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    key = admin_client.cookies["sessionid"].value
    session = Session.objects.get(session_key=key)
    assert int(session.get_decoded()["_auth_user_id"]) == User.objects.get(username="root").pk


def test_anonymous_user_is_sent_to_login():
    response = Client().get(ADMIN)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_changelist_paginates_in_the_admins_ordering(admin_client, authors):
    first = admin_client.get(ADMIN)
    assert shown(first) == ["Ann", "Bob"]
    assert first.context["cl"].result_count == 4
    assert first.context["cl"].paginator.num_pages == 2
    assert shown(admin_client.get(ADMIN, {"p": 2})) == ["Cid", "Dee"]


def test_changelist_search(admin_client, authors):
    response = admin_client.get(ADMIN, {"q": "d"})  # icontains on name or email
    assert shown(response) == ["Cid", "Dee"]
    assert response.context["cl"].result_count == 2
    assert response.context["cl"].full_result_count == 4


def test_changelist_list_filter(admin_client, authors):
    response = admin_client.get(ADMIN, {"active__exact": "0"})
    assert shown(response) == ["Bob"]
    choices = response.context["cl"].filter_specs[0].choices(response.context["cl"])
    assert [c["display"] for c in choices] == ["All", "Yes", "No"]


def test_changelist_ordering_by_column(admin_client, authors):
    # ``o=2`` sorts by the second list_display column (age); ``-2`` descending.
    assert shown(admin_client.get(ADMIN, {"o": "2"})) == ["Cid", "Ann"]
    assert shown(admin_client.get(ADMIN, {"o": "-2", "p": "2"})) == ["Ann", "Cid"]


def test_search_filter_ordering_and_page_together(admin_client, authors):
    Author.objects.create(name="Eve", age=20, active=True)
    response = admin_client.get(ADMIN, {"active__exact": "1", "q": "e", "o": "-2"})
    assert shown(response) == ["Dee", "Eve"]
    assert response.context["cl"].result_count == 2


def test_add_logs_an_addition_and_says_so(admin_client):
    response = admin_client.post(
        f"{ADMIN}add/", {"name": "Fay", "age": "28", "active": "on", "email": ""}, follow=True
    )
    assert response.status_code == 200
    fay = Author.objects.get(name="Fay")
    assert fay.age == 28 and fay.active
    messages = [str(m) for m in response.context["messages"]]
    assert any("was added successfully" in m and "Fay" in m for m in messages)
    entry = LogEntry.objects.get(object_id=str(fay.pk))
    assert entry.action_flag == ADDITION
    assert entry.content_type == ContentType.objects.get_for_model(Author)
    assert entry.user.username == "root"


def test_change_form_saves_and_logs_the_changed_fields(admin_client, authors):
    ann = authors[0]
    form = admin_client.get(f"{ADMIN}{ann.pk}/change/")
    assert form.status_code == 200
    assert form.context["original"] == ann
    response = admin_client.post(
        f"{ADMIN}{ann.pk}/change/", {"name": "Ann", "age": "31", "active": "on", "email": ""}
    )
    assert response.status_code == 302
    ann.refresh_from_db()
    assert ann.age == 31
    entry = LogEntry.objects.get(object_id=str(ann.pk), action_flag=CHANGE)
    assert entry.get_change_message() == "Changed Age."


def test_invalid_change_is_refused_with_the_form_errors(admin_client, authors):
    ann, bob = authors[:2]
    response = admin_client.post(
        f"{ADMIN}{ann.pk}/change/", {"name": "Bob", "age": "31", "active": "on", "email": ""}
    )
    assert response.status_code == 200  # the form again, with its errors
    assert "name" in response.context["adminform"].form.errors  # unique name
    ann.refresh_from_db()
    assert ann.name == "Ann"
    assert not LogEntry.objects.filter(action_flag=CHANGE).exists()


def test_history_lists_the_log_entries(admin_client, authors):
    ann = authors[0]
    admin_client.post(
        f"{ADMIN}{ann.pk}/change/", {"name": "Ann", "age": "32", "active": "on", "email": ""}
    )
    response = admin_client.get(f"{ADMIN}{ann.pk}/history/")
    assert response.status_code == 200
    assert [e.get_change_message() for e in response.context["action_list"]] == ["Changed Age."]


def test_delete_confirms_then_deletes_and_logs(admin_client, authors):
    dee = authors[3]
    confirm = admin_client.get(f"{ADMIN}{dee.pk}/delete/")
    assert confirm.status_code == 200
    assert b"Are you sure" in confirm.content
    response = admin_client.post(f"{ADMIN}{dee.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert not Author.objects.filter(pk=dee.pk).exists()
    entry = LogEntry.objects.get(object_id=str(dee.pk))
    assert entry.action_flag == DELETION and entry.object_repr == "Dee"
    assert any("deleted successfully" in str(m) for m in response.context["messages"])


def test_delete_selected_action(admin_client, authors):
    ids = [str(authors[1].pk), str(authors[2].pk)]
    confirm = admin_client.post(
        ADMIN, {"action": "delete_selected", "_selected_action": ids, "index": "0"}
    )
    assert confirm.status_code == 200
    response = admin_client.post(
        ADMIN,
        {"action": "delete_selected", "_selected_action": ids, "post": "yes", "index": "0"},
        follow=True,
    )
    assert response.status_code == 200
    assert sorted(Author.objects.values_list("name", flat=True)) == ["Ann", "Dee"]
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 2


def test_object_urls_carry_integer_keys(admin_client, authors):
    page = admin_client.get(ADMIN).content.decode()
    linked = set(re.findall(r'href="/admin/orm/author/(\d+)/change/', page))
    assert linked == {str(authors[0].pk), str(authors[1].pk)}


def test_changelist_of_a_model_with_a_foreign_key(admin_client, authors):
    """list_display of the key (select_related), list_filter on it, search across it."""
    ann, bob = authors[:2]
    for title, pages, author in [("A1", 10, ann), ("A2", 20, ann), ("B1", 30, bob)]:
        Book.objects.create(title=title, pages=pages, author=author)
    page = admin_client.get("/admin/orm/book/")
    assert page.status_code == 200
    assert page.context["cl"].result_count == 3
    by_ann = admin_client.get("/admin/orm/book/", {"author__id__exact": str(ann.pk)})
    assert sorted(b.title for b in by_ann.context["cl"].result_list) == ["A1", "A2"]
    choices = [
        c["display"] for c in by_ann.context["cl"].filter_specs[0].choices(by_ann.context["cl"])
    ]
    assert choices == ["All", "Ann", "Bob", "Cid", "Dee"]
    found = admin_client.get("/admin/orm/book/", {"q": "bob"})
    assert [b.title for b in found.context["cl"].result_list] == ["B1"]
