"""A project's own SQL aggregates: an Aggregate subclass with its own SQL, or a Func
marked ``contains_aggregate``.

The nonrel backends run their SQL with SQLite over each group's argument values
(django_nonrel.aggregation.sql_aggregates); every tier must agree with stock SQLite.
"""

import pytest
from django.db.models import Aggregate, Func, IntegerField, Max, Q

from tests.test_aggregation import agree, library, novels  # noqa: F401 -- fixture

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])


class FirstArgumentMax(Max):
    """Takes several arguments and renders MAX of the first only (as Django's own
    multi-argument aggregate test does)."""

    output_field = IntegerField()
    arity = None

    def as_sql(self, compiler, connection, **extra_context):
        copy = self.copy()
        sources = copy.get_source_expressions()
        arguments = len(copy.source_expressions)
        copy.set_source_expressions(sources[:1] + sources[arguments:])
        return super(FirstArgumentMax, copy).as_sql(compiler, connection, **extra_context)


class SqlCount(Aggregate):
    """COUNT written as a project would: its function name only."""

    function = "COUNT"
    name = "SqlCount"
    output_field = IntegerField()
    allow_distinct = True


def raw_count(*fields):
    template = "%(function)s(%(expressions)s)" if fields else "%(function)s(*)"
    count = Func(*fields, function="COUNT", template=template, output_field=IntegerField())
    count.contains_aggregate = True
    return count


def test_multi_argument_aggregate_means_its_sql(library):  # noqa: F811
    assert agree(lambda u: novels(u).aggregate(m=FirstArgumentMax("pages", "price"))) == {"m": 300}
    grouped = agree(
        lambda u: list(
            novels(u)
            .values("publisher__name")
            .annotate(m=FirstArgumentMax("pages", "price"))
            .order_by("publisher__name")
            .values_list("publisher__name", "m")
        )
    )
    assert grouped == [(None, 50), ("Acme", 300), ("Blue", 200)]


def test_sql_count_with_distinct_and_filter(library):  # noqa: F811
    result = agree(
        lambda u: novels(u).aggregate(
            rows=SqlCount("pages"),
            publishers=SqlCount("publisher", distinct=True),
            long=SqlCount("pages", filter=Q(pages__gt=100)),
        )
    )
    assert result == {"rows": 4, "publishers": 2, "long": 2}
    per_novel = agree(
        lambda u: dict(novels(u).annotate(g=SqlCount("genres")).values_list("title", "g"))
    )
    assert per_novel == {"Alpha": 2, "Beta": 1, "Gamma": 0, "Delta": 3, "Omega": 1}


def test_func_marked_as_aggregate(library):  # noqa: F811
    assert agree(lambda u: novels(u).aggregate(n=raw_count("pages"), rows=raw_count())) == {
        "n": 4,
        "rows": 5,
    }
    assert agree(lambda u: novels(u).none().aggregate(n=raw_count("pages"))) == {"n": 0}
