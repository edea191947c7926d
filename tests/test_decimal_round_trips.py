"""DecimalField values with more decimal places than a double holds digits, on every tier.

MongoDB stores a DecimalField as a double unless ``OPTIONS["DECIMAL128"]`` is
set (as Django's SQLite backend stores REAL). A double keeps 15 significant
decimal digits; read back with 17 decimal places, ``0.1`` must still be
``0.1`` -- not ``0.10000000000000001``, the digits of its binary approximation.
Stock SQLite gives the same answers over the same rows.
"""

from decimal import Decimal

import pytest
from django.db.models import F

from tests.orm.models import Gauge

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])

ALIASES = ("default", "sqlite")
VALUES = ["0.1", "0.5", "1.23456789012345", "-2.7"]


def test_values_read_back_as_given():
    for using in ALIASES:
        Gauge.objects.using(using).bulk_create([Gauge(reading=Decimal(v)) for v in VALUES])
        read = sorted(Gauge.objects.using(using).values_list("reading", flat=True))
        assert read == sorted(Decimal(v) for v in VALUES), using
        assert [str(v) for v in read] == [
            str(Decimal(v).quantize(Decimal(1).scaleb(-17))) for v in sorted(VALUES, key=Decimal)
        ], using


def test_saved_arithmetic_reads_back_as_the_decimal_result():
    for using in ALIASES:
        gauge = Gauge.objects.using(using).create(reading=Decimal("0.5"))
        gauge.reading = F("reading") - Decimal("0.4")
        gauge.save(update_fields=["reading"])
        gauge.refresh_from_db()
        assert gauge.reading == Decimal("0.1"), using
