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
    run twice, a module re-imported) leaves the installed wrapper alone.
    """
    original = target.__dict__.get(attribute, getattr(target, attribute))
    if getattr(original, "_django_nonrel_patch", None) == patch:
        return
    check_django_version(patch)
    wrapper = make_wrapper(original)
    wrapper._django_nonrel_patch = patch
    wrapper.__wrapped__ = original
    setattr(target, attribute, wrapper)
