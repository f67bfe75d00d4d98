"""parsers.media.exif: EXIF -> MediaRecord, on EXIF blocks built byte by byte so every case is exact.

The builder below writes classic TIFF/EXIF (TIFF 6.0 section 2; EXIF 2.32 4.6): a header, IFD0, the
Exif and GPS sub-IFDs, IFD1 and a data area, so a test controls each tag's type and bytes (NUL
padding, zero denominators, wrong types) instead of trusting a writer to produce the edge case.
"""

from __future__ import annotations

import calendar
import struct
from fractions import Fraction

import pytest
from PIL import Image

from manifests.records import MediaRecord, UndecodedText
from parsers.media.base import MEDIA_ERRORS, MediaContext
from parsers.media.exif import apply_exif, clean_text, exif_from_tiff_bytes

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED = 1, 2, 3, 4, 5, 7

Entry = tuple[int, int, object]  # tag, type, value (bytes for BYTE/ASCII/UNDEFINED, tuple otherwise)


def _count(kind: int, value: object) -> int:
    return len(value) if isinstance(value, (bytes, tuple)) else 1  # type: ignore[arg-type]


def _pack(kind: int, value: object, order: str) -> bytes:
    if kind in (BYTE, ASCII, UNDEFINED):
        assert isinstance(value, bytes)
        return value
    assert isinstance(value, tuple)
    if kind == SHORT:
        return b"".join(struct.pack(order + "H", v) for v in value)
    if kind == LONG:
        return b"".join(struct.pack(order + "I", v) for v in value)
    return b"".join(struct.pack(order + "II", n, d) for n, d in value)


def build_tiff(ifd0: list[Entry], exif: list[Entry] | None = None, gps: list[Entry] | None = None,
               ifd1: list[Entry] | None = None, thumbnail: bytes | None = None, order: str = "<",
               trailer: bytes = b"") -> bytes:
    """A TIFF-headed EXIF block; Exif/GPS pointers and IFD1 thumbnail offsets are filled in here.

    `trailer` is appended after everything (e.g. image data a synthetic TIFF's strips point to).
    """
    ifd0 = list(ifd0)
    ifd1 = list(ifd1 or [])
    if exif is not None:
        ifd0.append((0x8769, LONG, (0,)))
    if gps is not None:
        ifd0.append((0x8825, LONG, (0,)))
    if thumbnail is not None:
        ifd1 += [(0x0201, LONG, (0,)), (0x0202, LONG, (len(thumbnail),))]
    tables = [ifd0] + [t for t in (exif, gps) if t is not None] + ([ifd1] if ifd1 else [])
    offsets = []
    position = 8
    for table in tables:
        offsets.append(position)
        position += 2 + 12 * len(table) + 4
    data_start = position
    # Patch pointer values now that the IFD offsets are known.
    index = 1
    pointers: dict[int, int] = {}
    if exif is not None:
        pointers[0x8769] = offsets[index]
        index += 1
    if gps is not None:
        pointers[0x8825] = offsets[index]
        index += 1
    ifd1_offset = offsets[index] if ifd1 else 0
    data = bytearray()
    out = bytearray((b"II*\x00" if order == "<" else b"MM\x00*") + struct.pack(order + "I", 8))
    thumbnail_offset = None
    for number, table in enumerate(tables):
        fixed = []
        for tag, kind, value in sorted(table, key=lambda e: e[0]):
            if number == 0 and tag in pointers and kind == LONG:
                value = (pointers[tag],)
            fixed.append((tag, kind, value))
        out += struct.pack(order + "H", len(fixed))
        # The thumbnail goes in the data area; its offset is known once the others are placed.
        for tag, kind, value in fixed:
            payload = _pack(kind, value, order)
            if tag == 0x0201 and thumbnail is not None and table is ifd1:
                thumbnail_offset = len(out) + 8  # the value field, after tag, type and count
                payload = b"\x00\x00\x00\x00"
            entry = struct.pack(order + "HHI", tag, kind, _count(kind, value))
            if len(payload) <= 4:
                out += entry + payload.ljust(4, b"\x00")
            else:
                out += entry + struct.pack(order + "I", data_start + len(data))
                data += payload + (b"\x00" if len(payload) % 2 else b"")
        out += struct.pack(order + "I", ifd1_offset if number == 0 else 0)
    assert len(out) == data_start
    if thumbnail is not None:
        assert thumbnail_offset is not None
        out[thumbnail_offset:thumbnail_offset + 4] = struct.pack(order + "I", data_start + len(data))
        data += thumbnail
    return bytes(out + data) + trailer


def ascii_(text: bytes) -> bytes:
    """An EXIF ASCII value: the text and its terminating NUL."""
    return text + b"\x00"


def read(block: bytes) -> tuple[MediaRecord, MediaContext]:
    record = MediaRecord(container_format="JPEG")
    context = MediaContext()
    apply_exif(record, exif_from_tiff_bytes(block), context)
    return record, context


def ns(text: str) -> int:
    """'YYYY-MM-DD HH:MM:SS' (UTC) as integer nanoseconds."""
    date, time = text.split(" ")
    year, month, day = map(int, date.split("-"))
    hour, minute, second = map(int, time.split(":"))
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) * 1_000_000_000


DMS_43_28_2_81 = ((43, 1), (28, 1), (281, 100))  # 43 deg 28' 2.81"
DMS_11_53_6_46 = ((11, 1), (53, 1), (646, 100))


def test_complete_record_little_and_big_endian() -> None:
    """Every field apply_exif fills, from one block, compared whole; same answer in both byte orders."""
    for order in ("<", ">"):
        block = build_tiff(
            ifd0=[(0x010F, ASCII, ascii_(b"NIKON  ")), (0x0110, ASCII, ascii_(b"COOLPIX P6000\x00\x00")),
                  (0x0112, SHORT, (6,)), (0x0131, ASCII, ascii_(b"Nikon Transfer 1.1 W ")),
                  (0x0132, ASCII, ascii_(b"2008:11:01 21:15:07")), (0x9010, ASCII, ascii_(b"+01:00"))],
            exif=[(0x9003, ASCII, ascii_(b"2008:10:22 16:28:39")), (0x9291, ASCII, ascii_(b"25")),
                  (0x9011, ASCII, ascii_(b"+02:00")), (0x9004, ASCII, ascii_(b"2008:10:22 16:28:40")),
                  (0x9012, ASCII, ascii_(b"-03:30")), (0x9292, ASCII, ascii_(b"5")),
                  (0xA420, ASCII, ascii_(b"77c6274bd589ad50395891e84a8b673b")),
                  (0xA431, ASCII, ascii_(b"SN123 ")), (0xA433, ASCII, ascii_(b"Nikon")),
                  (0xA434, ASCII, ascii_(b"18.0-70.0 mm f/3.5-4.5  ")), (0xA435, ASCII, ascii_(b"LS0042"))],
            gps=[(0x0001, ASCII, ascii_(b"S")), (0x0002, RATIONAL, DMS_43_28_2_81),
                 (0x0003, ASCII, ascii_(b"W")), (0x0004, RATIONAL, DMS_11_53_6_46),
                 (0x0005, UNDEFINED, b"\x01"), (0x0006, RATIONAL, ((12345, 100),)),
                 (0x0007, RATIONAL, ((14, 1), (27, 1), (724, 100))), (0x001D, ASCII, ascii_(b"2008:10:23"))],
            order=order)
        record, context = read(block)
        assert context.warnings == []
        assert record == MediaRecord(
            container_format="JPEG", orientation=6,
            capture_time_raw="2008:10:22 16:28:39", capture_offset="+02:00",
            capture_time_utc=ns("2008-10-22 14:28:39") + 250_000_000,
            capture_time_source="exif_datetime_original",
            digitized_time_raw="2008:10:22 16:28:40", digitized_time_utc=ns("2008-10-22 19:58:40") + 500_000_000,
            modified_time_raw="2008:11:01 21:15:07", modified_time_utc=ns("2008-11-01 20:15:07"),
            make="NIKON", model="COOLPIX P6000", body_serial="SN123 ", body_serial_source="exif_body_serial", lens_make="Nikon",
            lens_model="18.0-70.0 mm f/3.5-4.5  ", lens_serial="LS0042", software="Nikon Transfer 1.1 W",
            gps_latitude=-float(43 + Fraction(28, 60) + Fraction(281, 360000)),
            gps_longitude=-float(11 + Fraction(53, 60) + Fraction(646, 360000)),
            gps_altitude=-123.45, gps_time_utc=ns("2008-10-23 14:27:07") + 240_000_000, gps_source="exif",
            image_unique_id="77c6274bd589ad50395891e84a8b673b", flags=[])


def test_text_is_cut_at_nul_and_only_make_model_software_lose_trailing_blanks() -> None:
    """exiftool's rule: every ASCII value stops at its NUL; Make/Model/Software are also right-trimmed."""
    assert clean_text("Canon\x00junk") == "Canon"
    assert clean_text("Canon   ", trim=True) == "Canon"
    assert clean_text("F70501740      ") == "F70501740      "
    assert clean_text("  lead") == "  lead"
    assert clean_text("\x00\x00") is None
    assert clean_text("   ", trim=True) is None
    with pytest.raises(ValueError):
        clean_text(42)


def test_text_that_is_not_utf8_keeps_its_bytes() -> None:
    record, context = read(build_tiff(ifd0=[(0x010F, ASCII, ascii_(b"Ca\xffnon"))]))
    assert isinstance(record.make, UndecodedText)
    assert record.make.raw == b"Ca\xffnon"
    assert record.make == "Ca\\xffnon"
    assert context.warnings == []


def test_utf8_text_is_decoded() -> None:
    record, _ = read(build_tiff(ifd0=[(0x0110, ASCII, ascii_("Caméra".encode()))]))
    assert record.model == "Caméra" and not isinstance(record.model, UndecodedText)


def test_invalid_dates_are_kept_raw_and_flagged() -> None:
    record, context = read(build_tiff(
        ifd0=[(0x0132, ASCII, ascii_(b"2019:02:30 10:00:00"))],
        exif=[(0x9003, ASCII, ascii_(b"0000:00:00 00:00:00")), (0x9011, ASCII, ascii_(b"+02:00")),
              (0x9004, ASCII, ascii_(b"2019:13:01 25:00:00"))]))
    assert (record.capture_time_raw, record.capture_offset, record.capture_time_utc) == ("0000:00:00 00:00:00", "+02:00", None)
    assert record.capture_time_source == "exif_datetime_original"
    assert (record.digitized_time_raw, record.digitized_time_utc) == ("2019:13:01 25:00:00", None)
    assert (record.modified_time_raw, record.modified_time_utc) == ("2019:02:30 10:00:00", None)
    assert record.flags == ["capture_time_invalid", "digitized_time_invalid", "modified_time_invalid"]
    assert context.warnings == []


def test_blank_date_means_unknown_not_invalid() -> None:
    record, _ = read(build_tiff(ifd0=[], exif=[(0x9003, ASCII, ascii_(b"    :  :     :  :  "))]))
    assert record.capture_time_raw == "    :  :     :  :  "
    assert record.capture_time_utc is None
    assert record.flags == []


def test_bad_offset_is_flagged_and_gives_no_utc() -> None:
    record, _ = read(build_tiff(ifd0=[], exif=[(0x9003, ASCII, ascii_(b"2020:01:01 00:00:00")),
                                               (0x9011, ASCII, ascii_(b"+25:00"))]))
    assert (record.capture_offset, record.capture_time_utc) == ("+25:00", None)
    assert record.flags == ["offset_invalid"]


def test_no_offset_no_utc() -> None:
    record, _ = read(build_tiff(ifd0=[], exif=[(0x9003, ASCII, ascii_(b"2020:01:01 00:00:00"))]))
    assert (record.capture_time_raw, record.capture_offset, record.capture_time_utc) == ("2020:01:01 00:00:00", None, None)


def test_gps_out_of_range_is_kept_and_flagged() -> None:
    record, _ = read(build_tiff(ifd0=[], gps=[(0x0001, ASCII, ascii_(b"N")), (0x0002, RATIONAL, ((213, 1), (38, 1), (2403, 100))),
                                              (0x0003, ASCII, ascii_(b"E")), (0x0004, RATIONAL, ((200, 1), (0, 1), (0, 1)))]))
    assert record.gps_latitude == pytest.approx(213 + 38 / 60 + 24.03 / 3600, abs=1e-12)
    assert record.gps_longitude == 200.0
    assert record.gps_source == "exif"
    assert record.flags == ["gps_latitude_out_of_range", "gps_longitude_out_of_range"]


def test_gps_block_of_zeros_is_flagged() -> None:
    zero = ((0, 1), (0, 1), (0, 1))
    record, _ = read(build_tiff(ifd0=[], gps=[(0x0001, ASCII, ascii_(b"N")), (0x0002, RATIONAL, zero),
                                              (0x0003, ASCII, ascii_(b"E")), (0x0004, RATIONAL, zero)]))
    assert (record.gps_latitude, record.gps_longitude, record.gps_source) == (0.0, 0.0, "exif")
    assert record.flags == ["gps_all_zero"]


def test_zero_denominator_is_gps_invalid_with_a_warning_and_the_rest_is_read() -> None:
    record, context = read(build_tiff(
        ifd0=[(0x010F, ASCII, ascii_(b"Make"))],
        gps=[(0x0001, ASCII, ascii_(b"N")), (0x0002, RATIONAL, ((43, 0), (28, 1), (0, 1))),
             (0x0003, ASCII, ascii_(b"E")), (0x0004, RATIONAL, DMS_11_53_6_46),
             (0x0006, RATIONAL, ((0, 0),))]))
    assert record.gps_latitude is None
    assert record.gps_longitude == pytest.approx(11 + 53 / 60 + 6.46 / 3600, abs=1e-12)
    assert record.gps_altitude is None
    assert record.make == "Make"
    assert record.flags == ["gps_invalid"]
    assert [(w.kind, w.field) for w in context.warnings] == [("exif_field_unreadable", "gps_latitude"),
                                                              ("exif_field_unreadable", "gps_altitude")]


def test_bad_gps_date_is_flagged() -> None:
    record, context = read(build_tiff(ifd0=[], gps=[(0x001D, ASCII, ascii_(b"1999:99:99 99:99:99")),
                                                    (0x0007, RATIONAL, ((1, 1), (2, 1), (3, 1)))]))
    assert record.gps_time_utc is None
    assert record.flags == ["gps_time_invalid"]
    assert [w.field for w in context.warnings] == ["gps_time_utc"]


def test_a_field_of_the_wrong_type_warns_names_the_field_and_the_rest_is_read() -> None:
    record, context = read(build_tiff(ifd0=[(0x010F, SHORT, (7,)), (0x0110, ASCII, ascii_(b"Model")),
                                            (0x0112, ASCII, ascii_(b"up"))]))
    assert (record.make, record.model, record.orientation) == (None, "Model", None)
    assert [(w.kind, w.field) for w in context.warnings] == [("exif_field_unreadable", "make"),
                                                              ("exif_field_unreadable", "orientation")]


def test_gps_pointer_that_is_not_an_offset_warns_and_flags() -> None:
    """As in exif_gps_typeerror.jpg: IFD0's GPSInfo tag holds a string instead of an offset."""
    record, context = read(build_tiff(ifd0=[(0x8825, ASCII, ascii_(b"not an offset at all"))]))
    assert record.flags == ["gps_invalid"]
    assert [(w.kind, w.field) for w in context.warnings] == [("exif_pointer_invalid", "gps_ifd")]
    assert record.gps_latitude is None and record.gps_source is None


def test_orientation_out_of_range_is_kept_and_flagged() -> None:
    record, _ = read(build_tiff(ifd0=[(0x0112, SHORT, (9,))]))
    assert record.orientation == 9
    assert record.flags == ["orientation_invalid"]


def test_exif_from_tiff_bytes_accepts_the_app1_prefix_and_rejects_garbage() -> None:
    block = build_tiff(ifd0=[(0x010F, ASCII, ascii_(b"Canon"))])
    assert exif_from_tiff_bytes(block)[0x010F] == "Canon"
    assert exif_from_tiff_bytes(b"Exif\x00\x00" + block)[0x010F] == "Canon"
    with pytest.raises(MEDIA_ERRORS):
        exif_from_tiff_bytes(b"this is not a tiff header at all")
    assert isinstance(exif_from_tiff_bytes(block), Image.Exif)


def test_truncated_block_never_raises() -> None:
    """Every prefix of a valid block: apply_exif warns or reads less, it never raises."""
    block = build_tiff(
        ifd0=[(0x010F, ASCII, ascii_(b"Canon EOS")), (0x0132, ASCII, ascii_(b"2008:11:01 21:15:07"))],
        exif=[(0x9003, ASCII, ascii_(b"2008:10:22 16:28:39"))],
        gps=[(0x0001, ASCII, ascii_(b"N")), (0x0002, RATIONAL, DMS_43_28_2_81)])
    for end in range(8, len(block)):
        try:
            exif = exif_from_tiff_bytes(block[:end])
        except MEDIA_ERRORS:
            continue
        apply_exif(MediaRecord(container_format="JPEG"), exif, MediaContext())
    record, _ = read(block)
    assert record.make == "Canon EOS" and record.gps_latitude == pytest.approx(43.4674472, abs=1e-7)


def test_pillow_complaints_about_a_damaged_ifd_become_warnings() -> None:
    """IFD0 cut inside its second entry: the first value is read, the damage is a warning."""
    block = build_tiff(ifd0=[(0x010F, ASCII, ascii_(b"Nik")), (0x0110, ASCII, ascii_(b"D70"))])
    record, context = read(block[:8 + 2 + 12 + 5])
    assert record.make == "Nik" and record.model is None
    assert [(w.kind, w.field) for w in context.warnings] == [("exif_damaged", "exif")]
    assert "Corrupt EXIF data" in context.warnings[0].message
