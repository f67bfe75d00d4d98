"""parsers.media.still_images: EXIF in PNG "Raw profile type exif/APP1" text chunks (ImageMagick's form).

The corpus has no such PNG, so each is built here: a Pillow PNG with a tEXt/zTXt/iTXt chunk whose text
is "\\n<name>\\n<length padded to 8>\\n<hex, 72 digits a line>\\n", as ImageMagick writes it. Oracle:
exiftool -n (Debian 12.57), which decodes these chunks too.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import struct
import subprocess
import zlib
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from manifests.records import MediaRecord
from parsers.media.base import MediaSource
from parsers.media.driver import MediaResult, read_media
from tests.media.test_camera_raw import THUMBNAIL, THUMBNAIL_SHA256, tiff_with_thumbnail
from tests.media.test_exif import ASCII, RATIONAL, SHORT, ascii_, build_tiff

EXIFTOOL = "/usr/bin/exiftool"

IFD0 = [(0x010F, ASCII, ascii_(b"Canon")), (0x0110, ASCII, ascii_(b"Canon EOS 5D")), (0x0112, SHORT, (6,))]
EXIF = [(0x9003, ASCII, ascii_(b"2010:06:07 08:09:10")), (0x9010, ASCII, ascii_(b"+10:00")),
        (0x9011, ASCII, ascii_(b"+10:00"))]
GPS = [(1, ASCII, ascii_(b"S")), (2, RATIONAL, ((33, 1), (51, 1), (3600, 100))), (3, ASCII, ascii_(b"E")),
       (4, RATIONAL, ((151, 1), (12, 1), (3000, 100)))]
BLOCK = tiff_with_thumbnail(IFD0, EXIF, GPS, order=">")

EXPECTED = MediaRecord(
    container_format="PNG", width=4, height=3, orientation=6, capture_time_raw="2010:06:07 08:09:10",
    capture_offset="+10:00", capture_time_utc=1275862150 * 1_000_000_000, capture_time_source="exif_datetime_original",
    make="Canon", model="Canon EOS 5D", gps_latitude=-float(33 + Fraction(51, 60) + Fraction(36, 3600)),
    gps_longitude=float(151 + Fraction(12, 60) + Fraction(30, 3600)),
    gps_source="exif", has_thumbnail=True, thumbnail_sha256=THUMBNAIL_SHA256)


def profile_text(data: bytes, name: bytes = b"exif", declared: int | None = None) -> bytes:
    digits = data.hex()
    lines = "\n".join(digits[i:i + 72] for i in range(0, len(digits), 72))
    length = str(len(data) if declared is None else declared).rjust(8)
    return b"\n" + name + b"\n" + length.encode() + b"\n" + lines.encode() + b"\n"


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(*chunks: bytes) -> bytes:
    """A 4x3 PNG with `chunks` after IHDR (IHDR is 8 + 25 bytes in)."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3)).save(buffer, "PNG")
    data = buffer.getvalue()
    return data[:33] + b"".join(chunks) + data[33:]


def ztxt(keyword: bytes, text: bytes) -> bytes:
    return chunk(b"zTXt", keyword + b"\x00\x00" + zlib.compress(text))


def read_bytes(data: bytes) -> MediaResult:
    return read_media(MediaSource(lambda offset, size: data[offset:offset + size], len(data), "synthetic"))


ZTXT_EXIF = png(ztxt(b"Raw profile type exif", profile_text(b"Exif\x00\x00" + BLOCK)))
TEXT_APP1 = png(chunk(b"tEXt", b"Raw profile type APP1\x00" + profile_text(b"Exif\x00\x00" + BLOCK, b"APP1")))
ITXT_BARE = png(chunk(b"iTXt", b"Raw profile type exif\x00\x00\x00\x00\x00" + profile_text(BLOCK)))


@pytest.mark.parametrize("data", [ZTXT_EXIF, TEXT_APP1, ITXT_BARE], ids=["zTXt-exif", "tEXt-APP1", "iTXt-bare-tiff"])
def test_raw_profile_exif_is_read(data: bytes) -> None:
    result = read_bytes(data)
    assert result.record == EXPECTED
    assert result.warnings == []


@pytest.mark.parametrize("data", [ZTXT_EXIF, TEXT_APP1], ids=["zTXt-exif", "tEXt-APP1"])
def test_agreement_with_exiftool(data: bytes, tmp_path: Path) -> None:
    """exiftool -n decodes the same chunk: every field we fill, and the very thumbnail bytes."""
    if shutil.which(EXIFTOOL) is None:
        pytest.fail("exiftool (the oracle) is not installed at /usr/bin/exiftool")
    path = tmp_path / "profile.png"
    path.write_bytes(data)
    row = json.loads(subprocess.run([EXIFTOOL, "-n", "-j", str(path)], capture_output=True, check=True).stdout)[0]
    thumbnail = subprocess.run([EXIFTOOL, "-b", "-ThumbnailImage", str(path)], capture_output=True, check=True).stdout
    record = read_bytes(data).record
    assert record is not None
    assert (record.make, record.model, record.orientation) == (row["Make"], row["Model"], row["Orientation"])
    assert (record.capture_time_raw, record.capture_offset) == (row["DateTimeOriginal"], row["OffsetTimeOriginal"])
    assert (record.width, record.height) == (row["ImageWidth"], row["ImageHeight"])
    assert record.gps_latitude == pytest.approx(row["GPSLatitude"], abs=1e-6)
    assert record.gps_longitude == pytest.approx(row["GPSLongitude"], abs=1e-6)
    assert thumbnail == THUMBNAIL and hashlib.sha256(thumbnail).hexdigest() == record.thumbnail_sha256


def test_exif_chunk_wins_over_a_raw_profile() -> None:
    """With an eXIf chunk (even after the text chunk) the raw profile is not used."""
    other = build_tiff([(0x010F, ASCII, ascii_(b"Nikon"))])
    data = png(ztxt(b"Raw profile type exif", profile_text(b"Exif\x00\x00" + BLOCK)), chunk(b"eXIf", other))
    result = read_bytes(data)
    assert result.record == MediaRecord(container_format="PNG", width=4, height=3, make="Nikon", has_thumbnail=False)
    assert result.warnings == []


def test_bad_hex_is_a_warning() -> None:
    text = profile_text(b"Exif\x00\x00" + BLOCK).replace(b"45", b"zz", 1)
    result = read_bytes(png(ztxt(b"Raw profile type exif", text)))
    assert result.record == MediaRecord(container_format="PNG", width=4, height=3, has_thumbnail=False)
    assert [(w.kind, w.field) for w in result.warnings] == [("exif_unreadable", "exif")]


def test_short_profile_is_read_with_a_warning() -> None:
    """The length line says more bytes than the hex holds: what is there is read, and that is said."""
    data = b"Exif\x00\x00" + BLOCK
    result = read_bytes(png(ztxt(b"Raw profile type exif", profile_text(data, declared=len(data) + 10))))
    assert result.record == EXPECTED
    assert [(w.kind, w.field) for w in result.warnings] == [("exif_damaged", "exif")]


def test_profile_without_tiff_header_is_a_warning() -> None:
    result = read_bytes(png(ztxt(b"Raw profile type APP1", profile_text(b"http://ns.adobe.com/xap/1.0/\x00<x/>", b"APP1"))))
    assert result.record == MediaRecord(container_format="PNG", width=4, height=3, has_thumbnail=False)
    assert [(w.kind, w.field) for w in result.warnings] == [("exif_unreadable", "exif")]


def test_broken_zlib_in_a_raw_profile_is_a_warning() -> None:
    data = png(chunk(b"zTXt", b"Raw profile type exif\x00\x00not zlib"))
    result = read_bytes(data)
    assert result.record == MediaRecord(container_format="PNG", width=4, height=3, has_thumbnail=False)
    assert [(w.kind, w.field) for w in result.warnings] == [("exif_unreadable", "exif")]
