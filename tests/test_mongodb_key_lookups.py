"""Finds by ``_id``: what MongoDB answers, on every MongoDB tier.

On ``mongomock://`` these filters take the key shortcut
(backends/mongodb/embedded_keys.py) instead of testing every document; the
answers must be MongoDB's all the same, in the collection's natural order.
"""

import pytest
from bson import Int64, ObjectId
from django.db import connection

from django_nonrel.backends.mongodb.embedded_keys import key_condition
from tests.orm.models import Author, Book

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_mongodb")]

TABLE = "nonrel_key_lookups"


@pytest.fixture
def documents():
    """A raw collection holding keys of several types, inserted out of key order."""
    collection = connection.database[TABLE]
    collection.delete_many({})
    collection.insert_many(
        [
            {"_id": 3, "group": "a"},
            {"_id": 1, "group": "b"},
            {"_id": "1", "group": "string"},
            {"_id": 2.5, "group": "a"},
            {"_id": 7, "group": "b", "tags": ["x", "y"]},
            {"_id": ObjectId("64b7f0c2a1b2c3d4e5f60718"), "group": "oid"},
        ]
    )
    yield collection
    collection.drop()


def ids(collection, filter, **kwargs):
    return [document["_id"] for document in collection.find(filter, **kwargs)]


def test_one_key_finds_its_document(documents):
    assert [d["group"] for d in documents.find({"_id": 1})] == ["b"]
    assert [d["group"] for d in documents.find({"_id": {"$eq": 1}})] == ["b"]
    assert ids(documents, {"_id": "1"}) == ["1"]
    assert ids(documents, {"_id": Int64(7)}) == [7]
    assert ids(documents, {"_id": 404}) == []


def test_a_number_never_finds_a_boolean_key():
    """Python's ``True == 1`` is not MongoDB's (a collection cannot hold both keys
    on mongomock, whose dict of documents pairs them)."""
    collection = connection.database[TABLE]
    collection.drop()
    collection.insert_many([{"_id": True}, {"_id": 0.5}])
    try:
        assert ids(collection, {"_id": True}) == [True]
        assert ids(collection, {"_id": 1}) == []
        assert ids(collection, {"_id": {"$in": [1, 2]}}) == []
        assert collection.count_documents({"_id": {"$in": [1, True]}}) == 1
    finally:
        collection.drop()


def test_a_list_of_keys_gives_the_natural_order_once_per_document(documents):
    found = ids(documents, {"_id": {"$in": [7, 1, 3, 1, 404, "1"]}})
    assert found == [3, 1, "1", 7]


def test_the_rest_of_the_filter_still_decides(documents):
    assert ids(documents, {"_id": {"$in": [1, 3, 7]}, "group": "b"}) == [1, 7]
    assert ids(documents, {"$and": [{"group": "a"}, {"_id": {"$in": [3, 7, 1]}}]}) == [3]
    assert ids(documents, {"$and": [{"_id": 7}, {"tags": "y"}]}) == [7]
    assert ids(documents, {"$and": [{"_id": 7}, {"tags": "z"}]}) == []
    assert ids(documents, {"_id": {"$in": [3, 7, 1]}}, sort=[("_id", -1)]) == [7, 3, 1]


def test_counts_updates_and_deletes_by_key(documents):
    assert documents.count_documents({"_id": {"$in": [1, 3, 404]}}) == 2
    assert documents.update_many({"_id": {"$in": [1, 3]}}, {"$set": {"seen": 1}}).matched_count == 2
    assert ids(documents, {"seen": 1}) == [3, 1]
    assert documents.delete_many({"_id": {"$in": [3, "1"]}}).deleted_count == 2
    assert ids(documents, {"group": {"$in": ["a", "b", "string"]}}) == [1, 2.5, 7]


def test_orm_reads_by_key(db):
    authors = Author.objects.bulk_create([Author(name=f"A{i}") for i in range(5)])
    wanted = [authors[3].pk, authors[0].pk]
    assert Author.objects.get(pk=authors[2].pk).name == "A2"
    assert sorted(Author.objects.filter(pk__in=wanted).values_list("name", flat=True)) == [
        "A0",
        "A3",
    ]
    assert not Author.objects.filter(pk=authors[1].pk, name="other").exists()


@pytest.mark.parametrize(
    "filter",
    [
        {"_id": {"$gt": 1}},
        {"_id": {"$in": [1, {"a": 1}]}},
        {"_id": {"$in": [1, True]}},
        {"_id": 1.5},
        {"_id": {"$eq": 1, "$ne": 2}},
        {"$or": [{"_id": 1}]},
        {"$and": [{"_id": 1, "group": "b"}]},
    ],
)
def test_other_key_conditions_are_left_to_the_server(filter):
    assert key_condition(filter) is None


def test_mongomock_tests_only_the_documents_with_the_keys(documents, monkeypatch):
    """The point of the shortcut: a find by key does not test every document."""
    if not connection.is_embedded:
        pytest.skip("the key shortcut is mongomock's; servers use their _id index")
    import mongomock.collection
    import mongomock.filtering

    tested = []
    original = mongomock.filtering.filter_applies

    def counting(filter, document):
        tested.append(document["_id"])
        return original(filter, document)

    monkeypatch.setattr(mongomock.filtering, "filter_applies", counting)
    monkeypatch.setattr(mongomock.collection, "filter_applies", counting)
    assert ids(documents, {"_id": {"$in": [1, 7]}, "group": "b"}) == [1, 7]
    assert sorted(tested) == [1, 7]


@pytest.fixture
def values():
    """Documents whose ``value`` is a number, a string, None, missing, an array or a
    sub-document: what ``$in`` over a long list must tell apart."""
    collection = connection.database[TABLE]
    collection.drop()
    collection.insert_many(
        [
            {"_id": 1, "value": 5},
            {"_id": 2, "value": 5.0},
            {"_id": 3, "value": "5"},
            {"_id": 4, "value": None},
            {"_id": 5},
            {"_id": 6, "value": [40, 41]},
            {"_id": 7, "value": {"a": 5}},
            {"_id": 8, "value": True},
            {"_id": 9, "value": 12},
        ]
    )
    yield collection
    collection.drop()


LONG = [5, 20, 21, 22, 23, 24, 25, 26, 41]


def test_in_over_a_long_list_of_values(values):
    assert ids(values, {"value": {"$in": LONG}}) == [1, 2, 6]
    assert ids(values, {"value": {"$in": [*LONG, None]}}) == [1, 2, 4, 5, 6]
    assert ids(values, {"value": {"$in": [*LONG, "5"]}, "_id": {"$gt": 1}}) == [2, 3, 6]
    assert ids(values, {"$or": [{"value": {"$in": LONG}}, {"_id": 9}]}) == [1, 2, 6, 9]


def test_nin_over_a_long_list_of_values(values):
    assert ids(values, {"value": {"$nin": LONG}}) == [3, 4, 5, 7, 8, 9]
    assert ids(values, {"value": {"$nin": [*LONG, None]}}) == [3, 7, 8, 9]


def test_prefetch_of_many_rows_by_foreign_key(db):
    authors = Author.objects.bulk_create([Author(name=f"P{i}") for i in range(12)])
    Book.objects.bulk_create([Book(title=f"T{a.pk}", author=a) for a in authors])
    loaded = Author.objects.filter(pk__in=[a.pk for a in authors]).prefetch_related("books")
    assert {a.name: [b.title for b in a.books.all()] for a in loaded} == {
        a.name: [f"T{a.pk}"] for a in authors
    }
