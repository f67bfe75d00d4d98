"""Schemas change only with a version bump: the golden file holds each table's text and version."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from manifests.schemas import TABLES

GOLDEN = Path(__file__).resolve().parent / "golden" / "schemas.json"


def _current() -> dict[str, dict]:
    return {name: {"version": table.version, "schema": table.arrow_schema().to_string(show_schema_metadata=False)} for name, table in TABLES.items()}


def test_schema_text_matches_golden_for_its_version() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    current = _current()
    assert sorted(current) == sorted(golden) == ["artefacts", "custody", "errors", "hash_hits", "hashset", "identifiers", "media", "messages",
                                                 "sources"]
    for name, entry in current.items():
        if entry["version"] == golden[name]["version"]:
            assert entry["schema"] == golden[name]["schema"], f"{name} changed without a version bump"
        else:
            assert entry["version"] > golden[name]["version"], f"{name} version went backwards"


def test_parquet_parts_carry_table_metadata(tmp_path: Path, ingest_image) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from make_sample import build_sample

    from tests.conftest import require_tool

    require_tool("mkfs.ext4")
    result = ingest_image(build_sample(tmp_path / "img"), case="C/2", exhibit="JS 1")
    for name in ("artefacts", "sources", "errors"):
        table = TABLES[name]
        metadata = pq.read_schema(result.folder / f"{name}.parquet").metadata
        assert metadata[b"exhibit.table"] == name.encode()
        assert metadata[b"exhibit.table_version"] == str(table.version).encode()
        assert metadata[b"exhibit.case_id"] == b"C/2"
        assert metadata[b"exhibit.exhibit_id"] == b"JS 1"
        assert len(metadata[b"exhibit.config_digest"]) == 64
        assert metadata[b"exhibit.library.dfvfs"] and metadata[b"exhibit.library.pytsk3"] and metadata[b"exhibit.library.libewf-python"]
    assert result.folder == tmp_path / "cases0" / "C%2F2" / "JS%201"
