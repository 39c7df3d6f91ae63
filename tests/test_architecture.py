"""The package's shape, as the layout promises it (docs/development.md, "Layout").

Three rules that reviews alone do not keep:
- the engine never imports Home Assistant (it runs in the worker, where there is none);
- no import circle among the package's modules (every import counts: at module level, inside
  functions, under TYPE_CHECKING), so each stage can be read and tested on its own;
- the Home Assistant glue never reaches the worker's command line (it may use the worker's
  settings and YAML export, to hand an entry over to a worker, but not its CLI, its argparse
  parser or its paho host).

Read from the sources with `ast`, importing nothing: the rules hold on every lane, including
Python 3.14 where the pipeline packages do not install.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
import re

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "custom_components" / "nvr_inference"
NAME = "nvr_inference"
WORKER_ONLY = {f"{NAME}.engine.worker.{name}" for name in ("cli", "parser", "service", "mqtt")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((NAME, *parts))


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imports(name: str) -> Iterator[str]:
    """Every module of the package and every outside top-level name that `name` imports."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    here = name if _is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield target
            for alias in node.names:  # `from . import integration` names a module
                if f"{target}.{alias.name}" in MODULES:
                    yield f"{target}.{alias.name}"


def _internal(name: str) -> set[str]:
    """The package's modules that `name` imports (a package import counts as its __init__)."""
    found = set()
    for written in _imports(name):
        target = written.removeprefix("custom_components.")
        if target in MODULES and target != name:
            found.add(target)
    return found


GRAPH = {name: _internal(name) for name in MODULES}


def test_the_modules_are_found() -> None:
    names = set(MODULES)
    assert f"{NAME}.engine.fence.gate" in names
    assert f"{NAME}.engine.worker.cli" in names
    assert f"{NAME}.config_flow" in names
    assert GRAPH[f"{NAME}.engine.fence.publisher"]  # the resolver sees relative imports


@pytest.mark.parametrize(
    "name", [n for n in MODULES if n.startswith(f"{NAME}.engine")], ids=lambda n: n
)
def test_the_engine_never_imports_home_assistant(name: str) -> None:
    assert not [t for t in _imports(name) if t.split(".")[0] == "homeassistant"]


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(GRAPH[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles() -> None:
    assert _cycles() == []


def test_the_cycle_finder_can_fail() -> None:
    """A made-up circle is reported (the test above is not vacuous)."""
    a, b = f"{NAME}.engine.fence.gate", f"{NAME}.engine.fence.publisher"
    GRAPH[a].add(b)
    try:
        assert any(a in c and b in c for c in _cycles())
    finally:
        GRAPH[a].discard(b)


def _reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in GRAPH[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


GLUE = [n for n in MODULES if n.count(".") == 1 and not n.endswith(".__init__")]


@pytest.mark.parametrize("name", GLUE, ids=lambda n: n)
def test_home_assistant_glue_never_reaches_the_worker_cli(name: str) -> None:
    assert not _reachable(name) & WORKER_ONLY


MAX_LINES = 430  # "about 400": a module past this is two modules
MAX_MODULES = 11  # "about 10" per engine folder, its __init__ not counted


@pytest.mark.parametrize("name", sorted(MODULES), ids=lambda n: n)
def test_no_module_is_too_long(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{MODULES[name].name}: {lines} lines; split it along a seam"


@pytest.mark.parametrize(
    "folder",
    sorted(p for p in (PACKAGE / "engine").iterdir() if p.is_dir() and p.name != "__pycache__"),
    ids=lambda p: p.name,
)
def test_no_engine_folder_is_too_crowded(folder: Path) -> None:
    modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
    assert len(modules) <= MAX_MODULES, f"{folder.name}/ has {len(modules)} modules"


def test_the_wheel_ships_every_package() -> None:
    """pyproject lists the wheel's packages by hand: a new stage folder must be named there.

    (A folder left out installs nothing for pip users and the images: the worker then fails at
    its first import, as `engine/config` once did.)
    """
    pyproject = (PACKAGE.parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    listed = set(re.findall(r'^\s*"(nvr_inference(?:\.\w+)*)",$', pyproject, flags=re.MULTILINE))
    packages = {
        ".".join((NAME, *p.parent.relative_to(PACKAGE).parts)) for p in PACKAGE.rglob("__init__.py")
    }
    assert packages <= listed, sorted(packages - listed)
