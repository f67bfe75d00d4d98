"""Camera makers' private EXIF directories (MakerNote, tag 0x927C): the serial numbers and Apple's ids.

Not a reader (no READER): `apply_exif` calls `apply_maker_note` for every EXIF block. A maker note
is an undocumented TIFF directory whose layout depends on the maker: where its IFD starts and
whether its value offsets count from the maker note's own start or from the TIFF header. The
layouts below are facts from exiftool's tag documentation (Canon, Nikon, Olympus, Panasonic,
FujiFilm, Motorola, Apple Tags pages) and each was checked on a real file of the corpus where
one exists (exiftool agrees on every one: tests/media/test_exiftool_oracle.py):

| header (first bytes)          | IFD at | offsets from   | tags read                                      |
|-------------------------------|--------|----------------|------------------------------------------------|
| (Make "Canon", no header)     | 0      | TIFF header    | 0x000C SerialNumber (LONG), 0x0096 InternalSerialNumber, 0x0028 ImageUniqueID (16 bytes, as hex) |
| `Nikon\\0\\x02` (type 3)        | 18     | own TIFF header at 10 | 0x001D SerialNumber, else 0x00A0 SerialNumber |
| `OLYMPUS\\0` + byte order      | 12     | maker note     | 0x2010 Equipment IFD: 0x0101 SerialNumber, 0x0102 InternalSerialNumber |
| `OM SYSTEM\\0\\0\\0` + byte order | 16   | maker note     | as OLYMPUS                                     |
| `OLYMP\\0` (older)             | 8      | TIFF header    | 0x0404 SerialNumber; 0x2010 Equipment as above |
| `Panasonic\\0\\0\\0`             | 12     | TIFF header    | 0x0025 InternalSerialNumber (16 bytes, NULs in front) |
| `FUJIFILM` + LE IFD offset    | that   | maker note (always little-endian) | 0x0010 InternalSerialNumber |
| `MOT\\0` + 4 bytes (Motorola)  | 8      | maker note     | 0x5501 SerialNumber                            |
| `Ricoh` + 3 bytes not all NUL (Make RICOH) | 8 | TIFF header | 0x0005 InternalSerialNumber (16 bytes, as hex) |
| `Apple iOS\\0` + version + order | 14   | maker note     | 0x0011 content identifier (Live Photo link), 0x0015 ImageUniqueID |

Order of preference for `body_serial` (`body_serial_source` names the one used): EXIF
BodySerialNumber, DNG CameraSerialNumber, the maker's serial tag, the maker's "internal" serial (a
board or production number, exiftool's InternalSerialNumber), and last XMP (aux:SerialNumber,
exifEX:BodySerialNumber), since XMP is text that editing software writes and rewrites.
`image_unique_id` is EXIF ImageUniqueID, else the maker note's (Apple 0x0015, Canon 0x0028; CR3
keeps its Canon note in the CMT3 box, read with `apply_canon_block`). Sony (enciphered), Pentax,
Samsung and Kodak maker notes, and Ricoh's other layouts (text notes, "RICOH\\0II"), are not read.
A maker note that cannot be read is a `makernote_unreadable` warning; the EXIF fields stand.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import IO, Any, Callable

from manifests.records import MediaRecord
from parsers.media.base import MEDIA_ERRORS, MediaContext

EXIF_IFD = 0x8769
MAKER_NOTE = 0x927C
MAX_ENTRIES = 2048  # a real maker note IFD has a few hundred entries at most
MAX_VALUE = 1 << 16  # no serial or identifier is longer

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}

Read = Callable[[int, int], bytes]


class MakerNoteError(ValueError):
    """A maker note (or the EXIF around it) that does not have the layout its header promises."""


@dataclass(frozen=True)
class _Entry:
    kind: int
    count: int
    field: bytes  # the 4-byte value field as stored
    order: str

    def size(self) -> int:
        return _TYPE_SIZES.get(self.kind, 1) * self.count

    def pointer(self) -> int:
        return struct.unpack(self.order + "I", self.field)[0]


class _Directory:
    """One IFD: tag -> entry, and the values it points to, read through `read` from `base`."""

    def __init__(self, read: Read, order: str, offset: int, base: int) -> None:
        self.read, self.order, self.base = read, order, base
        head = read(offset, 2)
        if len(head) < 2:
            raise MakerNoteError(f"IFD at {offset} is past the end")
        count = struct.unpack(order + "H", head)[0]
        if not 0 < count <= MAX_ENTRIES:
            raise MakerNoteError(f"IFD at {offset} claims {count} entries")
        table = read(offset + 2, 12 * count)
        if len(table) < 12 * count:
            raise MakerNoteError(f"IFD at {offset} is cut short ({len(table)} of {12 * count} bytes)")
        self.entries: dict[int, _Entry] = {}
        for index in range(count):
            tag, kind, number = struct.unpack(order + "HHI", table[12 * index:12 * index + 8])
            self.entries.setdefault(tag, _Entry(kind, number, table[12 * index + 8:12 * index + 12], order))

    def raw(self, tag: int) -> bytes | None:
        entry = self.entries.get(tag)
        if entry is None:
            return None
        size = entry.size()
        if size <= 4:
            return entry.field[:size]
        if size > MAX_VALUE:
            raise MakerNoteError(f"tag 0x{tag:04X} claims {size} bytes")
        data = self.read(self.base + entry.pointer(), size)
        if len(data) < size:
            raise MakerNoteError(f"tag 0x{tag:04X} value runs past the end")
        return data

    def text(self, tag: int, leading_nuls: bool = False) -> str | None:
        """An ASCII/UNDEFINED value cut at its first NUL (after any leading NULs, where a maker pads
        in front), or a LONG/SHORT number as decimal digits."""
        entry = self.entries.get(tag)
        if entry is None:
            return None
        data = self.raw(tag)
        assert data is not None
        if entry.kind in (3, 4) and entry.count == 1:
            return str(struct.unpack(self.order + ("H" if entry.kind == 3 else "I"), data)[0])
        value = (data.lstrip(b"\0") if leading_nuls else data).split(b"\0", 1)[0]
        if not value.strip(b" "):
            return None
        return value.decode("utf-8", "surrogateescape")

    def sub_directory(self, tag: int) -> "_Directory | None":
        entry = self.entries.get(tag)
        if entry is None:
            return None
        # Olympus stores sub-IFDs as type IFD/LONG (the value is the offset) or as UNDEFINED data
        # whose value field points at the IFD: either way the field is the IFD's offset.
        return _Directory(self.read, self.order, self.base + entry.pointer(), self.base)


@dataclass(frozen=True)
class _Found:
    serial: str | None = None
    serial_source: str | None = None
    internal_serial: str | None = None
    internal_source: str | None = None
    content_identifier: str | None = None
    image_unique_id: str | None = None


def locate_maker_note(fp: IO[bytes], ifd0_exif_pointer: int, order: str) -> tuple[int, int] | None:
    """(offset, length) of the MakerNote value inside the TIFF block `fp` (offset 0 = TIFF header)."""
    def read(offset: int, size: int) -> bytes:
        fp.seek(offset)
        return fp.read(size)

    directory = _Directory(read, order, ifd0_exif_pointer, 0)
    entry = directory.entries.get(MAKER_NOTE)
    if entry is None:
        return None
    if entry.size() <= 4:
        raise MakerNoteError("MakerNote is shorter than any maker's header")
    return entry.pointer(), entry.size()


def _canon(note: bytes, at: int, block: Read, order: str) -> _Found:
    return _canon_tags(_Directory(block, order, at, 0))


def _canon_tags(directory: _Directory) -> _Found:
    serial = directory.text(0x000C)
    unique = directory.raw(0x0028)
    return _Found(serial=serial, serial_source="makernote_canon" if serial else None,
                  internal_serial=directory.text(0x0096), internal_source="makernote_canon_internal",
                  image_unique_id=unique.hex() if unique and unique.strip(b"\0") else None)


def _nikon(note: bytes, at: int, block: Read, order: str) -> _Found:
    inner = note[10:12]
    if inner not in (b"II", b"MM"):
        raise MakerNoteError(f"Nikon maker note has no TIFF header (byte order {inner!r})")
    inner_order = "<" if inner == b"II" else ">"
    first = struct.unpack(inner_order + "I", note[14:18])[0]
    directory = _Directory(_reader(note, 10), inner_order, first, 0)
    serial = directory.text(0x001D) or directory.text(0x00A0)  # 0x00A0 in older bodies (D70s)
    return _Found(serial=serial, serial_source="makernote_nikon" if serial else None)


def _olympus(note: bytes, at: int, block: Read, order: str, header: int) -> _Found:
    mark = note[header - 4:header - 2]
    if mark not in (b"II", b"MM"):
        raise MakerNoteError(f"Olympus maker note byte order {mark!r} is unknown")
    directory = _Directory(_reader(note, 0), "<" if mark == b"II" else ">", header, 0)
    return _olympus_tags(directory)


def _olympus_old(note: bytes, at: int, block: Read, order: str) -> _Found:
    return _olympus_tags(_Directory(block, order, at + 8, 0))


def _olympus_tags(directory: _Directory) -> _Found:
    serial = directory.text(0x0404)
    internal = None
    equipment = directory.sub_directory(0x2010)
    if equipment is not None:
        serial = serial or equipment.text(0x0101)
        internal = equipment.text(0x0102)
    return _Found(serial=serial, serial_source="makernote_olympus" if serial else None,
                  internal_serial=internal, internal_source="makernote_olympus_internal")


def _panasonic(note: bytes, at: int, block: Read, order: str) -> _Found:
    directory = _Directory(block, order, at + 12, 0)
    return _Found(internal_serial=directory.text(0x0025, leading_nuls=True), internal_source="makernote_panasonic_internal")


def _fujifilm(note: bytes, at: int, block: Read, order: str) -> _Found:
    first = struct.unpack("<I", note[8:12])[0]
    directory = _Directory(_reader(note, 0), "<", first, 0)
    return _Found(internal_serial=directory.text(0x0010), internal_source="makernote_fujifilm_internal")


def _ricoh(note: bytes, at: int, block: Read, order: str) -> _Found:
    directory = _Directory(block, order, at + 8, 0)
    internal = directory.raw(0x0005)
    return _Found(internal_serial=internal.hex() if internal and internal.strip(b"\0") else None,
                  internal_source="makernote_ricoh_internal")


def _motorola(note: bytes, at: int, block: Read, order: str) -> _Found:
    directory = _Directory(_reader(note, 0), order, 8, 0)
    serial = directory.text(0x5501)
    return _Found(serial=serial, serial_source="makernote_motorola" if serial else None)


def _apple(note: bytes, at: int, block: Read, order: str) -> _Found:
    mark = note[12:14]
    if mark not in (b"II", b"MM"):
        raise MakerNoteError(f"Apple maker note byte order {mark!r} is unknown")
    directory = _Directory(_reader(note, 0), "<" if mark == b"II" else ">", 14, 0)
    return _Found(content_identifier=directory.text(0x0011), image_unique_id=directory.text(0x0015))


def _reader(data: bytes, shift: int) -> Read:
    return lambda offset, size: data[shift + offset:shift + offset + size] if offset >= 0 else b""


def _layout(note: bytes, make: str | None) -> Callable[[bytes, int, Read, str], _Found] | None:
    if note.startswith(b"Apple iOS\0"):
        return _apple
    if note.startswith(b"Nikon\0\x02"):
        return _nikon
    if note.startswith(b"OLYMPUS\0"):
        return lambda n, a, b, o: _olympus(n, a, b, o, 12)
    if note.startswith(b"OM SYSTEM\0\0\0"):
        return lambda n, a, b, o: _olympus(n, a, b, o, 16)
    if note.startswith(b"OLYMP\0"):
        return _olympus_old
    if note.startswith(b"Panasonic\0\0\0"):
        return _panasonic
    if note.startswith(b"FUJIFILM"):
        return _fujifilm
    if note.startswith(b"MOT\0"):
        return _motorola
    if note.startswith(b"Ricoh") and note[5:8] != b"\0\0\0" and make is not None and make.upper().startswith("RICOH"):
        return _ricoh
    if make is not None and make.startswith("Canon"):
        return _canon
    return None


def apply_maker_note(record: MediaRecord, exif: Any, ifd0: dict[int, Any], exif_ifd: dict[int, Any],
                     context: MediaContext) -> None:
    """Body serial (and its source), image unique id and Apple's content identifier from the maker
    note, where the record has none yet; never raises for a damaged note."""
    note = exif_ifd.get(MAKER_NOTE)
    pointer = ifd0.get(EXIF_IFD)
    fp = getattr(exif, "fp", None)
    if not isinstance(note, bytes) or not isinstance(pointer, int) or fp is None:
        return
    layout = _layout(note, record.make)
    if layout is None:
        return
    order = "<" if getattr(exif, "endian", "<") == "<" else ">"
    try:
        located = locate_maker_note(fp, pointer, order)
        if located is None:
            return
        at, length = located
        fp.seek(at)
        if fp.read(length) != note:
            raise MakerNoteError("MakerNote bytes are not where the Exif IFD says")

        def block(offset: int, size: int) -> bytes:
            if offset < 0:
                return b""
            fp.seek(offset)
            return fp.read(size)

        found = layout(note, at, block, order)
    except (MakerNoteError, *MEDIA_ERRORS, struct.error) as error:
        context.warn("makernote_unreadable", f"maker note ({note[:12]!r}) unreadable: {type(error).__name__}: {error}",
                     field="body_serial")
        return
    _apply_found(found, record)


def apply_canon_block(block: bytes, record: MediaRecord, context: MediaContext) -> None:
    """CR3's CMT3 box: the Canon maker note as a TIFF block of its own (IFD0 = the note's IFD)."""
    try:
        if block[:4] not in (b"II*\0", b"MM\0*"):
            raise MakerNoteError(f"CMT3 has no TIFF header ({block[:4]!r})")
        order = "<" if block[:2] == b"II" else ">"
        first = struct.unpack(order + "I", block[4:8])[0]
        found = _canon_tags(_Directory(_reader(block, 0), order, first, 0))
    except (MakerNoteError, struct.error) as error:
        context.warn("makernote_unreadable", f"Canon CMT3 maker note unreadable: {error}", field="body_serial")
        return
    _apply_found(found, record)


def _apply_found(found: _Found, record: MediaRecord) -> None:
    if found.content_identifier and record.content_identifier is None:
        record.content_identifier = found.content_identifier
    if found.image_unique_id and record.image_unique_id is None:
        record.image_unique_id = found.image_unique_id
    if record.body_serial is None and found.serial:
        record.body_serial, record.body_serial_source = found.serial, found.serial_source
    elif record.body_serial is None and found.internal_serial:
        record.body_serial, record.body_serial_source = found.internal_serial, found.internal_source
