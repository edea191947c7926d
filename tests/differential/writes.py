"""Generated writes and querysets used as filter values, compared with stock SQLite.

The read profile (strategies.py) never generated the shapes issue 17 found
broken: ``bulk_update()`` (it wrote the first object's value into every row),
``update()`` with expressions reading the primary key and other columns,
``update()``/``delete()`` filtered in Python (``F()`` comparisons), and
querysets as filter values (``pk__in=<queryset>`` over a UUID key matched
nothing). This profile draws them over the differential models, including
Badge (UUID key) and Slot (text key, foreign key over Badge's UUID key):

- a write runs on both databases from the same dataset; both must return the
  same count and leave the same rows in every table it can reach (cascades);
- a subquery shape must select the same rows.

A ``WriteSpec`` is a value that builds the same calls on any alias and prints
as the code a user would write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import NotSupportedError, connections, transaction
from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Cast, Concat
from hypothesis import strategies as st

from tests.differential import oracle
from tests.differential.models import Badge, Item, Owner, Slot
from tests.differential.strategies import (
    Dataset,
    QueryDrawer,
    datasets,
    nullable,
    q_lookups,
    texts,
    uuids,
)

#: Columns an update or bulk_update() writes, with the kind of value drawn.
WRITTEN = {"name": "text", "note": "text", "number": "int", "flag": "bool", "ratio": "float"}
#: Columns bulk_update() may also write (values as the objects hold them).
BULK_WRITTEN = {**WRITTEN, "code": "uuid", "day": "date", "big": "int"}
#: Conditions SQL evaluates per row and a document store in Python (F() comparisons).
PYTHON_CONDITIONS = (
    Q(number__gt=F("big")),
    Q(id__lt=F("number")),
    Q(ratio__gte=F("number")),
    ~Q(big__lte=F("id")),
)
SLOT_ALPHABET = "abc012_"
#: The written columns each update expression of ``expressions`` reads.
READS_WRITTEN = {
    "number": set(),
    "note": set(),
    "name": {"name"},
    "flag": set(),
    "big": {"number"},
    "ratio": {"ratio"},
}


def expressions(k: int) -> dict[str, tuple[str, Any]]:
    """Update values that read the key and other columns: column -> (code, expression)."""
    return {
        "number": ("F('id') * 2", F("id") * 2),
        "note": (
            "Concat(Value('id-'), Cast('id', CharField()))",
            Concat(Value("id-"), Cast("id", output_field=CharField())),
        ),
        "name": (
            "Concat('name', Value('#'), Cast('id', CharField()))",
            Concat("name", Value("#"), Cast("id", output_field=CharField())),
        ),
        "flag": (
            f"Case(When(id__gte={k}, then=Value(True)), default=Value(False))",
            Case(When(id__gte=k, then=Value(True)), default=Value(False)),
        ),
        "big": ("F('id') + F('number')", F("id") + F("number")),
        "ratio": ("F('ratio') * 2", F("ratio") * 2),
    }


@dataclass(frozen=True)
class WriteSpec:
    """One generated write or subquery read (see the module docstring)."""

    kind: str  # "update", "delete", "bulk_update" or "subquery"
    q: Q = field(default_factory=Q)
    #: update: (column, code of the value); the value is built by ``value_of``.
    values: tuple[tuple[str, str], ...] = ()
    #: the integer some expressions compare the key with.
    k: int = 0
    #: bulk_update: ((pk, {column: value}), ...), the columns, the batch size.
    changes: tuple[tuple[int, tuple[tuple[str, Any], ...]], ...] = ()
    columns: tuple[str, ...] = ()
    batch_size: int | None = None
    #: subquery: (outer model, lookup, inner model, inner filter, values() field, exclude).
    subquery: tuple[str, str, str, Q, str | None, bool] | None = None

    terminal = "write"
    distinct = False

    @property
    def lookups(self) -> list[str]:
        return q_lookups(self.filters)

    @property
    def filters(self) -> list[Q]:
        """The write's filter, or the inner queryset's of a subquery shape."""
        return [self.subquery[3]] if self.subquery else [self.q]

    @property
    def compares_fields(self) -> bool:
        """Whether the filter compares a field with another (F()), evaluated in Python."""

        def walk(node: Any) -> bool:
            if isinstance(node, Q):
                return any(walk(child) for child in node.children)
            return isinstance(node[1], F)

        return any(walk(q) for q in self.filters)

    def value_of(self, column: str, code: str) -> Any:
        if code.startswith("'"):
            return code.strip("'")
        return expressions(self.k)[column][1]

    def __str__(self) -> str:
        if self.kind == "bulk_update":
            objs = ", ".join(f"Item(pk={pk}, **{dict(values)!r})" for pk, values in self.changes)
            arguments = f"[{objs}], {list(self.columns)!r}, batch_size={self.batch_size}"
            return f"Item.objects.bulk_update({arguments})"
        if self.kind == "subquery":
            outer, lookup, inner, inner_q, values, exclude = self.subquery
            method = "exclude" if exclude else "filter"
            inner_code = f"{inner}.objects.filter({inner_q!r})" + (
                f".values({values!r})" if values else ""
            )
            return f"{outer}.objects.{method}({lookup}={inner_code})"
        code = f"Item.objects.filter({self.q!r})"
        if self.kind == "delete":
            return code + ".delete()"
        assignments = ", ".join(f"{column}={value}" for column, value in self.values)
        return code + f".update({assignments})"


MODELS = {"Item": Item, "Owner": Owner, "Badge": Badge, "Slot": Slot}
#: What this profile did (the read profile keeps its own, oracle.TALLY).
TALLY = oracle.Tally()


# -- drawing ------------------------------------------------------------------------
@st.composite
def write_datasets(draw) -> Dataset:
    """A differential dataset, with badges (UUID keys) and slots (text keys) added."""
    dataset = draw(datasets())
    item_ids = [row["id"] for row in dataset.items]
    badge_ids = draw(st.lists(uuids(), max_size=4, unique=True))
    dataset.badges = [
        {
            "id": badge,
            "name": draw(texts(3)),
            "item_id": draw(nullable(st.sampled_from(item_ids))) if item_ids else None,
        }
        for badge in badge_ids
    ]
    codes = draw(st.lists(st.text(SLOT_ALPHABET, min_size=1, max_size=4), max_size=4, unique=True))
    dataset.slots = [
        {
            "code": code,
            "badge_id": draw(nullable(st.sampled_from(badge_ids))) if badge_ids else None,
        }
        for code in codes
    ]
    return dataset


class WriteDrawer:
    """Draws write and subquery specs for one dataset."""

    def __init__(self, draw, dataset: Dataset) -> None:
        self.draw = draw
        self.dataset = dataset
        self.queries = QueryDrawer(draw, dataset)

    def filter(self) -> Q:
        """A drawn filter, often with a condition evaluated in Python on a document store."""
        draw = self.draw
        q = self.queries.q() if draw(st.booleans()) else Q()
        choice = draw(st.integers(0, 2))
        if choice:
            condition = draw(st.sampled_from(PYTHON_CONDITIONS))
            q = (q & condition) if choice == 1 else (q | condition)
        return q

    def spec(self) -> WriteSpec:
        kind = self.draw(st.sampled_from(["update", "delete", "bulk_update", "subquery"]))
        return getattr(self, kind)()

    def update(self) -> WriteSpec:
        draw = self.draw
        k = draw(st.integers(-2, 8))
        available = expressions(k)
        columns = draw(
            st.lists(st.sampled_from(sorted(available)), min_size=1, max_size=2, unique=True)
        )
        # MySQL-family servers evaluate one UPDATE's assignments left to right (a
        # later one reads an earlier one's new value; MySQL documents it): an
        # assignment reading another's column goes first, which SQL's rule agrees with.
        chosen = set(columns)
        columns.sort(key=lambda column: not READS_WRITTEN[column] & chosen)
        values = []
        for column in columns:
            if column in ("name", "note") and draw(st.integers(0, 3)) == 0:
                values.append((column, repr(draw(texts(6)))))
            else:
                values.append((column, available[column][0]))
        return WriteSpec("update", self.filter(), tuple(values), k=k)

    def delete(self) -> WriteSpec:
        return WriteSpec("delete", self.filter())

    def bulk_update(self) -> WriteSpec:
        draw = self.draw
        ids = [row["id"] for row in self.dataset.items]
        if not ids:
            return self.delete()
        chosen = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=6, unique=True))
        columns = tuple(
            draw(
                st.lists(st.sampled_from(sorted(BULK_WRITTEN)), min_size=1, max_size=3, unique=True)
            )
        )
        changes = []
        for pk in chosen:
            values = tuple(
                (column, self.queries.value(column, BULK_WRITTEN[column])) for column in columns
            )
            changes.append((pk, values))
        batch_size = draw(st.one_of(st.none(), st.integers(1, 3)))
        return WriteSpec(
            "bulk_update", changes=tuple(changes), columns=columns, batch_size=batch_size
        )

    def subquery(self) -> WriteSpec:
        draw = self.draw
        outer, lookup, inner, values = draw(st.sampled_from(SUBQUERY_SHAPES))
        exclude = draw(st.integers(0, 3)) == 0
        return WriteSpec(
            "subquery", subquery=(outer, lookup, inner, self.inner(inner), values, exclude)
        )

    def inner(self, model: str) -> Q:
        """A filter of the inner queryset of a subquery shape."""
        data = self.dataset

        def pick(values: list[Any], missing: Any) -> list[Any]:
            return self.draw(st.lists(st.sampled_from(values or [missing]), max_size=2))

        if model == "Owner":
            return Q(id__in=pick([row["id"] for row in data.owners], 0))
        if model == "Badge":
            return Q(name__in=pick([row["name"] for row in data.badges], "none"))
        if model == "Slot":
            return Q(code__in=pick([row["code"] for row in data.slots], "none"))
        return self.filter()


#: (outer model, lookup, inner model, values() of the inner queryset or None).
SUBQUERY_SHAPES = (
    ("Item", "pk__in", "Item", None),  # integer keys
    ("Item", "pk__in", "Item", "pk"),
    ("Item", "code__in", "Item", "code"),  # UUID values
    ("Item", "day__in", "Item", "day"),
    ("Item", "moment__in", "Item", "moment"),
    ("Item", "price__in", "Item", "price"),
    ("Item", "owner__in", "Owner", None),  # a foreign key over integer keys
    ("Badge", "pk__in", "Badge", None),  # UUID keys
    ("Badge", "item__in", "Item", None),
    ("Slot", "pk__in", "Slot", None),  # text keys
    ("Slot", "badge__in", "Badge", None),  # a foreign key over UUID keys
    ("Slot", "badge__in", "Badge", "pk"),
)


# -- running ----------------------------------------------------------------------
def run(spec: WriteSpec, alias: str) -> Any:
    """The outcome of ``spec`` on ``alias``: what the call returned, and the rows after."""
    items = Item.objects.using(alias)
    if spec.kind == "subquery":
        outer, lookup, inner, inner_q, values, exclude = spec.subquery
        inner_qs = MODELS[inner].objects.filter(inner_q)
        if values:
            inner_qs = inner_qs.values(values)
        outer_qs = MODELS[outer].objects.using(alias)
        selected = getattr(outer_qs, "exclude" if exclude else "filter")(**{lookup: inner_qs})
        return sorted(str(pk) for pk in selected.values_list("pk", flat=True))
    if spec.kind == "bulk_update":
        objs = {obj.pk: obj for obj in items.filter(pk__in=[pk for pk, _ in spec.changes])}
        for pk, values in spec.changes:
            for column, value in values:
                setattr(objs[pk], column, value)
        result = items.bulk_update(list(objs.values()), spec.columns, batch_size=spec.batch_size)
    elif spec.kind == "delete":
        result = items.filter(spec.q).delete()
    else:
        values = {column: spec.value_of(column, code) for column, code in spec.values}
        result = items.filter(spec.q).update(**values)
    return result, rows(alias)


def rows(alias: str) -> dict[str, list]:
    """Every table a write can reach, normalised and ordered by key (in Python: text and
    UUID keys sort by the server's collation and uuid type otherwise)."""
    return {
        model.__name__: sorted(
            (oracle.normal(obj) for obj in model.objects.using(alias)), key=lambda row: str(row[0])
        )
        for model in (Item, Badge, Slot, Item.labels.through)
    }


def compare(spec: WriteSpec, dataset: Dataset) -> None:
    """Run ``spec`` on both aliases from ``dataset``; AssertionError if they differ."""
    oracle.set_oracle_case_sensitivity(spec)
    expected = run(spec, oracle.ORACLE)
    connection = connections[oracle.UNDER_TEST]
    try:
        # A savepoint: a refused write marks its block for rollback, as any database
        # error does, and the dataset is loaded again in the enclosing one.
        with transaction.atomic(using=oracle.UNDER_TEST):
            actual = run(spec, oracle.UNDER_TEST)
    except NotSupportedError as error:
        TALLY.unsupported[oracle.documented_refusal(spec, error, dataset)] += 1
        return
    finally:
        if spec.kind != "subquery":
            for alias in (oracle.ORACLE, oracle.UNDER_TEST):
                oracle.load(dataset, alias)
    if expected != actual or oracle.types(expected) != oracle.types(actual):
        raise AssertionError(
            f"{spec}\n  {where_they_differ(expected, actual)}\n  SQLite: {expected!r}\n"
            f"  {connection.vendor}: {actual!r}\ndataset: {dataset}"
        )
    TALLY.compared[spec.kind] += 1


def where_they_differ(expected: Any, actual: Any) -> str:
    """The first difference: the returned value, or the first table whose rows differ."""
    if isinstance(expected, list):
        return oracle.difference(expected, actual)
    (returned, tables), (returned_here, tables_here) = expected, actual
    if returned != returned_here:
        return f"returned: SQLite {returned!r}, here {returned_here!r}"
    table = next(t for t in tables if tables[t] != tables_here[t])
    return oracle.difference(tables[table], tables_here[table], table)
