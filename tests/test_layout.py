"""The package's shape, read from its source with ``ast``: no import cycles (imports inside
functions count), every import pointing down the layers, no function longer than a screen,
a short top level, and an install that claims no generic name."""

from __future__ import annotations

import ast
import tomllib
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 60
MAX_TOP_LEVEL_MODULES = 10

# Lowest first: a module may import its own layer and the layers below it, never above.
LAYERS = [
    ("games", ("evonet.games",)),
    ("base", ("evonet.text", "evonet.fields", "evonet.memory", "evonet.signals")),
    ("nn", ("evonet.nn",)),
    ("storage", ("evonet.storage",)),
    ("search", ("evonet.search",)),
    ("train", ("evonet.train",)),
    ("views", ("evonet.views",)),
    ("evolution", ("evonet.evolution",)),
    ("api", ("evonet.api",)),
    ("cli", ("evonet.cli", "evonet.__main__")),
]


@cache
def modules() -> dict[str, Path]:
    """Every module of the package by its installed name: ``evonet/...`` as it is, and
    the repository's ``games/`` as ``evonet.games`` (``evonet/games`` is its symlink)."""
    found = {}
    for top, prefix in ((ROOT / "evonet", ("evonet",)), (ROOT / "games", ("evonet", "games"))):
        for path in sorted(top.rglob("*.py")):
            rel = path.relative_to(top)
            if top.name == "evonet" and rel.parts[0] == "games":
                continue  # the symlink: the same files as games/
            parts = (*prefix, *rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imported(name: str) -> set[str]:
    """The package's modules that module ``name`` imports, anywhere in its body."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            # `from package import module` names the module; otherwise the package.
            while target and target not in modules():
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def layer(name: str) -> int:
    if name == "evonet":
        return len(LAYERS)  # the public API: lazy imports of everything
    best = max(
        ((i, p) for i, (_, prefixes) in enumerate(LAYERS) for p in prefixes
         if name == p or name.startswith(p + ".")),
        key=lambda ip: len(ip[1]),
        default=None,
    )  # fmt: skip
    assert best is not None, f"{name} belongs to no layer; add it to LAYERS"
    return best[0]


def test_every_module_belongs_to_a_layer():
    for name in modules():
        layer(name)


def test_imports_point_down_the_layers():
    upward = [
        f"{name} ({LAYERS[layer(name)][0]}) imports {dep} ({LAYERS[layer(dep)][0]})"
        for name in modules()
        for dep in sorted(imported(name))
        if layer(dep) > layer(name) and dep != "evonet"
    ]
    assert not upward, "\n".join(upward)


def test_there_are_no_import_cycles():
    graph = {name: imported(name) for name in modules()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for name in graph:
        if name not in state:
            cycle = visit(name)
            assert cycle is None, " -> ".join(cycle)


def test_the_games_import_nothing_of_evonet():
    for name in modules():
        if name.startswith("evonet.games"):
            outside = {d for d in imported(name) if not d.startswith("evonet.games")}
            assert not outside, f"{name} imports {outside}"


def test_no_function_is_longer_than_a_screen():
    long = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {lines} lines")
    assert not long, "\n".join(long)


def test_the_top_level_is_short():
    top = sorted(p.name for p in (ROOT / "evonet").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_install_lists_every_package_and_no_generic_name(pyproject):
    setuptools = pyproject["tool"]["setuptools"]
    packages = {n for n, p in modules().items() if p.name == "__init__.py"}
    assert set(setuptools["packages"]) == packages
    assert all(p == "evonet" or p.startswith("evonet.") for p in setuptools["packages"])
    assert setuptools["package-dir"] == {"evonet.games": "games"}


def test_nothing_imports_the_games_by_a_generic_name():
    for folder in ("evonet", "games", "tests", "benchmarks", "examples"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                assert not any(n == "games" or n.startswith("games.") for n in names), path


def test_the_api_reference_lists_every_public_name_where_it_is_defined():
    import evonet

    table = (ROOT / "docs" / "api" / "index.md").read_text()
    for name in evonet.__all__:
        module, attr = evonet._RENAMED.get(name, (evonet._EXPORTS.get(name), name))
        assert f"| `{name}` | [`{module}.{attr}`][{module}.{attr}] |" in table, name
