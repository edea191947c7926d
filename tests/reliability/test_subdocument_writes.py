"""A write of a sub-document is stored as sent, also when only its keys change.

FerretDB v1 compares the old and new value of a ``$set`` by their values in
order, ignoring keys: renaming a dict key whose value stays the same matched
the row and wrote nothing (backends/mongodb/skipped_sets.py). Every save path
is checked on every tier: ``save()``, ``save(update_fields=...)``,
``QuerySet.update()`` by key and by another filter, dicts inside lists.
"""

from __future__ import annotations

import pytest

from tests.app.models import Post

pytestmark = pytest.mark.django_db


def stored(post: Post) -> dict:
    return Post.objects.values("meta", "extras").get(pk=post.pk)


@pytest.fixture
def post():
    return Post.objects.create(title="p", meta={"s": 1, "t": {"u": 2}}, extras=[{"a": 1}])


def test_a_renamed_key_is_written_by_save(post):
    post.meta = {"m": 1, "t": {"u": 2}}
    post.extras = [{"b": 1}]
    post.save()
    assert stored(post) == {"meta": {"m": 1, "t": {"u": 2}}, "extras": [{"b": 1}]}


def test_a_renamed_nested_key_is_written_with_update_fields(post):
    post.meta = {"s": 1, "t": {"v": 2}}
    post.save(update_fields=["meta"])
    assert stored(post)["meta"] == {"s": 1, "t": {"v": 2}}


def test_keys_swapped_between_equal_values_are_written(post):
    post.meta = {"t": 1, "s": {"u": 2}}
    post.save()
    assert stored(post)["meta"] == {"t": 1, "s": {"u": 2}}
    assert list(stored(post)["meta"]) == ["t", "s"]


def test_queryset_update_writes_renamed_keys(post):
    other = Post.objects.create(title="q", meta={"s": 1, "t": {"u": 2}})
    Post.objects.filter(pk=post.pk).update(meta={"x": 1, "t": {"u": 2}})
    assert stored(post)["meta"] == {"x": 1, "t": {"u": 2}}
    Post.objects.filter(title__in=["p", "q"]).update(extras=[{"c": 1}])
    assert stored(post)["extras"] == stored(other)["extras"] == [{"c": 1}]
    Post.objects.filter(title__in=["p", "q"]).update(extras=[{"d": 1}])
    assert stored(post)["extras"] == stored(other)["extras"] == [{"d": 1}]
