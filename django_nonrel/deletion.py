"""Cascade deletes by key sets, and the setting that lets a project take cascades over.

Django's ``Collector`` loads every child row that a cascade reaches (only the
fields it needs, but still one model instance per row) so that it can send
``pre_delete``/``post_delete`` for each and apply each ``on_delete`` rule. When
no model a cascade deletes has delete signals, nothing needs the instances: the
cascade can be run on key sets. ``cascade_by_key_sets`` reads only the keys of
the children that have children of their own (one ``find`` projected on the
keys per relation and per ``max_keys_per_command`` keys), then deletes every
level with one ``delete_many`` per relation on ``fk__in=<parent keys>`` and
applies ``SET_NULL``/``SET_DEFAULT``/``SET(...)`` with one ``update_many`` per
relation. Deleting a parent with 10,000 children is a handful of commands and
never builds 10,000 model instances.

It declines (returns False, and Django's collector runs as usual) whenever
Django's semantics need the instances or a check: delete signals on any model
the cascade deletes, ``PROTECT``/``RESTRICT`` or a custom ``on_delete``
function, generic relations, multi-table inheritance, foreign keys over several
columns, and collectors other than Django's own (the admin's ``NestedObjects``
collects to *show* what would be deleted, and must see every object).

A project can take cascades over entirely with the setting
``NONREL_CASCADE_HANDLER = "dotted.path.to.handler"``; see ``cascade_handler``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import CASCADE, DO_NOTHING, SET_NULL, Model, QuerySet, signals
from django.db.models.deletion import Collector, get_candidate_relations_to_delete
from django.utils.module_loading import import_string

from django_nonrel.sharding import routing_attnames

#: ``handler(collector, objs, **collect_kwargs) -> bool``: True when it took the cascade over.
CascadeHandler = Callable[..., bool]


def cascade_handler() -> CascadeHandler | None:
    """The project's handler from ``settings.NONREL_CASCADE_HANDLER``, if one is set.

    The handler is called with the ``Collector``, the objects being deleted (a
    queryset or a list of instances of one model) and ``collect()``'s keyword
    arguments, for every top-level ``collect()`` on every database
    (``collector.using`` names it). Returning True means the handler has done
    the cascade or scheduled it and has filled the collector with what must be
    deleted now (at least ``collector.add(objs)`` for the objects themselves);
    returning False hands the cascade on to the backend and then to Django.
    """
    path = getattr(settings, "NONREL_CASCADE_HANDLER", None)
    return import_string(path) if path else None


def _has_delete_signals(model: type[Model]) -> bool:
    return signals.pre_delete.has_listeners(model) or signals.post_delete.has_listeners(model)


def _relations(model: type[Model]) -> list:
    return [
        relation
        for relation in get_candidate_relations_to_delete(model._meta)
        if relation.field.remote_field.on_delete is not DO_NOTHING
    ]


def _is_set_rule(on_delete) -> bool:
    """SET_NULL, SET_DEFAULT and SET(value) only record a field update on the children."""
    return on_delete is SET_NULL or getattr(on_delete, "__name__", "") in (
        "SET_DEFAULT",
        "set_on_delete",
    )


def _computes_value(on_delete) -> bool:
    """Whether Django evaluates the children before applying ``on_delete``.

    Django marks the rules that never need to (SET_NULL, SET(constant)) with
    ``lazy_sub_objs``; the others (SET_DEFAULT, SET(callable)) compute their
    value only when children exist, and that may have side effects.
    """
    return not getattr(on_delete, "lazy_sub_objs", False)


def _single_column(relation) -> bool:
    field = relation.field
    return len(field.foreign_related_fields) == 1 and not field.remote_field.parent_link


def can_cascade_by_key_sets(model: type[Model]) -> bool:
    """Whether every model a delete of ``model`` reaches can be handled on keys alone."""
    seen: set[type[Model]] = set()
    pending = [model._meta.concrete_model]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        meta = current._meta
        if _has_delete_signals(current) or meta.parents or meta.private_fields:
            return False
        for relation in _relations(current):
            on_delete = relation.field.remote_field.on_delete
            if not _single_column(relation):
                return False
            if on_delete is CASCADE:
                pending.append(relation.related_model._meta.concrete_model)
            elif not _is_set_rule(on_delete):
                return False
    return True


def _chunks(keys: list[Any], size: int | None) -> Iterable[list[Any]]:
    """``keys`` in slices of ``size`` (None: the backend has no limit, one slice)."""
    size = size or len(keys) or 1
    for offset in range(0, len(keys), size):
        yield keys[offset : offset + size]


def cascade_by_key_sets(collector: Collector, objs, **collect_kwargs) -> bool:
    """Run the cascade of deleting ``objs`` on key sets (see the module docstring).

    Fills ``collector`` so that its ``delete()`` does the work: the objects
    themselves as collected instances (a list) or a ``pk__in`` fast delete (a
    queryset), every cascaded level as ``fk__in`` fast deletes, and the SET
    rules as queryset field updates.
    """
    if type(collector) is not Collector or not collect_kwargs.get("collect_related", True):
        return False
    if collect_kwargs.get("keep_parents") or collect_kwargs.get("reverse_dependency"):
        return False
    model = objs.model if isinstance(objs, QuerySet) else type(objs[0]) if objs else None
    if model is None or not _relations(model) or not can_cascade_by_key_sets(model):
        return False
    if _has_delete_signals(model):  # a proxy's receivers (the walk checks concrete models)
        return False
    using = collector.using
    size = connections[using].features.max_keys_per_command
    model = model._meta.concrete_model
    if isinstance(objs, QuerySet):
        # The shard key comes along (a sharded model's), so that a sharded
        # cluster routes the delete of these rows only to the shards holding them.
        routing = set(routing_attnames(model))
        pk_attname = model._meta.pk.attname
        attnames = [
            field.attname
            for field in model._meta.concrete_fields
            if field.attname == pk_attname or field.attname in routing
        ]
        rows = list(objs.values_list(*attnames))
        keys = [row[attnames.index(pk_attname)] for row in rows]
        # As collected instances (key and shard key only), so that they are
        # deleted last (see _cascade).
        collector.add([model.from_db(using, attnames, list(row)) for row in rows])
    else:
        collector.add(list(objs))
        keys = [obj.pk for obj in objs]
    _cascade(collector, model, keys, using, size)
    return True


def _cascade(collector: Collector, model: type[Model], keys: list[Any], using: str, size: int):
    """Delete (or SET) the children of ``keys`` of ``model``, level by level.

    ``deleted`` remembers the keys already deleted per model so that cycles
    (a tree of self-referencing rows) end. The levels are deleted deepest
    first, then the SET rules run, then the objects themselves go (Django's
    collector runs fast deletes, field updates, collected instances, in that
    order): where no transaction holds the cascade together (MongoDB without
    a replica set), a cascade cut short by a failure leaves the parent with
    fewer children -- never children without their parent, which a second
    delete could no longer find -- and deleting it again completes it.
    """
    deleted: dict[type[Model], set[Any]] = defaultdict(set)
    deleted[model].update(keys)
    levels: list[QuerySet] = []
    pending = [(model, keys)]
    while pending:
        parent, parent_keys = pending.pop()
        for relation in _relations(parent):
            field = relation.field
            child = relation.related_model._meta.concrete_model
            target = field.target_field.attname
            values = parent_keys
            if target != parent._meta.pk.attname:
                values = _values_of(parent, target, parent_keys, using, size)
            for chunk in _chunks(values, size):
                children = child._base_manager.using(using).filter(**{f"{field.name}__in": chunk})
                on_delete = field.remote_field.on_delete
                if on_delete is not CASCADE:
                    # Django calls a SET(callable)/SET_DEFAULT only when children exist.
                    if _computes_value(on_delete) and not children.exists():
                        continue
                    on_delete(collector, field, children, using)
                    continue
                if _relations(child):
                    child_keys = [
                        key
                        for key in children.values_list("pk", flat=True)
                        if key not in deleted[child]
                    ]
                    deleted[child].update(child_keys)
                    if child_keys:
                        pending.append((child, child_keys))
                levels.append(children)
    # A level is found after the level it hangs from: reversed, children come first.
    collector.fast_deletes.extend(reversed(levels))


def _values_of(model: type[Model], attname: str, keys: list[Any], using: str, size: int):
    """The values of a ``to_field`` target column for the rows with ``keys``."""
    values: list[Any] = []
    for chunk in _chunks(keys, size):
        rows = model._base_manager.using(using).filter(pk__in=chunk)
        values.extend(v for v in rows.values_list(attname, flat=True) if v is not None)
    return values
