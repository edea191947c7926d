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


def test_a_renamed_key_is_written_next_to_a_changed_column(post):
    # FerretDB writes the title and skips the dict in the same command: the
    # command reports the row modified, so that count cannot reveal the skip.
    post.title = "renamed"
    post.meta = {"m": 1, "t": {"u": 2}}
    post.extras = [{"b": 1}]
    post.save()
    assert stored(post) == {"meta": {"m": 1, "t": {"u": 2}}, "extras": [{"b": 1}]}
    Post.objects.filter(title="renamed").update(title="again", meta={"n": 1, "t": {"u": 2}})
    assert stored(post)["meta"] == {"n": 1, "t": {"u": 2}}


def test_a_row_the_filter_leaves_out_is_not_rewritten(post):
    # Same values in order as what is sent, other keys: a check that compared
    # every named row with what was sent would "repair" this one too.
    other = Post.objects.create(title="other", meta={"k": 1, "t": {"u": 2}})
    Post.objects.filter(pk__in=[post.pk, other.pk], title="p").update(meta={"x": 1, "t": {"u": 2}})
    assert stored(post)["meta"] == {"x": 1, "t": {"u": 2}}
    assert stored(other)["meta"] == {"k": 1, "t": {"u": 2}}


def test_bulk_update_writes_renamed_keys_and_leaves_unnamed_rows(post):
    second = Post.objects.create(title="q", meta={"s": 1, "t": {"u": 2}})
    bystander = Post.objects.create(title="r", meta={"s": 1, "t": {"u": 2}})
    post.meta = {"a": 1, "t": {"u": 2}}
    post.title = "p2"
    second.meta = {"b": 1, "t": {"u": 2}}
    Post.objects.bulk_update([post, second], ["title", "meta"])
    assert stored(post)["meta"] == {"a": 1, "t": {"u": 2}}
    assert stored(second)["meta"] == {"b": 1, "t": {"u": 2}}
    assert stored(bystander)["meta"] == {"s": 1, "t": {"u": 2}}
