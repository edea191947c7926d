"""Stock SQLite with every django-nonrel patch applied: must behave exactly as stock.

runtests.py replaces INSTALLED_APPS, so the patches are applied here, when the
settings module is imported, and the marker line tells the harness they were.
"""

import sys

from django_nonrel.patches import PATCHES, apply_all
from tests.djangosuite.settings_sqlite import *  # noqa: F403

apply_all()
print(f"django-nonrel overlay active: {', '.join(PATCHES)}", file=sys.stderr)
