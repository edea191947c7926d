"""Model and values iterables that consume a nonrel compiler's structured rows.

Wraps ``ModelIterable.__iter__``, ``ValuesIterable.__iter__``,
``ValuesListIterable.__iter__`` and ``FlatValuesListIterable.__iter__`` from
``django.db.models.query``. Django's versions index positional rows by select
position; a nonrel store returns documents keyed by column, so converting them
to positional rows and back is wasted work (the old fork's double conversion).
When the connection's features declare ``returns_structured_rows``, the
compiler's ``results_iter()`` yields ``{"result": {...}, "related_selection":
{...}, "annotations": {...}, "extra_select": {...}}`` and these iterables build
instances and dicts straight from it. Other connections run Django's code.
"""

import operator
from weakref import ref as weak_ref

from django.db import connections
from django.db.models import query

from django_nonrel.patches.versions import wrap

PATCH = "structured_rows"


def uses_structured_rows(alias: str) -> bool:
    """Whether the connection ``alias`` answers reads with structured rows."""
    return getattr(connections[alias].features, "returns_structured_rows", False)


def _selected_names(sql_query) -> list[str]:
    if sql_query.selected:
        return list(sql_query.selected)
    return [*sql_query.extra_select, *sql_query.values_select, *sql_query.annotation_select]


def _flat(row: dict) -> dict:
    return {**row["extra_select"], **row["result"], **row["annotations"]}


def _model_rows(iterable):
    queryset = iterable.queryset
    db = queryset.db
    compiler = queryset.query.get_compiler(using=db)
    model_cls = compiler.query.model
    init_list = compiler.selected_names
    # Django 6.1 fetch modes: from_db receives the queryset's mode, and peers
    # are tracked so deferred fields can be fetched for all of them at once.
    fetch_mode = getattr(queryset, "_fetch_mode", None)
    if fetch_mode is None:
        from_db = model_cls.from_db
    else:
        from_db = query._get_from_db(model_cls, fetch_mode)
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
    peers = []
    for row in compiler.results_iter(
        chunked_fetch=iterable.chunked_fetch, chunk_size=iterable.chunk_size
    ):
        result = row["result"]
        obj = from_db(db, init_list, [result[name] for name in init_list])
        if track_peers:
            peers.append(weak_ref(obj))
            obj._state.peers = peers
        for name, value in row["annotations"].items():
            setattr(obj, name, value)
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


def _value_rows(iterable):
    queryset = iterable.queryset
    compiler = queryset.query.get_compiler(queryset.db)
    names = _selected_names(queryset.query)
    for row in compiler.results_iter(
        chunked_fetch=iterable.chunked_fetch, chunk_size=iterable.chunk_size
    ):
        flat = _flat(row)
        yield {name: flat[name] for name in names}


def _tuple_rows(iterable):
    for row in _value_rows(iterable):
        yield tuple(row.values())


def _flat_rows(iterable):
    for row in _value_rows(iterable):
        yield next(iter(row.values()))


def _switch(structured):
    """__iter__ that runs ``structured`` on nonrel connections, Django's code elsewhere."""

    def make(original):
        def __iter__(self):
            if uses_structured_rows(self.queryset.db):
                return structured(self)
            return original(self)

        return __iter__

    return make


def apply() -> None:
    wrap(query.ModelIterable, "__iter__", PATCH, _switch(_model_rows))
    wrap(query.ValuesIterable, "__iter__", PATCH, _switch(_value_rows))
    wrap(query.ValuesListIterable, "__iter__", PATCH, _switch(_tuple_rows))
    wrap(query.FlatValuesListIterable, "__iter__", PATCH, _switch(_flat_rows))
