"""Exact-value checks that the corpus and TSK helpers see what the tools print.

The literals were read from fls/icat/mmls (TSK 4.11.1), ewfinfo/ewfverify
(libewf 20140813) and cross-checked (debugfs for file content, pyewf for the
email_test digest) so a helper that parses wrongly cannot pass.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.corpus import (
    CORPUS_ENV,
    LARGE_SPARSE_ENV,
    check_untouched,
    container_kind,
    require_corpus,
    sources_rows,
    unpacked,
)
from tests.oracle import (
    Pool,
    ewf_stored_hashes,
    ewf_verify,
    ewfverify_ok,
    icat_sha256,
    parse_fls_line,
    tsk_allocated_paths,
    tsk_entries,
    tsk_partitions,
)

TSK_IMAGE_DD = "sleuthkit__sleuthkit/test/data/image.dd"
FAT12_GZ = "msuhanov__dfir_ntfs/test_data/fat12.raw.gz"
NTFS3_GZ = "msuhanov__dfir_ntfs/test_data/ntfs3.raw.gz"
EXT2_E01 = "log2timeline__dfvfs/test_data/ext2.E01"
EMAIL_E01 = "simsong__bulk_extractor/src/tests/email_test.E01"
MBR_RAW = "log2timeline__dfvfs/test_data/mbr.raw"
MBR_WIN_TGZ = "msuhanov__dfir_ntfs/test_data/mbr-win-512.raw.tgz"
VSS_2003_TGZ = "msuhanov__dfir_ntfs/test_data/vss_2003.tgz"
APFS_RAW = "log2timeline__dfvfs/test_data/apfs.raw"
PASSWORDS_SHA256 = "02a2a6af2f1ecf4720d7d49d640f0d0a269a7ec733e41973bdd34f09dad0e252"


# --- corpus.py ---------------------------------------------------------------


def test_missing_corpus_skips_outside_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CORPUS_ENV, str(tmp_path / "absent"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=CORPUS_ENV):
        require_corpus()


def test_missing_corpus_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CORPUS_ENV, str(tmp_path / "absent"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="absent"):
        require_corpus()
    assert sources_rows("[disk]") == []


def test_sources_rows_disk_category() -> None:
    require_corpus()
    rows = sources_rows("[disk]")
    assert len(rows) == 78
    assert sources_rows("disk") == rows
    assert {row["local_path"] for row in rows} >= {TSK_IMAGE_DD, FAT12_GZ, EXT2_E01}


def test_check_untouched() -> None:
    require_corpus()
    assert check_untouched(TSK_IMAGE_DD)


def test_tgz_that_is_plain_tar_unpacks_sparse(tmp_path: Path) -> None:
    root = require_corpus()
    assert container_kind(root / MBR_WIN_TGZ) == "tar"
    image = unpacked(MBR_WIN_TGZ, tmp_path)
    assert image.name == "mbr-win-512.raw"
    assert image.stat().st_size == 268435456
    assert unpacked(MBR_WIN_TGZ, tmp_path) == image  # cached, not unpacked twice
    partitions = tsk_partitions(image)
    assert [(p["start"], p["length"]) for p in partitions][:3] == [
        (128, 16384),
        (16512, 16384),
        (32896, 16384),
    ]
    assert len(partitions) == 7


def test_huge_sparse_vss_needs_opt_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = require_corpus()
    monkeypatch.delenv(LARGE_SPARSE_ENV, raising=False)
    assert container_kind(root / VSS_2003_TGZ) == "tar+gzip"
    with pytest.raises(pytest.skip.Exception, match=LARGE_SPARSE_ENV):
        unpacked(VSS_2003_TGZ, tmp_path)
    assert not any(tmp_path.iterdir())


def test_plain_entry_is_returned_in_place(tmp_path: Path) -> None:
    root = require_corpus()
    assert unpacked(TSK_IMAGE_DD, tmp_path) == root / TSK_IMAGE_DD
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


# --- oracle.py: fls ----------------------------------------------------------


def test_parse_fls_line_forms() -> None:
    deleted = parse_fls_line(b"r/- * 0:\ta_directory/another_file~")
    assert (deleted.deleted, deleted.inode, deleted.type) == (True, "0", "r/-")
    realloc = parse_fls_line(b"r/r * 35(realloc):\tdir/old name")
    assert (realloc.deleted, realloc.realloc, realloc.meta_addr) == (True, True, 35)
    ads = parse_fls_line(b"r/r 10-128-2:\t$UpCase:$Info")
    assert (ads.stream, ads.is_ads, ads.meta_addr, ads.attr_type) == ("$Info", True, 10, 128)
    colon = parse_fls_line(b"r/r 12:\tnot:a stream")
    assert colon.stream is None
    raw = parse_fls_line(b"r/r 13:\tcaf\xe9")
    assert os.fsencode(raw.path) == b"caf\xe9"


def test_fls_on_tsk_image_dd() -> None:
    root = require_corpus()
    paths = tsk_allocated_paths(root / TSK_IMAGE_DD)
    assert len(paths) == 6
    assert paths["a_directory/a_file"] == ("r/r", "14")
    assert paths["a_link"] == ("l/l", "13")
    assert "a_directory/.another_file.swp" not in paths  # deleted
    assert tsk_allocated_paths(root / TSK_IMAGE_DD, include_virtual=True)["$OrphanFiles"] == (
        "V/V",
        "17",
    )
    deleted = [e for e in tsk_entries(root / TSK_IMAGE_DD, allocated_only=False) if e.deleted]
    assert len(deleted) == 2


def test_icat_matches_debugfs_content() -> None:
    root = require_corpus()
    assert icat_sha256(root / TSK_IMAGE_DD, "15") == PASSWORDS_SHA256


def test_fat12_allocated_count(tmp_path: Path) -> None:
    require_corpus()
    image = unpacked(FAT12_GZ, tmp_path)
    assert image.stat().st_size == 4194304
    assert len(tsk_allocated_paths(image)) == 1025
    virtual = set(tsk_allocated_paths(image, include_virtual=True)) - set(tsk_allocated_paths(image))
    assert virtual == {"$MBR", "$FAT1", "$FAT2", "$OrphanFiles"}


def test_ntfs_streams(tmp_path: Path) -> None:
    require_corpus()
    paths = tsk_allocated_paths(unpacked(NTFS3_GZ, tmp_path))
    assert len(paths) == 23
    assert paths["$UpCase:$Info"] == ("r/r", "10-128-2")
    assert paths["$Secure:$SDH"] == ("r/r", "9-144-3")
    assert paths["test/1.txt"] == ("-/r", "28-128-2")


def test_fls_opens_e01_directly() -> None:
    root = require_corpus()
    paths = tsk_allocated_paths(root / EXT2_E01, image_type="ewf")
    assert len(paths) == 6
    assert paths["passwords.txt"] == ("r/r", "14")


def test_fls_apfs_pool() -> None:
    root = require_corpus()
    paths = tsk_allocated_paths(root / APFS_RAW, pool=Pool("apfs", 107))
    assert len(paths) == 10
    assert paths["passwords.txt"] == ("r/r", "18")


# --- oracle.py: mmls ---------------------------------------------------------


def test_partitions_of_mbr_raw() -> None:
    root = require_corpus()
    partitions = tsk_partitions(root / MBR_RAW)
    assert [(p["slot"], p["start"], p["length"]) for p in partitions] == [
        ("000:000", 1, 350),
        ("001:000", 352, 2528),
    ]
    assert partitions[0]["table"] == "DOS Partition Table"
    assert tsk_partitions(root / TSK_IMAGE_DD) == []


# --- oracle.py: ewf ----------------------------------------------------------


def test_ewf_stored_hashes_ext2() -> None:
    root = require_corpus()
    assert ewf_stored_hashes(root / EXT2_E01) == {"md5": "196066add11fb71c4c49cf1bb50d6d24"}
    result = ewf_verify(root / EXT2_E01)
    assert result.ok
    assert result.stored == {"md5": "196066add11fb71c4c49cf1bb50d6d24"}
    assert result.computed == {
        "md5": "196066add11fb71c4c49cf1bb50d6d24",
        "sha1": "4766c63c7acd5175015e3e8b90013a827e63f4ee",
        "sha256": "a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80",
    }


def test_ewfverify_catches_wrong_stored_md5() -> None:
    """email_test.E01..E04 is intact on disk but its stored MD5 does not match its data."""
    root = require_corpus()
    assert check_untouched(EMAIL_E01)
    assert not ewfverify_ok(root / EMAIL_E01)
    result = ewf_verify(root / EMAIL_E01)
    assert result.stored["md5"] == "b817ed2590eeeb39f42445088d369f6c"
    assert result.computed["md5"] == "63fa546614f5d732586f3ca06b59bc49"
