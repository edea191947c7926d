"""Project-defined transforms and lookups written only in SQL (``as_sql``): this
backend evaluates them with SQLite on the values it reads, so the same querysets
answer as on SQLite itself (they were refused: "The expression ... is not
supported")."""

import datetime

import pytest
from django.db import NotSupportedError, models
from django.db.models import F
from django.db.models.functions import JSONObject
from django.db.models.lookups import IsNull
from django.test.utils import register_lookup

from tests.differential.models import Item
from tests.differential.oracle import ORACLE

# The classes below write SQL as Django's own tests do (``"%s" % lhs``).
# ruff: noqa: UP031

# What the MongoDB backend computes in Python, compared with SQLite; on the SQL tiers
# the same querysets would compare two SQL engines, not this project's code.
pytestmark = [
    pytest.mark.django_db(databases=["default", "sqlite"]),
    pytest.mark.usefixtures("on_mongodb"),
]

ALIASES = (ORACLE, "default")


class Div3Transform(models.Transform):
    lookup_name = "div3"

    def as_sql(self, compiler, connection):
        lhs, params = compiler.compile(self.lhs)
        return "(%s) %%%% 3" % lhs, params


class Div3Bilateral(Div3Transform):
    lookup_name = "div3b"
    bilateral = True


class Div3Lookup(models.Lookup):
    lookup_name = "div3is"

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return "(%s) %%%% 3 = %s" % (lhs, rhs), [*params, *rhs_params]


class Div3Concatenating(Div3Lookup):
    """Joins its parameters as Django's own custom-lookup tests do
    (``lhs_params + rhs_params``: both lists on Django 5, both tuples on 6)."""

    lookup_name = "div3cat"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return "(%s) %%%% 3 = %s" % (lhs, rhs), lhs_params + rhs_params


class LastDigit(models.Transform):
    lookup_name = "lastdigit"

    def as_sql(self, compiler, connection):
        lhs, params = compiler.compile(self.lhs)
        return "SUBSTR(CAST(%s AS CHAR(2)), 2, 1)" % lhs, params


class UpperBilateral(models.Transform):
    bilateral = True
    lookup_name = "upper"

    def as_sql(self, compiler, connection):
        lhs, params = compiler.compile(self.lhs)
        return "UPPER(%s)" % lhs, params


class YearOf(models.Transform):
    lookup_name = "yearof"
    output_field = models.IntegerField()

    def as_sql(self, compiler, connection):
        lhs, params = compiler.compile(self.lhs)
        return connection.ops.date_extract_sql("year", lhs, params)


class Nulled(models.Transform):
    """SQL that leaves its argument out (as Django's lookup tests' NulledTransform)."""

    lookup_name = "nulled"
    template = "NULL"


class IsNullNoneRhs(IsNull):
    """A lookup that accepts None as its value: on a NULL argument Django compiles
    IsNull to nothing (FullResultSet / EmptyResultSet), not to SQL."""

    lookup_name = "isnullnone"
    can_use_none_as_rhs = True


class PostgresOnly(models.Transform):
    lookup_name = "pgonly"

    def as_sql(self, compiler, connection):
        lhs, params = compiler.compile(self.lhs)
        return "(%s)::date" % lhs, params


ROWS = [
    ("a1", 1, 11, datetime.date(2012, 2, 16)),
    ("a2", 2, 23, datetime.date(2013, 3, 1)),
    ("A3", 3, 32, None),
    ("a4", 4, 40, datetime.date(2013, 1, 31)),
    ("a5", None, None, datetime.date(2012, 12, 31)),
]


def _load() -> None:
    for alias in ALIASES:
        for name, number, big, day in ROWS:
            Item.objects.using(alias).create(name=name, number=number, big=big, day=day)


def _names(query) -> tuple[list, list]:
    expected, actual = (list(query(Item.objects.using(alias))) for alias in ALIASES)
    return expected, actual


@pytest.mark.parametrize(
    "query",
    [
        lambda qs: qs.filter(number__div3=1).order_by("name"),
        lambda qs: qs.filter(number__div3__in=[0, 2]).order_by("name"),
        lambda qs: qs.exclude(number__div3=1).order_by("name"),
        lambda qs: qs.filter(number__div3is=1).order_by("name"),
        lambda qs: qs.filter(number__div3is=F("number")).order_by("name"),
        lambda qs: qs.filter(number__div3cat=1).order_by("name"),
        lambda qs: qs.order_by("big__lastdigit", "name"),
        lambda qs: qs.filter(name__upper="a1"),
        lambda qs: qs.filter(name__upper__in=["a3", "A4"]).order_by("name"),
        lambda qs: qs.filter(day__yearof=2013).order_by("name"),
        lambda qs: qs.filter(day__yearof__lte=2012).order_by("name"),
        lambda qs: qs.annotate(r=Div3Transform("number")).order_by("r", "name"),
        lambda qs: qs.filter(name__nulled__isnull=True).order_by("name"),
        lambda qs: qs.filter(name__nulled=None).order_by("name"),
        lambda qs: qs.exclude(name__nulled__isnull=True).order_by("name"),
        lambda qs: qs.filter(number__isnullnone=True).order_by("name"),
        lambda qs: qs.exclude(number__isnullnone=True).order_by("name"),
        lambda qs: qs.filter(number__isnullnone=False).order_by("name"),
    ],
)
def test_sql_only_transforms_and_lookups_answer_as_on_sqlite(query):
    _load()
    expected, actual = _names(lambda qs: query(qs).values_list("name", flat=True))
    assert expected == actual


def test_bilateral_sql_transform_applies_to_both_sides():
    """number__div3b=5 with a bilateral Div3 is number % 3 = 5 % 3."""
    _load()
    with register_lookup(models.IntegerField, Div3Bilateral):
        expected, actual = _names(
            lambda qs: qs.filter(number__div3b=5).order_by("name").values_list("name", flat=True)
        )
    assert expected == actual == ["a2"]


def test_sql_sqlite_cannot_run_is_refused_with_sqlites_reason():
    Item.objects.create(name="x", day=datetime.date(2012, 1, 1))
    with pytest.raises(NotSupportedError, match="PostgresOnly .*SQLite"):
        list(Item.objects.filter(day__pgonly=datetime.date(2012, 1, 1)))


def _folded(function: str, output_field=None):
    """django-treebeard's descendant count: an SQL aggregate written as a Func in
    a Subquery that selects only it (``.annotate(n=Func(F("pk"), function="Count"))
    .values("n")``): SQL aggregates every row of the subquery into one."""
    from django.db.models import Func, IntegerField, OuterRef

    return (
        Item.objects.filter(name__startswith=OuterRef("name"))
        .order_by()
        .annotate(
            n=Func(F("number"), function=function, output_field=output_field or IntegerField())
        )
        .values("n")
    )


@pytest.mark.parametrize("function", ["Count", "SUM", "max", "Min", "avg", "total"])
def test_an_sql_aggregate_written_as_a_func_in_a_subquery_folds_its_rows(function):
    """Each outer row gets the aggregate of the subquery's rows, as on SQLite
    (evaluated per row, as other functions are, it gave every row its own value)."""
    from django.db.models import FloatField, Subquery

    for alias in ALIASES:
        for name, number in [("a", 1), ("ab", 2), ("abc", None), ("abd", 7), ("b", 5)]:
            Item.objects.using(alias).create(name=name, number=number)
    field = FloatField() if function in ("avg", "total") else None
    expected, actual = _names(
        lambda qs: (
            qs.annotate(n=Subquery(_folded(function, field)))
            .order_by("name")
            .values_list("name", "n")
        )
    )
    assert expected == actual
    assert len({n for _, n in actual}) > 1  # the values differ per outer row


def test_an_sql_aggregate_written_as_a_func_elsewhere_is_refused_not_evaluated_per_row():
    """Outside that shape (a concatenation SQLite aggregates, or the Func in the
    outer query) the rows it folds are not clear: refused, saying what to use. A
    two-argument MAX (SQLite's scalar greatest) still runs."""
    from django.db.models import CharField, Func, IntegerField, Subquery

    Item.objects.create(name="a", number=1)
    Item.objects.create(name="ab", number=2)
    concatenated = _folded("group_concat", CharField())
    with pytest.raises(NotSupportedError, match="SQL aggregate .*Count, Sum"):
        list(Item.objects.annotate(n=Subquery(concatenated)).values_list("name", "n"))
    outer = Item.objects.annotate(
        n=Func(F("number"), function="Count", output_field=IntegerField())
    )
    with pytest.raises(NotSupportedError, match="SQL aggregate .*Count, Sum"):
        list(outer.values_list("n", flat=True))
    greatest = Item.objects.annotate(
        g=Func(F("number"), 1, function="MAX", output_field=IntegerField())
    ).order_by("name")
    assert list(greatest.values_list("g", flat=True)) == [1, 2]


@pytest.fixture(autouse=True)
def _registered():
    with (
        register_lookup(
            models.IntegerField, Div3Transform, Div3Lookup, Div3Concatenating, IsNullNoneRhs
        ),
        register_lookup(models.BigIntegerField, LastDigit),
        register_lookup(models.CharField, UpperBilateral, Nulled),
        register_lookup(models.DateField, YearOf, PostgresOnly),
    ):
        yield


def test_describing_a_query_evaluated_in_python_runs_nothing(django_assert_num_queries):
    """str(queryset.query) of a condition evaluated in Python describes the read;
    it ran the read of the matching keys first (a SimpleTestCase, which forbids
    queries, could not print it)."""
    with django_assert_num_queries(0):
        text = str(Item.objects.filter(number__div3=1).query)
    assert "find(" in text


def test_ordering_by_a_key_of_an_annotated_json_object():
    """order_by("annotation__key") sorts by that key of the annotation's value, as
    on SQLite (it raised FieldError: the name was looked up as a model field)."""
    _load()
    expected, actual = _names(
        lambda qs: (
            qs.filter(number__isnull=False)
            .annotate(obj=JSONObject(n=F("number"), name=F("name")))
            .order_by("-obj__n", "name")
            .values_list("name", flat=True)
        )
    )
    assert expected == actual
