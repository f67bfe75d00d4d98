"""A container file the media depends on but that is missing is reported, never silently left unhashed."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.corpus import require_corpus


def test_differencing_vhd_without_its_parent(tmp_path: Path, ingest_image) -> None:
    child = require_corpus() / "log2timeline__dfvfs/test_data/image-differential.vhd"
    alone = tmp_path / "evidence" / child.name
    alone.parent.mkdir()
    shutil.copyfile(child, alone)
    result = ingest_image(alone)
    assert result.exit_code == 1
    assert result.artefacts() == []
    kinds = [(e["stage"], e["kind"]) for e in result.errors()]
    assert kinds == [("scan", "no_file_system"), ("source", "source_unreadable"), ("source", "media_read_error")]
    missing = result.errors()[1]
    assert missing["message"] == f"{alone.parent / 'image.vhd'}: parent disk named by image-differential.vhd is not beside it; " \
                                 "it is not among the hashed container files"
    source = result.source()
    assert [c["path"] for c in source["container_files"]] == [str(alone)]
    assert source["source_unchanged"] is True
    assert source["media_sha256"] is None
