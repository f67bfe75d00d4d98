"""Walking a ZIP, TAR or TAR.GZ extraction member by member, with Python's zipfile and tarfile.

dfVFS addresses an archive member by its name, so two members of one name cannot be told apart,
and one damaged member stops its whole walk. Here every member is addressed by its place in the
archive (ZIP: index in the central directory and local-header offset; TAR: header and data
offsets in the TAR stream), so each one is catalogued, read and hashed on its own and a damaged
one costs only itself. Names keep their exact bytes and are never resolved on the host:
`../../etc/x` is a name, nothing is ever extracted.

Folders that no member names but member names imply (`a/` for `a/b.txt`) are listed once, before
the first member below them, as `virtual_directory` rows: they are synthesised, not read.
"""

from __future__ import annotations

import gzip
import io
import json
import lzma
import os
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, Iterator

from ingest import zip_directory
from ingest.content import ContentReadError
from ingest.path_specs import serialize
from ingest.scan import Volume
from ingest.tsk import WalkItem
from manifests.text import display, display_message

# Budgets for hostile archives: members listed, one member's headers (pax records, GNU long
# names), header reads for one member, a ZIP symlink's target, and the names kept in memory
# (folders already listed and hard-link targets).
MAX_MEMBERS = zip_directory.MAX_ENTRIES
MAX_HEADER_BYTES = 1 << 20
MAX_HEADER_READS = 64
MAX_LINK_TARGET = 65536
MAX_NAME_TABLE_BYTES = 256 << 20
PIECE = 1 << 16  # a member is decompressed in pieces, so a failure's offset is near where it happened
BLOCK = tarfile.BLOCKSIZE
# What reading a gzip stream raises when it is damaged or cut.
STREAM_ERRORS: tuple[type[BaseException], ...] = (zlib.error, EOFError, gzip.BadGzipFile, OSError)
# What reading one member may raise; every one becomes a ContentReadError with its own kind.
MEMBER_READ_ERRORS: tuple[type[BaseException], ...] = (OSError,)  # ContentReadError is one
_TAR_TYPES = {
    tarfile.DIRTYPE: "directory",
    tarfile.SYMTYPE: "symlink",
    tarfile.CHRTYPE: "char_device",
    tarfile.BLKTYPE: "block_device",
    tarfile.FIFOTYPE: "fifo",
}

Report = Callable[..., None]


class HeaderBudgetError(Exception):
    """One member's headers ask for more bytes or reads than MAX_HEADER_BYTES / MAX_HEADER_READS."""


class _HeaderBudget:
    """The TAR stream as tarfile sees it: while armed, reads are headers and stay within budget."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.left: int | None = None
        self.reads = 0

    def arm(self) -> None:
        self.left, self.reads = MAX_HEADER_BYTES, 0

    def disarm(self) -> None:
        self.left = None

    def read(self, size: int = -1) -> bytes:
        if self.left is not None:
            self.reads += 1
            if size is None or size < 0 or size > self.left or self.reads > MAX_HEADER_READS:
                raise HeaderBudgetError(f"headers of one member ask for more than {MAX_HEADER_BYTES} bytes or {MAX_HEADER_READS} reads")
            self.left -= size
        return self.stream.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.stream.seek(offset, whence)

    def tell(self) -> int:
        return self.stream.tell()

    def seekable(self) -> bool:
        return True


class _HeaderSource(tarfile.TarFile):
    """A TarFile that never walks itself: it lends TarInfo.fromtarfile its decoding and pax state.

    tarfile's own iteration treats a damaged header after the first as the end of the archive
    and keeps every member in memory; the walk below reads one header at a time instead.
    """

    def next(self) -> None:  # type: ignore[override]
        return None


def _tar_source(budget: _HeaderBudget) -> _HeaderSource:
    return _HeaderSource(fileobj=budget, mode="r", encoding="utf-8", errors="surrogateescape")  # type: ignore[arg-type]


def _open_stream(path: str, compressed: bool):
    raw = open(path, "rb")  # read-only; nothing is ever written next to the evidence
    return gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw


# ---- rows ----------------------------------------------------------------------------------

def _parts(raw: bytes) -> list[bytes]:
    """Name components as stored; empty and '.' components dropped, '..' kept as a plain name."""
    return [part for part in raw.split(b"/") if part not in (b"", b".")]


def _path(parts: list[bytes]) -> bytes:
    return b"/" + b"/".join(parts)


def _row(full: bytes, name: bytes, entry_type: str, spec: str, **values) -> dict:
    row = {
        "path": display(full), "path_bytes": full, "name_bytes": name, "data_stream": None, "inode": None, "sequence": None,
        "parent_inode": None, "entry_type": entry_type, "size": None, "is_allocated": True, "is_deleted": False, "is_orphan": False,
        "created_time": None, "modified_time": None, "accessed_time": None, "changed_time": None, "deleted_time": None, "mode": None, "uid": None,
        "gid": None, "link_target": None, "link_target_bytes": None, "path_spec": spec,
    }
    row.update(values)
    return row


def _spec(volume_spec: dict, **where) -> str:
    return json.dumps({"__type__": "ArchiveMember", **where, "parent": volume_spec}, sort_keys=True)


@dataclass
class _Listing:
    """Folders already listed (real or synthesised), with the bytes they hold against the budget."""

    volume_spec: dict
    kind: str
    seen: set[bytes] = field(default_factory=set)
    table_bytes: int = 0

    def over_budget(self) -> bool:
        return self.table_bytes > MAX_NAME_TABLE_BYTES

    def remember(self, path: bytes) -> None:
        if path not in self.seen:
            self.seen.add(path)
            self.table_bytes += len(path) + 64

    def parents(self, parts: list[bytes]) -> Iterator[WalkItem]:
        """Root and folders implied by a member name and not listed yet, outermost first."""
        for depth in range(0, len(parts)):
            folder = _path(parts[:depth])
            if folder in self.seen:
                continue
            self.remember(folder)
            spec = _spec(self.volume_spec, format=self.kind, synthesised_folder=folder.decode("utf-8", "surrogateescape"))
            yield WalkItem(_row(folder, parts[depth - 1] if depth else b"", "virtual_directory", spec), None)


def _ns(seconds: object) -> int | None:
    try:
        return int(Decimal(str(seconds)) * 1_000_000_000)
    except (InvalidOperation, ValueError, TypeError):
        return None


# ---- TAR -----------------------------------------------------------------------------------

class _StreamFailure(Exception):
    """A gzip stream failed; `good` is how many bytes of the TAR stream decompressed before it."""

    def __init__(self, error: BaseException, good: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.good = good


def _reached(stream, offset: int) -> bool:
    """Whether the stream holds a byte just before `offset` (the end of the previous member's data)."""
    if offset == 0:
        return True
    if not isinstance(stream, gzip.GzipFile):
        stream.seek(offset - 1)
        return bool(stream.read(1))
    position = stream.tell()
    if position > offset:
        stream.seek(offset)  # a resync seeks back: decompress again from the start
        return True
    try:
        while position < offset:
            piece = stream.read(min(PIECE, offset - position))
            if not piece:
                return False
            position += len(piece)
    except STREAM_ERRORS as error:
        raise _StreamFailure(error, _good_bytes(stream.fileobj.name)) from None  # type: ignore[union-attr]
    return True


def _good_bytes(path: str) -> int:
    """Exactly how many bytes a failed gzip stream decompresses to before it fails (zlib directly,
    the failing piece again one byte at a time from a copy of the decoder's state)."""
    decoder, out = zlib.decompressobj(31), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(PIECE):
            while chunk:
                saved = decoder.copy()
                try:
                    out += len(decoder.decompress(chunk))
                except zlib.error:
                    for index in range(len(chunk)):
                        try:
                            out += len(saved.decompress(chunk[index:index + 1]))
                        except zlib.error:
                            return out
                    return out
                chunk = decoder.unused_data if decoder.eof else b""
                if decoder.eof:
                    decoder = zlib.decompressobj(31)  # the next member of a multi-member gzip file
    return out


def _looks_like_header(block: bytes) -> bool:
    if len(block) < BLOCK or block == tarfile.NUL * BLOCK:
        return False
    try:
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except (tarfile.HeaderError, ValueError):
        return False
    return True


def _resync(stream, start: int) -> int | None:
    """The next block from `start` that holds a valid TAR header, as GNU tar does after a bad one."""
    offset = start
    stream.seek(offset)
    while True:
        block = stream.read(BLOCK)
        if len(block) < BLOCK:
            return None
        if _looks_like_header(block):
            return offset
        offset += BLOCK


@dataclass(frozen=True)
class _Damage:
    """Why a member's data cannot be trusted, found by the walk itself (gzip streams only)."""

    message: str
    offset: int  # in the member's content


def _tar_headers(stream, where: str, report: Report) -> Iterator[tuple[tarfile.TarInfo, _Damage | None]]:
    """Every member header in archive order; damage is reported with its offset in the TAR stream.

    A member is handed on only once what follows its data has been read: in a gzip stream a
    damaged stretch decompresses to garbage without an error, and the first sign of it is often
    the next header failing its checksum, which then condemns the member before it.
    """
    compressed = isinstance(stream, gzip.GzipFile)
    budget = _HeaderBudget(stream)
    source = _tar_source(budget)
    offset = 0
    count = 0
    pending: tarfile.TarInfo | None = None
    last_damage: _Damage | None = None  # of the member still pending when the walk stops
    while True:
        try:
            if not _reached(stream, offset):
                report("archive_truncated", f"the TAR stream ends inside the data of {_member(pending)}, before byte {offset}: "
                       "that member is cut, and members after it (if any) are missing", offset)
                break
            info = _read_header(stream, source, budget, offset)
        except (tarfile.EOFHeaderError, tarfile.EmptyHeaderError, tarfile.TruncatedHeaderError) as end:
            _report_end(end, stream, where, offset, report)
            break
        except (tarfile.InvalidHeaderError, tarfile.SubsequentHeaderError, HeaderBudgetError, ValueError) as error:
            # ValueError: tarfile itself raises UnicodeDecodeError on a damaged pax hdrcharset record
            if pending is not None:
                damage = _Damage(f"the {where} is damaged in or before this member's data: the TAR header after it, at byte "
                                 f"{offset}, is invalid ({error})", 0) if compressed else None
                yield pending, damage
                pending = None
            found = _skip_bad_header(stream, offset, error, report)
            if found is None:
                return
            offset = found
            continue
        except (_StreamFailure, *STREAM_ERRORS) as failure:
            last_damage = _stream_failure(failure, stream, where, offset, pending, report)
            break
        following = source.offset
        if info.size < 0 or following <= offset:
            if pending is not None:
                yield pending, None
                pending = None
            found = _skip_bad_header(stream, offset, ValueError(f"member size {info.size} does not advance the archive"), report)
            if found is None:
                return
            offset = found
            continue
        count += 1
        if count > MAX_MEMBERS:
            report("archive_budget", f"more than {MAX_MEMBERS} members: members from the header at byte {offset} on are not listed", offset)
            break
        if pending is not None:
            yield pending, None
        pending = info
        offset = following
    if pending is not None:
        yield pending, last_damage


def _read_header(stream, source, budget: _HeaderBudget, offset: int) -> tarfile.TarInfo:
    """The member header at `offset`, read within the header budget."""
    stream.seek(offset)
    budget.arm()
    try:
        return tarfile.TarInfo.fromtarfile(source)
    finally:
        budget.disarm()


def _report_end(end: tarfile.HeaderError, stream, where: str, offset: int, report: Report) -> None:
    """The walk met the end of the archive: its end-of-archive blocks (then the gzip stream is read to its end
    so that its checks run), or a stream that stops without them, or one cut inside a header."""
    if isinstance(end, tarfile.EOFHeaderError):
        _drain(stream, where, report)
    elif isinstance(end, tarfile.EmptyHeaderError):
        report("archive_truncated", f"the TAR stream ends at byte {offset} without its end-of-archive blocks: "
               "members after that point (if any) are missing", offset)
    else:
        report("archive_truncated", f"the TAR stream ends inside the header at byte {offset}", offset)


def _stream_failure(failure: BaseException, stream, where: str, offset: int, pending: tarfile.TarInfo | None,
                    report: Report) -> _Damage | None:
    """Report a stream that cannot be decompressed past some byte; the pending member's damage when the failure
    falls inside its data (or where the failure is unknown)."""
    error = failure.error if isinstance(failure, _StreamFailure) else failure
    position = failure.good if isinstance(failure, _StreamFailure) else _position(stream)
    report("corrupt_stream", f"the {where} cannot be decompressed past byte {position} of the TAR stream "
           f"(reading toward the header at byte {offset}): {error}; members after that point are missing", position)
    if pending is None:
        return None
    end = pending.offset_data + pending.size
    if position is None or position < end:
        at = max(0, (position or 0) - pending.offset_data)
        return _Damage(f"the {where} cannot be decompressed past byte {at} of this member: {error}", at)
    return None


def _member(info: tarfile.TarInfo | None) -> str:
    return "the start" if info is None else f"the member whose header is at byte {info.offset}"


def _skip_bad_header(stream, offset: int, error: BaseException, report: Report) -> int | None:
    try:
        found = _resync(stream, offset + BLOCK)
    except STREAM_ERRORS as stream_error:
        report("corrupt_header", f"TAR header at byte {offset} is invalid ({error}); the stream then fails: {stream_error}", offset)
        return None
    if found is None:
        report("corrupt_header", f"TAR header at byte {offset} is invalid ({error}); no valid header follows it, "
               "so members after that point (if any) are not listed", offset)
        return None
    report("corrupt_header", f"TAR header at byte {offset} is invalid ({error}); skipped {found - offset} bytes to the next "
           f"valid header at byte {found} (members in between, if any, are not listed)", offset)
    return found


def _position(stream) -> int | None:
    try:
        return stream.tell()
    except (OSError, ValueError):
        return None


def _drain(stream, where: str, report: Report) -> None:
    """Read a gzip stream to its end, so that its CRC-32 and length are checked."""
    if not isinstance(stream, gzip.GzipFile):
        return
    try:
        while stream.read(1 << 20):
            pass
    except STREAM_ERRORS as error:
        report("corrupt_stream", f"the {where} fails its final check after the end of the TAR archive ({error}): damaged data "
               "decompressed without any other sign, so which member holds it is unknown; the member hashes of this archive are unverified",
               None)


def _tar_entry_type(info: tarfile.TarInfo) -> str:
    if info.isreg():
        return "file"
    if info.islnk():
        return "file"  # a hard link is a file with the content of the member it names
    return _TAR_TYPES.get(info.type, "unknown")


def _tar_locator(info: tarfile.TarInfo, compressed: bool) -> dict:
    return {"format": "TAR", "gzip": compressed, "header_offset": info.offset, "data_offset": info.offset_data, "size": info.size,
            "sparse": info.sparse is not None}


def _tar_times(info: tarfile.TarInfo) -> dict:
    pax = info.pax_headers
    return {"modified_time": _ns(pax.get("mtime", info.mtime)), "accessed_time": _ns(pax["atime"]) if "atime" in pax else None,
            "changed_time": _ns(pax["ctime"]) if "ctime" in pax else None}


def walk_tar(path: Path, compressed: bool, volume: Volume, problems_add: Report) -> Iterator[WalkItem]:
    where = "gzip stream" if compressed else "TAR file"
    volume_spec = json.loads(serialize(volume.path_spec.parent))
    listing = _Listing(volume_spec, "TAR")
    links: dict[bytes, dict] = {}

    def report(kind: str, message: str, offset: int | None, at: str | None = None, spec: str | None = None) -> None:
        problems_add("walk", kind, "error", message, volume_index=volume.index, path=at, path_spec=spec or serialize(volume.path_spec),
                     offset=offset)

    try:
        stream = _open_stream(os.fsdecode(path), compressed)
    except OSError as error:
        report("corrupt_volume", f"archive cannot be opened: {error}", None)
        return
    with stream:
        index = -1
        for info, damage in _tar_headers(stream, where, report):
            index += 1
            raw = info.name.encode("utf-8", "surrogateescape")
            parts = _parts(raw)
            full = _path(parts)
            spec = _spec(volume_spec, format="TAR", member_index=index, header_offset=info.offset,
                         member_name=info.name)
            entry_type = _tar_entry_type(info)
            if not parts and entry_type == "directory":
                if full not in listing.seen:  # the archive's own root folder ("./")
                    listing.remember(full)
                yield WalkItem(_row(full, b"", "directory", spec, mode=info.mode & 0o7777, uid=info.uid, gid=info.gid, **_tar_times(info)), None)
                continue
            yield from listing.parents(parts)
            values = {"mode": info.mode & 0o7777, "uid": info.uid, "gid": info.gid, **_tar_times(info)}
            name = parts[-1] if parts else b""
            if entry_type == "directory":
                listing.remember(full)
                yield WalkItem(_row(full, name, entry_type, spec, **values), None)
            elif entry_type == "symlink":
                link = info.linkname.encode("utf-8", "surrogateescape")
                yield WalkItem(_row(full, name, entry_type, spec, link_target=display(link), link_target_bytes=link, **values), None)
            elif info.islnk():
                yield _hard_link(info, full, name, spec, values, links, report)
            elif damage is not None:
                problems_add("read", "corrupt_stream", "error", f"content of {display(full)} could not be read: {damage.message}",
                             volume_index=volume.index, path=display(full), path_spec=spec, offset=damage.offset,
                             length=info.size - damage.offset)
                yield WalkItem(_row(full, name, entry_type, spec, size=info.size, content_status="read_error", read_error_kind="corrupt_stream",
                                    read_error_offset=damage.offset, read_error_length=info.size - damage.offset,
                                    read_error_message=display_message(damage.message), **values), None)
            elif entry_type in ("file", "unknown"):
                locator = _tar_locator(info, compressed)
                if entry_type == "file":
                    links[full] = locator
                    listing.table_bytes += len(full) + 160
                yield WalkItem(_row(full, name, entry_type, spec, size=info.size, **values), ("archive", locator, info.size))
            else:
                yield WalkItem(_row(full, name, entry_type, spec, **values), None)
            if listing.over_budget():
                report("archive_budget", f"names kept in memory exceed {MAX_NAME_TABLE_BYTES} bytes: members after the one "
                       f"whose header is at byte {info.offset} are not listed", info.offset)
                return
        yield from listing.parents([b""])  # an archive without members still has its root


def _hard_link(info: tarfile.TarInfo, full: bytes, name: bytes, spec: str, values: dict, links: dict[bytes, dict],
               report: Report) -> WalkItem:
    """A hard link has the content of the last earlier file member of the name it gives (as tar extracts it)."""
    link = info.linkname.encode("utf-8", "surrogateescape")
    shown = {"link_target": display(link), "link_target_bytes": link}
    locator = links.get(_path(_parts(link)))
    if locator is None:
        message = (f"hard link {display(full)} names {display(link)}, which is no earlier file member of the archive "
                   "(a later member, itself, a folder or nothing): its content is unknown")
        report("hard_link_unresolved", message, info.offset, display(full), spec)
        return WalkItem(_row(full, name, "file", spec, content_status="read_error", read_error_kind="hard_link_unresolved",
                             read_error_offset=0, read_error_message=display_message(message), **shown, **values), None)
    links[full] = locator
    return WalkItem(_row(full, name, "file", spec, size=locator["size"], **shown, **values), ("archive", locator, locator["size"]))


# ---- ZIP -----------------------------------------------------------------------------------

def _zip_name(info: zipfile.ZipInfo) -> bytes:
    """The stored name bytes: zipfile decoded them as UTF-8 (flag 0x800) or cp437; encoding back is exact."""
    return info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "surrogateescape")


def _zip_time(info: zipfile.ZipInfo) -> int | None:
    """DOS date and time carry no zone: stored as if UTC (as dfVFS does)."""
    try:
        moment = datetime(*info.date_time, tzinfo=timezone.utc)
    except (ValueError, TypeError):
        return None
    return int(moment.timestamp()) * 1_000_000_000


def walk_zip(path: Path, volume: Volume, problems_add: Report) -> Iterator[WalkItem]:
    volume_spec = json.loads(serialize(volume.path_spec.parent))
    listing = _Listing(volume_spec, "ZIP")

    def report(kind: str, message: str, offset: int | None, at: str | None = None, spec: str | None = None) -> None:
        problems_add("walk", kind, "error", message, volume_index=volume.index, path=at, path_spec=spec or serialize(volume.path_spec),
                     offset=offset)

    try:
        archive = zip_directory.open_zip(path, MAX_MEMBERS)
    except zip_directory.OverBudget as error:
        report("archive_budget", f"ZIP: {error}", None)
        return
    except zip_directory.OPEN_ERRORS as error:
        report("corrupt_volume", f"ZIP central directory cannot be read: {error}", None)
        return
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            report("archive_budget", f"{len(members)} members: only the first {MAX_MEMBERS} are listed", None)
            members = members[:MAX_MEMBERS]
        for index, info in enumerate(members):
            raw = _zip_name(info)
            parts = _parts(raw)
            full = _path(parts)
            spec = _spec(volume_spec, format="ZIP", member_index=index, header_offset=info.header_offset,
                         member_name=raw.decode("utf-8", "surrogateescape"))
            unix = info.create_system == 3
            mode = info.external_attr >> 16 if unix else 0
            values = {"modified_time": _zip_time(info), "mode": mode & 0o7777 if unix else None}
            if not parts:
                yield WalkItem(_row(full, b"", "directory", spec, **values), None)
                listing.remember(full)
                continue
            yield from listing.parents(parts)
            name = parts[-1]
            if info.is_dir() or stat.S_ISDIR(mode):
                listing.remember(full)
                yield WalkItem(_row(full, name, "directory", spec, **values), None)
            elif stat.S_ISLNK(mode) and info.file_size <= MAX_LINK_TARGET:
                yield _zip_symlink(archive, info, full, name, spec, values, report)
            else:
                locator = {"format": "ZIP", "index": index, "header_offset": info.header_offset, "size": info.file_size}
                yield WalkItem(_row(full, name, "file", spec, size=info.file_size, **values), ("archive", locator, info.file_size))
            if listing.over_budget():
                report("archive_budget", f"names kept in memory exceed {MAX_NAME_TABLE_BYTES} bytes: members after number {index} "
                       "are not listed", info.header_offset)
                return
        yield from listing.parents([b""])  # an archive without members still has its root


def _zip_symlink(archive: zipfile.ZipFile, info: zipfile.ZipInfo, full: bytes, name: bytes, spec: str, values: dict,
                 report: Report) -> WalkItem:
    """A member with S_IFLNK (Info-ZIP `zip -y`): its data is the link target."""
    try:
        with archive.open(info) as member:
            link = member.read(MAX_LINK_TARGET + 1)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, RuntimeError, NotImplementedError, ValueError) as error:
        message = f"target of symbolic link {display(full)} cannot be read: {error}"
        report("unreadable_link", message, info.header_offset, display(full), spec)
        return WalkItem(_row(full, name, "symlink", spec, size=info.file_size, **values), None)
    return WalkItem(_row(full, name, "symlink", spec, size=info.file_size, link_target=display(link), link_target_bytes=link, **values), None)


# ---- walking and reading -------------------------------------------------------------------

def walk(path: Path, volume: Volume, compressed: bool, problems_add: Report) -> Iterator[WalkItem]:
    """Every member of the archive in archive order, with the folders their names imply."""
    if volume.type == "ZIP":
        return walk_zip(path, volume, problems_add)
    return walk_tar(path, compressed, volume, problems_add)


class ArchiveSource:
    """A worker's open archive (opened on first use): members are read by their address, never by name."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        self.file: io.BufferedReader | None = None
        self.gzip: gzip.GzipFile | None = None

    def zip_archive(self) -> zipfile.ZipFile:
        if self.zip is None:
            try:
                self.zip = zip_directory.open_zip(self.path, MAX_MEMBERS)
            except zip_directory.CORRUPT_ERRORS as error:  # OverBudget is a ValueError
                raise ContentReadError("open_failed", f"ZIP central directory cannot be read: {error}") from None
        return self.zip

    def tar_descriptor(self) -> int:
        if self.file is None:
            self.file = open(self.path, "rb")  # a file object: closed with the worker's state, never leaked
        return self.file.fileno()

    def gzip_stream(self) -> gzip.GzipFile:
        if self.gzip is None:
            self.gzip = _open_stream(self.path, True)
        return self.gzip


def reader_for(source: ArchiveSource, locator: dict) -> Callable[[int, int], bytes]:
    """read(offset, size) over one member's content; every failure is a ContentReadError with its kind."""
    if locator["format"] == "ZIP":
        return _ZipMember(source.zip_archive(), locator).read
    if locator["sparse"]:
        return _sparse_reader(source, locator)
    if locator["gzip"]:
        return _gzip_reader(source.gzip_stream(), locator)
    descriptor, start = source.tar_descriptor(), locator["data_offset"]

    def read(offset: int, size: int) -> bytes:
        return os.pread(descriptor, size, start + offset)  # a cut archive gives a short read at its exact offset

    return read


def _gzip_reader(stream: gzip.GzipFile, locator: dict) -> Callable[[int, int], bytes]:
    start = locator["data_offset"]

    def read(offset: int, size: int) -> bytes:
        data = b""
        try:
            stream.seek(start + offset)  # forward: decompress and skip; backward: from the start again
            while len(data) < size:
                piece = stream.read(min(PIECE, size - len(data)))
                if not piece:
                    break
                data += piece
        except STREAM_ERRORS as error:
            raise ContentReadError("corrupt_stream", f"gzip stream fails in this member (TAR stream byte about {start + offset + len(data)}): "
                                   f"{error}", offset + len(data)) from None
        return data

    return read


def _sparse_reader(source: ArchiveSource, locator: dict) -> Callable[[int, int], bytes]:
    """A GNU sparse member: tarfile maps its holes, from the member's header read again."""
    stream = source.gzip_stream() if locator["gzip"] else open(source.path, "rb")
    budget = _HeaderBudget(stream)
    try:
        holder = _tar_source(budget)
        stream.seek(locator["header_offset"])
        budget.arm()
        try:
            info = tarfile.TarInfo.fromtarfile(holder)
        finally:
            budget.disarm()
        member = holder.extractfile(info)
    except (tarfile.TarError, HeaderBudgetError, *STREAM_ERRORS, ValueError) as error:
        raise ContentReadError("open_failed", f"sparse member header at byte {locator['header_offset']} cannot be read again: {error}") from None
    if member is None or info.offset_data != locator["data_offset"]:
        raise ContentReadError("open_failed", f"the header at byte {locator['header_offset']} no longer describes this member")

    def read(offset: int, size: int) -> bytes:
        try:
            member.seek(offset)
            return member.read(size)
        except (tarfile.TarError, *STREAM_ERRORS, ValueError) as error:
            raise ContentReadError("truncated_member", f"sparse member data cannot be read at byte {offset}: {error}", offset) from None

    return read


_ZIP_ERRORS: tuple[type[BaseException], ...] = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, RuntimeError,
                                                 NotImplementedError, ValueError)


def _zip_failure(error: BaseException, where: str, offset: int) -> ContentReadError:
    text = str(error)
    if isinstance(error, zipfile.BadZipFile) and text.startswith("Bad CRC-32"):
        # zipfile checks the CRC when the last byte is read: none of the content is verified
        return ContentReadError("crc_mismatch", f"{where}: {text}", 0)
    if isinstance(error, RuntimeError) and "encrypted" in text:
        return ContentReadError("encrypted_member", f"{where}: {text}", 0)
    if isinstance(error, NotImplementedError):
        return ContentReadError("unsupported_compression", f"{where}: {text}", 0)
    return ContentReadError("corrupt_member", f"{where}: {text or type(error).__name__}", offset)


class _ZipMember:
    """Sequential reads of one ZIP member; a read before the current position opens it again."""

    def __init__(self, archive: zipfile.ZipFile, locator: dict) -> None:
        self.archive = archive
        self.where = f"ZIP member {locator['index']} (local header at byte {locator['header_offset']})"
        members = archive.infolist()
        index = locator["index"]
        if index >= len(members) or members[index].header_offset != locator["header_offset"]:
            raise ContentReadError("open_failed", f"{self.where} is no longer in the central directory")
        self.info = members[index]
        self.handle: zipfile.ZipExtFile | None = None
        self.position = 0

    def _open(self) -> None:
        try:
            self.handle = self.archive.open(self.info)
        except _ZIP_ERRORS as error:
            raise _zip_failure(error, self.where, 0) from None
        self.position = 0

    def read(self, offset: int, size: int) -> bytes:
        if self.handle is None or offset < self.position:
            self._open()
        data = io.BytesIO()
        try:
            while self.position < offset:  # skip forward
                skipped = self.handle.read(min(PIECE, offset - self.position))
                if not skipped:
                    return b""
                self.position += len(skipped)
            while data.tell() < size:
                piece = self.handle.read(min(PIECE, size - data.tell()))
                if not piece:
                    break
                data.write(piece)
                self.position += len(piece)
            if self.position >= self.info.file_size:
                self.handle.read(1)  # reach the member's end, where zipfile checks its CRC-32
        except _ZIP_ERRORS as error:
            raise _zip_failure(error, self.where, self.position) from None
        return data.getvalue()
