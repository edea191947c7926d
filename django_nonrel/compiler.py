"""Compilers that run Django queries on a ``DocumentStore`` instead of SQL.

A nonrel backend's ``DatabaseOperations.compiler_module`` points at a module
that exposes these classes under Django's names (``SQLCompiler``,
``SQLInsertCompiler``, ...). They turn Django's ``Query`` into a
``NonrelQuery`` and call the backend's store primitives (see
``django_nonrel.store``).

Reads yield *structured rows*::

    {"result": {attname: value}, "related_selection": {}, "annotations": {...},
     "extra_select": {}}

which the ``structured_rows`` patch feeds straight into model instances and
``values()`` dicts, with Django's converters already applied, so no
intermediate positional row is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Any

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, FieldError
from django.db import NotSupportedError, models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Avg as AvgAggregate
from django.db.models import Count, Max, Min, Sum
from django.db.models.aggregates import Aggregate as DjangoAggregate
from django.db.models.expressions import (
    Col,
    CombinedExpression,
    DatabaseDefault,
    F,
    OrderBy,
    Ref,
    Star,
    Value,
)
from django.db.models.fields.json import KeyTransform
from django.db.models.sql import compiler as sql
from django.db.models.sql.constants import CURSOR, GET_ITERATOR_CHUNK_SIZE, MULTI, SINGLE
from django.db.models.sql.query import Query

from django_nonrel.nulls import (
    absent_when_null,
    check_not_null,
    check_required,
    not_null_fields,
)
from django_nonrel.query import Aggregate, Leaf, Node, NonrelQuery, Ordering, UpdateValue
from django_nonrel.where import WhereBuilder

#: AutoField types whose keys the store allocates as integers.
INTEGER_AUTO_FIELDS = frozenset({"AutoField", "BigAutoField", "SmallAutoField"})
AGGREGATE_FUNCTIONS = {Count: "count", Sum: "sum", AvgAggregate: "avg", Min: "min", Max: "max"}


class RowCountCursor:
    """What Django's CURSOR/ROW_COUNT callers need from a write: a rowcount."""

    def __init__(self, rowcount: int) -> None:
        self.rowcount = rowcount

    def close(self) -> None:
        pass

    def __enter__(self) -> RowCountCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _unsupported(what: str, instead: str) -> NotSupportedError:
    return NotSupportedError(f"{what} is not supported on this backend. {instead}")


class NonrelCompiler(sql.SQLCompiler):
    """Reads: iteration, values(), count(), exists(), aggregate()."""

    returns_structured_rows = True

    @cached_property
    def store(self):
        return self.connection.store

    @cached_property
    def base_alias(self) -> str:
        return self.query.base_table or self.query.get_initial_alias()

    # -- building the NonrelQuery ------------------------------------------
    def build_query(self, *, with_projection: bool = True) -> NonrelQuery:
        query = self.query
        self._reject_unsupported()
        opts = query.get_meta()
        nq = NonrelQuery(table=opts.db_table, pk_column=opts.pk.column)
        builder = WhereBuilder(self.connection, self.base_alias, self._subquery_values)
        built = builder.build(query.where)
        if built is False:
            nq.matches_nothing = True
        elif built is not True:
            nq.where = built if isinstance(built, Node) else Node(children=[built])
        nq.low, nq.high = query.low_mark, query.high_mark
        nq.ordering = self._ordering()
        nq.distinct = query.distinct
        if with_projection:
            nq.columns = list(dict.fromkeys(column for _, column, *_ in self.selections))
        return nq

    def _reject_unsupported(self) -> None:
        query = self.query
        if query.combinator:
            raise _unsupported(
                f"QuerySet.{query.combinator}()", "Evaluate the querysets separately."
            )
        if query.extra_select or query.extra_tables:
            raise _unsupported("QuerySet.extra()", "Use filter() and annotate() instead.")
        if query.distinct_fields:
            raise _unsupported("distinct(*fields)", "Use values(*fields).distinct().")
        if query.select_related:
            raise _unsupported(
                "select_related()", "Use prefetch_related(), or load related objects by key."
            )

    def _subquery_values(self, subquery: Query) -> list[Any]:
        """Run a queryset used as a filter value and return its single column."""
        subquery = subquery.clone()
        subquery.subquery = False
        if not subquery.select and subquery.default_cols:
            subquery.clear_select_fields()
            subquery.add_fields([subquery.get_meta().pk.name])
        compiler = subquery.get_compiler(connection=self.connection)
        return [next(iter(row["result"].values())) for row in compiler.results_iter()]

    def _ordering(self) -> list[Ordering]:
        """Server-side ordering; relation-spanning items go to ``related_ordering``."""
        query = self.query
        if query.extra_order_by:
            raise _unsupported("extra(order_by=...)", "Use order_by().")
        items = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
        ordering: list[Ordering] = []
        related: list[tuple[list[Any], Ordering]] = []
        for item in items:
            hops, order = self._ordering_item(item)
            if not query.standard_ordering:
                order.descending = not order.descending
            if hops or related:
                related.append((hops, order))
            else:
                ordering.append(order)
        if related:
            # Sorting by a related model's value happens client-side, after one
            # batched key lookup per hop; earlier plain keys sort there too.
            related = [([], order) for order in ordering] + related
            ordering = []
        self.related_ordering = related
        return ordering

    def _ordering_item(self, item: Any) -> tuple[list[Any], Ordering]:
        """(relation fields crossed, ordering on the final model's stored path)."""
        descending = False
        if isinstance(item, OrderBy):
            if item.nulls_first or item.nulls_last:
                raise _unsupported(
                    "order_by() with nulls_first/nulls_last",
                    "NULLs sort first ascending and last descending on this backend.",
                )
            descending = item.descending
            item = item.expression
        if isinstance(item, F):
            item = item.name
        if not isinstance(item, str):
            raise _unsupported(
                f"Ordering by {type(item).__name__}", "Order by field names or F('field')."
            )
        if item == "?":
            raise _unsupported("Random ordering (order_by('?'))", "Shuffle in Python.")
        if item.startswith("-"):
            descending, item = not descending, item[1:]
        if item in self.query.annotation_select:
            raise _unsupported(f"Ordering by the annotation {item!r}", "Sort in Python.")
        opts = self.query.get_meta()
        parts = item.split("__")
        hops: list[Any] = []
        while True:
            name = opts.pk.name if parts[0] == "pk" else parts[0]
            field = next((f for f in opts.concrete_fields if f.attname == name), None)
            try:
                field = field or opts.get_field(name)
            except FieldDoesNotExist:
                names = sorted(f.name for f in opts.get_fields())
                raise FieldError(
                    f"Cannot resolve keyword {name!r} into field. Choices are: {', '.join(names)}."
                ) from None
            if field.is_relation and not field.concrete:
                raise _unsupported(f"Ordering by the reverse relation {name!r}", "Sort in Python.")
            if (
                field.is_relation
                and field.attname != name
                and (len(parts) > 1 or field.related_model._meta.ordering)
            ):
                hops.append(field)
                opts = field.related_model._meta
                parts = parts[1:] or list(opts.ordering[:1]) or ["pk"]
                if parts[0].startswith("-"):
                    descending = not descending
                    parts[0] = parts[0][1:]
                continue
            path = (field.column, *self._document_path(parts[1:]))
            return hops, Ordering(path=path, descending=descending)

    @staticmethod
    def _document_path(parts: list[str]) -> list[str | int]:
        return [int(p) if p.isdigit() else p for p in parts]

    # -- what a read returns ------------------------------------------------
    @cached_property
    def selections(self) -> list[tuple[str, str, tuple[str | int, ...], Any]]:
        """(name in the row, stored column, path inside it, expression) per selected value."""
        query = self.query
        opts = query.get_meta()
        alias = self.base_alias
        if query.default_cols:
            mask = query.get_select_mask()
            return [
                (field.attname, field.column, (), field.get_col(alias))
                for field in opts.concrete_fields
                if not mask or field in mask
            ]
        names = list(query.values_select) or [
            getattr(getattr(expr, "target", None), "attname", f"col{i}")
            for i, expr in enumerate(query.select)
        ]
        return [
            (name, *self._selection_path(name, expr), expr)
            for name, expr in zip(names, query.select, strict=True)
        ]

    def _selection_path(self, name: str, expr: Any) -> tuple[str, tuple[str | int, ...]]:
        """The stored column and the document path a values() expression reads."""
        segments: list[str | int] = []
        node = expr
        while not isinstance(node, Col):
            segment = getattr(node, "nonrel_path_segment", None)
            if segment is None and isinstance(node, KeyTransform):
                segment = node.key_name
            if segment is None:
                raise _unsupported(
                    f"values()/values_list() of {name!r} ({type(node).__name__})",
                    "Select stored fields or paths into them, and compute in Python.",
                )
            segments.append(segment)
            node = node.lhs
        if node.alias != self.base_alias:
            raise _unsupported(
                f"values()/values_list() of {name!r} across a relation (needs a JOIN)",
                "Select the foreign key column and load related values separately.",
            )
        return node.target.column, tuple(reversed(segments))

    @property
    def selected_names(self) -> list[str]:
        return [name for name, *_ in self.selections]

    @cached_property
    def selected_annotations(self) -> dict[str, Any]:
        """Constant or column annotations a read can compute without the database."""
        result = {}
        for alias, expr in self.query.annotation_select.items():
            if isinstance(expr, Value):
                result[alias] = ("value", expr.value)
            elif isinstance(expr, Col) and expr.alias == self.base_alias:
                result[alias] = ("column", expr.target)
            else:
                raise _unsupported(
                    f"The annotation {alias!r} ({type(expr).__name__})",
                    "Aggregate with aggregate(), or compute the value in Python.",
                )
        return result

    @cached_property
    def converters(self) -> list[tuple[str, str, tuple, list, Any]]:
        """(row name, column, path, converter functions, expression) per selection."""
        ops, connection = self.connection.ops, self.connection
        return [
            (
                name,
                column,
                path,
                ops.get_db_converters(expr) + expr.get_db_converters(connection),
                expr,
            )
            for name, column, path, expr in self.selections
        ]

    def results_iter(
        self,
        results: Any = None,
        tuple_expected: bool = False,
        chunked_fetch: bool = False,
        chunk_size: int = GET_ITERATOR_CHUNK_SIZE,
    ) -> Iterator[dict[str, Any]]:
        if results is not None:
            yield from results
            return
        try:
            nq = self.build_query()
        except EmptyResultSet:
            return
        if nq.matches_nothing:
            return
        annotations = self.selected_annotations
        connection = self.connection
        # Most columns are copied as stored; only paths and converted fields are
        # revisited (a per-column loop over empty converter lists was the bulk
        # of the client time of reading flat rows).
        columns = [(name, column) for name, column, *_ in self.converters]
        special = [c for c in self.converters if c[2] or c[3]]
        documents = self._documents(nq)
        for document in documents:
            get = document.get
            result = {name: get(column) for name, column in columns}
            for name, column, path, functions, expr in special:
                value = _dig(document, (column, *path)) if path else result[name]
                for function in functions:
                    value = function(value, expr, connection)
                result[name] = value
            row_annotations = {}
            for alias, (kind, source) in annotations.items():
                row_annotations[alias] = source if kind == "value" else document.get(source.column)
            yield {
                "result": result,
                "related_selection": {},
                "annotations": row_annotations,
                "extra_select": {},
            }

    def _documents(self, nq: NonrelQuery):
        """The stored rows of a read, ordered, made distinct and sliced.

        Ordering by related models' values and distinct ``values()`` are done
        client-side over the filtered rows (one extra ``in`` query per relation
        hop), so slicing is applied after them.
        """
        distinct = self.query.distinct and not self.query.default_cols
        if not (distinct or self.related_ordering):
            return self.store.fetch(nq)
        low, high = nq.low, nq.high
        nq.low, nq.high = 0, None
        # As in SQL, ordering columns take part in DISTINCT (Django documents
        # this); order_by() without arguments removes them.
        ordering_paths = [order.path for order in nq.ordering]
        ordering_paths += [order.path for hops, order in self.related_ordering if not hops]
        if distinct and nq.columns is not None:
            nq.columns += [p[0] for p in ordering_paths if p[0] not in nq.columns]
        if self.related_ordering:
            documents = self._sorted_client_side(nq)
        else:
            documents = list(self.store.fetch(nq))
        if distinct:
            seen = set()
            unique = []
            for document in documents:
                key = repr(
                    [_dig(document, (c, *p)) for _, c, p, _ in self.selections]
                    + [_dig(document, path) for path in ordering_paths]
                )
                if key not in seen:
                    seen.add(key)
                    unique.append(document)
            documents = unique
        return documents[low:high]

    def _sorted_client_side(self, nq: NonrelQuery) -> list[dict[str, Any]]:
        """Rows ordered by related models' values: one ``in`` query per relation hop."""
        if nq.columns is not None:
            needed = [hops[0].column for hops, _ in self.related_ordering if hops]
            needed += [order.path[0] for hops, order in self.related_ordering if not hops]
            nq.columns += [c for c in dict.fromkeys(needed) if c not in nq.columns]
        documents = list(self.store.fetch(nq))
        positions = list(range(len(documents)))
        for hops, order in reversed(self.related_ordering):
            values = self._ordering_values(documents, hops, order.path)
            positions.sort(
                key=lambda i, v=values: (v[i] is not None, v[i]), reverse=order.descending
            )
        return [documents[i] for i in positions]

    def _ordering_values(self, documents, hops, path) -> list[Any]:
        if not hops:
            return [_dig(document, path) for document in documents]
        current = [document.get(hops[0].column) for document in documents]
        for index, hop in enumerate(hops):
            opts = hop.related_model._meta
            target = hop.target_field.column
            next_path = (hops[index + 1].column,) if index + 1 < len(hops) else path
            keys = list({value for value in current if value is not None})
            lookup = NonrelQuery(
                table=opts.db_table,
                pk_column=opts.pk.column,
                where=Node(children=[Leaf((target,), "in", keys)]),
                columns=list(dict.fromkeys([target, next_path[0]])),
                matches_nothing=not keys,
            )
            found = {row[target]: _dig(row, next_path) for row in self.store.fetch(lookup)}
            current = [found.get(value) for value in current]
        return current

    def has_results(self) -> bool:
        nq = self.build_query(with_projection=False)
        return not nq.matches_nothing and self.store.exists(nq)

    def execute_sql(
        self, result_type=MULTI, chunked_fetch=False, chunk_size=GET_ITERATOR_CHUNK_SIZE
    ):
        if result_type == SINGLE:
            return self.execute_aggregate(self.query)
        if result_type == MULTI:
            return self.results_iter(chunked_fetch=chunked_fetch, chunk_size=chunk_size)
        raise _unsupported(f"execute_sql({result_type!r}) on a read", "")

    # -- aggregation --------------------------------------------------------
    def execute_aggregate(self, query: Query, source_query: Query | None = None) -> tuple:
        """aggregate()/count() of ``source_query``'s rows: one value per annotation."""
        source_query = source_query or query
        annotations = query.annotation_select
        if (
            source_query.group_by is not None
            and source_query.group_by is not True
            and (source_query.group_by)
        ):
            raise _unsupported(
                "values().annotate() grouping", "Group in Python, or use aggregate()."
            )
        specs = [self._aggregate_spec(alias, expr) for alias, expr in annotations.items()]
        compiler = (
            self if source_query is query else source_query.get_compiler(connection=self.connection)
        )
        nq = compiler.build_query(with_projection=False)
        if source_query is not query and source_query.distinct and source_query.select:
            nq.columns = [col.target.column for col in source_query.select]
        if nq.matches_nothing:
            row = {spec.alias: (0 if spec.function == "count" else None) for spec in specs}
        elif all(s.function == "count" and s.path is None for s in specs) and not (
            nq.distinct and nq.columns
        ):
            total = self.store.count(nq)
            row = {spec.alias: total for spec in specs}
        else:
            row = self.store.aggregate(nq, specs)[0]
        return tuple(row[alias] for alias in annotations)

    def _aggregate_spec(self, alias: str, expr: Any) -> Aggregate:
        function = next(
            (name for cls, name in AGGREGATE_FUNCTIONS.items() if type(expr) is cls), None
        )
        if function is None or not isinstance(expr, DjangoAggregate):
            raise _unsupported(
                f"The aggregate {alias!r} ({type(expr).__name__})",
                "Use Count, Sum, Avg, Min or Max over a model field.",
            )
        if getattr(expr, "filter", None) is not None:
            raise _unsupported("Aggregates with filter=", "Filter the queryset before aggregating.")
        source = expr.get_source_expressions()[0]
        while isinstance(source, Ref):
            source = source.source
        if isinstance(source, Star) or (isinstance(source, Value) and function == "count"):
            return Aggregate(alias=alias, function=function, distinct=expr.distinct)
        if isinstance(source, Col):
            return Aggregate(
                alias=alias,
                function=function,
                path=(source.target.column,),
                distinct=expr.distinct,
            )
        raise _unsupported(
            f"The aggregate {alias!r} over {type(source).__name__}",
            "Aggregate over a model field.",
        )

    def as_sql(self, with_limits=True, with_col_aliases=False):
        """A readable description of the command (``str(queryset.query)``)."""
        return self.store.describe(self.build_query()), ()


def _dig(document: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    """The value at ``path`` inside a stored row, comparable in Python."""
    value: Any = document
    for segment in path:
        try:
            value = value[segment]
        except (KeyError, IndexError, TypeError):
            return None
    return value.to_decimal() if hasattr(value, "to_decimal") else value


#: Stock field classes whose pre_save() reads the attribute and whose save
#: preparation returns a value of the given exact type unchanged (Django's
#: ``get_prep_value`` is ``str``/``int``/``float``/``bool`` conversion, and the
#: base ``adapt_integerfield_value`` returns its value). Subclasses are not
#: listed: they may override either.
PASSTHROUGH_TYPES = {
    models.CharField: str,
    models.TextField: str,
    models.EmailField: str,
    models.SlugField: str,
    models.URLField: str,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.FloatField: float,
    models.BooleanField: bool,
}


def passthrough_type(field: Any, connection) -> type | None:
    """The value type ``field`` stores unchanged on insert, or None to prepare every value."""
    kind = PASSTHROUGH_TYPES.get(type(field))
    if kind is None or field.primary_key or field.has_db_default():
        return None
    adapt = type(connection.ops).adapt_integerfield_value
    if kind is int and adapt is not BaseDatabaseOperations.adapt_integerfield_value:
        return None
    return kind


class NonrelInsertCompiler(sql.SQLInsertCompiler):
    """save() of a new row and bulk_create(): one insert command per batch."""

    def prepare_value(self, field, value):
        """Literal values only: a db_default becomes its literal, other expressions fail."""
        if isinstance(value, DatabaseDefault):
            value = field._db_default_expression
        if hasattr(value, "resolve_expression"):
            if not isinstance(value, Value):
                raise _unsupported(
                    f"Saving the expression {value!r} into {field.model.__name__}.{field.name}",
                    "Compute the value in Python before saving (or use a literal db_default).",
                )
            value = value.value
        return field.get_db_prep_save(value, connection=self.connection)

    def _rows(self, fields: list[Any]) -> list[dict[str, Any]]:
        """The stored row of each object: pre_save, then the field's save preparation.

        Stock scalar fields holding a value of their own Python type are copied
        as they are: Django's preparation returns such values unchanged, and
        skipping it is most of the client time of a bulk insert.
        """
        plan = [
            (field, field.column, field.attname, passthrough_type(field, self.connection))
            for field in fields
        ]
        rows = []
        for obj in self.query.objs:
            row = {}
            for field, column, attname, kind in plan:
                if kind is not None:
                    value = getattr(obj, attname)
                    if type(value) is kind:
                        row[column] = value
                        continue
                else:
                    value = self.pre_save_val(field, obj)
                row[column] = self.prepare_value(field, value)
            rows.append(row)
        return rows

    def execute_sql(self, returning_fields=None):
        query = self.query
        opts = query.get_meta()
        store = self.connection.store
        fields = list(query.fields)
        rows = self._rows(fields)
        auto = opts.auto_field
        integer_keys = auto is not None and auto.get_internal_type() in INTEGER_AUTO_FIELDS
        if integer_keys and auto not in fields and rows:
            pks = store.allocate_keys(opts.db_table, auto, len(rows))
            for row, pk in zip(rows, pks, strict=True):
                row[auto.column] = pk
        elif integer_keys:
            store.note_explicit_keys(opts.db_table, [row.get(auto.column) for row in rows])
        features = self.connection.features
        if getattr(features, "checks_not_null", False):
            required = not_null_fields(query.model, fields)
            for row in rows:
                check_required(query.model, row, required)
        if getattr(features, "stores_unique_nulls_as_absent", False):
            absent = absent_when_null(query.model)
            rows = [
                {k: v for k, v in row.items() if v is not None or k not in absent} for row in rows
            ]
        on_conflict = getattr(query, "on_conflict", None)
        pks = (
            store.insert(
                opts.db_table,
                rows,
                opts.pk.column,
                ignore_conflicts=on_conflict is not None and on_conflict.name == "IGNORE",
            )
            if rows
            else []
        )
        if on_conflict is not None and on_conflict.name == "UPDATE":
            raise _unsupported("bulk_create(update_conflicts=True)", "Use update_or_create().")
        if not returning_fields:
            return []
        values = []
        for pk, row in zip(pks, rows, strict=True):
            values.append(
                tuple(pk if f.primary_key else row.get(f.column) for f in returning_fields)
            )
        cols = [f.get_col(opts.db_table) for f in returning_fields]
        converters = self.get_converters(cols)
        if converters:
            values = list(self.apply_converters(values, converters))
        return values


class NonrelDeleteCompiler(NonrelCompiler, sql.SQLDeleteCompiler):
    """QuerySet.delete() fast path and Collector batches: one delete command."""

    def execute_sql(self, result_type=MULTI, **kwargs):
        nq = self.build_query(with_projection=False)
        count = 0 if nq.matches_nothing else self.store.delete(nq)
        return RowCountCursor(count) if result_type == CURSOR else count


class NonrelUpdateCompiler(NonrelCompiler, sql.SQLUpdateCompiler):
    """QuerySet.update(): one update command, F() arithmetic as $inc/$mul."""

    def execute_sql(self, result_type):
        nq = self.build_query(with_projection=False)
        values = {}
        fields = []
        for field, _model, value in self.query.values:
            values[field.column] = self._update_value(field, value)
            fields.append(field)
        features = self.connection.features
        if getattr(features, "checks_not_null", False):
            literal = {c: v.value for c, v in values.items() if v.operator == "set"}
            check_not_null(self.query.model, literal, fields)
        if getattr(features, "stores_unique_nulls_as_absent", False):
            absent = absent_when_null(self.query.model)
            for column, value in values.items():
                if column in absent and value.operator == "set" and value.value is None:
                    values[column] = UpdateValue("unset", None)
        count = 0
        if values and not nq.matches_nothing:
            count = self.store.update(nq, values)
        for related in self.query.get_related_updates():
            related.get_compiler(self.using).execute_sql(result_type)
        return RowCountCursor(count) if result_type == CURSOR else count

    def _update_value(self, field, value) -> UpdateValue:
        if hasattr(value, "resolve_expression"):
            value = value.resolve_expression(self.query, allow_joins=False, for_save=True)
            if isinstance(value, Value):
                value = value.value
            elif isinstance(value, CombinedExpression):
                return self._arithmetic(field, value)
            else:
                raise _unsupported(
                    f"update({field.name}={type(value).__name__})",
                    "Use literal values, or F('field') + number / F('field') * number.",
                )
        if hasattr(value, "prepare_database_save"):
            value = value.prepare_database_save(field) if field.remote_field else value
        return UpdateValue("set", field.get_db_prep_save(value, connection=self.connection))

    def _arithmetic(self, field, expr: CombinedExpression) -> UpdateValue:
        lhs, rhs = expr.lhs, expr.rhs
        if (
            isinstance(lhs, Col)
            and lhs.target.column == field.column
            and isinstance(rhs, Value)
            and expr.connector in ("+", "-", "*")
        ):
            amount = rhs.value
            if expr.connector == "-":
                amount = -amount
            operator = "mul" if expr.connector == "*" else "inc"
            return UpdateValue(operator, field.get_db_prep_save(amount, self.connection))
        raise _unsupported(
            f"update({field.name}=<{expr}>)",
            "Use F('same_field') + n, - n or * n; compute other values in Python.",
        )

    def pre_sql_setup(self):
        return None


class NonrelAggregateCompiler(NonrelCompiler):
    """aggregate()/count() over a sliced, distinct or annotated queryset."""

    def execute_sql(self, result_type=MULTI, **kwargs):
        return self.execute_aggregate(self.query, self.query.inner_query)

    def as_sql(self, with_limits=True, with_col_aliases=False):
        inner = self.query.inner_query.get_compiler(connection=self.connection)
        return inner.as_sql()
