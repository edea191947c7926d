"""Index declarations on MongoDB: what is created, what is not, and what the checks say.

Nothing a server cannot enforce stops ``migrate``: it is left out, a system
check says so, and ``Model.validate_constraints()`` still checks constraints
in Python. Names Django declares on the same keys share one server index.
"""

import pytest
from django.core import checks
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.db.utils import ConnectionHandler
from django.test.utils import isolate_apps

from django_nonrel.backends.mongodb.partial_filters import partial_filter
from django_nonrel.backends.mongodb.schema_record import SchemaRecord
from tests.singlestore.offline import Registry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("on_mongodb")]


def constraints(model):
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, model._meta.db_table)


def backend_checks(model):
    """What ``manage.py check --database`` reports for ``model`` from this backend."""
    return connection.validation.check_models([model])


def check_ids(model):
    return {issue.id for issue in model.check(databases=[connection.alias])} | {
        issue.id for issue in backend_checks(model)
    }


@pytest.fixture
def partial_indexes(monkeypatch):
    """The path servers with partial indexes take, run on mongomock too, whose unique
    checks honour partialFilterExpression (and whose partial unique index build
    ``embedded_indexes`` fixes; its flag is still off)."""
    if not (connection.is_embedded or connection.features.supports_partial_indexes):
        pytest.skip("FerretDB v1 refuses partialFilterExpression")
    monkeypatch.setattr(connection.features, "supports_partial_indexes", True)


def account_model():
    """One active account per name (define it inside isolate_apps)."""

    class Account(models.Model):
        name = models.CharField(max_length=20)
        active = models.BooleanField(default=True)

        class Meta:
            app_label = "app"
            constraints = [
                models.UniqueConstraint(
                    fields=["name"], condition=Q(active=True), name="account_active_name"
                )
            ]

    return Account


@isolate_apps("tests.app")
def test_a_conditional_unique_constraint_does_not_stop_migrate(create_collections):
    """Without partial indexes the constraint is left out (Django's models.W036),
    and Django's validation still enforces it for forms, the admin and full_clean()."""
    if connection.features.supports_partial_indexes:
        pytest.skip("this server creates partial indexes")

    Account = account_model()
    create_collections(Account)
    assert "account_active_name" not in constraints(Account)
    assert "models.W036" in check_ids(Account)
    Account.objects.create(name="ann")
    with pytest.raises(ValidationError, match="account_active_name"):
        Account(name="ann").full_clean()
    Account(name="ann", active=False).full_clean()


@isolate_apps("tests.app")
def test_a_conditional_unique_constraint_is_a_partial_index(create_collections, partial_indexes):
    Account = account_model()
    create_collections(Account)
    index = connection.database["app_account"].index_information()["account_active_name"]
    assert index["partialFilterExpression"] == {"active": {"$eq": True}}
    Account.objects.create(name="ann")
    Account.objects.create(name="ann", active=False)
    Account.objects.create(name="ann", active=False)
    with pytest.raises(IntegrityError):
        Account.objects.create(name="ann")
    assert check_ids(Account) == set()


@isolate_apps("tests.app")
def test_conditions_with_no_partial_filter_form_are_warned(create_collections, partial_indexes):
    class Account(models.Model):
        name = models.CharField(max_length=20)
        kind = models.CharField(max_length=10)

        class Meta:
            app_label = "app"
            constraints = [
                models.UniqueConstraint(
                    fields=["name"], condition=~Q(kind="guest"), name="account_member_name"
                )
            ]
            indexes = [
                models.Index(
                    fields=["name"], condition=Q(kind="a") | Q(kind="b"), name="account_ab"
                )
            ]

    assert {"mongodb.W002", "mongodb.W003"} <= check_ids(Account)
    assert {issue.level for issue in backend_checks(Account)} == {checks.WARNING}
    create_collections(Account)
    indexes = connection.database["app_account"].index_information()
    assert "account_member_name" not in indexes  # not created: it cannot be exact
    assert "partialFilterExpression" not in indexes["account_ab"]  # covers every document


@isolate_apps("tests.app")
def test_partial_filters_are_built_only_where_exact():
    class Shift(models.Model):
        worker = models.CharField(max_length=20)
        hours = models.IntegerField()
        ended = models.DateTimeField(null=True)
        badge = models.CharField(max_length=10, null=True, unique=True)
        tags = models.JSONField(default=list)

        class Meta:
            app_label = "app"

    def expressed(condition):
        return partial_filter(Shift, condition, connection)

    # IS NULL is true for null and for an absent key, as {"$eq": None} is.
    assert expressed(Q(ended__isnull=True) & Q(hours__gte=8)) == {
        "$and": [{"ended": {"$eq": None}}, {"hours": {"$gte": 8}}]
    }
    assert expressed(Q(hours__range=(1, 4))) == {"hours": {"$gte": 1, "$lte": 4}}
    # NULL stored absent (a nullable unique field): IS NOT NULL is "the key exists".
    assert expressed(Q(badge__isnull=False)) == {"badge": {"$exists": True}}
    # Elsewhere NULL is stored: "exists" would be true for it, so there is no exact form.
    assert expressed(Q(ended__isnull=False)) is None
    assert expressed(Q(hours=1) | Q(hours=2)) is None
    assert expressed(~Q(worker="x")) is None
    assert expressed(Q(worker__startswith="x")) is None
    assert expressed(Q(hours__in=[1, 2])) is None
    assert expressed(Q(tags=["a"])) is None  # equality would match list elements


def test_sqlmigrate_renders_conditions_as_partial_indexes_without_a_server():
    """sqlmigrate asks no server (features.renders_migrations_offline): it shows the
    partial indexes MongoDB itself would be sent."""
    settings = {"ENGINE": "django_nonrel.backends.mongodb", "HOST": "mongodb://127.0.0.1:9",
                "NAME": "shop", "OPTIONS": {"serverSelectionTimeoutMS": 200}}  # fmt: skip
    offline = ConnectionHandler({"default": settings})["default"]
    open_only = Q(done=False)
    Task = Registry().model(
        "Task",
        {"done": models.BooleanField(default=False), "name": models.CharField(max_length=5)},
        meta={
            "indexes": [models.Index(fields=["name"], condition=open_only, name="task_open")],
            "constraints": [
                models.UniqueConstraint(fields=["name"], condition=open_only, name="task_uniq")
            ],
        },
    )
    with offline.schema_editor(collect_sql=True, atomic=False) as editor:
        editor.create_model(Task)
    partial = "'partialFilterExpression': {'done': {'$eq': False}}"
    assert editor.collected_sql[1:] == [
        f"db.shop_task.createIndex({{'name': 1}}, {{'name': 'task_open', {partial}}});",
        f"db.shop_task.createIndex({{'name': 1}}, {{'name': 'task_uniq', 'unique': True, "
        f"{partial}}});",
    ]


@isolate_apps("tests.app")
def test_a_conditional_index_covers_every_document_without_partial_indexes(create_collections):
    if connection.features.supports_partial_indexes:
        pytest.skip("this server creates partial indexes")

    class Task(models.Model):
        done = models.BooleanField(default=False)

        class Meta:
            app_label = "app"
            indexes = [models.Index(fields=["done"], condition=Q(done=False), name="task_open")]

    create_collections(Task)
    assert "models.W037" in check_ids(Task)
    assert constraints(Task)["task_open"]["columns"] == ["done"]


@isolate_apps("tests.app")
def test_check_constraints_are_validated_in_python_not_created(create_collections):
    class Stay(models.Model):
        nights = models.IntegerField()

        class Meta:
            app_label = "app"
            constraints = [models.CheckConstraint(condition=Q(nights__gt=0), name="stay_nights")]

    create_collections(Stay)
    assert "models.W027" in check_ids(Stay)
    assert "stay_nights" not in constraints(Stay)
    with pytest.raises(ValidationError, match="stay_nights"):
        Stay(nights=0).full_clean()


class EvenConstraint(models.BaseConstraint):
    """A constraint class of a third-party app: no database can create it, it
    validates in Python."""

    def __init__(self, *, field, name):
        super().__init__(name=name)
        self.field = field

    def validate(self, model, instance, exclude=None, using=None):
        if getattr(instance, self.field) % 2:
            raise ValidationError(f"{self.name}: {self.field} must be even")

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        return path, args, {**kwargs, "field": self.field}

    def constraint_sql(self, model, schema_editor):
        return None

    def create_sql(self, model, schema_editor):
        return None

    def remove_sql(self, model, schema_editor):
        return None


@isolate_apps("tests.app")
def test_a_constraint_class_mongodb_cannot_create_is_warned_and_validated(create_collections):
    class Pair(models.Model):
        size = models.IntegerField()

        class Meta:
            app_label = "app"
            constraints = [EvenConstraint(field="size", name="pair_even_size")]

    (warning,) = backend_checks(Pair)
    assert warning.id == "mongodb.W004" and warning.level == checks.WARNING
    assert "EvenConstraint 'pair_even_size'" in warning.msg
    create_collections(Pair)  # migrate goes on
    assert set(constraints(Pair)) == {"_id_"}
    with pytest.raises(ValidationError, match="must be even"):
        Pair(size=3).full_clean()
    Pair(size=4).full_clean()


@isolate_apps("tests.app")
def test_indexes_on_expressions_are_not_created_as_the_checks_say(create_collections):
    """MongoDB indexes no computed values; Django's W043/W044 say they are left out,
    even for plain F() (write fields=[...] for those)."""

    class Employee(models.Model):
        name = models.CharField(max_length=20)
        email = models.CharField(max_length=40)

        class Meta:
            app_label = "app"
            indexes = [models.Index(F("name"), F("email").desc(), name="employee_name_email")]
            constraints = [models.UniqueConstraint(Lower("name"), name="employee_lower_name")]

    create_collections(Employee)
    assert {"models.W043", "models.W044"} <= check_ids(Employee)
    assert set(constraints(Employee)) == {"_id_"}
    with connection.schema_editor() as editor:  # nothing to remove, nothing sent
        editor.remove_index(Employee, Employee._meta.indexes[0])
        editor.remove_constraint(Employee, Employee._meta.constraints[0])


@isolate_apps("tests.app")
def test_deferrable_and_nulls_distinct_constraints_are_left_out(create_collections):
    class Employee(models.Model):
        name = models.CharField(max_length=20, null=True)

        class Meta:
            app_label = "app"
            constraints = [
                models.UniqueConstraint(
                    fields=["name"],
                    name="employee_name_deferred",
                    deferrable=models.Deferrable.DEFERRED,
                ),
                models.UniqueConstraint(
                    fields=["name"], name="employee_name_nulls", nulls_distinct=False
                ),
            ]

    create_collections(Employee)
    assert {"models.W038", "models.W047"} <= check_ids(Employee)
    assert set(constraints(Employee)) == {"_id_"}


@isolate_apps("tests.app")
def test_a_field_unique_and_a_constraint_on_it_keep_both_names(create_collections):
    """MongoDB keeps one index per key pattern; both Django names stay, and dropping
    the one holding the server index keeps the other enforced."""

    class Employee(models.Model):
        email = models.CharField(max_length=40, unique=True)

        class Meta:
            app_label = "app"

    create_collections(Employee)
    constraint = models.UniqueConstraint(fields=["email"], name="employee_email_uniq")
    with connection.schema_editor() as editor:
        editor.add_constraint(Employee, constraint)
    found = constraints(Employee)
    field_index = next(n for n in found if n.endswith("_uniq") and n != "employee_email_uniq")
    assert found["employee_email_uniq"]["unique"] and found[field_index]["unique"]
    plain = models.CharField(max_length=40)
    plain.set_attributes_from_name("email")
    Employee._meta.constraints = [constraint]
    with connection.schema_editor() as editor:
        editor.alter_field(Employee, Employee._meta.get_field("email"), plain)
    assert [n for n in constraints(Employee) if n != "_id_"] == ["employee_email_uniq"]
    Employee.objects.create(email="a@example.com")
    with pytest.raises(IntegrityError):
        Employee.objects.create(email="a@example.com")


@isolate_apps("tests.app")
def test_a_plain_and_a_unique_index_on_the_same_keys(create_collections):
    """A unique index serves the plain one: creating both does not fail, and removing
    the unique one rebuilds a plain index under the other name."""

    class Seat(models.Model):
        row = models.CharField(max_length=2)
        number = models.IntegerField()

        class Meta:
            app_label = "app"
            indexes = [models.Index(fields=["row", "number"], name="seat_row_number")]

    create_collections(Seat)
    with connection.schema_editor() as editor:
        editor.alter_unique_together(Seat, [], [("row", "number")])
    found = constraints(Seat)
    assert found["seat_row_number"]["unique"] is False
    assert sum(c["unique"] for c in found.values() if c["columns"] == ["row", "number"]) == 1
    Seat.objects.create(row="A", number=1)
    with pytest.raises(IntegrityError):
        Seat.objects.create(row="A", number=1)
    with connection.schema_editor() as editor:
        editor.alter_unique_together(Seat, [("row", "number")], [])
    assert [n for n in constraints(Seat) if n != "_id_"] == ["seat_row_number"]
    Seat.objects.create(row="A", number=1)


def test_an_index_renamed_with_its_definition_unchanged_is_recorded_renamed(create_collections):
    # FerretDB v1 skips a $set of a document equal by values with other keys:
    # {"old": spec} -> {"new": spec} was not written to the schema record.
    record = SchemaRecord(connection.database)
    spec = {"key": [{"path": "a", "order": 1}], "unique": False, "sparse": False, "partial": None}
    record.set_indexes("renamed_index_probe", {"old_name": spec})
    record.set_indexes("renamed_index_probe", {"new_name": spec})
    assert record.indexes("renamed_index_probe") == {"new_name": spec}
    record.drop("renamed_index_probe")


def edition_model():
    """A unique set with a nullable field (define it inside isolate_apps)."""

    class Edition(models.Model):
        title = models.CharField(max_length=20)
        editor = models.CharField(max_length=20, null=True)

        class Meta:
            app_label = "app"
            unique_together = [("title", "editor")]

    return Edition


@isolate_apps("tests.app")
def test_a_unique_set_accepts_many_rows_with_a_null_as_sql_does(create_collections):
    """SQL skips a row with a NULL in a unique set; so does the unique index, on
    every server (a partial index, or FerretDB's plain one: it skips missing keys)."""
    Edition = edition_model()
    create_collections(Edition)
    Edition.objects.create(title="Les Fleurs du Mal")
    Edition.objects.create(title="Les Fleurs du Mal")
    Edition.objects.create(title="Les Fleurs du Mal", editor="Ann")
    with pytest.raises(IntegrityError):
        Edition.objects.create(title="Les Fleurs du Mal", editor="Ann")
    first = Edition.objects.filter(editor="Ann").get()
    first.editor = None
    first.save()
    assert Edition.objects.filter(editor__isnull=True).count() == 3
    assert check_ids(Edition) == set()


@isolate_apps("tests.app")
def test_a_unique_set_made_over_stored_nulls_is_created(create_collections):
    """Nulls written while the set was not unique become absent before the index."""
    Edition = edition_model()
    unique_together = Edition._meta.unique_together
    Edition._meta.unique_together = ()
    create_collections(Edition)
    collection = connection.database["app_edition"]
    collection.insert_one({"_id": 101, "title": "A", "editor": None})
    collection.insert_one({"_id": 102, "title": "A", "editor": None})
    Edition._meta.unique_together = unique_together
    with connection.schema_editor() as editor:
        editor.alter_unique_together(Edition, (), unique_together)
    assert collection.count_documents({"editor": {"$exists": True}}) == 0
    Edition.objects.create(title="B", editor="Ann")
    with pytest.raises(IntegrityError):
        Edition.objects.create(title="B", editor="Ann")


@isolate_apps("tests.app")
def test_a_nullable_unique_constraint_added_and_removed_over_rows(create_collections):
    """AddConstraint over existing rows (nulls stored or absent, duplicates among
    them as SQL allows): enforced for rows without NULLs, named in introspection,
    gone with RemoveConstraint."""
    Edition = edition_model()
    Edition._meta.unique_together = ()
    create_collections(Edition)
    collection = connection.database["app_edition"]
    collection.insert_many(
        [
            {"_id": 101, "title": "A", "editor": None},
            {"_id": 102, "title": "A", "editor": None},
            {"_id": 103, "title": "A"},
            {"_id": 104, "title": "A", "editor": "Ann"},
        ]
    )
    constraint = models.UniqueConstraint(fields=["title", "editor"], name="title_editor_uniq")
    Edition._meta.constraints = [constraint]
    assert check_ids(Edition) == set()
    with connection.schema_editor() as editor:
        editor.add_constraint(Edition, constraint)
    found = constraints(Edition)["title_editor_uniq"]
    assert (found["columns"], found["unique"]) == (["title", "editor"], True)
    with pytest.raises(IntegrityError):
        Edition.objects.create(title="A", editor="Ann")
    Edition.objects.create(title="A")
    Edition.objects.create(title="B", editor="Ann")
    with pytest.raises(IntegrityError):
        Edition.objects.filter(title="B").update(title="A")
    with connection.schema_editor() as editor:
        editor.remove_constraint(Edition, constraint)
    Edition._meta.constraints = []
    assert "title_editor_uniq" not in constraints(Edition)
    Edition.objects.create(title="A", editor="Ann")
    assert Edition.objects.filter(title="A", editor="Ann").count() == 2


@isolate_apps("tests.app")
def test_a_duplicate_without_nulls_stops_the_constraint_as_on_sql(create_collections):
    """Rows that already break the constraint (no NULL among them) make AddConstraint
    fail, as SQL's does; rows with a NULL among them never do."""
    Edition = edition_model()
    Edition._meta.unique_together = ()
    create_collections(Edition)
    connection.database["app_edition"].insert_many(
        [{"_id": 101, "title": "A", "editor": "Ann"}, {"_id": 102, "title": "A", "editor": "Ann"}]
    )
    constraint = models.UniqueConstraint(fields=["title", "editor"], name="title_editor_uniq")
    Edition._meta.constraints = [constraint]
    with pytest.raises(IntegrityError), connection.schema_editor() as editor:
        editor.add_constraint(Edition, constraint)


def issue_model(name: str, constrained_by: str, null: bool):
    """Issues unique by (title, editor) -- through unique_together or a constraint --
    whose editor is nullable or not (define it inside isolate_apps)."""
    meta = {"app_label": "app", "db_table": "app_issue"}
    if constrained_by == "unique_together":
        meta["unique_together"] = [("title", "editor")]
    else:
        meta["constraints"] = [
            models.UniqueConstraint(fields=["title", "editor"], name="issue_title_editor_uniq")
        ]
    attrs = {
        "__module__": __name__,
        "title": models.CharField(max_length=20),
        "editor": models.CharField(max_length=20, null=null),
        "Meta": type("Meta", (), meta),
    }
    return type(name, (models.Model,), attrs)


@isolate_apps("tests.app")
@pytest.mark.parametrize("constrained_by", ["unique_together", "constraint"])
def test_a_unique_set_field_made_nullable_skips_its_nulls(create_collections, constrained_by):
    """AlterField(null=True) on a field of a unique set: rows with a NULL among the
    fields are then accepted, as SQL's unchanged constraint accepts them."""
    Before = issue_model("Before", constrained_by, null=False)
    After = issue_model("After", constrained_by, null=True)
    create_collections(Before)
    with connection.schema_editor() as editor:
        editor.alter_field(
            Before, Before._meta.get_field("editor"), After._meta.get_field("editor")
        )
    After.objects.create(title="A", editor=None)
    After.objects.create(title="A", editor=None)
    After.objects.create(title="A", editor="Ann")
    with pytest.raises(IntegrityError):
        After.objects.create(title="A", editor="Ann")
    found = constraints(After)
    assert [n for n, c in found.items() if c["unique"] and c["columns"] == ["title", "editor"]]
