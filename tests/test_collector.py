"""A whole result is read and built with Python's cyclic collector paused
(``django_nonrel.collector``), and the collector is on again afterwards, whatever
happened; stock backends build with it on, as Django does."""

import gc

import pytest
from django.db import connection
from django.db.models.signals import post_init

from django_nonrel.collector import collector_paused
from django_nonrel.features import nonrel_features
from tests.orm.models import Author

pytestmark = pytest.mark.django_db


@pytest.fixture
def authors():
    return [Author.objects.create(name=name, handle=name.lower()) for name in ("Ann", "Bob", "Cid")]


@pytest.fixture
def collector_states(authors):
    """gc.isenabled() as each Author instance is built (post_init), from now on."""
    seen = []

    def record(sender, instance, **kwargs):
        seen.append(gc.isenabled())

    post_init.connect(record, sender=Author)
    yield seen
    post_init.disconnect(record, sender=Author)


def paused_here() -> bool:
    """Whether this tier's reads pause the collector: the nonrel backends'."""
    return nonrel_features(connection).returns_structured_rows


def test_the_collector_is_on_again_after_the_block_even_when_it_raises():
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collector_paused():
        assert not gc.isenabled()
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_program_stays_off():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_whole_result_is_built_with_the_collector_paused(collector_states):
    names = [author.name for author in Author.objects.all()]
    assert names == ["Ann", "Bob", "Cid"]
    assert collector_states == [not paused_here()] * 3
    assert gc.isenabled()
    # values() and values_list() rows are built the same way, and give the same values.
    assert list(Author.objects.values_list("name", flat=True)) == names
    assert [row["handle"] for row in Author.objects.values("handle")] == ["ann", "bob", "cid"]
    assert gc.isenabled()


def test_a_chunked_read_builds_with_the_collector_on_and_may_stop_early(collector_states):
    for author in Author.objects.iterator(chunk_size=2):
        assert gc.isenabled()
        assert author.name == "Ann"
        break
    assert collector_states and all(collector_states)
    assert gc.isenabled()


def test_a_read_that_fails_while_building_leaves_the_collector_on(authors):
    def refuse(sender, instance, **kwargs):
        raise RuntimeError("refused by a post_init receiver")

    post_init.connect(refuse, sender=Author)
    try:
        with pytest.raises(RuntimeError, match="refused"):
            list(Author.objects.all())
    finally:
        post_init.disconnect(refuse, sender=Author)
    assert gc.isenabled()
    assert Author.objects.count() == 3
