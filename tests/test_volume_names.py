"""Volumes that dfVFS only knows as generic TSK carry the name of the file system TSK opened."""

from __future__ import annotations

from tests.corpus import check_untouched, require_corpus


def test_iso9660_is_named(ingest_image) -> None:
    root = require_corpus()
    local = "sleuthkit__sleuthkit/test/data/image.iso"
    result = ingest_image(root / local)
    assert result.exit_code == 0, result.output
    rows = result.artefacts()
    assert {row["volume_type"] for row in rows} == {"ISO9660"}
    assert len(rows) == 7
    assert [v["file_system"] for v in result.source()["volumes"] if v["status"] == "ingested"] == ["ISO9660"]
    assert check_untouched(local)
