"""The wire-tier servers behave the way the backends and their users rely on.

Run on the tier whose server they exercise (``NONREL_TEST_DB``): the MongoDB
checks on FerretDB or a real MongoDB, the MySQL checks on the MariaDB the test
command provisions. Elsewhere they are skipped with the reason printed by
``-ra``. They talk to the server through the raw drivers, so a failure here
points at the server or its provisioning, not at the ORM layers above.
"""

import json
import uuid
from urllib.parse import urlsplit

import pytest

from tests.settings import TARGET

SCHEME = urlsplit(TARGET).scheme

mongodb_wire = pytest.mark.skipif(
    SCHEME not in ("mongodb", "mongodb+srv"),
    reason=f"needs a MongoDB-wire server (FerretDB or MongoDB); this tier is {SCHEME}://",
)
mysql_wire = pytest.mark.skipif(
    SCHEME != "mysql", reason=f"needs the MariaDB server; this tier is {SCHEME}://"
)


def scratch_name() -> str:
    """A database name no other test or run uses."""
    return f"nonrel_servers_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def mongo_db():
    import pymongo

    client = pymongo.MongoClient(TARGET, serverSelectionTimeoutMS=5000)
    name = scratch_name()
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()


@pytest.fixture
def mysql_cursor():
    import MySQLdb

    url = urlsplit(TARGET)
    connection = MySQLdb.connect(
        host=url.hostname,
        port=url.port or 3306,
        user=url.username,
        password=url.password or "",
        charset="utf8mb4",
        autocommit=True,
    )
    cursor = connection.cursor()
    name = scratch_name()
    # Django's test runner creates its test database itself: the user must be allowed to.
    cursor.execute(f"CREATE DATABASE {name}")
    cursor.execute(f"USE {name}")
    try:
        yield cursor
    finally:
        cursor.execute(f"DROP DATABASE {name}")
        connection.close()


@mongodb_wire
class TestMongoDBWire:
    def test_documents_round_trip_and_filter_on_nested_values(self, mongo_db):
        mongo_db.items.insert_many(
            [
                {"name": "a", "tags": ["x", "y"], "meta": {"color": "red"}, "n": 3},
                {"name": "b", "tags": ["y"], "meta": {"color": "blue"}, "n": 1},
                {"name": "c", "tags": [], "meta": {"color": "red"}, "n": 2},
            ]
        )
        by_tag = mongo_db.items.find({"tags": "y"}, {"_id": 0, "name": 1}).sort("name", 1)
        assert [doc["name"] for doc in by_tag] == ["a", "b"]
        red = mongo_db.items.find({"meta.color": "red"}).sort("n", -1).limit(1)
        assert [doc["name"] for doc in red] == ["a"]
        assert mongo_db.items.find_one({"name": "a"}, {"_id": 0}) == {
            "name": "a",
            "tags": ["x", "y"],
            "meta": {"color": "red"},
            "n": 3,
        }

    def test_unique_index_rejects_a_duplicate(self, mongo_db):
        from pymongo.errors import DuplicateKeyError

        mongo_db.users.create_index("email", unique=True)
        mongo_db.users.insert_one({"email": "ann@example.com"})
        with pytest.raises(DuplicateKeyError):
            mongo_db.users.insert_one({"email": "ann@example.com"})
        assert mongo_db.users.count_documents({}) == 1

    def test_set_keeps_fields_the_update_does_not_name(self, mongo_db):
        mongo_db.items.insert_one({"_id": 1, "name": "a", "added_by_another_app": True})
        mongo_db.items.update_one({"_id": 1}, {"$set": {"name": "b"}}, upsert=True)
        assert mongo_db.items.find_one({"_id": 1}) == {
            "_id": 1,
            "name": "b",
            "added_by_another_app": True,
        }

    def test_inc_upsert_hands_out_consecutive_counter_values(self, mongo_db):
        from pymongo import ReturnDocument

        values = [
            mongo_db.counters.find_one_and_update(
                {"_id": "app_model"},
                {"$inc": {"value": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )["value"]
            for _ in range(3)
        ]
        assert values == [1, 2, 3]

    def test_group_aggregation(self, mongo_db):
        mongo_db.items.insert_many([{"k": "a", "n": 1}, {"k": "a", "n": 2}, {"k": "b", "n": 5}])
        groups = mongo_db.items.aggregate(
            [{"$group": {"_id": "$k", "total": {"$sum": "$n"}}}, {"$sort": {"_id": 1}}]
        )
        assert [(group["_id"], group["total"]) for group in groups] == [("a", 3), ("b", 5)]


@mysql_wire
class TestMariaDB:
    def test_json_column_round_trips_and_answers_path_queries(self, mysql_cursor):
        document = {"tags": ["x", "ÿ", "😀"], "meta": {"color": "red"}}
        mysql_cursor.execute("CREATE TABLE docs (id INT PRIMARY KEY, body JSON)")
        mysql_cursor.execute("INSERT INTO docs VALUES (1, %s)", [json.dumps(document)])
        mysql_cursor.execute(
            "SELECT body, JSON_UNQUOTE(JSON_EXTRACT(body, '$.meta.color')), "
            "JSON_CONTAINS(body, %s, '$.tags') FROM docs WHERE id = 1",
            [json.dumps("😀")],
        )
        body, color, contains = mysql_cursor.fetchone()
        assert json.loads(body) == document
        assert color == "red"
        assert contains == 1

    def test_text_columns_keep_four_byte_characters(self, mysql_cursor):
        mysql_cursor.execute("CREATE TABLE names (name VARCHAR(20))")
        mysql_cursor.execute("INSERT INTO names VALUES (%s)", ["naïve 😀"])
        mysql_cursor.execute("SELECT name FROM names")
        assert mysql_cursor.fetchone() == ("naïve 😀",)

    def test_named_time_zones_convert(self, mysql_cursor):
        # Django's date lookups on DateTimeField use CONVERT_TZ when USE_TZ is on.
        mysql_cursor.execute("SELECT CONVERT_TZ('2024-07-01 12:00:00', 'UTC', 'Europe/Paris')")
        assert str(mysql_cursor.fetchone()[0]) == "2024-07-01 14:00:00"
