"""File type by signature (libmagic) and the check that a name's extension does not contradict it.

A disguised file (a photo named `.txt`, an archive named `.jpg`) is exactly what an examiner
needs flagged; an extension we hold no opinion on yields null, not False.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict

import magic

# Extensions whose content has a reliable signature, and the MIME types libmagic gives for it.
_EXPECTED: dict[str, frozenset[str]] = {}


def _expect(extensions: str, mimes: str) -> None:
    for extension in extensions.split():
        _EXPECTED[extension] = frozenset(mimes.split())


_ZIP_FAMILY = "application/zip application/java-archive application/vnd.android.package-archive application/x-zip-compressed " \
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document " \
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet " \
    "application/vnd.openxmlformats-officedocument.presentationml.presentation application/epub+zip " \
    "application/vnd.oasis.opendocument.text application/vnd.oasis.opendocument.spreadsheet application/octet-stream"
_expect("jpg jpeg jpe jfif", "image/jpeg")
_expect("png", "image/png")
_expect("gif", "image/gif")
_expect("bmp", "image/bmp image/x-ms-bmp")
_expect("webp", "image/webp")
_expect("tif tiff", "image/tiff")
_expect("heic heif", "image/heic image/heif image/heic-sequence image/heif-sequence")
_expect("avif", "image/avif")
_expect("pdf", "application/pdf")
_expect("zip docx xlsx pptx apk jar odt ods epub", _ZIP_FAMILY)
_expect("gz tgz", "application/gzip application/x-gzip")
_expect("7z", "application/x-7z-compressed")
_expect("rar", "application/x-rar application/vnd.rar application/x-rar-compressed")
_expect("mp4 m4v m4a", "video/mp4 audio/mp4 video/quicktime audio/x-m4a video/x-m4v")
_expect("mov qt", "video/quicktime video/mp4")
_expect("3gp", "video/3gpp audio/3gpp video/mp4")
_expect("avi", "video/x-msvideo")
_expect("mkv webm", "video/x-matroska video/webm audio/x-matroska")
_expect("mp3", "audio/mpeg")
_expect("sqlite sqlite3 db", "application/vnd.sqlite3 application/x-sqlite3 application/octet-stream")
_expect("exe dll sys", "application/x-dosexec application/vnd.microsoft.portable-executable")
# Text-only names: binary media or archive content under them is a disguise.
_TEXT_EXTENSIONS = frozenset("txt log csv md ini cfg conf json xml html htm".split())
_BINARY_FAMILIES = ("image/", "video/", "audio/")
_BINARY_TYPES = frozenset(
    "application/zip application/pdf application/x-dosexec application/vnd.sqlite3 application/x-sqlite3 application/gzip "
    "application/x-7z-compressed application/x-rar application/x-executable application/x-sharedlib".split()
)


IdentifyError = magic.MagicException


class Identifier:
    """libmagic handles for MIME type and description, created once per process (they are costly).

    libmagic's answer for a buffer depends on the buffer alone, so answers are remembered by the
    SHA-1 of the bytes examined: identical heads (copies, empty-ish files, common headers) cost
    one lookup instead of two libmagic calls (about 0.6 ms each here). Nothing else is cached:
    the same description does not always come with the same MIME type.
    """

    CACHE_ENTRIES = 65536

    def __init__(self) -> None:
        self._mime = magic.Magic(mime=True)
        self._description = magic.Magic()
        self._cache: OrderedDict[bytes, tuple[str, str]] = OrderedDict()

    def identify(self, head: bytes) -> tuple[str, str]:
        if not head:
            return "application/x-empty", "empty"
        key = hashlib.sha1(head).digest()
        known = self._cache.get(key)
        if known is not None:
            self._cache.move_to_end(key)
            return known
        answer = (self._mime.from_buffer(head), self._description.from_buffer(head))
        self._cache[key] = answer
        if len(self._cache) > self.CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return answer


def extension_mismatch(name: bytes, mime_type: str | None) -> bool | None:
    """True when the extension's expected types exclude the signature's; None when we cannot tell."""
    if mime_type is None or mime_type in ("application/x-empty", "inode/x-empty"):
        return None
    stem, extension = os.path.splitext(name.decode("utf-8", errors="surrogateescape"))
    extension = extension[1:].lower()
    if not stem or not extension:
        return None
    if extension in _TEXT_EXTENSIONS:
        return mime_type.startswith(_BINARY_FAMILIES) or mime_type in _BINARY_TYPES
    expected = _EXPECTED.get(extension)
    if expected is None:
        return None
    return mime_type not in expected
