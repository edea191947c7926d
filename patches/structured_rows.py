"""Model and values iterables that consume a nonrel compiler's structured rows.

Wraps ``ModelIterable.__iter__``, ``ValuesIterable.__iter__``,
``ValuesListIterable.__iter__`` and ``FlatValuesListIterable.__iter__`` from
``django.db.models.query``. Django's versions index positional rows by select
position; a nonrel store returns documents keyed by column, so converting them
to positional rows and back is wasted work (the old fork's double conversion).
When the connection's features declare ``returns_structured_rows``, the
compiler's ``results_iter()`` yields ``{"result": {...}, "related_selection":
{...}, "annotations": {...}, "extra_select": {...}}`` and these iterables build
dicts straight from it; model instances are built from ``selected_value_rows()``
(the same content with the values as a list in ``selected_names`` order) by
``django_nonrel.instances``. Other connections run Django's code.
"""

import operator
from itertools import repeat
from operator import itemgetter
from weakref import ref as weak_ref

from django.db import connections
from django.db.models import query

from django_nonrel.collector import collector_paused
from django_nonrel.features import nonrel_features
from django_nonrel.instances import document_builder, instance_builder
from django_nonrel.patches.versions import wrap

PATCH = "structured_rows"


def uses_structured_rows(alias: str) -> bool:
    """Whether the connection ``alias`` answers reads with structured rows."""
    return nonrel_features(connections[alias]).returns_structured_rows


def _selected_names(sql_query) -> list[str]:
    if sql_query.selected:
        return list(sql_query.selected)
    return [*sql_query.extra_select, *sql_query.values_select, *sql_query.annotation_select]


def _named(selected: list[str], row) -> dict:
    """A ``selected_value_rows()`` row as one dict: extra select, values, annotations."""
    values, _, annotations, extra = row
    return {**extra, **dict(zip(selected, values, strict=True)), **annotations}


def _model_rows(iterable, db):
    queryset = iterable.queryset
    compiler = queryset.query.get_compiler(using=db)
    model_cls = compiler.query.model
    init_list = compiler.selected_names
    # Django 6.1 fetch modes: from_db receives the queryset's mode, and peers
    # are tracked so deferred fields can be fetched for all of them at once.
    fetch_mode = getattr(queryset, "_fetch_mode", None)
    track_peers = fetch_mode is not None and fetch_mode.track_peers
    known_related = []
    for field, related_objs in queryset._known_related_objects.items():
        attnames = [
            field.attname
            if from_field == "self"
            else queryset.model._meta.get_field(from_field).attname
            for from_field in field.from_fields
        ]
        known_related.append((field, related_objs, attnames, operator.attrgetter(*attnames)))
    related_steps = compiler.related_steps
    plain, rows = compiler.fetch_values(_chunk_size(iterable))
    if plain and not known_related and not track_peers:
        # Nothing but the instances to build, from the documents themselves where
        # instances build like Django's: the loop runs in C.
        reader = rows.reader
        fill = document_builder(
            model_cls, init_list, reader.columns, reader.keyed_converter(init_list), fetch_mode
        )
        if fill is not None:
            yield from map(fill, repeat(db), rows.documents)
        else:
            yield from map(instance_builder(model_cls, init_list, fetch_mode), repeat(db), rows)
        return
    build = instance_builder(model_cls, init_list, fetch_mode)
    related_builders = _RelatedBuilders(fetch_mode)
    if plain:
        rows = ((values, {}, {}, {}) for values in rows)
    peers = []
    for values, related_selection, annotations, extra_select in rows:
        obj = build(db, values)
        if track_peers:
            peers.append(weak_ref(obj))
            obj._state.peers = peers
        for name, value in annotations.items():
            setattr(obj, name, value)
        for name, value in extra_select.items():
            setattr(obj, name, value)
        if related_selection:
            _attach_related(obj, related_selection, related_steps, db, related_builders)
        for field, related_objs, attnames, getter in known_related:
            if field.is_cached(obj):
                continue
            # Django 6.1 does not load deferred key fields just to match them.
            if fetch_mode is not None and any(a not in obj.__dict__ for a in attnames):
                continue
            related = related_objs.get(getter(obj))
            if related is not None:
                setattr(obj, field.name, related)
        yield obj


class _RelatedBuilders(dict):
    """Per (model, selected names) of a read's select_related() steps, the
    ``instance_builder`` doing ``from_db`` for its rows (built once per read);
    and, under a Django 6.1 fetch mode that tracks peers, the peers of each step
    (the objects one of Django's RelatedPopulators builds over the read's rows)."""

    def __init__(self, fetch_mode) -> None:
        super().__init__()
        self.fetch_mode = fetch_mode
        self.track_peers = fetch_mode is not None and fetch_mode.track_peers
        self.peers: dict[tuple, list] = {}

    def __missing__(self, key):
        model, names = key
        builder = self[key] = instance_builder(model, names, self.fetch_mode)
        return builder


def _attach_related(obj, selection: dict, steps, db: str, builders: _RelatedBuilders) -> None:
    """Build select_related() instances from the row's ``related_selection``.

    Each step's values are keyed ``"fk"``, ``"fk__user"``…; Django's
    RelatedPopulator semantics: the parent caches the related object (or None),
    and a unique relation also caches the parent on the related object.
    """
    built = {(): obj}
    for step in steps:
        parent = built.get(step.parent)
        if parent is None:
            built[step.path] = None
            continue
        values = selection.get("__".join(step.path))
        related = None
        if values is not None:
            if step.reverse and getattr(step.field.remote_field, "parent_link", False):
                # A multi-table-inheritance child reached from its parent (not
                # any reverse one-to-one of a model to itself or a subclass).
                values = _with_parent_values(step.model, parent, values)
            related = builders[step.model, tuple(values)](db, list(values.values()))
            if builders.track_peers:
                peers = builders.peers.setdefault(step.path, [])
                peers.append(weak_ref(related))
                related._state.peers = peers
        built[step.path] = related
        field = step.field
        if step.alias is not None:
            # A FilteredRelation(): Django's remote_setter and local_setter (neither
            # sets anything where the join found no row: the attribute is absent).
            if related is not None:
                setattr(parent, step.path[-1], related)
                if step.caches_parent:
                    field.remote_field.set_cached_value(related, parent)
        elif step.reverse:
            field.remote_field.set_cached_value(parent, related)
            if related is not None:
                field.set_cached_value(related, parent)
        else:
            field.set_cached_value(parent, related)
            if related is not None and field.unique:
                field.remote_field.set_cached_value(related, parent)


def _with_parent_values(model, parent, values: dict) -> dict:
    """``values`` of a ``model`` object reached from its multi-table-inheritance
    parent, with the values the parent object loaded (Django's compiler gives a
    child selected from its parent the parent's selected columns,
    ``get_select_from_parent``): under ``only()`` the child then has its
    inherited fields loaded, as on SQL. In ``model``'s field order, which
    ``Model.from_db`` expects."""
    loaded = parent.__dict__
    return {
        field.attname: values[field.attname] if field.attname in values else loaded[field.attname]
        for field in model._meta.concrete_fields
        if field.attname in values or field.attname in loaded
    }


def _chunk_size(iterable) -> int | None:
    """The batch size of a chunked read (``QuerySet.iterator()``), None for others:
    what Django's iterables pass their compiler's ``execute_sql``."""
    return iterable.chunk_size if iterable.chunked_fetch else None


def _value_lists(iterable, db):
    """The rows of a values() queryset as lists in the order of its names."""
    queryset = iterable.queryset
    compiler = queryset.query.get_compiler(db)
    names = _selected_names(queryset.query)
    plain, rows = compiler.fetch_values(_chunk_size(iterable))
    if plain:
        selected = compiler.selected_names
        if selected == names:
            return rows
        positions = [selected.index(name) for name in names]
        return ([values[i] for i in positions] for values in rows)
    named = map(_named, repeat(compiler.selected_names), rows)
    return ([flat[name] for name in names] for flat in named)


def _value_rows(iterable, db):
    names = _selected_names(iterable.queryset.query)
    return map(dict, map(zip, repeat(names), _value_lists(iterable, db)))


def _tuple_rows(iterable, db):
    return map(tuple, _value_lists(iterable, db))


def _flat_rows(iterable, db):
    return map(itemgetter(0), _value_lists(iterable, db))


def _switch(structured):
    """__iter__ that runs ``structured`` on nonrel connections, Django's code elsewhere.

    The database is chosen once (routers are asked once, as by Django's own
    __iter__): the structured reader takes it as a value, and Django's reader
    sees it pinned on the queryset while it runs.
    """

    def make(original):
        def __iter__(self):
            db = self.queryset.db
            if not uses_structured_rows(db):
                return _on_database(original, self, db)
            if self.chunked_fetch:
                return structured(self, db)
            # A whole result (QuerySet._fetch_all) is read and built now, as
            # Django's SQL compilers fetch an unchunked read whole, with the
            # collector paused: every object made is kept (collector.py).
            with collector_paused():
                return iter(list(structured(self, db)))

        return __iter__

    return make


def _on_database(original, iterable, db):
    """Django's ``original`` __iter__, reading ``queryset.db`` as ``db`` (already routed)."""
    queryset = iterable.queryset
    routed = queryset._db
    queryset._db = db
    try:
        yield from original(iterable)
    finally:
        queryset._db = routed


def apply() -> None:
    wrap(query.ModelIterable, "__iter__", PATCH, _switch(_model_rows))
    wrap(query.ValuesIterable, "__iter__", PATCH, _switch(_value_rows))
    wrap(query.ValuesListIterable, "__iter__", PATCH, _switch(_tuple_rows))
    wrap(query.FlatValuesListIterable, "__iter__", PATCH, _switch(_flat_rows))
