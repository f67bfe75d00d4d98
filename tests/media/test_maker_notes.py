"""parsers.media.maker_notes: serials and Apple's content identifier from makers' private directories.

Real files cover the layouts the corpus has (Canon, Olympus, Panasonic, Motorola, Nikon, Apple: see
test_still_images' exiftool agreement and the cases below); the others are built here byte by
byte from the layout facts in the module docstring, in both byte orders where the maker allows it.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

from PIL import Image

from manifests.records import MediaRecord
from parsers.media.base import MediaContext
from parsers.media.exif import exif_from_tiff_bytes
from parsers.media.maker_notes import apply_maker_note
from tests.corpus import require_corpus
from tests.media.helpers import read_bytes, read_file
from tests.media.test_exif import ASCII, UNDEFINED, ascii_, build_tiff, read

MAKE = 0x010F
MAKER_NOTE = 0x927C


def _ifd(entries: list[tuple[int, int, bytes]], order: str, start: int, base: int = 0) -> bytes:
    """An IFD placed at `start` (counted from `base`'s origin) with its long values right after it."""
    head = struct.pack(order + "H", len(entries))
    data_at = start + 2 + 12 * len(entries) + 4
    table, data = b"", b""
    for tag, kind, value in sorted(entries):
        size = len(value) if kind in (ASCII, UNDEFINED) else 4
        count = len(value) if kind in (ASCII, UNDEFINED) else 1
        if size <= 4:
            table += struct.pack(order + "HHI", tag, kind, count) + value.ljust(4, b"\0")
        else:
            table += struct.pack(order + "HHI", tag, kind, count) + struct.pack(order + "I", base + data_at + len(data))
            data += value
    return head + table + b"\0\0\0\0" + data


def _read_with_note(note: bytes, make: bytes, order: str = "<") -> tuple[MediaRecord, MediaContext]:
    return read(build_tiff(ifd0=[(MAKE, ASCII, ascii_(make))], exif=[(MAKER_NOTE, UNDEFINED, note)], order=order))


def test_nikon_type3_serial_with_its_own_tiff_header() -> None:
    for order, mark in (("<", b"II*\0"), (">", b"MM\0*")):
        inner = _ifd([(0x001D, ASCII, ascii_(b"3012345"))], order, 8)
        note = b"Nikon\0\x02\x10\0\0" + mark + struct.pack(order + "I", 8) + inner
        record, context = _read_with_note(note, b"NIKON CORPORATION", "<")
        assert context.warnings == []
        assert (record.body_serial, record.body_serial_source) == ("3012345", "makernote_nikon")


def test_olympus_equipment_serial_and_internal_serial() -> None:
    for order, mark in (("<", b"II"), (">", b"MM")):
        # Main IFD at 12 with one entry (0x2010, an IFD pointer) then the Equipment IFD right after.
        equipment_at = 12 + 2 + 12 + 4
        main = struct.pack(order + "H", 1) + struct.pack(order + "HHII", 0x2010, 13, 1, equipment_at) + b"\0\0\0\0"
        note = b"OLYMPUS\0" + mark + b"\x03\0" + main + _ifd([(0x0101, ASCII, ascii_(b"BHP123456")),
                                                              (0x0102, ASCII, ascii_(b"4100912002130001"))], order, equipment_at)
        record, context = _read_with_note(note, b"OLYMPUS IMAGING CORP.", order)
        assert context.warnings == []
        assert (record.body_serial, record.body_serial_source) == ("BHP123456", "makernote_olympus")


def test_om_system_header_and_internal_serial_used_when_no_body_serial() -> None:
    equipment_at = 16 + 2 + 12 + 4
    main = struct.pack("<H", 1) + struct.pack("<HHII", 0x2010, 13, 1, equipment_at) + b"\0\0\0\0"
    note = b"OM SYSTEM\0\0\0II\x04\0" + main + _ifd([(0x0102, ASCII, ascii_(b"4100912002130001"))], "<", equipment_at)
    record, context = _read_with_note(note, b"OM Digital Solutions")
    assert context.warnings == []
    assert (record.body_serial, record.body_serial_source) == ("4100912002130001", "makernote_olympus_internal")


def test_older_olympus_offsets_count_from_the_tiff_header() -> None:
    """'OLYMP\\0': the IFD at 8 and long values at offsets from the TIFF header, so the note is built
    for the place build_tiff puts it (found with a first build of the same size)."""
    def note_at(position: int) -> bytes:
        return b"OLYMP\0\x01\0" + _ifd([(0x0404, ASCII, ascii_(b"E1-20551234"))], "<", 8, base=position)

    probe = note_at(0)
    first = build_tiff(ifd0=[(MAKE, ASCII, ascii_(b"OLYMPUS"))], exif=[(MAKER_NOTE, UNDEFINED, probe)])
    position = first.index(probe)
    record, context = _read_with_note(note_at(position), b"OLYMPUS")
    assert context.warnings == []
    assert (record.body_serial, record.body_serial_source) == ("E1-20551234", "makernote_olympus")


def test_fujifilm_internal_serial_is_always_little_endian() -> None:
    note = b"FUJIFILM" + struct.pack("<I", 12) + _ifd([(0x0010, ASCII, ascii_(b"FC  A1234567     593331323133"))], "<", 12)
    for order in ("<", ">"):
        record, context = _read_with_note(note, b"FUJIFILM", order)
        assert context.warnings == []
        assert (record.body_serial, record.body_serial_source) == ("FC  A1234567     593331323133", "makernote_fujifilm_internal")


def test_apple_content_identifier_and_image_unique_id_in_a_jpeg_exif_block() -> None:
    note = b"Apple iOS\0\0\x01MM" + _ifd([(0x0011, ASCII, ascii_(b"570F1469-09C7-4E50-9875-05F21D5BD166")),
                                           (0x0015, ASCII, ascii_(b"9B4585D7-AE5A-4679-B098-C883D2289C22"))], ">", 14)
    record, context = _read_with_note(note, b"Apple")
    assert context.warnings == []
    assert (record.content_identifier, record.image_unique_id, record.body_serial) == (
        "570F1469-09C7-4E50-9875-05F21D5BD166", "9B4585D7-AE5A-4679-B098-C883D2289C22", None)


def test_exif_image_unique_id_wins_over_apples() -> None:
    note = b"Apple iOS\0\0\x01MM" + _ifd([(0x0015, ASCII, ascii_(b"FROM-THE-NOTE"))], ">", 14)
    record, context = read(build_tiff(ifd0=[(MAKE, ASCII, ascii_(b"Apple"))],
                                      exif=[(0xA420, ASCII, ascii_(b"F16QLHF01VB")), (MAKER_NOTE, UNDEFINED, note)]))
    assert (record.image_unique_id, context.warnings) == ("F16QLHF01VB", [])


def test_canon_serial_internal_serial_and_image_unique_id() -> None:
    """Canon's note has no header and counts offsets from the TIFF header: built for its place."""
    unique = bytes.fromhex("48bd7700e1c1456a988ebe0df2ca4002")

    def note_at(position: int, serial: bool) -> bytes:
        entries = [(0x0096, ASCII, ascii_(b"KQ0077032")), (0x0028, UNDEFINED, unique)]
        if serial:
            entries.append((0x000C, 4, struct.pack("<I", 560018150)))
        return _ifd(entries, "<", 0, base=position)

    for serial, expected in ((True, ("560018150", "makernote_canon")), (False, ("KQ0077032", "makernote_canon_internal"))):
        probe = note_at(0, serial)
        position = build_tiff(ifd0=[(MAKE, ASCII, ascii_(b"Canon"))], exif=[(MAKER_NOTE, UNDEFINED, probe)]).index(probe)
        record, context = _read_with_note(note_at(position, serial), b"Canon")
        assert context.warnings == []
        assert (record.body_serial, record.body_serial_source) == expected
        assert record.image_unique_id == "48bd7700e1c1456a988ebe0df2ca4002"


def test_exif_body_serial_wins_over_the_maker_note() -> None:
    inner = _ifd([(0x001D, ASCII, ascii_(b"NO= 3012345"))], ">", 8)
    note = b"Nikon\0\x02\x10\0\0MM\0*" + struct.pack(">I", 8) + inner
    record, context = read(build_tiff(ifd0=[(MAKE, ASCII, ascii_(b"NIKON"))],
                                      exif=[(0xA431, ASCII, ascii_(b"3012345")), (MAKER_NOTE, UNDEFINED, note)]))
    assert context.warnings == []
    assert (record.body_serial, record.body_serial_source) == ("3012345", "exif_body_serial")


def test_damaged_maker_notes_warn_and_the_rest_is_read() -> None:
    cases = {
        "entries": b"OLYMPUS\0II\x03\0" + struct.pack("<H", 5000),
        "cut": b"OLYMPUS\0II\x03\0" + struct.pack("<H", 3) + b"\0" * 12,
        "order": b"Apple iOS\0\0\x01XX" + b"\0" * 8,
        "nikon": b"Nikon\0\x02\x10\0\0ZZ\0*" + b"\0" * 8,
        "pointer": b"FUJIFILM" + struct.pack("<I", 1 << 30) + b"\0" * 8,
    }
    for name, note in cases.items():
        record, context = _read_with_note(note, b"Maker")
        assert record.make == "Maker", name
        assert [(w.kind, w.field) for w in context.warnings] == [("makernote_unreadable", "body_serial")], name
        assert record.body_serial is None


def test_unknown_maker_notes_are_left_alone() -> None:
    for note, make in ((b"SONY DSC \0\0\0" + b"\x01" * 40, b"SONY"), (b"Ricoh\0\0\0Rev0103" + b"\x20" * 40, b"RICOH"),
                       (b"Ricoh\xcf\0\0\0\x09" + b"\0" * 40, b"NOT RICOH")):
        record, context = _read_with_note(note, make)
        assert (record.body_serial, context.warnings) == (None, []), make


def test_a_note_not_at_the_place_the_exif_ifd_names_is_a_warning() -> None:
    """The located bytes must be the note Pillow read; otherwise nothing is taken from it."""
    block = build_tiff(ifd0=[(MAKE, ASCII, ascii_(b"Canon"))], exif=[(MAKER_NOTE, UNDEFINED, b"\x01\x00" + b"\0" * 30)])
    exif = exif_from_tiff_bytes(block)
    ifd0 = dict(exif.items())
    exif_ifd = dict(exif.get_ifd(0x8769))
    exif_ifd[MAKER_NOTE] = b"\x01\x00" + b"\x07" * 30  # not what the block holds
    record, context = MediaRecord(container_format="JPEG", make="Canon"), MediaContext()
    apply_maker_note(record, exif, ifd0, exif_ifd, context)
    assert [w.kind for w in context.warnings] == ["makernote_unreadable"]
    assert "not where the Exif IFD says" in context.warnings[0].message


def _corpus_record(relative: str) -> MediaRecord:
    result = read_file(require_corpus() / relative)
    assert result.record is not None and result.warnings == []
    return result.record


def test_corpus_maker_serials() -> None:
    """One file per maker layout the corpus has; the values are exiftool's (-G1 -n)."""
    expected = {
        "exiftool__exiftool/t/images/Canon.jpg": ("560018150", "makernote_canon"),  # Canon:SerialNumber (LONG)
        "exiftool__exiftool/t/images/Motorola.jpg": ("NX0A3S0075", "makernote_motorola"),
        "ianare__exif-samples/jpg/Panasonic_DMC-FZ30.jpg": ("S010604030293", "makernote_panasonic_internal"),
        "exiftool__exiftool/t/images/Ricoh2.jpg": ("00000000000000012207000003100957", "makernote_ricoh_internal"),  # hex of 16 bytes
        "ianare__exif-samples/jpg/corrupted.jpg": ("F70501740                      ", "makernote_olympus"),
        "immich-app__test-assets/metadata/gps-position/thompson-springs.jpg": ("062021002724", "xmp_aux_serial"),
        "exiftool__exiftool/t/images/DNG.dng": ("012345678", "dng_camera_serial"),
    }
    for relative, serial in expected.items():
        record = _corpus_record(relative)
        assert (record.body_serial, record.body_serial_source) == serial, relative


def test_corpus_nikon_maker_note_is_read_where_exif_has_no_serial(tmp_path: Path) -> None:
    """87_OSError.jpg has both; with the EXIF BodySerialNumber renamed away, the Nikon note's
    SerialNumber (exiftool: 'NO= -1000f46        ') is what remains."""
    data = (require_corpus() / "ianare__exif-samples/jpg/tests/87_OSError.jpg").read_bytes()
    assert data[12:14] == b"II"
    entry = struct.pack("<HH", 0xA431, 2)
    assert data.count(entry) == 1
    copy = tmp_path / "nikon.jpg"
    copy.write_bytes(data.replace(entry, struct.pack("<HH", 0xA4FF, 2)))
    result = read_file(copy)
    assert result.record is not None and result.warnings == []
    assert (result.record.body_serial, result.record.body_serial_source) == ("NO= -1000f46        ", "makernote_nikon")


def test_damage_inside_real_maker_notes_is_never_a_crash() -> None:
    """Bytes flipped across each corpus maker note's header, directory and values: the reader copes
    (a warning at most), never the driver's catch-all (`metadata_unreadable`)."""
    generator = random.Random(7)
    files = ("exiftool__exiftool/t/images/Canon.jpg", "exiftool__exiftool/t/images/Motorola.jpg",
             "ianare__exif-samples/jpg/corrupted.jpg", "ianare__exif-samples/jpg/Panasonic_DMC-FZ30.jpg",
             "ianare__exif-samples/jpg/tests/87_OSError.jpg", "exiftool__exiftool/t/images/Ricoh2.jpg")
    for relative in files:
        data = (require_corpus() / relative).read_bytes()
        with Image.open(require_corpus() / relative) as image:
            note = image.getexif().get_ifd(0x8769)[MAKER_NOTE]
        start = data.index(note)
        positions = list(range(start, start + min(len(note), 400))) + [generator.randrange(start, start + len(note)) for _ in range(200)]
        for position in positions:
            damaged = bytearray(data)
            damaged[position] ^= 0xFF
            frozen = bytes(damaged)
            result = read_bytes(frozen, relative)
            assert result.record is not None and "metadata_unreadable" not in result.record.flags, (relative, position)
