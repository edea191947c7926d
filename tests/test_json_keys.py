"""JSONField key lookups mean what they mean on SQL's JSON functions, on every tier.

A Django user relies on: ``data__key=None`` finding a key that holds JSON null
(not a missing key), ``data__key__isnull=True`` finding rows without the key,
``exclude()`` of a key comparison leaving out rows that lack the key, a key
compared with a scalar not matching a list holding it, ``has_key`` naming
object members (digits too) and nested paths given as key transforms, and a
pattern on the column matching the document's JSON text.
"""

import django
import pytest
from django.db import connection
from django.db.models import Case, Count, F, JSONField, Q, Value, When
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Cast, Coalesce

from tests.orm.models import Author, Book

pytestmark = pytest.mark.django_db

DOCUMENTS = {
    "null": {"k": None},
    "empty": {},
    "one": {"k": 1},
    "list": {"k": [1]},
    "text": {"k": "x"},
    "array": [1, 2],
    "digits": {"0": "zero"},
    "objects": [{"k": 1}],
    "nested": {"n": {"a": [{"b": 2}]}},
}


@pytest.fixture
def books():
    author = Author.objects.create(name="Ann")
    for title, data in DOCUMENTS.items():
        Book.objects.create(title=title, author=author, data=data)


def titles(*conditions, exclude=False):
    queryset = Book.objects.exclude(*conditions) if exclude else Book.objects.filter(*conditions)
    return sorted(queryset.values_list("title", flat=True))


def test_none_is_json_null_not_a_missing_key(books):
    assert titles(Q(data__k=None)) == ["null"]
    assert titles(Q(data__k=Value(None, JSONField()))) == ["null"]


def test_isnull_asks_whether_the_key_is_there(books):
    # A key holding JSON null is there; arrays and other objects have no "k".
    assert titles(Q(data__k__isnull=False)) == ["list", "null", "one", "text"]
    assert titles(Q(data__k__isnull=True)) == ["array", "digits", "empty", "nested", "objects"]
    assert titles(Q(data__k__isnull=True) | Q(data__k=None)) == [
        "array",
        "digits",
        "empty",
        "nested",
        "null",
        "objects",
    ]


def test_exclude_leaves_out_rows_without_the_key(books):
    # SQL: the comparison is UNKNOWN where the key is missing; JSON null is a value.
    assert titles(Q(data__k=1), exclude=True) == ["list", "null", "text"]
    assert titles(Q(data__k=None), exclude=True) == ["list", "one", "text"]
    assert titles(Q(data__k=1) & Q(data__k__isnull=False), exclude=True) == [
        "array",
        "digits",
        "empty",
        "list",
        "nested",
        "null",
        "objects",
        "text",
    ]


def test_a_scalar_does_not_match_a_list_holding_it(books):
    assert titles(Q(data__k=1)) == ["one"]
    assert titles(Q(data__k=[1])) == ["list"]


def test_in_compares_whole_values(books):
    assert titles(Q(data__k__in=[[1], "x"])) == ["list", "text"]
    assert titles(Q(data__k__in=[1, 2])) == ["one"]


def test_list_index_paths(books):
    assert titles(Q(data__0=1)) == ["array"]
    assert titles(Q(data__n__a__0__b=2)) == ["nested"]


def test_has_key_names_object_members(books):
    assert titles(Q(data__has_key="0")) == ["digits"]
    assert titles(Q(data__has_key="k")) == ["list", "null", "one", "text"]
    assert titles(Q(data__has_any_keys=["0", "n"])) == ["digits", "nested"]


def test_has_key_of_a_key_transform_is_its_path(books):
    nested = KeyTransform("b", KeyTransform("0", KeyTransform("a", KeyTransform("n", "data"))))
    assert titles(Q(data__has_key=nested)) == ["nested"]
    assert titles(Q(data__has_key=F("data__n__a"))) == ["nested"]
    assert titles(Q(data__has_key=F("data__n__x"))) == []


def test_a_pattern_on_the_column_reads_the_json_text(books):
    # Key names are part of the document's text, as SQL's LIKE on the column sees it.
    assert titles(Q(data__icontains="ZERO")) == ["digits"]
    assert titles(Q(data__icontains='"0"')) == ["digits"]


def test_grouping_by_a_list_index_reads_the_element():
    author = Author.objects.create(name="Ann")
    for data in ({"d": ["a"]}, {"d": ["a", "b"]}, {"d": []}, [1], {"e": 1}):
        Book.objects.create(title="t", author=author, data=data)
    groups = Book.objects.values("data__d__0").annotate(n=Count("pk"), c=Count("data__d__1"))
    found = sorted((repr(row["data__d__0"]), row["n"], row["c"]) for row in groups)
    assert found == [("'a'", 2, 1), ("None", 3, 0)]


def test_cast_of_text_to_json_parses_the_text(books):
    # CAST(text AS JSON): the text '["x", 1]' is a JSON list; Coalesce keeps the parsed value.
    Author.objects.filter(name="Ann").update(name='["x", 1]')
    parsed = Book.objects.annotate(
        parsed=Coalesce(Cast("author__name", JSONField()), "data", output_field=JSONField())
    )
    assert [book.parsed for book in parsed] == [["x", 1]] * len(DOCUMENTS)


def test_json_null_as_the_whole_value_answers_alike_everywhere():
    """JSON null as the whole value is stored as null, as SQL NULL is
    (docs/mongodb.md): a filter, an ``__in`` list holding JSON null and a
    Case/When evaluated in Python must agree on which rows hold it."""
    author = Author.objects.create(name="Ann")
    json_null = Value(None, JSONField())
    Book.objects.create(title="json null", author=author, data=json_null)
    Book.objects.create(title="list", author=author, data=[1])
    Book.objects.create(title="object", author=author, data={"k": None})
    assert titles(Q(data=json_null)) == ["json null"]
    listed = [json_null, Value([1], JSONField())]
    assert titles(Q(data__in=listed)) == ["json null", "list"]
    assert titles(Q(data__in=[[1], {"x": 1}])) == ["list"]
    holds = Case(When(data=json_null, then=Value(True)), default=Value(False))
    found = Book.objects.annotate(holds=holds).order_by("title").values_list("holds", flat=True)
    assert list(found) == [True, False, False]


@pytest.mark.skipif(django.VERSION < (6, 1), reason="Django 6.1 deprecates data=None")
def test_none_as_json_null_gives_djangos_deprecation_warning_at_the_callers_line():
    """Django 6.1 warns from its SQL compiler; this backend builds its own
    commands and must warn the same, pointing at the line that runs the query."""
    from django.utils.deprecation import RemovedInDjango2028Warning

    with pytest.warns(RemovedInDjango2028Warning, match="Use JSONNull") as caught:
        list(Book.objects.filter(data=None))
    if connection.vendor == "mongodb":
        # Where Django compiles SQL (stock backends with the overlay, the
        # SingleStore backend) the first frame outside Django's files is ours
        # (a known difference: docs/patches.md).
        assert caught[0].filename == __file__
    with pytest.warns(RemovedInDjango2028Warning):
        list(Book.objects.annotate(n=Case(When(data=None, then=Value(1)), default=Value(0))))
