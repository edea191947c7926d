"""Every built-in lookup and Q trees of any shape: hits and misses, on every tier.

Case-sensitive pattern lookups use values whose case cannot matter, because
SQLite's LIKE ignores ASCII case (a documented SQLite difference).
"""

import datetime

import pytest
from django.db.models import Q

from tests.orm.models import Author, Book

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    Author.objects.create(
        name="Alice", age=25, email="alice@Example.com", born=datetime.date(1999, 12, 31)
    )
    Author.objects.create(
        name="albert", age=35, email="al@test.org", born=datetime.date(1989, 6, 1)
    )
    Author.objects.create(name="Bob", age=45, email="")
    Author.objects.create(name="Zoë", age=None, email="zoe@example.com")


def names(queryset):
    return sorted(a.name for a in queryset)


@pytest.mark.parametrize(
    ("lookup", "value", "expected"),
    [
        ("name__exact", "Bob", ["Bob"]),
        ("name__iexact", "ALICE", ["Alice"]),
        ("name__contains", "l", ["Alice", "albert"]),
        ("name__icontains", "AL", ["Alice", "albert"]),
        ("name__startswith", "Ali", ["Alice"]),
        ("name__istartswith", "a", ["Alice", "albert"]),
        ("name__endswith", "rt", ["albert"]),
        ("name__iendswith", "ICE", ["Alice"]),
        ("name__regex", r"^[AB]", ["Alice", "Bob"]),
        ("name__iregex", r"^a", ["Alice", "albert"]),
        ("name__in", ["Bob", "Zoë", "nobody"], ["Bob", "Zoë"]),
        ("age__gt", 35, ["Bob"]),
        ("age__gte", 35, ["Bob", "albert"]),
        ("age__lt", 35, ["Alice"]),
        ("age__lte", 35, ["Alice", "albert"]),
        ("age__range", (30, 50), ["Bob", "albert"]),
        ("age__isnull", True, ["Zoë"]),
        ("age__isnull", False, ["Alice", "Bob", "albert"]),
        ("email__icontains", "example.COM", ["Alice", "Zoë"]),
        ("born__year", 1999, ["Alice"]),
        ("born__range", (datetime.date(1989, 1, 1), datetime.date(1990, 1, 1)), ["albert"]),
        ("name__contains", ".*", []),
        ("name__startswith", "(", []),
        # Pattern lookups on numbers match their text, as SQL's LIKE on the column.
        ("age__contains", 5, ["Alice", "Bob", "albert"]),
        ("age__iexact", "45", ["Bob"]),
        ("age__startswith", "3", ["albert"]),
        ("age__iendswith", "5", ["Alice", "Bob", "albert"]),
        ("age__regex", r"^[24]5$", ["Alice", "Bob"]),
    ],
)
def test_lookup(people, lookup, value, expected):
    assert names(Author.objects.filter(**{lookup: value})) == expected


def test_q_trees_nest_and_negate(people):
    assert names(Author.objects.filter(Q(age__lt=30) | Q(age__gt=40))) == ["Alice", "Bob"]
    assert names(Author.objects.filter(~Q(name__startswith="B"))) == ["Alice", "Zoë", "albert"]
    tree = (Q(age__gte=25) & ~(Q(name="Bob") | Q(email=""))) | Q(age__isnull=True)
    assert names(Author.objects.filter(tree)) == ["Alice", "Zoë", "albert"]
    assert names(Author.objects.exclude(Q(age__gt=30) & Q(age__lt=40))) == ["Alice", "Bob", "Zoë"]
    deep = ~(~Q(name="Bob") & ~(Q(name="Alice") | ~Q(age__gt=0)))
    assert names(Author.objects.filter(deep)) == ["Alice", "Bob", "Zoë"]


def test_exclude_includes_nulls_like_sql(people):
    assert names(Author.objects.exclude(age__gt=30)) == ["Alice", "Zoë"]


def test_chained_filters_and_empty_in(people):
    assert names(Author.objects.filter(age__gt=20).filter(name__icontains="b")) == ["Bob", "albert"]
    assert list(Author.objects.filter(name__in=[])) == []
    assert names(Author.objects.filter(Q(name__in=[]) | Q(name="Bob"))) == ["Bob"]


def test_date_of_a_datetime_is_the_day_in_the_current_time_zone(settings):
    # Django's own semantics on every backend; on MongoDB a range of instants, which
    # every server runs (FerretDB has no $expr date operators) and an index can serve.
    from django.utils import timezone

    from tests.orm.models import Book

    settings.TIME_ZONE = "America/Vancouver"
    author = Author.objects.create(name="Ann")
    zone = timezone.get_fixed_timezone(-7 * 60)  # Vancouver in March 2014 (PDT)
    morning = Book.objects.create(
        title="morning", author=author, published=datetime.datetime(2014, 3, 12, 10, tzinfo=zone)
    )
    evening = Book.objects.create(  # already 13 March in UTC
        title="evening", author=author, published=datetime.datetime(2014, 3, 12, 21, tzinfo=zone)
    )
    Book.objects.create(title="undated", author=author, published=None)
    day = datetime.date(2014, 3, 12)
    with timezone.override("America/Vancouver"):
        assert set(Book.objects.filter(published__date=day)) == {morning, evening}
        assert list(Book.objects.filter(published__date__gt=day)) == []
        assert set(Book.objects.filter(published__date__lte=day)) == {morning, evening}
        assert set(Book.objects.filter(published__date__in=[day, None])) == {morning, evening}
        span = (day, day + datetime.timedelta(days=1))
        assert Book.objects.filter(published__date__range=span).count() == 2
        assert list(Book.objects.exclude(published__date=day)) == list(
            Book.objects.filter(title="undated")
        )
    with timezone.override("UTC"):
        assert list(Book.objects.filter(published__date=day)) == [morning]
        assert list(Book.objects.filter(published__date__gt=day)) == [evening]


def test_hour_minute_second_of_a_time():
    from tests.orm.models import Alarm

    Alarm.objects.create(desc="early", time=datetime.time(5, 30))
    Alarm.objects.create(desc="late", time=datetime.time(10, 0))
    Alarm.objects.create(desc="precise", time=datetime.time(12, 34, 56, 789000))
    Alarm.objects.create(desc="unset", time=None)

    def descs(**lookup):
        return sorted(alarm.desc for alarm in Alarm.objects.filter(**lookup))

    assert descs(time__hour=5) == ["early"]
    assert descs(time__minute=30) == ["early"]
    assert descs(time__second=56) == ["precise"]
    assert descs(time__minute=0) == ["late"]
    assert descs(time__hour__in=[10, 12]) == ["late", "precise"]
    assert descs(time__hour__gt=5) == ["late", "precise"]
    assert descs(time__hour__gte=10) == ["late", "precise"]
    assert descs(time__hour__lt=10) == ["early"]
    assert descs(time__hour__lte=10) == ["early", "late"]
    assert descs(time__second=99) == []
    # exclude() keeps the row without a time, as Django's SQL does.
    assert sorted(a.desc for a in Alarm.objects.exclude(time__hour=5)) == [
        "late",
        "precise",
        "unset",
    ]


def test_a_pattern_on_a_related_key_matches_its_text(people):
    """The admin's search on ``group__pk``: ``icontains`` on an integer key."""
    bob = Author.objects.get(name="Bob")
    Book.objects.create(title="B", author=bob)
    found = Book.objects.filter(author__pk__icontains=str(bob.pk)).values_list("title", flat=True)
    assert list(found) == ["B"]
    assert not Book.objects.filter(author__pk__icontains=str(bob.pk + 100)).exists()


def test_a_repeated_ordering_key_keeps_its_first_direction(people):
    """SQL sorts by the first occurrence; a later one on the same column is moot
    (the admin appends "-pk" to an ordering that already holds "pk")."""
    ascending = list(Author.objects.order_by("active", "pk").values_list("pk", flat=True))
    assert ascending == sorted(ascending)
    repeated = Author.objects.order_by("active", "pk", "-pk").values_list("pk", flat=True)
    assert list(repeated) == ascending
    assert list(Author.objects.order_by("-id", "pk").values_list("pk", flat=True)) == sorted(
        ascending, reverse=True
    )
