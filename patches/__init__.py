"""Run-time patches that teach an unmodified Django about nonrel backends.

Every change django-nonrel makes to Django is findable from here: one module per
concern, each with an idempotent ``apply()`` and a docstring naming the Django
function it wraps and why. ``apply_all()`` is called by the ``django_nonrel``
app's ``ready()`` and by every nonrel backend when it is imported, so forgetting
the app in INSTALLED_APPS cannot silently change behaviour.

Each patch switches on the *connection's* feature flags: on a stock backend
(sqlite, postgresql, mysql, oracle) the wrapped function falls straight through
to Django's original, so Django behaves exactly as without the overlay.
"""

from importlib import import_module

#: The patch modules, in the order they are applied.
PATCHES = (
    "structured_rows",
    "upsert",
    "cascade",
    "count_limit",
    "embedded_values",
    "shard_keys",
)


def apply_all() -> None:
    """Apply every patch (idempotent: a second call changes nothing)."""
    for name in PATCHES:
        import_module(f"{__name__}.{name}").apply()
