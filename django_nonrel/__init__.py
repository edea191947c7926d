"""django-nonrel: document and distributed-SQL databases for an unmodified Django.

Add ``"django_nonrel"`` to INSTALLED_APPS and pick a backend ENGINE:
``django_nonrel.backends.mongodb`` or ``django_nonrel.backends.singlestore``.
"""

__version__ = "0.1.0.dev0"
