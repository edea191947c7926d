"""The compilers Django looks up by name (``ops.compiler_module``).

MongoDB needs nothing beyond django-nonrel's backend-neutral compilers: all
MongoDB-specific work happens in ``mongo_store.MongoStore``. They are subclassed
under Django's names, as Django's own backends name theirs, so a compiler reads
as what it is (``repr()``: ``<SQLCompiler model=... using='default'>``).
"""

from django_nonrel.compiler import (
    NonrelAggregateCompiler,
    NonrelCompiler,
    NonrelDeleteCompiler,
    NonrelInsertCompiler,
    NonrelUpdateCompiler,
)


class SQLCompiler(NonrelCompiler):
    """Reads: ``django_nonrel.compiler.NonrelCompiler``."""


class SQLInsertCompiler(NonrelInsertCompiler):
    """Inserts: ``django_nonrel.compiler.NonrelInsertCompiler``."""


class SQLDeleteCompiler(NonrelDeleteCompiler):
    """Deletes: ``django_nonrel.compiler.NonrelDeleteCompiler``."""


class SQLUpdateCompiler(NonrelUpdateCompiler):
    """Updates: ``django_nonrel.compiler.NonrelUpdateCompiler``."""


class SQLAggregateCompiler(NonrelAggregateCompiler):
    """aggregate()/count() over a subquery: ``django_nonrel.compiler.NonrelAggregateCompiler``."""


__all__ = [
    "SQLAggregateCompiler",
    "SQLCompiler",
    "SQLDeleteCompiler",
    "SQLInsertCompiler",
    "SQLUpdateCompiler",
]
