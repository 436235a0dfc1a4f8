"""The layout's import rules (README, "How the code is laid out"), read from the source.

Data flows one way, floor by floor, and a newcomer can trust a folder's floor only if no import
breaks it: a failure names the file, the line and the import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Floor of each folder of Python code; a module imports only folders of lower floors.
FLOORS = {
    "core": 0,
    "ingestion": 1,
    "quality": 1,
    "sdmx_export": 1,
    "synthetic": 1,
    "publication": 3,  # floor 2 is dbt_project/, which holds no Python
    "orchestration": 4,
    "dashboards": 4,
    "crimestat": 5,  # the CLI starts Dagster and Streamlit: the one face above the others
}
# The dashboards read only their snapshot, through the ground floor's snapshot layout.
ONLY = {"dashboards": {"core"}}


def _modules() -> dict[str, Path]:
    found = {}
    for folder in FLOORS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module an import names (a package's submodule if it is one)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _shown(module: str, path: Path) -> str:
    """The file as a reader finds it in the repository."""
    return "/".join(module.split(".")) + ("/__init__.py" if path.name == "__init__.py" else ".py")


def _imports(module: str, modules: dict[str, Path]) -> Iterator[tuple[int, str, str]]:
    """(line, import as written, project module imported) for every import in the file,
    including those inside functions, which run as surely as those at the top."""
    path = modules[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if target := _resolve(alias.name, modules):
                    yield node.lineno, f"import {alias.name}", target
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                written = f"from {'.' * node.level}{node.module or ''} import {alias.name}"
                target = _resolve(f"{base}.{alias.name}", modules) or _resolve(base, modules)
                if target:
                    yield node.lineno, written, target


def _folder(module: str) -> str:
    return module.split(".")[0]


def layout_violations(modules: dict[str, Path]) -> list[str]:
    problems = []
    for module, path in modules.items():
        here = _folder(module)
        for line, written, target in _imports(module, modules):
            there = _folder(target)
            if there == here:
                continue
            allowed = ONLY.get(here)
            if allowed is not None and there not in allowed:
                why = f"{here}/ may import only {', '.join(sorted(allowed))}/"
            elif FLOORS[there] >= FLOORS[here]:
                why = f"{there}/ is not on a floor below {here}/"
            else:
                continue
            problems.append(f"{_shown(module, path)}:{line}: `{written}`: {why}")
    return problems


def import_cycles(modules: dict[str, Path]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    graph = {m: sorted({t for _, _, t in _imports(m, modules) if t != m}) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


def test_every_import_points_down_a_floor() -> None:
    assert layout_violations(MODULES) == []


def test_no_module_imports_itself_back() -> None:
    assert import_cycles(MODULES) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from publication.releases import ReleaseError\n", "publication/ is not on a floor"),
        ("import ingestion.loading\n", "ingestion/ is not on a floor below quality/"),
        ("from core import settings\n", None),
    ],
)
def test_a_broken_rule_is_named(tmp_path: Path, source: str, expected: str | None) -> None:
    """The check finds an upward and a sideways import in a file it has never seen."""
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    every = layout_violations({**MODULES, "quality.probe": probe})
    found = [problem for problem in every if problem.startswith("quality/probe.py")]
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].startswith("quality/probe.py:1: `"), found
        assert expected in found[0]


def test_a_cycle_is_named(tmp_path: Path) -> None:
    first, second = tmp_path / "first.py", tmp_path / "second.py"
    first.write_text("from core import second\n")
    second.write_text("import core.first\n")
    cycles = import_cycles({**MODULES, "core.first": first, "core.second": second})
    assert ["core.first", "core.second"] in cycles
