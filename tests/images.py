"""Builders for synthetic evidence images with known content, made with public tools only.

Everything here is written for these tests: file trees whose names are raw bytes, ext4 images
(`mkfs.ext4 -d`, `debugfs`), FAT images (`mkfs.vfat` + mtools), containers (`qemu-img convert`,
`ewfacquire`, `split`, `img2simg`) and partitioned disks (GPT and MBR tables written here with
`struct`, following the UEFI specification and the classic MBR/EBR layout).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import stat
import struct
import subprocess
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20
SECTOR = 512
FIXED_EPOCH = 1_704_164_645  # 2024-01-02 03:04:05 UTC
_TOOL_ENV = {"E2FSPROGS_FAKE_TIME": str(FIXED_EPOCH), "PATH": "/usr/sbin:/sbin:/usr/bin:/bin", "LC_ALL": "C", "TZ": "UTC",
             "MTOOLS_SKIP_CHECK": "1"}


def tool(*args: str | os.PathLike, **kwargs) -> subprocess.CompletedProcess:
    """Run a building tool with a fixed clock and locale; fail loudly with its stderr."""
    result = subprocess.run([os.fspath(a) for a in args], capture_output=True, env=_TOOL_ENV, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} exited {result.returncode}: {result.stderr.decode(errors='backslashreplace')}")
    return result


def pseudo_random(length: int, seed: int) -> bytes:
    """Incompressible, reproducible content."""
    return random.Random(seed).randbytes(length)


def damaged(data: bytes, chooser: random.Random) -> bytes:
    """A copy with one to six random bytes overwritten, cut short at a random place three times in ten."""
    copy = bytearray(data)
    for _ in range(chooser.randint(1, 6)):
        copy[chooser.randrange(len(copy))] = chooser.randrange(256)
    if chooser.random() < 0.3:
        copy = copy[:chooser.randrange(len(copy))]
    return bytes(copy)


@dataclass(frozen=True)
class Symlink:
    target: bytes


@dataclass(frozen=True)
class Sparse:
    """A file of `size` bytes with data only at the given offsets (the rest is a hole)."""

    size: int
    pieces: tuple[tuple[int, bytes], ...]

    def content(self) -> bytes:
        data = bytearray(self.size)
        for offset, piece in self.pieces:
            data[offset:offset + len(piece)] = piece
        return bytes(data)


Entry = bytes | Symlink | Sparse


def content_of(entry: Entry) -> bytes:
    return entry.content() if isinstance(entry, Sparse) else entry  # type: ignore[return-value]


def write_tree(folder: Path, tree: dict[bytes, Entry], mtime: int = FIXED_EPOCH) -> None:
    """Create `tree` (relative byte paths, '/'-separated) under `folder`, every time fixed."""
    base = os.fsencode(folder)
    os.makedirs(base, exist_ok=True)
    for relative in sorted(tree):
        entry = tree[relative]
        path = base + b"/" + relative
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(entry, Symlink):
            os.symlink(entry.target, path)
        elif isinstance(entry, Sparse):
            with open(path, "wb") as handle:
                handle.truncate(entry.size)
                for offset, piece in entry.pieces:
                    handle.seek(offset)
                    handle.write(piece)
        else:
            with open(path, "wb") as handle:
                handle.write(entry)
    for directory, names, files in os.walk(base, topdown=False):
        for name in names + files:
            os.utime(os.path.join(directory, name), ns=(mtime * 10**9, mtime * 10**9), follow_symlinks=False)
    os.utime(base, ns=(mtime * 10**9, mtime * 10**9))


def make_ext4(staging: Path, image: Path, size: str, block_size: int = 1024) -> Path:
    """An ext4 file system holding `staging` (names as raw bytes, holes kept)."""
    image.unlink(missing_ok=True)
    tool("mkfs.ext4", "-q", "-F", "-b", str(block_size), "-U", "6f1d2c3b-4a59-4e68-8d7c-0b1a2c3d4e5f",
         "-E", "hash_seed=1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "-d", staging, image, size)
    return image


def debugfs(image: Path, request: str, write: bool = False) -> str:
    args = ["debugfs"] + (["-w"] if write else []) + ["-R", request, image]
    return tool(*args).stdout.decode("utf-8", errors="surrogateescape")


def ext4_blocks(image: Path, path: str) -> list[int]:
    """Physical block numbers of a file's data, in file order (debugfs `blocks`)."""
    return [int(x) for x in debugfs(image, f"blocks {path}").split()]


def make_fat(image: Path, size_kib: int, files: dict[str, bytes], delete: tuple[str, ...] = ()) -> Path:
    """A FAT image (mkfs.vfat picks FAT12 for a few MiB) with `files` copied in by mtools, then `delete`d with mdel (entries stay, first byte 0xE5)."""
    image.unlink(missing_ok=True)
    tool("mkfs.vfat", "-n", "EXHIBIT", "-i", "1234abcd", "-C", image, str(size_kib))
    staging = image.with_name(image.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    made: set[str] = set()
    for name in sorted(files):
        parts = name.split("/")
        for depth in range(1, len(parts)):
            directory = "/".join(parts[:depth])
            if directory not in made:
                tool("mmd", "-i", image, "::/" + directory)
                made.add(directory)
        local = staging / f"f{len(os.listdir(staging))}"
        local.write_bytes(files[name])
        os.utime(local, (FIXED_EPOCH, FIXED_EPOCH))
        tool("mcopy", "-m", "-i", image, local, "::/" + name)
    for name in delete:
        tool("mdel", "-i", image, "::/" + name)
    shutil.rmtree(staging)
    return image


def qemu_convert(raw: Path, out: Path, fmt: str) -> Path:
    options = {"vpc": ["-o", "subformat=fixed,force_size=on"]}.get(fmt, [])
    tool("qemu-img", "convert", "-f", "raw", "-O", fmt, *options, raw, out)
    return out


def make_e01(raw: Path, target_stem: Path, segment_bytes: int | None = None) -> list[Path]:
    """ewfacquire, unattended, uncompressed; returns the segment files in order (.E01, .E02, ...)."""
    args = ["ewfacquire", "-u", "-q", "-t", target_stem, "-c", "none", "-d", "sha1",
            "-C", "CASE-SYN", "-E", "EV-1", "-e", "Examiner", "-D", "synthetic ext4", "-N", "built by tests"]
    if segment_bytes is not None:
        args += ["-S", str(segment_bytes)]
    tool(*args, raw)
    segments = sorted(target_stem.parent.glob(target_stem.name + ".E??"))
    if not segments:
        raise RuntimeError(f"ewfacquire wrote no segments for {target_stem}")
    return segments


def split_raw(raw: Path, prefix: Path, chunk_bytes: int) -> list[Path]:
    """`split -b N -d -a 3`: PREFIX.000, PREFIX.001, ..."""
    tool("split", "-b", str(chunk_bytes), "-d", "-a", "3", raw, str(prefix) + ".")
    return sorted(prefix.parent.glob(prefix.name + ".[0-9][0-9][0-9]"))


def img2simg(raw: Path, out: Path, block_size: int = 4096) -> Path:
    tool("img2simg", raw, out, str(block_size))
    return out


# --- partition tables, written by hand --------------------------------------------------------

LINUX_DATA_GUID = uuid.UUID("0fc63daf-8483-4772-8e79-3d69d8477de4")
MS_BASIC_DATA_GUID = uuid.UUID("ebd0a0a2-b9e5-4433-87c0-68b6b72699c7")


def _mbr_entry(boot: int, kind: int, first_lba: int, sectors: int) -> bytes:
    chs = b"\xfe\xff\xff"  # LBA only: CHS fields say "beyond 1024 cylinders"
    return struct.pack("<B3sB3sII", boot, chs, kind, chs, first_lba, sectors)


def _mbr(entries: list[bytes]) -> bytes:
    table = b"".join(entries) + bytes(16 * (4 - len(entries)))
    return bytes(446) + table + b"\x55\xaa"


def _place(disk: Path, offset: int, data: bytes) -> None:
    with open(disk, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def _copy_in(disk: Path, offset: int, image: Path) -> None:
    with open(disk, "r+b") as handle, open(image, "rb") as source:
        handle.seek(offset)
        shutil.copyfileobj(source, handle, MIB)


@dataclass(frozen=True)
class Partition:
    image: Path
    first_lba: int
    mbr_type: int = 0x83
    gpt_type: uuid.UUID = LINUX_DATA_GUID
    name: str = ""

    @property
    def sectors(self) -> int:
        return -(-self.image.stat().st_size // SECTOR)

    @property
    def offset(self) -> int:
        return self.first_lba * SECTOR


def make_gpt_disk(disk: Path, partitions: list[Partition], total_sectors: int) -> Path:
    """Protective MBR, primary GPT at LBA 1 (128 entries at LBA 2), backup GPT at the end."""
    entries_lba, entry_count, entry_size = 2, 128, 128
    entry_sectors = entry_count * entry_size // SECTOR
    last_usable = total_sectors - 1 - entry_sectors - 1
    first_usable = entries_lba + entry_sectors
    with open(disk, "wb") as handle:
        handle.truncate(total_sectors * SECTOR)
    entries = bytearray(entry_count * entry_size)
    for number, part in enumerate(partitions):
        assert first_usable <= part.first_lba and part.first_lba + part.sectors - 1 <= last_usable
        unique = uuid.UUID(int=0x11111111_2222_4333_8444_555555550000 + number)
        name = part.name.encode("utf-16-le").ljust(72, b"\x00")
        entries[number * entry_size:(number + 1) * entry_size] = struct.pack(
            "<16s16sQQQ72s", part.gpt_type.bytes_le, unique.bytes_le, part.first_lba, part.first_lba + part.sectors - 1, 0, name)
        _copy_in(disk, part.offset, part.image)
    entries_crc = zlib.crc32(entries)
    disk_guid = uuid.UUID("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")

    def header(current: int, backup: int, table_lba: int) -> bytes:
        fields = struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x00010000, 92, 0, 0, current, backup, first_usable, last_usable,
                             disk_guid.bytes_le, table_lba, entry_count, entry_size, entries_crc)
        fields = fields[:16] + struct.pack("<I", zlib.crc32(fields)) + fields[20:]
        return fields.ljust(SECTOR, b"\x00")

    backup_lba = total_sectors - 1
    backup_entries_lba = backup_lba - entry_sectors
    _place(disk, 0, _mbr([_mbr_entry(0, 0xEE, 1, min(total_sectors - 1, 0xFFFFFFFF))]))
    _place(disk, SECTOR, header(1, backup_lba, entries_lba))
    _place(disk, entries_lba * SECTOR, bytes(entries))
    _place(disk, backup_entries_lba * SECTOR, bytes(entries))
    _place(disk, backup_lba * SECTOR, header(backup_lba, 1, backup_entries_lba))
    return disk


def make_mbr_disk(disk: Path, primary: Partition, extended_lba: int, logicals: list[Partition], total_sectors: int) -> Path:
    """MBR: one primary partition and an extended partition (type 0x05) holding a chain of logical ones.

    Each logical partition's EBR sits 1 MiB (2048 sectors) before it: entry 1 points to the logical
    partition relative to that EBR, entry 2 to the next EBR relative to the start of the extended
    partition.
    """
    with open(disk, "wb") as handle:
        handle.truncate(total_sectors * SECTOR)
    extended_sectors = total_sectors - extended_lba
    _place(disk, 0, _mbr([_mbr_entry(0x80, primary.mbr_type, primary.first_lba, primary.sectors),
                          _mbr_entry(0, 0x05, extended_lba, extended_sectors)]))
    _copy_in(disk, primary.offset, primary.image)
    for number, part in enumerate(logicals):
        ebr_lba = part.first_lba - 2048  # each EBR sits 1 MiB before its partition
        assert ebr_lba >= extended_lba
        entries = [_mbr_entry(0, part.mbr_type, part.first_lba - ebr_lba, part.sectors)]
        if number + 1 < len(logicals):
            following = logicals[number + 1]
            next_ebr = following.first_lba - 2048
            entries.append(_mbr_entry(0, 0x05, next_ebr - extended_lba, following.first_lba + following.sectors - next_ebr))
        _place(disk, ebr_lba * SECTOR, _mbr(entries))
        _copy_in(disk, part.offset, part.image)
    return disk


# --- evidence snapshots -----------------------------------------------------------------------

def sha256_file(path: Path | bytes) -> str:
    """SHA-256 of a file, read with O_NOATIME so the check itself does not touch the evidence."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0))
    digest = hashlib.sha256()
    try:
        while chunk := os.read(descriptor, MIB):
            digest.update(chunk)
    finally:
        os.close(descriptor)
    return digest.hexdigest()


def snapshot(paths: list[Path]) -> dict[str, str]:
    return {os.fspath(p): sha256_file(p) for p in paths}


def tree_state(folder: Path) -> dict[bytes, tuple]:
    """Every entry below `folder` and the folder itself: type, size, mtime, atime, ctime and, for files, SHA-256.

    Directories are listed through O_NOATIME descriptors, so taking the snapshot does not move
    the access times it records.
    """
    state: dict[bytes, tuple] = {}
    pending = [os.fsencode(folder)]
    while pending:
        path = pending.pop()
        info = os.lstat(path)
        digest = sha256_file(path) if stat.S_ISREG(info.st_mode) else None
        state[path] = (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, info.st_atime_ns, info.st_ctime_ns, digest)
        if stat.S_ISDIR(info.st_mode):
            descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOATIME", 0))
            try:
                pending.extend(path + b"/" + os.fsencode(entry.name) for entry in os.scandir(descriptor))
            finally:
                os.close(descriptor)
    return state
