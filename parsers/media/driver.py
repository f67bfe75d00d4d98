"""Give one artefact to the reader that recognises its signature; a damaged file is a warning and a row."""

from __future__ import annotations

from dataclasses import dataclass, field

from manifests.records import MediaRecord
from parsers.media.base import MEDIA_ERRORS, MediaContext, MediaReader, MediaSource, MediaWarning
from parsers.media.registry import all_readers

HEAD_BYTES = 4096


@dataclass
class MediaResult:
    reader: MediaReader | None = None
    record: MediaRecord | None = None
    warnings: list[MediaWarning] = field(default_factory=list)


def recognise(head: bytes) -> tuple[MediaReader, str] | None:
    """The first reader (by name) that recognises the signature, and the container it names."""
    for reader in all_readers():
        container = reader.recognise(head)
        if container is not None:
            return reader, container
    return None


def read_media(source: MediaSource) -> MediaResult:
    """Metadata of one file, or an empty result when it is not a photo or video by signature."""
    result = MediaResult()
    try:
        head = source.read_at(0, HEAD_BYTES)
    except OSError as error:
        result.warnings.append(MediaWarning("media_unreadable", f"cannot read the first bytes: {error}", severity="error"))
        return result
    found = recognise(head)
    if found is None:
        return result
    reader, container = found
    result.reader = reader
    context = MediaContext()
    try:
        result.record = reader.read(source, container, context)
    except MEDIA_ERRORS as error:
        context.warn("malformed_media", f"{container} metadata could not be read: {type(error).__name__}: {error}")
        result.record = MediaRecord(container_format=container, flags=["metadata_unreadable"])
    result.warnings.extend(context.warnings)
    return result
