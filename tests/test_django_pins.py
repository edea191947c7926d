"""The Django functions the project wraps, copies or assigns to are the ones it was checked
against (tests/django_pins.py). These read source, not a database: cheap, every tier."""

import ast
import inspect
import pkgutil
from pathlib import Path

import django

from django_nonrel.patches.versions import SUPPORTED
from tests.django_pins import HASHES, PINS, resolve, series, source_hash

ROOT = Path(__file__).resolve().parent.parent


def test_the_pinned_django_functions_are_the_ones_the_project_was_checked_against():
    pinned = HASHES[series()]
    changed = [name for name in PINS if source_hash(name) != pinned[name]]
    assert not changed, (
        f"Django {django.get_version()} changed functions django-nonrel depends on. "
        "Re-check the code named here against the new source, then update HASHES "
        "(python -m tests.django_pins):\n"
        + "\n".join(
            f"  {name}: {PINS[name].how} by {PINS[name].where} ({PINS[name].why})"
            for name in changed
        )
    )


def test_every_supported_release_series_has_a_hash_of_every_pinned_function():
    assert set(HASHES) == {f"{major}.{minor}" for major, minor in SUPPORTED}
    for hashes in HASHES.values():
        assert set(hashes) == set(PINS)


def _wrapped_by_patches() -> list[tuple[str, str, str]]:
    """(patch module, dotted name of the target, attribute) of every ``wrap()`` call."""
    found = []
    for path in sorted((ROOT / "patches").glob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {
            alias.asname or alias.name: f"{node.module}.{alias.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
            for alias in node.names
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "wrap":
                first, *rest = ast.unparse(node.args[0]).split(".")
                target = ".".join([imported[first], *rest])
                found.append((path.name, target, node.args[1].value))
    return found


def test_every_function_a_patch_wraps_is_pinned():
    wrapped = _wrapped_by_patches()
    assert len(wrapped) >= 10  # the parse found the patches' wrap() calls
    pinned = {resolve(name) for name in PINS}
    missing = [
        f"{module}: {target}.{attribute}"
        for module, target, attribute in wrapped
        if inspect.unwrap(getattr(pkgutil.resolve_name(target), attribute)) not in pinned
    ]
    assert not missing, "pin these in tests/django_pins.py and docs/patches.md: " + str(missing)


def test_docs_patches_md_lists_every_pinned_function():
    docs = (ROOT / "docs" / "patches.md").read_text()
    missing = [name for name in PINS if f"`{name.partition(':')[2]}`" not in docs]
    assert not missing, f"list these in docs/patches.md: {missing}"
