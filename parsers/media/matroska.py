"""Matroska and WebM: the Segment's Info and Tracks elements, read by seeking (Clusters are skipped).

No maintained pure-Python library reads only the EBML headers, so this is a small EBML reader.
Facts from the Matroska specification (RFC 9559) and RFC 8794 (EBML): an element is a variable-length
ID (marker bits kept), a variable-length size (marker bit removed; all ones = unknown size) and data.

Recognised: an EBML header (1A 45 DF A3) whose DocType is "matroska" or "webm". WebM is a subset of
Matroska, so both are container_format "Matroska" (the schema's list has no WebM value; the codec,
V_VP8/V_VP9/V_AV1, tells them apart).

Read:
- Info: TimestampScale (default 1,000,000 ns), Duration (float, in TimestampScale units),
  DateUTC (signed ns since 2001-01-01T00:00:00 UTC, the muxing date: there is no other creation
  time in a Matroska file, so it is the capture time with capture_time_source "matroska_date_utc",
  capture_time_raw its ISO text with "Z" as the format defines it as UTC), WritingApp (software;
  MuxingApp when WritingApp is absent).
- Tracks: the first TrackEntry of TrackType 1 (video): CodecID, Video PixelWidth/PixelHeight,
  DefaultDuration (ns per frame, so frame_rate = 1e9 / DefaultDuration where recorded).
Info and Tracks are found by walking the Segment's children; when a Cluster of unknown size stops
the walk first, the SeekHead's positions are used.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator

from manifests.records import MediaRecord, decode_text
from parsers.media.base import MediaContext, MediaReader, MediaSource

EBML = 0x1A45DFA3
DOC_TYPE = 0x4282
SEGMENT = 0x18538067
SEEK_HEAD = 0x114D9B74
SEEK = 0x4DBB
SEEK_ID = 0x53AB
SEEK_POSITION = 0x53AC
INFO = 0x1549A966
TIMESTAMP_SCALE = 0x2AD7B1
DURATION = 0x4489
DATE_UTC = 0x4461
MUXING_APP = 0x4D80
WRITING_APP = 0x5741
TRACKS = 0x1654AE6B
TRACK_ENTRY = 0xAE
TRACK_TYPE = 0x83
CODEC_ID = 0x86
DEFAULT_DURATION = 0x23E383
VIDEO = 0xE0
PIXEL_WIDTH = 0xB0
PIXEL_HEIGHT = 0xBA
CLUSTER = 0x1F43B675

_MILLENNIUM = datetime(2001, 1, 1, tzinfo=timezone.utc)
_MILLENNIUM_NS = 978_307_200 * 1_000_000_000
_MAX_ELEMENT = 4 << 20      # largest Info/Tracks/SeekHead we read
_MAX_CHILDREN = 10_000
DOC_TYPES = ("matroska", "webm")


@dataclass
class _Element:
    id: int
    body: int
    end: int | None     # None: unknown size


def _vint(data: bytes, offset: int, keep_marker: bool) -> tuple[int, int] | None:
    """(value, length) of an EBML variable-length integer; None when it does not fit or is invalid."""
    if offset >= len(data):
        return None
    first = data[offset]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or offset + length > len(data):
        return None
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[offset + 1:offset + length]:
        value = (value << 8) | byte
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return -1, length  # unknown size
    return value, length


def _header(data: bytes, offset: int) -> tuple[int, int, int] | None:
    """(id, size or -1, header length) at `offset` of `data`."""
    ident = _vint(data, offset, keep_marker=True)
    if ident is None:
        return None
    size = _vint(data, offset + ident[1], keep_marker=False)
    if size is None:
        return None
    return ident[0], size[0], ident[1] + size[1]


def _elements(source: MediaSource, start: int, end: int, context: MediaContext) -> Iterator[_Element]:
    """Children between start and end read header by header from the source (for the Segment)."""
    offset = start
    for _ in range(_MAX_CHILDREN):
        if offset >= end:
            return
        found = _header(source.read_at(offset, 12), 0)
        if found is None:
            context.warn("malformed_media", f"unreadable EBML element header at offset {offset}")
            return
        ident, size, length = found
        body = offset + length
        if size < 0:
            yield _Element(ident, body, None)
            return  # an element of unknown size: what follows it cannot be located from here
        yield _Element(ident, body, min(body + size, end))
        offset = body + size
    context.warn("malformed_media", f"more than {_MAX_CHILDREN} elements in the Segment; the rest is not read")


def _parse(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(id, data) of each child in an in-memory master element; stops at the first damaged header."""
    offset = 0
    while offset < len(data):
        found = _header(data, offset)
        if found is None:
            return
        ident, size, length = found
        if size < 0:
            size = len(data) - offset - length
        yield ident, data[offset + length:offset + length + size]
        offset += length + size


def _uint(data: bytes) -> int:
    return int.from_bytes(data, "big") if data else 0


def _float(data: bytes) -> float | None:
    if len(data) == 4:
        return struct.unpack(">f", data)[0]
    if len(data) == 8:
        return struct.unpack(">d", data)[0]
    return None


def _string(data: bytes) -> str | None:
    value = data.split(b"\x00", 1)[0]
    return decode_text(value) if value else None


def doc_type(head: bytes) -> str | None:
    """The DocType of an EBML header at the start of `head`, or None."""
    found = _header(head, 0)
    if found is None or found[0] != EBML or found[1] < 0:
        return None
    body = head[found[2]:found[2] + found[1]]
    for ident, value in _parse(body):
        if ident == DOC_TYPE:
            return value.split(b"\x00", 1)[0].decode("ascii", errors="backslashreplace")
    return None


class MatroskaReader(MediaReader):
    """Matroska/WebM headers: video size, codec, duration, frame rate, muxing date and application."""

    name = "matroska"
    version = "1"
    formats = ("Matroska",)

    def recognise(self, head: bytes) -> str | None:
        if head[:4] == b"\x1a\x45\xdf\xa3" and doc_type(head) in DOC_TYPES:
            return "Matroska"
        return None

    def read(self, source: MediaSource, container: str, context: MediaContext) -> MediaRecord:
        record = MediaRecord(container_format=container)
        head = source.read_at(0, 64)
        ebml = _header(head, 0)
        if ebml is None or ebml[1] < 0:
            context.warn("malformed_media", "unreadable EBML header")
            return record
        segment_start = ebml[2] + ebml[1]
        found = _header(source.read_at(segment_start, 12), 0)
        if found is None or found[0] != SEGMENT:
            context.warn("malformed_media", "no Segment after the EBML header")
            return record
        body = segment_start + found[2]
        end = source.size if found[1] < 0 else min(source.size, body + found[1])
        wanted: dict[int, bytes] = {}
        seeks: dict[int, int] = {}
        for element in _elements(source, body, end, context):
            if element.id in (INFO, TRACKS, SEEK_HEAD) and element.id not in wanted:
                if element.end is None:
                    context.warn("malformed_media", f"element {element.id:X} has an unknown size")
                    break
                wanted[element.id] = self._data(source, element.body, element.end, context)
                if element.id == SEEK_HEAD:
                    seeks = _seek_positions(wanted[SEEK_HEAD])
            if INFO in wanted and TRACKS in wanted:
                break
        for ident in (INFO, TRACKS):
            if ident not in wanted and ident in seeks:
                at = body + seeks[ident]
                located = _header(source.read_at(at, 12), 0)
                if located is not None and located[0] == ident and located[1] >= 0:
                    wanted[ident] = self._data(source, at + located[2], at + located[2] + located[1], context)
        if INFO in wanted:
            _fill_info(record, wanted[INFO], context)
        else:
            context.warn("malformed_media", "no Segment Info element found")
        if TRACKS in wanted:
            _fill_tracks(record, wanted[TRACKS])
        return record

    @staticmethod
    def _data(source: MediaSource, start: int, end: int, context: MediaContext) -> bytes:
        if end - start > _MAX_ELEMENT:
            context.warn("malformed_media", f"element of {end - start} bytes at offset {start}: only the first {_MAX_ELEMENT} read")
        return source.read_at(start, min(end - start, _MAX_ELEMENT))


def _seek_positions(data: bytes) -> dict[int, int]:
    positions: dict[int, int] = {}
    for ident, seek in _parse(data):
        if ident != SEEK:
            continue
        fields = dict(_parse(seek))
        if SEEK_ID in fields and SEEK_POSITION in fields:
            positions.setdefault(_uint(fields[SEEK_ID]), _uint(fields[SEEK_POSITION]))
    return positions


def _fill_info(record: MediaRecord, data: bytes, context: MediaContext) -> None:
    fields = dict(_parse(data))
    scale = _uint(fields[TIMESTAMP_SCALE]) if TIMESTAMP_SCALE in fields else 1_000_000
    if DURATION in fields:
        duration = _float(fields[DURATION])
        if duration is None:
            context.warn("unreadable_value", "Duration is not a 4- or 8-byte float", field="duration_seconds")
        else:
            record.duration_seconds = duration * scale / 1e9
    if DATE_UTC in fields:
        nanos = int.from_bytes(fields[DATE_UTC], "big", signed=True)
        record.capture_time_source = "matroska_date_utc"
        try:
            moment = _MILLENNIUM + timedelta(microseconds=nanos // 1000)
        except OverflowError:  # beyond year 9999: kept as the stored number, flagged
            record.capture_time_raw = str(nanos)
            record.flags.append("capture_time_invalid")
        else:
            fraction = nanos % 1_000_000_000
            record.capture_time_raw = moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction:09d}" if fraction else "") + "Z"
            record.capture_time_utc = _MILLENNIUM_NS + nanos
    record.software = (_string(fields[WRITING_APP]) if WRITING_APP in fields else None) or (
        _string(fields[MUXING_APP]) if MUXING_APP in fields else None)


def _fill_tracks(record: MediaRecord, data: bytes) -> None:
    for ident, entry in _parse(data):
        if ident != TRACK_ENTRY:
            continue
        fields = dict(_parse(entry))
        if _uint(fields.get(TRACK_TYPE, b"")) != 1:
            continue
        record.codec = _string(fields.get(CODEC_ID, b""))
        video = dict(_parse(fields.get(VIDEO, b"")))
        record.width = _uint(video[PIXEL_WIDTH]) if PIXEL_WIDTH in video else None
        record.height = _uint(video[PIXEL_HEIGHT]) if PIXEL_HEIGHT in video else None
        frame_ns = _uint(fields.get(DEFAULT_DURATION, b""))
        if frame_ns:
            record.frame_rate = 1e9 / frame_ns
        return


READER = MatroskaReader()
