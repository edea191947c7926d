"""Database backends shipped with django-nonrel (installed as ``django_nonrel.backends``)."""
