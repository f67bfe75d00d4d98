"""Tango (com.sgiggle.production) for Android: messages from tc.db, names from tango_profile.db.

Schema facts (plaso `parsers/sqlite_plugins/tango_android.py` for table and column names and for
the unit of `create_time`/`send_time`, Java milliseconds; the payload layout below was read from
the plaso test database `tango_android_tc.db` itself, plaso leaves the payload undecoded):
- `messages`: `msg_id` (INTEGER PRIMARY KEY), `conv_id`, `type`, `media_id`, `create_time`
  (ms, when the phone stored the message), `send_time` (ms, the sender's clock), `direction`
  (1 or 2), `status`, `del_status`, `payload` (base64 text of a protobuf message).
- `conversations`: `conv_id`, `payload` (base64 protobuf; field 2 is the peer: 1 first name,
  2 last name, 3 account id).
- Message payload fields seen: 2 conv id, 3 type (repeats the column), 4 text, 5 media download
  URL, 6 thumbnail URL, 7 local media path, 8 media size (bytes), 9 duration (s), 10 media id,
  17 share link, 18/19 width/height, 21 peer card of an outgoing message (1 first name, 2 last
  name, 3 account id), 22 send time, 29 create time, 76 notification text of a "like",
  99 actor of a "like" (3 = account id).
- Direction: 1 = incoming, 2 = outgoing. Inferred from the sample: rows with 2 carry the peer card
  (field 21) that the sender attaches, "Hank liked the message." (actor Hank, a profile in
  tango_profile.db) has 1, and the owner's own "liked the video" notices have 2.
- Types seen: 0 text, 1 video (duration, size), 3 picture (width/height), 30 shared music (text
  and a spotify URI), 35 unidentified (duration 69 s, no media URL), 61 "like" notice.
- `tango_profile.db` `profiletable`: `itemUserId`, `itemFirstName`, `itemLastName` are base64
  text (plaso decodes them the same way). It has no messages; it is only a companion here.
"""

from __future__ import annotations

import base64
import binascii
import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant, decode_text
from parsers.chat._rows import side_read
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

# What a message cannot be read without (time, body, direction, conversation); the rest is read when present.
MESSAGE_COLUMNS = ("msg_id", "conv_id", "send_time", "direction", "payload")
OPTIONAL_COLUMNS = ("type", "media_id", "create_time", "status", "del_status")
CONVERSATIONS_SQL = "SELECT conv_id, payload FROM conversations"
PROFILES_SQL = "SELECT itemUserId, itemFirstName, itemLastName FROM profiletable"

TYPES = {0: "text", 1: "video", 3: "picture", 30: "music", 35: "unidentified", 61: "like"}
KINDS = {0: "text", 1: "media", 3: "media", 30: "media", 61: "reaction"}
INCOMING, OUTGOING = 1, 2

Fields = dict[int, list[object]]


def read_varint(data: bytes, offset: int) -> tuple[int, int]:
    """A protobuf base-128 varint at `offset`: (value, next offset)."""
    value = shift = 0
    while True:
        if offset >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, offset


def protobuf_fields(data: bytes) -> Fields:
    """Protobuf wire format to {field number: [values]}: varints as int, length-delimited as bytes."""
    fields: Fields = {}
    offset = 0
    while offset < len(data):
        key, offset = read_varint(data, offset)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, offset = read_varint(data, offset)
        elif wire == 1:
            value, offset = data[offset:offset + 8], offset + 8
        elif wire == 5:
            value, offset = data[offset:offset + 4], offset + 4
        elif wire == 2:
            size, offset = read_varint(data, offset)
            value, offset = data[offset:offset + size], offset + size
        else:
            raise ValueError(f"unsupported wire type {wire} for field {number}")
        if offset > len(data):
            raise ValueError(f"field {number} runs past the end of the payload")
        fields.setdefault(number, []).append(value)
    return fields


def decode_payload(value: object) -> Fields:
    """The base64 text (or bytes) of a payload column, decoded to protobuf fields."""
    raw = value.encode("ascii") if isinstance(value, str) else bytes(value)  # type: ignore[arg-type]
    return protobuf_fields(base64.b64decode(raw, validate=True))


def _bytes(fields: Fields, number: int) -> bytes | None:
    values = fields.get(number)
    return values[0] if values and isinstance(values[0], bytes) else None


def _text(fields: Fields, number: int) -> str | None:
    value = _bytes(fields, number)
    return None if value is None else decode_text(value)


def _int(fields: Fields, number: int) -> int | None:
    values = fields.get(number)
    return values[0] if values and isinstance(values[0], int) else None


def _sub(fields: Fields, number: int) -> Fields:
    value = _bytes(fields, number)
    return protobuf_fields(value) if value else {}


def _name(first: str | None, last: str | None) -> str | None:
    parts = [p for p in (first, last) if p]
    return " ".join(parts) if parts else None


class Tango(SqliteChatParser):
    name = "tango"
    version = "2"
    app = "Tango"
    platform = "Android"
    paths = ("*/com.sgiggle.production/files/tc.db",)
    variants = (
        Variant("tc_db", {"messages": MESSAGE_COLUMNS}, optional={"messages": OPTIONAL_COLUMNS}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        names = self._profile_names(context)
        peers = self._conversation_peers(database, context)
        rows = database.query(variant.select(database, "messages", "msg_id"))
        yield from context.each(rows, "messages", lambda row: self._message(row, peers, names, context), "msg_id")

    def _profile_names(self, context: ParseContext) -> dict[str, str]:
        """Account id -> "first last" from the companion profile database (base64 fields)."""
        companion = context.companion("*/tango_profile.db")
        if companion is None or not companion.has("profiletable", "itemUserId", "itemFirstName", "itemLastName"):
            return {}
        names: dict[str, str] = {}
        for row in side_read(companion.query(PROFILES_SQL), "profiletable", context):
            try:
                first = decode_text(base64.b64decode(row["itemFirstName"] or ""))
                last = decode_text(base64.b64decode(row["itemLastName"] or ""))
            except (binascii.Error, ValueError):
                context.warn("bad_value", "profile name is not base64", table="profiletable", field="itemFirstName")
                continue
            name = _name(first, last)
            if name is not None and row["itemUserId"] is not None:
                names[str(row["itemUserId"])] = name
        return names

    def _conversation_peers(self, database: Database, context: ParseContext) -> dict[str, tuple[str, str | None]]:
        """conv_id -> (peer account id, first/last name the conversation stores)."""
        peers: dict[str, tuple[str, str | None]] = {}
        if not database.has("conversations", "conv_id", "payload"):
            return peers  # peers then stay the conversation ids
        for row in side_read(database.query(CONVERSATIONS_SQL), "conversations", context):
            conv_id = str(row["conv_id"])
            try:
                peer = _sub(decode_payload(row["payload"]), 2) if row["payload"] else {}
            except (binascii.Error, ValueError) as error:
                context.warn("bad_blob", f"conversation payload unreadable: {error}", table="conversations", field="payload")
                peer = {}
            peers[conv_id] = (_text(peer, 3) or conv_id, _name(_text(peer, 1), _text(peer, 2)))
        return peers

    def _message(self, row: sqlite3.Row, peers: dict[str, tuple[str, str | None]], names: dict[str, str],
                 context: ParseContext) -> Message:
        row_id = row["msg_id"]
        try:
            fields = decode_payload(row["payload"]) if row["payload"] else {}
        except (binascii.Error, ValueError) as error:
            context.warn("bad_blob", f"message payload unreadable: {error}", table="messages", row_id=row_id, field="payload")
            fields = {}
        kind_code = row["type"]
        conv_id = None if row["conv_id"] is None else str(row["conv_id"])
        peer_id, stored_name = peers.get(conv_id or "", (conv_id, None))
        peer = Participant(peer_id, names.get(peer_id or "") or stored_name) if peer_id else None
        direction = {INCOMING: "incoming", OUTGOING: "outgoing"}.get(row["direction"], "unknown")
        sender: Participant | None = peer if direction == "incoming" else None
        actor = _text(_sub(fields, 99), 3) if kind_code == 61 else None
        if actor and direction == "incoming":
            sender = Participant(actor, names.get(actor))
        sent = context.time(row["send_time"], unix_ms, table="messages", row_id=row_id, field="send_time")
        created = context.time(row["create_time"], unix_ms, table="messages", row_id=row_id, field="create_time")
        body = _text(fields, 76) if kind_code == 61 else _text(fields, 4)
        details = {} if kind_code is None else {"type": f"{kind_code} ({TYPES.get(kind_code, 'unknown')})"}
        details["direction_code"] = str(row["direction"])
        details.update({column: str(row[column]) for column in ("create_time", "status", "del_status") if row[column] is not None})
        for key, number in (("media_url", 5), ("thumbnail_url", 6), ("share_link", 17), ("media_id", 10)):
            value = _text(fields, number)
            if value:
                details[key] = value
        if _int(fields, 9):
            details["duration_s"] = str(_int(fields, 9))
        return Message(
            source_table="messages", source_row_id=row_id, conversation_id=conv_id,
            conversation_title=peer.name if peer else None, sender=sender,
            recipients=(peer,) if direction == "outgoing" and peer else (), direction=direction,
            sent=sent, sent_raw=None if row["send_time"] is None else str(row["send_time"]),
            received=created if direction == "incoming" else None, body=body,
            kind=KINDS.get(kind_code, "unknown"), attachments=self._attachments(fields), details=details,
        )

    def _attachments(self, fields: Fields) -> tuple[Attachment, ...]:
        if _bytes(fields, 5) is None and _bytes(fields, 7) is None:
            return ()
        return (Attachment(size=_int(fields, 8) or None, local_path=_text(fields, 7)),)


PARSER = Tango()
