"""The README's sample image: built by scripts/make_sample.py, ingested end to end, every row checked."""

from __future__ import annotations

import hashlib
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from make_sample import FILES, build_sample  # noqa: E402

from tests.conftest import require_tool  # noqa: E402


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("mkfs.ext4")
    require_tool("debugfs")
    return build_sample(tmp_path_factory.mktemp("sample"))


def test_every_file_hashed_and_deleted_entry_found(sample: Path, ingest_image) -> None:
    before = hashlib.sha256(sample.read_bytes()).hexdigest()
    result = ingest_image(sample, exhibit="JS/1")
    assert result.exit_code == 0, result.output
    assert result.folder.name == "JS%2F1"
    rows = result.by_path()
    assert len(result.artefacts()) == 19
    for relative, content in FILES.items():
        row = rows[b"/" + relative.encode()]
        assert row["sha256"] == hashlib.sha256(content).hexdigest()
        assert row["md5"] == hashlib.md5(content).hexdigest()
        assert row["sha1"] == hashlib.sha1(content).hexdigest()
        assert row["size"] == len(content)
    deleted = rows[b"/deleted-later.txt"]
    assert (deleted["is_allocated"], deleted["is_deleted"]) == (False, True)
    assert [p for p, r in rows.items() if r["is_deleted"]] == [b"/deleted-later.txt"]
    assert rows[b"/Download/invoice.txt"]["is_extension_mismatch"] is True
    assert rows[b"/Download/notes.txt"]["is_extension_mismatch"] is False
    assert result.errors() == []
    assert [(m["sender_id"], m["direction"], m["body"]) for m in result.table("messages")] == [
        ("+447700900123", "incoming", "Did you get the photos?"), (None, "outgoing", "Yes. Meet at the usual place.")]
    media = {row["path"]: row for row in result.table("media")}
    # By content: the PNG named invoice.txt is a picture; notes.txt is not.
    assert sorted(media) == ["/DCIM/Camera/IMG_20240102_030405.jpg", "/DCIM/Camera/IMG_20240102_030406.png", "/Download/invoice.txt"]
    photo = media["/DCIM/Camera/IMG_20240102_030405.jpg"]
    assert (photo["make"], photo["model"], photo["capture_time_raw"], photo["capture_offset"]) == ("ExhibitCam", "Sample 1", "2024:01:02 04:04:05", "+01:00")
    assert photo["capture_time"] == 1704164645 * 10**9  # 04:04:05+01:00 is 03:04:05 UTC
    assert (photo["latitude"], photo["longitude"], photo["gps_source"], photo["width"], photo["height"]) == (51.5, -0.125, "exif", 1, 1)
    source = result.source()
    assert source["is_source_unchanged"] is True
    assert source["stream_sha256"] == before == source["container_files"][0]["sha256_before"]
    assert hashlib.sha256(sample.read_bytes()).hexdigest() == before


def test_golden_record(sample: Path, ingest_image) -> None:
    """One complete row, every column, for a file whose facts are fixed by make_sample.py."""
    result = ingest_image(sample, exhibit="JS/1")
    row = dict(result.by_path()[b"/DCIM/Camera/IMG_20240102_030405.jpg"])
    inode = row.pop("inode")
    parent = row.pop("parent_inode")
    spec = row.pop("path_spec")
    changed = row.pop("changed_time")
    entry_index = row.pop("entry_index")
    assert isinstance(inode, int) and isinstance(parent, int) and isinstance(entry_index, int)
    assert spec.startswith('{"__type__": "PathSpec", "inode": %d, "location": "/DCIM/Camera/IMG_20240102_030405.jpg"' % inode)
    assert changed is not None
    content = FILES["DCIM/Camera/IMG_20240102_030405.jpg"]
    fixed = int(datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp()) * 1_000_000_000
    assert row == {
        "case_id": "CASE-1",
        "exhibit_id": "JS/1",
        "volume_index": 0,
        "volume_id": "/",
        "volume_type": "EXT",
        "volume_offset": None,
        "path": "/DCIM/Camera/IMG_20240102_030405.jpg",
        "path_bytes": b"/DCIM/Camera/IMG_20240102_030405.jpg",
        "name_bytes": b"IMG_20240102_030405.jpg",
        "data_stream": None,
        "logical_path": None,
        "sequence": None,
        "entry_type": "file",
        "size": len(content),
        "is_allocated": True,
        "is_deleted": False,
        "is_orphan": False,
        "created_time": row["created_time"],
        "modified_time": fixed,
        "accessed_time": fixed,
        "deleted_time": None,
        "mode": 0o644,
        "uid": 0,
        "gid": 0,
        "link_target": None,
        "link_target_bytes": None,
        "content_status": "hashed",
        "md5": hashlib.md5(content).hexdigest(),
        "sha1": hashlib.sha1(content).hexdigest(),
        "sha256": hashlib.sha256(content).hexdigest(),
        "sha512": None,
        "mime_type": "image/jpeg",
        "magic_description": row["magic_description"],
        "is_extension_mismatch": False,
        "read_error_kind": None,
        "read_error_offset": None,
        "read_error_length": None,
        "read_error_message": None,
    }
    assert row["magic_description"].startswith("JPEG image data, JFIF standard 1.01")


def test_split_raw_with_letter_suffixes(sample: Path, tmp_path: Path, ingest_image) -> None:
    """`split` names segments .aa, .ab, ...: all are evidence files and together they are the media."""
    data = sample.read_bytes()
    segment = 1 << 20
    parts = [tmp_path / f"img.raw.{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range((len(data) + segment - 1) // segment)]
    for index, part in enumerate(parts):
        part.write_bytes(data[index * segment:(index + 1) * segment])
    result = ingest_image(parts[0])
    assert result.exit_code == 0, result.output
    source = result.source()
    assert source["format_chain"] == "RAW"
    assert [c["path"] for c in source["container_files"]] == [str(p) for p in parts] and len(parts) == 4
    assert source["stream_sha256"] == hashlib.sha256(data).hexdigest()
    assert len(result.artefacts()) == 19
