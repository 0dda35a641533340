"""The package's layers, checked from the import statements of every module (no import-linter needed).

Each layer may import only the layers listed for it; plots is imported only by the bottom layer (the
chapter helper, the benchmark and the command line), the tests and the notebooks. The README's
architecture section states the same table.
"""

from pathlib import Path

import pytest

import primekit
from primekit import cache, paths

PACKAGE = paths.package_dir()
TOP = {"profiles", "cache", "seeding", "paths", "checks", "progress", "log", "pages", "reference", "tables", "exercises",
       "_lazy"}
BOTTOM = {"chapter", "course", "bench", "bench_compare", "bench_vae", "build_timings", "__main__"}
ALLOWED = {
    "top": {"top"},
    "data": {"top", "data"},
    "snn": {"top", "snn"},
    "chip": {"top", "snn", "chip"},
    "inference": {"top", "data", "snn", "chip", "inference"},
    "energy": {"top", "data", "snn", "chip", "inference", "energy"},
    "experiments": {"top", "data", "snn", "chip", "inference", "energy", "experiments"},
    "plots": {"top", "data", "snn", "chip", "inference", "energy", "experiments", "plots"},
    "ledger": {"top", "data", "snn", "chip", "inference", "energy", "experiments", "ledger"},
    "bottom": {"top", "data", "snn", "chip", "inference", "energy", "experiments", "plots", "ledger", "bottom"},
}
MAX_LINES = 400


def layer_of(module: str) -> str:
    """The layer of a dotted primekit module name."""
    parts = module.split(".")[1:]
    if not parts:
        return "package"
    if parts[0] in ALLOWED and len(parts) >= 1 and parts[0] not in ("top", "bottom"):
        return parts[0]
    if parts[0] in TOP:
        return "top"
    if parts[0] in BOTTOM:
        return "bottom"
    raise AssertionError(f"{module} belongs to no layer: add it to the table in tests/test_architecture.py "
                         f"and the README's architecture section")


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(("primekit",) + (parts[:-1] if parts[-1] == "__init__" else parts))
        yield name, path


def imports_of(path: Path, name: str) -> set[str]:
    """Primekit modules (or names) that the file imports, anywhere in it: the cache's own import reader."""
    return {m for m in cache._imported_modules(path, name) if m.startswith("primekit.")}


def target_layer(imported: str) -> str | None:
    """The layer of an imported name, or None for a name that is not a module (``primekit.data.x.func``)."""
    parts = imported.split(".")
    for length in range(len(parts), 1, -1):
        candidate = PACKAGE.joinpath(*parts[1:length])
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            return layer_of(".".join(parts[:length]))
    return None


@pytest.mark.parametrize("name,path", list(modules()), ids=lambda v: str(v) if isinstance(v, str) else "")
def test_each_module_imports_only_the_layers_above_it(name, path):
    layer = layer_of(name)
    if layer == "package":
        return  # primekit/__init__.py re-exports for users; nothing inside primekit imports names from it
    bad = sorted(m for m in imports_of(path, name) if (t := target_layer(m)) is not None and t not in ALLOWED[layer])
    assert not bad, f"{name} (layer {layer}) imports {bad}; {layer} may import {sorted(ALLOWED[layer])}"


def test_nothing_inside_primekit_imports_names_from_a_package_init():
    """The cache hashes the modules a computation imports; importing through an __init__ would hide them."""
    offenders = []
    for name, path in modules():
        if layer_of(name) in ("bottom", "package"):
            continue  # the command line reads primekit.__version__; it computes nothing that is cached
        for imported in imports_of(path, name):
            parts = imported.split(".")
            if len(parts) == 2 and parts[1] not in {p.stem for p in PACKAGE.glob("*.py")} | {
                    p.name for p in PACKAGE.iterdir() if p.is_dir()}:
                offenders.append((name, imported))  # `from primekit import get_profile`
    assert not offenders, offenders


def test_plots_is_imported_only_from_the_bottom_layer():
    users = sorted(name for name, path in modules()
                   if layer_of(name) not in ("plots", "bottom")
                   and any(target_layer(m) == "plots" for m in imports_of(path, name)))
    assert users == [], users


def test_no_module_is_longer_than_the_limit():
    long = {name: n for name, path in modules() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_the_layer_table_has_a_home_for_every_module():
    assert {layer_of(name) for name, _ in modules()} <= set(ALLOWED) | {"package"}
    assert primekit.__version__
