"""Google Voice for Android: `files/accounts/<n>/LegacyMsgDbInstance.db` (texts, calls and voicemails).

Facts (iLEAPP `scripts/artifacts/googleVoice.py`, Android functions by Campbell, Ehresmann,
Girouard and Rokusek, tested by its authors on app 2025.07.20.788599304; DSU DigForCE Lab,
https://blogs.dsu.edu/digforce/?p=489, for the folder layout; read for facts only, own words):
- Table `message_t`: `message_blob` (a protobuf message, no published .proto) and
  `conversation_id` (text starting with "t" for a one-to-one thread, "g" for a group thread).
- Blob fields: 1 message id (text), 2 time (Unix milliseconds), 3 the account's own Google Voice
  number, 4 the other party (field 1: the number), 6 read flag (0 unread, 1 read), 9 duration
  (a 32-bit float stored as its bits), 10 the text of a one-to-one message, 13 the item type
  (0 missed or declined call without voicemail, 1 answered call, 2 outgoing call, 3 voicemail,
  5 text received, 6 text sent), 22 present on a missed or declined call, 7 voicemail
  transcript (field 2 repeated, each field 1 a word), 15 a group message (1 text, 4 repeated
  members with field 1 the number, 5 the sender, present only when the message was received).
Read here: `account_id` is field 3 (the account's own number) on every item whose blob has it,
sent or received; an unreadable blob names no account.
Not confirmed: other app versions (only the one above is documented), media of MMS (kept in
`cache/Photo MMS images/<message id>-14.*`, not read here), item types other than the listed ones
(kept with kind "unknown").
"""

from __future__ import annotations

import sqlite3
import struct
from typing import Iterator

from manifests.records import Message, Participant, decode_text
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.decode.protobuf import FIXED32, LENGTH, VARINT, Field, ProtobufError, parse
from parsers.sqlite_store import Database

TABLE = "message_t"
ROWS_SQL = "SELECT rowid AS row_id, message_blob, conversation_id FROM message_t ORDER BY rowid"
TEXTS = {5: "incoming", 6: "outgoing"}
CALLS = {0: ("incoming", "missed call"), 1: ("incoming", "answered call"), 2: ("outgoing", "outgoing call"),
         3: ("incoming", "voicemail")}
Fields = dict[int, list[Field]]


class GoogleVoiceAndroid(SqliteChatParser):
    name = "google_voice_android"
    version = "1"
    app = "Google Voice"
    platform = "Android"
    paths = ("*/com.google.android.apps.googlevoice/files/accounts/*/LegacyMsgDbInstance.db",)
    variants = (Variant("message_t", {TABLE: ("message_blob", "conversation_id")}),)

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        yield from context.each(database.query(ROWS_SQL), TABLE, lambda row: _item(row, context), "row_id")


def _fields(blob: bytes) -> Fields:
    fields: Fields = {}
    for item in parse(blob):
        fields.setdefault(item.number, []).append(item)
    return fields


def _get(fields: Fields, number: int, wire_type: int) -> int | bytes | None:
    found = next((f.value for f in fields.get(number, []) if f.wire_type == wire_type), None)
    return found


def _text(fields: Fields, number: int) -> str | None:
    value = _get(fields, number, LENGTH)
    return decode_text(value) if isinstance(value, bytes) else None


def _sub(fields: Fields, number: int) -> Fields:
    value = _get(fields, number, LENGTH)
    return _fields(value) if isinstance(value, bytes) else {}


def _duration(fields: Fields) -> float | None:
    bits = _get(fields, 9, FIXED32)
    if bits is None:
        bits = _get(fields, 9, VARINT)
    if not isinstance(bits, int) or not 0 <= bits < 1 << 32:
        return None
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def _transcript(fields: Fields) -> str | None:
    words = [decode_text(w.value) for part in _sub(fields, 7).get(2, []) if part.wire_type == LENGTH and isinstance(part.value, bytes)
             for w in _fields(part.value).get(1, []) if w.wire_type == LENGTH and isinstance(w.value, bytes)]
    return " ".join(str(w) for w in words if w) or None


def _item(row: sqlite3.Row, context: ParseContext) -> Message:
    row_id = row["row_id"]
    conversation = row["conversation_id"]
    message = Message(source_table=TABLE, source_row_id=row_id, conversation_id=None if conversation is None else str(conversation),
                      kind="unknown")
    blob = row["message_blob"]
    try:
        if not isinstance(blob, bytes):
            raise ProtobufError(f"message_blob is {type(blob).__name__}, not a blob")
        _decode(message, _fields(blob), conversation, context)
    except ProtobufError as error:
        context.warn("bad_blob", f"message_blob is not readable protobuf: {error}; only the conversation id was read",
                     table=TABLE, row_id=row_id, field="message_blob")
        return Message(source_table=TABLE, source_row_id=row_id, conversation_id=message.conversation_id, kind="unknown")
    return message


def _decode(message: Message, fields: Fields, conversation: object, context: ParseContext) -> None:
    """Fill `message` from the blob's fields; ProtobufError when a nested message is not well formed."""
    row_id = message.source_row_id
    own = _text(fields, 3)
    other = _text(_sub(fields, 4), 1)
    code = _get(fields, 13, VARINT)
    stamp = _get(fields, 2, VARINT)
    message.sent = context.time(stamp, unix_ms, table=TABLE, row_id=row_id, field="message_blob.2")
    message.sent_raw = None if stamp is None else str(stamp)
    details = {"message_id": _text(fields, 1) or ""}
    if code is not None:
        details["item_type"] = f"{code} ({'text ' + TEXTS[code] if code in TEXTS else CALLS.get(code, ('', 'unknown'))[1]})"
    read = _get(fields, 6, VARINT)
    if read is not None:
        details["is_read"] = str(read)
    group = _sub(fields, 15) if isinstance(conversation, str) and conversation.startswith("g") else {}
    if group:
        _group(message, group, own)
    elif code in TEXTS:
        message.direction, message.kind, message.body = TEXTS[code], "text", _text(fields, 10)
        _parties(message, own, other)
    elif code in CALLS:
        message.direction, message.kind = CALLS[code][0], "call"
        _parties(message, own, other)
        duration = _duration(fields)
        if duration is not None:
            details["duration_seconds"] = f"{duration:g}"
        if 22 in fields:
            details["missed"] = "1"
        transcript = _transcript(fields)
        if transcript is not None:
            details["transcript"] = transcript
    message.details = details
    message.account_id = own  # the store's own number, on every item that names it, whatever its direction


def _parties(message: Message, own: str | None, other: str | None) -> None:
    mine = Participant(own) if own else None
    theirs = Participant(other) if other else None
    sender, recipient = (mine, theirs) if message.direction == "outgoing" else (theirs, mine)
    message.sender = sender
    message.recipients = (recipient,) if recipient is not None else ()


def _group(message: Message, group: Fields, own: str | None) -> None:
    members = [decode_text(v) for m in group.get(4, []) if m.wire_type == LENGTH and isinstance(m.value, bytes)
               for v in [_get(_fields(m.value), 1, LENGTH)] if isinstance(v, bytes)]
    sender = _text(group, 5)
    message.direction = "incoming" if sender is not None else "outgoing"
    message.kind = "text"
    message.body = _text(group, 1)
    who = sender if sender is not None else own
    message.sender = Participant(who) if who else None
    others = ([own] if own and sender is not None else []) + [m for m in members if m != who]
    message.recipients = tuple(Participant(str(m)) for m in others)


PARSER = GoogleVoiceAndroid()
