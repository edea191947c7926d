"""Install patches on Django functions once, and only on Django versions they know.

A patch wraps private Django functions whose shape can change in any feature
release; refusing an unknown version with ImproperlyConfigured is better than a
wrong result at run time.
"""

from collections.abc import Callable
from typing import Any

import django
from django.core.exceptions import ImproperlyConfigured

#: (major, minor) feature releases whose internals the patches were checked against.
SUPPORTED = ((5, 2), (6, 1))


def check_django_version(patch: str) -> None:
    """Raise ImproperlyConfigured unless the running Django is a supported release."""
    if django.VERSION[:2] not in SUPPORTED:
        supported = ", ".join(f"{major}.{minor}" for major, minor in SUPPORTED)
        raise ImproperlyConfigured(
            f"django-nonrel's {patch!r} patch supports Django {supported}; "
            f"this is Django {django.get_version()}. Install a supported Django "
            f"release or a django-nonrel release made for this one."
        )


def wrap(target: Any, attribute: str, patch: str, make_wrapper: Callable[[Any], Any]) -> None:
    """Replace ``target.attribute`` by ``make_wrapper(original)``, once.

    The wrapper is tagged with the patch name, so calling this again (apply()
    run twice, a module re-imported) leaves the installed wrapper alone -- also
    when another patch has wrapped the same function since (two patches
    wrap ``Collector.delete`` and ``Model._do_update``).
    """
    original = target.__dict__.get(attribute, getattr(target, attribute))
    if patch in _patches_on(original):
        return
    check_django_version(patch)
    wrapper = make_wrapper(original)
    wrapper._django_nonrel_patch = patch
    wrapper.__wrapped__ = original
    setattr(target, attribute, wrapper)


def _patches_on(function: Any) -> list[str]:
    """The patches whose wrappers ``function`` is, or wraps (outermost first)."""
    found = []
    while hasattr(function, "_django_nonrel_patch"):
        found.append(function._django_nonrel_patch)
        function = function.__wrapped__
    return found
