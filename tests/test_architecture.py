"""The library's structure: feature flags declared once.

These read the source (``ast``), not a database, so they cost milliseconds and
run on every tier.
"""

import ast
from pathlib import Path

from django.db import connections

from django_nonrel.features import STOCK_FEATURES, NonrelFeatures, nonrel_features

ROOT = Path(__file__).resolve().parent.parent
#: The library's source folders and the package each is installed as (setup.cfg).
PACKAGES = {
    "django_nonrel": "django_nonrel",
    "backends": "django_nonrel.backends",
    "patches": "django_nonrel.patches",
}


def library_sources() -> dict[str, Path]:
    """Dotted module name -> source file, for every module of the library."""
    modules = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    return modules


def test_both_backends_inherit_the_declared_flags():
    from django_nonrel.backends.mongodb.features import DatabaseFeatures as MongoFeatures
    from django_nonrel.backends.singlestore.features import DatabaseFeatures as SingleFeatures

    assert issubclass(MongoFeatures, NonrelFeatures)
    assert issubclass(SingleFeatures, NonrelFeatures)


def test_a_stock_backend_reads_the_defaults_which_are_djangos_behaviour():
    stock = nonrel_features(connections["sqlite"])
    assert stock is STOCK_FEATURES
    assert not stock.returns_structured_rows
    assert stock.distinguishes_insert_from_update
    assert not stock.checks_not_null
    assert not stock.stores_unique_nulls_as_absent
    # None: the cascade patch leaves Django's own delete/update batching alone.
    assert stock.max_keys_per_command is None


def test_no_feature_flag_is_read_with_a_fallback_default():
    """A flag read as ``getattr(features, "x", default)`` would be declared nowhere."""
    found = []
    for module, path in library_sources().items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and node.args
                and "features" in ast.unparse(node.args[0])
            ):
                found.append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "declare these flags in django_nonrel.features:\n" + "\n".join(found)
