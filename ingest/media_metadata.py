"""Media phase of the content pass: photos and videos (by libmagic's signature-based type) get their
metadata read in the same worker that hashed them, while their first blocks are still cached.

A type libmagic calls image/ or video/ that no reader knows still gets a media row (container from
the MIME type, reader "libmagic"), so "every photo and video has a row" holds.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Callable

from manifests.records import MediaRecord
from parsers.media.base import MediaSource
from parsers.media.driver import read_media
from parsers.media.registry import all_readers

MEDIA_PREFIXES = ("image/", "video/")


def is_media_type(mime: str | None) -> bool:
    return bool(mime) and mime.startswith(MEDIA_PREFIXES)


def extract(read: Callable[[int, int], bytes], size: int, mime: str, name: str) -> dict:
    """Media fields (a MediaRecord as a dict plus reader and warnings) for one hashed artefact."""
    result = read_media(MediaSource(read, size, name=name))
    if result.record is None:
        record = MediaRecord(container_format=mime.split("/", 1)[1].upper(), flags=["no_reader"])
        reader, version = "libmagic", "-"
    else:
        record = result.record
        reader, version = result.reader.name, result.reader.version
    fields = asdict(record)
    fields["flags"] = list(record.flags) or None
    return {"record": fields, "reader": reader, "reader_version": version,
            "warnings": [{"kind": w.kind, "message": w.message, "field": w.field, "severity": w.severity} for w in result.warnings]}


def reader_metadata() -> dict[str, str]:
    """Reader names and versions for the Parquet metadata of media.parquet."""
    return {f"exhibit.media_reader.{r.name}": r.version for r in all_readers()}
