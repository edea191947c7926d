"""Date functions, bilateral transforms and empty date lists: the same querysets on
SQLite (stock Django) and on the backend under test give the same answers, and the
same errors where Django reports the user's mistake."""

import datetime
import zoneinfo
from contextlib import contextmanager

import pytest
from django.db import DataError, OperationalError, connections
from django.db.models import CharField, F, Q
from django.db.models.functions import Extract, Trunc, TruncDay, Upper
from django.test import override_settings
from django.test.utils import register_lookup

from tests.differential.models import Item, Label, Owner
from tests.differential.oracle import ORACLE

# What the MongoDB backend computes in Python, compared with SQLite; on the SQL tiers
# the same querysets would compare two SQL engines, not this project's code.
pytestmark = [
    pytest.mark.django_db(databases=["default", "sqlite"]),
    pytest.mark.usefixtures("on_mongodb"),
]

ALIASES = (ORACLE, "default")
MELBOURNE = zoneinfo.ZoneInfo("Australia/Melbourne")


class UpperBilateral(Upper):
    """Django's own example of a bilateral transform: the value compared goes
    through UPPER() as well."""

    bilateral = True


def _items(alias: str) -> None:
    Item.objects.using(alias).create(
        name="John Smith",
        day=datetime.date(2015, 6, 15),
        moment=datetime.datetime(2015, 6, 15, 23, 30, 1, tzinfo=datetime.UTC),
    )
    Item.objects.using(alias).create(
        name="Rhonda",
        day=datetime.date(2016, 1, 1),
        moment=datetime.datetime(2015, 12, 31, 14, 10, 50, tzinfo=datetime.UTC),
    )


def _on_both(query) -> list:
    """``query(alias)`` on SQLite and on the backend under test, as two lists."""
    results = []
    for alias in ALIASES:
        _items(alias)
        results.append(list(query(alias)))
    return results


def test_bilateral_transform_applies_to_the_compared_value():
    """``name__upper="john smith"`` with a bilateral Upper compares UPPER(name) to
    UPPER('john smith'): the value is transformed too (it was compared as given)."""
    with register_lookup(CharField, UpperBilateral):
        expected, actual = _on_both(
            lambda alias: (
                Item.objects.using(alias)
                .filter(name__upper__exact="john smith")
                .values_list("name", flat=True)
            )
        )
        assert expected == actual == ["John Smith"]
        expected, actual = _on_both(
            lambda alias: (
                Item.objects.using(alias)
                .filter(Q(name__upper__in=["john smith", "rhonda"]), ~Q(name__upper=F("note")))
                .order_by("name")
                .values_list("name", flat=True)
            )
        )
        assert expected == actual


@pytest.mark.parametrize("kind", ["iso_year", "week", "iso_week_day", "week_day", "quarter"])
def test_iso_week_parts_answer_as_on_sqlite(kind):
    """ExtractIsoYear/Week/IsoWeekDay become MongoDB's $isoWeekYear, $isoWeek and
    $isoDayOfWeek, on mongomock:// too (it raised NotImplementedError there); in
    a time zone, over a date field and in a filter."""
    expected, actual = _on_both(
        lambda alias: (
            Item.objects.using(alias)
            .annotate(
                moment_part=Extract("moment", kind),
                local_part=Extract("moment", kind, tzinfo=MELBOURNE),
                day_part=Extract("day", kind),
            )
            .filter(**{f"day__{kind}__gte": 1})
            .order_by("name")
            .values_list("moment_part", "local_part", "day_part")
        )
    )
    assert expected == actual


@override_settings(USE_TZ=True)
def test_trunc_and_extract_in_another_time_zone():
    """The instant is converted to ``tzinfo`` before the part is taken: 23:30 UTC is
    the next day in Melbourne."""
    expected, actual = _on_both(
        lambda alias: (
            Item.objects.using(alias)
            .annotate(
                day_melb=TruncDay("moment", tzinfo=MELBOURNE),
                hour_melb=Extract("moment", "hour", tzinfo=MELBOURNE),
            )
            .order_by("name")
            .values_list("day_melb", "hour_melb")
        )
    )
    assert expected == actual
    assert actual[0][0] == datetime.datetime(2015, 6, 16, tzinfo=MELBOURNE)


@override_settings(USE_TZ=True)
@pytest.mark.parametrize("function", [Extract, Trunc])
@pytest.mark.parametrize("alias", ALIASES)
def test_tzinfo_on_a_date_field_is_djangos_error(alias, function):
    """Django refuses tzinfo= on a DateField when it compiles the query, on every
    backend; the query is not run (it was, and answered DoesNotExist)."""
    with pytest.raises(ValueError, match="tzinfo can only be used with DateTimeField."):
        list(Item.objects.using(alias).annotate(x=function("day", "day", tzinfo=MELBOURNE)))


def test_an_invalid_trunc_kind_is_a_database_error():
    """An unknown kind truncates nothing: SQLite's function raises OperationalError,
    this backend a DataError naming the kinds it knows (never a ValueError from
    inside the layer, never a row)."""
    _items(ORACLE)
    _items("default")
    kind = "year', moment)) OR 1=1;--"
    with pytest.raises(OperationalError):
        Item.objects.using(ORACLE).filter(day=Trunc("moment", kind)).exists()
    with pytest.raises(DataError, match="Invalid kind"):
        Item.objects.filter(day=Trunc("moment", kind)).exists()


def test_dates_over_a_relation_without_rows():
    """dates() through a relation whose rows are all filtered out is an empty list
    (it raised ValueError looking for the date column among stored fields)."""
    for alias in ALIASES:
        owner = Owner.objects.using(alias).create(name="nobody")
        Item.objects.using(alias).create(name="x", owner=owner)
        Label.objects.using(alias).create(name="unused")
    expected, actual = (
        list(Owner.objects.using(alias).dates("items__day", "day")) for alias in ALIASES
    )
    assert expected == actual == []
    expected, actual = (
        list(Label.objects.using(alias).dates("items__day", "day")) for alias in ALIASES
    )
    assert expected == actual == []


@contextmanager
def database_time_zone(alias: str, zone: str):
    """DATABASES[alias]["TIME_ZONE"] = zone while the block runs (as Django's own
    timezones tests switch it)."""
    connection = connections[alias]
    original = connection.settings_dict["TIME_ZONE"]

    def switch(value):
        connection.settings_dict["TIME_ZONE"] = value
        for cached in ("timezone", "timezone_name"):
            connection.__dict__.pop(cached, None)

    switch(zone)
    try:
        yield
    finally:
        switch(original)


@override_settings(USE_TZ=True, TIME_ZONE="UTC")
def test_a_database_time_zone_is_how_datetimes_are_stored():
    """With DATABASES TIME_ZONE the stored datetimes are local times of that zone
    (data other programs wrote so): written there and read without it, the instant
    moves by the zone's offset as on SQLite; lookups on date parts see the stored
    local time (this backend ignored the setting and stored UTC)."""
    moment = datetime.datetime(2011, 9, 1, 20, 20, 30, tzinfo=datetime.UTC)
    results = []
    for alias in ALIASES:
        with database_time_zone(alias, "Asia/Bangkok"):
            Item.objects.using(alias).create(name="x", moment=moment)
            inside = Item.objects.using(alias).get().moment
            days = list(Item.objects.using(alias).filter(moment__day=2).values_list("name"))
        results.append((inside, Item.objects.using(alias).get().moment, days))
    assert results[0] == results[1]
    assert results[1][0] == moment
    assert results[1][1] == moment + datetime.timedelta(hours=7)
