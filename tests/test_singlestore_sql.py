"""SQL of the SingleStore backend: what each dialect renders, and one-statement saves.

The singlestore-dialect SQL is compiled with no server (no SingleStore can run
on this project's machines): these tests pin that SingleStore's own functions
are used where MySQL's would be refused. The saves run on a server: on the
MariaDB tier in the mysql dialect, or on SingleStore when SINGLESTORE_URL is set.
"""

import pytest
from django.db import connection, models
from django.db.models.functions import Cast
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from tests.app.models import Person, Post
from tests.orm.models import Author, Book, Token
from tests.singlestore.offline import offline_connection


def compiled(queryset, dialect="singlestore"):
    offline = offline_connection(dialect)
    sql, params = queryset.query.get_compiler(connection=offline).as_sql()
    return sql, tuple(params)


def where(queryset, dialect="singlestore"):
    sql, params = compiled(queryset, dialect)
    return sql.split(" WHERE ", 1)[1], params


# -- singlestore dialect, no server ------------------------------------------------


def test_cast_uses_the_singlestore_operator():
    sql, _ = compiled(Author.objects.annotate(text=Cast("age", models.CharField())))
    assert "(`orm_author`.`age` :> char)" in sql
    sql, _ = compiled(Author.objects.annotate(text=Cast("age", models.CharField())), "mysql")
    assert "CAST(`orm_author`.`age` AS char)" in sql


def test_list_membership_uses_json_array_contains():
    sql, params = where(Post.objects.filter(tags="django"))
    assert sql == "JSON_ARRAY_CONTAINS_JSON(JSON_EXTRACT_JSON(`app_post`.`tags`), %s)"
    assert params == ('"django"',)


def test_list_contains_and_overlap():
    sql, params = where(Post.objects.filter(tags__contains=["a", "b"]))
    assert sql == (
        "(JSON_ARRAY_CONTAINS_JSON(JSON_EXTRACT_JSON(`app_post`.`tags`), %s) AND "
        "JSON_ARRAY_CONTAINS_JSON(JSON_EXTRACT_JSON(`app_post`.`tags`), %s))"
    )
    assert params == ('"a"', '"b"')
    sql, _ = where(Post.objects.filter(tags__overlap=["a", "b"]))
    assert " OR " in sql and "JSON_OVERLAPS" not in sql


def test_paths_are_one_argument_per_key():
    sql, params = where(Person.objects.filter(address__city__istartswith="par"))
    assert "JSON_EXTRACT_STRING(`app_person`.`address`, %s)" in sql
    assert params[0] == "city"
    sql, params = where(Post.objects.filter(tags__0="x"))
    assert "JSON_EXTRACT_STRING(`app_post`.`tags`, %s)" in sql and params[0] == 0
    sql, params = where(Post.objects.filter(tags__len__gt=2))
    assert sql == "JSON_LENGTH(JSON_EXTRACT_JSON(`app_post`.`tags`)) > %s"


def test_any_element_lookups_iterate_with_json_to_array():
    sql, params = where(Person.objects.filter(previous__city="Paris"))
    assert sql.startswith(
        "EXISTS(SELECT 1 FROM TABLE(JSON_TO_ARRAY(JSON_EXTRACT_JSON(`app_person`.`previous`))) "
        "AS nonrel_e0 WHERE JSON_GET_TYPE(nonrel_e0.table_col) = 'object' AND "
    )
    assert "JSON_EXTRACT_STRING(nonrel_e0.table_col, %s)" in sql
    assert params == ("city", "Paris")


def test_json_field_key_paths():
    sql, params = compiled(Book.objects.values_list("data__a__b"))
    assert "JSON_EXTRACT_JSON(`orm_book`.`data`, %s, %s)" in sql
    assert params[:2] == ("a", "b")


def test_mysql_dialect_keeps_mysql_json_functions():
    sql, _ = where(Post.objects.filter(tags="django"), "mysql")
    assert sql.startswith("JSON_CONTAINS(")


# -- saves on a server -----------------------------------------------------------------


@pytest.fixture
def singlestore_backend():
    if not hasattr(connection, "is_singlestore"):
        pytest.skip(f"SingleStore backend behaviour; this tier runs {connection.vendor}")


@pytest.mark.django_db
@pytest.mark.usefixtures("singlestore_backend")
def test_save_with_a_key_is_one_upsert_and_reports_created():
    created = []

    def record(sender, instance, created_flag=None, **kwargs):
        created.append(kwargs.get("created", created_flag))

    post_save.connect(record, sender=Token)
    try:
        with CaptureQueriesContext(connection) as queries:
            Token(key="k1", uses=1).save()  # new row
            Token(key="k1", uses=2).save()  # changed row
            Token(key="k1", uses=2).save()  # unchanged row: still an update
    finally:
        post_save.disconnect(record, sender=Token)
    assert created == [True, False, False]
    assert len(queries) == 3
    assert all("ON DUPLICATE KEY UPDATE" in q["sql"] for q in queries.captured_queries)
    assert Token.objects.get(key="k1").uses == 2


@pytest.mark.django_db
@pytest.mark.usefixtures("singlestore_backend")
def test_update_fields_keeps_djangos_update():
    token = Token.objects.create(key="k2", uses=1)
    token.uses = 5
    with CaptureQueriesContext(connection) as queries:
        token.save(update_fields=["uses"])
    assert queries.captured_queries[0]["sql"].startswith("UPDATE ")
    assert Token.objects.get(key="k2").uses == 5


@pytest.mark.django_db
@pytest.mark.usefixtures("singlestore_backend")
def test_count_with_limit_is_pushed_down():
    Author.objects.bulk_create(Author(name=f"a{i}") for i in range(5))
    with CaptureQueriesContext(connection) as queries:
        assert Author.objects.count(limit=3) == 3
    assert len(queries) == 1 and "LIMIT 3" in queries.captured_queries[0]["sql"]


@pytest.mark.django_db
@pytest.mark.usefixtures("singlestore_backend")
def test_cascade_deletes_take_a_bounded_number_of_statements():
    author = Author.objects.create(name="prolific")
    Book.objects.bulk_create(Book(title=f"b{i}", author=author) for i in range(250))
    with CaptureQueriesContext(connection) as queries:
        author.delete()
    # Django's 100-key chunks would take 3 DELETEs for the books; one here.
    deletes = [q for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) <= 3
    assert not Book.objects.exists()


def test_select_for_update_on_columnstore_is_refused_with_the_fix(monkeypatch):
    from django.db import NotSupportedError

    monkeypatch.delenv("DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_ORM", raising=False)
    with pytest.raises(NotSupportedError, match="locks rows of ROWSTORE tables only"):
        compiled(Author.objects.select_for_update())
    monkeypatch.setenv("DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_ORM", "ROWSTORE")
    query = Author.objects.select_for_update().query
    compiler = query.get_compiler(connection=offline_connection())
    compiler.refuse_columnstore_locking()  # a ROWSTORE table may be locked
