"""SingleStore backend: ``ENGINE: "django_nonrel.backends.singlestore"``.

Importing the backend applies django-nonrel's ORM patches (so a project that
forgets ``"django_nonrel"`` in INSTALLED_APPS still gets correct behaviour) and
registers the SingleStore SQL of Django's expressions and of the nonrel fields'
lookups. ``ModelStorageManager`` is importable from here, as from
django-singlestore's package, so models only change their import line.
"""

from django_nonrel.patches import apply_all

from .functions import register_functions
from .table_storage import ModelStorageManager

apply_all()
register_functions()

__all__ = ["ModelStorageManager"]
