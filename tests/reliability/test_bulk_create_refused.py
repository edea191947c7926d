"""bulk_create() that hits a duplicate says exactly what it wrote.

SQL backends run bulk_create() in a transaction (Django 6.1: a batch is one
INSERT): a refused row leaves nothing of its batch written and no instance with
a key. A document store outside a transaction keeps the rows before the refused
one (an ordered insert stops there); their instances get their keys, as on
backends that return keys, and the error names how many rows were written and
which. Either way: an instance has a key exactly
when its row is stored.
"""

from __future__ import annotations

import django
import pytest
from django.db import IntegrityError, connection

from django_nonrel.exceptions import PartialInsertError
from tests.orm.models import Author

pytestmark = pytest.mark.django_db(transaction=True)


#: Whether Django runs every bulk_create() in a transaction: 5.2 does; 6.1 only one of
#: several batches or of a mix of objects with and without keys (QuerySet.bulk_create).
ALWAYS_IN_TRANSACTION = django.VERSION < (6, 1)


def keeps_rows(batches: int = 1) -> bool:
    """Whether rows before a refused one stay written: on a document store (its ordered
    insert stops at the refused row, where a SQL INSERT is all or nothing) when no
    transaction undoes them."""
    wrapped = ALWAYS_IN_TRANSACTION or batches > 1
    return connection.vendor == "mongodb" and not (
        wrapped and connection.features.supports_transactions
    )


def stored_names() -> set[str]:
    return set(Author.objects.values_list("name", flat=True))


def assert_keys_match_rows(objs: list[Author]) -> None:
    """Every instance with a key is the stored row with that key, and only those."""
    stored = dict(Author.objects.values_list("name", "pk"))
    for obj in objs:
        assert (obj.pk is not None) == (obj.name in stored and obj.name != "taken"), obj.name
        if obj.pk is not None:
            assert stored[obj.name] == obj.pk


def test_a_duplicate_in_the_middle():
    Author.objects.create(name="taken")
    objs = [Author(name="c1"), Author(name="c2"), Author(name="taken"), Author(name="c4")]
    with pytest.raises(IntegrityError) as raised:
        Author.objects.bulk_create(objs)
    assert_keys_match_rows(objs)
    if keeps_rows():
        assert isinstance(raised.value, PartialInsertError) and raised.value.written == 2
        message = str(raised.value)
        assert "2 of the 4 rows of this batch were written" in message
        assert f"keys {objs[0].pk!r}, {objs[1].pk!r}" in message
        assert "before row 3 was refused" in message
        assert stored_names() == {"taken", "c1", "c2"}
        assert [obj.pk is not None for obj in objs] == [True, True, False, False]
    else:
        assert stored_names() == {"taken"}


def test_earlier_batches_keep_their_keys():
    Author.objects.create(name="taken")
    objs = [Author(name=n) for n in ("a", "b", "c", "taken", "d")]
    with pytest.raises(IntegrityError):
        Author.objects.bulk_create(objs, batch_size=2)
    assert_keys_match_rows(objs)
    if keeps_rows(batches=3):
        assert stored_names() == {"taken", "a", "b", "c"}


def test_a_duplicate_first_writes_nothing():
    Author.objects.create(name="taken")
    objs = [Author(name="taken"), Author(name="x")]
    with pytest.raises(IntegrityError) as raised:
        Author.objects.bulk_create(objs)
    assert_keys_match_rows(objs)
    assert stored_names() == {"taken"}
    if keeps_rows():
        assert "0 of the 2 rows of this batch were written before row 1" in str(raised.value)
