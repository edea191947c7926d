"""A queryset used as a filter value matches what the list of its values matches.

On the MongoDB backend the inner queryset is run first and its values become
the outer filter's value. They come back as Python values (UUID objects,
dates, Decimals, ObjectId strings) while the outer column stores its own form
(hex text, datetimes, Decimal128, ObjectIds): ``pk__in=<queryset>`` over a
UUID key matched nothing. Every shape here runs on the tier and on stock
SQLite, which must agree, for keys and values of each common type.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db.models import F, Q

from tests.differential.models import Item, Owner, Team
from tests.orm.models import Author, Book, Tag, Ticket, Token

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])

ALIASES = ("default", "sqlite")
CODES = [uuid.UUID(int=n * 0x1111_1111_1111_1111) for n in range(1, 4)]


def agree(make):
    """``make(alias)`` on the tier under test, after checking stock SQLite agrees."""
    ours, sqlite = (make(using) for using in ALIASES)
    assert ours == sqlite, f"tier gives {ours!r}, SQLite gives {sqlite!r}"
    return ours


@pytest.fixture
def data():
    for using in ALIASES:
        for n, code in enumerate(CODES, start=1):
            Ticket.objects.using(using).create(id=code, seat=f"s{n}")
            Token.objects.using(using).create(key=f"k{n}", uses=n)
            Tag.objects.using(using).create(id=f"{n:024x}", name=f"t{n}")
            team = Team.objects.using(using).create(id=n, name=f"team {n}")
            owner = Owner.objects.using(using).create(id=n, name=f"owner {n}", team=team)
            Item.objects.using(using).create(
                id=n,
                name=f"item {n}",
                number=n,
                big=2,
                price=Decimal(f"{n}.25"),
                day=datetime.date(2020, 1, n),
                moment=datetime.datetime(2020, 1, n, 12, tzinfo=datetime.UTC),
                code=code,
                owner=owner,
            )
            author = Author.objects.using(using).create(
                id=n, name=f"author {n}", born=datetime.date(1990, 1, n)
            )
            Book.objects.using(using).create(id=n, title=f"book {n}", author=author)


@pytest.mark.parametrize(
    ("model", "inner"),
    [
        (Ticket, Q(seat__in=["s1", "s3"])),  # UUIDField key
        (Token, Q(uses__gte=2)),  # CharField key
        (Tag, Q(name="t2")),  # ObjectIdAutoField key
        (Item, Q(number__lte=2)),  # integer key
    ],
    ids=["uuid", "char", "objectid", "int"],
)
def test_pk_in_a_queryset_matches_its_rows(data, model, inner):
    def run(using):
        manager = model.objects.using(using)
        inner_qs = manager.filter(inner)
        as_list = list(inner_qs.values_list("pk", flat=True))
        found = sorted(manager.filter(pk__in=inner_qs).values_list("pk", flat=True))
        assert found == sorted(as_list) and found
        rest = manager.exclude(pk__in=inner_qs.values("pk"))
        excluded = sorted(rest.values_list("pk", flat=True))
        return [str(pk) for pk in found], [str(pk) for pk in excluded]

    agree(run)


def test_pk_exact_a_sliced_queryset(data):
    def run(using):
        tickets = Ticket.objects.using(using)
        first = tickets.filter(seat="s2").values("pk")[:1]
        return list(tickets.filter(pk=first).values_list("seat", flat=True))

    assert agree(run) == ["s2"]


@pytest.mark.parametrize(
    "field", ["code", "day", "moment", "price", "owner_id", "name"], ids=lambda f: f
)
def test_a_values_subquery_of_each_type(data, field):
    def run(using):
        items = Item.objects.using(using)
        inner = items.filter(number__in=[1, 3]).values(field)
        return sorted(items.filter(**{f"{field}__in": inner}).values_list("pk", flat=True))

    assert agree(run) == [1, 3]


def test_foreign_keys_and_reverse_relations_in_a_queryset(data):
    def run(using):
        items = Item.objects.using(using)
        owners = Owner.objects.using(using).filter(team__name="team 2")
        by_owner = list(items.filter(owner__in=owners).values_list("pk", flat=True))
        books = Book.objects.using(using).filter(title="book 3")
        authors = list(
            Author.objects.using(using).filter(books__in=books).values_list("pk", flat=True)
        )
        by_date = list(
            Book.objects.using(using)
            .filter(author__born__in=Author.objects.using(using).filter(pk=1).values("born"))
            .values_list("pk", flat=True)
        )
        return by_owner, authors, by_date

    assert agree(run) == ([2], [3], [1])


def test_a_queryset_inside_a_filter_evaluated_in_python(data):
    """Beside an F() comparison the filter is evaluated on the rows read."""

    def run(using):
        items = Item.objects.using(using)
        inner = items.filter(number=3).values("code")
        return sorted(
            items.filter(Q(number__lt=F("big")) | Q(code__in=inner)).values_list("pk", flat=True)
        )

    assert agree(run) == [1, 3]


def test_an_update_and_a_delete_filtered_by_a_uuid_queryset(data):
    def run(using):
        tickets = Ticket.objects.using(using)
        chosen = tickets.filter(seat__in=["s1", "s2"])
        updated = tickets.filter(pk__in=chosen).update(seat=F("seat"))
        deleted, _ = tickets.filter(pk__in=tickets.filter(seat="s3")).delete()
        return updated, deleted, sorted(tickets.values_list("seat", flat=True))

    assert agree(run) == (2, 1, ["s1", "s2"])
