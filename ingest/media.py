"""Hashes of the evidence itself: every container file before and after the run, and the media stream.

The before/after SHA-256 of the container files is the proof that ingest did not change the
evidence. The media hash (the decoded disk, e.g. the data inside an E01) is what acquisition
logs and E01 stored hashes describe; a read error leaves it null with the failed range recorded.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from dfvfs.lib import errors as dfvfs_errors
from dfvfs.resolver import resolver

from ingest.path_specs import deserialize
from manifests.files import open_read_only, sha256_and_size
from manifests.text import display

MEDIA_ALGORITHMS = ("md5", "sha1", "sha256")
CHUNK = 1 << 20
_READ_ERRORS = (OSError, IOError, dfvfs_errors.BackEndError, ValueError)


def sha256_files(paths: list[str]) -> list[tuple[str, int, str | None, str | None]]:
    """(path, size, sha256, error) per file."""
    out = []
    for path in paths:
        try:
            digest, size = sha256_and_size(path)
        except OSError as error:
            out.append((path, -1, None, str(error)))
            continue
        out.append((path, size, digest, None))
    return out


@dataclass
class MediaResult:
    size: int | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    read_errors: list[tuple[int, int]] = field(default_factory=list)
    error_message: str | None = None
    stored_hashes: dict[str, str] = field(default_factory=dict)
    checksum_errors: list[tuple[int, int]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    raw_file_sha256: tuple[str, int, str] | None = None


def hash_media(media_spec_json: str, ewf_segments: list[str] | None, raw_file: str | None) -> MediaResult:
    """MD5, SHA-1 and SHA-256 of the whole media stream; E01 through pyewf to get stored hashes and CRC errors."""
    if ewf_segments:
        return _hash_ewf(ewf_segments)
    if raw_file is not None:
        return _hash_raw_file(raw_file)
    result = MediaResult()
    try:
        file_object = resolver.Resolver.OpenFileObject(deserialize(media_spec_json))
        size = file_object.get_size()
    except _READ_ERRORS as error:
        result.error_message = f"media stream cannot be opened: {error}"
        return result
    result.size = size
    _hash_stream(lambda offset, length: _read_at(file_object, offset, length), size, result)
    return result


def _read_at(file_object, offset: int, length: int) -> bytes:
    file_object.seek(offset)
    return file_object.read(length)


def _hash_stream(read, size: int, result: MediaResult) -> None:
    hashers = {name: hashlib.new(name) for name in MEDIA_ALGORITHMS}
    offset = 0
    while offset < size:
        want = min(CHUNK, size - offset)
        try:
            data = read(offset, want)
        except _READ_ERRORS as error:
            result.read_errors.append((offset, size - offset))
            result.error_message = f"media read failed at byte {offset}: {error}"
            return
        if len(data) != want:
            result.read_errors.append((offset + len(data), size - offset - len(data)))
            result.error_message = f"media read at byte {offset} returned {len(data)} of {want} bytes"
            return
        for hasher in hashers.values():
            hasher.update(data)
        offset += want
    result.hashes = {name: hasher.hexdigest() for name, hasher in hashers.items()}


def _hash_raw_file(path: str) -> MediaResult:
    """A single raw file is its own media: one pass gives the media hashes and the file's SHA-256."""
    result = MediaResult()
    try:
        descriptor = open_read_only(path)
    except OSError as error:
        result.error_message = f"media file cannot be opened: {error}"
        return result
    try:
        size = os.fstat(descriptor).st_size
        result.size = size
        _hash_stream(lambda offset, length: os.pread(descriptor, length, offset), size, result)
    finally:
        os.close(descriptor)
    if "sha256" in result.hashes:
        result.raw_file_sha256 = (path, size, result.hashes["sha256"])
    return result


def _hash_ewf(segments: list[str]) -> MediaResult:
    import pyewf

    result = MediaResult()
    handle = pyewf.handle()
    try:
        handle.open(segments)
    except _READ_ERRORS as error:
        result.error_message = f"E01 cannot be opened: {error}"
        return result
    try:
        size = handle.get_media_size()
        result.size = size
        stored = {str(k).lower(): str(v).lower() for k, v in (handle.get_hash_values() or {}).items() if v}
        result.stored_hashes = {name: stored[key] for name, key in (("md5", "md5"), ("sha1", "sha1")) if key in stored}
        # Header values are free text typed at acquisition: escaped like any other display string.
        result.metadata = {display(str(k)): display(str(v)) for k, v in (handle.get_header_values() or {}).items() if v}

        def read(offset: int, length: int) -> bytes:
            return handle.read_buffer_at_offset(length, offset)

        _hash_stream(read, size, result)
    finally:
        handle.close()
    return result


def hash_media_items(items: list[tuple[str, list[str] | None, str | None]]) -> list[MediaResult]:
    """The media-hash task (`ingest.tasks`): each item (media path spec JSON, EWF segments, raw file)."""
    return [hash_media(spec, segments, raw_file) for spec, segments, raw_file in items]


def sha256_files_items(items: list[list[str]]) -> list[list[tuple[str, int, str | None, str | None]]]:
    """The container-files task (`ingest.tasks`): each item one list of files to hash together."""
    return [sha256_files(paths) for paths in items]
