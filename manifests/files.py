"""Reading a file for its hash without changing it: read-only, and with O_NOATIME where the system
allows it (the owner or root), so not even its access time moves. Used on evidence and on parts."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

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
