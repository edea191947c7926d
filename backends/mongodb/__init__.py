"""MongoDB backend: ``ENGINE: "django_nonrel.backends.mongodb"``.

Importing the backend applies django-nonrel's ORM patches, so a project that
forgets ``"django_nonrel"`` in INSTALLED_APPS still gets correct behaviour.
"""

from django_nonrel.patches import apply_all

apply_all()
