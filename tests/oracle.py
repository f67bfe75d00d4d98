"""Independent oracles for tests: The Sleuth Kit (fls, mmls, icat) and libewf tools.

Exhibit reads images through dfvfs; these helpers ask different code (the
Debian sleuthkit and ewf-tools command-line programs) the same questions, so
a test can compare the two answers.

Paths from fls are bytes. They are decoded as UTF-8 with 'surrogateescape',
so os.fsencode() (on a UTF-8 system) gives back the exact bytes fls printed.
TSK itself replaces control characters in names with '^', and converts FAT
and NTFS names to UTF-8; ext names are passed through raw.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_SECONDS = 600
_CHUNK = 1 << 20
_ENV = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}

# "<name type>/<meta type> [* ]<addr>[-<attr type>-<attr id>][(realloc)]:\t<path>"
_FLS_LINE = re.compile(
    rb"^(?P<name_type>[^/ ]+)/(?P<meta_type>[^ ]+) "
    rb"(?P<deleted>\* )?"
    rb"(?P<inode>[0-9]+(?:-[0-9]+-[0-9]+)?)"
    rb"(?P<realloc>\(realloc\))?:\t(?P<path>.*)$"
)
_MMLS_ROW = re.compile(
    r"^(?P<row>\d+):\s+(?P<slot>\S+)\s+(?P<start>\d+)\s+(?P<end>\d+)\s+"
    r"(?P<length>\d+)\s+(?P<description>.*?)\s*$"
)
_EWFINFO_HASH = re.compile(r"^\s+(?P<algo>MD5|SHA1|SHA256):\s+(?P<value>[0-9A-Fa-f]+)\s*$")
_EWFVERIFY_HASH = re.compile(
    r"^(?P<algo>MD5|SHA1|SHA256) hash (?P<kind>stored in file|calculated over data):"
    r"\s+(?P<value>\S+)\s*$"
)
NTFS_DATA_ATTR = 128
VIRTUAL_NAME_TYPES = frozenset({"v", "V"})
ORPHAN_DIR = "$OrphanFiles"


class TskError(RuntimeError):
    """A Sleuth Kit or libewf tool failed; carries the command and its stderr."""

    def __init__(self, command: Sequence[str], returncode: int, stderr: bytes) -> None:
        self.command = list(command)
        self.returncode = returncode
        self.stderr = stderr.decode("utf-8", "backslashreplace").strip()
        super().__init__(f"{' '.join(self.command)} exited {returncode}: {self.stderr}")


@dataclass(frozen=True)
class FlsEntry:
    """One fls line, split into its fields.

    inode is TSK's address string: '14' on ext/FAT/HFS+/APFS, 'inode-type-id'
    such as '128-128-3' on NTFS, which icat accepts as given.
    """

    path: str
    name_type: str
    meta_type: str
    inode: str
    deleted: bool
    realloc: bool

    @property
    def type(self) -> str:
        """The 'r/r' style column, name type / metadata type."""
        return f"{self.name_type}/{self.meta_type}"

    @property
    def meta_addr(self) -> int:
        """The metadata address alone (NTFS MFT entry without type and id)."""
        return int(self.inode.split("-", 1)[0])

    @property
    def is_virtual(self) -> bool:
        """TSK-made entries ($MBR, $FAT1, $FAT2, $OrphanFiles and its children)."""
        return (
            self.name_type in VIRTUAL_NAME_TYPES
            or self.path == ORPHAN_DIR
            or self.path.startswith(ORPHAN_DIR + "/")
        )

    @property
    def attr_type(self) -> int | None:
        """NTFS attribute type of the line (128 $DATA, 144 $INDEX_ROOT), else None."""
        parts = self.inode.split("-")
        return int(parts[1]) if len(parts) == 3 else None

    @property
    def stream(self) -> str | None:
        """Attribute name of a 'file:name' line (NTFS only), else None.

        Only lines with an NTFS 'inode-type-id' address count, so a ':' in an
        ext or FAT file name is never taken for a stream. Named index
        attributes ('$Secure:$SDH', type 144) count as well as data streams.
        """
        if self.attr_type is None:
            return None
        leaf = self.path.rsplit("/", 1)[-1]
        return leaf.split(":", 1)[1] if ":" in leaf else None

    @property
    def is_ads(self) -> bool:
        """A named $DATA stream: an alternate data stream in the usual sense."""
        return self.stream is not None and self.attr_type == NTFS_DATA_ATTR


def _image_args(image: Path | Sequence[Path]) -> list[str]:
    """One path, or every segment of a split image in order."""
    if isinstance(image, (str, os.PathLike)):
        return [os.fspath(image)]
    return [os.fspath(part) for part in image]


@dataclass(frozen=True)
class Pool:
    """A TSK pool volume (APFS): '-P type -B block', e.g. Pool('apfs', 107) from pstat."""

    type: str
    block: int


def _tsk_options(
    offset_sectors: int | None,
    fstype: str | None,
    image_type: str | None,
    sector_size: int | None,
    pool: Pool | None = None,
) -> list[str]:
    """Options shared by fls and icat."""
    options: list[str] = []
    if pool is not None:
        options += ["-P", pool.type, "-B", str(pool.block)]
    if image_type:
        options += ["-i", image_type]
    if fstype:
        options += ["-f", fstype]
    if offset_sectors is not None:
        options += ["-o", str(offset_sectors)]
    if sector_size is not None:
        options += ["-b", str(sector_size)]
    return options


def _run(command: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    """Run a tool with bytes output, a stable locale and UTC, and a time limit."""
    return subprocess.run(
        list(command),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=_ENV,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def parse_fls_line(line: bytes) -> FlsEntry:
    """Parse one line of 'fls -p' output; raises ValueError for anything else."""
    match = _FLS_LINE.match(line)
    if match is None:
        raise ValueError(f"not an fls line: {line!r}")
    return FlsEntry(
        path=match["path"].decode("utf-8", "surrogateescape"),
        name_type=match["name_type"].decode("ascii"),
        meta_type=match["meta_type"].decode("ascii"),
        inode=match["inode"].decode("ascii"),
        deleted=match["deleted"] is not None,
        realloc=match["realloc"] is not None,
    )


def tsk_entries(
    image: Path | Sequence[Path],
    offset_sectors: int | None = None,
    fstype: str | None = None,
    image_type: str | None = None,
    sector_size: int | None = None,
    allocated_only: bool = True,
    pool: Pool | None = None,
) -> list[FlsEntry]:
    """Every line of 'fls -r -p' (with -u when allocated_only), in fls order.

    A non-zero exit raises TskError even if some lines were printed: a
    partial listing is no oracle.
    """
    command = ["fls", "-r", "-p"]
    if allocated_only:
        command.append("-u")
    command += _tsk_options(offset_sectors, fstype, image_type, sector_size, pool)
    command += _image_args(image)
    result = _run(command)
    if result.returncode != 0:
        raise TskError(command, result.returncode, result.stderr)
    return [parse_fls_line(line) for line in result.stdout.split(b"\n") if line]


def tsk_allocated_paths(
    image: Path | Sequence[Path],
    offset_sectors: int | None = None,
    fstype: str | None = None,
    image_type: str | None = None,
    sector_size: int | None = None,
    include_virtual: bool = False,
    pool: Pool | None = None,
) -> dict[str, tuple[str, str]]:
    """Full path -> (type such as 'r/r', inode address string) of allocated entries.

    Deleted ('*') and '(realloc)' names are dropped; so are TSK's virtual
    entries ($MBR, $FAT1, $FAT2, $OrphanFiles/...) unless include_virtual.
    NTFS streams appear as their own 'file:stream' keys. If fls prints one
    path twice, the first line wins.
    """
    paths: dict[str, tuple[str, str]] = {}
    entries = tsk_entries(image, offset_sectors, fstype, image_type, sector_size, pool=pool)
    for entry in entries:
        if entry.deleted or entry.realloc:
            continue
        if entry.is_virtual and not include_virtual:
            continue
        paths.setdefault(entry.path, (entry.type, entry.inode))
    return paths


def tsk_partitions(
    image: Path | Sequence[Path],
    image_type: str | None = None,
    sector_size: int | None = None,
) -> list[dict[str, str | int]]:
    """Allocated partitions from mmls: slot, start, end, length (sectors), description, table.

    Metadata ('Meta') and unallocated ('-------') rows are left out. An image
    without a volume system (mmls exits 1 and prints nothing) gives [].
    """
    command = ["mmls"] + _tsk_options(None, None, image_type, sector_size)
    command += _image_args(image)
    result = _run(command)
    if result.returncode != 0:
        if not result.stdout.strip() and not result.stderr.strip():
            return []
        raise TskError(command, result.returncode, result.stderr)
    return _parse_mmls(result.stdout.decode("utf-8", "backslashreplace"))


def _parse_mmls(text: str) -> list[dict[str, str | int]]:
    """Keep the rows whose slot is a real table slot ('000', '001:000')."""
    lines = text.splitlines()
    table = lines[0].strip() if lines else ""
    partitions: list[dict[str, str | int]] = []
    for line in lines:
        match = _MMLS_ROW.match(line)
        if match is None or not match["slot"][0].isdigit():
            continue
        partitions.append(
            {
                "slot": match["slot"],
                "start": int(match["start"]),
                "end": int(match["end"]),
                "length": int(match["length"]),
                "description": match["description"],
                "table": table,
            }
        )
    return partitions


def icat_sha256(
    image: Path | Sequence[Path],
    inode: str,
    offset_sectors: int | None = None,
    image_type: str | None = None,
    fstype: str | None = None,
    sector_size: int | None = None,
    pool: Pool | None = None,
) -> str:
    """SHA-256 of a file's content as icat reads it, streamed in 1 MiB blocks."""
    command = ["icat"] + _tsk_options(offset_sectors, fstype, image_type, sector_size, pool)
    command += _image_args(image) + [str(inode)]
    digest = hashlib.sha256()
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors, env=_ENV
        ) as process:
            assert process.stdout is not None
            for block in iter(lambda: process.stdout.read(_CHUNK), b""):
                digest.update(block)
            returncode = process.wait(timeout=TIMEOUT_SECONDS)
        if returncode != 0:
            errors.seek(0)
            raise TskError(command, returncode, errors.read())
    return digest.hexdigest()


def ewf_stored_hashes(e01: Path) -> dict[str, str]:
    """Digests stored in an EWF set, from ewfinfo: {'md5': ..., 'sha1': ...} in lowercase hex.

    Only the digests the file carries are returned. Give the first segment;
    libewf finds the others beside it.
    """
    command = ["ewfinfo", os.fspath(e01)]
    result = _run(command)
    if result.returncode != 0:
        raise TskError(command, result.returncode, result.stderr)
    hashes: dict[str, str] = {}
    in_digests = False
    for line in result.stdout.decode("utf-8", "backslashreplace").splitlines():
        if not line.startswith(("\t", " ")):
            in_digests = line.strip() == "Digest hash information"
            continue
        match = _EWFINFO_HASH.match(line)
        if in_digests and match:
            hashes[match["algo"].lower()] = match["value"].lower()
    return hashes


@dataclass(frozen=True)
class EwfVerification:
    """What ewfverify concluded, and the digests it read and computed (lowercase hex)."""

    ok: bool
    stored: dict[str, str]
    computed: dict[str, str]


def ewf_verify(e01: Path) -> EwfVerification:
    """Run 'ewfverify -d sha1,sha256': re-reads every chunk and compares stored digests.

    ok needs both exit status 0 and the 'ewfverify: SUCCESS' line, so a
    changed output format cannot pass silently.
    """
    command = ["ewfverify", "-q", "-d", "sha1,sha256", os.fspath(e01)]
    result = _run(command)
    text = result.stdout.decode("utf-8", "backslashreplace")
    stored: dict[str, str] = {}
    computed: dict[str, str] = {}
    for line in text.splitlines():
        match = _EWFVERIFY_HASH.match(line)
        if match is None or match["value"] == "N/A":
            continue
        target = stored if match["kind"] == "stored in file" else computed
        target[match["algo"].lower()] = match["value"].lower()
    ok = result.returncode == 0 and "ewfverify: SUCCESS" in text
    return EwfVerification(ok=ok, stored=stored, computed=computed)


def ewfverify_ok(e01: Path) -> bool:
    """True when ewfverify finds every chunk intact and the stored digests match."""
    return ewf_verify(e01).ok
