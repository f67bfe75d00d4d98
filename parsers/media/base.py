"""What a media reader declares, what it is given, and where its warnings go.

A module defines one `MediaReader` subclass and binds an instance to `READER`. The registry finds
it; the driver gives each artefact to the one reader that recognises its signature (the first
bytes), never its name.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field
from typing import Callable, ClassVar

from manifests.records import MediaRecord

# What reading a damaged file may raise in our readers and in Pillow (which uses SyntaxError for
# some broken headers): the file gets a warning and a row with what was read, the run goes on.
MEDIA_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError, EOFError, KeyError, IndexError, TypeError, struct.error,
                                                 SyntaxError, ZeroDivisionError, OverflowError, UnicodeDecodeError, zlib.error,
                                                 RecursionError, MemoryError)


class MediaSource:
    """Random access to one artefact's content (inside an image, or a host file in tests)."""

    def __init__(self, read: Callable[[int, int], bytes], size: int, name: str = "") -> None:
        self._read = read
        self.size = size
        self.name = name

    def read_at(self, offset: int, size: int) -> bytes:
        """Up to `size` bytes at `offset` (fewer only at the end of the content)."""
        if offset >= self.size or size <= 0:
            return b""
        return self._read(offset, min(size, self.size - offset))

    def open(self) -> io.BufferedReader:
        """A seekable, read-only file object (for libraries such as Pillow)."""
        return io.BufferedReader(_RawSource(self), buffer_size=65536)


class _RawSource(io.RawIOBase):
    def __init__(self, source: MediaSource) -> None:
        self.source = source
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.source.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.source.read_at(self.position, len(buffer))
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


@dataclass(frozen=True)
class MediaWarning:
    kind: str
    message: str
    field: str | None = None
    severity: str = "warning"


@dataclass
class MediaContext:
    """Where a reader's warnings go (each becomes an errors.parquet row with the artefact's path)."""

    warnings: list[MediaWarning] = field(default_factory=list)

    def warn(self, kind: str, message: str, field: str | None = None, severity: str = "warning") -> None:
        self.warnings.append(MediaWarning(kind, message, field, severity))


class MediaReader:
    """A reader for one family of formats, chosen by signature."""

    name: ClassVar[str]
    version: ClassVar[str]
    formats: ClassVar[tuple[str, ...]]  # container_format values it can return

    def recognise(self, head: bytes) -> str | None:
        """The container format if `head` (the first 4096 bytes) is one of this reader's; else None."""
        raise NotImplementedError

    def read(self, source: MediaSource, container: str, context: MediaContext) -> MediaRecord:
        """Everything the file records; a field that cannot be read is a warning, the rest is returned."""
        raise NotImplementedError
