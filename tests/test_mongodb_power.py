"""MongoDB power features: path indexes, raw access, GridFS storage, dbshell."""

import datetime
import io
import os

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import NotSupportedError, connection, connections
from django.db.models import Count, F, Max, Sum
from django.test.utils import CaptureQueriesContext

from django_nonrel.backends.mongodb.client import DatabaseClient, uri_with_database
from django_nonrel.backends.mongodb.gridfs_storage import GridFSStorage
from django_nonrel.indexes import PathIndex
from tests.agg.models import Attachment, Shop, Venue

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(on_mongodb):
    return [
        Shop.objects.create(
            name="North", address=Venue(city="Oslo"), tags=["food", "late"], visits=5
        ),
        Shop.objects.create(name="South", address=Venue(city="Rome"), tags=["food"], visits=9),
        Shop.objects.create(name="East", address=Venue(city="Oslo"), tags=[], visits=1),
    ]


# -- indexes on embedded and list paths -------------------------------------------
def test_path_index_passes_django_checks_and_deconstructs():
    index = Shop._meta.indexes[0]
    assert isinstance(index, PathIndex)
    assert index.fields == ["address", "-visits"]  # what Django's checks and SQL backends see
    path, args, kwargs = index.deconstruct()
    assert path == "django_nonrel.indexes.PathIndex"
    assert kwargs["fields"] == ["address__city", "-visits"]
    assert PathIndex(**kwargs) == index
    assert not [e for e in Shop.check() if e.id == "models.E012"]
    with pytest.raises(ValueError, match="at least one path"):
        PathIndex(fields=[], name="x")


def test_path_indexes_exist_on_the_server(on_mongodb):
    info = connection.database[Shop._meta.db_table].index_information()
    assert info["shop_city_visits"]["key"] == [("address.city", 1), ("visits", -1)]
    assert info["shop_tags"]["key"] == [("tags", 1)]


def test_path_index_is_used_by_queries(shops, on_mongodb):
    if connection.is_embedded or connection.server_info["ferretdb"]:
        pytest.skip(
            "needs a server whose explain() reports index use (MongoDB; FerretDB v1 "
            "and mongomock do not plan with secondary indexes)"
        )
    collection = connection.database[Shop._meta.db_table]
    plan = str(collection.find({"address.city": "Oslo"}).explain()["queryPlanner"])
    assert "shop_city_visits" in plan
    plan = str(collection.find({"tags": "food"}).explain()["queryPlanner"])
    assert "shop_tags" in plan


# -- raw_query / raw_update ------------------------------------------------------
def test_raw_query_yields_instances_and_chains(shops, on_mongodb):
    found = Shop.objects.raw_query({"address.city": "Oslo", "tags": {"$size": 2}})
    assert [(s.name, s.address.city) for s in found] == [("North", "Oslo")]
    chained = Shop.objects.filter(visits__gte=2).raw_query({"tags": "food"}).order_by("-visits")
    assert [s.name for s in chained] == ["South", "North"]
    assert chained.count() == 2
    assert Shop.objects.raw_query({"visits": {"$gt": 4}}).raw_query({"tags": []}).count() == 0
    assert list(Shop.objects.raw_query({"_id": shops[2].pk}).values_list("name", flat=True)) == [
        "East"
    ]
    with CaptureQueriesContext(connection) as captured:
        list(Shop.objects.raw_query({"tags": {"$in": ["late"]}}))
    assert len(captured) == 1


def test_raw_query_filters_combine_with_querysets_as_conditions(shops, on_mongodb):
    """The filter is a condition of the queryset's WHERE: ``|`` and ``&`` keep it
    in place, whichever side it is on (it used to be ANDed onto the left side's
    whole result, or dropped when it was on the right)."""
    busy = Shop.objects.raw_query({"visits": {"$gt": 4}})  # North, South
    east = Shop.objects.filter(name="East")
    names = lambda queryset: sorted(queryset.values_list("name", flat=True))  # noqa: E731
    assert names(busy | east) == names(east | busy) == ["East", "North", "South"]
    assert names(busy & east) == names(east & busy) == []
    south = Shop.objects.filter(name="South")
    assert names(south & busy) == names(busy & south) == ["South"]
    assert (east | busy).count() == 3
    assert names(Shop.objects.exclude(pk__in=busy.values("pk"))) == ["East"]
    assert (south | busy).update(visits=0) == 2
    assert names(Shop.objects.filter(visits=0)) == ["North", "South"]


def test_a_raw_query_filter_is_not_evaluated_in_python(shops, on_mongodb):
    busy = Shop.objects.raw_query({"visits": {"$gt": 4}})
    computed = Shop.objects.alias(twice=F("visits") * 2).filter(twice=2)
    with pytest.raises(NotSupportedError, match="raw_query.. filter combined by OR"):
        list(busy | computed)
    # ANDed, the store runs the filter and Python the computed condition.
    assert list(busy & computed) == []


def test_raw_update_applies_operators(shops, on_mongodb):
    changed = Shop.objects.raw_update({"address.city": "Oslo"}, {"$inc": {"visits": 10}})
    assert changed == 2
    assert sorted(Shop.objects.values_list("visits", flat=True)) == [9, 11, 15]
    assert Shop.objects.filter(name="South").raw_update(None, {"$push": {"tags": "new"}}) == 1
    assert Shop.objects.get(name="South").tags == ["food", "new"]
    assert Shop.objects.filter(pk__in=[]).raw_update({}, {"$set": {"visits": 0}}) == 0
    with pytest.raises(ValueError, match="update operators"):
        Shop.objects.raw_update({}, {"visits": 0})


@pytest.mark.django_db(databases=["default", "sqlite"])
def test_raw_access_refuses_sql_databases():
    if connections["sqlite"].vendor != "sqlite":
        pytest.skip("the sqlite alias is always stock SQLite")
    with pytest.raises(NotSupportedError, match="MongoDB syntax"):
        Shop.objects.using("sqlite").raw_update({}, {"$set": {"visits": 0}})
    raw = Shop.objects.using("sqlite").raw_query({"visits": {"$gt": 4}})
    for run in (list, len, lambda qs: qs.count(), lambda qs: qs.delete()):
        with pytest.raises(NotSupportedError, match="MongoDB syntax"):
            run(raw)


# -- GridFS storage -------------------------------------------------------------
@pytest.fixture
def storage(on_mongodb):
    storage = GridFSStorage(bucket="testfs", chunk_size=1024)
    yield storage
    for kind in ("files", "chunks"):
        connection.database[f"testfs.{kind}"].delete_many({})


def test_storage_save_open_size_exists_delete(storage):
    data = os.urandom(5000)  # five chunks of 1 KiB and a short one
    name = storage.save("reports/2024/q1.bin", ContentFile(data))
    assert name == "reports/2024/q1.bin"
    assert storage.exists(name) and storage.size(name) == 5000
    with storage.open(name) as handle:
        assert handle.read() == data
    chunks = connection.database["testfs.chunks"].count_documents({})
    assert chunks == 5
    second = storage.save("reports/2024/q1.bin", ContentFile(b"other"))
    assert second != name and second.startswith("reports/2024/q1_")
    storage.delete(name)
    assert not storage.exists(name) and storage.exists(second)
    storage.delete("never-saved.txt")
    with pytest.raises(FileNotFoundError):
        storage.open(name)


def test_storage_listdir_url_and_times(storage, settings):
    settings.MEDIA_URL = "/media/"
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    for name in ("a.txt", "docs/b.txt", "docs/deep/c.txt"):
        storage.save(name, ContentFile(b"x"))
    assert storage.listdir("") == (["docs"], ["a.txt"])
    assert storage.listdir("docs") == (["deep"], ["b.txt"])
    assert storage.url("docs/b c.txt") == "/media/docs/b%20c.txt"
    modified = storage.get_modified_time("a.txt")
    assert modified.tzinfo is not None
    assert before - datetime.timedelta(seconds=1) <= modified
    assert modified <= datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)
    assert storage.get_created_time("a.txt") == modified


def test_storage_has_the_gridfs_layout_and_indexes(storage):
    storage.save("layout.txt", ContentFile(b"hello"))
    document = connection.database["testfs.files"].find_one({"filename": "layout.txt"})
    assert document["length"] == 5 and document["chunkSize"] == 1024
    assert document["metadata"] == {"contentType": "text/plain"}
    chunk = connection.database["testfs.chunks"].find_one({"files_id": document["_id"]})
    assert chunk["n"] == 0 and bytes(chunk["data"]) == b"hello"
    indexes = connection.database["testfs.chunks"].index_information()
    assert any(info["key"] == [("files_id", 1), ("n", 1)] for info in indexes.values())


def test_file_field_on_gridfs(on_mongodb):
    attachment = Attachment(name="cv")
    attachment.upload.save("cv.txt", ContentFile(b"curriculum"), save=True)
    try:
        loaded = Attachment.objects.get(pk=attachment.pk)
        assert loaded.upload.name == "docs/cv.txt"
        assert loaded.upload.size == 10
        with loaded.upload.open("rb") as handle:
            assert handle.read() == b"curriculum"
    finally:
        attachment.upload.delete(save=False)
    assert not GridFSStorage(bucket="attachments").exists("docs/cv.txt")


def test_storage_reads_like_a_file(storage):
    storage.save("t.txt", io.BytesIO(b"line1\nline2\n"))
    with storage.open("t.txt") as handle:
        assert list(handle) == [b"line1\n", b"line2\n"]
    with pytest.raises(ValueError, match="reading only"):
        storage.open("t.txt", "wb")


# -- dbshell --------------------------------------------------------------------
def test_dbshell_command_line():
    args, env = DatabaseClient.settings_to_cmd_args_env(
        {
            "HOST": "mongodb://db.example:27018/?tls=true",
            "NAME": "shop",
            "USER": "u",
            "PASSWORD": "p",
        },
        ["--quiet"],
    )
    assert args[1:] == [
        "mongodb://db.example:27018/shop?tls=true",
        "--username",
        "u",
        "--password",
        "p",
        "--quiet",
    ]
    assert args[0] in ("mongosh", "mongo") and env is None
    assert uri_with_database("127.0.0.1:27017", "x") == "mongodb://127.0.0.1:27017/x"
    with pytest.raises(CommandError, match="remove the path"):
        uri_with_database("mongodb://h/other", "x")
    with pytest.raises(CommandError, match="mongomock"):
        DatabaseClient.settings_to_cmd_args_env({"HOST": "mongomock://x", "NAME": "x"}, [])


def test_dbshell_without_mongosh_says_so(on_mongodb, monkeypatch):
    if connection.is_embedded:
        with pytest.raises(CommandError, match="mongomock"):
            call_command("dbshell")
        return
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(CommandError, match="mongosh"):
        call_command("dbshell")


def test_group_by_embedded_path_and_list_membership(shops, on_mongodb):
    rows = list(
        Shop.objects.values("address__city")
        .annotate(n=Count("id"), visits=Sum("visits"))
        .order_by("address__city")
    )
    assert rows == [
        {"address__city": "Oslo", "n": 2, "visits": 6},
        {"address__city": "Rome", "n": 1, "visits": 9},
    ]
    assert Shop.objects.filter(tags="food").aggregate(v=Max("visits")) == {"v": 9}
