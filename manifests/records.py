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
