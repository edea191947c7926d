"""select_related() without JOINs: the related objects of a read, one command per step.

``related_steps`` walks the relations ``select_related()`` asks for, with
Django's rules and error messages (``SQLCompiler.get_related_selections``):
without arguments every non-null forward foreign key and one-to-one down to
``query.max_depth``; with names those forward relations and reverse one-to-ones,
at any depth. ``related_selections`` then loads them for the rows of a read:
one ``in`` command per step (plus one per multi-table-inheritance parent of a
related model the row does not already hold), whatever the number of rows.
The ``structured_rows`` patch builds the instances from what it returns.

A ``FilteredRelation()`` named in ``select_related()`` (top level only, as in
Django) is joined like the alias of a ``values()`` read: Django's
``setup_joins`` makes its join (INNER or LEFT OUTER as on SQL), the row engine
fetches it by key with the relation's condition, and a path through a
multi-valued relation repeats the row once per related row, as the JOIN does.
Its object is then taken from the joined row (``RelatedStep.alias``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldError
from django.db import NotSupportedError
from django.db.models.query_utils import select_related_descend

from django_nonrel.paths import hashable
from django_nonrel.query import Filter
from django_nonrel.relations import (
    fetch_by_keys,
    restriction_filters,
    row_key,
)

#: Per row of a read, the stored documents of an object by concrete model
#: (its own and its multi-table-inheritance parents'), or None.
Sources = list[dict[Any, Any] | None]


@dataclass(frozen=True)
class RelatedStep:
    """One select_related() hop: ``path`` (names from the queried model), its parent path,
    the FK/one-to-one ``field``, whether it is followed in ``reverse`` and the target model."""

    path: tuple[str, ...]
    parent: tuple[str, ...]
    field: Any
    reverse: bool
    model: Any
    #: Django's select mask of the related model (only()/defer()); empty: every field.
    mask: Any = None
    #: A FilteredRelation()'s join alias: the object is the row's joined
    #: document there, not a key lookup (``field`` is the last hop's field).
    alias: str | None = None
    #: A FilteredRelation() over one relation: the object also caches the row
    #: it was selected from (Django's ``local_setter``, not for longer paths).
    caches_parent: bool = False

    @property
    def fields(self) -> list[Any]:
        """The related model's concrete fields this step loads (deferred ones are not)."""
        fields = self.model._meta.concrete_fields
        return [f for f in fields if not self.mask or f in self.mask]

    @property
    def parent_key(self):
        """The field whose value on the parent row is the key to look up."""
        return self.field.target_field if self.reverse else self.field

    @property
    def key(self):
        """The field of the related model the key is matched against."""
        return self.field if self.reverse else self.field.target_field

    @property
    def parent_columns(self) -> tuple[str, ...]:
        """The parent row's key columns (several for a ``ForeignObject`` over
        several fields)."""
        return tuple(pair[1 if self.reverse else 0].column for pair in self.field.related_fields)

    @property
    def key_columns(self) -> tuple[str, ...]:
        """The related model's columns matched against ``parent_columns``."""
        return tuple(pair[0 if self.reverse else 1].column for pair in self.field.related_fields)


def related_steps(query, base_alias: str) -> list[RelatedStep]:
    """The select_related() tree of ``query``, parents before children (Django's rules).

    A FilteredRelation() it names is joined into ``query`` from ``base_alias``,
    as Django's compiler does when it compiles the read.
    """
    if not query.select_related:
        return []
    steps: list[RelatedStep] = []
    requested = query.select_related if isinstance(query.select_related, dict) else None
    opts, mask, filtered = query.get_meta(), query.get_select_mask(), query._filtered_relations
    _walk(steps, query.max_depth, opts, (), requested, 1, mask, filtered)
    for name in requested or ():
        if name in filtered:
            _filtered_step(steps, query, base_alias, name, requested[name], mask)
    return steps


def _filtered_step(steps, query, base_alias: str, name: str, nested, mask) -> None:
    """The step of ``select_related(name)`` for the FilteredRelation ``name``, and
    the relations selected below it (Django's ``get_related_selections``)."""
    field, _, opts, joins, _, _ = query.setup_joins([name], query.get_meta(), base_alias)
    related_mask = mask.get((name, field)) or {}
    steps.append(
        RelatedStep((name,), (), field, True, opts.model, related_mask, joins[-1], len(joins) <= 2)
    )
    _walk(steps, query.max_depth, opts, (name,), nested, 2, related_mask)


def filtered_reads(steps: list[RelatedStep]) -> list[tuple[str, str]]:
    """(alias, column) a read fetches for its FilteredRelation() steps' joined rows."""
    return [
        (step.alias, column)
        for step in steps
        if step.alias is not None
        for column in _own_columns(step, steps)
    ]


def _walk(steps, max_depth, opts, prefix, requested, depth, mask, filtered=()) -> None:
    """``filtered``: the query's FilteredRelation names (selected by
    ``related_steps``), choices at the top level as in Django's messages."""
    restricted = requested is not None
    if not restricted and depth > max_depth:
        return
    found = set(filtered)
    for field in opts.fields:
        found.add(field.name)
        if restricted and not field.is_relation and field.name in requested:
            raise FieldError(
                f"Non-relational field given in select_related: '{field.name}'. "
                f"Choices are: {', '.join(_relation_choices(opts)) or '(none)'}"
            )
        if not select_related_descend(field, restricted, requested, mask):
            continue
        path = (*prefix, field.name)
        related_mask = mask.get(field) or {}
        steps.append(
            RelatedStep(path, prefix, field, False, field.remote_field.model, related_mask)
        )
        nested = requested.get(field.name, {}) if restricted else None
        _walk(
            steps,
            max_depth,
            field.remote_field.model._meta,
            path,
            nested,
            depth + 1,
            related_mask,
        )
    if not restricted:
        return
    for rel in opts.related_objects:
        if not rel.field.unique or rel.many_to_many:
            continue
        if not select_related_descend(rel, restricted, requested, mask):
            continue
        name = rel.field.related_query_name()
        found.add(name)
        path = (*prefix, name)
        related_mask = mask.get(rel) or {}
        steps.append(RelatedStep(path, prefix, rel.field, True, rel.related_model, related_mask))
        nested = requested.get(name, {})
        _walk(steps, max_depth, rel.related_model._meta, path, nested, depth + 1, related_mask)
    invalid = set(requested) - found
    if invalid:
        raise FieldError(
            "Invalid field name(s) given in select_related: "
            f"{', '.join(sorted(repr(n) for n in invalid))}. "
            f"Choices are: {', '.join(_relation_choices(opts, filtered)) or '(none)'}"
        )


def _relation_choices(opts, filtered=()) -> list[str]:
    direct = [f.name for f in opts.fields if f.is_relation]
    reverse = [r.field.related_query_name() for r in opts.related_objects if r.field.unique]
    return direct + reverse + list(filtered)


def select_related_columns(opts, steps: list[RelatedStep]) -> list[str]:
    """Columns of the queried model (``opts``) the first hops follow: a read projects them."""
    return [
        column
        for step in steps
        if not step.parent
        and step.alias is None
        and step.parent_key.model._meta.concrete_model is opts.concrete_model
        for column in step.parent_columns
    ]


def related_selections(
    connection, steps: list[RelatedStep], roots: Sources, joined: list[dict] | None = None
) -> list[dict]:
    """Per row, ``{"author": {attname: value} | None, "author__agent": ...}``.

    ``roots`` holds each row's documents of the queried model and of the
    parents the read joined (by concrete model); ``joined`` the read's rows
    (``{alias: document}``), where a FilteredRelation() step finds its
    documents. One ``in`` command per step (plus one per
    multi-table-inheritance parent of a related model that the parent row
    does not already hold), whatever the number of rows.
    """
    store = connection.store
    limit = connection.features.max_keys_per_command
    # Per path: for each row, the stored documents of the related object by
    # concrete model (its own and its parents'), or None.
    sources: dict[tuple, Sources] = {(): roots}
    selections: dict[tuple, list[Any]] = {}
    for step in steps:
        if step.alias is not None:
            own = [row.get(step.alias) for row in joined or ()]
            sources[step.path] = _with_parents(store, step.model, own, limit)
            selections[step.path] = _model_values(connection, step, sources[step.path])
            continue
        parents = sources[step.parent]
        owner = step.parent_key.model._meta.concrete_model
        key_columns = step.key_columns

        def key(parent, owner=owner, columns=step.parent_columns):
            return row_key(parent.get(owner) if parent is not None else None, columns)

        keys = [key(parent) for parent in parents]
        opts = step.model._meta.concrete_model._meta
        by = key_columns if len(key_columns) > 1 else key_columns[0]
        columns = _own_columns(step, steps)
        found = fetch_by_keys(store, limit, opts, by, keys, columns, _restriction(connection, step))
        own = [(found.get(k) or [None])[0] if k is not None else None for k in keys]
        known = (
            parents
            if step.reverse and getattr(step.field.remote_field, "parent_link", False)
            else None
        )
        sources[step.path] = _with_parents(store, step.model, own, limit, known)
        selections[step.path] = _model_values(connection, step, sources[step.path])
    return [
        {"__".join(path): values[index] for path, values in selections.items()}
        for index in range(len(roots))
    ]


def _own_columns(step: RelatedStep, steps: list[RelatedStep]) -> list[str]:
    """The columns of the related model's own table a step reads: its loaded
    fields, the keys the steps below it start from, its primary key."""
    opts = step.model._meta.concrete_model._meta
    own_model = opts.concrete_model
    columns = [f.column for f in step.fields if f.model._meta.concrete_model is own_model]
    columns += [
        column
        for child in steps
        if child.parent == step.path and child.parent_key.model._meta.concrete_model is own_model
        for column in child.parent_columns
    ]
    columns.append(opts.pk.column)
    return columns


def _restriction(connection, step: RelatedStep) -> Filter:
    """The condition a relation's join puts on the related rows (its
    ``get_extra_restriction()``), as a JOIN's ON clause would."""
    relation = step.field.remote_field if step.reverse else step.field
    related, parent = restriction_filters(connection, relation, "related", "parent")
    if parent is not True:
        raise NotSupportedError(
            f"select_related({'__'.join(step.path)!r}) follows a relation whose join "
            "condition restricts the row it starts from; this backend cannot apply it "
            "while loading related rows. Use prefetch_related() or read the relation "
            "separately."
        )
    return related


def _with_parents(store, model, documents, limit, known=None) -> Sources:
    """Per stored row of ``model``: ``{concrete model: document}`` with its MTI parents.

    Parents come from ``known`` (the row we came from, when following a
    parent link in reverse) or are fetched one command per parent model,
    by the value of the child's link to it: the child's own key for its
    first parent, but a second parent (``class Child(Parent1, Parent2)``)
    has its own key, stored in the child's ``parent2_ptr`` column.
    """
    opts = model._meta
    inherited = known or [None] * len(documents)
    result = [
        None if d is None else {**(k or {}), opts.concrete_model: d}
        for d, k in zip(documents, inherited, strict=True)
    ]
    entries = [entry for entry in result if entry is not None]
    children = [opts.concrete_model]
    while children:
        child = children.pop(0)
        for parent, link in child._meta.parents.items():
            parent = parent._meta.concrete_model
            children.append(parent)
            missing = [entry for entry in entries if parent not in entry]
            if link is None or not missing:
                continue
            keys = [entry[child].get(link.column) for entry in missing if entry.get(child)]
            parent_opts = parent._meta
            found = fetch_by_keys(store, limit, parent_opts, link.target_field.column, keys)
            for entry in missing:
                link_value = entry[child].get(link.column) if entry.get(child) else None
                entry[parent] = (found.get(hashable(link_value)) or [None])[0]
    return result


def _model_values(connection, step: RelatedStep, sources: Sources) -> list[Any]:
    """``{attname: value}`` per related object (None stays None), converters applied."""
    ops = connection.ops
    fields = []
    for field in step.fields:
        col = field.get_col("related")
        functions = ops.get_db_converters(col) + col.get_db_converters(connection)
        fields.append((field, field.model._meta.concrete_model, functions, col))
    values = []
    for source in sources:
        if source is None:
            values.append(None)
            continue
        row = {}
        for field, owner, functions, col in fields:
            stored = source.get(owner)
            value = None if stored is None else stored.get(field.column)
            for function in functions:
                value = function(value, col, connection)
            row[field.attname] = value
        values.append(row)
    return values
