"""Exhibit against independent tools on the corpus: The Sleuth Kit's fls and icat, and libewf's ewfinfo/ewfverify.

Why: Exhibit walks file systems with pytsk3 inside its own process, through dfVFS file objects for
every container; the command-line tools read the same images with their own image layers. If a
path is lost, invented or renamed, or content is read wrongly (wrong offset, wrong stream, a
container layer that mangles bytes), the two disagree.

Compared per file-system volume: the set of allocated paths (NTFS alternate data streams as
'file:stream') and the SHA-256 of every allocated regular file, virtual file and data stream. The
systematic differences, each handled explicitly below:
- fls never prints the root directory; Exhibit has a row for it.
- fls prints TSK's control-character replacement ('^') where Exhibit keeps the name's exact bytes.
- NTFS: fls prints named index attributes ($Secure:$SDH, $Secure:$SII, $ObjId:$O, $Quota:$O,
  $Quota:$Q, $Reparse:$R) as 'file:attribute' lines, and no line for those files themselves when they
  have no unnamed $DATA. They are not data streams: Exhibit lists the file and not the attribute.
- NTFS $BadClus:$Bad is a sparse map as long as the volume; TSK (and so icat) returns no bytes for it
  and Exhibit records it as not_file_data with no hash.
- HFS+: Exhibit adds a 'file:rsrc' row for each non-empty resource fork, which fls does not list;
  its hash is compared with icat of the fork attribute (type 4353).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import require_tool, run_ingest
from tests.corpus import corpus_root, require_corpus, sources_rows, unpacked
from tests.oracle import FlsEntry, ewf_stored_hashes, ewf_verify, icat_sha256, tsk_entries

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
HFS_RESOURCE_FORK = 4353  # TSK_FS_ATTR_TYPE_HFS_RSRC
BADCLUS_BAD = "$BadClus:$Bad"
ROW_COLUMNS = ["volume_index", "volume_offset", "volume_type", "path_bytes", "data_stream", "entry_type", "is_allocated",
               "content_status", "sha256", "size"]


@dataclass(frozen=True)
class FsCase:
    id: str
    source: str  # SOURCES.tsv local_path
    offsets: tuple[int | None, ...]  # fls -o (sectors) of each file-system volume, in Exhibit's volume order
    image_type: str | None = None  # fls -i
    member: str | None = None  # file inside an unpacked archive


MSU = "msuhanov__dfir_ntfs/test_data/"
FS_CASES: tuple[FsCase, ...] = (
    FsCase("tsk-image.dd-ext2", "sleuthkit__sleuthkit/test/data/image.dd", (None,)),
    FsCase("ntfs3", MSU + "ntfs3.raw.gz", (None,)),
    FsCase("ntfs_index-partitioned", MSU + "ntfs_index.raw.gz", (128,)),
    FsCase("ntfs3_attrlist", MSU + "ntfs3_attrlist.raw.gz", (None,)),
    FsCase("fat12", MSU + "fat12.raw.gz", (None,)),
    FsCase("fat16", MSU + "fat16.raw.gz", (None,)),
    FsCase("fat_lfn_test", MSU + "fat_lfn_test.raw.gz", (None,)),
    FsCase("fat_dst_test", "sleuthkit__sleuthkit/test/data/fat_dst_test.dd", (None,)),
    FsCase("exfat_win", MSU + "exfat_win.raw.gz", (None,)),
    FsCase("exfat_lin_part", MSU + "exfat_lin_part.raw.gz", (2048,)),
    FsCase("win_exfat_7", MSU + "win_exfat_7.raw.gz", (None,)),
    FsCase("hfsplus", "log2timeline__dfvfs/test_data/hfsplus.raw", (None,)),
    FsCase("test.ntfs.dd.E01", "Velocidex__velociraptor/artifacts/testdata/files/test.ntfs.dd.E01", (None,), "ewf"),
    FsCase("partition_image.E01", "Velocidex__velociraptor/artifacts/testdata/files/partition_image.E01", (None,), "ewf"),
    FsCase("imageformat_mmls_1.E01-both-partitions", "sleuthkit__sleuthkit/test/data/imageformat_mmls_1.E01", (128, 55424), "ewf"),
    FsCase("nps-2010-emails.E01", "simsong__bulk_extractor/src/tests/nps-2010-emails.E01", (1,), "ewf"),
    FsCase("img_fs_ext4", "mbroz__cryptsetup/tests/img_fs_ext4.img.xz", (None,)),
    FsCase("hierarchy_64.ext4", "Velocidex__velociraptor/artifacts/testdata/files/ext4_tests.zip", (None,)),
)

# Every E01 in the corpus (first segment of a set), with ewfverify's verdict: email_test's stored MD5
# does not match its data, and both tools must say so.
E01_VERDICTS: dict[str, bool] = {
    "log2timeline__dfvfs/test_data/ext2.E01": True,
    "log2timeline__dfvfs/test_data/ext2.split.E01": True,
    "log2timeline__plaso/test_data/image.E01": True,
    "log2timeline__plaso/test_data/image-split.E01": True,
    "sleuthkit__sleuthkit/test/data/image.E01": True,
    "sleuthkit__sleuthkit/test/data/imageformat_mmls_1.E01": True,
    "Velocidex__velociraptor/artifacts/testdata/files/test.ntfs.dd.E01": True,
    "Velocidex__velociraptor/artifacts/testdata/files/partition_image.E01": True,
    "simsong__bulk_extractor/src/tests/email_test.E01": False,
    "simsong__bulk_extractor/src/tests/nps-2010-emails.E01": True,
    "simsong__bulk_extractor/src/tests/CFReDS001.E01": True,
}


@pytest.fixture(scope="session")
def oracle_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder per session for the unpacked corpus entries these tests read."""
    return tmp_path_factory.mktemp("oracle-unpacked")


def tsk_path(path_bytes: bytes) -> str:
    """Exhibit's exact path in fls's form: no leading '/', control characters as '^' (TSK_IS_CNTRL)."""
    printable = bytes(0x5E if byte < 0x20 else byte for byte in path_bytes)
    return printable.lstrip(b"/").decode("utf-8", "surrogateescape")


def fls_expectation(entries: list[FlsEntry]) -> tuple[dict[str, FlsEntry], set[str]]:
    """Allocated fls lines by path, and the paths Exhibit must list that fls shows only through an index attribute."""
    lines: dict[str, FlsEntry] = {}
    index_only: set[str] = set()
    for entry in entries:
        if entry.deleted or entry.realloc:
            continue
        if entry.stream is not None and not entry.is_ads:
            index_only.add(entry.path.rsplit(":", 1)[0])
            continue
        lines.setdefault(entry.path, entry)
    return lines, index_only - set(lines)


def hashes_by_icat(jobs: list[tuple[str, tuple]]) -> dict[str, str]:
    """icat | sha256 for many inodes at once (one process per file; two cores)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {path: pool.submit(icat_sha256, *args) for path, args in jobs}
        return {path: future.result() for path, future in futures.items()}


@pytest.mark.parametrize("case", FS_CASES, ids=[case.id for case in FS_CASES])
def test_allocated_paths_and_content_match_fls_and_icat(case: FsCase, oracle_tmp: Path, tmp_path: Path) -> None:
    """Same allocated paths as 'fls -r -p', same SHA-256 as 'icat | sha256sum' for every file and stream."""
    require_corpus()
    require_tool("fls")
    require_tool("icat")
    image = unpacked(case.source, oracle_tmp)
    if case.member is not None:
        image = image / case.member
    result = run_ingest(image, tmp_path / "out")
    assert result.exit_code == 0, result.output
    rows = pq.read_table(result.folder / "artefacts.parquet", columns=ROW_COLUMNS).to_pylist()

    volume_indexes = sorted({row["volume_index"] for row in rows})
    offsets = {index: next(row["volume_offset"] for row in rows if row["volume_index"] == index) for index in volume_indexes}
    # Exhibit's volume offset is in bytes, fls -o in 512-byte sectors; a bare file system has none.
    assert [None if not offsets[i] else offsets[i] // 512 for i in volume_indexes] == list(case.offsets)

    for volume_index, offset in zip(volume_indexes, case.offsets, strict=True):
        volume_rows = [row for row in rows if row["volume_index"] == volume_index]
        is_hfs = volume_rows[0]["volume_type"] == "HFS"
        allocated: dict[str, dict] = {}
        forks: dict[str, dict] = {}
        for row in volume_rows:
            if not row["is_allocated"] or row["path_bytes"] == b"/":
                continue  # fls lists allocated names only (-u) and never the root
            path = tsk_path(row["path_bytes"])
            target = forks if is_hfs and row["data_stream"] == "rsrc" else allocated
            assert path not in target, f"two rows for {path}"
            target[path] = row

        lines, index_only = fls_expectation(tsk_entries(image, offset, image_type=case.image_type))
        assert set(allocated) == set(lines) | index_only
        assert all(allocated[path]["entry_type"] != "data_stream" for path in index_only)
        assert {path.rsplit(":", 1)[0] for path in forks} <= set(lines)

        jobs = [(path, (image, entry.inode, offset, case.image_type)) for path, entry in lines.items()
                if entry.name_type in ("r", "v") and path != BADCLUS_BAD]
        jobs += [(path, (image, f"{lines[path.rsplit(':', 1)[0]].meta_addr}-{HFS_RESOURCE_FORK}", offset, case.image_type))
                 for path in forks]
        icat = hashes_by_icat(jobs)
        exhibit = {path: (allocated.get(path) or forks[path])["sha256"] for path, _ in jobs}
        assert exhibit == icat
        statuses = {path: (allocated.get(path) or forks[path])["content_status"] for path, _ in jobs}
        assert set(statuses.values()) <= {"hashed", "empty"}
        assert all((status == "empty") == (icat[path] == EMPTY_SHA256) for path, status in statuses.items())

        if BADCLUS_BAD in lines:
            bad = allocated[BADCLUS_BAD]
            assert (bad["content_status"], bad["sha256"]) == ("not_file_data", None)
            assert bad["size"] > 0
            assert icat_sha256(image, lines[BADCLUS_BAD].inode, offset, case.image_type) == EMPTY_SHA256


def test_every_corpus_e01_is_in_the_verdict_table() -> None:
    """A new E01 in SOURCES.tsv must be added to E01_VERDICTS (later segments are read through the first)."""
    require_corpus()
    firsts = {row["local_path"] for row in sources_rows("[disk]") if row["local_path"].lower().endswith(".e01")}
    assert firsts == set(E01_VERDICTS)


@pytest.mark.parametrize("local_path", sorted(E01_VERDICTS), ids=[Path(p).name for p in sorted(E01_VERDICTS)])
def test_e01_stored_hash_checks_agree_with_ewfinfo_and_ewfverify(local_path: str, tmp_path: Path) -> None:
    """sources.hash_checks (origin ewf_stored) holds what ewfinfo reads and what ewfverify computes and concludes."""
    require_corpus()
    require_tool("ewfinfo")
    require_tool("ewfverify")
    e01 = corpus_root() / local_path
    result = run_ingest(e01, tmp_path / "out")
    (source,) = pq.read_table(result.folder / "sources.parquet", columns=["hash_checks"]).to_pylist()
    checks = [check for check in source["hash_checks"] or [] if check["origin"] == "ewf_stored"]
    stored = ewf_stored_hashes(e01)
    verification = ewf_verify(e01)

    assert verification.ok is E01_VERDICTS[local_path]
    assert stored  # every corpus E01 stores at least an MD5
    assert {check["algorithm"]: check["expected"] for check in checks} == stored
    assert {check["algorithm"]: check["computed"] for check in checks} == {name: verification.computed[name] for name in stored}
    assert all(check["is_match"] is verification.ok for check in checks)
    assert result.exit_code == (0 if verification.ok else 1), result.output
