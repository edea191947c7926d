"""Everyday ORM work a Django user relies on, on every tier."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Avg, Count, F, Max, Min, Sum
from django.test.utils import CaptureQueriesContext

from tests.orm.models import Author, Book, Counter, ProxyAuthor, Review, Tag, Ticket, Token

pytestmark = pytest.mark.django_db


@pytest.fixture
def authors():
    return [
        Author.objects.create(
            name="Ann", age=30, born=datetime.date(1990, 5, 17), rating=Decimal("4.50")
        ),
        Author.objects.create(
            name="Bob", age=40, born=datetime.date(1980, 1, 2), rating=Decimal("3.25"), active=False
        ),
        Author.objects.create(name="Cid", age=None, email="cid@example.com"),
    ]


def test_create_get_round_trips_values(authors):
    ann = Author.objects.get(name="Ann")
    assert ann.pk == authors[0].pk
    assert ann.born == datetime.date(1990, 5, 17)
    assert ann.rating == Decimal("4.50")
    assert ann.active is True
    assert Author.objects.get(pk=authors[2].pk).age is None


def test_integer_keys_are_distinct_and_increasing(authors):
    pks = [a.pk for a in authors]
    assert all(isinstance(pk, int) for pk in pks)
    assert pks == sorted(pks) and len(set(pks)) == 3


def test_filter_exclude_count_exists(authors):
    assert Author.objects.filter(active=True).count() == 2
    assert list(Author.objects.exclude(name="Ann").values_list("name", flat=True)) == ["Bob", "Cid"]
    assert Author.objects.filter(age__gt=35).exists()
    assert not Author.objects.filter(age__gt=99).exists()
    assert Author.objects.filter(pk__in=[]).count() == 0


def test_count_with_limit_is_an_upper_bound(authors):
    assert Author.objects.count(limit=2) == 2
    assert Author.objects.count(limit=10) == 3
    assert Author.objects.filter(active=True).count(limit=1) == 1
    with pytest.raises(ValueError, match="non-negative integer"):
        Author.objects.count(limit=-1)


def test_ordering_slicing_and_defaults(authors):
    assert [a.name for a in Author.objects.all()] == ["Ann", "Bob", "Cid"]
    assert [a.name for a in Author.objects.order_by("-name")[:2]] == ["Cid", "Bob"]
    assert [a.name for a in Author.objects.order_by("active", "-age")] == ["Bob", "Ann", "Cid"]
    assert Author.objects.order_by("name")[1].name == "Bob"
    assert [a.name for a in Author.objects.order_by("name")[1:]] == ["Bob", "Cid"]
    assert Author.objects.order_by("-born").first().name in ("Ann", "Cid")
    assert Author.objects.latest("age").name == "Bob"


def test_values_and_values_list(authors):
    assert list(Author.objects.filter(name="Bob").values("name", "age")) == [
        {"name": "Bob", "age": 40}
    ]
    rows = list(Author.objects.values_list("name", "active").order_by("name"))
    assert rows == [("Ann", True), ("Bob", False), ("Cid", True)]
    named = Author.objects.values_list("name", named=True).get(name="Cid")
    assert named.name == "Cid"


def test_deferred_fields_load_on_access(authors):
    ann = Author.objects.only("name").get(name="Ann")
    assert ann.get_deferred_fields() >= {"age", "email"}
    assert ann.age == 30
    bob = Author.objects.defer("email").get(name="Bob")
    assert "email" in bob.get_deferred_fields() and bob.age == 40


def test_update_with_literals_and_f_expressions(authors):
    assert Author.objects.filter(active=True).update(email="x@example.com") == 2
    assert Author.objects.filter(name="Bob").update(age=F("age") + 5) == 1
    Author.objects.filter(name="Ann").update(age=F("age") * 2)
    assert Author.objects.get(name="Bob").age == 45
    assert Author.objects.get(name="Ann").age == 60
    assert Author.objects.filter(email="x@example.com").count() == 2


def test_update_refuses_what_django_refuses_and_writes_nothing(authors):
    # Django's SQL update compiler refuses these; a backend without SQL must too.
    from django.core.exceptions import FieldError
    from django.db.models import Window

    refusals = [
        (FieldError, "Aggregate functions are not allowed", {"age": Max("age")}),
        (FieldError, "Window expressions are not allowed", {"age": Window(Max("age"))}),
        (TypeError, "Tried to update field orm.Author.name with a model", {"name": authors[1]}),
    ]
    for error, message, values in refusals:
        with pytest.raises(error, match=message), transaction.atomic():
            Author.objects.update(**values)
    assert sorted(Author.objects.values_list("age", flat=True), key=str) == [30, 40, None]
    assert Author.objects.filter(name="Ann").exists()


def test_save_changes_and_update_fields(authors):
    ann = authors[0]
    ann.age, ann.email = 31, "ann@example.com"
    ann.save(update_fields=["age"])
    fresh = Author.objects.get(pk=ann.pk)
    assert (fresh.age, fresh.email) == (31, "")


def test_delete_and_cascade(authors):
    ann = authors[0]
    Book.objects.bulk_create([Book(title=f"B{i}", author=ann) for i in range(5)])
    Book.objects.create(title="other", author=authors[1])
    deleted, per_model = ann.delete()
    assert per_model["orm.Book"] == 5 and per_model["orm.Author"] == 1
    assert Book.objects.count() == 1
    assert Author.objects.filter(name="Ann").count() == 0


def test_a_fast_delete_filtered_on_an_aggregate(authors):
    """Reviews have no dependent rows, so Django deletes them in one statement
    (``pk IN (the query)`` on SQL); the rows are those the aggregate selects."""
    book = Book.objects.create(title="B", author=authors[0])
    Review.objects.create(book=book, stars=1)
    edited = Review.objects.create(book=book, stars=2, editor=authors[1])
    # The join makes SQL delete by key (on one table SQLite refuses COUNT in WHERE).
    reviews = Review.objects.filter(book__title="B").annotate(editors=Count("editor"))
    assert reviews.filter(editors=0).delete() == (1, {"orm.Review": 1})
    assert list(Review.objects.all()) == [edited]
    assert reviews.filter(editors=0).delete()[0] == 0


def test_get_or_create_and_update_or_create(authors):
    obj, created = Author.objects.get_or_create(name="Ann", defaults={"age": 1})
    assert not created and obj.age == 30
    obj, created = Author.objects.get_or_create(name="Dee", defaults={"age": 22})
    assert created and Author.objects.get(name="Dee").age == 22
    obj, created = Author.objects.update_or_create(name="Dee", defaults={"age": 23})
    assert not created and Author.objects.get(name="Dee").age == 23


def test_bulk_create_returns_keys(db):
    books_author = Author.objects.create(name="Eve")
    books = Book.objects.bulk_create([Book(title=f"T{i}", author=books_author) for i in range(50)])
    assert len({b.pk for b in books}) == 50 and all(b.pk for b in books)
    assert Book.objects.filter(author=books_author).count() == 50


def test_bulk_create_stores_database_defaults_and_gives_them_back(db):
    """Values left to ``db_default`` are stored in every
    row, next to values given; where the backend returns inserted columns they are
    on the objects too, whatever the Django release does to the objects first."""
    created = Counter.objects.bulk_create(
        [Counter(name="a"), Counter(name="b", hits=2), Counter(name="c", label="own")]
    )
    stored = dict(Counter.objects.values_list("name", "hits"))
    labels = dict(Counter.objects.values_list("name", "label"))
    assert stored == {"a": 7, "b": 2, "c": 7}
    assert labels == {"a": "new", "b": "new", "c": "own"}
    if connection.features.can_return_rows_from_bulk_insert:
        assert [(c.hits, c.label) for c in created] == [(7, "new"), (2, "new"), (7, "own")]


def test_bulk_create_through_a_proxy_gives_the_concrete_models_keys(db):
    # Django 6.1's bulk_create() inserts with the proxy's options.
    created = ProxyAuthor.objects.bulk_create(
        [ProxyAuthor(name="Px1"), Author(name="Px2"), ProxyAuthor(name="Px3")]
    )
    keys = [author.pk for author in created]
    assert all(isinstance(key, int) for key in keys) and len(set(keys)) == 3
    assert sorted(Author.objects.filter(pk__in=keys).values_list("name", flat=True)) == [
        "Px1",
        "Px2",
        "Px3",
    ]


def test_unique_violation_raises_integrity_error(authors):
    with pytest.raises(IntegrityError), transaction.atomic():
        Author.objects.create(name="Ann")
    assert Author.objects.filter(name="Ann").count() == 1


def test_unique_violation_by_update_or_save_raises_integrity_error(authors):
    """FerretDB reports these as an internal UNIQUE failure, not E11000: still IntegrityError."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Author.objects.filter(name="Bob").update(name="Ann")
    bob = Author.objects.get(name="Bob")
    bob.name = "Ann"
    with pytest.raises(IntegrityError), transaction.atomic():
        bob.save()
    assert sorted(Author.objects.values_list("name", flat=True)) == ["Ann", "Bob", "Cid"]


def test_unique_constraint_raises_integrity_error(db):
    Ticket.objects.create(seat="A1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.create(seat="A1")


def test_aggregates(authors):
    result = Author.objects.aggregate(
        total=Sum("age"),
        mean=Avg("age"),
        low=Min("age"),
        high=Max("age"),
        n=Count("age"),
        rows=Count("*"),
    )
    assert result == {"total": 70, "mean": 35.0, "low": 30, "high": 40, "n": 2, "rows": 3}
    assert Author.objects.filter(age__gt=100).aggregate(s=Sum("age"))["s"] is None
    assert Author.objects.aggregate(n=Count("active", distinct=True))["n"] == 2


def test_non_integer_primary_keys(db):
    tag = Tag.objects.create(name="python")
    assert isinstance(tag.pk, str) and len(tag.pk) == 24
    assert Tag.objects.get(pk=tag.pk).name == "python"
    token = Token.objects.create(key="abc", uses=1)
    token.uses = 2
    token.save()
    assert Token.objects.get(pk="abc").uses == 2
    ticket = Ticket.objects.create(seat="B2")
    assert Ticket.objects.get(pk=ticket.pk).seat == "B2"


def test_json_field_round_trip_and_key_lookup(authors):
    Book.objects.create(title="J", author=authors[0], data={"lang": "en", "tags": ["a"]})
    book = Book.objects.get(title="J")
    assert book.data == {"lang": "en", "tags": ["a"]}
    assert Book.objects.filter(data__lang="en").count() == 1
    assert Book.objects.filter(data__lang="fr").count() == 0


def test_datetime_round_trip_and_year_lookup(authors):
    when = datetime.datetime(2024, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)
    Book.objects.create(title="D", author=authors[0], published=when)
    assert Book.objects.get(title="D").published == when
    assert Book.objects.filter(published__year=2024).count() == 1
    assert Book.objects.filter(published__year__gt=2024).count() == 0
    assert Author.objects.filter(born__year__lt=1985).count() == 1
    assert Book.objects.filter(published__gte=when).count() == 1


def test_prefetch_related_forward_and_reverse_in_two_queries(authors):
    Book.objects.create(title="b1", author=authors[0])
    Book.objects.create(title="b2", author=authors[0])
    Book.objects.create(title="b3", author=authors[1])
    with CaptureQueriesContext(connection) as captured:
        shelves = {
            a.name: sorted(b.title for b in a.books.all())
            for a in Author.objects.prefetch_related("books")
        }
    assert shelves == {"Ann": ["b1", "b2"], "Bob": ["b3"], "Cid": []}
    assert len(captured.captured_queries) == 2
    with CaptureQueriesContext(connection) as captured:
        pairs = sorted((b.title, b.author.name) for b in Book.objects.prefetch_related("author"))
    assert pairs == [("b1", "Ann"), ("b2", "Ann"), ("b3", "Bob")]
    assert len(captured.captured_queries) == 2


def test_nullable_unique_field_allows_many_nulls_but_no_duplicates(db):
    Author.objects.create(name="n1")
    Author.objects.create(name="n2", handle=None)
    first = Author.objects.create(name="n3", handle="h")
    with pytest.raises(IntegrityError), transaction.atomic():
        Author.objects.create(name="n4", handle="h")
    first.handle = None
    first.save()
    Author.objects.filter(name="n2").update(handle="h")
    Author.objects.filter(name="n2").update(handle=None)
    assert Author.objects.filter(handle__isnull=True).count() == 3
    assert Author.objects.get(name="n3").handle is None


def test_not_null_fields_refuse_none(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Author.objects.create(name=None)
    ann = Author.objects.create(name="Ann")
    with pytest.raises(IntegrityError), transaction.atomic():
        Author.objects.filter(pk=ann.pk).update(name=None)
    assert Author.objects.get(pk=ann.pk).name == "Ann"


def test_bulk_create_refuses_none_in_any_row_and_writes_nothing(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Author.objects.bulk_create([Author(name="Ann"), Author(name="Bob"), Author(name=None)])
    assert not Author.objects.exists()


def test_values_distinct(authors):
    distinct = Author.objects.order_by().values_list("active", flat=True).distinct()
    assert sorted(distinct) == [False, True]
    assert Author.objects.order_by().values("active").distinct().count() == 2
    assert len(Author.objects.order_by().values("active").distinct()[:1]) == 1
    # Django's documented caveat: ordering fields take part in DISTINCT.
    assert len(Author.objects.values_list("active", flat=True).distinct()) == 3


def test_uuid_text_lookups_accept_dashes(db):
    ticket = Ticket.objects.create(seat="C3")
    text = str(ticket.pk)
    assert Ticket.objects.get(pk__iexact=text.upper()).seat == "C3"
    assert Ticket.objects.filter(pk__contains=text[4:13]).count() == 1
    assert Ticket.objects.filter(pk__startswith=text[:10]).count() == 1


def test_month_and_day_lookups_work_on_every_server(authors):
    """Server-side where the server has $expr date operators; FerretDB v1 has
    none, and there the lookups are evaluated in Python on the fetched rows."""
    assert [a.name for a in Author.objects.filter(born__month=5)] == ["Ann"]
    assert Author.objects.get(born__day=2, born__month=1).name == "Bob"


def test_in_lookup_takes_any_iterable(authors):
    generator = (name for name in ["Ann", "Bob", "nobody"])
    assert sorted(a.name for a in Author.objects.filter(name__in=generator)) == ["Ann", "Bob"]
    assert Author.objects.filter(pk__in={authors[0].pk}).get().name == "Ann"


def test_the_same_queryset_iterates_twice_with_iterator(authors):
    """ModelChoiceField iterates its queryset's iterator() on every render."""
    queryset = Author.objects.all()
    first = [a.name for a in queryset.iterator()]
    assert first == ["Ann", "Bob", "Cid"]
    assert [a.name for a in queryset.iterator()] == first


def test_check_constraints_validate_instances():
    """CheckConstraint.validate (full_clean, ModelForm, admin) judges the values, not passes all."""
    from django.core.exceptions import ValidationError
    from django.db.models import CheckConstraint, Q

    adult = CheckConstraint(condition=Q(age__gte=18) | Q(name__startswith="Kid"), name="adult")
    adult.validate(Author, Author(name="Ann", age=30))
    adult.validate(Author, Author(name="Kid Bo", age=9))
    adult.validate(Author, Author(name="Unknown", age=None))  # NULL: unknown passes, as in SQL
    with pytest.raises(ValidationError, match="adult"):
        adult.validate(Author, Author(name="Bob", age=9))

    sane = CheckConstraint(condition=~Q(rating__gt=F("age")), name="rating_not_above_age")
    sane.validate(Author, Author(name="Cid", age=5, rating=Decimal("4.5")))
    with pytest.raises(ValidationError, match="rating_not_above_age"):
        sane.validate(Author, Author(name="Cid", age=3, rating=Decimal("4.5")))


def test_check_constraints_on_wrapped_conditions_and_json_keys_validate_instances():
    from django.core.exceptions import ValidationError
    from django.db.models import BooleanField, CheckConstraint, ExpressionWrapper, Q

    not_500 = CheckConstraint(
        condition=ExpressionWrapper(Q(pages__gt=500) | Q(pages__lt=500), BooleanField()),
        name="pages_not_500",
    )
    not_500.validate(Book, Book(title="t", pages=499))
    with pytest.raises(ValidationError, match="pages_not_500"):
        not_500.validate(Book, Book(title="t", pages=500))
    stable = CheckConstraint(condition=Q(data__version="stable"), name="stable_only")
    stable.validate(Book, Book(title="t", data={"version": "stable"}))
    with pytest.raises(ValidationError, match="stable_only"):
        stable.validate(Book, Book(title="t", data={"version": "beta"}))


def test_conditional_unique_constraints_validate_instances(db):
    """UniqueConstraint(condition=...) checks the condition on the instance's values and
    looks for a colliding row (the backends without partial indexes rely on it)."""
    from django.core.exceptions import ValidationError
    from django.db.models import Q, UniqueConstraint

    one_active = UniqueConstraint(fields=["email"], condition=Q(active=True), name="one_active")
    Author.objects.create(name="Ann", email="a@example.com", active=True)
    Author.objects.create(name="Old", email="o@example.com", active=False)
    one_active.validate(Author, Author(name="Bob", email="a@example.com", active=False))
    one_active.validate(Author, Author(name="Cy", email="o@example.com", active=True))
    with pytest.raises(ValidationError, match="one_active"):
        one_active.validate(Author, Author(name="Bob", email="a@example.com", active=True))


def test_bulk_create_prepares_values_not_of_the_fields_type(db):
    """Values of a field's own type are stored as they are; others still go through
    the field's preparation (strings to integers, lazy strings to strings)."""
    from django.utils.functional import lazy

    lazy_name = lazy(lambda: "Lazy Lou", str)()
    Author.objects.bulk_create(
        [
            Author(name="Plain Pat", age=40, active=False, email="pat@example.com"),
            Author(name=lazy_name, age="41", active=1),
        ]
    )
    pat, lou = Author.objects.order_by("name").reverse()
    assert (pat.name, pat.age, pat.active, pat.email) == ("Plain Pat", 40, False, "pat@example.com")
    assert (lou.name, lou.age, lou.active) == ("Lazy Lou", 41, True)
    assert Author.objects.filter(age=41, active=True).count() == 1


def test_a_json_key_that_is_a_number_indexes_a_list_everywhere(authors):
    """``data__sizes__0`` is the list's first element (SQL's ``$.sizes[0]``) in a
    filter, values(), order_by() and an aggregate alike."""
    Book.objects.create(title="S", author=authors[0], data={"sizes": [3, 7]})
    Book.objects.create(title="T", author=authors[0], data={"sizes": [5, 1]})
    assert list(Book.objects.filter(data__sizes__0=3).values_list("title", flat=True)) == ["S"]
    assert sorted(Book.objects.values_list("data__sizes__0", flat=True)) == [3, 5]
    ordered = Book.objects.order_by("data__sizes__1").values_list("title", flat=True)
    assert list(ordered) == ["T", "S"]
    total = Sum("data__sizes__1", output_field=models.IntegerField())
    assert Book.objects.aggregate(total=total)["total"] == 8
    grouped = Book.objects.values("data__sizes__0").annotate(n=Count("pk"))
    assert sorted((row["data__sizes__0"], row["n"]) for row in grouped) == [(3, 1), (5, 1)]
