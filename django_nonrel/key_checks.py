"""``connection.check_constraints()``: foreign keys pointing at no row, found by queries.

A document store keeps no foreign key constraints (``supports_foreign_keys`` is
False), so nothing refuses a key to a missing row when it is written. Django
asks the backend to check afterwards where it loaded rows without checks:
``loaddata`` calls ``check_constraints(table_names)`` once the fixture is in and
reports an ``IntegrityError`` as "Problem installing fixture". Django's SQLite
and MySQL backends answer by querying every foreign key of those tables; this
does the same through the ORM (one read of the distinct keys per foreign key,
one of the matching related keys), with their message.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.db import IntegrityError, router


def check_foreign_keys(connection, table_names: Iterable[str] | None = None) -> None:
    """Raise IntegrityError for the first row whose foreign key matches no row."""
    wanted = None if table_names is None else set(table_names)
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if not opts.managed or opts.proxy or (wanted is not None and opts.db_table not in wanted):
            continue
        if not router.allow_migrate_model(connection.alias, model):
            continue
        for field in opts.local_concrete_fields:
            if field.is_relation and field.many_to_one and field.db_constraint:
                _check(connection.alias, model, field)


def _check(alias: str, model, field) -> None:
    if len(field.foreign_related_fields) != 1:
        return  # a ForeignObject over several columns holds no database constraint
    target = field.target_field
    rows = model._base_manager.using(alias)
    keys = set(
        rows.filter(**{f"{field.attname}__isnull": False})
        .values_list(field.attname, flat=True)
        .distinct()
    )
    if not keys:
        return
    related = field.related_model._base_manager.using(alias)
    found = set(
        related.filter(**{f"{target.attname}__in": keys}).values_list(target.attname, flat=True)
    )
    missing = keys - found
    if not missing:
        return
    bad = min(missing, key=repr)  # the same row each time
    pk = rows.filter(**{field.attname: bad}).values_list("pk", flat=True).order_by("pk")[0]
    raise IntegrityError(
        f"The row in table '{model._meta.db_table}' with primary key '{pk}' has an "
        f"invalid foreign key: {model._meta.db_table}.{field.column} contains a value "
        f"'{bad}' that does not have a corresponding value in "
        f"{field.related_model._meta.db_table}.{target.column}."
    )
