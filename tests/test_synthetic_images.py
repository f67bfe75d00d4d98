"""Synthetic evidence with known content, built here with public tools, ingested end to end.

One ext4 file system (hostile names, an empty, a 3 MiB, a sparse file, symlinks, a deleted file)
is the reference: every container format made from it must give the same artefacts table, and
every table value below is derived from the content written into it, never read back from the
pipeline's own output.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests import images
from tests.conftest import Ingested, require_tool, run_ingest
from tests.images import MIB, Partition, Sparse, Symlink, content_of, pseudo_random

# --- the reference tree -----------------------------------------------------------------------

HOSTILE_NAMES: dict[str, bytes] = {
    "newline": b"new\nline.txt",
    "escape": b"\x1b[31mred.txt",
    "rtl_override": b"rtl\xe2\x80\xaetxt.exe",  # U+202E RIGHT-TO-LEFT OVERRIDE
    "invalid_utf8": b"bad\xff\xfe.bin",
    "lone_surrogate": b"surrogate\xed\xa0\x80.txt",  # U+D800 encoded as UTF-8: not valid UTF-8
    "backslash": b"back\\slash.txt",
    "max_length": b"L" * 251 + b".txt",
}
# The display form manifests.text.display must give (exact bytes stay in path_bytes).
HOSTILE_DISPLAY: dict[str, str] = {
    "newline": "new\\x0aline.txt",
    "escape": "\\x1b[31mred.txt",
    "rtl_override": "rtl\\u202etxt.exe",
    "invalid_utf8": "bad\\xff\\xfe.bin",
    "lone_surrogate": "surrogate\\xed\\xa0\\x80.txt",
    "backslash": "back\\\\slash.txt",
    "max_length": "L" * 251 + ".txt",
}
BIG = pseudo_random(3 * MIB + 17, seed=1)  # three full 1 MiB read chunks and a tail
SPARSE = Sparse(size=2 * MIB + 5, pieces=((0, b"head"), (2 * MIB, b"tail!")))
SLOW_LINK_TARGET = b"../" + b"x" * 70 + b"/target"  # > 60 bytes: stored in a data block, not the inode
DELETED_CONTENT = b"this file is deleted from the image\n"

EXT4_TREE: dict[bytes, images.Entry] = {
    b"empty.txt": b"",
    b"big.bin": BIG,
    b"sparse.bin": SPARSE,
    b"docs/note.txt": b"a note\n",
    b"docs/link-fast": Symlink(b"note.txt"),
    b"docs/link-slow": Symlink(SLOW_LINK_TARGET),
    b"deleted.txt": DELETED_CONTENT,
    **{b"names/" + name: b"content of " + name for name in HOSTILE_NAMES.values()},
}
EXT4_DIRECTORIES = (b"/", b"/lost+found", b"/docs", b"/names", b"/$OrphanFiles")
LIVE_FILES = {b"/" + path: content_of(entry) for path, entry in EXT4_TREE.items() if not isinstance(entry, Symlink) and path != b"deleted.txt"}


# --- helpers ----------------------------------------------------------------------------------

def rows_of(result: Ingested, name: str) -> list[dict]:
    """A table's rows with timestamps as integer nanoseconds (datetime would drop the nanoseconds)."""
    table = pq.read_table(result.folder / f"{name}.parquet")
    columns = [column.cast(pa.int64()) if pa.types.is_timestamp(column.type) else column for column in table.columns]
    return pa.table(columns, names=table.column_names).to_pylist()


def by_path(result: Ingested, volume_index: int | None = None) -> dict[bytes, dict]:
    rows = [r for r in rows_of(result, "artefacts") if volume_index is None or r["volume_index"] == volume_index]
    mapping = {r["path_bytes"]: r for r in rows}
    assert len(mapping) == len(rows), "two rows share a path on one volume"
    return mapping


def without_path_spec(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "path_spec"} for row in rows]


def digests(content: bytes) -> dict[str, str]:
    return {name: hashlib.new(name, content).hexdigest() for name in ("md5", "sha1", "sha256")}


def ingest_evidence(source: Path, files: list[Path], out: Path, *extra: str, **kwargs) -> Ingested:
    """Ingest `source` (made read-only first) and prove none of its files changed: our own hashes
    before and after, and the pipeline's own container_files / source_unchanged."""
    for path in files:
        path.chmod(0o444)
    before = images.snapshot(files)
    stats_before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in files}
    result = run_ingest(source, out, *extra, **kwargs)
    assert images.snapshot(files) == before
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in files} == stats_before
    (src,) = rows_of(result, "sources")
    assert src["is_source_unchanged"] is True, result.output
    assert [(c["path"], c["sha256_before"], c["sha256_after"], c["is_unchanged"]) for c in src["container_files"]] == [
        (os.fspath(p), before[os.fspath(p)], before[os.fspath(p)], True) for p in files
    ]
    return result


@dataclass
class Reference:
    raw: Path
    sha256: str
    md5: str
    sha1: str
    result: Ingested


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """The ext4 image and its ingest: every container test compares against this."""
    require_tool("mkfs.ext4")
    require_tool("debugfs")
    folder = tmp_path_factory.mktemp("ext4")
    images.write_tree(folder / "staging", EXT4_TREE)
    raw = images.make_ext4(folder / "staging", folder / "fs.raw", "8M")
    images.debugfs(raw, "rm /deleted.txt", write=True)
    raw.chmod(0o444)
    content = raw.read_bytes()
    result = ingest_evidence(raw, [raw], folder / "out")
    return Reference(raw, hashlib.sha256(content).hexdigest(), hashlib.md5(content).hexdigest(), hashlib.sha1(content).hexdigest(), result)


# --- 1. hostile names -------------------------------------------------------------------------

def _safe_for_display(text: str) -> bool:
    for ch in text:
        code = ord(ch)
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs") or 0xD800 <= code <= 0xDFFF:
            return False
    return True


def test_hostile_names_round_trip_exactly_on_ext4(reference: Reference) -> None:
    rows = by_path(reference.result)
    for key, name in HOSTILE_NAMES.items():
        row = rows[b"/names/" + name]
        assert row["name_bytes"] == name
        assert row["path_bytes"] == b"/names/" + name
        assert row["path"] == "/names/" + HOSTILE_DISPLAY[key], key
        assert _safe_for_display(row["path"]), key
        assert row["sha256"] == hashlib.sha256(b"content of " + name).hexdigest()
    assert len(rows[b"/names/" + HOSTILE_NAMES["max_length"]]["name_bytes"]) == 255
    assert all(_safe_for_display(r["path"]) for r in rows.values())


# --- 2. content hashes ------------------------------------------------------------------------

def test_every_file_hashed_exactly(reference: Reference) -> None:
    result = reference.result
    assert result.exit_code == 0, result.output
    assert rows_of(result, "errors") == []
    rows = by_path(result)
    expected_paths = set(EXT4_DIRECTORIES) | {b"/" + p for p in EXT4_TREE}
    assert set(rows) == expected_paths
    assert len(rows_of(result, "artefacts")) == len(expected_paths) == 19
    assert [r["entry_index"] for r in rows_of(result, "artefacts")] == list(range(19))
    for path, content in LIVE_FILES.items():
        row = rows[path]
        assert (row["entry_type"], row["size"], row["is_allocated"], row["is_deleted"]) == ("file", len(content), True, False), path
        assert {k: row[k] for k in ("md5", "sha1", "sha256")} == digests(content), path
        assert row["content_status"] == ("empty" if not content else "hashed"), path
        assert row["read_error_kind"] is None and row["sha512"] is None
    assert rows[b"/empty.txt"]["sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert rows[b"/big.bin"]["size"] == 3 * MIB + 17
    for directory in EXT4_DIRECTORIES:
        assert rows[directory]["content_status"] == "no_content" and rows[directory]["sha256"] is None


def test_sparse_file_really_has_a_hole_and_hashes_as_zeros(reference: Reference) -> None:
    blocks = images.ext4_blocks(reference.raw, "/sparse.bin")
    assert len(blocks) == 2  # 1 KiB blocks: one for "head", one for "tail!"; the 2 MiB between is a hole
    row = by_path(reference.result)[b"/sparse.bin"]
    assert row["size"] == 2 * MIB + 5
    assert row["sha256"] == hashlib.sha256(b"head" + bytes(2 * MIB - 4) + b"tail!").hexdigest()


def test_fast_symlink_recorded_with_exact_target(reference: Reference) -> None:
    row = by_path(reference.result)[b"/docs/link-fast"]
    assert (row["entry_type"], row["size"], row["link_target_bytes"], row["link_target"]) == ("symlink", 8, b"note.txt", "note.txt")
    assert (row["content_status"], row["sha256"]) == ("no_content", None)


def test_slow_symlink_recorded_with_exact_target(reference: Reference) -> None:
    row = by_path(reference.result)[b"/docs/link-slow"]
    assert (row["entry_type"], row["size"]) == ("symlink", len(SLOW_LINK_TARGET))
    assert row["link_target_bytes"] == SLOW_LINK_TARGET
    assert row["link_target"] == SLOW_LINK_TARGET.decode()


# --- 3. deleted entries -----------------------------------------------------------------------

def test_ext4_deleted_entry_found_and_content_recovered(reference: Reference) -> None:
    rows = by_path(reference.result)
    row = rows[b"/deleted.txt"]
    assert (row["entry_type"], row["is_allocated"], row["is_deleted"], row["is_orphan"]) == ("file", False, True, False)
    # debugfs `rm` frees the inode and blocks but leaves the extent map: the content is still there.
    assert row["size"] == len(DELETED_CONTENT)
    assert (row["content_status"], row["sha256"]) == ("hashed", hashlib.sha256(DELETED_CONTENT).hexdigest())
    assert [p for p, r in rows.items() if r["is_deleted"]] == [b"/deleted.txt"]


FAT_FILES = {
    "KEEP.TXT": b"kept\n",
    "SECRET.TXT": b"secret content\n",
    "A long file name.txt": b"long name content\n",
    "DIR/INNER.TXT": b"inner\n",
}


def test_fat_deleted_entries_keep_their_directory_entry(tmp_path: Path) -> None:
    for name in ("mkfs.vfat", "mcopy", "mdel", "mmd"):
        require_tool(name)
    image = images.make_fat(tmp_path / "fat.raw", 2048, FAT_FILES, delete=("SECRET.TXT", "A long file name.txt"))
    result = ingest_evidence(image, [image], tmp_path / "out")
    assert result.exit_code == 0, result.output
    rows = by_path(result)
    # TSK's names: the short entry's first byte (now 0xE5) shows as '_'; the long name survives in
    # the deleted LFN entries. The volume label and $MBR/$FAT1/$FAT2/$OrphanFiles are TSK's own.
    assert set(rows) == {b"/", b"/EXHIBIT     (Volume Label Entry)", b"/KEEP.TXT", b"/_ECRET.TXT", b"/A long file name.txt",
                         b"/DIR", b"/DIR/INNER.TXT", b"/$MBR", b"/$FAT1", b"/$FAT2", b"/$OrphanFiles"}
    for path, original in ((b"/_ECRET.TXT", b"SECRET.TXT"), (b"/A long file name.txt", b"A long file name.txt")):
        row = rows[path]
        assert (row["is_allocated"], row["is_deleted"], row["entry_type"], row["size"]) == (False, True, "file", len(FAT_FILES[original.decode()]))
        assert row["sha256"] == hashlib.sha256(FAT_FILES[original.decode()]).hexdigest()
    assert sorted(p for p, r in rows.items() if r["is_deleted"]) == [b"/A long file name.txt", b"/_ECRET.TXT"]
    for path in (b"/KEEP.TXT", b"/DIR/INNER.TXT"):
        assert rows[path]["sha256"] == hashlib.sha256(FAT_FILES[path.decode()[1:]]).hexdigest()
        assert rows[path]["is_deleted"] is False


# --- 4, 7, 8. containers ----------------------------------------------------------------------

def _qemu(fmt: str) -> Callable[[Path, Path], list[Path]]:
    def build(raw: Path, folder: Path) -> list[Path]:
        require_tool("qemu-img")
        return [images.qemu_convert(raw, folder / f"fs.{fmt}", fmt)]
    return build


def _e01(segment_bytes: int | None) -> Callable[[Path, Path], list[Path]]:
    def build(raw: Path, folder: Path) -> list[Path]:
        require_tool("ewfacquire")
        return images.make_e01(raw, folder / "fs", segment_bytes)
    return build


def _split(raw: Path, folder: Path) -> list[Path]:
    require_tool("split")
    return images.split_raw(raw, folder / "fs.raw", 3 * MIB)


def _sparse(raw: Path, folder: Path) -> list[Path]:
    require_tool("img2simg")
    return [images.img2simg(raw, folder / "fs.simg")]


CONTAINERS = {
    "qcow2": (_qemu("qcow2"), "QCOW", 1),
    "vmdk": (_qemu("vmdk"), "VMDK", 1),
    "vpc": (_qemu("vpc"), "VHDI", 1),
    "vhdx": (_qemu("vhdx"), "VHDI", 1),
    "e01": (_e01(None), "EWF", 1),
    "e01-1MiB-segments": (_e01(MIB), "EWF", 9),  # 8 MiB of media, uncompressed, 1 MiB segments
    "split-raw": (_split, "RAW", 3),  # .000 .001 .002
    "android-sparse": (_sparse, "ANDROID_SPARSE", 1),
}


@pytest.mark.parametrize("kind", list(CONTAINERS))
def test_container_gives_the_raw_images_table(kind: str, reference: Reference, tmp_path: Path) -> None:
    build, chain, segments = CONTAINERS[kind]
    files = build(reference.raw, tmp_path)
    assert len(files) == segments
    result = ingest_evidence(files[0], files, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert rows_of(result, "errors") == []
    assert without_path_spec(rows_of(result, "artefacts")) == without_path_spec(rows_of(reference.result, "artefacts"))
    (source,) = rows_of(result, "sources")
    assert (source["format_chain"], source["source_kind"]) == (chain, "file_system_image")
    assert (source["stream_size"], source["stream_sha256"], source["stream_md5"], source["stream_sha1"]) == (
        8 * MIB, reference.sha256, reference.md5, reference.sha1)
    if chain == "EWF":
        assert source["hash_checks"] == [
            {"origin": "ewf_stored", "algorithm": "md5", "expected": reference.md5, "computed": reference.md5, "is_match": True},
            {"origin": "ewf_stored", "algorithm": "sha1", "expected": reference.sha1, "computed": reference.sha1, "is_match": True},
        ]
        metadata = dict(source["acquisition_metadata"])
        assert (metadata["case_number"], metadata["evidence_number"], metadata["examiner_name"]) == ("CASE-SYN", "EV-1", "Examiner")
    else:
        assert source["hash_checks"] is None


def test_raw_reference_source_row(reference: Reference) -> None:
    (source,) = rows_of(reference.result, "sources")
    assert (source["format_chain"], source["source_kind"], source["stream_size"]) == ("RAW", "file_system_image", 8 * MIB)
    assert (source["stream_sha256"], source["stream_md5"], source["stream_sha1"]) == (reference.sha256, reference.md5, reference.sha1)
    assert source["container_files"] == [{"path": os.fspath(reference.raw), "size": 8 * MIB, "sha256_before": reference.sha256,
                                          "sha256_after": reference.sha256, "is_unchanged": True}]


def test_expected_hash_checked_against_split_raw_media(reference: Reference, tmp_path: Path) -> None:
    files = _split(reference.raw, tmp_path)
    result = ingest_evidence(files[0], files, tmp_path / "out", "--expected-hash", f"sha256:{reference.sha256.upper()}",
                             "--expected-hash", f"md5:{'0' * 32}")
    assert result.exit_code == 1, result.output
    (source,) = rows_of(result, "sources")
    assert source["hash_checks"] == [
        {"origin": "expected", "algorithm": "sha256", "expected": reference.sha256, "computed": reference.sha256, "is_match": True},
        {"origin": "expected", "algorithm": "md5", "expected": "0" * 32, "computed": reference.md5, "is_match": False},
    ]
    errors = rows_of(result, "errors")
    assert [(e["stage"], e["error_kind"], e["severity"]) for e in errors] == [("verify", "hash_mismatch", "error")]
    assert errors[0]["message"] == f"expected md5 {'0' * 32} does not match the computed {reference.md5}"


# --- 5. partitioned disks ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def partition_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[bytes, bytes]]]:
    for name in ("mkfs.ext4", "mkfs.vfat", "mcopy", "mmd"):
        require_tool(name)
    folder = tmp_path_factory.mktemp("parts")
    built = {}
    for key, tree in (("ext4-a", {b"linux.txt": b"on the first ext4\n"}), ("ext4-b", {b"second.txt": b"on the second ext4\n"})):
        images.write_tree(folder / key, tree)
        built[key] = (images.make_ext4(folder / key, folder / f"{key}.raw", "2M"), {b"/" + k: v for k, v in tree.items()})
    fat_files = {"WINDOWS.TXT": b"on fat\n"}
    built["fat"] = (images.make_fat(folder / "fat.raw", 2048, fat_files), {b"/WINDOWS.TXT": b"on fat\n"})
    return built


def _check_volumes(result: Ingested, expected: list[tuple[str, int, dict[bytes, bytes]]]) -> None:
    """expected: (file system type, byte offset, files) per file-system volume, in volume order."""
    assert result.exit_code == 0, result.output
    assert rows_of(result, "errors") == []
    (source,) = rows_of(result, "sources")
    file_systems = [v for v in source["volumes"] if v["role"] == "file_system"]
    assert [(v["file_system"], v["offset"], v["status"]) for v in file_systems] == [(t, o, "ingested") for t, o, _ in expected]
    partitions = {v["index"]: v for v in source["volumes"] if v["role"] == "partition"}
    for volume, (_, offset, files) in zip(file_systems, expected, strict=True):
        parent = partitions[volume["parent_index"]]
        assert (parent["offset"], parent["size"]) == (offset, 2 * MIB)
        rows = by_path(result, volume["index"])
        assert {r["volume_offset"] for r in rows.values()} == {offset}
        assert volume["entries"] == len(rows)
        for path, content in files.items():
            assert rows[path]["sha256"] == hashlib.sha256(content).hexdigest()
    assert {r["volume_index"] for r in rows_of(result, "artefacts")} == {v["index"] for v in file_systems}


def test_gpt_disk_with_ext4_and_fat(partition_images, tmp_path: Path) -> None:
    (ext, ext_files), (fat, fat_files) = partition_images["ext4-a"], partition_images["fat"]
    disk = images.make_gpt_disk(tmp_path / "gpt.raw", [Partition(ext, 2048, name="linux"),
                                                        Partition(fat, 6144, gpt_type=images.MS_BASIC_DATA_GUID, name="data")], 12288)
    result = ingest_evidence(disk, [disk], tmp_path / "out")
    _check_volumes(result, [("EXT", 2048 * 512, ext_files), ("FAT", 6144 * 512, fat_files)])
    (source,) = rows_of(result, "sources")
    assert (source["format_chain"], source["source_kind"], source["stream_sha256"]) == ("RAW", "storage_media_image", images.sha256_file(disk))
    assert [v["location"] for v in source["volumes"] if v["role"] == "partition"] == ["/p1", "/p2"]


def test_mbr_disk_with_extended_and_logical_partitions(partition_images, tmp_path: Path) -> None:
    (ext, ext_files), (fat, fat_files), (ext_b, ext_b_files) = (partition_images[k] for k in ("ext4-a", "fat", "ext4-b"))
    # primary ext4 at 1 MiB; extended from 3 MiB holding two logical partitions (FAT at 4 MiB, ext4 at 7 MiB)
    disk = images.make_mbr_disk(tmp_path / "mbr.raw", Partition(ext, 2048), 6144,
                                [Partition(fat, 8192, mbr_type=0x0C), Partition(ext_b, 14336)], 20480)
    result = ingest_evidence(disk, [disk], tmp_path / "out")
    _check_volumes(result, [("EXT", 1 * MIB, ext_files), ("FAT", 4 * MIB, fat_files), ("EXT", 7 * MIB, ext_b_files)])


def test_volume_id_names_the_partition(partition_images, tmp_path: Path) -> None:
    (ext, _), (fat, _) = partition_images["ext4-a"], partition_images["fat"]
    disk = images.make_gpt_disk(tmp_path / "gpt.raw", [Partition(ext, 2048), Partition(fat, 6144, gpt_type=images.MS_BASIC_DATA_GUID)], 12288)
    result = run_ingest(disk, tmp_path / "out")
    ids = {(r["volume_index"], r["volume_id"]) for r in rows_of(result, "artefacts")}
    assert ids == {(2, "/p1"), (4, "/p2")}


# --- 6. logical sources -----------------------------------------------------------------------

LOGICAL_NAMES = {**{k: v for k, v in HOSTILE_NAMES.items() if k != "max_length"}, "utf8": "caf\u00e9.txt".encode()}
LOGICAL_TREE: dict[bytes, images.Entry] = {
    b"empty.txt": b"",
    b"big.bin": pseudo_random(MIB + MIB // 2 + 3, seed=3),
    b"sub/dir/deep.txt": b"deep\n",
    b"sub/rel-link": Symlink(b"../../outside.txt"),
    **{b"names/" + name: b"logical " + name for name in LOGICAL_NAMES.values()},
}
LOGICAL_FILES = {b"/" + p: content_of(e) for p, e in LOGICAL_TREE.items() if not isinstance(e, Symlink)}
OUTSIDE = b"outside the evidence folder\n"


@dataclass
class Logical:
    folder: Path
    outside: Path
    archives: dict[str, Path]
    paths: set[bytes]  # every path the tree holds, as exact bytes, root included


@pytest.fixture(scope="module")
def logical(tmp_path_factory: pytest.TempPathFactory) -> Logical:
    require_tool("zip")
    require_tool("tar")
    base = tmp_path_factory.mktemp("logical")
    outside = base / "outside.txt"
    outside.write_bytes(OUTSIDE)
    tree = {**LOGICAL_TREE, b"sub/up-link": Symlink(os.fsencode(outside))}
    folder = base / "tree"
    images.write_tree(folder, tree)
    members = sorted(os.listdir(os.fsencode(folder)))
    archives = {"zip": base / "tree.zip", "tar": base / "tree.tar", "tar.gz": base / "tree.tar.gz"}
    images.tool("zip", "-q", "-r", "-y", "-X", archives["zip"], *members, cwd=folder)  # -y: store symlinks as links
    tar = ["tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner"]
    images.tool(*tar, "-cf", archives["tar"], *members, cwd=folder)
    images.tool(*tar, "-czf", archives["tar.gz"], *members, cwd=folder)
    paths = {b"/"} | {b"/" + p for p in tree}
    for p in tree:
        parts = p.split(b"/")
        paths |= {b"/" + b"/".join(parts[:n]) for n in range(1, len(parts))}
    return Logical(folder, outside, archives, paths)


@pytest.mark.parametrize("kind", ["folder", "zip", "tar", "tar.gz"])
def test_logical_source_every_file_hashed(kind: str, logical: Logical, tmp_path: Path) -> None:
    if kind == "folder":
        result = run_ingest(logical.folder, tmp_path / "out")
    else:
        result = ingest_evidence(logical.archives[kind], [logical.archives[kind]], tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert rows_of(result, "errors") == []
    rows = rows_of(result, "artefacts")
    hashed = {r["sha256"] for r in rows if r["entry_type"] == "file"}
    for path, content in LOGICAL_FILES.items():
        assert hashlib.sha256(content).hexdigest() in hashed, path
        if path.isascii():
            row = by_path(result)[path]
            assert (row["size"], row["sha256"], row["sha1"], row["md5"]) == (len(content), *(digests(content)[k] for k in ("sha256", "sha1", "md5")))
    (source,) = rows_of(result, "sources")
    expected_kind = {"folder": ("directory", "FOLDER"), "zip": ("archive", "ZIP"), "tar": ("archive", "TAR"), "tar.gz": ("archive", "GZIP > TAR")}
    assert (source["source_kind"], source["format_chain"]) == expected_kind[kind]
    assert hashlib.sha256(OUTSIDE).hexdigest() not in {r["sha256"] for r in rows}


@pytest.mark.parametrize("kind", [
    "folder",
    "zip",
    "tar",
    "tar.gz",
])
def test_logical_source_exact_name_bytes(kind: str, logical: Logical, tmp_path: Path) -> None:
    source = logical.folder if kind == "folder" else logical.archives[kind]
    result = run_ingest(source, tmp_path / "out")
    rows = by_path(result)
    assert set(rows) == logical.paths
    for key, name in LOGICAL_NAMES.items():
        row = rows[b"/names/" + name]
        assert row["name_bytes"] == name
        assert row["sha256"] == hashlib.sha256(b"logical " + name).hexdigest()
        if key in HOSTILE_DISPLAY:
            assert row["path"] == "/names/" + HOSTILE_DISPLAY[key]
        assert _safe_for_display(row["path"])


@pytest.mark.parametrize("kind", [
    "zip",
    "tar",
    "tar.gz",
])
def test_archive_symlinks_recorded(kind: str, logical: Logical, tmp_path: Path) -> None:
    result = run_ingest(logical.archives[kind], tmp_path / "out")
    rows = by_path(result)
    for path, target in ((b"/sub/rel-link", b"../../outside.txt"), (b"/sub/up-link", os.fsencode(logical.outside))):
        row = rows[path]
        assert (row["entry_type"], row["link_target_bytes"], row["sha256"]) == ("symlink", target, None)


@pytest.mark.parametrize("kind", [
    "zip",
    "tar",
    "tar.gz",
])
def test_archive_mode_is_permission_bits_like_the_folder(kind: str, logical: Logical, tmp_path: Path) -> None:
    rows = by_path(run_ingest(logical.archives[kind], tmp_path / "out"))
    checked = 0
    for path in LOGICAL_FILES:
        if path.isascii():
            expected = stat.S_IMODE(os.lstat(os.fsencode(logical.folder) + path).st_mode)
            assert rows[path]["mode"] == expected, path
            checked += 1
    assert checked == 6


def test_folder_symlink_out_of_the_folder_recorded_not_followed(logical: Logical, tmp_path: Path) -> None:
    result = run_ingest(logical.folder, tmp_path / "out")
    rows = by_path(result)
    row = rows[b"/sub/up-link"]
    target = os.fsencode(logical.outside)
    assert (row["entry_type"], row["link_target_bytes"], row["link_target"]) == ("symlink", target, os.fsdecode(target))
    assert (row["content_status"], row["size"], row["sha256"], row["md5"]) == ("no_content", len(target), None, None)
    assert rows[b"/sub/rel-link"]["link_target_bytes"] == b"../../outside.txt"
    assert not any(p.endswith(b"outside.txt") for p in rows)


def _age_atimes(folder: Path, outside: Path) -> None:
    """atime one second before mtime: under relatime any ordinary read would now move it."""
    for path in list(images.tree_state(folder)) + [os.fsencode(outside)]:
        info = os.lstat(path)
        os.utime(path, ns=(info.st_mtime_ns - 10**9, info.st_mtime_ns), follow_symlinks=False)


def _atime_moves_on_read(folder: Path) -> bool:
    probe = folder / "probe"
    probe.write_bytes(b"x")
    info = probe.stat()
    os.utime(probe, ns=(info.st_mtime_ns - 10**9, info.st_mtime_ns))
    before = probe.stat().st_atime_ns
    probe.read_bytes()
    moved = probe.stat().st_atime_ns != before
    probe.unlink()
    return moved


def test_folder_source_files_untouched(logical: Logical, tmp_path: Path) -> None:
    if not _atime_moves_on_read(tmp_path):
        pytest.skip("this file system does not update access times on read (noatime): the atime check could not fail")
    _age_atimes(logical.folder, logical.outside)
    before = images.tree_state(logical.folder)
    outside_before = images.tree_state(logical.outside)
    result = run_ingest(logical.folder, tmp_path / "out")
    assert result.exit_code == 0, result.output
    after = images.tree_state(logical.folder)
    assert set(after) == set(before)
    files = [p for p, s in before.items() if stat.S_ISREG(s[0])]
    assert len(files) == len(LOGICAL_FILES)
    assert {p: after[p] for p in files} == {p: before[p] for p in files}  # sha256, size, mtime, atime, ctime
    assert images.tree_state(logical.outside) == outside_before
    (source,) = rows_of(result, "sources")
    assert (source["container_files"], source["is_source_unchanged"]) == (None, None)  # folders: not checked by the pipeline


def test_folder_source_directory_atimes_untouched(logical: Logical, tmp_path: Path) -> None:
    if not _atime_moves_on_read(tmp_path):
        pytest.skip("this file system does not update access times on read (noatime): the atime check could not fail")
    _age_atimes(logical.folder, logical.outside)
    before = images.tree_state(logical.folder)
    run_ingest(logical.folder, tmp_path / "out")
    after = images.tree_state(logical.folder)
    directories = [p for p, s in before.items() if stat.S_ISDIR(s[0])]
    assert {p: after[p] for p in directories} == {p: before[p] for p in directories}


# --- 9. determinism ---------------------------------------------------------------------------

def _tables(result: Ingested) -> tuple[pa.Table, pa.Table]:
    return (pq.read_table(result.folder / "artefacts.parquet"), pq.read_table(result.folder / "errors.parquet"))


def test_same_image_twice_and_with_two_workers_gives_identical_tables(reference: Reference, tmp_path: Path) -> None:
    first = _tables(reference.result)
    again = run_ingest(reference.raw, tmp_path / "again", workers=1)
    pooled = run_ingest(reference.raw, tmp_path / "pooled", workers=2)
    assert again.exit_code == pooled.exit_code == 0
    for other in (_tables(again), _tables(pooled)):
        assert other[0].num_rows == first[0].num_rows == 19
        assert other[0].equals(first[0])  # every column, every row, in order (metadata such as run_id aside)
        assert other[1].equals(first[1])
    assert rows_of(pooled, "artefacts") == rows_of(reference.result, "artefacts")


# --- 10. read errors --------------------------------------------------------------------------

def _cut_image(tmp_path: Path, seed: int, delete: bool, kept_blocks: int) -> tuple[Path, bytes, list[int]]:
    """An ext4 image cut `kept_blocks` KiB into /victim.bin (one extent, after /small.txt); optionally deleted first."""
    require_tool("mkfs.ext4")
    require_tool("debugfs")
    victim = pseudo_random(MIB + MIB // 2, seed=seed)
    images.write_tree(tmp_path / "staging", {b"small.txt": b"small\n", b"victim.bin": victim})
    image = images.make_ext4(tmp_path / "staging", tmp_path / "cut.raw", "4M")
    blocks = images.ext4_blocks(image, "/victim.bin")
    assert blocks == list(range(blocks[0], blocks[0] + len(victim) // 1024))  # one extent, in file order
    assert max(images.ext4_blocks(image, "/small.txt")) < blocks[0]
    if delete:
        subprocess.run(["debugfs", "-w", "-R", "rm /victim.bin", str(image)], check=True, capture_output=True)
    os.truncate(image, (blocks[0] + kept_blocks) * 1024)
    return image, victim, blocks


def test_content_beyond_a_truncated_image_is_a_read_error(tmp_path: Path) -> None:
    kept_blocks = 1100  # the image now ends 1100 KiB into victim.bin
    image, victim, blocks = _cut_image(tmp_path, seed=7, delete=False, kept_blocks=kept_blocks)
    result = ingest_evidence(image, [image], tmp_path / "out")
    failed_at = kept_blocks * 1024
    chunk_start = MIB  # the second 1 MiB read asks for the rest of the file and comes back short
    message = f"asked for {len(victim) - chunk_start} bytes at offset {chunk_start}, got {failed_at - chunk_start}"
    row = by_path(result)[b"/victim.bin"]
    assert {k: row[k] for k in ("content_status", "read_error_kind", "read_error_offset", "read_error_length", "read_error_message",
                                "md5", "sha1", "sha256", "size")} == {
        "content_status": "read_error", "read_error_kind": "short_read", "read_error_offset": failed_at,
        "read_error_length": len(victim) - failed_at, "read_error_message": message,
        "md5": None, "sha1": None, "sha256": None, "size": len(victim)}
    assert by_path(result)[b"/small.txt"]["sha256"] == hashlib.sha256(b"small\n").hexdigest()
    errors = rows_of(result, "errors")
    assert [{k: e[k] for k in ("error_index", "stage", "error_kind", "severity", "volume_index", "path", "offset", "length", "message")}
            for e in errors] == [
        {"error_index": 0, "stage": "read", "error_kind": "short_read", "severity": "error", "volume_index": 0, "path": "/victim.bin",
         "offset": failed_at, "length": len(victim) - failed_at, "message": f"content of /victim.bin could not be read: {message}"}]
    assert errors[0]["path_spec"] == row["path_spec"]
    assert result.exit_code == 1
    assert result.output.startswith("completed with 1 error: ")
    (source,) = rows_of(result, "sources")
    assert source["stream_size"] == (blocks[0] + kept_blocks) * 1024


def test_deleted_content_beyond_a_truncated_image_is_not_zero_filled(tmp_path: Path) -> None:
    """Deleted content past the end of the image is a read error too, never hashed as zeros."""
    kept_blocks = 1100
    image, victim, blocks = _cut_image(tmp_path, seed=11, delete=True, kept_blocks=kept_blocks)
    result = ingest_evidence(image, [image], tmp_path / "out")
    rows = [r for r in rows_of(result, "artefacts") if r["is_deleted"] and r["size"] == len(victim)]
    assert len(rows) == 1, [r["path"] for r in rows_of(result, "artefacts") if r["is_deleted"]]
    row = rows[0]
    assert (row["content_status"], row["read_error_kind"], row["read_error_offset"], row["sha256"]) == (
        "read_error", "short_read", kept_blocks * 1024, None)
    assert result.exit_code == 1
