"""Camera raws that Pillow does not open: Olympus ORF, Panasonic RW2, Fujifilm RAF (by signature).

Why a reader of its own: ORF and RW2 are TIFF files in all but the header's magic number, so
Pillow refuses them and `still_images` (which claims only "II*\\0"/"MM\\0*") does not see them; RAF
is not TIFF at all but a Fujifilm header pointing at an embedded JPEG that carries the EXIF. Once
the header is understood, everything else goes through `parsers.media.exif` (one EXIF normaliser)
and Pillow's IFD parser, reading only the IFDs and the few bytes they point to.

Facts used (own words; sources: TIFF 6.0 section 2 for the header and IFDs; exiftool's documented
tag tables "Olympus", "PanasonicRaw" and "FujiFilm RAF" (exiftool.org/TagNames) and the LibRaw
/ dcraw format notes for the headers; ITU T.81 B.1 for JPEG markers; EXIF 2.32 4.5.4 for APP1):
- ORF: byte order "II" or "MM", then the 16-bit magic 0x4F52 ("RO" as stored little-endian) or
  0x5352 ("RS", some later bodies) where TIFF has 42; the IFD0 offset and every IFD follow TIFF.
  Big-endian files store the magic as "OR"/"SR". IFD0 holds ImageWidth/ImageLength (0x0100/0x0101)
  of the raw image, which is what exiftool reports as ImageWidth/ImageHeight; we use those.
- RW2 (and the older Panasonic .RAW, same layout): "IIU\\0", magic 0x0055, then TIFF IFDs. An RW2
  has its IFD0 at 0x18 or later and the 16 bytes 88 E7 74 D8 F8 25 1D 4D 94 7A 6E 77 82 2B 5D 6A at
  offset 8; without them the container is "RAW" (exiftool draws the same line). IFD0 has no
  ImageWidth; it has SensorWidth/SensorHeight (0x0002/0x0003) and the crop borders SensorTopBorder,
  SensorLeftBorder, SensorBottomBorder, SensorRightBorder (0x0004-0x0007). exiftool's ImageWidth is
  Right - Left and ImageHeight Bottom - Top; we report the same (SensorWidth/Height when the borders
  are missing). Make, Model, Orientation and the Exif/GPS pointers are in IFD0 as in TIFF.
- RAF: 16 bytes "FUJIFILMCCD-RAW ", then version and camera id; at offset 84 (0x54) the offset,
  and at 88 the length, of an embedded JPEG (big-endian 32-bit, from the start of the file). That
  JPEG's first APP1 "Exif\\0\\0" segment is the file's EXIF. Width/height are the Exif IFD's
  ExifImageWidth/ExifImageHeight (0xA002/0xA003: the size of the developed image the camera
  states), not the preview JPEG's frame size nor the sensor's RAF-directory sizes (not read).

For ORF and RW2 the magic is rewritten to 42 in a view of the file (the file is never changed), so
Pillow's `Image.Exif` reads the IFDs with their offsets from the start of the file.

Thumbnail: the EXIF IFD1 JPEG (JPEGInterchangeFormat/Length), hashed as for other stills. For ORF
and RW2 has_thumbnail is None unless IFD1 has one (their previews live in maker notes or
Panasonic tag 0x002E, not examined here); for RAF the EXIF is read whole, so no IFD1 is False.
"""

from __future__ import annotations

import struct
import warnings
from typing import Any

from PIL import ExifTags, Image

from manifests.records import MediaRecord
from parsers.media.base import MEDIA_ERRORS, MediaContext, MediaReader, MediaSource
from parsers.media.exif import EXIF_IFD, apply_exif, exif_from_tiff_bytes
from parsers.media.still_images import EXIF_HEADER, JPEG_IF_LENGTH, ifd1_thumbnail, jpeg_segments

ORF_HEADS = (b"IIRO", b"IIRS", b"MMOR", b"MMSR")
RW2_HEAD = b"IIU\x00"
RW2_SIGNATURE = bytes.fromhex("88e774d8f8251d4d947a6e77822b5d6a")  # at offset 8, IFD0 at >= 0x18
RAF_HEAD = b"FUJIFILMCCD-RAW "
RAF_JPEG_POINTER = 84  # JPEG offset at 84, JPEG length at 88 (big-endian)

IMAGE_WIDTH = 0x0100
IMAGE_LENGTH = 0x0101
EXIF_IMAGE_WIDTH = 0xA002
EXIF_IMAGE_HEIGHT = 0xA003
# PanasonicRaw IFD0 tags.
SENSOR_WIDTH, SENSOR_HEIGHT = 0x0002, 0x0003
SENSOR_TOP, SENSOR_LEFT, SENSOR_BOTTOM, SENSOR_RIGHT = 0x0004, 0x0005, 0x0006, 0x0007


class CameraRawReader(MediaReader):
    """ORF, RW2 and RAF: header, IFDs and EXIF only, never the sensor data."""

    name = "camera_raw"
    version = "1"
    formats = ("ORF", "RW2", "RAW", "RAF")

    def recognise(self, head: bytes) -> str | None:
        """By the first bytes: the TIFF-like magics of ORF/RW2, the RAF text header (RW2->RAW in read())."""
        if head[:4] in ORF_HEADS:
            return "ORF"
        if head[:4] == RW2_HEAD:
            return "RW2"
        if head.startswith(RAF_HEAD):
            return "RAF"
        return None

    def read(self, source: MediaSource, container: str, context: MediaContext) -> MediaRecord:
        """Everything the raw's EXIF records; unreadable parts become warnings."""
        record = MediaRecord(container_format=container)
        if container == "RAF":
            _read_raf(source, record, context)
            return record
        if container == "RW2" and not _has_rw2_signature(source.read_at(0, 24)):
            record.container_format = "RAW"
        _read_tiff_like(source, record, context)
        return record


READER = CameraRawReader()


def _has_rw2_signature(head: bytes) -> bool:
    """RW2 rather than the older Panasonic RAW: IFD0 at >= 0x18 and the RW2 bytes at offset 8."""
    return len(head) >= 24 and struct.unpack("<I", head[4:8])[0] >= 0x18 and head[8:24] == RW2_SIGNATURE


def _as_tiff(source: MediaSource) -> MediaSource:
    """The same content with the magic (bytes 2-3) read as 42, so Pillow takes it for TIFF."""
    magic = b"*\x00" if source.read_at(0, 2) == b"II" else b"\x00*"

    def read(offset: int, size: int) -> bytes:
        data = source.read_at(offset, size)
        if offset < 4 and offset + len(data) > 2:
            patched = bytearray(data)
            for index in range(max(offset, 2), min(offset + len(data), 4)):
                patched[index - offset] = magic[index - 2]
            return bytes(patched)
        return data

    return MediaSource(read, source.size, source.name)


def _int(value: Any) -> int | None:
    """A SHORT/LONG tag value (Pillow gives a one-element tuple for some types)."""
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _read_tiff_like(source: MediaSource, record: MediaRecord, context: MediaContext) -> None:
    """ORF/RW2/RAW: IFD0 (+ Exif/GPS) through Pillow on a magic-patched view; size from IFD0."""
    tiff = _as_tiff(source)
    exif = Image.Exif()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exif.load_from_fp(tiff.open())
            ifd0 = dict(exif.items())
    except MEDIA_ERRORS as error:
        context.warn("exif_unreadable", f"{record.container_format} IFD0 unreadable: {type(error).__name__}: {error}",
                     field="exif")
        return
    exif.exhibit_load_warnings = [str(warning.message) for warning in caught]  # type: ignore[attr-defined]
    if record.container_format == "ORF":
        record.width, record.height = _int(ifd0.get(IMAGE_WIDTH)), _int(ifd0.get(IMAGE_LENGTH))
    else:
        top, left = _int(ifd0.get(SENSOR_TOP)), _int(ifd0.get(SENSOR_LEFT))
        bottom, right = _int(ifd0.get(SENSOR_BOTTOM)), _int(ifd0.get(SENSOR_RIGHT))
        record.width = right - left if right is not None and left is not None else _int(ifd0.get(SENSOR_WIDTH))
        record.height = bottom - top if bottom is not None and top is not None else _int(ifd0.get(SENSOR_HEIGHT))
    if record.width is None or record.height is None:
        context.warn("malformed_media", f"{record.container_format} IFD0 does not give the image size", field="width")
    apply_exif(record, exif, context)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reported by ifd1_thumbnail if it matters
            ifd1 = exif.get_ifd(ExifTags.IFD.IFD1)
    except MEDIA_ERRORS:
        ifd1 = {}
    if ifd1.get(JPEG_IF_LENGTH):
        ifd1_thumbnail(exif, 0, source, record, context)


def _read_raf(source: MediaSource, record: MediaRecord, context: MediaContext) -> None:
    """RAF: the header's JPEG pointer, then that JPEG's first Exif APP1."""
    pointer = source.read_at(RAF_JPEG_POINTER, 8)
    if len(pointer) < 8:
        context.warn("malformed_media", "RAF header truncated before the JPEG pointer", field="exif")
        return
    jpeg_offset, jpeg_length = struct.unpack(">II", pointer)
    if source.read_at(jpeg_offset, 3) != b"\xff\xd8\xff":
        context.warn("malformed_media", f"RAF embedded JPEG not found at {jpeg_offset}", field="exif")
        return
    if jpeg_offset + jpeg_length > source.size:
        context.warn("malformed_media", f"RAF embedded JPEG ({jpeg_length} bytes at {jpeg_offset}) runs past the end "
                     f"({source.size} bytes)", field="exif")
    # The JPEG viewed on its own: segment offsets relative to its start.
    jpeg = MediaSource(lambda offset, size: source.read_at(jpeg_offset + offset, size),
                       min(jpeg_length, max(source.size - jpeg_offset, 0)), source.name)
    for marker, offset, length in jpeg_segments(jpeg, context):
        if marker == 0xE1 and jpeg.read_at(offset, len(EXIF_HEADER)) == EXIF_HEADER:
            base = offset + len(EXIF_HEADER)
            block = jpeg.read_at(base, length - len(EXIF_HEADER))  # at most 64 KiB (16-bit length)
            try:
                exif = exif_from_tiff_bytes(block)
            except MEDIA_ERRORS as error:
                context.warn("exif_unreadable", f"RAF EXIF unreadable: {type(error).__name__}: {error}", field="exif")
                return
            apply_exif(record, exif, context)
            _raf_size(exif, record, context)
            ifd1_thumbnail(exif, base, jpeg, record, context)
            return
    context.warn("exif_missing", "RAF embedded JPEG has no Exif APP1 before its scan", field="exif")


def _raf_size(exif: Image.Exif, record: MediaRecord, context: MediaContext) -> None:
    """Width/height from ExifImageWidth/ExifImageHeight (see the module docstring)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # apply_exif has already reported damage to the Exif IFD
            exif_ifd = exif.get_ifd(EXIF_IFD)
    except MEDIA_ERRORS:
        exif_ifd = {}
    record.width, record.height = _int(exif_ifd.get(EXIF_IMAGE_WIDTH)), _int(exif_ifd.get(EXIF_IMAGE_HEIGHT))
    if record.width is None or record.height is None:
        context.warn("malformed_media", "RAF EXIF does not give ExifImageWidth/ExifImageHeight", field="width")
