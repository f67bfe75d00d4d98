"""Shared by the media tests: read one file from the host the way ingest reads an artefact."""

from __future__ import annotations

from datetime import datetime, timezone
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


def exiftool_time_ns(text: object) -> int | None:
    """exiftool's 'YYYY:MM:DD HH:MM:SS[+HH:MM]' as UTC ns (no offset: a QuickTime value, stored UTC).

    None for anything else, including exiftool's '0000:00:00 00:00:00' for a zero time.
    """
    if not isinstance(text, str):
        return None
    for layout in ("%Y:%m:%d %H:%M:%S%z", "%Y:%m:%d %H:%M:%S"):
        try:
            moment = datetime.strptime(text, layout)
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return int(moment.timestamp()) * 1_000_000_000
    return None
