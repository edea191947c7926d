"""Relations without JOINs: filters, excludes, values() and ordering across relations.

The same assertions hold on stock SQLite (the oracle) and on the MongoDB
backend, where each relation hop is one batched key lookup.
"""

import pytest
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q

from tests.commands import CommandCapture
from tests.relations.models import Country, Label, Novel, Publisher, Writer

pytestmark = pytest.mark.django_db

ON_MONGODB = connection.vendor == "mongodb"


@pytest.fixture
def library():
    fr, uk = Country.objects.create(name="France"), Country.objects.create(name="UK")
    gallimard = Publisher.objects.create(name="Gallimard", country=fr)
    penguin = Publisher.objects.create(name="Penguin", country=uk)
    camus = Writer.objects.create(name="Camus", publisher=gallimard)
    sartre = Writer.objects.create(name="Sartre", publisher=gallimard, mentor=camus)
    woolf = Writer.objects.create(name="Woolf", publisher=penguin)
    classic, short, modern = (Label.objects.create(name=n) for n in ("classic", "short", "modern"))
    stranger = Novel.objects.create(title="The Stranger", pages=120, writer=camus)
    plague = Novel.objects.create(title="The Plague", pages=300, writer=camus)
    nausea = Novel.objects.create(title="Nausea", pages=250, writer=sartre)
    waves = Novel.objects.create(title="The Waves", pages=120, writer=woolf)
    stranger.labels.set([classic, short])
    plague.labels.set([classic])
    waves.labels.set([modern, short])
    return locals()


def titles(queryset):
    return sorted(queryset.values_list("title", flat=True))


def names(queryset):
    return sorted(queryset.values_list("name", flat=True))


def test_forward_fk_chain_filters(library):
    assert titles(Novel.objects.filter(writer__name="Camus")) == ["The Plague", "The Stranger"]
    assert titles(Novel.objects.filter(writer__publisher__country__name="UK")) == ["The Waves"]
    long_gallimard = Novel.objects.filter(writer__publisher__name__startswith="Gal", pages__gt=200)
    assert titles(long_gallimard) == ["Nausea", "The Plague"]


def test_forward_chain_costs_one_command_per_hop(library):
    with CommandCapture(connection) as ctx:
        list(Novel.objects.filter(writer__publisher__country__name="UK"))
    if ON_MONGODB:
        assert len(ctx.captured_queries) == 4  # country, publisher, writer keys, then novels
    else:
        assert len(ctx.captured_queries) == 1


def test_m2m_and_reverse_filters(library):
    assert titles(Novel.objects.filter(labels__name="short")) == ["The Stranger", "The Waves"]
    assert names(Label.objects.filter(novels__writer__name="Woolf")) == ["modern", "short"]
    assert names(Writer.objects.filter(novels__pages__gt=200).distinct()) == ["Camus", "Sartre"]
    assert names(Writer.objects.filter(novels__labels__name="modern")) == ["Woolf"]


def test_isnull_across_relations(library):
    assert names(Writer.objects.filter(mentor__isnull=True)) == ["Camus", "Woolf"]
    assert names(Writer.objects.filter(mentor__name__isnull=True)) == ["Camus", "Woolf"]
    assert names(Writer.objects.filter(pupils__isnull=False).distinct()) == ["Camus"]
    assert names(Writer.objects.filter(pupils__isnull=True)) == ["Sartre", "Woolf"]
    assert names(Label.objects.filter(novels__isnull=True)) == []


def test_or_not_and_nested_q_across_relations(library):
    query = Q(writer__name="Woolf") | Q(pages__gt=250)
    assert titles(Novel.objects.filter(query)) == ["The Plague", "The Waves"]
    query = Q(writer__name="Camus") & ~Q(labels__name="short")
    assert titles(Novel.objects.filter(query)) == ["The Plague"]
    query = Q(Q(writer__publisher__name="Penguin") | Q(title="Nausea")) & ~Q(pages=120)
    assert titles(Novel.objects.filter(query)) == ["Nausea"]


def test_exclude_over_relations(library):
    assert titles(Novel.objects.exclude(writer__name="Camus")) == ["Nausea", "The Waves"]
    # Multi-valued: exclude novels having ANY label "short".
    assert titles(Novel.objects.exclude(labels__name="short")) == ["Nausea", "The Plague"]
    assert names(Writer.objects.exclude(novels__pages=120)) == ["Sartre"]
    # Nullable FK: writers without a mentor are not "mentored by Camus".
    assert names(Writer.objects.exclude(mentor__name="Camus")) == ["Camus", "Woolf"]


def test_single_filter_call_means_the_same_related_row(library):
    # One filter() call: one label must satisfy both conditions.
    same = Novel.objects.filter(labels__name="short", labels__novels__title="The Plague")
    assert titles(same) == []
    chained_labels = Novel.objects.filter(labels__name="short").filter(
        labels__novels__title="The Plague"
    )
    assert titles(chained_labels) == ["The Stranger"]
    same_row = Writer.objects.filter(novels__pages=120, novels__title="The Plague")
    assert names(same_row) == []
    # Chained filter() calls: each may be satisfied by a different novel.
    chained = Writer.objects.filter(novels__pages=120).filter(novels__title="The Plague")
    assert names(chained) == ["Camus"]


def test_the_same_related_row_across_or_branches_with_distinct(library):
    """An AND of ORs over one multi-valued relation in one filter() call: one
    novel must satisfy every branch, with distinct() as without (the admin's
    search terms). Camus wrote a short novel and a 300-page one, not one both."""
    both = Writer.objects.filter(
        Q(name="nobody") | Q(novels__pages=120), Q(name="none") | Q(novels__title="The Plague")
    )
    assert names(both) == []
    assert names(both.distinct()) == []
    assert list(both.distinct()) == []
    # The admin's form of it: Exists() of the search, correlated by key.
    assert names(Writer.objects.filter(Exists(both.filter(pk=OuterRef("pk"))))) == []
    either = Writer.objects.filter(Q(name="Sartre") | Q(novels__pages=120)).distinct()
    assert [writer.name for writer in either.order_by("name")] == ["Camus", "Sartre", "Woolf"]
    assert either.count() == 3
    found = Writer.objects.filter(Exists(either.filter(pk=OuterRef("pk"))))
    assert names(found) == ["Camus", "Sartre", "Woolf"]


def test_in_subquery_and_exists(library):
    uk_writers = Writer.objects.filter(publisher__country__name="UK")
    assert titles(Novel.objects.filter(writer__in=uk_writers)) == ["The Waves"]
    assert titles(Novel.objects.filter(writer__pk__in=uk_writers.values("pk"))) == ["The Waves"]
    long_novels = Novel.objects.filter(writer=OuterRef("pk"), pages__gte=250)
    assert names(Writer.objects.filter(Exists(long_novels))) == ["Camus", "Sartre"]
    assert names(Writer.objects.filter(~Exists(long_novels))) == ["Woolf"]


def test_values_across_relations(library):
    rows = Novel.objects.filter(pages=120).values(
        "title", "writer__name", "writer__publisher__name"
    )
    assert sorted(rows, key=lambda r: r["title"]) == [
        {"title": "The Stranger", "writer__name": "Camus", "writer__publisher__name": "Gallimard"},
        {"title": "The Waves", "writer__name": "Woolf", "writer__publisher__name": "Penguin"},
    ]
    mentors = sorted(Writer.objects.values_list("name", "mentor__name"))
    assert mentors == [("Camus", None), ("Sartre", "Camus"), ("Woolf", None)]


def test_values_across_multi_valued_relations_gives_a_row_per_related_row(library):
    rows = sorted(Writer.objects.values_list("name", "novels__title"), key=lambda r: r)
    assert rows == [
        ("Camus", "The Plague"),
        ("Camus", "The Stranger"),
        ("Sartre", "Nausea"),
        ("Woolf", "The Waves"),
    ]
    shared = Writer.objects.filter(novels__pages=120).values_list("name", "novels__title")
    assert sorted(shared) == [("Camus", "The Stranger"), ("Woolf", "The Waves")]
    assert sorted(Label.objects.filter(name="short").values_list("novels__title", flat=True)) == [
        "The Stranger",
        "The Waves",
    ]


def test_order_by_related_fields_with_slicing(library):
    ordered = Novel.objects.order_by("writer__name", "-pages").values_list("title", flat=True)
    assert list(ordered) == ["The Plague", "The Stranger", "Nausea", "The Waves"]
    assert list(ordered[1:3]) == ["The Stranger", "Nausea"]
    by_country = Novel.objects.order_by("-writer__publisher__country__name", "title")
    assert list(by_country.values_list("title", flat=True)[:2]) == ["The Waves", "Nausea"]


def test_order_by_an_unknown_related_field_names_the_choices_as_django_does(library):
    # Users read the choices to fix a typo: foreign keys are offered by name and attname.
    from django.core.exceptions import FieldError

    with pytest.raises(FieldError, match="Choices are: .*mentor, mentor_id, name") as raised:
        list(Novel.objects.order_by("writer__nickname"))
    assert "'nickname'" in str(raised.value)
    assert "publisher, publisher_id" in str(raised.value)


def test_a_queryset_of_another_database_is_refused_as_in_django(library):
    # Run where it belongs, the inner queryset would match keys of unrelated rows.
    inner = Writer.objects.using("sqlite").values("pk")
    with pytest.raises(ValueError, match="Subqueries aren't allowed across different databases"):
        list(Novel.objects.filter(writer__in=inner))


def test_update_and_delete_filtered_across_relations(library):
    assert Novel.objects.filter(writer__publisher__name="Gallimard").update(pages=1) == 3
    assert sorted(Novel.objects.values_list("pages", flat=True)) == [1, 1, 1, 120]
    Novel.objects.filter(labels__name="modern").delete()
    assert titles(Novel.objects.all()) == ["Nausea", "The Plague", "The Stranger"]


def test_column_comparisons_across_relations(library):
    assert titles(Novel.objects.filter(title=F("writer__name"))) == []
    assert names(Writer.objects.filter(mentor__name__lt=F("name"))) == ["Sartre"]
    assert titles(Novel.objects.filter(pages__lt=F("writer__novels__pages"))) == ["The Stranger"]


def test_aggregates_over_related_fields_never_read_the_wrong_column(library):
    from django.db.models import Sum

    assert Writer.objects.aggregate(total=Sum("novels__pages")) == {"total": 790}
    total = Novel.objects.filter(writer__publisher__name="Gallimard").aggregate(t=Sum("pages"))
    assert total == {"t": 670}


def test_reverse_relation_compared_to_instances_and_keys(library):
    stranger = Novel.objects.get(title="The Stranger")
    assert names(Writer.objects.filter(novels=stranger)) == ["Camus"]
    assert names(Writer.objects.filter(novels=stranger.pk)) == ["Camus"]
    assert names(Writer.objects.filter(novels__in=[stranger.pk]).distinct()) == ["Camus"]


def test_filters_across_multi_valued_relations_repeat_rows_like_a_join(library):
    # Django's JOIN semantics: a novel with two matching labels comes twice.
    two_labels = Novel.objects.filter(labels__name__in=["classic", "short"])
    assert titles(two_labels) == ["The Plague", "The Stranger", "The Stranger", "The Waves"]
    assert two_labels.count() == 4
    assert titles(two_labels.distinct()) == ["The Plague", "The Stranger", "The Waves"]
    assert two_labels.distinct().count() == 3
    assert names(Writer.objects.filter(novels__pages__lt=1000)) == [
        "Camus",
        "Camus",
        "Sartre",
        "Woolf",
    ]
    ordered = Writer.objects.filter(novels__pages__lt=1000).order_by("-name")
    assert list(ordered.values_list("name", flat=True)[1:3]) == ["Sartre", "Camus"]


def test_order_by_a_relation_uses_the_related_models_whole_ordering():
    from tests.relations.models import Place, Restaurant

    Restaurant.objects.create(name="B", city="Rome")
    Restaurant.objects.create(name="A", city="Rome")
    Restaurant.objects.create(name="A", city="Nice")
    # order_by("place_ptr") sorts by Place.Meta.ordering (["name"]), then by city.
    ordered = Restaurant.objects.order_by("place_ptr", "city")
    assert list(ordered.values_list("name", "city")) == [
        ("A", "Nice"),
        ("A", "Rome"),
        ("B", "Rome"),
    ]
    assert Place.objects.count() == 3


def test_in_an_outer_reference_is_a_list_of_its_one_value(library):
    # field__in=OuterRef("pk") is SQL's IN (outer.pk), inside nested subqueries too.
    labelled = Novel.objects.filter(labels__in=OuterRef("pk"), writer=OuterRef(OuterRef("pk")))
    used_by = Label.objects.filter(Exists(labelled))
    assert names(Writer.objects.filter(Exists(used_by))) == ["Camus", "Woolf"]
    assert names(Label.objects.filter(Exists(Novel.objects.filter(labels__in=OuterRef("pk"))))) == [
        "classic",
        "modern",
        "short",
    ]
