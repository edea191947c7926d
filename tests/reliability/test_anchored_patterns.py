"""Anchored pattern lookups match at the true start and end of the text, on every tier.

MongoDB runs ``iexact``, ``startswith``, ``endswith`` and their case-insensitive
forms as regular expressions. ``$`` also matches before a final newline in
PCRE (MongoDB) and Python's ``re`` (mongomock), so ``name__iexact="ADMIN"``
returned ``"admin\\n"``; SQL's ``LIKE`` never does. Each lookup is checked on a
column, a document key and an embedded model's field against the answers SQL
gives.
"""

from __future__ import annotations

import pytest

from tests.differential.models import Item, Spot

pytestmark = pytest.mark.django_db

TEXTS = ["admin", "admin\n", "xadmin", "ad\nmin", "x\nadmin", "ADMIN\r\n", "admin\n\n"]

#: lookup, value -> the texts SQL's LIKE matches.
EXPECTED = {
    ("exact", "admin"): {"admin"},
    ("iexact", "ADMIN"): {"admin"},
    ("endswith", "min"): {"admin", "xadmin", "ad\nmin", "x\nadmin"},
    ("iendswith", "MIN"): {"admin", "xadmin", "ad\nmin", "x\nadmin"},
    ("endswith", "min\n"): {"admin\n"},
    # (SQLite's LIKE ignores ASCII case, so case-sensitive values avoid "ADMIN".)
    ("startswith", "admin\n"): {"admin\n", "admin\n\n"},
    ("istartswith", "ADMIN"): {"admin", "admin\n", "ADMIN\r\n", "admin\n\n"},
    ("startswith", "ad\n"): {"ad\nmin"},
    ("contains", "min\n"): {"admin\n", "admin\n\n"},
}

PATHS = {"column": "name", "document key": "meta__s", "embedded field": "place__city"}


@pytest.fixture
def texts():
    for text in TEXTS:
        Item.objects.create(name=text, tags=[], meta={"s": text}, place=Spot(city=text))


@pytest.mark.parametrize("where", list(PATHS))
@pytest.mark.parametrize(
    ("lookup", "value"), list(EXPECTED), ids=[f"{k}={v!r}" for k, v in EXPECTED]
)
def test_anchored_lookups_do_not_match_across_a_trailing_newline(texts, where, lookup, value):
    path = PATHS[where]
    found = Item.objects.filter(**{f"{path}__{lookup}": value}).values_list("name", flat=True)
    assert set(found) == EXPECTED[lookup, value]


@pytest.mark.parametrize("where", list(PATHS))
def test_anchored_lookups_under_negation(texts, where):
    path = PATHS[where]
    found = Item.objects.exclude(**{f"{path}__iexact": "admin"}).values_list("name", flat=True)
    assert set(found) == set(TEXTS) - {"admin"}
