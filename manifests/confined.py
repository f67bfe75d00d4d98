"""Opening a file inside a folder without ever leaving it: no `..`, no absolute path, no symbolic link
at any level (each step is opened with O_NOFOLLOW relative to the folder before it), and only regular
files, so a hostile manifest or ledger cannot make a checker read (or hang on) anything outside.
"""

from __future__ import annotations

import errno
import hashlib
import os
import reprlib
import stat
from pathlib import Path

from manifests.files import CHUNK

_BRIEF = reprlib.Repr()
_BRIEF.maxstring = _BRIEF.maxother = 200


def brief(value: object) -> str:
    """repr() cut to a readable length: a hostile manifest's value may be megabytes long."""
    return _BRIEF.repr(value)


def short(value: object) -> str:
    """A value as a message shows it: a string of up to 200 characters as it is, anything else brief()."""
    return value if isinstance(value, str) and len(value) <= 200 else brief(value)


class Refused(Exception):
    """The file is outside the folder, a symbolic link, not a regular file, or cannot be opened."""


def name_problem(name: object) -> str | None:
    """Why `name` is not a plain file name directly inside a folder (None when it is one)."""
    if not isinstance(name, str) or not name:
        return f"name {brief(name)} is not a non-empty string"
    if "/" in name or "\0" in name or name in (".", ".."):
        return f"name {brief(name)} is not a plain file name inside the folder (a path, '..' or NUL); not opened"
    try:
        encoded = os.fsencode(name)
    except UnicodeEncodeError:
        return f"name {brief(name)} holds characters no file name can (a lone surrogate); not opened"
    if len(encoded) > 255:
        return f"name {brief(name)} is longer than any file name (255 bytes); not opened"
    return None


def _open_step(name: bytes, flags: int, dir_fd: int | None) -> int:
    try:
        return os.open(name, flags | os.O_NOFOLLOW | getattr(os, "O_NOATIME", 0), dir_fd=dir_fd)
    except PermissionError:
        return os.open(name, flags | os.O_NOFOLLOW, dir_fd=dir_fd)


def open_inside(folder: Path, parts: list[bytes]) -> int:
    """A read-only descriptor of the regular file folder/parts[0]/.../parts[-1]; Refused otherwise.

    `folder` itself is opened as named (the technician or checker chose it); nothing below it is followed.
    """
    if not parts or any(not p or b"/" in p or b"\0" in p or p in (b".", b"..") for p in parts):
        raise Refused(f"{parts!r} is not a path inside the folder")
    try:
        current = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise Refused(f"folder cannot be opened: {error.strerror or error}") from None
    try:
        for step in parts[:-1]:
            try:
                following = _open_step(step, os.O_RDONLY | os.O_DIRECTORY, current)
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise Refused(f"{os.fsdecode(step)!r} on the way is a symbolic link or not a folder; not followed") from None
                raise Refused(f"{os.fsdecode(step)!r} cannot be opened: {error.strerror or error}") from None
            os.close(current)
            current = following
        return _open_regular_at(parts[-1], current)
    finally:
        os.close(current)


def open_regular(path: str) -> int:
    """A read-only descriptor of the regular file at `path` (a path a manifest names); Refused for a symbolic
    link, a device, a FIFO or a socket, which are never read (a FIFO or /dev/zero would never end)."""
    try:
        name = os.fsencode(path)
    except UnicodeEncodeError:
        raise Refused(f"{brief(path)} is not a path a file can have (a lone surrogate); not opened") from None
    if not name or b"\0" in name:
        raise Refused(f"{brief(path)} is not a path a file can have (empty or NUL); not opened")
    return _open_regular_at(name, None)


def _open_regular_at(name: bytes, dir_fd: int | None) -> int:
    """Opened without blocking (a FIFO) or following a link, and kept only when fstat says it is a regular file."""
    try:
        descriptor = _open_step(name, os.O_RDONLY | os.O_NONBLOCK, dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise Refused("is a symbolic link; not followed") from None
        if error.errno == errno.ENOENT:
            raise Refused("missing") from None
        raise Refused(f"cannot be opened: {error.strerror or error}") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise Refused("is not a regular file; not read")
    return descriptor


def open_member(folder: Path, name: str, limit: int) -> int | None:
    """A descriptor of the regular file `name` directly in `folder` (None when absent); Refused for a link,
    a file over `limit` bytes, or anything else that is not a regular file."""
    try:
        info = os.lstat(folder / name)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise Refused(f"cannot be examined: {error.strerror or error}") from None
    if stat.S_ISLNK(info.st_mode):
        raise Refused("is a symbolic link; not followed")
    if info.st_size > limit:
        raise Refused(f"is {info.st_size} bytes, over the {limit}-byte limit")
    return open_inside(folder, [name.encode()])


def sha256_of(descriptor: int) -> tuple[str, int]:
    """SHA-256 (hex) and size of what the descriptor reads from its current position."""
    digest = hashlib.sha256()
    size = 0
    while data := os.read(descriptor, CHUNK):
        digest.update(data)
        size += len(data)
    return digest.hexdigest(), size
