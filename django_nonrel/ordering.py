"""How a read is ordered: by the store, by related models' values, or in Python.

``plan_ordering`` reads Django's ``order_by()`` (or ``Meta.ordering``) once and
returns an ``OrderingPlan``, one of three shapes:

- the store sorts: every item is a stored path of the queried model
  (``Ordering`` values in the ``NonrelQuery``);
- related ordering: an item crosses a relation (``order_by("author__name")``);
  the rows are sorted client-side after one batched key lookup per hop
  (``sorted_by_related``), earlier plain items with them;
- Python ordering: an item orders by an expression, a computed annotation,
  with nulls_first/nulls_last, by a relation whose model's ``Meta.ordering``
  holds an expression (over the related row), or across a relation SQL joins
  with one row per related row (reverse foreign key, many-to-many, a through
  table's key):
  the whole ordering is evaluated on the (bounded) matching rows, joined with
  those related rows (each row once per related row, as a LEFT OUTER JOIN
  gives it), with SQL's NULL placement (``python_sorted``).

Names are resolved with Django's rules and messages (``Meta.ordering`` of a
related model when ordering by the relation, "Infinite loop caused by
ordering.", the choices of an unknown name).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist, FieldError
from django.db.models.expressions import Col, F, OrderBy
from django.db.models.lookups import Transform
from django.db.models.sql.query import Query, get_field_names_from_opts

from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import ExpressionEvaluator, Row
from django_nonrel.extra_sql import extra_expression
from django_nonrel.paths import Path, dig, key_segment
from django_nonrel.query import Leaf, Node, NonrelQuery, Ordering
from django_nonrel.sql_values import sort_order

#: (sort key of a row, descending, nulls first, nulls last).
SortKey = tuple[Callable[[Row], Any], bool, bool, bool]
#: (relation fields crossed, ordering on the final model's stored path).
RelatedOrdering = tuple[list[Any], Ordering]


@dataclass
class OrderingSource:
    """Where a related ordering's value is read: the ``alias`` of a row's document it
    starts from, the ``column`` read there, the relation ``hops`` still to follow
    (one key lookup each) and the ``path`` on the last model."""

    alias: str
    column: str
    hops: list[Any]
    path: Path


@dataclass
class OrderingPlan:
    """How one read is ordered (see the module docstring); at most one of
    ``related`` and ``python`` is set, ``store`` is empty when either is."""

    #: Orderings the store applies (``NonrelQuery.ordering``).
    store: list[Ordering] = field(default_factory=list)
    #: Orderings applied client-side after key lookups, in order of importance.
    related: list[RelatedOrdering] = field(default_factory=list)
    #: Sort keys evaluated in Python on the rows.
    python: list[SortKey] = field(default_factory=list)
    #: Stored paths the Python sort keys read (projected by the read).
    python_paths: list[Ordering] = field(default_factory=list)
    #: Stored columns the Python sort keys' expressions read.
    evaluated_columns: list[str] = field(default_factory=list)


def plan_ordering(query: Query, base_alias: str, evaluator: ExpressionEvaluator) -> OrderingPlan:
    """The ordering of ``query``; ``evaluator`` compiles the expressions sorted in Python."""
    # Django's precedence: extra(order_by=...), then order_by(), then Meta.ordering.
    items = (
        query.extra_order_by
        or query.order_by
        or ((query.get_meta().ordering or ()) if query.default_ordering else ())
    )
    if any(_sorts_in_python(query, base_alias, item) for item in items):
        keys, paths = _python_keys(query, base_alias, evaluator, items)
        return OrderingPlan(python=keys, python_paths=paths, evaluated_columns=evaluator.columns)
    ordering: list[Ordering] = []
    related: list[RelatedOrdering] = []
    for item in items:
        for hops, order in ordering_items(query, base_alias, item):
            if not query.standard_ordering:
                order.descending = not order.descending
            if hops or related:
                related.append((hops, order))
            elif all(order.path != earlier.path for earlier in ordering):
                # A later key on a path already sorted never changes SQL's order
                # (the admin appends "-pk" to "pk"); in a MongoDB sort document the
                # later direction would replace the earlier one.
                ordering.append(order)
    if related:
        # Sorting by a related model's value happens client-side, after one
        # batched key lookup per hop; earlier plain keys sort there too.
        return OrderingPlan(related=[([], order) for order in ordering] + related)
    return OrderingPlan(store=ordering)


def _sorts_in_python(query: Query, base_alias: str, item: Any) -> bool:
    """Whether an order_by() item needs a sort key the store cannot compute."""
    if isinstance(item, OrderBy):
        if item.nulls_first or item.nulls_last:
            return True
        item = item.expression
    by_column = isinstance(item, F)  # F("author") is the key column, not Meta.ordering
    if by_column:
        item = item.name
    if not isinstance(item, str) or item == "?":
        return True
    if item.lstrip("-") in query.extra:
        return True
    annotation = query.annotations.get(item.lstrip("-"))
    if annotation is None:
        name = item.lstrip("-")
        opts = query.get_meta()
        return (
            _repeats_rows(opts, name)
            or _transformed(query, name)
            or (not by_column and _related_ordering_expression(opts, name))
        )
    return not (isinstance(annotation, Col) and annotation.alias == base_alias)


def _extra_expression(query: Query, base_alias: str, name: str) -> Any:
    """The expression of the ``extra(select=...)`` entry ``name`` sorted by."""
    expression = extra_expression(query, base_alias, name)
    if expression is None:
        raise unsupported(
            f"Ordering by the extra(select=...) entry {name!r} (SQL other than "
            "columns, literals, %s and + - * /)",
            "Order by an annotation instead.",
        )
    return expression


def _transformed(query: Query, item: str) -> bool:
    """Whether the ordering name ends in a transform of a field (``name__lower``,
    ``age__lastdigit``) or of an annotation (``annotated_json__key``), not in a
    path into a stored document (``meta__n``: a document field answers a path
    step, not a Transform class)."""
    parts = item.split("__")
    if len(parts) > 1 and parts[0] in query.annotations:
        return True
    opts = query.get_meta()
    for index, name in enumerate(parts[:-1]):
        try:
            model_field = opts.pk if name == "pk" else opts.get_field(name)
        except FieldDoesNotExist:
            return False
        following = parts[index + 1]
        if model_field.is_relation and model_field.related_model is not None:
            related = model_field.related_model._meta
            if not model_field.concrete or _has_field(related, following):
                opts = related
                continue
            # order_by("fk__month"): a transform of the key the relation stores.
            model_field = model_field.target_field
        transform = model_field.get_transform(following)
        return isinstance(transform, type) and issubclass(transform, Transform)
    return False


def _has_field(opts: Any, name: str) -> bool:
    try:
        opts.get_field(name)
    except FieldDoesNotExist:
        return name == "pk"
    return True


def _repeats_rows(opts: Any, item: str) -> bool:
    """Whether the ordering name crosses a relation that is not a forward key
    (reverse foreign key or one-to-one, many-to-many): a JOIN there gives a
    row once per related row."""
    for name in item.split("__"):
        try:
            field = opts.pk if name == "pk" else opts.get_field(name)
        except FieldDoesNotExist:
            return False
        if not field.is_relation:
            return False
        # A reverse relation (auto-created); a forward ForeignObject over
        # several columns has no column either but reaches one row.
        if field.many_to_many or field.one_to_many or (field.auto_created and not field.concrete):
            return True
        opts = field.related_model._meta
    return False


def _related_ordering_expression(opts: Any, item: str, seen=frozenset()) -> bool:
    """Whether an ordering name ends at a relation whose model's ``Meta.ordering``
    (followed through the relations it names) holds an expression other than a
    field reference, ``Lower("name")``: the related rows are joined and the
    expression evaluated on them in Python, as Django orders by it in SQL."""
    field = name = None
    for name in item.split("__"):
        if field is not None:
            opts = field.related_model._meta
        try:
            field = opts.pk if name == "pk" else opts.get_field(name)
        except FieldDoesNotExist:
            return False
        if not field.is_relation or field.related_model is None:
            return False
    related = field.related_model._meta
    if name == "pk" or (field.concrete and name == field.attname) or related.model in seen:
        return False
    for sub in related.ordering:
        if isinstance(sub, OrderBy) and not (sub.nulls_first or sub.nulls_last):
            sub = sub.expression
        if isinstance(sub, F):
            continue  # a column of the related model (a relation's key column)
        if not isinstance(sub, str):
            return True
        if _related_ordering_expression(related, sub.lstrip("-"), seen | {related.model}):
            return True
    return False


def _joined_names(opts: Any, item: str, descending: bool, seen=frozenset()) -> list[tuple]:
    """(field path or expression, descending) per sort key of an ordering name read
    on joined rows: a name ending at a relation sorts by the related model's
    ``Meta.ordering``, as Django does (by its key without one). An expression
    there reads the related model's fields (``Lower("name")`` ordering ``parent``
    is ``Lower("parent__name")``); as in Django, one already carrying its
    direction (``F("name").desc()``) keeps it."""
    field = name = None
    for name in item.split("__"):
        if field is not None:
            opts = field.related_model._meta
        field = opts.pk if name == "pk" else opts.get_field(name)
        if not field.is_relation:
            return [(item, descending)]
    related = field.related_model._meta
    if not related.ordering or name == "pk" or (field.concrete and name == field.attname):
        return [(item, descending)]
    if related.model in seen:
        raise FieldError("Infinite loop caused by ordering.")
    names = []
    for sub in related.ordering:
        if not isinstance(sub, str):
            if isinstance(sub, OrderBy):
                names.append((sub.prefix_references(f"{item}__"), False))
            else:
                names.append((sub.prefix_references(f"{item}__"), descending))
            continue
        flip = sub.startswith("-")
        names += _joined_names(
            opts, f"{item}__{sub.lstrip('-')}", descending != flip, seen | {related.model}
        )
    return names


def _python_keys(
    query: Query, base_alias: str, evaluator: ExpressionEvaluator, items: Any
) -> tuple[list[SortKey], list[Ordering]]:
    """(sort key per item, stored paths the plain field items read).

    Each key has SQL's NULL placement; plain field items read the stored value
    at their path.
    """
    paths: list[Ordering] = []
    keys: list[SortKey] = []
    fixed: set[int] = set()  # positions of keys reverse() leaves as they are
    for item in items:
        descending = nulls_first = nulls_last = False
        if isinstance(item, OrderBy):
            descending, nulls_first, nulls_last = (
                item.descending,
                bool(item.nulls_first),
                bool(item.nulls_last),
            )
            item = item.expression
        if isinstance(item, str) and item.startswith("-"):
            descending, item = not descending, item[1:]
        if item == "?":
            # SQL's ORDER BY RANDOM(): a new random key per row and read (python_sorted
            # computes each row's key once); later keys never reorder it, as in SQL.
            key = random_key
        elif isinstance(item, str) and item in query.extra:
            key = evaluator.compile(_extra_expression(query, base_alias, item))
        elif isinstance(item, str) and item in query.annotations:
            key = evaluator.compile(query.annotations[item])
        elif isinstance(item, str) and _transformed(query, item):
            key = evaluator.compile(F(item).resolve_expression(query, allow_joins=True))
        elif isinstance(item, str):
            opts = query.get_meta()
            joined = _repeats_rows(opts, item) or _related_ordering_expression(opts, item)
            entries = [] if joined else ordering_items(query, base_alias, item)
            if not entries or any(hops for hops, _ in entries):
                # Across relations: read on the rows joined with the related rows
                # (one per related row, as a JOIN gives them).
                for name, desc in _joined_names(opts, item, descending):
                    key = _expression_key(
                        query,
                        evaluator,
                        F(name) if isinstance(name, str) else name,
                        desc,
                        nulls_first,
                        nulls_last,
                    )
                    if isinstance(name, OrderBy):
                        # Django keeps its direction under reverse() too.
                        fixed.add(len(keys))
                    keys.append(key)
                continue
            for _, order in entries:
                paths.append(order)
                keys.append(
                    (
                        lambda row, path=order.path: dig(row[base_alias], path),
                        order.descending != descending,
                        nulls_first,
                        nulls_last,
                    )
                )
            continue
        else:
            keys.append(
                _expression_key(query, evaluator, item, descending, nulls_first, nulls_last)
            )
            continue
        keys.append((key, descending, nulls_first, nulls_last))
    if not query.standard_ordering:
        keys = [
            entry if index in fixed else (entry[0], not entry[1], entry[3], entry[2])
            for index, entry in enumerate(keys)
        ]
    return keys, paths


def _own_column(query: Query, hops: tuple, reference: str) -> str:
    """The field that ``extra(order_by=["table.column"])`` names: SQL's column
    reference, which this backend can follow when the table is the queried
    model's own (``Article.objects.extra(order_by=["app_article.headline"])``,
    as Django's docs show it)."""
    table, _, column = reference.partition(".")
    opts = query.get_meta()
    if not hops and table.strip('"`') == opts.db_table:
        for field in opts.concrete_fields:
            if field.column == column.strip('"`'):
                return field.attname
    raise unsupported(
        f"Ordering by the SQL column reference {reference!r} (extra(order_by=...))",
        "Order by field names; a column reference is followed only on the queried "
        "model's own table.",
    )


def _expression_key(
    query: Query,
    evaluator: ExpressionEvaluator,
    expression: Any,
    descending: bool,
    nulls_first: bool,
    nulls_last: bool,
) -> SortKey:
    """The sort key of an expression (joins allowed: it may read related models'
    fields); an ``OrderBy`` it resolves to adds its direction and NULL placement."""
    resolved = expression.resolve_expression(query, allow_joins=True, reuse=None)
    if isinstance(resolved, OrderBy):
        descending = resolved.descending != descending
        nulls_first = nulls_first or bool(resolved.nulls_first)
        nulls_last = nulls_last or bool(resolved.nulls_last)
        resolved = resolved.expression
    return (evaluator.compile(resolved), descending, nulls_first, nulls_last)


def random_key(row: Row) -> float:
    """A random sort key: ``order_by("?")`` (not for security, only a shuffle)."""
    return random.random()  # noqa: S311 -- ordering, not cryptography


def ordering_items(
    query: Query,
    base_alias: str,
    item: Any,
    opts: Any = None,
    hops: tuple = (),
    flip: bool = False,
    seen=frozenset(),
) -> list[RelatedOrdering]:
    """(relation fields crossed, ordering on the final model's stored path) per sort key.

    Ordering by a relation without a field (``order_by("author")``) sorts by
    the related model's whole ``Meta.ordering``, as Django does.
    """
    descending = False
    if isinstance(item, OrderBy):
        if item.nulls_first or item.nulls_last:
            raise unsupported(
                "order_by() with nulls_first/nulls_last",
                "NULLs sort first ascending and last descending on this backend.",
            )
        descending = item.descending
        item = item.expression
    # F("author") orders by the relation's key column, as Django resolves it; the
    # name "author" by the related model's Meta.ordering.
    by_column = isinstance(item, F)
    if by_column:
        item = item.name
    if not isinstance(item, str):
        raise unsupported(
            f"Ordering by {type(item).__name__}", "Order by field names or F('field')."
        )
    if item.startswith("-"):
        descending, item = not descending, item[1:]
    descending = descending != flip
    annotation = None if hops else query.annotations.get(item)
    if "." in item and annotation is None:
        item = _own_column(query, hops, item)
    if isinstance(annotation, Col) and annotation.alias == base_alias:
        # annotate(x=F("field")): ordering by the annotation is ordering by the field.
        item = annotation.target.attname
    elif annotation is not None:
        raise unsupported(f"Ordering by the annotation {item!r}", "Sort in Python.")
    opts = opts or query.get_meta()
    parts = item.split("__")
    if not hops and parts[0] in query._filtered_relations:
        raise unsupported(
            f"Ordering across the FilteredRelation {parts[0]!r}",
            "Read the values across it with values() and sort them in Python.",
        )
    hops = list(hops)
    while True:
        name = opts.pk.name if parts[0] == "pk" else parts[0]
        field = next((f for f in opts.concrete_fields if f.attname == name), None)
        try:
            field = field or opts.get_field(name)
        except FieldDoesNotExist:
            # The same choices as Django's own message (names and attnames).
            names = sorted(get_field_names_from_opts(opts))
            raise FieldError(
                f"Cannot resolve keyword {name!r} into field. Choices are: {', '.join(names)}."
            ) from None
        if field.is_relation and field.auto_created and not field.concrete:
            raise unsupported(f"Ordering by the reverse relation {name!r}", "Sort in Python.")
        # Whether the read follows the relation: to a field of the related model, or
        # to its Meta.ordering (the name of a relation, not F(): that is its key).
        related = getattr(field.related_model, "_meta", None)
        follows = field.is_relation and (
            len(parts) > 1 or (not by_column and related is not None and bool(related.ordering))
        )
        if field.column is None and follows:
            raise unsupported(
                f"Ordering across the relation {name!r} over several columns",
                "Order by its local fields, or sort in Python.",
            )
        owner = field.model._meta.concrete_model
        if field.concrete and owner is not opts.concrete_model:
            # An inherited field lives in the parent's documents: hop
            # through the parent links (multi-table inheritance).
            for parent in opts.get_base_chain(owner):
                link = opts.get_ancestor_link(parent)
                if link is not None:
                    hops.append(link)
                opts = parent._meta
        if follows and parts[0] != "pk" and field.attname != name:
            hops.append(field)
            opts = field.related_model._meta
            if len(parts) > 1:
                parts = parts[1:]
                continue
            if opts.model in seen:
                raise FieldError("Infinite loop caused by ordering.")
            return [
                entry
                for sub in opts.ordering
                for entry in ordering_items(
                    query,
                    base_alias,
                    sub,
                    opts,
                    tuple(hops),
                    # As Django: an OrderBy there keeps its own direction, whatever
                    # the name's "-" or reverse() (plan_ordering flips it back).
                    not query.standard_ordering if isinstance(sub, OrderBy) else descending,
                    seen | {opts.model},
                )
            ]
        columns = _key_columns(field)
        if columns and len(parts) == 1:
            # A key over several columns (Django 6.1's CompositePrimaryKey, a
            # ForeignObject's local fields) sorts by each in turn, as SQL's
            # ORDER BY a, b does; the field itself has no column.
            return [(list(hops), Ordering(path=(c,), descending=descending)) for c in columns]
        path = (field.column, *(key_segment(part) for part in parts[1:]))
        return [(hops, Ordering(path=path, descending=descending))]


def _key_columns(field: Any) -> tuple[str, ...]:
    """The stored columns of a field over several columns; () for any other field."""
    if field.column is not None:
        return ()
    if isinstance(getattr(field, "columns", None), tuple):
        return field.columns
    local = getattr(field, "local_related_fields", None) or ()
    return tuple(f.column for f in local) if len(local) > 1 else ()


def ordering_sources(
    related: list[RelatedOrdering],
    base_alias: str,
    parent_aliases: dict[Any, str],
    parent_of: dict[str, str],
) -> list[OrderingSource]:
    """Where each related ordering's value is read (``parent_of``: joined alias -> parent).

    Hops through multi-table-inheritance parents the read already joins
    (``parent_aliases``: concrete parent model -> alias) are taken from those
    documents, so ordering by an inherited field costs no extra command.
    """
    sources = []
    for hops, order in related:
        alias = base_alias
        while hops and getattr(hops[0].remote_field, "parent_link", False):
            parent = parent_aliases.get(hops[0].related_model._meta.concrete_model)
            if parent is None or parent_of[parent] != alias:
                break
            alias, hops = parent, hops[1:]
        column = hops[0].column if hops else order.path[0]
        sources.append(OrderingSource(alias, column, hops, order.path))
    return sources


def sorted_by_related(
    store: Any, rows: list[Row], related: list[RelatedOrdering], sources: list[OrderingSource]
) -> tuple[list[Row], list[tuple]]:
    """(rows ordered by related models' values, each row's sort values): one ``in``
    command per relation hop, shared by the orderings that follow it. The values
    take part in a DISTINCT, as SQL selects ORDER BY expressions there."""
    positions = list(range(len(rows)))
    orders = [order for _, order in related]
    values = _ordering_values(store, rows, sources)
    for index in reversed(range(len(sources))):
        positions.sort(
            key=lambda i, v=values[index]: (v[i] is not None, v[i]),
            reverse=orders[index].descending,
        )
    return [rows[i] for i in positions], [tuple(v[i] for v in values) for i in positions]


def _ordering_values(store: Any, rows: list[Row], sources: list[OrderingSource]) -> list[list]:
    """Per source, per row, the value it orders by.

    Orderings that follow the same hops from the same alias (Permission's
    ``content_type__app_label, content_type__model``) read each related row
    once, with the columns all of them need.
    """
    needed: dict[tuple, list[str]] = {}
    for source in sources:
        for index in range(len(source.hops)):
            last = index + 1 == len(source.hops)
            column = source.path[0] if last else source.hops[index + 1].column
            needed.setdefault((source.alias, *source.hops[: index + 1]), []).append(column)
    read: dict[tuple, dict[Any, dict]] = {}
    values = []
    for source in sources:
        documents = [row.get(source.alias) or {} for row in rows]
        if not source.hops:
            values.append([dig(document, source.path) for document in documents])
            continue
        current = [document.get(source.hops[0].column) for document in documents]
        for index, hop in enumerate(source.hops):
            chain = (source.alias, *source.hops[: index + 1])
            if chain not in read:
                read[chain] = _related_documents(store, hop, current, needed[chain])
            found = read[chain]
            last = index + 1 == len(source.hops)
            next_path = source.path if last else (source.hops[index + 1].column,)
            current = [
                dig(found[value], next_path) if value in found else None for value in current
            ]
        values.append(current)
    return values


def _related_documents(store: Any, hop: Any, keys: list[Any], columns: list[str]) -> dict:
    """The rows of ``hop``'s model whose target column is in ``keys``, by that column
    (one command; none without keys)."""
    opts = hop.related_model._meta
    target = hop.target_field.column
    keys = list({value for value in keys if value is not None})
    lookup = NonrelQuery(
        table=opts.db_table,
        pk_column=opts.pk.column,
        where=Node(children=[Leaf((target,), "in", keys)]),
        columns=list(dict.fromkeys([target, *columns])),
        matches_nothing=not keys,
    )
    return {row[target]: row for row in store.fetch(lookup)}


def python_sorted(rows: list[Row], keys: list[SortKey]) -> list[Row]:
    """Rows in the order of ``keys`` (a stable sort, like a store's)."""
    values = [[key(row) for key, *_ in keys] for row in rows]

    def compare(i: int, j: int) -> int:
        for index, (_, descending, nulls_first, nulls_last) in enumerate(keys):
            a, b = values[i][index], values[j][index]
            if a is None or b is None:
                if a is None and b is None:
                    continue
                # This backend's default: NULL is the smallest value.
                null_first = nulls_first or (not nulls_last and not descending)
                return (-1 if null_first else 1) if a is None else (1 if null_first else -1)
            order = sort_order(a, b)
            if order:
                return -order if descending else order
        return 0

    positions = sorted(range(len(rows)), key=functools.cmp_to_key(compare))
    return [rows[i] for i in positions]
