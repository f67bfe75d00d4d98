"""ext2/3/4 deletion times (inode dtime) against The Sleuth Kit's istat, on images built here.

Files are deleted with debugfs at a clock set by its `set_current_time` command, so each deleted
inode's dtime is known in advance; istat (which reads dtime itself) is the independent check.
Layouts covered: ext4 with 4 KiB blocks, ext2 with 1 KiB blocks (descriptors after block 1),
64-bit ext4 with many block groups (64-byte descriptors, a deleted inode outside group 0), and
meta_bg (not read: one warning, no times).
"""

from __future__ import annotations

import calendar
import re
import subprocess
from pathlib import Path

import pytest

from ingest.ext_inodes import ExtInodeTable, ExtLayoutError
from tests.conftest import require_tool, run_ingest
from tests.images import tool

UUID = "6f1d2c3b-4a59-4e68-8d7c-0b1a2c3d4e5f"
DELETIONS = (("/dir0/chat.db", "20240315123456"), ("/dir5/photo.jpg", "20240316010203"), ("/top.txt", "20240317235959"))


def _seconds(stamp: str) -> int:
    return calendar.timegm((int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]), int(stamp[8:10]), int(stamp[10:12]), int(stamp[12:14]), 0, 0, 0))


def _image(tmp_path: Path, mkfs: str, *options: str) -> Path:
    require_tool(mkfs)
    require_tool("debugfs")
    staging = tmp_path / "tree"
    for index in range(6):
        (staging / f"dir{index}").mkdir(parents=True)
        (staging / f"dir{index}" / "keep.txt").write_bytes(b"kept %d\n" % index)
    (staging / "dir0" / "chat.db").write_bytes(b"SQLite format 3\x00" + b"\x01" * 100)
    (staging / "dir5" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x02" * 5000)
    (staging / "top.txt").write_bytes(b"top\n")
    image = tmp_path / "fs.raw"
    tool(mkfs, "-q", "-F", "-U", UUID, "-E", "hash_seed=1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", *options, "-d", staging, image, "8M")
    script = tmp_path / "delete.debugfs"
    script.write_text("".join(f"set_current_time {stamp}\nrm {path}\n" for path, stamp in DELETIONS))
    tool("debugfs", "-w", "-f", script, image)
    return image


def _istat_deleted(image: Path, inode: int) -> int | None:
    """istat's 'Deleted:' line (TZ=UTC) as UTC seconds; None when istat prints none."""
    require_tool("istat")
    output = subprocess.run(["istat", str(image), str(inode)], capture_output=True, check=True,
                            env={"TZ": "UTC", "LC_ALL": "C", "PATH": "/usr/bin:/bin"}).stdout.decode()
    match = re.search(r"^Deleted:\s+(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})", output, re.M)
    return None if match is None else _seconds("".join(match.groups()))


def _deleted_rows(tmp_path: Path, image: Path) -> tuple[dict[str, tuple[int, int | None]], list[dict]]:
    result = run_ingest(image, tmp_path / "cases")
    assert result.exit_code == 0, result.output
    rows, errors = result.table("artefacts"), result.table("errors")
    deleted = {row["path"]: (row["inode"], row["deleted_time"]) for row in rows if not row["is_allocated"] and row["inode"]}
    return deleted, errors


@pytest.mark.parametrize("mkfs,options", [
    ("mkfs.ext4", ("-b", "4096", "-O", "64bit")),
    ("mkfs.ext2", ("-b", "1024", "-O", "^64bit")),
    ("mkfs.ext4", ("-b", "1024", "-g", "1024", "-N", "64", "-O", "64bit")),
], ids=["ext4-4k", "ext2-1k", "ext4-64bit-groups"])
def test_deleted_entries_carry_the_dtime_istat_shows(tmp_path: Path, mkfs: str, options: tuple[str, ...]) -> None:
    image = _image(tmp_path, mkfs, *options)
    deleted, errors = _deleted_rows(tmp_path, image)
    assert {path: time for path, (_, time) in deleted.items()} == {
        path: _seconds(stamp) * 1_000_000_000 for path, stamp in DELETIONS}
    for path, (inode, time) in deleted.items():
        assert _istat_deleted(image, inode) * 1_000_000_000 == time, path
    assert [e for e in errors if e["stage"] == "walk"] == []
    table = ExtInodeTable(lambda offset, size: image.read_bytes()[offset:offset + size])
    assert table.descriptor_size == (32 if "^64bit" in options else 64)
    if "-N" in options:
        assert deleted["/dir5/photo.jpg"][0] > table.inodes_per_group, "the test wants an inode outside group 0"


def test_live_files_have_no_deletion_time(tmp_path: Path) -> None:
    image = _image(tmp_path, "mkfs.ext4", "-b", "4096")
    result = run_ingest(image, tmp_path / "cases")
    rows = result.table("artefacts")
    live = [row for row in rows if row["is_allocated"]]
    assert len(live) == 15, [row["path"] for row in live]  # root, lost+found, 6 directories, 6 keep.txt, $OrphanFiles
    assert {row["deleted_time"] for row in live} == {None}


def test_meta_bg_file_system_is_a_warning_and_no_times(tmp_path: Path) -> None:
    image = _image(tmp_path, "mkfs.ext4", "-b", "1024", "-O", "meta_bg,^resize_inode")
    deleted, errors = _deleted_rows(tmp_path, image)
    assert sorted(deleted) == sorted(path for path, _ in DELETIONS)
    assert {time for _, time in deleted.values()} == {None}
    walk = [(e["error_kind"], e["severity"]) for e in errors if e["stage"] == "walk"]
    assert walk == [("deletion_times_unread", "warning")]
    assert "meta_bg" in next(e["message"] for e in errors if e["error_kind"] == "deletion_times_unread")


def test_inode_table_reader_refuses_what_it_cannot_follow(tmp_path: Path) -> None:
    image = _image(tmp_path, "mkfs.ext4", "-b", "4096", "-O", "64bit")
    data = bytearray(image.read_bytes())

    def reader(blob: bytes):
        return lambda offset, size: blob[offset:offset + size]

    table = ExtInodeTable(reader(bytes(data)))
    assert (table.block_size, table.inode_size, table.descriptor_size) == (4096, 256, 64)
    with pytest.raises(ExtLayoutError, match="outside"):
        table.deletion_time(table.inodes_count + 1)
    with pytest.raises(ExtLayoutError, match="no ext superblock"):
        ExtInodeTable(reader(bytes(data[:1024]) + b"\0" * 2048))
    damaged = bytearray(data)
    damaged[1024 + 0x18:1024 + 0x1C] = (40).to_bytes(4, "little")  # log block size 40
    with pytest.raises(ExtLayoutError, match="implausible"):
        ExtInodeTable(reader(bytes(damaged)))
    # A group descriptor whose inode table lies past the end: that inode's read fails, named.
    damaged = bytearray(data)
    descriptor = 4096  # block after the first data block (0) with 4 KiB blocks
    damaged[descriptor + 8:descriptor + 12] = (10**6).to_bytes(4, "little")
    with pytest.raises(ExtLayoutError, match="cannot be read"):
        ExtInodeTable(reader(bytes(damaged))).deletion_time(14)
