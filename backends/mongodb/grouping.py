"""Aggregation on MongoDB: ``aggregate()`` and grouped partials as ``$group`` pipelines.

``MongoAggregation`` gives ``MongoStore`` the two aggregation primitives of the
``DocumentStore`` contract. Where the server has the accumulators a group is
one ``$group`` stage; FerretDB v1 answers only ``$sum``/``$count`` right, so
there the projected rows are folded in Python (``fold_groups``), still one
command; counts are ``count_documents`` or ``distinct``.

The methods use the store's own ``run``, ``collection``, ``filter_document``,
``sort_spec``, ``count`` and ``distinct_values``: a mixin of ``MongoStore``
only, split from it by what it does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import NotSupportedError

from django_nonrel.aggregation.partials import (
    ROW_FOLDED,
    Groups,
    Partial,
    add_group,
    by_filter,
    restricted,
)
from django_nonrel.paths import dig, hashable
from django_nonrel.query import Aggregate, NonrelQuery

from .filters import ID, field_path


class MongoAggregation:
    """``aggregate`` and ``aggregate_groups`` of ``MongoStore``."""

    def aggregate(
        self, query: NonrelQuery, aggregates: Sequence[Aggregate], group_by: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        if group_by:
            raise NotSupportedError("Grouped aggregation arrives with values().annotate().")
        result: dict[str, Any] = {}
        grouped = []
        for spec in aggregates:
            if spec.function == "count":
                result[spec.alias] = self._count_aggregate(query, spec)
            else:
                grouped.append(spec)
        if grouped:
            result.update(self._group(query, grouped))
        return [result]

    def aggregate_groups(
        self,
        query: NonrelQuery,
        aggregates: Sequence[Aggregate],
        group_by: Sequence[tuple[str | int, ...]] = (),
    ) -> Groups:
        """One ``$group`` per distinct aggregate ``filter=`` where the server has the
        accumulators; the portable projected ``find`` folded in Python elsewhere."""
        features = self.connection.features
        if (
            not features.supports_group_accumulators
            or (any(spec.distinct for spec in aggregates) and not features.supports_set_accumulator)
            or any(spec.function in ROW_FOLDED for spec in aggregates)
            or any(map(_indexes_an_array, [*group_by, *(spec.path for spec in aggregates)]))
        ):
            return super().aggregate_groups(query, aggregates, group_by)
        groups: Groups = {}
        if not group_by:
            groups[()] = ((), {spec.alias: Partial() for spec in aggregates})
        for extra, members in by_filter(aggregates):
            if extra is None and not members and not group_by:
                continue
            narrowed = restricted(query, extra, None)
            pipeline = [
                *self._pipeline_head(narrowed),
                {"$group": self._accumulators(query.pk_column, group_by, members)},
            ]
            for document in self._aggregate_pipeline(query.table, pipeline):
                key = document[ID] or {}
                key_values = tuple(dig(key, (f"k{i}",)) for i in range(len(group_by)))
                add_group(
                    groups,
                    key_values,
                    {
                        spec.alias: self._partial(document, index, spec)
                        for index, spec in enumerate(members)
                    },
                )
        for _, partials in groups.values():
            for spec in aggregates:
                partials.setdefault(spec.alias, Partial())
        return groups

    @staticmethod
    def _accumulators(pk_column: str, group_by, specs: Sequence[Aggregate]) -> dict[str, Any]:
        group: dict[str, Any] = {
            ID: {f"k{i}": f"${field_path(path, pk_column)}" for i, path in enumerate(group_by)}
            or None
        }
        for index, spec in enumerate(specs):
            group[f"r{index}"] = {"$sum": 1}
            if spec.path is None:
                continue
            value = f"${field_path(spec.path, pk_column)}"
            is_null = {"$eq": [{"$ifNull": [value, None]}, None]}
            group[f"c{index}"] = {"$sum": {"$cond": [is_null, 0, 1]}}
            group[f"t{index}"] = {"$sum": value}
            group[f"l{index}"] = {"$min": value}
            group[f"h{index}"] = {"$max": value}
            if spec.distinct:
                group[f"v{index}"] = {"$addToSet": value}
        return group

    @staticmethod
    def _partial(document: dict[str, Any], index: int, spec: Aggregate) -> Partial:
        rows = document[f"r{index}"]
        if spec.path is None:
            return Partial(rows=rows, count=rows)
        count = document[f"c{index}"]
        partial = Partial(
            rows=rows,
            count=count,
            total=dig(document, (f"t{index}",)) if count else None,
            low=dig(document, (f"l{index}",)),
            high=dig(document, (f"h{index}",)),
        )
        if spec.distinct:
            partial.values = {}
            for value in document[f"v{index}"]:
                if value is not None:
                    value = value.to_decimal() if hasattr(value, "to_decimal") else value
                    partial.values.setdefault(hashable(value), value)
        return partial

    def _count_aggregate(self, query: NonrelQuery, spec: Aggregate) -> int:
        if query.distinct and query.columns:
            return len(self._distinct_rows(query))
        if spec.path is None:
            return self.count(query)
        path = field_path(spec.path, query.pk_column)
        if spec.distinct:
            if query.low or query.high is not None:
                raise NotSupportedError("Count(distinct=True) over a sliced queryset.")
            values = self.distinct_values(query, spec.path[0])
            return sum(1 for v in values if v is not None)
        narrowed = NonrelQuery(
            table=query.table,
            pk_column=query.pk_column,
            low=query.low,
            high=query.high,
            matches_nothing=query.matches_nothing,
            where=query.where,
        )
        filter_doc = {"$and": [self.filter_document(narrowed), {path: {"$ne": None}}]}
        collection = self.collection(query.table)
        kwargs = {k: v for k, v in (("skip", query.low), ("limit", query.limit)) if v}
        return self.run(
            f"db.{query.table}.countDocuments({filter_doc!r})",
            collection.count_documents,
            filter_doc,
            **kwargs,
        )

    def _distinct_rows(self, query: NonrelQuery) -> list[dict[str, Any]]:
        keys = {c.replace(".", "_"): f"${ID if c == query.pk_column else c}" for c in query.columns}
        pipeline = self._pipeline_head(query) + [{"$group": {ID: keys}}]
        return self._aggregate_pipeline(query.table, pipeline)

    def _pipeline_head(self, query: NonrelQuery) -> list[dict[str, Any]]:
        pipeline: list[dict[str, Any]] = [{"$match": self.filter_document(query)}]
        sort = self.sort_spec(query)
        if sort and (query.low or query.limit is not None):
            pipeline.append({"$sort": dict(sort)})
        if query.low:
            pipeline.append({"$skip": query.low})
        if query.limit is not None:
            pipeline.append({"$limit": query.limit})
        return pipeline

    def _aggregate_pipeline(self, table: str, pipeline: list[dict[str, Any]]) -> list[dict]:
        collection = self.collection(table)
        return self.run(
            f"db.{table}.aggregate({pipeline!r})", lambda: list(collection.aggregate(pipeline))
        )

    def _group(self, query: NonrelQuery, specs: Sequence[Aggregate]) -> dict[str, Any]:
        """Sum/Avg/Min/Max with the commands every compatible server has.

        FerretDB v1 implements ``$sum`` but not ``$avg``/``$min``/``$max`` in
        ``$group``, so Min and Max are a sorted ``find`` limited to one
        document, and Avg is the sum divided by the count of non-null values.
        SQL returns NULL for the sum of no values, where ``$sum`` gives 0; a
        zero sum is therefore checked against that count.
        """
        for spec in specs:
            if spec.distinct:
                raise NotSupportedError(
                    f"{spec.function.title()}(distinct=True) is not supported on MongoDB."
                )
        # One accumulator per $group: FerretDB v1 answers 0 for every
        # accumulator after the first in a stage.
        paths = {
            field_path(spec.path, query.pk_column)
            for spec in specs
            if spec.function in ("sum", "avg")
        }
        by_path: dict[str, Any] = {}
        for path in sorted(paths):
            group: dict[str, Any] = {ID: None, "total": {"$sum": f"${path}"}}
            pipeline = [*self._pipeline_head(query), {"$group": group}]
            rows = self._aggregate_pipeline(query.table, pipeline)
            by_path[path] = rows[0].get("total") if rows else None
        totals = {
            spec.alias: by_path.get(field_path(spec.path, query.pk_column))
            for spec in specs
            if spec.function in ("sum", "avg")
        }
        result: dict[str, Any] = {}
        for spec in specs:
            if spec.function in ("min", "max"):
                result[spec.alias] = self._extreme(query, spec)
                continue
            total = totals.get(spec.alias)
            if spec.function == "sum" and total not in (0, None):
                result[spec.alias] = total
                continue
            count = self._count_aggregate(query, Aggregate(spec.alias, "count", spec.path))
            if not count:
                result[spec.alias] = None
            elif spec.function == "sum":
                result[spec.alias] = total
            else:
                result[spec.alias] = total / count
        return result

    def _extreme(self, query: NonrelQuery, spec: Aggregate) -> Any:
        """Min or Max of a path: the first non-null value in sorted order."""
        path = field_path(spec.path, query.pk_column)
        if query.low or query.high is not None:
            raise NotSupportedError(f"{spec.function.title()}() over a sliced queryset.")
        filter_doc = {"$and": [self.filter_document(query), {path: {"$ne": None}}]}
        order = 1 if spec.function == "min" else -1
        collection = self.collection(query.table)
        documents = self.run(
            f"db.{query.table}.find({filter_doc!r}).sort({{{path!r}: {order}}}).limit(1)",
            lambda: list(collection.find(filter_doc, {path: 1}).sort(path, order).limit(1)),
        )
        if not documents:
            return None
        value: Any = documents[0]
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value


def _indexes_an_array(path: Sequence[str | int] | None) -> bool:
    """A path with a list index below the column (``data__d__0``): ``"$data.d.0"``
    in an aggregation expression never indexes an array (it maps the elements'
    field "0", giving ``[]``), so such groups are folded in Python from the
    projected rows, where the index means the element, as in SQL."""
    return path is not None and any(
        isinstance(segment, int) or (isinstance(segment, str) and segment.isdigit())
        for segment in path[1:]
    )
