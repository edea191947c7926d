"""What a read returns: its selections, resolved once from Django's query.

A selection is ``(name in the row, table alias, stored column, path inside it,
expression)``: a model field (``default_cols``), a ``values()`` name or path
(``values("address__city")``, ``values("author__name")`` on a joined alias),
or a ``values()`` expression evaluated on the row (``values("published__month")``).
Beside them a read returns its annotations (functions of the base document),
``extra(select=...)`` entries naming a joined column, and the select_related()
objects (``django_nonrel.select_related``).

``row_reader`` turns a fetched row (``{alias: document}``) into the selected
values in order, with Django's converters applied, built once per read;
``document_reader`` does the same straight from a base document for reads
that select only its top-level columns (the compiler's fast path).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models.expressions import Col, Value
from django.db.models.sql.datastructures import Join
from django.db.models.sql.query import Query

from django_nonrel.exceptions import unsupported
from django_nonrel.expressions import Document, Evaluator, ExpressionEvaluator, Row
from django_nonrel.paths import Path, column_path, dig
from django_nonrel.relations import chain_to
from django_nonrel.sql_values import output_value

#: (name in the row, table alias, stored column, path inside it, expression).
Selection = tuple[str, str, str, Path, Any]
#: (name, table alias, stored column) of an ``extra(select=...)`` entry.
ExtraSelection = tuple[str, str, str]
#: ``extra(select=...)`` text that names a column of a joined table.
EXTRA_COLUMN = re.compile(r'"?(?P<alias>\w+)"?\."?(?P<column>\w+)"?')


@dataclass
class Selected:
    """The selections of a read and what evaluating some of them needs."""

    selections: list[Selection]
    #: values() names whose value is an expression evaluated on the row (compiled
    #: with the read's plan).
    computed: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [name for name, *_ in self.selections]


def select(query: Query, base_alias: str) -> Selected:
    """The selections of ``query``.

    Fields of a multi-table inheritance parent live in the parent's documents:
    like Django's ``get_default_columns`` they are read through the join to the
    parent table (``join_parent_model``, which adds the join to ``query``), and
    the read fetches them by key.
    """
    opts = query.get_meta()
    if query.default_cols:
        mask = query.get_select_mask()
        seen = {None: base_alias}
        selections = []
        for model_field in opts.concrete_fields:
            if mask and model_field not in mask:
                continue
            model = model_field.model._meta.concrete_model
            if model == opts.model:
                model = None
            alias = query.join_parent_model(opts, model, base_alias, seen)
            selections.append(
                (model_field.attname, alias, model_field.column, (), model_field.get_col(alias))
            )
        return Selected(selections)
    if not query.select:
        # count() of a values() queryset: Django cleared the select, not values_select.
        return Selected([])
    names = list(query.values_select) or [
        getattr(getattr(expr, "target", None), "attname", f"col{i}")
        for i, expr in enumerate(query.select)
    ]
    selections = []
    computed = {}
    for name, expr in zip(names, query.select, strict=True):
        try:
            col, segments = column_path(expr, lambda node: LookupError())
        except LookupError:
            computed[name] = expr
            selections.append((name, base_alias, opts.pk.column, (), expr))
            continue
        selections.append((name, col.alias, col.target.column, segments, expr))
    return Selected(selections, computed)


def extra_selections(query: Query) -> list[ExtraSelection] | None:
    """(name, alias, column) of ``extra(select=...)`` entries naming a joined column.

    Django's many-to-many prefetch selects the through table's source key
    this way (``_prefetch_related_val_<attname>``: "table"."column"); any
    other SQL snippet is refused (None).
    """
    selections = []
    for name, (sql_text, params) in query.extra_select.items():
        match = EXTRA_COLUMN.fullmatch(sql_text)
        if params or match is None or not isinstance(query.alias_map.get(match["alias"]), Join):
            # The queried table's own columns are expressions (extra_sql).
            return None
        selections.append((name, match["alias"], match["column"]))
    return selections


def extra_select_values(extra: list[ExtraSelection] | None, rows: list[Row]) -> list[Row] | None:
    """Per row, the ``extra(select=...)`` values read from the joined documents."""
    if not extra:
        return None
    return [
        {
            name: None if row.get(alias) is None else row[alias].get(column)
            for name, alias, column in extra
        }
        for row in rows
    ]


def selected_chains(
    query: Query,
    base_alias: str,
    selections: list[Selection],
    extra: list[ExtraSelection] | None,
) -> list[list[str]]:
    """Join aliases (outermost first) leading to each joined alias a read selects."""
    chains = {}
    selected = [alias for _, alias, *_ in selections]
    selected += [alias for _, alias, _ in extra or ()]
    for alias in selected:
        if alias != base_alias and alias not in chains:
            chains[alias] = chain_to(query, base_alias, alias)
    return list(chains.values())


def parent_aliases(query: Query, base_alias: str, selections: list[Selection]) -> dict[Any, str]:
    """Concrete parent model -> alias of its joined documents (multi-table inheritance)."""
    aliases = {}
    for _, alias, _, _, expr in selections:
        if alias != base_alias and isinstance(expr, Col):
            join = query.alias_map.get(alias)
            join_field = getattr(join, "join_field", None)
            if getattr(getattr(join_field, "remote_field", None), "parent_link", False):
                aliases[expr.target.model._meta.concrete_model] = alias
    return aliases


def selected_annotations(query: Query, evaluator: ExpressionEvaluator) -> dict[str, Evaluator]:
    """Per selected annotation, a function of the row giving its value.

    Values, columns and expressions (over the queried model's fields, related
    models' fields, subqueries) are evaluated in Python on the fetched row
    (``django_nonrel.expressions``); aggregates are grouped reads
    (``django_nonrel.aggregation``).
    """
    result = {}
    for alias, expr in query.annotation_select.items():
        expr.output_field  # noqa: B018 -- Django's FieldError / OutputFieldIsNoneError
        if isinstance(expr, Value):
            result[alias] = lambda row, value=expr.value: value
        elif getattr(expr, "contains_aggregate", False):
            raise unsupported(
                f"The annotation {alias!r} ({type(expr).__name__}) next to this query's grouping",
                "Aggregate with aggregate(), or annotate() aggregates on their own.",
            )
        else:
            result[alias] = selected_values({alias: expr}, evaluator)[alias]
    return result


def selected_values(expressions: dict[str, Any], evaluator: ExpressionEvaluator) -> dict:
    """Per name, a function of the row giving its expression's value as selected."""
    return {
        name: _selected_value(evaluator.compile(expr), expr) for name, expr in expressions.items()
    }


def _selected_value(evaluate: Evaluator, expr: Any) -> Evaluator:
    return lambda row: output_value(evaluate(row), expr)


def _reader_parts(
    connection, selected: Selected
) -> tuple[list, Callable[[list[Any]], list[Any]] | None]:
    """(entries, convert): each selection with its converters, and the function
    applying them in place to a list of values in selection order (computed
    selections are converted by ``output_value`` instead)."""
    ops = connection.ops
    entries = [
        (name, alias, column, path, ops.get_db_converters(e) + e.get_db_converters(connection), e)
        for name, alias, column, path, e in selected.selections
    ]
    converted = _converted(entries, selected)

    def convert(values: list[Any]) -> list[Any]:
        for index, only, functions, expr in converted:
            value = values[index]
            if only is not None:
                values[index] = only(value, expr, connection)
                continue
            for function in functions:
                value = function(value, expr, connection)
            values[index] = value
        return values

    return entries, (convert if converted else None)


@dataclass(frozen=True)
class DocumentReader:
    """How a plain read turns a base document into its selected values.

    ``read(document)`` lists them, converted; ``columns`` (in selection order)
    and :meth:`keyed_converter` are the same work in parts, for a builder that
    fills an instance from the document itself (``instances.document_builder``).
    """

    read: Callable[[Document], list[Any]]
    columns: list[str]
    #: (index, only converter or None, converters, expression) per converted column.
    converted: list
    connection: Any

    def keyed_converter(self, names: list[str]) -> Callable[[dict[str, Any]], None] | None:
        """A function running the converters in place on a dict of the values keyed by
        ``names`` (one per selection, in order); None when no column has converters."""
        if not self.converted:
            return None
        steps = [(names[index], functions, expr) for index, _, functions, expr in self.converted]
        connection = self.connection

        def convert(values: dict[str, Any]) -> None:
            for name, functions, expr in steps:
                value = values[name]
                for function in functions:
                    value = function(value, expr, connection)
                values[name] = value

        return convert


class PlainRows:
    """The rows of a plain read: iterating gives each base document's selected values
    (a list, ``reader.read``); ``documents`` and ``reader`` let a builder use the
    documents themselves."""

    __slots__ = ("documents", "reader")

    def __init__(self, documents: list[Document], reader: DocumentReader) -> None:
        self.documents, self.reader = documents, reader

    def __iter__(self):
        return map(self.reader.read, self.documents)


def document_reader(connection, base_alias: str, selected: Selected) -> DocumentReader | None:
    """The reader of base documents into their selected values, converted.

    None unless every selection is a top-level column of the base document
    (not a joined alias, a path inside a column, or an expression). Such reads
    (every model read without joins) are one ``map`` over the document, and
    only columns with converters run them.
    """
    entries, convert = _reader_parts(connection, selected)
    read = _plain_reader(base_alias, selected, entries, convert)
    if read is None:
        return None
    columns = [column for _, _, column, _, _, _ in entries]
    return DocumentReader(read, columns, _converted(entries, selected), connection)


def _converted(entries: list, selected: Selected) -> list:
    """(index, only converter or None, converters, expression) of each selection that
    has converters (computed selections are converted by ``output_value``)."""
    return [
        (index, functions[0] if len(functions) == 1 else None, functions, expr)
        for index, (name, _, _, _, functions, expr) in enumerate(entries)
        if functions and name not in selected.computed
    ]


def _plain_reader(base_alias: str, selected: Selected, entries: list, convert):
    """``document_reader``'s function from ``_reader_parts``' result (None: not plain)."""
    if selected.computed or any(alias != base_alias or path for _, alias, _, path, _, _ in entries):
        return None
    columns = [column for _, _, column, _, _, _ in entries]
    if convert is None:
        return lambda document: list(map(document.get, columns))
    return lambda document: convert(list(map(document.get, columns)))


def row_reader(
    connection, base_alias: str, selected: Selected, computed: dict[str, Evaluator]
) -> Callable[[Row], list[Any]]:
    """A function from a row (``{alias: document}``) to its selected values, converted.

    Built once per read. Selections computed from expressions
    (``values("published__month")``) are evaluated on the row (``computed``:
    their compiled functions).
    """
    entries, convert = _reader_parts(connection, selected)
    plain = _plain_reader(base_alias, selected, entries, convert)
    if plain is not None:
        return lambda row: plain(row[base_alias])

    def read(row: Row) -> list[Any]:
        values = []
        for name, alias, column, path, _, expr in entries:
            if name in computed:
                values.append(output_value(computed[name](row), expr))
                continue
            source = row.get(alias)
            if source is None:
                values.append(None)
            else:
                values.append(dig(source, (column, *path)) if path else source.get(column))
        return values if convert is None else convert(values)

    return read
