"""Warnings Django gives while it compiles SQL, given where this backend builds
its commands instead.

Django warns about some deprecated query shapes from ``as_sql`` (Django 6.1:
``filter(json_field=None)`` meaning JSON null, from ``JSONExact.process_rhs``).
A nonrel read never calls ``as_sql``, so without this a project upgrading
Django would see the deprecation on its SQL databases and not on this one, and
find out when the behaviour changes.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import django
from django.db.models.fields.json import JSONExact, KeyTransform

#: Django 6.1's text, so the warning reads (and filters) as Django's own.
JSON_EXACT_NONE = (
    "Using None as the right-hand side of an exact lookup on JSONField to mean JSON "
    "scalar 'null' is deprecated. Use JSONNull() instead (or use the __isnull lookup "
    "if you meant SQL NULL)."
)


def warn_as_django_compiles(lookup: Any) -> None:
    """Give the deprecation warning Django's SQL compilation gives for ``lookup``."""
    if django.VERSION < (6, 1) or not isinstance(lookup, JSONExact):
        return
    if lookup.rhs is None and not isinstance(lookup.lhs, KeyTransform):
        from django.utils.deprecation import RemovedInDjango2028Warning

        warnings.warn(
            JSON_EXACT_NONE,
            RemovedInDjango2028Warning,
            skip_file_prefixes=_internal_prefixes(),
        )


def _internal_prefixes() -> tuple[str, ...]:
    """Django's files and this project's: the warning points at the caller's line."""
    from django.utils.deprecation import django_file_prefixes

    import django_nonrel.backends
    import django_nonrel.patches

    ours = [os.path.dirname(__file__), *django_nonrel.backends.__path__]
    ours += django_nonrel.patches.__path__
    return (*django_file_prefixes(), *(os.path.join(path, "") for path in ours))
