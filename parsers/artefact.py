"""What a parser is given: one artefact's bytes and a way to find its neighbours.

Ingest passes artefacts read from inside an image; tests and folder sources pass files on the host
(`HostArtefact`, always opened read-only). Parsers never see dfVFS or a volume.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Protocol

from manifests.files import open_read_only
from manifests.text import display


class Artefact(Protocol):
    """A file of the exhibit: its path (exact bytes), hash, and its content on demand."""

    path_bytes: bytes
    sha256: str | None
    entry_index: int | None

    @property
    def path(self) -> str: ...

    def copy_to(self, destination: Path) -> None:
        """Write the exact content to `destination` (a scratch file, never the evidence)."""

    def read_head(self, size: int) -> bytes:
        """The first `size` bytes (fewer if the file is shorter)."""


@dataclass
class HostArtefact:
    """A file on the host read through a read-only descriptor (tests, folder sources)."""

    host_path: Path
    path_bytes: bytes = b""
    sha256: str | None = None
    entry_index: int | None = None

    def __post_init__(self) -> None:
        if not self.path_bytes:
            self.path_bytes = os.fsencode(self.host_path)

    @property
    def path(self) -> str:
        return display(self.path_bytes) or ""

    def copy_to(self, destination: Path) -> None:
        descriptor = open_read_only(self.host_path)
        with os.fdopen(descriptor, "rb") as source, open(destination, "xb") as target:
            shutil.copyfileobj(source, target, 1 << 20)

    def read_head(self, size: int) -> bytes:
        descriptor = open_read_only(self.host_path)
        with os.fdopen(descriptor, "rb") as source:
            return source.read(size)


@dataclass
class Catalog:
    """The exhibit's candidate artefacts (databases, exports, their -wal/-journal siblings), by path."""

    by_path: dict[bytes, Artefact] = field(default_factory=dict)

    def add(self, artefact: Artefact) -> None:
        self.by_path[artefact.path_bytes] = artefact

    @classmethod
    def of(cls, artefacts: Iterable[Artefact]) -> "Catalog":
        catalog = cls()
        for artefact in artefacts:
            catalog.add(artefact)
        return catalog

    def sibling(self, artefact: Artefact, suffix: bytes) -> Artefact | None:
        """The file named like `artefact` plus `suffix` in the same folder (b"-wal", b"-journal")."""
        return self.by_path.get(artefact.path_bytes + suffix)

    def find(self, pattern: str, near: Artefact | None = None) -> list[Artefact]:
        """Artefacts whose path matches the glob `pattern` (case-insensitive), nearest to `near` first.

        Nearest means the longest common folder prefix, so a companion database (WhatsApp's wa.db
        beside msgstore.db) is taken from the same app folder when an image holds several.
        """
        wanted = pattern.lower()
        found = [a for a in self.by_path.values() if fnmatch.fnmatchcase(a.path_bytes.decode("utf-8", "surrogateescape").lower(), wanted)]

        def distance(candidate: Artefact) -> tuple[int, bytes]:
            if near is None:
                return (0, candidate.path_bytes)
            common = os.path.commonprefix([candidate.path_bytes, near.path_bytes])
            return (-len(common), candidate.path_bytes)

        return sorted(found, key=distance)


def host_media_source(path: Path):
    """A MediaSource over a host file opened read-only (tests, benchmarks)."""
    from parsers.media.base import MediaSource

    descriptor = open_read_only(path)
    size = os.fstat(descriptor).st_size

    def read(offset: int, length: int) -> bytes:
        return os.pread(descriptor, length, offset)

    source = MediaSource(read, size, name=str(path))
    source.descriptor = descriptor  # type: ignore[attr-defined]  # closed by close_host_source
    return source


def close_host_source(source: object) -> None:
    descriptor = getattr(source, "descriptor", None)
    if descriptor is not None:
        os.close(descriptor)
