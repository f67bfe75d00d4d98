"""MP4, QuickTime (MOV), M4V and 3GP: the ISO base media file format's metadata boxes, read by seeking.

No maintained Python library reads these headers without also pulling in a decoder or reading the
whole file, so this is a small box reader of our own. It reads box headers with `source.read_at`
and the payload of only the boxes it needs (never `mdat`, never the sample-size/offset tables).

Which files are ours (decided by the MAJOR brand of the first `ftyp` box): every brand except the
still-image brands (heic, heix, heim, heis, hevc, hevx, mif1, mif2, msf1, miaf, avci, avif, avis,
crx : the `heif` reader owns them, HEIF/AVIF/CR3) and the audio-only iTunes brands (M4A, M4B, M4P, F4A, F4B: not a photo or
video). `qt  ` is "QuickTime", M4V/M4VH/M4VP "M4V", 3gp*/3g2* "3GP", anything else "MP4". Old
QuickTime files have no `ftyp`: they are ours when the first box is moov/mdat/wide/free/skip/pnot
and the boxes seen in the first 4096 bytes are top-level QuickTime boxes (a moov found there, or a
box that runs past the head, whose moov is then looked for by `read`; none found is a warning).

Fields (sources: ISO/IEC 14496-12 for mvhd/tkhd/mdhd/hdlr/stsd/stts/mehd; Apple "QuickTime File
Format Specification" for udta text atoms, the `meta`/`keys`/`ilst` metadata and the
com.apple.quicktime.* keys; ISO 6709 for location text; 3GPP TS 26.244 for `loci`; GoPro's GPMF
documentation (github.com/gopro/gpmf-parser) for the udta FIRM box and the GPMF MINF/CASN keys):

- capture time, in this order of preference:
  1. com.apple.quicktime.creationdate: local time WITH its offset ("2019-02-12T15:27:12+08:00"),
     the camera's own clock at capture: capture_time_raw is the text as stored, capture_offset the
     offset text, capture_time_utc from both; capture_time_source "quicktime_creation_date".
  2. mvhd creation time (seconds since 1904-01-01 UTC by the specification): capture_time_raw is the
     stored value as ISO text without a zone ("2023-09-22T16:34:05"), capture_time_utc that value
     as UTC; capture_time_source "mvhd_creation_time". Some cameras store local time here; the file
     does not say so, and exiftool (without -api QuickTimeUTC) shows the same stored clock value.
     A stored 0 (1904-01-01T00:00:00) is kept raw, flagged capture_time_invalid, no UTC.
  3. udta ©day text, as stored (UTC only when it carries an offset); source "quicktime_day".
  modified_time_*: the mvhd modification time the same way (0 is flagged modified_time_invalid).
- width/height/orientation: the first track whose handler is 'vide' (tkhd 16.16 size, rounded;
  stsd's size when tkhd has none); orientation 1/6/3/8 from a pure 0/90/180/270 rotation matrix,
  None (and a warning) for a mirror or other matrix. Width/height are the stored (unrotated) size.
- codec: that track's first stsd sample-entry fourcc; frame_rate: samples * mdhd timescale / total
  stts duration (the average rate, as exiftool's VideoFrameRate); duration: mvhd (or mvex/mehd for
  a fragmented file whose mvhd duration is 0).
- GPS, first found: com.apple.quicktime.location.ISO6709 ("quicktime_iso6709"), udta ©xyz
  ("quicktime_xyz"), 3GPP udta loci ("3gpp_loci"). 0,0 is flagged gps_all_zero; a latitude beyond
  90 or longitude beyond 180 is kept and flagged.
- make/model/software: Apple keys, then udta ©mak/©mod/©swr, then com.android.manufacturer/model
  keys; GoPro: model from GPMF MINF, body_serial from GPMF CASN, software from udta FIRM, lens_serial
  from udta LENS; lens_model
  from com.apple.quicktime.camera.lens_model (a track-level key on recent iPhones/iPads); ilst ©too
  (encoder) is the software of last resort.
- content_identifier: com.apple.quicktime.content.identifier (the Live Photo link).
- XMP (udta 'XMP_' in QuickTime files, or a 'uuid' box of Adobe's XMP type at the top level or in
  moov) is read last by parsers.media.xmp and fills only what the boxes left empty.
Not read (documented gaps): Samsung's udta 'smta' (no public specification), the GPMF GPS
track (a telemetry stream in mdat), and the per-sample Apple timed metadata track.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterator

from manifests.records import MediaRecord, decode_text
from parsers.media.base import MEDIA_ERRORS, MediaContext, MediaReader, MediaSource
from parsers.media.xmp import MAX_XMP_BYTES, apply_xmp

_NS = 1_000_000_000
_MAC_EPOCH = datetime(1904, 1, 1, tzinfo=timezone.utc)
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

IMAGE_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"mif2", b"msf1", b"miaf", b"avci",
                          b"avif", b"avis", b"crx "})
AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "})
M4V_BRANDS = frozenset({b"M4V ", b"M4VH", b"M4VP"})
# Boxes that may begin an old QuickTime file (no ftyp), and those that may follow at the top level.
_QT_FIRST = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_QT_TOP = _QT_FIRST | {b"uuid", b"junk", b"PICT", b"ftyp", b"meta", b"udta"}

_MAX_CHILDREN = 4096          # boxes per container before we call it damaged
_MAX_PAYLOAD = 16 << 20       # largest metadata box payload we read (stts of a very long video)
_MAX_TOP_BOXES = 100_000
_BOXES_AFTER_MOOV = 8  # top-level boxes looked at after moov, for an XMP uuid
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")  # Adobe XMP in ISO files

# ilst 'data' well-known types we turn into text (Apple QuickTime File Format, "Well-known types").
_DATA_UTF8 = 1
_DATA_UTF16 = 2


@dataclass
class _Box:
    kind: bytes
    start: int          # offset of the box header
    body: int           # offset of the payload
    end: int            # offset just after the box

    @property
    def size(self) -> int:
        return self.end - self.body


@dataclass
class _Track:
    handler: bytes | None = None
    width: float | None = None
    height: float | None = None
    matrix: tuple[int, ...] | None = None
    timescale: int | None = None
    codec: str | None = None
    entry_width: int | None = None
    entry_height: int | None = None
    samples: int | None = None
    sample_time: int | None = None
    keys: dict[str, str] = field(default_factory=dict)


@dataclass
class _Found:
    """Everything read from moov, before choosing which value wins."""

    major_brand: bytes | None = None
    created: int | None = None
    modified: int | None = None
    timescale: int | None = None
    duration: int | None = None
    fragment_duration: int | None = None
    tracks: list[_Track] = field(default_factory=list)
    udta: dict[bytes, str] = field(default_factory=dict)
    loci: tuple[float, float, float] | None = None
    keys: dict[str, str] = field(default_factory=dict)
    ilst: dict[bytes, str] = field(default_factory=dict)
    gopro: dict[bytes, str] = field(default_factory=dict)
    xmp: bytes | None = None


def _fourcc(kind: bytes) -> str:
    """A box type or codec as text: Latin-1 (©xyz is 0xA9 'xyz'), anything unprintable escaped."""
    text = kind.decode("latin-1")
    return text if text.isprintable() else kind.decode("ascii", errors="backslashreplace")


def _boxes(source: MediaSource, start: int, end: int, context: MediaContext, where: str, limit: int = _MAX_CHILDREN) -> Iterator[_Box]:
    """The boxes between `start` and `end`, from their headers only; a bad size stops with a warning."""
    offset = start
    count = 0
    while offset + 8 <= end:
        count += 1
        if count > limit:
            context.warn("malformed_media", f"more than {limit} boxes in {where}; the rest is not read")
            return
        header = source.read_at(offset, 8)  # 8 more only for a 64-bit size: nothing of an mdat is read
        if len(header) < 8:
            context.warn("malformed_media", f"{where}: truncated box header at offset {offset}")
            return
        size, kind = struct.unpack(">I4s", header[:8])
        body = offset + 8
        if size == 1:
            header += source.read_at(offset + 8, 8)
            if len(header) < 16:
                context.warn("malformed_media", f"{where}: truncated 64-bit box size at offset {offset}")
                return
            size = struct.unpack(">Q", header[8:16])[0]
            body = offset + 16
        elif size == 0:  # the box runs to the end of its parent (ISO 14496-12 4.2)
            size = end - offset
        if size < body - offset:
            context.warn("malformed_media", f"{where}: box {_fourcc(kind)!r} at offset {offset} has impossible size {size}")
            return
        box_end = offset + size
        if box_end > end:
            context.warn("malformed_media", f"{where}: box {_fourcc(kind)!r} at offset {offset} runs past its parent (truncated file?)")
            box_end = end
        yield _Box(kind, offset, body, box_end)
        offset = box_end


def _payload(source: MediaSource, box: _Box, context: MediaContext, limit: int = _MAX_PAYLOAD) -> bytes:
    """A box's payload, read only for the small metadata boxes we parse."""
    if box.size > limit:
        context.warn("malformed_media", f"box {_fourcc(box.kind)!r} of {box.size} bytes is larger than {limit}; only its start is read")
    return source.read_at(box.body, min(box.size, limit))


def _children_of_meta(source: MediaSource, box: _Box, context: MediaContext) -> Iterator[_Box]:
    """A 'meta' box's children: a full box in ISO files, a plain container in QuickTime files."""
    peek = source.read_at(box.body, 8)
    start = box.body if peek[4:8] == b"hdlr" else box.body + 4
    return _boxes(source, start, box.end, context, "meta")


def _data_value(payload: bytes) -> str | None:
    """The text of the first 'data' box in an ilst item (type 1 UTF-8, 2 UTF-16); None otherwise."""
    offset = 0
    while offset + 16 <= len(payload):
        size, kind = struct.unpack(">I4s", payload[offset:offset + 8])
        if size < 16:
            return None
        if kind == b"data":
            well_known = int.from_bytes(payload[offset + 9:offset + 12], "big")
            value = payload[offset + 16:offset + size]
            if well_known == _DATA_UTF8:
                return decode_text(value)
            if well_known == _DATA_UTF16:
                return value.decode("utf-16-be", errors="backslashreplace")
            return None
        offset += size
    return None


def _text_atom(payload: bytes) -> str | None:
    """A udta ©xxx text atom: [u16 length][u16 language][text] (QuickTime), or a 'data' child (iTunes style).

    Language codes below 0x400 are Macintosh language codes, whose text is Mac Roman; others are
    packed ISO 639-2 codes, whose text is UTF-8 (QuickTime File Format, "User data text").
    """
    if payload[4:8] == b"data":
        return _data_value(payload)
    if len(payload) < 4:
        return None
    length, language = struct.unpack(">HH", payload[:4])
    text = payload[4:4 + length]
    if language < 0x400:
        value = text.decode("mac_roman")
    elif text.startswith(b"\xfe\xff"):
        value = text[2:].decode("utf-16-be", errors="backslashreplace")
    else:
        value = decode_text(text)
    return value.split("\x00", 1)[0]


def _read_keys(source: MediaSource, meta: _Box, context: MediaContext) -> dict[str, str]:
    """Text values of an Apple `keys` + `ilst` metadata box (handler 'mdta'), by key name."""
    names: dict[int, str] = {}
    found: dict[str, str] = {}
    items: _Box | None = None
    for child in _children_of_meta(source, meta, context):
        if child.kind == b"keys":
            data = _payload(source, child, context)
            count = struct.unpack(">I", data[4:8])[0]
            offset = 8
            for index in range(1, count + 1):
                if offset + 8 > len(data):
                    context.warn("malformed_media", "keys box ends before its last key")
                    break
                size = struct.unpack(">I", data[offset:offset + 4])[0]
                if size < 8:
                    context.warn("malformed_media", f"keys entry {index} has impossible size {size}")
                    break
                names[index] = data[offset + 8:offset + size].decode("utf-8", errors="backslashreplace")
                offset += size
        elif child.kind == b"ilst":
            items = child
    if items is not None:
        for item in _boxes(source, items.body, items.end, context, "ilst"):
            name = names.get(int.from_bytes(item.kind, "big"))
            if name is None:
                continue
            value = _data_value(_payload(source, item, context))
            if value is not None:
                found[name] = value
    return found


def _read_ilst(source: MediaSource, meta: _Box, context: MediaContext) -> dict[bytes, str]:
    """Text items of an iTunes-style `meta`/`ilst` (handler 'mdir'), by item fourcc."""
    found: dict[bytes, str] = {}
    for child in _children_of_meta(source, meta, context):
        if child.kind != b"ilst":
            continue
        for item in _boxes(source, child.body, child.end, context, "ilst"):
            if item.kind in (b"\xa9day", b"\xa9too", b"\xa9mak", b"\xa9mod", b"\xa9swr", b"\xa9xyz"):
                value = _data_value(_payload(source, item, context))
                if value is not None:
                    found[item.kind] = value
    return found


def _meta_handler(source: MediaSource, meta: _Box, context: MediaContext) -> bytes | None:
    for child in _children_of_meta(source, meta, context):
        if child.kind == b"hdlr":
            data = source.read_at(child.body, 12)
            return data[8:12] if len(data) >= 12 else None
    return None


def _read_meta(source: MediaSource, meta: _Box, found: _Found, context: MediaContext) -> None:
    handler = _meta_handler(source, meta, context)
    if handler == b"mdta":
        found.keys.update(_read_keys(source, meta, context))
    elif handler == b"mdir":
        for kind, value in _read_ilst(source, meta, context).items():
            found.ilst.setdefault(kind, value)


def _read_gpmf(data: bytes, found: _Found, depth: int = 0) -> None:
    """GoPro GPMF KLV (key 4, type 1, struct size 1, repeat u16; payload padded to 4): MINF, CASN, FMWR."""
    offset = 0
    while offset + 8 <= len(data) and depth < 4:
        key = data[offset:offset + 4]
        kind = data[offset + 4]
        length = data[offset + 5] * struct.unpack(">H", data[offset + 6:offset + 8])[0]
        value = data[offset + 8:offset + 8 + length]
        if key == b"\x00\x00\x00\x00":
            return
        if kind == 0:
            _read_gpmf(value, found, depth + 1)
        elif kind == ord("c") and key in (b"MINF", b"CASN", b"FMWR"):
            text = decode_text(value.split(b"\x00", 1)[0]).strip()
            if text:
                found.gopro.setdefault(key, text)
        offset += 8 + ((length + 3) & ~3)


def _read_udta(source: MediaSource, udta: _Box, found: _Found, context: MediaContext) -> None:
    for child in _boxes(source, udta.body, udta.end, context, "udta"):
        if child.kind in (b"\xa9xyz", b"\xa9mak", b"\xa9mod", b"\xa9swr", b"\xa9day"):
            value = _text_atom(_payload(source, child, context, 4096))
            if value:
                found.udta.setdefault(child.kind, value)
        elif child.kind == b"loci":
            found.loci = found.loci or _loci(_payload(source, child, context, 4096))
        elif child.kind in (b"FIRM", b"LENS"):
            value = decode_text(_payload(source, child, context, 256).split(b"\x00", 1)[0]).strip()
            if value:
                found.gopro.setdefault(child.kind, value)
        elif child.kind == b"GPMF":
            _read_gpmf(_payload(source, child, context, 1 << 20), found)
        elif child.kind == b"XMP_" and found.xmp is None:
            found.xmp = _payload(source, child, context, MAX_XMP_BYTES)
        elif child.kind == b"meta":
            _read_meta(source, child, found, context)


def _loci(payload: bytes) -> tuple[float, float, float] | None:
    """3GPP TS 26.244 'loci': version/flags, language, name (NUL-ended), role, longitude, latitude, altitude (16.16)."""
    if len(payload) < 6:
        return None
    end = payload.find(b"\x00", 6)
    if payload[6:8] in (b"\xfe\xff", b"\xff\xfe"):  # UTF-16 name ends with a 16-bit NUL
        end = 8
        while end + 1 < len(payload) and payload[end:end + 2] != b"\x00\x00":
            end += 2
        end += 1
    if end < 0 or end + 1 + 1 + 12 > len(payload):
        return None
    longitude, latitude, altitude = struct.unpack(">iii", payload[end + 2:end + 14])
    return latitude / 65536, longitude / 65536, altitude / 65536


def _read_track(source: MediaSource, trak: _Box, context: MediaContext) -> _Track:
    track = _Track()
    stack = [trak]
    while stack:
        box = stack.pop()
        for child in _boxes(source, box.body, box.end, context, _fourcc(box.kind)):
            if child.kind in (b"mdia", b"minf", b"stbl"):
                stack.append(child)
            elif child.kind == b"tkhd":
                _tkhd(_payload(source, child, context, 256), track)
            elif child.kind == b"mdhd":
                data = _payload(source, child, context, 256)
                track.timescale = struct.unpack(">I", data[20:24] if data[0] == 1 else data[12:16])[0]
            elif child.kind == b"hdlr" and box.kind == b"mdia":
                track.handler = source.read_at(child.body + 8, 4)
            elif child.kind == b"stsd":
                data = _payload(source, child, context, 4096)
                if len(data) >= 16 and struct.unpack(">I", data[4:8])[0] >= 1:
                    track.codec = _fourcc(data[12:16])
                    if len(data) >= 8 + 8 + 32:
                        # VisualSampleEntry: 6 reserved, u16 data ref, 16 reserved, u16 width, u16 height.
                        track.entry_width, track.entry_height = struct.unpack(">HH", data[16 + 24:16 + 28])
            elif child.kind == b"stts":
                data = _payload(source, child, context)
                count = struct.unpack(">I", data[4:8])[0]
                entries = min(count, (len(data) - 8) // 8)
                pairs = struct.unpack(f">{entries * 2}I", data[8:8 + entries * 8])
                track.samples = sum(pairs[0::2])
                track.sample_time = sum(c * d for c, d in zip(pairs[0::2], pairs[1::2], strict=True))
            elif child.kind == b"meta" and box.kind == b"trak":
                if _meta_handler(source, child, context) == b"mdta":
                    track.keys.update(_read_keys(source, child, context))
    return track


def _tkhd(data: bytes, track: _Track) -> None:
    """tkhd: after the times/ids/duration (v0 20 bytes, v1 32), 8 reserved, layer/group/volume/reserved 8, matrix 36, w/h 16.16."""
    offset = 4 + (32 if data[0] == 1 else 20) + 16
    matrix = struct.unpack(">9i", data[offset:offset + 36])
    width, height = struct.unpack(">II", data[offset + 36:offset + 44])
    track.matrix = matrix
    track.width, track.height = width / 65536, height / 65536


def _orientation(matrix: tuple[int, ...] | None, context: MediaContext) -> int | None:
    """EXIF orientation of a pure rotation matrix (a b / c d of the 3x3, 16.16): 0, 90, 180, 270 degrees."""
    if matrix is None:
        return None
    a, b, _, c, d, _, _, _, _ = matrix
    sign = lambda value: (value > 0) - (value < 0)  # noqa: E731 - scale does not change the rotation
    shape = (sign(a), sign(b), sign(c), sign(d))
    rotations = {(1, 0, 0, 1): 1, (0, 1, -1, 0): 6, (-1, 0, 0, -1): 3, (0, -1, 1, 0): 8}
    if shape in rotations:
        return rotations[shape]
    context.warn("unusual_value", f"track matrix {matrix[:2]}{matrix[3:5]} is not a pure rotation; orientation not set", field="orientation")
    return None


def _mac_time(seconds: int) -> tuple[str, int | None]:
    """(ISO text of the stored value, its ns since 1970) for seconds since 1904-01-01 UTC."""
    try:
        moment = _MAC_EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return str(seconds), None
    return moment.strftime("%Y-%m-%dT%H:%M:%S"), (seconds - int((_UNIX_EPOCH - _MAC_EPOCH).total_seconds())) * _NS


_ISO_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?$")


def _parse_local(text: str) -> tuple[str | None, int | None]:
    """(offset text, UTC ns) of an ISO 8601 date-time; UTC only when the offset is recorded."""
    match = _ISO_TIME.match(text.strip())
    if match is None:
        return None, None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, offset = match.group(7), match.group(8)
    if offset is None:
        return None, None
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return offset, None
    minutes = 0 if offset == "Z" else (int(offset[1:3]) * 60 + int(offset[-2:])) * (1 if offset[0] == "+" else -1)
    seconds = int((local - _UNIX_EPOCH).total_seconds()) - minutes * 60
    nanos = int((fraction or "0")[:9].ljust(9, "0"))
    return offset, seconds * _NS + nanos


_ISO6709 = re.compile(r"^\s*([+-]\d+(?:\.\d*)?)([+-]\d+(?:\.\d*)?)([+-]\d+(?:\.\d*)?)?")


def _iso6709_degrees(text: str, degree_digits: int) -> float:
    """An ISO 6709 angle: ±DD[.d], ±DDMM[.m] or ±DDMMSS[.s] (DDD for longitude).

    Any other number of integer digits (e.g. "+213.0000", an impossible latitude) is read as
    decimal degrees and kept as written, so the out-of-range value can be flagged, not dropped.
    """
    sign = -1.0 if text[0] == "-" else 1.0
    whole, _, fraction = text[1:].partition(".")
    fraction_value = float("0." + fraction) if fraction else 0.0
    if len(whole) not in (degree_digits + 2, degree_digits + 4):
        return sign * (int(whole) + fraction_value)
    degrees = int(whole[:degree_digits])
    minutes_text = whole[degree_digits:degree_digits + 2]
    if len(whole) == degree_digits + 2:
        return sign * (degrees + (int(minutes_text) + fraction_value) / 60)
    seconds = int(whole[degree_digits + 2:]) + fraction_value
    return sign * (degrees + int(minutes_text) / 60 + seconds / 3600)


def parse_iso6709(text: str) -> tuple[float, float, float | None] | None:
    """(latitude, longitude, altitude or None) of ISO 6709 text such as "+52.4597+013.3220+051.178/"."""
    match = _ISO6709.match(text)
    if match is None:
        return None
    latitude = _iso6709_degrees(match.group(1), 2)
    longitude = _iso6709_degrees(match.group(2), 3)
    altitude = float(match.group(3)) if match.group(3) else None
    return latitude, longitude, altitude


class IsoBmffVideoReader(MediaReader):
    """MP4 / QuickTime / M4V / 3GP headers, by seeking from box to box."""

    name = "isobmff_video"
    version = "1"
    formats = ("MP4", "QuickTime", "M4V", "3GP")

    def recognise(self, head: bytes) -> str | None:
        if head[4:8] == b"ftyp" and len(head) >= 12:
            return container_of_brand(head[8:12])
        if head[4:8] in _QT_FIRST and _old_quicktime(head):
            return "QuickTime"
        return None

    def read(self, source: MediaSource, container: str, context: MediaContext) -> MediaRecord:
        found = _Found()
        moov: _Box | None = None
        after_moov = 0
        for box in _boxes(source, 0, source.size, context, "file", _MAX_TOP_BOXES):
            if box.kind == b"ftyp" and found.major_brand is None:
                found.major_brand = source.read_at(box.body, 4)
            elif box.kind == b"moov" and moov is None:
                moov = box
            elif box.kind == b"uuid" and found.xmp is None:
                found.xmp = _xmp_uuid(source, box, context)
            if moov is not None and box is not moov:
                after_moov += 1
                if after_moov >= _BOXES_AFTER_MOOV:
                    break  # a fragmented file has thousands of moof/mdat pairs: XMP sits near moov
        record = MediaRecord(container_format=container)
        if moov is None:
            context.warn("malformed_media", "no moov box: the file has no movie metadata (truncated or still being written?)")
            return record
        _read_moov(source, moov, found, context)
        _fill(record, found, context)
        if found.xmp:
            apply_xmp(found.xmp, record, context)  # fills only what the boxes above left empty
        return record


def _xmp_uuid(source: MediaSource, box: _Box, context: MediaContext) -> bytes | None:
    """The XMP packet of a 'uuid' box of Adobe's XMP type (XMP specification part 3, 1.1.4), else None."""
    if source.read_at(box.body, 16) != XMP_UUID:
        return None
    return _payload(source, _Box(box.kind, box.start, box.body + 16, box.end), context, MAX_XMP_BYTES)


def container_of_brand(major: bytes) -> str | None:
    """The container_format of an ftyp major brand, or None for brands other readers own."""
    if major in IMAGE_BRANDS or major in AUDIO_BRANDS:
        return None
    if major == b"qt  ":
        return "QuickTime"
    if major in M4V_BRANDS:
        return "M4V"
    if major[:3] in (b"3gp", b"3g2"):
        return "3GP"
    return "MP4"


def _old_quicktime(head: bytes) -> bool:
    """A QuickTime file without ftyp: top-level boxes of known types, a moov among them or beyond the head."""
    offset = 0
    while offset + 8 <= len(head):
        size, kind = struct.unpack(">I4s", head[offset:offset + 8])
        if kind not in (_QT_FIRST if offset == 0 else _QT_TOP):
            return False
        if kind == b"moov":
            return True
        if size == 1:
            if offset + 16 > len(head):
                return True
            size = struct.unpack(">Q", head[offset + 8:offset + 16])[0]
            if size < 16:
                return False
        elif size == 0:
            return False  # an mdat to the end of the file: no moov can follow
        elif size < 8:
            return False
        offset += size
    return offset > 0


def _read_moov(source: MediaSource, moov: _Box, found: _Found, context: MediaContext) -> None:
    for child in _boxes(source, moov.body, moov.end, context, "moov"):
        try:
            if child.kind == b"mvhd":
                data = _payload(source, child, context, 256)
                if data[0] == 1:
                    found.created, found.modified, found.timescale, found.duration = struct.unpack(">QQIQ", data[4:32])
                else:
                    found.created, found.modified, found.timescale, found.duration = struct.unpack(">IIII", data[4:20])
            elif child.kind == b"trak":
                found.tracks.append(_read_track(source, child, context))
            elif child.kind == b"udta":
                _read_udta(source, child, found, context)
            elif child.kind == b"meta":
                _read_meta(source, child, found, context)
            elif child.kind == b"uuid" and found.xmp is None:
                found.xmp = _xmp_uuid(source, child, context)
            elif child.kind == b"mvex":
                for part in _boxes(source, child.body, child.end, context, "mvex"):
                    if part.kind == b"mehd":
                        data = _payload(source, part, context, 64)
                        found.fragment_duration = struct.unpack(">Q" if data[0] == 1 else ">I", data[4:12] if data[0] == 1 else data[4:8])[0]
        except MEDIA_ERRORS as error:
            context.warn("malformed_media", f"box {_fourcc(child.kind)!r} could not be read: {type(error).__name__}: {error}")


def _fill(record: MediaRecord, found: _Found, context: MediaContext) -> None:
    """Choose each field's value from what moov held (preferences in the module docstring)."""
    keys = found.keys
    video = next((t for t in found.tracks if t.handler == b"vide"), None)
    if video is not None:
        record.codec = video.codec
        width = round(video.width) if video.width else video.entry_width or None
        height = round(video.height) if video.height else video.entry_height or None
        record.width, record.height = width, height
        record.orientation = _orientation(video.matrix, context)
        if video.samples and video.sample_time and video.timescale:
            record.frame_rate = video.samples * video.timescale / video.sample_time
        for track in found.tracks:
            for name, value in track.keys.items():
                keys.setdefault(name, value)
    duration = found.duration if found.duration else found.fragment_duration
    if found.timescale and duration is not None and duration not in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        record.duration_seconds = duration / found.timescale

    _fill_times(record, found, context)

    gopro = found.gopro
    record.make = keys.get("com.apple.quicktime.make") or found.udta.get(b"\xa9mak") or found.ilst.get(b"\xa9mak") or keys.get("com.android.manufacturer")
    record.model = (keys.get("com.apple.quicktime.model") or found.udta.get(b"\xa9mod") or found.ilst.get(b"\xa9mod")
                    or keys.get("com.android.model") or gopro.get(b"MINF"))
    record.software = (keys.get("com.apple.quicktime.software") or found.udta.get(b"\xa9swr") or found.ilst.get(b"\xa9swr")
                       or gopro.get(b"FIRM") or gopro.get(b"FMWR") or found.ilst.get(b"\xa9too"))
    record.body_serial = gopro.get(b"CASN")
    record.body_serial_source = "gopro_casn" if record.body_serial is not None else None
    record.lens_model = keys.get("com.apple.quicktime.camera.lens_model")
    record.lens_serial = gopro.get(b"LENS")
    record.content_identifier = keys.get("com.apple.quicktime.content.identifier")

    _fill_gps(record, found, context)


def _fill_times(record: MediaRecord, found: _Found, context: MediaContext) -> None:
    apple = found.keys.get("com.apple.quicktime.creationdate")
    if apple:
        offset, utc = _parse_local(apple)
        record.capture_time_raw, record.capture_offset, record.capture_time_utc = apple, offset, utc
        record.capture_time_source = "quicktime_creation_date"
        if utc is None and (offset is not None or not _ISO_TIME.match(apple.strip())):
            record.flags.append("capture_time_invalid")  # not a date-time, or an impossible one (month 13)
    elif found.created:
        record.capture_time_raw, record.capture_time_utc = _mac_time(found.created)
        record.capture_time_source = "mvhd_creation_time"
        if record.capture_time_utc is None:
            record.flags.append("capture_time_invalid")
    elif found.udta.get(b"\xa9day") or found.ilst.get(b"\xa9day"):
        day = found.udta.get(b"\xa9day") or found.ilst[b"\xa9day"]
        record.capture_time_raw = day
        record.capture_offset, record.capture_time_utc = _parse_local(day)
        record.capture_time_source = "quicktime_day"
    elif found.created == 0:
        record.capture_time_raw, _ = _mac_time(0)
        record.capture_time_source = "mvhd_creation_time"
        record.flags.append("capture_time_invalid")
    if found.modified is not None:
        record.modified_time_raw, utc = _mac_time(found.modified)
        if found.modified == 0 or utc is None:
            record.flags.append("modified_time_invalid")
        else:
            record.modified_time_utc = utc


def _fill_gps(record: MediaRecord, found: _Found, context: MediaContext) -> None:
    position: tuple[float, float, float | None] | None = None
    for text, source in ((found.keys.get("com.apple.quicktime.location.ISO6709"), "quicktime_iso6709"),
                         (found.udta.get(b"\xa9xyz") or found.ilst.get(b"\xa9xyz"), "quicktime_xyz")):
        if text:
            position = parse_iso6709(text)
            if position is None:
                context.warn("unreadable_value", f"location {text!r} is not ISO 6709 text", field="gps_latitude")
                continue
            record.gps_source = source
            break
    if position is None and found.loci is not None:
        position, record.gps_source = found.loci, "3gpp_loci"
    if position is None:
        return
    record.gps_latitude, record.gps_longitude, record.gps_altitude = position
    if record.gps_latitude == 0 and record.gps_longitude == 0:
        record.flags.append("gps_all_zero")
    if abs(record.gps_latitude) > 90:
        record.flags.append("gps_latitude_out_of_range")
    if abs(record.gps_longitude) > 180:
        record.flags.append("gps_longitude_out_of_range")


READER = IsoBmffVideoReader()
