"""The Django versions the patches were written against, checked before patching.

A patch wraps private Django functions whose shape can change in any feature
release; refusing an unknown version with ImproperlyConfigured is better than a
wrong result at run time.
"""

import django
from django.core.exceptions import ImproperlyConfigured

#: (major, minor) feature releases whose internals the patches were checked against.
SUPPORTED = ((5, 2), (6, 1))


def check_django_version(patch: str) -> None:
    """Raise ImproperlyConfigured unless the running Django is a supported release."""
    if django.VERSION[:2] not in SUPPORTED:
        supported = ", ".join("%d.%d" % v for v in SUPPORTED)
        raise ImproperlyConfigured(
            f"django-nonrel's {patch!r} patch supports Django {supported}; "
            f"this is Django {django.get_version()}. Install a supported Django "
            f"release or a django-nonrel release made for this one."
        )


def mark_applied(target: object, attribute: str, patch: str) -> bool:
    """Record that ``patch`` wrapped ``target.attribute``; False if it already had.

    The marker is stored on the wrapper function itself so a re-import of the
    patch module cannot wrap the wrapper a second time.
    """
    current = getattr(target, attribute)
    if getattr(current, "_django_nonrel_patch", None) == patch:
        return False
    check_django_version(patch)
    return True


def install(target: object, attribute: str, wrapper, patch: str) -> None:
    """Put ``wrapper`` on ``target.attribute``, tagged so apply() stays idempotent."""
    wrapper._django_nonrel_patch = patch
    wrapper.__wrapped__ = getattr(target, attribute)
    setattr(target, attribute, wrapper)
