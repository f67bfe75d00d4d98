"""Files, read and written safely.

Reading a file for its hash without changing it: read-only, and with O_NOATIME where the system
allows it (the owner or root), so not even its access time moves. Used on evidence and on parts.
Reading a small text file the user gives, with a budget (read_utf8). Writing an output whole or not at all (atomic_output), and syncing a folder after a rename (fsync_dir)."""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

CHUNK = 1 << 20


def open_read_only(path: str | Path) -> int:
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0))
    except PermissionError:
        return os.open(path, os.O_RDONLY)


def sha256_and_size(path: str | Path) -> tuple[str, int]:
    """SHA-256 (hex) and byte count of the file's content; OSError when it cannot be read."""
    descriptor = open_read_only(path)
    digest = hashlib.sha256()
    size = 0
    try:
        while data := os.read(descriptor, CHUNK):
            digest.update(data)
            size += len(data)
    finally:
        os.close(descriptor)
    return digest.hexdigest(), size


class FileTooLargeError(ValueError):
    """A file holds more bytes than the budget it is read with."""


def read_utf8(path: str | Path, limit: int) -> str:
    """The text of a small UTF-8 file given by the user (a byte-order mark dropped), never more than
    `limit` bytes read: OSError when it cannot be read, FileTooLargeError when it is larger than `limit`,
    UnicodeDecodeError when it is not UTF-8. The caller words each for its own file."""
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(f"{path}: larger than {limit} bytes")
    return data.decode("utf-8-sig")


@contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A binary handle on a hidden temporary file beside `path`; when the block ends normally the file is
    flushed, synced and renamed over `path`, so a reader sees the old file or the whole new one.

    If the block raises, the temporary file is removed and `path` is left as it was."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "xb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    """All of `data` as the file `path`, or the file as it was (atomic_output)."""
    with atomic_output(path) as handle:
        handle.write(data)


def fsync_file(path: Path) -> None:
    """A file written by path (a Parquet writer's, say) on stable storage."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    """The folder's entries (a rename or a new file in it) on stable storage."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
