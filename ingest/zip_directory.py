"""Opening a ZIP whose central directory may be hostile.

`zipfile.ZipFile` reads the whole central directory into memory before anything can count its
entries, and raises NotImplementedError (not BadZipFile) for an entry whose "version needed" is
above 6.3. The end-of-central-directory record (and its ZIP64 form) is read first here, so an
archive that claims more entries or directory bytes than the budget is refused before zipfile
sees it.
"""

from __future__ import annotations

import os
import struct
import zipfile
from typing import BinaryIO

MAX_ENTRIES = 5_000_000  # the archive walk's member budget (ingest/archive_walk.py MAX_MEMBERS)
MAX_DIRECTORY_BYTES = 1 << 30
# What zipfile.ZipFile raises on a damaged archive (NotImplementedError: "zip file version 23.3"); OverBudget is a ValueError.
CORRUPT_ERRORS: tuple[type[BaseException], ...] = (zipfile.BadZipFile, ValueError, UnicodeDecodeError, EOFError, NotImplementedError)
OPEN_ERRORS: tuple[type[BaseException], ...] = (*CORRUPT_ERRORS, OSError)
_EOCD = struct.Struct("<4sHHHHIIH")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_SEARCHED = _EOCD.size + 0xFFFF  # the record and the longest comment


class OverBudget(ValueError):
    """The end-of-central-directory record claims more than the budget allows; nothing more was read."""


def claimed_directory(handle: BinaryIO) -> tuple[int, int] | None:
    """(entries, central-directory bytes) the end record claims; None without one (zipfile then says why)."""
    size = handle.seek(0, os.SEEK_END)
    start = max(0, size - _SEARCHED)
    handle.seek(start)
    tail = handle.read(size - start)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _EOCD.size > len(tail):
        return None
    _sig, _disk, _cd_disk, _here, entries, directory_bytes, directory_offset, _comment = _EOCD.unpack_from(tail, at)
    locator = at - _ZIP64_LOCATOR.size
    if (entries == 0xFFFF or directory_bytes == 0xFFFFFFFF or directory_offset == 0xFFFFFFFF) and locator >= 0 \
            and tail[locator:locator + 4] == b"PK\x06\x07":
        _sig, _disk, record_offset, _disks = _ZIP64_LOCATOR.unpack_from(tail, locator)
        handle.seek(record_offset)
        record = handle.read(_ZIP64_EOCD.size)
        if len(record) == _ZIP64_EOCD.size and record[:4] == b"PK\x06\x06":
            fields = _ZIP64_EOCD.unpack(record)
            entries, directory_bytes = fields[7], fields[8]
    return entries, directory_bytes


def check_budget(handle: BinaryIO, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_DIRECTORY_BYTES) -> None:
    claimed = claimed_directory(handle)
    handle.seek(0)
    if claimed is None:
        return
    entries, directory_bytes = claimed
    if entries > max_entries:
        raise OverBudget(f"the end of the central directory claims {entries} members, more than the {max_entries} listed; "
                         "the archive is not opened")
    if directory_bytes > max_bytes:
        raise OverBudget(f"the end of the central directory claims {directory_bytes} bytes of central directory, more than "
                         f"{max_bytes}; the archive is not opened")


def open_zip(path: str | os.PathLike, max_entries: int = MAX_ENTRIES) -> zipfile.ZipFile:
    """The archive, after its end record passed the budget (OverBudget, or one of OPEN_ERRORS)."""
    handle = open(os.fsdecode(path), "rb")
    archive = None
    try:
        check_budget(handle, max_entries)
        archive = zipfile.ZipFile(handle)
        return archive
    finally:
        if archive is None:  # refused or unreadable: the handle does not outlive the refusal
            handle.close()
