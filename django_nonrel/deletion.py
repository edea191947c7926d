"""Cascade deletes by key sets, and the setting that lets a project take cascades over.

Django's ``Collector`` loads every child row that a cascade reaches (only the
fields it needs, but still one model instance per row) so that it can send
``pre_delete``/``post_delete`` for each and apply each ``on_delete`` rule. When
no model a cascade deletes has delete signals, nothing needs the instances: the
cascade can be run on key sets. ``cascade_by_key_sets`` reads only the keys of
the children that have children of their own (one ``find`` projected on the
keys per relation and per ``max_keys_per_command`` keys), then deletes every
level with one ``delete_many`` per relation on ``fk__in=<parent keys>`` (one per
child model for the relations whose rows have no children of their own: ``a__in
OR b__in``, as Django's collector combines them) and applies
``SET_NULL``/``SET_DEFAULT``/``SET(...)`` with one ``update_many`` per relation.
Deleting a parent with 10,000 children is a handful of commands and never builds
10,000 model instances.

It declines (returns False, and Django's collector runs as usual) whenever
Django's semantics need the instances or a check: delete signals on any model
the cascade deletes, ``PROTECT``/``RESTRICT`` or a custom ``on_delete``
function, generic relations, multi-table inheritance, foreign keys over several
columns, and collectors other than Django's own (the admin's ``NestedObjects``
collects to *show* what would be deleted, and must see every object).

The rows of a queryset delete are read once, and the cascade is planned from
them; another connection may change a row before the commands run. So every
command re-checks what its rows were chosen for, as SQL's ``DELETE ... WHERE``
does: the queryset's own rows are deleted with its filter (``requeried``), and
each level's children (and each SET rule's) only while the row they hang from
is still there and still on its way out -- still a child of its parent, up to a
queryset row that still matches. A row that stopped matching keeps its
children; a child moved to another parent keeps its own. (A filter that reads
other tables is not checked again: see ``_reads_other_tables``.)

A project can take cascades over entirely with the setting
``NONREL_CASCADE_HANDLER = "dotted.path.to.handler"``; see ``cascade_handler``.
"""

from __future__ import annotations

import functools
import operator
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import CASCADE, DO_NOTHING, SET_NULL, Model, Q, QuerySet, signals
from django.db.models.deletion import Collector, get_candidate_relations_to_delete
from django.db.models.sql.datastructures import Join
from django.db.models.sql.query import Query
from django.utils.module_loading import import_string

from django_nonrel.sharding import routing_attnames

#: ``handler(collector, objs, **collect_kwargs) -> bool``: True when it took the cascade over.
CascadeHandler = Callable[..., bool]
#: The rows among some keys still on their way out when a command runs (None:
#: every such row; they are deleted unconditionally).
Staying = Callable[[list[Any]], QuerySet] | None
#: Per collector filled by ``cascade_by_key_sets``: concrete model -> the queryset
#: whose rows it collected (deleted last, with that queryset's filter).
_REQUERIED: weakref.WeakKeyDictionary[Collector, dict[type[Model], QuerySet]] = (
    weakref.WeakKeyDictionary()
)


def requeried(collector: Collector) -> dict[type[Model], QuerySet]:
    """The querysets whose filter ``collector`` re-checks when it deletes their rows.

    The cascade patch's ``DeleteQuery.delete_batch`` deletes the collected rows of
    such a model through ``queryset.filter(pk__in=...)``.
    """
    return _REQUERIED.get(collector, {})


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
    staying: Staying = None
    loaded = None
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
        if not _reads_other_tables(objs.query):
            # Through the queryset: a row changed meanwhile may no longer match.
            _REQUERIED.setdefault(collector, {})[model] = objs
            staying = _rows_of(objs)
    else:
        objs = list(objs)
        collector.add(objs)
        keys = [obj.pk for obj in objs]
        loaded = _loaded_values(objs)
    _cascade(collector, model, keys, staying, using, size, loaded)
    return True


def _loaded_values(objs: list[Model]) -> Callable[[str], list[Any] | None]:
    """The values of a column the instances being deleted all hold, or None.

    A relation to a ``to_field`` needs that column's values; Django's collector
    takes them from the instances, so an instance delete reads nothing for them.
    """

    def values(attname: str) -> list[Any] | None:
        if not all(attname in obj.__dict__ for obj in objs):
            return None  # deferred on some instance: read from the rows
        return [value for obj in objs if (value := obj.__dict__[attname]) is not None]

    return values


def _cascade(
    collector: Collector,
    model: type[Model],
    keys: list[Any],
    staying: Staying,
    using: str,
    size: int,
    loaded: Callable[[str], list[Any] | None] | None = None,
):
    """Delete (or SET) the children of ``keys`` of ``model``, level by level.

    ``deleted`` remembers the keys already deleted per model so that cycles
    (a tree of self-referencing rows) end. The levels are deleted deepest
    first, then the SET rules run, then the objects themselves go (Django's
    collector runs fast deletes, field updates, collected instances, in that
    order): where no transaction holds the cascade together (MongoDB without
    a replica set), a cascade cut short by a failure leaves the parent with
    fewer children -- never children without their parent, which a second
    delete could no longer find -- and deleting it again completes it.

    Each command selects its children among those read here, and only those
    whose parent is still on its way out when it runs (see the module
    docstring): below rows deleted unconditionally (instances) the foreign key
    the server checks is enough; below a re-checked row the command carries the
    chain up to it as subqueries, evaluated when the command runs.
    """
    deleted: dict[type[Model], set[Any]] = defaultdict(set)
    deleted[model].update(keys)
    levels: list[QuerySet] = []
    pending: list[tuple[type[Model], list[Any], Staying]] = [(model, keys, staying)]
    while pending:
        parent, parent_keys, parent_staying = pending.pop()
        combined: dict[type[Model], list[Q]] = defaultdict(list)
        for relation in _relations(parent):
            field = relation.field
            child = relation.related_model._meta.concrete_model
            target = field.target_field.attname
            values = parent_keys
            if target != parent._meta.pk.attname:
                known = loaded(target) if loaded is not None and parent_keys is keys else None
                values = (
                    known
                    if known is not None
                    else _values_of(parent, target, parent_keys, using, size)
                )
            lookup = f"{field.name}__in"
            if (
                field.remote_field.on_delete is CASCADE
                and parent_staying is None
                and not _relations(child)
                and len(values) <= (size or len(values))
            ):
                # Rows deleted whichever relation reaches them: one command per
                # child model, ``a__in=... OR b__in=...``, as Django combines them.
                if values:
                    combined[child].append(Q(**{lookup: values}))
                continue
            for chunk in _chunks(values, size):
                children = child._base_manager.using(using).filter(**{lookup: chunk})
                chosen = children
                if parent_staying is not None:
                    own_keys = chunk if values is parent_keys else parent_keys
                    chosen = children.filter(**{lookup: parent_staying(own_keys).values(target)})
                on_delete = field.remote_field.on_delete
                if on_delete is not CASCADE:
                    # Django calls a SET(callable)/SET_DEFAULT only when children exist.
                    if _computes_value(on_delete) and not children.exists():
                        continue
                    on_delete(collector, field, chosen, using)
                    continue
                if _relations(child):
                    child_keys = [
                        key
                        for key in children.values_list("pk", flat=True)
                        if key not in deleted[child]
                    ]
                    deleted[child].update(child_keys)
                    if child_keys:
                        pending.append((child, child_keys, _rows_of(chosen)))
                levels.append(chosen)
        for child, conditions in combined.items():
            levels.append(
                child._base_manager.using(using).filter(functools.reduce(operator.or_, conditions))
            )
    # A level is found after the level it hangs from: reversed, children come first.
    collector.fast_deletes.extend(reversed(levels))


def _reads_other_tables(query: Query) -> bool:
    """Whether a filter reads rows of other tables (a relation span, a subquery).

    The cascade may be deleting those rows (``filter(labels__id=2).delete()``
    deletes the very through rows its filter joins): checked again after its
    children went, such a filter could stop matching the row whose children
    were deleted because it matched. Such a queryset's rows are deleted by the
    keys read, as Django's collector deletes every queryset's rows.
    """
    if any(isinstance(join, Join) for join in query.alias_map.values()):
        return True
    pending = list(query.where.get_source_expressions())
    while pending:
        node = pending.pop()
        if isinstance(node, Query):
            return True
        if hasattr(node, "get_source_expressions"):
            pending.extend(e for e in node.get_source_expressions() if e is not None)
    return False


def _rows_of(queryset: QuerySet) -> Callable[[list[Any]], QuerySet]:
    """The rows among some keys that ``queryset`` selects when it is run."""
    return lambda keys: queryset.filter(pk__in=keys)


def _values_of(model: type[Model], attname: str, keys: list[Any], using: str, size: int):
    """The values of a ``to_field`` target column for the rows with ``keys``."""
    values: list[Any] = []
    for chunk in _chunks(keys, size):
        rows = model._base_manager.using(using).filter(pk__in=chunk)
        values.extend(v for v in rows.values_list(attname, flat=True) if v is not None)
    return values
