"""django-nonrel: document and distributed-SQL databases for an unmodified Django.

Add ``"django_nonrel"`` to INSTALLED_APPS and pick a backend ENGINE:
``django_nonrel.backends.mongodb`` or ``django_nonrel.backends.singlestore``.
"""

__version__ = "0.1.0.dev0"


def _find_subpackages_in_checkout() -> None:
    """Let a source checkout import ``django_nonrel.backends`` and ``.patches``.

    In the repository they sit beside this package (``setup.cfg`` maps them into
    it when installed). ``python -m django_nonrel demo`` run from the checkout's
    root, as the README says, imports this directory rather than the installed
    copy, so the root is searched for them too. Installed copies have them inside.
    """
    import os

    here = os.path.dirname(__file__)
    root = os.path.dirname(here)
    inside = os.path.isdir(os.path.join(here, "backends"))
    if not inside and os.path.isfile(os.path.join(root, "backends", "mongodb", "base.py")):
        __path__.append(root)


_find_subpackages_in_checkout()
