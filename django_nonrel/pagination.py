"""Bookmark (keyset) pagination: page N costs what page 1 costs, on every backend.

Django's ``Paginator`` reads page N with ``OFFSET (N-1)*per_page``: the
database walks and throws away every earlier row, so deep pages get slower
(and MongoDB's ``skip`` is no different). ``BookmarkPaginator`` instead
remembers where a page ended -- the ordering values of its last row -- and
asks for the rows *after* them::

    paginator = BookmarkPaginator(Entry.objects.order_by("-published"), per_page=20)
    page = paginator.page(request.GET.get("after"))
    for entry in page.object_list: ...
    if page.has_next:
        link = f"?after={page.next_bookmark}"

The seek is an ordinary Django filter (a ``Q`` tree of ``gt``/``lt``/``exact``/
``isnull`` lookups on the ordering fields), so it works on SQL and nonrel
backends alike, and it is served by an index on the ordering fields. The
primary key is added as the last ordering field, so rows with equal values
(ties) are neither skipped nor repeated. Walking the pages until ``has_next``
is False yields every row exactly once, in order (rows changed meanwhile move
as they would in any query).

Bookmarks are opaque strings signed with ``django.core.signing`` (with
``SECRET_KEY``) and bound to the model, the ordering and a canonical digest of
the whole query (``django_nonrel.fingerprint``: filters, subqueries,
expressions, raw filters): a tampered or malformed bookmark, or one made by a
paginator over another queryset or ordering, raises ``InvalidBookmark`` (a
``ValueError``), which a view can turn into a 400 or a redirect to the first
page. A filter value that changes on every request (``timezone.now()``) makes a
different queryset each time; round it or take it from the request so
bookmarks stay valid.

Ordering: the queryset's ``order_by()``, else the model's ``Meta.ordering``,
else the primary key. Each ordering item must be a field of the model itself
(``"name"``, ``"-created"``, ``"author_id"``, ``F("n").desc(nulls_last=True)``);
paths across relations, expressions and random ordering raise
``NotSupportedError``. Nullable ordering fields are handled: NULLs sort where
the database puts them (first in ascending order on SQLite, MySQL and MongoDB,
last on PostgreSQL and Oracle; ``features.nulls_order_largest``) or where
``nulls_first``/``nulls_last`` says; NaN where MongoDB sorts it (see ``_Key``).
"""

from __future__ import annotations

import datetime
import decimal
import math
import operator
import uuid
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from django.core import signing
from django.db import NotSupportedError, connections
from django.db.models import F, FloatField, Model, OrderBy, Q, QuerySet
from django.db.models.query import ModelIterable, ValuesIterable

from django_nonrel.features import nonrel_features
from django_nonrel.fingerprint import query_fingerprint

SALT = "django_nonrel.pagination"


class InvalidBookmark(ValueError):
    """A bookmark was tampered with, expired, or made for another queryset or ordering."""


@dataclass(frozen=True)
class _Key:
    """One ordering field: its model field, direction and where its NULLs sort.

    ``stated`` is True when the NULL placement differs from the database's
    own and must be written into the ordering (``nulls_first``/``nulls_last``).
    ``nan_low`` is True for a float field on a database that sorts NaN below
    every other number while finding no number greater or smaller than NaN
    (MongoDB; ``features.sorts_nan_below_numbers``): the seek then names NaN
    rows explicitly. Where comparisons and sorting agree on NaN (PostgreSQL,
    where it is the largest number) or NaN cannot be stored (SQLite stores
    NULL, MySQL refuses it), plain comparisons are right.
    """

    field: Any
    descending: bool
    nulls_last: bool
    stated: bool = False
    nan_low: bool = False

    @property
    def attname(self) -> str:
        return self.field.attname

    def reversed(self) -> _Key:
        return _Key(self.field, not self.descending, not self.nulls_last, self.stated, self.nan_low)

    def order_by(self) -> str | OrderBy:
        if not self.stated:
            return f"{'-' if self.descending else ''}{self.attname}"
        return OrderBy(
            F(self.attname),
            descending=self.descending,
            nulls_first=not self.nulls_last or None,
            nulls_last=self.nulls_last or None,
        )

    def order_text(self) -> str:
        return f"{'-' if self.descending else ''}{self.attname}:{'L' if self.nulls_last else 'F'}"


@dataclass
class BookmarkPage:
    """One page: its rows and the bookmarks of its neighbours.

    ``has_previous`` is True for every page reached through a bookmark (rows
    before it existed when the bookmark was made).
    """

    object_list: list[Any]
    has_next: bool
    has_previous: bool
    next_bookmark: str | None = None
    previous_bookmark: str | None = None
    paginator: BookmarkPaginator | None = field(default=None, repr=False)

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


class BookmarkPaginator:
    """Keyset pagination of ``queryset`` by ``per_page`` rows (see the module docstring).

    ``max_age`` (seconds), when given, makes older bookmarks invalid.
    """

    def __init__(self, queryset: QuerySet, per_page: int, *, max_age: int | None = None):
        if not isinstance(queryset, QuerySet):
            raise TypeError("BookmarkPaginator needs a QuerySet.")
        if queryset.query.is_sliced:
            raise NotSupportedError("Cannot paginate a sliced queryset; slice the pages instead.")
        if not issubclass(queryset._iterable_class, ModelIterable | ValuesIterable):
            raise NotSupportedError(
                "Cannot paginate values_list() by bookmark; use values() or model instances."
            )
        if int(per_page) < 1:
            raise ValueError("per_page must be a positive integer.")
        self.queryset = queryset
        self.per_page = int(per_page)
        self.max_age = max_age
        self.keys = self._keys(queryset)
        self.fingerprint = self._fingerprint()

    # -- ordering -------------------------------------------------------------
    def _keys(self, queryset: QuerySet) -> list[_Key]:
        query = queryset.query
        meta = queryset.model._meta
        if query.order_by:
            ordering = list(query.order_by)
        elif query.default_ordering and meta.ordering:
            ordering = list(meta.ordering)
        else:
            ordering = []
        if query.extra_order_by:
            raise NotSupportedError("Cannot paginate by bookmark with extra(order_by=...).")
        keys: list[_Key] = []
        for item in ordering:
            key = self._key(meta, item)
            if key.field not in [k.field for k in keys]:
                keys.append(key)
            if key.field.primary_key:
                break
        else:
            keys.append(self._default_key(meta.pk, descending=False))
        return keys

    def _default_key(self, model_field, descending: bool) -> _Key:
        """NULLs where the database sorts them when the ordering does not say."""
        connection = connections[self.queryset.db]
        features = connection.features
        # No stock backend has MongoDB's NaN order (the flag's default).
        nan_low = nonrel_features(connection).sorts_nan_below_numbers and isinstance(
            model_field, FloatField
        )
        return _Key(
            model_field,
            descending,
            nulls_last=features.nulls_order_largest != descending,
            nan_low=nan_low,
        )

    def _key(self, meta, item) -> _Key:
        nulls_first = nulls_last = None
        if isinstance(item, str):
            descending = item.startswith("-")
            name = item.lstrip("-+")
        elif isinstance(item, OrderBy | F):
            order = item if isinstance(item, OrderBy) else OrderBy(item)
            if not isinstance(order.expression, F):
                raise NotSupportedError(
                    f"Cannot paginate by bookmark on the expression {order.expression!r}; "
                    "order by fields of the model."
                )
            name = order.expression.name
            descending = order.descending
            nulls_first, nulls_last = order.nulls_first, order.nulls_last
        else:
            raise NotSupportedError(f"Cannot paginate by bookmark on the ordering {item!r}.")
        if name == "?" or "__" in name:
            raise NotSupportedError(
                f"Cannot paginate by bookmark on the ordering {item!r}: order by fields of "
                f"{meta.label} itself (a foreign key's own column, such as 'author_id', works)."
            )
        model_field = meta.pk if name == "pk" else meta.get_field(name)
        if not model_field.concrete or (
            model_field.is_relation
            and model_field.related_model._meta.ordering
            and name == model_field.name
        ):
            raise NotSupportedError(
                f"Cannot paginate by bookmark on {item!r}: it orders by another model's "
                f"fields. Order by '{getattr(model_field, 'attname', name)}' instead."
            )
        key = self._default_key(model_field, descending)
        if (nulls_first or nulls_last) and model_field.null and bool(nulls_last) != key.nulls_last:
            return _Key(model_field, descending, bool(nulls_last), True, key.nan_low)
        return key

    def _fingerprint(self) -> str:
        """A digest of the model, database, ordering and whole query a bookmark is bound to."""
        return query_fingerprint(
            self.queryset.query,
            self.queryset.model._meta.label,
            self.queryset.db,
            ",".join(key.order_text() for key in self.keys),
        )[:32]

    # -- pages ----------------------------------------------------------------
    def page(self, bookmark: str | None = None) -> BookmarkPage:
        """The page after ``bookmark`` (or before it, for a previous-page bookmark).

        With no bookmark, the first page. One query of ``per_page + 1`` rows
        (the extra row tells whether there is a further page), never an offset.
        """
        if not bookmark:
            rows = self._fetch(None, backwards=False)
            return self._page(rows, backwards=False, from_bookmark=False)
        values, backwards = self._load(bookmark)
        rows = self._fetch(values, backwards)
        return self._page(rows, backwards, from_bookmark=True)

    def _fetch(self, values: list[Any] | None, backwards: bool) -> list[Any]:
        keys = self.keys
        if backwards:
            keys = [key.reversed() for key in keys]
        queryset = self.queryset.order_by(*(key.order_by() for key in keys))
        if values is not None:
            queryset = queryset.filter(_after(keys, values))
        return list(queryset[: self.per_page + 1])

    def _page(self, rows: list[Any], backwards: bool, from_bookmark: bool) -> BookmarkPage:
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if backwards:
            rows.reverse()
            has_next, has_previous = True, more
        else:
            has_next, has_previous = more, from_bookmark
        return BookmarkPage(
            object_list=rows,
            has_next=has_next and bool(rows),
            has_previous=has_previous and bool(rows),
            next_bookmark=self._dump(rows[-1], False) if has_next and rows else None,
            previous_bookmark=self._dump(rows[0], True) if has_previous and rows else None,
            paginator=self,
        )

    # -- bookmarks ------------------------------------------------------------
    def bookmark_after(self, row: Model | dict) -> str:
        """A bookmark for the page that starts after ``row`` (an instance or a values() dict)."""
        return self._dump(row, False)

    def _dump(self, row: Model | dict, backwards: bool) -> str:
        values = [_encode(_value_of(row, key)) for key in self.keys]
        payload = {"q": self.fingerprint, "k": values, "b": 1 if backwards else 0}
        return signing.dumps(payload, salt=SALT, compress=True)

    def _load(self, bookmark: str) -> tuple[list[Any], bool]:
        if not isinstance(bookmark, str):
            raise InvalidBookmark(
                f"A bookmark is a string (a page's next_bookmark or previous_bookmark), "
                f"not {type(bookmark).__name__}."
            )
        try:
            payload = signing.loads(bookmark, salt=SALT, max_age=self.max_age)
        except signing.SignatureExpired as error:
            raise InvalidBookmark(f"The bookmark has expired ({error}).") from error
        except signing.BadSignature as error:
            raise InvalidBookmark(
                "The bookmark is not valid: it was altered or made with another SECRET_KEY."
            ) from error
        if not isinstance(payload, dict) or payload.get("q") != self.fingerprint:
            raise InvalidBookmark(
                "The bookmark belongs to another queryset or ordering; start from the first page."
            )
        raw = payload.get("k")
        if not isinstance(raw, list) or len(raw) != len(self.keys):
            raise InvalidBookmark("The bookmark does not match this paginator's ordering.")
        try:
            values = [
                None if value is None else key.field.to_python(value)
                for key, value in zip(self.keys, raw, strict=True)
            ]
        except Exception as error:
            raise InvalidBookmark(f"The bookmark holds an invalid value: {error}") from error
        return values, bool(payload.get("b"))


def _after(keys: list[_Key], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in the order ``keys`` describe.

    ``(k1 > v1) OR (k1 = v1 AND k2 > v2) OR ...``, where "greater" follows each
    key's direction and NULL placement.
    """
    terms = []
    equal = Q()
    for key, value in zip(keys, values, strict=True):
        later = _later(key, value)
        if later is not None:
            terms.append(equal & later)
        equal &= (
            Q(**{f"{key.attname}__isnull": True}) if value is None else Q(**{key.attname: value})
        )
    # The primary key comes last and is never NULL, so there is always a term.
    return reduce(operator.or_, terms)


def _later(key: _Key, value: Any) -> Q | None:
    """Rows whose ``key`` sorts strictly after ``value``; None when none can."""
    name = key.attname
    if value is None:
        # After a NULL come the non-NULL values if NULLs sort first, else nothing.
        return None if key.nulls_last else Q(**{f"{name}__isnull": False})
    if key.nan_low and _is_nan(value):
        # NaN sorts below every number: after it come all numbers when ascending.
        later = None if key.descending else Q(**{f"{name}__gte": -math.inf})
    else:
        later = Q(**{f"{name}__{'lt' if key.descending else 'gt'}": value})
        if key.nan_low and key.descending:
            later |= Q(**{name: math.nan})  # no number is smaller than NaN, yet it sorts so
    if key.field.null and key.nulls_last:
        null = Q(**{f"{name}__isnull": True})
        later = null if later is None else later | null
    return later


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _value_of(row: Model | dict, key: _Key) -> Any:
    if isinstance(row, dict):
        for name in (key.attname, key.field.name, "pk" if key.field.primary_key else None):
            if name in row:
                return row[name]
        raise NotSupportedError(
            f"A values() row needs the ordering field {key.field.name!r} to make a bookmark."
        )
    return getattr(row, key.attname)


def _encode(value: Any) -> Any:
    """A JSON form of an ordering value; the field's to_python() reads it back."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise NotSupportedError(f"Cannot keep {type(value).__name__} values in a bookmark.")
