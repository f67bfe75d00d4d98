"""AVI: the header chunks of a RIFF 'AVI ' file, read by seeking (the 'movi' frames are never read).

No maintained Python library reads AVI headers alone, so this is a small chunk reader. Layout
(Microsoft "AVI RIFF File Reference" and the OpenDML AVI File Format Extensions): RIFF chunks are
[fourcc][u32 little-endian size][data, padded to an even length]; a LIST chunk's data starts with its
own fourcc. Read:

- LIST 'hdrl' / 'avih' (MainAVIHeader): microseconds per frame, total frames, width, height.
- LIST 'strl' / 'strh' + 'strf' of the first video stream ('vids'): the codec is the
  BITMAPINFOHEADER biCompression fourcc (strh fccHandler when biCompression is 0, i.e. BI_RGB);
  frame rate = dwRate / dwScale and duration = dwLength * dwScale / dwRate (exact, e.g. 30000/1001);
  avih's 1e6 / microseconds-per-frame and total frames are the fallback. An OpenDML file's
  LIST 'odml' / 'dmlh' total frame count replaces avih's (which counts only the first RIFF).
- 'IDIT' (date-time original, text such as "MON JAN 01 12:00:00 2024"; in hdrl) and LIST 'INFO'
  'ICRD' (creation date) and 'ISFT' (software). The times are kept as text exactly as stored (up to
  the first NUL, trailing newline kept): AVI records no offset, so there is no UTC.
  capture_time_source "avi_idit" (preferred) or "avi_icrd".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Iterator

from manifests.records import MediaRecord, decode_text
from parsers.media.base import MediaContext, MediaReader, MediaSource

_MAX_CHUNKS = 100_000
_MAX_TEXT = 4096


@dataclass
class _Chunk:
    kind: bytes
    body: int
    end: int          # end of the data (before padding)
    list_type: bytes | None = None


def _chunks(source: MediaSource, start: int, end: int, context: MediaContext, where: str) -> Iterator[_Chunk]:
    offset = start
    count = 0
    while offset + 8 <= end:
        count += 1
        if count > _MAX_CHUNKS:
            context.warn("malformed_media", f"more than {_MAX_CHUNKS} chunks in {where}; the rest is not read")
            return
        header = source.read_at(offset, 12)
        if len(header) < 8:
            context.warn("malformed_media", f"{where}: truncated chunk header at offset {offset}")
            return
        kind, size = struct.unpack("<4sI", header[:8])
        body = offset + 8
        data_end = body + size
        if data_end > end:
            context.warn("malformed_media", f"{where}: chunk {kind!r} at offset {offset} runs past its parent (truncated file?)")
            data_end = end
        list_type = header[8:12] if kind in (b"LIST", b"RIFF") and len(header) >= 12 else None
        yield _Chunk(kind, body, data_end, list_type)
        offset = data_end + (size & 1)


def _text(data: bytes) -> str | None:
    """RIFF text is NUL-terminated; keep everything before the first NUL exactly (UTF-8 or undecoded)."""
    value = data.split(b"\x00", 1)[0]
    return decode_text(value) if value.strip() else None


def _fourcc(data: bytes) -> str | None:
    if len(data) < 4 or data == b"\x00\x00\x00\x00":
        return None
    text = data.decode("latin-1")
    return text if text.isprintable() else data.decode("ascii", errors="backslashreplace")


class RiffAviReader(MediaReader):
    """AVI headers: size, codec, frame rate, duration, and the recorded date texts."""

    name = "riff_avi"
    version = "1"
    formats = ("AVI",)

    def recognise(self, head: bytes) -> str | None:
        if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
            return "AVI"
        return None

    def read(self, source: MediaSource, container: str, context: MediaContext) -> MediaRecord:
        record = MediaRecord(container_format=container)
        state = _State()
        riff_size = struct.unpack("<I", source.read_at(4, 4))[0]
        end = min(source.size, 8 + riff_size)
        if 8 + riff_size > source.size:
            context.warn("malformed_media", "RIFF size is larger than the file (truncated file?)")
        self._walk(source, 12, end, state, context, depth=0)
        _fill(record, state)
        return record

    def _walk(self, source: MediaSource, start: int, end: int, state: "_State", context: MediaContext, depth: int) -> None:
        for chunk in _chunks(source, start, end, context, "RIFF"):
            if chunk.kind == b"LIST":
                if chunk.list_type in (b"hdrl", b"strl", b"INFO", b"odml") and depth < 3:
                    if chunk.list_type == b"strl":
                        state.stream_index += 1
                    self._walk(source, chunk.body + 4, chunk.end, state, context, depth + 1)
                continue  # 'movi' (the frames) and anything else are skipped by size
            size = chunk.end - chunk.body
            if chunk.kind == b"avih" and size >= 40:
                values = struct.unpack("<10I", source.read_at(chunk.body, 40))
                state.micro_per_frame, state.total_frames = values[0], values[4]
                state.width, state.height = values[8], values[9]
            elif chunk.kind == b"strh" and size >= 36:
                data = source.read_at(chunk.body, 36)
                state.stream_type = data[:4]
                if data[:4] == b"vids" and state.video_stream is None:
                    state.video_stream = state.stream_index
                    state.handler = data[4:8]
                    state.scale, state.rate = struct.unpack("<II", data[20:28])
                    state.length = struct.unpack("<I", data[32:36])[0]
            elif chunk.kind == b"strf" and state.stream_index == state.video_stream and size >= 20 and state.compression is None:
                data = source.read_at(chunk.body, 20)
                state.compression = data[16:20]
                state.strf_size = struct.unpack("<ii", data[4:12])
            elif chunk.kind == b"dmlh" and size >= 4:
                state.odml_frames = struct.unpack("<I", source.read_at(chunk.body, 4))[0]
            elif chunk.kind in (b"IDIT", b"ICRD", b"ISFT"):
                value = _text(source.read_at(chunk.body, min(size, _MAX_TEXT)))
                if value is not None:
                    state.texts.setdefault(chunk.kind, value)


@dataclass
class _State:
    micro_per_frame: int | None = None
    total_frames: int | None = None
    odml_frames: int | None = None
    width: int | None = None
    height: int | None = None
    stream_index: int = -1
    stream_type: bytes | None = None
    video_stream: int | None = None
    handler: bytes | None = None
    scale: int | None = None
    rate: int | None = None
    length: int | None = None
    compression: bytes | None = None
    strf_size: tuple[int, int] | None = None
    texts: dict[bytes, str] = field(default_factory=dict)


def _fill(record: MediaRecord, state: _State) -> None:
    record.codec = _fourcc(state.compression or b"") or _fourcc(state.handler or b"")
    record.width = state.width or (state.strf_size[0] if state.strf_size else None)
    record.height = state.height or (abs(state.strf_size[1]) if state.strf_size else None)
    frames = state.odml_frames or state.total_frames
    if state.rate and state.scale:
        record.frame_rate = state.rate / state.scale
        if state.length:
            record.duration_seconds = state.length * state.scale / state.rate
    elif state.micro_per_frame:
        record.frame_rate = 1_000_000 / state.micro_per_frame
    if record.duration_seconds is None and frames and state.micro_per_frame:
        record.duration_seconds = frames * state.micro_per_frame / 1_000_000
    texts = state.texts
    if b"IDIT" in texts:
        record.capture_time_raw, record.capture_time_source = texts[b"IDIT"], "avi_idit"
    elif b"ICRD" in texts:
        record.capture_time_raw, record.capture_time_source = texts[b"ICRD"], "avi_icrd"
    record.software = texts.get(b"ISFT")


READER = RiffAviReader()
