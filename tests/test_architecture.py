"""The library's structure: no import cycles, small modules, feature flags declared once.

These read the source (``ast``), not a database, so they cost milliseconds and
run on every tier.

An import cycle is any cycle in the graph of "module A's source imports module
B" among the library's modules (``django_nonrel/``, ``backends/``,
``patches/``). Every import statement counts, wherever it is: at module level,
inside a function (a deferred import only postpones the cycle), and under
``if TYPE_CHECKING:`` (the annotation still means A cannot be read or moved
without B). Not counted: ``import_module()`` by a computed name (the patch
registry loads its patch modules so, a one-way dependency) and the implicit
import of a package's ``__init__`` before its submodules, which Python always
does and which is no dependency of the importing module's design.
"""

import ast
import configparser
import importlib.util
from pathlib import Path

from django.db import connections

from django_nonrel.features import STOCK_FEATURES, NonrelFeatures, nonrel_features
from django_nonrel.operations import STOCK_OPERATIONS, NonrelOperations, nonrel_operations
from django_nonrel.store_contract import RowWriter, row_writer

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


def _imported_module(name: str, modules: dict[str, Path]) -> str | None:
    """The library module ``name`` is, or is inside of (None: not the library's)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the library modules its source imports (any statement, any depth)."""
    graph = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1])
                    source = f"{base}.{source}" if source else base
                # ``from package import submodule`` imports the submodule.
                names = [
                    f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                    for alias in node.names
                ]
            for name in names:
                target = _imported_module(name, modules)
                if target is not None and target != module:
                    targets.add(target)
        graph[module] = targets
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def test_the_library_has_no_import_cycle():
    graph = import_graph(library_sources())
    assert graph["django_nonrel.where"] >= {"django_nonrel.relations", "django_nonrel.leaves"}
    described = [
        " <-> ".join(group)
        + "\n    "
        + "\n    ".join(f"{a} imports {b}" for a in group for b in sorted(graph[a]) if b in group)
        for group in import_cycles(graph)
    ]
    assert not described, "import cycles:\n" + "\n".join(described)


def test_a_cycle_through_a_deferred_or_type_checking_import_is_found(tmp_path):
    """The two cycles this test was written against: one through a function-level
    import, one through an ``if TYPE_CHECKING:`` import."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "where.py").write_text("from pkg.relations import join_of\n")
    (package / "relations.py").write_text("def f():\n    from pkg.where import Builder\n")
    (package / "store.py").write_text("from .claims import claim\n")
    (package / "claims.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .store import Store\n"
    )
    (package / "leaf.py").write_text("import pkg.where\n")
    modules = {
        f"pkg.{path.stem}" if path.stem != "__init__" else "pkg": path
        for path in package.glob("*.py")
    }
    assert sorted(import_cycles(import_graph(modules))) == [
        ["pkg.claims", "pkg.store"],
        ["pkg.relations", "pkg.where"],
    ]


#: The size past which a module is doing more than one thing (the developer guide's rule).
MAX_MODULE_LINES = 800


def test_no_module_is_longer_than_800_lines():
    long = {
        module: length
        for module, path in library_sources().items()
        if (length := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules by what they do: {long}"


def test_both_backends_inherit_the_declared_flags():
    from django_nonrel.backends.mongodb.features import DatabaseFeatures as MongoFeatures
    from django_nonrel.backends.singlestore.features import DatabaseFeatures as SingleFeatures

    assert issubclass(MongoFeatures, NonrelFeatures)
    assert issubclass(SingleFeatures, NonrelFeatures)


def test_the_cascade_hook_is_declared_and_stock_backends_get_djangos_collection():
    from django_nonrel.backends.mongodb.operations import DatabaseOperations as MongoOperations
    from django_nonrel.backends.singlestore.operations import (
        DatabaseOperations as SingleOperations,
    )

    assert issubclass(MongoOperations, NonrelOperations)
    assert issubclass(SingleOperations, NonrelOperations)
    # SingleStore keeps the default: Django collects the cascade (no FOREIGN KEYs).
    assert SingleOperations.take_over_cascade is NonrelOperations.take_over_cascade
    stock = nonrel_operations(connections["sqlite"])
    assert stock is STOCK_OPERATIONS
    assert stock.take_over_cascade(None, []) is False


def test_a_stock_backend_reads_the_defaults_which_are_djangos_behaviour():
    stock = nonrel_features(connections["sqlite"])
    assert stock is STOCK_FEATURES
    assert not stock.returns_structured_rows
    assert stock.distinguishes_insert_from_update
    assert not stock.checks_not_null
    assert not stock.stores_unique_nulls_as_absent
    # None: the cascade patch leaves Django's own delete/update batching alone.
    assert stock.max_keys_per_command is None


def test_a_nonrel_connection_declares_its_row_writer_and_a_stock_one_has_none():
    assert row_writer(connections["sqlite"]) is None
    default = connections["default"]
    if isinstance(default.features, NonrelFeatures):  # the tier runs one of our backends
        assert isinstance(row_writer(default), RowWriter)


def test_no_feature_flag_or_operations_hook_is_read_with_a_fallback_default():
    """A flag read as ``getattr(features, "x", default)``, or a hook as
    ``getattr(ops, "x", None)`` or ``getattr(store, "x", None)``, would be declared
    nowhere."""
    found = []
    for module, path in library_sources().items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and node.args
                and (
                    "features" in ast.unparse(node.args[0])
                    or ast.unparse(node.args[0]).endswith(("ops", "store"))
                    or "store" in ast.unparse(node.args[1:2])
                )
            ):
                found.append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    assert not found, (
        "declare these in django_nonrel.features, .operations or .store_contract:\n"
        + "\n".join(found)
    )


def _setup_cfg_options() -> tuple[dict[str, str], set[str]]:
    """(package_dir mapping, packages) as setup.cfg declares them."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    options = config["options"]
    package_dir = dict(
        (part.strip() for part in line.split("=", 1))
        for line in options["package_dir"].strip().splitlines()
    )
    return package_dir, set(options["packages"].split())


def test_every_source_folder_is_installed_as_the_package_it_is_imported_as():
    """A checkout is used installed, so a package setup.cfg does not list is missing
    from every regular install (the demo, a user's site-packages)."""
    package_dir, packages = _setup_cfg_options()
    assert package_dir == {package: folder for folder, package in PACKAGES.items()}
    folders = {
        ".".join([package, *init.parent.relative_to(ROOT / folder).parts])
        for folder, package in PACKAGES.items()
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert folders == packages


def test_the_package_holds_only_the_library():
    """``tests`` and ``bench`` are the checkout's, not modules of the installed package."""
    import django_nonrel

    assert [Path(entry).resolve() for entry in django_nonrel.__path__] == [ROOT / "django_nonrel"]
    assert importlib.util.find_spec("django_nonrel.tests") is None
    assert importlib.util.find_spec("django_nonrel.bench") is None
