"""parsers.media.camera_raw on synthetic ORF, RW2 and RAF files (the corpus has none).

Each fixture is built here byte by byte: a TIFF/EXIF block from tests.media.test_exif.build_tiff
with the ORF/RW2 magic written over 42, or a RAF header pointing at a Pillow-written JPEG whose
APP1 holds such a block. Oracle: exiftool -n (Debian 12.57), which recognises all three by content.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import shutil
import struct
import subprocess
from fractions import Fraction
from typing import Any

import pytest
from PIL import Image, TiffImagePlugin

from manifests.records import MediaRecord
from parsers.media.base import MediaContext, MediaSource
from parsers.media.camera_raw import READER
from parsers.media.driver import MediaResult, read_media
from parsers.media.registry import all_readers
from tests.media.test_exif import ASCII, BYTE, LONG, RATIONAL, SHORT, Entry, ascii_, build_tiff
from tests.media.test_still_images import ns

EXIFTOOL = "/usr/bin/exiftool"
R = TiffImagePlugin.IFDRational


def _jpeg(size: tuple[int, int], colour: str, exif: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    if exif is None:
        Image.new("RGB", size, colour).save(buffer, "JPEG")
    else:
        Image.new("RGB", size, colour).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


THUMBNAIL = _jpeg((8, 8), "red")
THUMBNAIL_SHA256 = hashlib.sha256(THUMBNAIL).hexdigest()


def tiff_with_thumbnail(ifd0: list[Entry], exif: list[Entry] | None = None, gps: list[Entry] | None = None,
                        order: str = "<") -> bytes:
    """build_tiff with an IFD1 JPEG thumbnail (compression 6)."""
    return build_tiff(ifd0, exif, gps, ifd1=[(0x0103, SHORT, (6,))], thumbnail=THUMBNAIL, order=order)


def with_magic(block: bytes, magic: bytes) -> bytes:
    """A TIFF block with bytes 2-3 (the 42) replaced."""
    return block[:2] + magic + block[4:]


GPS = [(1, ASCII, ascii_(b"N")), (2, RATIONAL, ((48, 1), (51, 1), (2946, 100))), (3, ASCII, ascii_(b"E")),
       (4, RATIONAL, ((2, 1), (17, 1), (4012, 100))), (5, BYTE, b"\x01"), (6, RATIONAL, ((35, 2),)),
       (7, RATIONAL, ((8, 1), (9, 1), (10, 1))), (0x1D, ASCII, ascii_(b"2013:05:01"))]
GPS_LATITUDE = float(48 + Fraction(51, 60) + Fraction(2946, 360000))
GPS_LONGITUDE = float(2 + Fraction(17, 60) + Fraction(4012, 360000))


def orf(order: str = "<", magic: bytes = b"RO") -> bytes:
    """An Olympus ORF: IFD0 with the raw size, Exif, GPS and an IFD1 thumbnail."""
    ifd0 = [(0x010F, ASCII, ascii_(b"OLYMPUS IMAGING CORP.  ")), (0x0110, ASCII, ascii_(b"E-M5")),
            (0x0100, LONG, (4640,)), (0x0101, LONG, (3472,)), (0x0112, SHORT, (8,)),
            (0x0131, ASCII, ascii_(b"Version 1.0")), (0x0132, ASCII, ascii_(b"2013:05:01 10:11:12"))]
    exif = [(0x9003, ASCII, ascii_(b"2013:05:01 10:11:12")), (0x9004, ASCII, ascii_(b"2013:05:01 10:11:12")),
            (0x9011, ASCII, ascii_(b"+02:00")), (0xA431, ASCII, ascii_(b"BX1234567")),
            (0xA434, ASCII, ascii_(b"OLYMPUS M.12-50mm F3.5-6.3"))]
    return with_magic(tiff_with_thumbnail(ifd0, exif, GPS, order=order), magic)


RW2_SIGNATURE = bytes.fromhex("88e774d8f8251d4d947a6e77822b5d6a")


def rw2(borders: bool = True, signature: bool = True) -> bytes:
    """A Panasonic RW2 written by Pillow's Exif.tobytes: IFD0 at 0x18 after the RW2 bytes, sensor size
    and borders (PanasonicRaw tags 2-7), Exif and GPS, no IFD1. Without `signature`: an older .RAW."""
    exif = Image.Exif()
    exif.endian = "<"
    exif[0x010F], exif[0x0110], exif[0x0112] = "Panasonic", "DMC-GH4", 1
    exif[0x0002], exif[0x0003] = 4688, 3512
    if borders:
        exif[0x0004], exif[0x0005], exif[0x0006], exif[0x0007] = 4, 8, 3476, 4680
    exif.get_ifd(0x8769).update({0x9003: "2016:07:08 18:19:20", 0x9004: "2016:07:08 18:19:20",
                                 0xA420: "0123456789abcdef0123456789abcdef"})
    exif.get_ifd(0x8825).update({
        1: "N", 2: (R(48), R(51), R(2946, 100)), 3: "E", 4: (R(2), R(17), R(4012, 100)), 5: b"\x01", 6: R(35, 2),
        7: (R(8), R(9), R(10)), 0x1D: "2013:05:01"})
    block = exif.tobytes(0x18)  # b"Exif\0\0", a TIFF header, then IFDs laid out from offset 0x18
    assert block[:10] == b"Exif\x00\x00II*\x00"
    middle = RW2_SIGNATURE if signature else bytes(16)
    return b"IIU\x00" + struct.pack("<I", 0x18) + middle + block[14:]


RAF_JPEG_OFFSET = 148


def raf(trailer: bytes = b"", exif: bool = True) -> bytes:
    """A Fujifilm RAF: 84 header bytes, the JPEG pointer, then a 160x120 JPEG whose APP1 is the EXIF."""
    ifd0 = [(0x010F, ASCII, ascii_(b"FUJIFILM")), (0x0110, ASCII, ascii_(b"X-T2")), (0x0112, SHORT, (1,)),
            (0x0131, ASCII, ascii_(b"Digital Camera X-T2 Ver4.30")), (0x0132, ASCII, ascii_(b"2019:03:02 09:08:07"))]
    exif_ifd = [(0x9003, ASCII, ascii_(b"2019:03:02 09:08:07")), (0x9011, ASCII, ascii_(b"+09:00")),
                (0x9291, ASCII, ascii_(b"25")), (0xA002, LONG, (6000,)), (0xA003, LONG, (4000,)),
                (0xA431, ASCII, ascii_(b"71A12345")), (0xA433, ASCII, ascii_(b"FUJIFILM")),
                (0xA434, ASCII, ascii_(b"XF18-55mmF2.8-4 R LM OIS"))]
    block = tiff_with_thumbnail(ifd0, exif_ifd, order=">")
    jpeg = _jpeg((160, 120), "blue", b"Exif\x00\x00" + block if exif else None)
    header = b"FUJIFILMCCD-RAW " + b"0201" + b"FF383501" + b"X-T2".ljust(32, b"\x00") + b"0100" + bytes(20)
    header += struct.pack(">IIIIII", RAF_JPEG_OFFSET, len(jpeg), 0, 0, RAF_JPEG_OFFSET + len(jpeg), len(trailer))
    return header.ljust(RAF_JPEG_OFFSET, b"\x00") + jpeg + trailer


def read_bytes(data: bytes) -> MediaResult:
    return read_media(MediaSource(lambda offset, size: data[offset:offset + size], len(data), "synthetic"))


# --- golden records -----------------------------------------------------------------------------

GOLDEN: dict[str, tuple[bytes, MediaRecord]] = {
    "ORF": (orf(), MediaRecord(
        container_format="ORF", width=4640, height=3472, orientation=8,
        capture_time_raw="2013:05:01 10:11:12", capture_offset="+02:00", capture_time_utc=ns("2013-05-01 08:11:12"),
        capture_time_source="exif_datetime_original", digitized_time_raw="2013:05:01 10:11:12",
        modified_time_raw="2013:05:01 10:11:12", make="OLYMPUS IMAGING CORP.", model="E-M5", body_serial="BX1234567", body_serial_source="exif_body_serial",
        lens_model="OLYMPUS M.12-50mm F3.5-6.3", software="Version 1.0",
        gps_latitude=GPS_LATITUDE, gps_longitude=GPS_LONGITUDE, gps_altitude=-17.5,
        gps_time_utc=ns("2013-05-01 08:09:10"), gps_source="exif", has_thumbnail=True, thumbnail_sha256=THUMBNAIL_SHA256)),
    # RW2: the size is the border box (4680-8 x 3476-4), as exiftool's ImageWidth/ImageHeight.
    "RW2": (rw2(), MediaRecord(
        container_format="RW2", width=4672, height=3472, orientation=1,
        capture_time_raw="2016:07:08 18:19:20", capture_time_source="exif_datetime_original",
        digitized_time_raw="2016:07:08 18:19:20", make="Panasonic", model="DMC-GH4",
        image_unique_id="0123456789abcdef0123456789abcdef",
        gps_latitude=GPS_LATITUDE, gps_longitude=GPS_LONGITUDE, gps_altitude=-17.5,
        gps_time_utc=ns("2013-05-01 08:09:10"), gps_source="exif")),
    # RAF: the size is ExifImageWidth/Height, not the 160x120 preview JPEG's.
    "RAF": (raf(), MediaRecord(
        container_format="RAF", width=6000, height=4000, orientation=1,
        capture_time_raw="2019:03:02 09:08:07", capture_offset="+09:00", capture_time_utc=ns("2019-03-02 00:08:07.25"),
        capture_time_source="exif_datetime_original", modified_time_raw="2019:03:02 09:08:07",
        make="FUJIFILM", model="X-T2", body_serial="71A12345", body_serial_source="exif_body_serial", lens_make="FUJIFILM",
        lens_model="XF18-55mmF2.8-4 R LM OIS", software="Digital Camera X-T2 Ver4.30",
        has_thumbnail=True, thumbnail_sha256=THUMBNAIL_SHA256)),
}


@pytest.mark.parametrize("container", sorted(GOLDEN))
def test_golden_record(container: str) -> None:
    data, expected = GOLDEN[container]
    result = read_bytes(data)
    assert result.reader is READER
    assert result.record == expected
    assert result.warnings == []


def test_big_endian_and_rs_orf() -> None:
    """'MMOR' (big-endian) and 'IIRS' heads are ORF and read alike."""
    expected = GOLDEN["ORF"][1]
    for data in (orf(order=">", magic=b"OR"), orf(magic=b"RS")):
        result = read_bytes(data)
        assert result.record == expected and result.warnings == [], data[:4]


def test_rw2_without_borders_uses_the_sensor_size() -> None:
    record = read_bytes(rw2(borders=False)).record
    assert record is not None and (record.width, record.height) == (4688, 3512)


def test_panasonic_raw_without_the_rw2_bytes_is_raw() -> None:
    """exiftool's line too: FileType RAW when the 16 RW2 bytes are not at offset 8."""
    result = read_bytes(rw2(signature=False))
    assert result.record == dataclasses.replace(GOLDEN["RW2"][1], container_format="RAW")
    assert result.warnings == []


# --- agreement with exiftool --------------------------------------------------------------------


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, Any], bytes]]:
    """exiftool -n -j over the three golden fixtures (and its -b ThumbnailImage), by container."""
    if shutil.which(EXIFTOOL) is None:
        pytest.fail("exiftool (the oracle) is not installed at /usr/bin/exiftool")
    folder = tmp_path_factory.mktemp("raws")
    found = {}
    for container, (data, _) in GOLDEN.items():
        path = folder / f"fixture.{container.lower()}"
        path.write_bytes(data)
        row = json.loads(subprocess.run([EXIFTOOL, "-n", "-j", str(path)], capture_output=True, check=True).stdout)[0]
        thumbnail = subprocess.run([EXIFTOOL, "-b", "-ThumbnailImage", str(path)], capture_output=True, check=True).stdout
        found[container] = (row, thumbnail)
    return found


@pytest.mark.parametrize("container", sorted(GOLDEN))
def test_agreement_with_exiftool(container: str, oracle: dict[str, tuple[dict[str, Any], bytes]]) -> None:
    """Make, model, serial, lens, software, times, orientation, GPS (1e-6), altitude, size, thumbnail."""
    row, thumbnail = oracle[container]
    record = GOLDEN[container][1]
    assert row["FileType"] == container
    assert (record.make, record.model, record.software) == (row.get("Make"), row.get("Model"), row.get("Software"))
    assert record.body_serial == row.get("SerialNumber")
    assert (record.lens_make, record.lens_model) == (row.get("LensMake"), row.get("LensModel"))
    assert record.orientation == row["Orientation"]
    assert record.capture_time_raw == row["DateTimeOriginal"]
    assert record.digitized_time_raw == row.get("CreateDate")
    assert record.modified_time_raw == row.get("ModifyDate")
    assert record.capture_offset == row.get("OffsetTimeOriginal")
    assert record.image_unique_id == row.get("ImageUniqueID")
    if container == "RAF":
        # Documented choice: exiftool's ImageWidth is the preview JPEG's (160x120); ours is the EXIF's.
        assert (row["ImageWidth"], row["ImageHeight"]) == (160, 120)
        assert (record.width, record.height) == (row["ExifImageWidth"], row["ExifImageHeight"])
    else:
        assert (record.width, record.height) == (row["ImageWidth"], row["ImageHeight"])
    if "GPSLatitude" in row:
        assert record.gps_latitude == pytest.approx(row["GPSLatitude"], abs=1e-6)
        assert record.gps_longitude == pytest.approx(row["GPSLongitude"], abs=1e-6)
        assert record.gps_altitude == pytest.approx(row["GPSAltitude"], abs=1e-6)
        assert row["GPSDateTime"] == "2013:05:01 08:09:10Z"
    else:
        assert record.gps_latitude is None
    if record.thumbnail_sha256 is not None:
        assert hashlib.sha256(thumbnail).hexdigest() == record.thumbnail_sha256
    else:
        assert thumbnail == b""


# --- signatures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("head, container", [
    (b"IIRO\x08\x00\x00\x00", "ORF"), (b"IIRS\x08\x00\x00\x00", "ORF"), (b"MMOR\x00\x00\x00\x08", "ORF"),
    (b"MMSR\x00\x00\x00\x08", "ORF"), (b"IIU\x00\x08\x00\x00\x00", "RW2"), (b"FUJIFILMCCD-RAW 0201", "RAF"),
    (b"II*\x00\x08\x00\x00\x00", None), (b"MM\x00*\x00\x00\x00\x08", None), (b"IIU\x01", None),
    (b"FUJIFILM", None), (b"", None),
])
def test_recognise(head: bytes, container: str | None) -> None:
    assert READER.recognise(head) == container
    if container is not None:
        claims = [reader.name for reader in all_readers() if reader.recognise(head + bytes(64)) is not None]
        assert claims == ["camera_raw"]


# --- damaged files: warnings, never a crash -----------------------------------------------------


@pytest.mark.parametrize("container", sorted(GOLDEN))
def test_truncated_copies_never_crash(container: str) -> None:
    """Every prefix on a grid: the reader copes itself (no driver fallback) and says what is missing."""
    data = GOLDEN[container][0]
    for end in sorted(set(range(16, len(data), 13)) | {len(data) - 1}):
        result = read_bytes(data[:end])
        # Below 24 bytes the RW2 bytes are missing, so it is named the older RAW.
        assert result.record is not None, end
        assert result.record.container_format == ("RAW" if container == "RW2" and end < 24 else container), end
        assert "metadata_unreadable" not in result.record.flags, end
        if result.record != GOLDEN[container][1]:
            assert result.warnings, (container, end)


@pytest.mark.parametrize("container", sorted(GOLDEN))
def test_bit_flips_in_the_headers_never_crash(container: str) -> None:
    """One byte inverted at a time across header, IFDs and EXIF: the reader copes itself."""
    data = GOLDEN[container][0]
    for position in range(len(data) if container != "RAF" else 1200):
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        result = read_bytes(bytes(damaged))
        if result.record is not None:  # a flip in the signature makes it no raw at all
            assert "metadata_unreadable" not in result.record.flags, position


def test_truncated_raf_warns_about_the_jpeg() -> None:
    data = raf()
    result = read_bytes(data[:90])
    assert result.record == MediaRecord(container_format="RAF")
    assert [(w.kind, w.field) for w in result.warnings] == [("malformed_media", "exif")]
    result = read_bytes(data[:RAF_JPEG_OFFSET + 40])
    assert result.record is not None and result.record.make is None
    assert "runs past the end" in result.warnings[0].message


def test_truncated_orf_keeps_what_it_read() -> None:
    """Cut inside the thumbnail: every EXIF value is read; the thumbnail is flagged, with a warning."""
    data = orf()
    result = read_bytes(data[:-100])
    expected = GOLDEN["ORF"][1]
    assert result.record is not None
    assert result.record.make == expected.make and result.record.gps_latitude == expected.gps_latitude
    assert result.record.has_thumbnail is True and result.record.thumbnail_sha256 is None
    assert "thumbnail_truncated" in result.record.flags
    assert [w.kind for w in result.warnings] == ["thumbnail_unreadable"]


def test_raf_without_exif_is_a_warning() -> None:
    result = read_bytes(raf(exif=False))
    assert result.record == MediaRecord(container_format="RAF")
    assert [w.kind for w in result.warnings] == ["exif_missing"]


def test_only_headers_are_read() -> None:
    """A RAF with 8 MiB of sensor data: only the header, JPEG segments and EXIF bytes are fetched."""
    data = raf(trailer=bytes(8 << 20))
    fetched = []

    def reader(offset: int, size: int) -> bytes:
        fetched.append(size)
        return data[offset:offset + size]

    result = read_media(MediaSource(reader, len(data)))
    assert result.record == GOLDEN["RAF"][1]
    assert sum(fetched) < 16384


def test_reader_context_is_separate_per_file() -> None:
    context = MediaContext()
    record = READER.read(MediaSource(lambda o, s: b"", 0), "ORF", context)
    assert record == MediaRecord(container_format="ORF")
    assert [w.kind for w in context.warnings] == ["exif_unreadable"]
