"""Stock SQLite with every django-nonrel patch applied: must count exactly as stock.

runtests.py replaces INSTALLED_APPS, so the ``django_nonrel`` app cannot apply the
patches here; this module applies them when runtests.py loads the settings, and the
test runner stops the run unless all of them are in effect while the tests run.
"""

from django.core.exceptions import ImproperlyConfigured

from tests.djangosuite.settings_sqlite import *  # noqa: F403

try:
    from django_nonrel.patches import apply_all
except ImportError as exc:
    raise ImproperlyConfigured(
        "The sqlite_overlay target measures Django with django-nonrel's patches "
        f"applied, but django_nonrel.patches.apply_all cannot be imported ({exc}). "
        "Install this checkout (pip install -e .) or run only the sqlite target."
    ) from exc

apply_all()

DJANGOSUITE_EXPECTED_PATCHES = "all"
