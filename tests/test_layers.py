"""The package's layers import one way only: config → model → runs → sweeps → experiments → app → cli.

Read from the source (every import statement, including those inside
functions and ``TYPE_CHECKING`` blocks), so a shortcut from a lower layer to a
higher one fails here, not in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "src" / "coprod_sim"
# layer of each top-level module or subpackage; a module may import its own subpackage and lower layers only
LAYERS: dict[str, int] = {
    "errors": 0, "domain": 0, "processes": 0,
    "config": 1,
    "model": 2,
    "runs": 3,
    "sweeps": 4,
    "experiments": 5, "sensitivity": 5, "attribution": 5,
    "app": 6,
    "cli": 7,
}
FACADE = {"__init__", "__main__"}  # the public API re-exports every layer
ROOT_NAMES_ALLOWED = {"__version__"}  # all that a layer may take from the facade


def _unit(module: str) -> str:
    """``coprod_sim.model.plan`` → ``model``; ``coprod_sim`` → ``""`` (the facade)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(source: str, rel: Path) -> list[tuple[str, list[str], int]]:
    """(absolute module, imported names, line) of every coprod_sim import in ``source``, the file at
    ``rel`` (relative to the package's parent, e.g. ``coprod_sim/model/plan.py``)."""
    package = list(rel.parts[:-1])  # the package a relative import starts from (also for __init__.py)
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            out.append((module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
    return [(m, n, line) for m, n, line in out if m == "coprod_sim" or m.startswith("coprod_sim.")]


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down_the_layers_only(path: Path) -> None:
    rel = path.relative_to(PACKAGE)
    unit = rel.parts[0].removesuffix(".py")
    if unit in FACADE:
        return
    assert unit in LAYERS, f"{rel}: not in a known layer; add it to LAYERS in {Path(__file__).name}"
    wrong = []
    for module, names, line in _imports(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE.parent)):
        target = _unit(module)
        if target == "":
            if set(names) - ROOT_NAMES_ALLOWED:
                wrong.append(f"line {line}: imports {names} from the coprod_sim facade")
            continue
        if target != unit and LAYERS.get(target, 99) >= LAYERS[unit]:
            wrong.append(f"line {line}: {unit} (layer {LAYERS[unit]}) imports {module} (layer {LAYERS.get(target)})")
    assert not wrong, f"{rel}:\n" + "\n".join(wrong)


def test_the_layer_check_sees_upward_imports() -> None:
    """The checker itself: imports inside functions and through the facade are found and resolved."""
    source = "def f():\n    from ..sweeps import sweep\n    from .. import run\n    from . import plan\n"
    found = _imports(source, Path("coprod_sim/model/probe.py"))
    assert found == [("coprod_sim.sweeps", ["sweep"], 2), ("coprod_sim", ["run"], 3), ("coprod_sim.model", ["plan"], 4)]



def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")


def _runtime_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Package modules that ``path`` imports when it runs: at module level or inside functions, but not in
    ``if TYPE_CHECKING:`` blocks (type-only imports are allowed to point back)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                for alias in node.names:
                    full = f"{module}.{alias.name}"
                    out.add(full if full in modules else module)
            elif isinstance(node, ast.Import):
                out.update(alias.name for alias in node.names)
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    visit([c for c in children if isinstance(c, ast.stmt)] +
                          [s for h in children if isinstance(h, ast.ExceptHandler) for s in h.body])
    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {m for m in out if m in modules and m != name}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in graph:
        if v not in index:
            connect(v)
    return found


def test_no_import_circles_other_than_type_only_ones() -> None:
    """Issue 16: no module imports, even inside a function, one that imports it back (a package's
    ``__init__`` re-exporting its modules is not a circle unless a module imports the package back)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {name: _runtime_imports(path, modules) for name, path in modules.items()}
    assert not _circles(graph)


def test_the_circle_check_sees_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []
