"""Read one artefact's content once: every configured hash and the libmagic type in the same pass.

A read that fails stops the hashes: they stay null and the error's kind and byte range are
recorded, because a hash over bytes we did not read (zero-filled) would be a false statement.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

from ingest.identify import Identifier, IdentifyError, extension_mismatch
from ingest.stopping import raise_if_stopped
from manifests.text import display_message

Reader = Callable[[int, int], bytes]


class ContentReadError(OSError):
    """A read failure that names its own kind and offset (a ZIP member's bad CRC is no I/O error)."""

    def __init__(self, kind: str, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.offset = offset


@dataclass(frozen=True)
class ContentSettings:
    algorithms: tuple[str, ...]
    chunk_size: int
    magic_bytes: int
    media: bool = True  # read photo and video metadata in the same pass


def describe(
    read: Reader,
    size: int,
    name: bytes,
    settings: ContentSettings,
    identifier: Identifier,
    read_errors: tuple[type[BaseException], ...],
) -> dict:
    """Hashes, type and read-error fields for the artefacts row of content of `size` bytes."""
    result: dict = {"content_status": "empty" if size == 0 else "hashed"}
    hashers = [hashlib.new(name_) for name_ in settings.algorithms]
    offset = 0
    head = b""
    while offset < size:
        want = min(settings.chunk_size, size - offset)
        try:
            data = read(offset, want)
        except read_errors as error:
            kind, at = "io_error", offset
            if isinstance(error, ContentReadError):
                kind, at = error.kind, offset if error.offset is None else error.offset
            return _failed(result, kind, at, size, str(error) or type(error).__name__, head, name, identifier)
        if len(data) != want:
            got = len(data)
            return _failed(result, "short_read", offset + got, size,
                           f"asked for {want} bytes at offset {offset}, got {got}", head + data[: max(0, settings.magic_bytes - len(head))], name, identifier)
        if len(head) < settings.magic_bytes:
            head += data[: settings.magic_bytes - len(head)]
        for hasher in hashers:
            hasher.update(data)
        offset += want
    for algorithm, hasher in zip(settings.algorithms, hashers, strict=True):
        result[algorithm] = hasher.hexdigest()
    _typed(result, head, name, identifier)
    return result


def _typed(result: dict, head: bytes, name: bytes, identifier: Identifier) -> None:
    try:
        mime, description = identifier.identify(head)
    except IdentifyError as error:
        # The hashes stand; only the type is missing, and errors.parquet says why.
        result["identify_error"] = display_message(str(error))
        return
    result["mime_type"] = mime
    result["magic_description"] = description
    result["is_extension_mismatch"] = extension_mismatch(name, mime)


def _failed(result: dict, kind: str, offset: int, size: int, message: str, head: bytes, name: bytes, identifier: Identifier) -> dict:
    raise_if_stopped()  # in-process (one worker) a stop inside TSK's read comes back as a read error
    result["content_status"] = "read_error"
    result["read_error_kind"] = kind
    result["read_error_offset"] = offset
    result["read_error_length"] = size - offset
    result["read_error_message"] = display_message(message)
    if head:
        _typed(result, head, name, identifier)
    return result
