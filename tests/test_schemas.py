"""Schemas change only with a version bump: the golden file holds each table's text and version."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from manifests.schemas import ERRORS, TABLES
from manifests.writer import TableWriter

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


def _error_row(**changes: object) -> dict:
    row = {column.name: None for column in ERRORS.columns}
    row.update(case_id="C", exhibit_id="E", error_index=0, stage="walk", error_kind="x", severity="error", message="m")
    row.update(changes)
    return row


def test_a_row_with_an_unknown_key_or_a_missing_column_is_refused_when_appended(tmp_path: Path) -> None:
    writer = TableWriter(tmp_path / "errors.parquet", ERRORS, {})
    good = _error_row()
    writer.append(good)
    mistyped = _error_row()
    mistyped["mesage"] = mistyped.pop("message")
    with pytest.raises(ValueError) as refused:
        writer.append(mistyped)
    assert str(refused.value) == "errors.parquet: a row has keys that are not its columns: mesage; and no value for the columns: message"
    short = _error_row()
    del short["path_spec"]
    with pytest.raises(ValueError, match=r"^errors\.parquet: a row has no value for the columns: path_spec$"):
        writer.append(short)
    writer.close()
    table = pq.read_table(tmp_path / "errors.parquet")
    assert table.num_rows == 1 and table.column("message").to_pylist() == ["m"]
