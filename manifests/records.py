"""Record types that parsers emit and manifests write: one place to change a message's shape.

Times are integers of nanoseconds since 1970-01-01 UTC, so a source's own precision (Apple's
nanoseconds, Windows' 100 ns ticks) is never rounded to a Python datetime's microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DIRECTIONS = ("incoming", "outgoing", "unknown")
KINDS = ("text", "media", "call", "system", "location", "contact", "reaction", "sticker", "poll", "deleted", "unknown")
RECORD_STATES = ("live", "wal_only", "removed_in_wal")


class UndecodedText(str):
    """Text that was not valid UTF-8: the str is a backslash-escaped rendering, `raw` the exact bytes."""

    raw: bytes

    @classmethod
    def of(cls, data: bytes) -> "UndecodedText":
        text = cls(data.decode("utf-8", errors="backslashreplace"))
        text.raw = data
        return text


def decode_text(data: bytes) -> str:
    """UTF-8 text exactly as stored; bytes that are not UTF-8 become an UndecodedText keeping them."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return UndecodedText.of(data)


@dataclass(frozen=True)
class Participant:
    """A sender or recipient: the app's identifier and, where the app's contacts know it, a name."""

    id: str | None
    name: str | None = None


@dataclass
class Attachment:
    """A file a message refers to. `artefact_path` and `sha256` are filled by ingest when the file is in the image."""

    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    local_path: str | None = None
    artefact_path: str | None = None
    sha256: str | None = None


@dataclass
class Message:
    """One message as a parser read it; provenance and record state are added by the driver."""

    source_table: str
    source_row_id: int | None
    conversation_id: str | None = None
    conversation_title: str | None = None
    sender: Participant | None = None
    recipients: tuple[Participant, ...] = ()
    direction: str = "unknown"
    sent: int | None = None
    sent_raw: str | None = None
    received: int | None = None
    read: int | None = None
    edited: int | None = None
    deleted: int | None = None
    body: str | None = None
    kind: str = "text"
    attachments: tuple[Attachment, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    location_name: str | None = None
    is_deleted: bool | None = None
    is_edited: bool | None = None
    is_forwarded: bool | None = None
    is_view_once: bool | None = None
    account_id: str | None = None
    app_version: str | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ParseWarning:
    """Something a parser could not read: where (table, row, field) and why. Becomes an errors row."""

    kind: str
    message: str
    table: str | None = None
    row_id: int | None = None
    field: str | None = None
    severity: str = "warning"


@dataclass
class MediaRecord:
    """What a media reader found in one photo or video; ids and provenance are added by ingest.

    Values that are present but invalid are kept as read and named in `flags` (e.g.
    "gps_latitude_out_of_range", "capture_time_invalid", "gps_all_zero"), never dropped or fixed.
    Times: `*_raw` is the text as recorded; `*_utc` is integer nanoseconds UTC, set only when the
    offset is known (EXIF OffsetTime*, QuickTime's UTC creation time, GPS time). These are the
    readers' names: media.parquet follows the column vocabulary (capture_time, latitude, ...), mapped
    in ingest/media_metadata.COLUMN_OF_FIELD.
    """

    container_format: str
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    orientation: int | None = None
    duration_seconds: float | None = None
    frame_rate: float | None = None
    capture_time_raw: str | None = None
    capture_offset: str | None = None
    capture_time_utc: int | None = None
    capture_time_source: str | None = None
    digitized_time_raw: str | None = None
    digitized_time_utc: int | None = None
    modified_time_raw: str | None = None
    modified_time_utc: int | None = None
    make: str | None = None
    model: str | None = None
    body_serial: str | None = None
    body_serial_source: str | None = None
    lens_make: str | None = None
    lens_model: str | None = None
    lens_serial: str | None = None
    software: str | None = None
    gps_latitude: float | None = None
    gps_longitude: float | None = None
    gps_altitude: float | None = None
    gps_time_utc: int | None = None
    gps_source: str | None = None
    content_identifier: str | None = None
    image_unique_id: str | None = None
    has_thumbnail: bool | None = None
    thumbnail_sha256: str | None = None
    flags: list[str] = field(default_factory=list)
