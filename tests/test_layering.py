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
