"""Shared by the media tests: read one file from the host the way ingest reads an artefact."""

from __future__ import annotations

from pathlib import Path

from parsers.artefact import close_host_source, host_media_source
from parsers.media.base import MediaSource
from parsers.media.driver import MediaResult, read_media


def read_file(path: Path) -> MediaResult:
    source = host_media_source(path)
    try:
        return read_media(source)
    finally:
        close_host_source(source)


def read_bytes(data: bytes, name: str = "synthetic") -> MediaResult:
    return read_media(MediaSource(lambda offset, size: data[offset:offset + size], len(data), name))
