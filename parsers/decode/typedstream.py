"""The text of an NSAttributedString archived with NSArchiver (a "typedstream"), as Apple Messages stores it.

iOS/macOS Messages (sms.db / chat.db) keep a message's rich text in `message.attributedBody`; since
macOS Ventura / iOS 16 `message.text` is often NULL and this blob is the only copy of the text.

Format facts (NeXT/Apple typedstream, as described by dgelessus/python-typedstream's documentation
and the imessage-exporter project's notes; written here in our own words):
- Header: a streamer-version byte (4), then a length-prefixed signature `streamtyped` (11 bytes),
  then the system version as an integer (1000 on current systems).
- Integers: a byte 0x00..0x7F (or 0x92..0xFF, negative) is the value itself; 0x81 is followed by a
  little-endian int16, 0x82 by a little-endian int32.
- Tags: 0x84 "new" (a new shared string / class / object follows), 0x85 nil, 0x86 end of an object;
  a byte >= 0x92 refers back to an earlier shared item: index = byte - 0x92 (0x81/0x82 + index - 0x92
  for larger tables). Strings (type encodings, class names) and objects (instances, classes) have
  separate reference tables; an object is entered before its class is read.
- A top-level value is a type-encoding string ("@" = object) then the value. An object is
  0x84, its class (0x84, class-name string, version integer, superclass ... ending in nil or a
  reference), then its contents. NSAttributedString starts with its string as an "@" object;
  NSString / NSMutableString content is the type encoding "+" followed by a length and that many
  UTF-8 bytes.
Only this prefix is read: attribute runs after the string are not needed for the text.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from manifests.records import decode_text

SIGNATURE = b"streamtyped"
TAG_INT16, TAG_INT32, TAG_NEW, TAG_NIL, TAG_END = 0x81, 0x82, 0x84, 0x85, 0x86
FIRST_REFERENCE = 0x92
STRING_CLASSES = frozenset({"NSString", "NSMutableString"})
ATTRIBUTED_CLASSES = frozenset({"NSAttributedString", "NSMutableAttributedString"})


class TypedStreamError(ValueError):
    """The blob is not a typedstream, or not one holding an (attributed) string where expected."""


@dataclass
class _Reader:
    """A cursor over the blob with the two shared-item tables the format keeps."""

    data: bytes
    position: int = 0
    strings: list[bytes] = field(default_factory=list)
    objects: list[object] = field(default_factory=list)

    def byte(self) -> int:
        if self.position >= len(self.data):
            raise TypedStreamError(f"blob ends at byte {self.position}")
        value = self.data[self.position]
        self.position += 1
        return value

    def take(self, size: int) -> bytes:
        if size < 0 or self.position + size > len(self.data):
            raise TypedStreamError(f"{size} bytes wanted at {self.position}, blob is {len(self.data)} long")
        chunk = self.data[self.position:self.position + size]
        self.position += size
        return chunk

    def integer(self, first: int | None = None) -> int:
        """An encoded integer; `first` is its already-read head byte."""
        head = self.byte() if first is None else first
        if head == TAG_INT16:
            return struct.unpack("<h", self.take(2))[0]
        if head == TAG_INT32:
            return struct.unpack("<i", self.take(4))[0]
        if TAG_INT32 < head < FIRST_REFERENCE:
            raise TypedStreamError(f"tag 0x{head:02x} where an integer was expected at {self.position - 1}")
        return head - 256 if head >= 0x80 else head

    def reference(self, head: int) -> int:
        """The table index a reference tag (single byte, or 0x81/0x82 + integer) stands for."""
        if head in (TAG_INT16, TAG_INT32):
            return self.integer(head) - FIRST_REFERENCE
        return head - FIRST_REFERENCE

    def shared_string(self) -> bytes | None:
        head = self.byte()
        if head == TAG_NIL:
            return None
        if head == TAG_NEW:
            length = self.integer()
            value = self.take(length)
            self.strings.append(value)
            return value
        index = self.reference(head)
        if not 0 <= index < len(self.strings):
            raise TypedStreamError(f"string reference {index} out of range at {self.position}")
        return self.strings[index]

    def class_name(self) -> str | None:
        """Read a class chain; return the first (most derived) class name."""
        head = self.byte()
        if head == TAG_NIL:
            return None
        if head != TAG_NEW:
            index = self.reference(head)
            if not 0 <= index < len(self.objects):
                raise TypedStreamError(f"class reference {index} out of range at {self.position}")
            return str(self.objects[index])
        name_bytes = self.shared_string()
        if name_bytes is None:
            raise TypedStreamError("class without a name")
        name = name_bytes.decode("ascii", errors="backslashreplace")
        self.objects.append(name)
        self.integer()  # class version
        self.class_name()  # superclass chain, ends in nil or a reference
        return name


def _header(reader: _Reader) -> None:
    version = reader.byte()
    signature = reader.take(reader.integer())
    if signature != SIGNATURE:
        raise TypedStreamError(f"not a typedstream (version {version}, signature {signature[:16]!r})")
    reader.integer()  # system version


def _object_class(reader: _Reader, wanted: frozenset[str]) -> str:
    """Read a top-level "@" value up to its class; the class must be one of `wanted`."""
    encoding = reader.shared_string()
    if encoding != b"@":
        raise TypedStreamError(f"expected an object, found type encoding {encoding!r}")
    if reader.byte() != TAG_NEW:
        raise TypedStreamError("expected a new object")
    reader.objects.append("<object>")
    name = reader.class_name()
    if name not in wanted:
        raise TypedStreamError(f"expected one of {sorted(wanted)}, found class {name!r}")
    return name


def attributed_string_text(blob: bytes) -> str:
    """The string of an archived NSAttributedString (or a bare NSString) blob, exactly as stored.

    Raises TypedStreamError (a ValueError) when the blob is not such a typedstream.
    """
    reader = _Reader(bytes(blob))
    _header(reader)
    name = _object_class(reader, ATTRIBUTED_CLASSES | STRING_CLASSES)
    if name in ATTRIBUTED_CLASSES:
        _object_class(reader, STRING_CLASSES)
    encoding = reader.shared_string()
    if encoding != b"+":
        raise TypedStreamError(f"string content has type encoding {encoding!r}, not '+'")
    return decode_text(reader.take(reader.integer()))
