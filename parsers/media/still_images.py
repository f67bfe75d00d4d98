"""Still images by signature: JPEG, MPO, TIFF (and the TIFF-based DNG, CR2, NEF, ARW), PNG, WebP, GIF.

Why Pillow plus small walkers: Pillow opens JPEG, TIFF and GIF lazily (headers only; `load()` is
never called) and gives the size and MPO detection; its `Image.Exif` reads TIFF IFDs. But it does
not say where in the file a JPEG's EXIF block starts (needed to hash the IFD1 thumbnail at the
offsets exiftool uses), it reads a whole WebP into memory, and it misses PNG chunks after IDAT; so
JPEG segments, PNG chunks and WebP RIFF chunks are walked here, by their headers only.

Container: "MPO" is a JPEG whose APP2 MPF index lists more than one image (so an Ultra HDR JPEG
with a gain map is MPO; exiftool names MPO only by extension). A TIFF is "DNG" when IFD0 has
DNGVersion, "CR2" when bytes 8-9 are "CR", "NEF"/"ARW" when Make is NIKON*/SONY and IFD0 has
SubIFDs (where those raws keep the sensor image), else "TIFF". When IFD0 is a reduced-resolution
preview (NewSubfileType 1), width/height are those of the first full-resolution SubIFD, which is
what exiftool's ImageSize reports.

EXIF always goes through `parsers.media.exif.apply_exif`. A PNG without an eXIf chunk may carry its
EXIF as ImageMagick writes it: a tEXt/zTXt/iTXt chunk "Raw profile type exif" (or "... APP1") whose
text is the hex-encoded block; that is decoded and read the same way (its thumbnail is hashed in
the decoded bytes, as that is the only place it exists). XMP (JPEG APP1, PNG iTXt/tEXt/zTXt
`XML:com.adobe.xmp`, WebP `XMP `, TIFF tag 700) is read after the EXIF by `parsers.media.xmp`,
which fills only what the EXIF left empty (position, dates, body serial).

Thumbnail: has_thumbnail/thumbnail_sha256 describe the EXIF IFD1 thumbnail: JPEGInterchangeFormat
(0x0201) bytes for JPEGInterchangeFormatLength (0x0202), the offset counted from the EXIF block's
TIFF header (in a JPEG it may lie past the APP1 segment; it is read from the file there). Those are
exactly the bytes `exiftool -b -ThumbnailImage FILE` writes (tests check it on every corpus still;
for WebP exiftool writes them only with -W, as its "Improper EXIF header" warning stops -b on
stdout). Bytes that do not start like a JPEG (FFD8) are still hashed, and flagged
"thumbnail_not_jpeg" (exiftool -b writes those only with -m). has_thumbnail is False when the file
was read and has no IFD1 thumbnail (or length 0); for the camera raws it is None unless IFD1 has
one, since their previews live in IFD0/SubIFDs/maker notes, not examined here. MPF secondary
images are not thumbnails.

Facts used (own words): JPEG markers (ITU T.81 B.1), APP1 "Exif\\0\\0" (EXIF 2.32 4.5.4), APP2
"MPF\\0" MP Index IFD tag 0xB001 NumberOfImages (CIPA DC-007), PNG chunks (PNG spec 3rd ed. 5.3,
11.3.3, eXIf 11.3.6), WebP RIFF container (RFC 9649 2.5-2.7), XMP GPSCoordinate (XMP spec part 2),
TIFF header and IFDs (TIFF 6.0 section 2), DNGVersion 0xC612 (DNG spec), CR2 "CR" at offset 8.
"""

from __future__ import annotations

import hashlib
import struct
import warnings
import zlib
from typing import Any

from PIL import ExifTags, Image

from manifests.records import MediaRecord
from parsers.media.base import MEDIA_ERRORS, MediaContext, MediaReader, MediaSource
from parsers.media.exif import apply_exif, clean_text, exif_from_tiff_bytes
from parsers.media.xmp import MAX_XMP_BYTES, apply_xmp

JPEG_SIGNATURE = b"\xff\xd8\xff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*")
EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
MPF_HEADER = b"MPF\x00"
PNG_XMP_KEY = b"XML:com.adobe.xmp"
# ImageMagick's hex-encoded profiles in PNG text chunks (keywords as it writes them).
PNG_RAW_EXIF_KEYS = (b"Raw profile type exif", b"Raw profile type APP1")

MAKE_TAG = 0x010F
DNG_VERSION = 0xC612
SUB_IFDS = 0x014A
NEW_SUBFILE_TYPE = 0x00FE
IMAGE_WIDTH = 0x0100
IMAGE_LENGTH = 0x0101
XML_PACKET = 0x02BC  # TIFF tag 700: XMP
JPEG_IF_OFFSET = 0x0201  # JPEGInterchangeFormat (thumbnail offset, IFD1)
JPEG_IF_LENGTH = 0x0202  # JPEGInterchangeFormatLength
MP_NUMBER_OF_IMAGES = 0xB001

RAW_CONTAINERS = ("DNG", "CR2", "NEF", "ARW")
MAX_SEGMENTS = 1024  # a JPEG or PNG header with more segments/chunks than this is not real
MAX_THUMBNAIL_BYTES = 16 << 20
# SOF markers (ITU T.81 table B.1): C0-CF except DHT (C4), JPG (C8) and DAC (CC).
SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class StillImageReader(MediaReader):
    """JPEG, MPO, TIFF family, PNG, WebP and GIF: headers and metadata only, never pixels."""

    name = "still_images"
    version = "1"
    formats = ("JPEG", "MPO", "TIFF", "DNG", "CR2", "NEF", "ARW", "PNG", "WebP", "GIF")

    def recognise(self, head: bytes) -> str | None:
        """The format from the signature; JPEG->MPO and TIFF->DNG/NEF/ARW are refined in read()."""
        if head.startswith(JPEG_SIGNATURE):
            return "JPEG"
        if head[:4] in TIFF_SIGNATURES:
            return "CR2" if head[8:10] == b"CR" else "TIFF"
        if head.startswith(PNG_SIGNATURE):
            return "PNG"
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return "WebP"
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return "GIF"
        return None

    def read(self, source: MediaSource, container: str, context: MediaContext) -> MediaRecord:
        """Everything the file's headers record; unreadable parts become warnings."""
        record = MediaRecord(container_format=container)
        if container == "JPEG":
            _read_jpeg(source, record, context)
        elif container == "PNG":
            _read_png(source, record, context)
        elif container == "WebP":
            _read_webp(source, record, context)
        elif container == "GIF":
            _read_gif(source, record, context)
        else:
            _read_tiff(source, record, context)
        return record


READER = StillImageReader()


# --- shared -------------------------------------------------------------------------------------


def _pillow_size(source: MediaSource, record: MediaRecord, context: MediaContext) -> str | None:
    """Width and height from Pillow's lazy open (no pixel decoding); returns Pillow's format name."""
    try:
        with warnings.catch_warnings():
            # Pillow parses EXIF while opening and warns about damage there; our own EXIF pass
            # reports that damage once, into the context. A DecompressionBombWarning is moot: no
            # pixels are decoded.
            warnings.simplefilter("ignore")
            with Image.open(source.open()) as image:
                record.width, record.height = image.size
                return image.format
    except (Image.UnidentifiedImageError, Image.DecompressionBombError, *MEDIA_ERRORS) as error:
        context.warn("malformed_media", f"image header unreadable: {type(error).__name__}: {error}", field="width")
        return None


def _apply_exif_block(block: bytes, base: int, source: MediaSource, record: MediaRecord,
                      context: MediaContext) -> Image.Exif | None:
    """EXIF from a TIFF-headed block found at file offset `base`; thumbnail read at base + offset."""
    try:
        exif = exif_from_tiff_bytes(block)
    except MEDIA_ERRORS as error:
        context.warn("exif_unreadable", f"EXIF block unreadable: {type(error).__name__}: {error}", field="exif")
        return None
    apply_exif(record, exif, context)
    ifd1_thumbnail(exif, base, source, record, context)
    return exif


def ifd1_thumbnail(exif: Image.Exif, base: int, source: MediaSource, record: MediaRecord, context: MediaContext) -> None:
    """IFD1's JPEG thumbnail: has_thumbnail and the SHA-256 of exactly those bytes."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ifd1 = exif.get_ifd(ExifTags.IFD.IFD1)
    except MEDIA_ERRORS as error:
        context.warn("exif_unreadable", f"IFD1 unreadable: {type(error).__name__}: {error}", field="has_thumbnail")
        return
    for warning in caught:
        context.warn("exif_damaged", f"Pillow: {warning.message}", field="has_thumbnail")
    offset, length = ifd1.get(JPEG_IF_OFFSET), ifd1.get(JPEG_IF_LENGTH)
    if not isinstance(offset, int) or not isinstance(length, int) or length <= 0:
        if record.has_thumbnail is None:
            record.has_thumbnail = False
        return
    record.has_thumbnail = True
    if length > MAX_THUMBNAIL_BYTES:
        context.warn("thumbnail_unreadable", f"thumbnail length {length} is implausible", field="thumbnail_sha256")
        record.flags.append("thumbnail_truncated")
        return
    data = source.read_at(base + offset, length)
    if len(data) != length:
        context.warn("thumbnail_unreadable", f"thumbnail at {base + offset} needs {length} bytes, file has {len(data)}",
                     field="thumbnail_sha256")
        record.flags.append("thumbnail_truncated")
        return
    record.thumbnail_sha256 = hashlib.sha256(data).hexdigest()
    if not data.startswith(b"\xff\xd8"):
        # Kept and hashed as stored; exiftool -b refuses it unless -m ("not a valid JPEG image").
        record.flags.append("thumbnail_not_jpeg")


# --- JPEG / MPO ---------------------------------------------------------------------------------


def jpeg_segments(source: MediaSource, context: MediaContext) -> list[tuple[int, int, int]]:
    """(marker, data offset, data length) of each marker segment before the scan (SOS)."""
    segments: list[tuple[int, int, int]] = []
    position = 2
    while len(segments) < MAX_SEGMENTS:
        header = source.read_at(position, 4)
        if len(header) < 2 or header[0] != 0xFF:
            context.warn("malformed_media", f"JPEG marker expected at {position}", field="exif")
            break
        marker = header[1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            position += 2  # no length field
            if marker == 0xD9:
                break
            continue
        if len(header) < 4:
            context.warn("malformed_media", f"JPEG segment header truncated at {position}", field="exif")
            break
        (length,) = struct.unpack(">H", header[2:4])
        if length < 2:
            context.warn("malformed_media", f"JPEG segment length {length} at {position}", field="exif")
            break
        segments.append((marker, position + 4, length - 2))
        if marker == 0xDA:
            break
        position += 2 + length
    return segments


def _read_jpeg(source: MediaSource, record: MediaRecord, context: MediaContext) -> None:
    """JPEG (or MPO): size via Pillow, EXIF/XMP/MPF from the APP segments."""
    pillow_format = _pillow_size(source, record, context)
    exif_read = False
    xmp: bytes | None = None
    images: int | None = None
    for marker, offset, length in jpeg_segments(source, context):
        if marker == 0xE1:
            prefix = source.read_at(offset, len(XMP_HEADER))
            if prefix.startswith(EXIF_HEADER) and not exif_read:
                # The first Exif APP1 is the one readers (and exiftool) use.
                exif_read = True
                block = source.read_at(offset + len(EXIF_HEADER), length - len(EXIF_HEADER))
                _apply_exif_block(block, offset + len(EXIF_HEADER), source, record, context)
            elif prefix == XMP_HEADER and xmp is None:
                xmp = source.read_at(offset + len(XMP_HEADER), length - len(XMP_HEADER))
        elif marker == 0xE2 and images is None and source.read_at(offset, 4) == MPF_HEADER:
            images = _mpf_image_count(source.read_at(offset + 4, length - 4), context)
        elif marker in SOF_MARKERS and record.width is None and length >= 5:
            # Pillow could not open it: the frame header still gives the size.
            size = source.read_at(offset + 1, 4)
            if len(size) == 4:
                record.height, record.width = struct.unpack(">HH", size)
    if pillow_format == "MPO" or (images is not None and images > 1):
        record.container_format = "MPO"
    if record.has_thumbnail is None:
        record.has_thumbnail = False
    if xmp:
        apply_xmp(xmp, record, context)


def _mpf_image_count(block: bytes, context: MediaContext) -> int | None:
    """NumberOfImages (0xB001) of the MP Index IFD that follows the APP2 'MPF\\0' header."""
    try:
        value = exif_from_tiff_bytes(block).get(MP_NUMBER_OF_IMAGES)
    except MEDIA_ERRORS as error:
        context.warn("malformed_media", f"MPF index unreadable: {type(error).__name__}: {error}", field="container_format")
        return None
    return value if isinstance(value, int) else None


# --- TIFF family --------------------------------------------------------------------------------


def _read_tiff(source: MediaSource, record: MediaRecord, context: MediaContext) -> None:
    """TIFF, DNG, CR2, NEF, ARW: IFD0 and its sub-IFDs, offsets from the start of the file."""
    _pillow_size(source, record, context)
    exif = Image.Exif()
    try:
        # Not Image.getexif(): for TIFF it copies an XMP tiff:Orientation into the EXIF, and the
        # record must say where a value came from.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exif.load_from_fp(source.open())
            ifd0 = dict(exif.items())
    except MEDIA_ERRORS as error:
        context.warn("exif_unreadable", f"TIFF IFD0 unreadable: {type(error).__name__}: {error}", field="exif")
        return
    exif.exhibit_load_warnings = [str(warning.message) for warning in caught]  # type: ignore[attr-defined]
    if record.width is None and isinstance(ifd0.get(IMAGE_WIDTH), int) and isinstance(ifd0.get(IMAGE_LENGTH), int):
        record.width, record.height = ifd0[IMAGE_WIDTH], ifd0[IMAGE_LENGTH]  # Pillow refused the header
    if record.container_format == "TIFF":
        record.container_format = _tiff_kind(ifd0)
    if ifd0.get(NEW_SUBFILE_TYPE) == 1 and SUB_IFDS in ifd0:
        # IFD0 is a reduced-resolution preview (DNG, NEF): the primary image is the SubIFD
        # whose NewSubfileType is 0 (full resolution), which is also what exiftool's ImageSize is.
        _primary_sub_ifd_size(source, ifd0[SUB_IFDS], record, context)
    apply_exif(record, exif, context)
    if record.container_format in RAW_CONTAINERS:
        # Their previews live in IFD0/SubIFDs; only an IFD1 thumbnail is reported.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # reported by ifd1_thumbnail if it matters
                ifd1 = exif.get_ifd(ExifTags.IFD.IFD1)
        except MEDIA_ERRORS:
            ifd1 = {}
        if ifd1.get(JPEG_IF_LENGTH):
            ifd1_thumbnail(exif, 0, source, record, context)
    else:
        ifd1_thumbnail(exif, 0, source, record, context)
    packet = ifd0.get(XML_PACKET)
    if isinstance(packet, (bytes, str)):
        apply_xmp(packet.encode("latin-1") if isinstance(packet, str) else packet, record, context)


def _primary_sub_ifd_size(source: MediaSource, offsets: Any, record: MediaRecord, context: MediaContext) -> None:
    """Width and height of the first full-resolution SubIFD (offsets from the start of the file)."""
    endian = "<" if source.read_at(0, 2) == b"II" else ">"
    for offset in offsets if isinstance(offsets, tuple) else (offsets,):
        if not isinstance(offset, int):
            continue
        tags = _ifd_scalars(source, offset, endian, (NEW_SUBFILE_TYPE, IMAGE_WIDTH, IMAGE_LENGTH))
        if tags is None:
            context.warn("malformed_media", f"SubIFD at {offset} unreadable", field="width")
            continue
        if tags.get(NEW_SUBFILE_TYPE, 0) == 0 and IMAGE_WIDTH in tags and IMAGE_LENGTH in tags:
            record.width, record.height = tags[IMAGE_WIDTH], tags[IMAGE_LENGTH]
            return


def _ifd_scalars(source: MediaSource, offset: int, endian: str, wanted: tuple[int, ...]) -> dict[int, int] | None:
    """Single SHORT or LONG values of `wanted` tags in the classic-TIFF IFD at `offset` (TIFF 6.0 section 2)."""
    count_bytes = source.read_at(offset, 2)
    if len(count_bytes) < 2:
        return None
    (count,) = struct.unpack(endian + "H", count_bytes)
    entries = source.read_at(offset + 2, 12 * count)
    if len(entries) < 12 * count:
        return None
    found: dict[int, int] = {}
    for index in range(count):
        tag, kind, number = struct.unpack(endian + "HHI", entries[12 * index: 12 * index + 8])
        if tag in wanted and number == 1 and kind in (3, 4):  # SHORT, LONG
            value = entries[12 * index + 8: 12 * index + 12]
            found[tag] = struct.unpack(endian + ("H" if kind == 3 else "I"), value[: 2 if kind == 3 else 4])[0]
    return found


def _tiff_kind(ifd0: dict[int, Any]) -> str:
    """DNG by DNGVersion; NEF/ARW by Make plus SubIFDs (where those raws keep the sensor data)."""
    if DNG_VERSION in ifd0:
        return "DNG"
    try:
        make = (clean_text(ifd0.get(MAKE_TAG), trim=True) or "").upper() if ifd0.get(MAKE_TAG) is not None else ""
    except ValueError:
        make = ""
    if SUB_IFDS in ifd0:
        if make.startswith("NIKON"):
            return "NEF"
        if make == "SONY":
            return "ARW"
    return "TIFF"


# --- PNG ----------------------------------------------------------------------------------------


def _read_png(source: MediaSource, record: MediaRecord, context: MediaContext) -> None:
    """IHDR size; eXIf (else a raw-profile EXIF text); XMP in iTXt/tEXt/zTXt: chunk headers up to IEND."""
    position = 8
    exif_done = False
    xmp: bytes | None = None
    raw_profile: bytes | None = None
    for _ in range(MAX_SEGMENTS * 64):  # many IDAT chunks are normal; a bound still stops loops
        header = source.read_at(position, 8)
        if len(header) < 8:
            context.warn("malformed_media", f"PNG ends without IEND at {position}", field=None)
            break
        length, kind = struct.unpack(">I4s", header)
        data_offset = position + 8
        if data_offset + length > source.size:
            context.warn("malformed_media", f"PNG chunk {kind!r} at {position} runs past the end", field=None)
            break
        if kind == b"IHDR" and length >= 8:
            record.width, record.height = struct.unpack(">II", source.read_at(data_offset, 8))
        elif kind == b"eXIf" and not exif_done:
            exif_done = True
            _apply_exif_block(source.read_at(data_offset, length), data_offset, source, record, context)
        elif kind in (b"iTXt", b"tEXt", b"zTXt") and xmp is None and length <= MAX_XMP_BYTES:
            if source.read_at(data_offset, len(PNG_XMP_KEY) + 1) == PNG_XMP_KEY + b"\x00":
                xmp = _png_text(kind, source.read_at(data_offset, length), context)
            elif raw_profile is None:
                keyword = source.read_at(data_offset, 80).split(b"\x00", 1)[0]
                if keyword in PNG_RAW_EXIF_KEYS:
                    raw_profile = _png_text(kind, source.read_at(data_offset, length), context, keyword) or b""
        elif kind == b"IEND":
            break
        position = data_offset + length + 4  # + CRC
    if raw_profile and not exif_done:
        block = _raw_profile_exif(raw_profile, context)
        if block is not None:
            # The EXIF exists only decoded, so its IFD1 thumbnail offsets are read in that copy.
            decoded = MediaSource(lambda offset, size: block[offset:offset + size], len(block), source.name)
            _apply_exif_block(block, 0, decoded, record, context)
    if record.has_thumbnail is None:
        record.has_thumbnail = False
    if xmp:
        apply_xmp(xmp, record, context)


def _raw_profile_exif(text: bytes, context: MediaContext) -> bytes | None:
    """The EXIF block of an ImageMagick "Raw profile type exif/APP1" text: a TIFF header (after "Exif\\0\\0").

    The text is: newline, profile name, newline, the byte count (space-padded decimal), newline,
    then the bytes as hex digits in lines (ImageMagick's png.c writer; exiftool reads the same).
    """
    parts = text.split(None, 2)
    if len(parts) < 3 or not parts[1].isdigit():
        context.warn("exif_unreadable", "PNG raw profile text is not 'name, length, hex'", field="exif")
        return None
    declared = int(parts[1])
    digits = b"".join(parts[2].split())
    try:
        data = bytes.fromhex(digits[: 2 * declared].decode("ascii"))
    except (ValueError, UnicodeDecodeError) as error:
        context.warn("exif_unreadable", f"PNG raw profile hex unreadable: {error}", field="exif")
        return None
    if len(data) != declared:
        context.warn("exif_damaged", f"PNG raw profile declares {declared} bytes, holds {len(data)}", field="exif")
    if data.startswith(EXIF_HEADER):
        data = data[len(EXIF_HEADER):]
    if data[:4] not in TIFF_SIGNATURES:
        context.warn("exif_unreadable", "PNG raw profile does not hold a TIFF/EXIF header", field="exif")
        return None
    return data


def _png_text(kind: bytes, chunk: bytes, context: MediaContext, keyword: bytes = PNG_XMP_KEY) -> bytes | None:
    """The text of a tEXt/zTXt/iTXt chunk (keyword already checked), decompressed if need be."""
    rest = chunk[len(keyword) + 1:]
    try:
        if kind == b"tEXt":
            return rest
        if kind == b"zTXt":
            return _inflate(rest[1:])
        compressed = rest[0] == 1
        text = rest[2:].split(b"\x00", 2)[2]  # after language tag and translated keyword
        return _inflate(text) if compressed else text
    except (IndexError, zlib.error) as error:
        if keyword == PNG_XMP_KEY:
            context.warn("xmp_unreadable", f"PNG {kind.decode()} XMP unreadable: {error}", field="xmp")
        else:
            context.warn("exif_unreadable", f"PNG {kind.decode()} raw profile unreadable: {error}", field="exif")
        return None


def _inflate(data: bytes) -> bytes:
    """zlib data inflated to at most MAX_XMP_BYTES (a small chunk must not become gigabytes)."""
    return zlib.decompressobj().decompress(data, MAX_XMP_BYTES)


# --- WebP ---------------------------------------------------------------------------------------


def _read_webp(source: MediaSource, record: MediaRecord, context: MediaContext) -> None:
    """RIFF chunks: VP8X/VP8/VP8L for the size, EXIF and XMP; image data is skipped."""
    end = min(source.size, 8 + int.from_bytes(source.read_at(4, 4), "little"))
    position = 12
    xmp: bytes | None = None
    for _ in range(MAX_SEGMENTS):
        header = source.read_at(position, 8)
        if len(header) < 8 or position >= end:
            break
        kind, length = struct.unpack("<4sI", header)
        data_offset = position + 8
        if kind == b"VP8X" and length >= 10:
            data = source.read_at(data_offset, 10)
            record.width = 1 + int.from_bytes(data[4:7], "little")
            record.height = 1 + int.from_bytes(data[7:10], "little")
        elif kind == b"VP8 " and record.width is None and length >= 10:
            data = source.read_at(data_offset, 10)
            if data[3:6] == b"\x9d\x01\x2a":  # key frame start code
                record.width = struct.unpack("<H", data[6:8])[0] & 0x3FFF
                record.height = struct.unpack("<H", data[8:10])[0] & 0x3FFF
        elif kind == b"VP8L" and record.width is None and length >= 5:
            data = source.read_at(data_offset, 5)
            if data[0] == 0x2F:
                bits = int.from_bytes(data[1:5], "little")
                record.width = (bits & 0x3FFF) + 1
                record.height = ((bits >> 14) & 0x3FFF) + 1
        elif kind == b"EXIF" and record.has_thumbnail is None:
            block = source.read_at(data_offset, length)
            skip = len(EXIF_HEADER) if block.startswith(EXIF_HEADER) else 0
            _apply_exif_block(block[skip:], data_offset + skip, source, record, context)
            record.has_thumbnail = bool(record.has_thumbnail)
        elif kind == b"XMP " and xmp is None and length <= MAX_XMP_BYTES:
            xmp = source.read_at(data_offset, length)
        position = data_offset + length + (length & 1)  # chunks are padded to even size
    if record.has_thumbnail is None:
        record.has_thumbnail = False
    if xmp:
        apply_xmp(xmp, record, context)


# --- GIF ----------------------------------------------------------------------------------------


def _read_gif(source: MediaSource, record: MediaRecord, context: MediaContext) -> None:
    """GIF has no EXIF: the logical screen size is all it records here."""
    _pillow_size(source, record, context)
    record.has_thumbnail = False
