"""``QuerySet.union()``, ``intersection()`` and ``difference()`` evaluated on the client.

A document store has no compound statement that every MongoDB-compatible
server runs (FerretDB v1 has no ``$unionWith``), so a combined read runs each
of its querysets through the ordinary read path -- its own filters, values()
columns, annotations, ordering and slice, one bounded read each -- and
combines their rows here with SQL's semantics:

- rows are whole tuples in the first queryset's column order (Django's
  column order: ``extra(select=...)``, the fields, the annotations, or the
  order values() named them); querysets selecting other columns are matched
  by position, as SQL matches them;
- ``UNION`` keeps one of each row unless ``all=True``; ``INTERSECT`` and
  ``EXCEPT`` are set operations on whole rows (NULL equals NULL, as SQL's set
  operations compare rows);
- then the combined queryset's ``order_by()`` (by selected column name or
  alias, ``F()``, or an expression each queryset computes, Django's rules and
  messages for what may be ordered), its slice, ``count()``, ``exists()``.

Every row is held in memory to be combined: the querysets' rows together are
bounded by ``connection.features.max_rows_evaluated_in_python`` (more raise
NotSupportedError), as every other evaluation in Python is.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.db import DatabaseError, NotSupportedError
from django.db.models import F, Model
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import OrderBy
from django.db.models.sql.constants import ORDER_DIR
from django.db.models.sql.query import Query, get_order_dir

from django_nonrel.exceptions import unsupported
from django_nonrel.ordering import SortKey, python_sorted, random_key
from django_nonrel.paths import hashable

#: One combined row: the values in column order, and the select_related()
#: values of the row it came from (they follow the row's foreign key).
CombinedRow = tuple[tuple, dict]

#: Django's message where an ORDER BY term is no column of a combined query.
NOT_SELECTED = "ORDER BY term does not match any column in the result set."

#: The prefix of the columns Django's ``Query.get_aggregation`` selects on a
#: combined query for the aggregates over it (``__col1``...).
AGGREGATED_COLUMN = "__col"

#: The prefix of the columns added to each queryset to order the combination
#: by what none of them selects (Django's compiler names them so too).
ORDER_COLUMN = "__orderbycol"


def column_names(compiler: Any) -> list[str]:
    """The names of a read's columns in SQL's order (what a combination matches
    by position): ``query.selected`` when values() named them, else the
    ``extra(select=...)`` entries, the selected fields, the annotations."""
    query = compiler.query
    if query.selected is not None:
        return list(query.selected)
    return [*query.extra_select, *compiler.selected_names, *query.annotation_select]


def combined_value_rows(compiler: Any) -> Iterator[tuple[list, dict, dict, dict]]:
    """The rows of a combined read as the compiler's ``selected_value_rows()``
    gives them: (values in ``selected_names`` order, related selection,
    annotations, extra select)."""
    query = compiler.query
    first = query.combined_queries[0]
    if any(
        alias.startswith(AGGREGATED_COLUMN) and alias not in first.annotations
        for alias in query.annotation_select
    ):
        # aggregate() selects the columns it reads on the combination itself,
        # which none of the querysets selects.
        raise unsupported(
            f"aggregate() over the columns of a {query.combinator}()",
            "Use count(), or aggregate() each queryset and combine the values.",
        )
    names = column_names(compiler)
    ordering, added = _resolved_ordering(compiler, names)
    rows = _combined(compiler, added)
    if ordering:
        rows = python_sorted(rows, ordering)
    rows = islice(rows, query.low_mark, query.high_mark)
    selected = compiler.selected_names
    annotations = list(query.annotation_select)
    extra = list(query.extra_select)
    for values, related in rows:
        named = dict(zip(names, values, strict=False))
        yield (
            [named[name] for name in selected],
            related,
            {alias: named[alias] for alias in annotations},
            {alias: named[alias] for alias in extra},
        )


def has_combined_rows(compiler: Any) -> bool:
    """``exists()`` of a combined read: whether the combination has a row. A
    union has one where one of its querysets has one (each asked with the
    store's exists, in turn); the other set operations need their rows."""
    query, connection = compiler.query, compiler.connection
    if query.combinator == "union" and query.low_mark == 0:
        return any(
            component.get_compiler(connection=connection).has_results()
            for component in query.combined_queries
        )
    return bool(list(islice(_combined(compiler, []), query.low_mark, query.high_mark)))


def describe_combined(compiler: Any) -> str:
    """``str(queryset.query)`` of a combined read: each queryset's command,
    joined by the set operation computed on their rows."""
    query = compiler.query
    operator = query.combinator.upper() + (" ALL" if query.combinator_all else "")
    parts = []
    for component in query.combined_queries:
        parts.append(f"({component.get_compiler(connection=compiler.connection).description()})")
    return f" {operator} ".join(parts)


def _components(compiler: Any, added: list[tuple[str, Any]]) -> list[Query]:
    """The combined querysets as they are read: each selecting what values()
    selected on the combination (Django's ``_get_combinator_part_sql``) and the
    expressions the combination is ordered by (``added``)."""
    outer = compiler.query
    selected = outer.selected
    queries = []
    for query in outer.combined_queries:
        query = query.clone()
        for name, expression in added:
            if expression is not None:
                query.add_annotation(expression, name)
            elif selected is None:
                raise DatabaseError(NOT_SELECTED)
        if selected is not None and query.selected is None:
            query.set_values([*selected, *(name for name, _ in added)])
        queries.append(query)
    return queries


def _combined(compiler: Any, added: list[tuple[str, Any]]) -> list[CombinedRow]:
    """The rows of the set operation over the combined querysets' rows."""
    query, connection = compiler.query, compiler.connection
    combinator = query.combinator
    features = connection.features
    supported = {
        "union": features.supports_select_union,
        "intersection": features.supports_select_intersection,
        "difference": features.supports_select_difference,
    }
    if not supported[combinator]:
        raise NotSupportedError(f"{combinator} is not supported on this database backend.")
    limit = features.max_rows_evaluated_in_python
    parts, counted = [], 0
    for component in _components(compiler, added):
        rows = _component_rows(component, connection, limit - counted + 1)
        counted += len(rows)
        if counted > limit:
            raise unsupported(
                f"QuerySet.{combinator}() over more than {limit} rows",
                "Narrow the querysets with filters the database runs first, or raise "
                "connection.features.max_rows_evaluated_in_python.",
            )
        parts.append(rows)
    if len({len(values) for part in parts for values, _ in part}) > 1:
        raise DatabaseError(
            f"The querysets of a {combinator} select different numbers of columns: "
            "select the same columns in each (values_list())."
        )
    if combinator == "union":
        rows = [row for part in parts for row in part]
        return rows if query.combinator_all else _distinct(rows)
    first, others = _distinct(parts[0]), [{_key(v) for v, _ in part} for part in parts[1:]]
    if combinator == "intersection":
        return [row for row in first if all(_key(row[0]) in keys for keys in others)]
    return [row for row in first if not any(_key(row[0]) in keys for keys in others)]


def _component_rows(query: Query, connection: Any, limit: int) -> list[CombinedRow]:
    """The rows of one combined queryset (at most ``limit``), as tuples in its
    column order."""
    query.set_limits(high=limit)
    compiler = query.get_compiler(connection=connection)
    names = compiler.selected_names
    order = column_names(compiler)
    rows = []
    for values, related, annotated, extra in compiler.selected_value_rows():
        named = {**extra, **dict(zip(names, values, strict=True)), **annotated}
        rows.append((tuple(named[name] for name in order), related))
    return rows


def _key(values: tuple) -> tuple:
    """What makes two rows the same row (list, dict, set and embedded model values
    by their content)."""
    return tuple(hashable(_content(value)) for value in values)


def _content(value: Any) -> Any:
    """``value`` with embedded model instances (EmbeddedModelField, ListField of
    them: unhashable, without a key) as their fields' values, and sets in order."""
    if isinstance(value, Model):
        fields = value._meta.concrete_fields
        return {
            "": value._meta.label,
            **{f.attname: _content(getattr(value, f.attname)) for f in fields},
        }
    if isinstance(value, dict):
        return {key: _content(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_content(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_content(item) for item in value), key=repr)
    return value


def _distinct(rows: list[CombinedRow]) -> list[CombinedRow]:
    """One of each row (the first), as SQL's set operations keep them."""
    seen: dict[Any, CombinedRow] = {}
    for row in rows:
        seen.setdefault(_key(row[0]), row)
    return list(seen.values())


# -- ORDER BY of a combined read ------------------------------------------------------
def _resolved_ordering(
    compiler: Any, names: list[str]
) -> tuple[list[SortKey], list[tuple[str, Any]]]:
    """(sort keys of the combined rows, expressions added to each queryset).

    Django's rules (``SQLCompiler._order_by_pairs`` and ``get_order_by`` on a
    combined query): a term names a selected column by its alias, or is a field
    or expression of the first queryset's model that matches a selected column;
    any other term is computed by each queryset as an extra column, unless one
    of them selects its columns with values() (then Django's DatabaseError).
    Transforms of an annotation are refused as Django refuses them.
    """
    query = compiler.query
    if query.extra_order_by:
        items = query.extra_order_by
    elif query.order_by or not query.default_ordering:
        items = query.order_by
    else:
        items = query.get_meta().ordering
    keys: list[SortKey] = []
    added: list[tuple[str, Any]] = []
    for item in items:
        if item == "?":
            keys.append((random_key, False, False, False))
            continue
        term, descending, nulls_first, nulls_last = _term(item)
        if not query.standard_ordering:
            descending = not descending
            nulls_first, nulls_last = nulls_last, nulls_first
        position = _position(compiler, names, term)
        if position is None:
            if any(component.has_select_fields for component in query.combined_queries):
                raise DatabaseError(NOT_SELECTED)
            if isinstance(term, str) and term in query.extra:
                # An extra(select=...) column values() left out: each queryset selects it.
                added.append((term, None))
            else:
                name = f"{ORDER_COLUMN}{len(names) + len(added) + 1}"
                added.append((name, term if not isinstance(term, str) else F(term)))
            position = len(names) + len(added) - 1
        keys.append((_value_at(position), descending, nulls_first, nulls_last))
    return keys, added


def _value_at(position: int):
    def value(row: CombinedRow) -> Any:
        return row[0][position]

    return value


def _term(item: Any) -> tuple[Any, bool, bool, bool]:
    """(a column name or an expression, descending, nulls first, nulls last)."""
    if isinstance(item, str):
        name, order = get_order_dir(item, ORDER_DIR["ASC"][0])
        return name, order == "DESC", False, False
    if not isinstance(item, OrderBy):
        item = item.asc()
    expression = item.expression
    term = expression.name if isinstance(expression, F) else expression
    return term, item.descending, bool(item.nulls_first), bool(item.nulls_last)


def _position(compiler: Any, names: list[str], term: Any) -> int | None:
    """The position of the selected column ``term`` orders by, None when no
    selected column is it."""
    if not isinstance(term, str):
        return None
    query = compiler.query
    if term in names:
        return names.index(term)  # an alias: extra select, annotation, values() name
    ref, *transforms = term.split(LOOKUP_SEP)
    if ref in query.annotations:
        if transforms:
            raise NotImplementedError("Ordering combined queries by transforms is not implemented.")
        return None
    field = _plain_field(query, term)
    if field is None:
        return None
    for position, name in enumerate(names):
        if name in query.annotation_select or name in query.extra_select:
            continue
        if _plain_field(query, name) == field:
            return position
    return None


def _plain_field(query: Query, name: str) -> Any:
    """The concrete field of the queried model ``name`` is (a field name,
    attname or ``pk``), None for anything else (relation spans, unknown names)."""
    opts = query.get_meta()
    if name == "pk":
        return opts.pk
    for field in opts.concrete_fields:
        if name in (field.name, field.attname):
            return field
    return None
