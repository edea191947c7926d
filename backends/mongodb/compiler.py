"""The compilers Django looks up by name (``ops.compiler_module``).

MongoDB needs nothing beyond django-nonrel's backend-neutral compilers: all
MongoDB-specific work happens in ``mongo_store.MongoStore``.
"""

from django_nonrel.compiler import (
    NonrelAggregateCompiler as SQLAggregateCompiler,
)
from django_nonrel.compiler import (
    NonrelCompiler as SQLCompiler,
)
from django_nonrel.compiler import (
    NonrelDeleteCompiler as SQLDeleteCompiler,
)
from django_nonrel.compiler import (
    NonrelInsertCompiler as SQLInsertCompiler,
)
from django_nonrel.compiler import (
    NonrelUpdateCompiler as SQLUpdateCompiler,
)

__all__ = [
    "SQLAggregateCompiler",
    "SQLCompiler",
    "SQLDeleteCompiler",
    "SQLInsertCompiler",
    "SQLUpdateCompiler",
]
