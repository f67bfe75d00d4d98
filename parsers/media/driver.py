"""Give one artefact to the reader that recognises its signature; a damaged file is a warning and a row.

Here is the one boundary where one artefact meets one media reader: whatever a reader raises
(a damaged file it does not anticipate, or a bug) becomes a `parser_failed` warning on that file,
which still gets its media row, and the run goes on.
"""

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


def recognise(head: bytes, context: MediaContext | None = None) -> tuple[MediaReader, str] | None:
    """The first reader (by name) that recognises the signature, and the container it names.

    A reader that raises while looking is a `parser_failed` warning in `context` and the next reader looks.
    """
    for reader in all_readers():
        try:
            container = reader.recognise(head)
        except Exception as error:  # the boundary: one artefact meets one reader; anything it raises is a row
            if context is not None:
                context.warn("parser_failed", f"reader {reader.name} (version {reader.version}) failed recognising the signature: {type(error).__name__}: {error}",
                             severity="error")
            continue
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
    context = MediaContext()
    found = recognise(head, context)
    if found is None:
        result.warnings.extend(context.warnings)
        return result
    reader, container = found
    result.reader = reader
    try:
        result.record = reader.read(source, container, context)
    except MEDIA_ERRORS as error:
        context.warn("malformed_media", f"{container} metadata could not be read: {type(error).__name__}: {error}")
        result.record = MediaRecord(container_format=container, flags=["metadata_unreadable"])
    except Exception as error:  # the boundary: one artefact meets one reader; anything it raises is a row
        context.warn("parser_failed", f"reader {reader.name} (version {reader.version}) failed on this {container}: {type(error).__name__}: {error}", severity="error")
        result.record = MediaRecord(container_format=container, flags=["metadata_unreadable"])
    result.warnings.extend(context.warnings)
    return result
