"""Imports run one way, ingest -> case -> parsers -> manifests, and only ingest touches dfVFS or pytsk3."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "case": {"ingest", "dfvfs", "pytsk3"},
    "parsers": {"ingest", "case", "dfvfs", "pytsk3"},
    "manifests": {"ingest", "case", "parsers", "dfvfs", "pytsk3"},
}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downward(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offenders = {str(p.relative_to(ROOT)): sorted(_imported_roots(p) & FORBIDDEN[package]) for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from ingest.scan import scan_source\nimport dfvfs.lib\n")
    assert _imported_roots(bad) == {"ingest", "dfvfs"}


def _ingest_imports(path: Path) -> set[str]:
    """The ingest modules one module imports, at any depth (an import inside a function hides a cycle, never breaks it)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "ingest":
                names.update(f"ingest.{alias.name}" for alias in node.names)
            elif node.module.startswith("ingest."):
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("ingest."))
    return names


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every module that can reach itself, with one path back to it."""
    found = []
    for start in sorted(graph):
        paths, seen = [[start]], {start}
        while paths:
            path = paths.pop()
            for following in sorted(graph.get(path[-1], ())):
                if following == start:
                    found.append([*path, start])
                    paths = []
                    break
                if following not in seen:
                    seen.add(following)
                    paths.append([*path, following])
    return found


def test_the_ingest_modules_import_without_a_cycle() -> None:
    graph = {f"ingest.{p.stem}": _ingest_imports(p) for p in sorted((ROOT / "ingest").glob("*.py"))}
    assert _cycles(graph) == []


def test_the_cycle_finder_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"], ["b", "c", "a", "b"], ["c", "a", "b", "c"]]
