"""Google Messages on Android: bugle_db (com.google.android.apps.messaging/databases/bugle_db).

Google Messages grew out of AOSP Messaging ("Bugle"), whose DatabaseHelper documents the base
schema; Google's app keeps those tables and adds columns. Facts (read for facts only from AOSP
platform/packages/apps/Messaging src/com/android/messaging/datamodel/DatabaseHelper.java,
data/ParticipantData.java, data/MessageData.java and ALEAPP's googleMessages module,
abrignoni/ALEAPP scripts/artifacts/googleMessages.py; written in our own words):
- `messages`: `_id` (INTEGER PRIMARY KEY AUTOINCREMENT), `conversation_id` -> conversations._id,
  `sender_id` -> participants._id, `sent_timestamp` and `received_timestamp` (Unix ms),
  `message_protocol` (AOSP: -1 unknown, 0 SMS, 1 MMS, 2 MMS push notification = an MMS announced
  and not yet downloaded; Google Messages adds 3 RCS: its own schema creates the index
  `index_unsent_rcs_report ... WHERE messages.message_protocol = 3` over the RCS report columns),
  `message_status` (AOSP: 1..9 outgoing states: 1 complete, 2 delivered, 3 draft, 4 yet to send,
  5 sending, 6 resending, 7 awaiting retry, 8 failed, 9 failed emergency number; 100..107
  incoming states: 100 complete, 101..106 MMS download states, 107 expired), `seen`, `read`
  (0/1), `mms_subject`.
- Google Messages extends message_status (numbering read from the Google Messages web protocol's
  MessageStatusType as reverse-engineered by mautrix/gmessages pkg/libgm/gmproto/conversations.proto,
  whose 1..9 and 100..107 are exactly AOSP's): 10..22 more outgoing states (11 displayed = read,
  17 recipient lost RCS, 19 recipient did not decrypt ...), 108..114 more incoming states (108
  delivered, 109 displayed, 113 failed to decrypt ...), 200..275 "tombstones": rows the app
  writes into the conversation for an event, not a message anyone sent (200 participant joined,
  201 participant left, 203 RCS group created, 211/217 group renamed, 213/216 end-to-end
  encryption started, 214/215 switch to SMS/RCS, 244 missed video call ...), and 300 message
  deleted.
- `parts`: `_id`, `message_id`, `text` (text parts), `uri` (content URI of a media part),
  `content_type`, `conversation_id`; newer Google Messages builds add `file_size_bytes`
  (-1 unknown) and `local_cache_path` (ALEAPP notes older generations lack both, its PRs #633/#638).
- `participants`: `_id`, `sub_id` (-2 = someone other than the device owner; any other value is a
  "self" participant for a SIM), `normalized_destination` (E.164 number or email),
  `display_destination`, `full_name` (from the phone's contacts, copied into this table).
- `conversations`: `_id`, `name`; `conversation_participants(conversation_id, participant_id)`
  lists the members other than the owner.

Required (issue 10): `messages` `_id`, `conversation_id`, `sender_id`, `sent_timestamp`,
`received_timestamp`; `parts` `message_id`, `text` (the body); `participants` `_id`, `sub_id` (the
direction). These are AOSP Messaging's own columns, so its `bugle_db` (com.android.messaging, the app
Google Messages started from) is read too, and its path is declared. Everything else (status,
protocol, read/seen, subject, part URI/type/size/cache path, participant numbers and names) is read
when present; `conversations` (titles) and `conversation_participants` (recipients) when the store has
them. Without `content_type` a part holding text and no URI is text, any other part an attachment.
ALEAPP's module names test images from Google Messages version code 161637900 to 311755063 (Android
13 to 16) read with one query; which build added which column is **not confirmed** beyond ALEAPP's
note on the part columns.

Decisions (documented, tested): a tombstone (message_status 200..299) is kind "system", direction
"unknown", no sender (its sender_id participant is kept as details["participant"]) and its time
is sent_timestamp, else received_timestamp; status 300 is kind "deleted". details keep the raw
numbers with their names: message_status "200 (tombstone: participant joined)", message_protocol
"3 (rcs)"; an unnamed number is "(unknown)", an unnamed 2xx "(tombstone: unnamed event)".
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant, UndecodedText, decode_text
from parsers.chat._rows import side_read, side_table, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

OTHER_THAN_SELF = -2
TEXT_TYPES = ("text/plain",)
STATUSES = {0: "unknown", 1: "outgoing complete", 2: "outgoing delivered", 3: "outgoing draft", 4: "outgoing yet to send",
            5: "outgoing sending", 6: "outgoing resending", 7: "outgoing awaiting retry", 8: "outgoing failed",
            9: "outgoing failed emergency number", 10: "outgoing send after processing", 11: "outgoing displayed",
            12: "outgoing canceled", 13: "outgoing failed too large", 14: "outgoing not delivered yet",
            15: "outgoing revocation pending", 16: "outgoing scheduled", 17: "outgoing failed recipient lost rcs",
            18: "outgoing failed no retry no fallback", 19: "outgoing failed recipient did not decrypt", 20: "outgoing validating",
            21: "outgoing failed recipient lost encryption", 22: "outgoing failed recipient did not decrypt, no more retry",
            100: "incoming complete", 101: "incoming yet to manual download", 102: "incoming retrying manual download",
            103: "incoming manual downloading", 104: "incoming retrying auto download", 105: "incoming auto downloading",
            106: "incoming download failed", 107: "incoming expired or not available", 108: "incoming delivered",
            109: "incoming displayed", 110: "incoming download canceled", 111: "incoming download failed too large",
            112: "incoming download failed sim has no data", 113: "incoming failed to decrypt", 114: "incoming decryption aborted",
            300: "message deleted"}
TOMBSTONES = {200: "participant joined", 201: "participant left", 202: "self left", 203: "rcs group created",
              204: "mms group created", 205: "sms broadcast created", 206: "one-to-one sms created", 207: "one-to-one rcs created",
              208: "switch to group mms", 209: "switch to broadcast sms", 210: "show link previews", 211: "group renamed (local)",
              212: "verified sms applicable", 213: "encrypted one-to-one rcs created", 214: "protocol switch to text",
              215: "protocol switch to rcs", 216: "protocol switch to encrypted rcs", 217: "group renamed",
              218: "group name cleared", 219: "protocol switch to encrypted rcs (info)", 220: "self removed from group",
              221: "participant removed from group", 225: "encrypted group participant joined",
              227: "encrypted group participant left", 228: "encrypted group self left", 229: "encrypted group created",
              230: "self removed from encrypted group", 231: "participant removed from encrypted group",
              233: "group protocol switch rcs to end-to-end encrypted", 234: "group protocol switch end-to-end encrypted to rcs",
              235: "protocol switch text to end-to-end encrypted", 236: "protocol switch end-to-end encrypted to text",
              237: "protocol switch rcs to end-to-end encrypted", 238: "protocol switch end-to-end encrypted to rcs",
              244: "missed video call", 245: "participant theme change", 259: "active self identity changed",
              260: "group icon changed", 261: "group icon cleared", 264: "emergency conversation created",
              271: "rcs group joined by link", 272: "invite link enabled", 273: "invite link disabled",
              274: "invite link reset manually", 275: "invite link reset automatically"}
TOMBSTONE_RANGE = range(200, 300)
DELETED = 300
PROTOCOLS = {-1: "unknown", 0: "sms", 1: "mms", 2: "mms notification, not downloaded", 3: "rcs"}

BUGLE = Variant(
    "bugle_db",
    {"messages": ("_id", "conversation_id", "sender_id", "sent_timestamp", "received_timestamp"),
     "parts": ("message_id", "text"),
     "participants": ("_id", "sub_id")},
    {"messages": ("message_protocol", "message_status", "seen", "read", "mms_subject"),
     "parts": ("_id", "uri", "content_type", "file_size_bytes", "local_cache_path"),
     "participants": ("normalized_destination", "display_destination", "full_name")},
)
# Side tables, read when the store has them: titles and the members of each conversation.
CONVERSATIONS = Variant("conversations", {"conversations": ("_id",)}, {"conversations": ("name",)})
MEMBERS = Variant("conversation_participants", {"conversation_participants": ("conversation_id", "participant_id")})


class GoogleMessages(SqliteChatParser):
    name = "google_messages"
    version = "2"
    app = "Google Messages"
    platform = "Android"
    # AOSP Messaging (com.android.messaging) writes the same bugle_db that Google Messages grew from.
    paths = ("*/com.google.android.apps.messaging/databases/bugle_db", "*/com.android.messaging/databases/bugle_db")
    variants = (BUGLE,)

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        people = {row["_id"]: row for row in side_read(database.query(variant.select(database, "participants")), "participants", context)}
        titles = ({row["_id"]: row["name"] for row in side_table(database, CONVERSATIONS, "conversations", context)}
                  if CONVERSATIONS.matches(database) else {})
        members: dict[int, list[Participant]] = {}
        if MEMBERS.matches(database):
            for row in side_table(database, MEMBERS, "conversation_participants", context, "conversation_id, rowid"):
                person = people.get(row["participant_id"])
                if person is not None:
                    members.setdefault(row["conversation_id"], []).append(_participant(person))
        parts: dict[int, list[sqlite3.Row]] = {}
        for row in side_read(database.query(variant.select(database, "parts", "message_id, rowid")), "parts", context):
            parts.setdefault(row["message_id"], []).append(row)
        rows = database.query(variant.select(database, "messages", "_id"))
        yield from context.each(rows, "messages",
                                lambda row: _message(row, people, titles, members, parts.get(row["_id"], []), context), "_id")


def _participant(person: sqlite3.Row) -> Participant:
    return Participant(person["normalized_destination"], person["full_name"])


def _direction(sender: sqlite3.Row | None) -> str:
    """AOSP's rule: sub_id -2 marks a participant other than the owner; any other value is the owner."""
    if sender is None or sender["sub_id"] is None:
        return "unknown"
    return "incoming" if sender["sub_id"] == OTHER_THAN_SELF else "outgoing"


def _joined(texts: list[str]) -> str | None:
    """The text parts of one message, one per line; bytes that are not UTF-8 stay exact (UndecodedText)."""
    if len(texts) <= 1:
        return texts[0] if texts else None
    if not any(isinstance(t, UndecodedText) for t in texts):
        return "\n".join(texts)
    return decode_text(b"\n".join(t.raw if isinstance(t, UndecodedText) else t.encode("utf-8") for t in texts))


def _is_text(part: sqlite3.Row) -> bool:
    """A text part: text/plain, or (a store without content_type) any part holding text and no media URI."""
    if part["content_type"] is None:
        return part["uri"] is None
    return part["content_type"] in TEXT_TYPES


def _attachment(part: sqlite3.Row) -> Attachment:
    size = part["file_size_bytes"]
    uri = part["uri"]
    return Attachment(file_name=uri.rsplit("/", 1)[-1] if uri else None, mime_type=part["content_type"],
                      size=size if isinstance(size, int) and size >= 0 else None, local_path=part["local_cache_path"] or uri)


def _time(row: sqlite3.Row, column: str, context: ParseContext) -> int | None:
    return context.time(row[column], unix_ms, table="messages", row_id=row["_id"], field=column)


def _status_name(status: object) -> str:
    if isinstance(status, int) and status in TOMBSTONE_RANGE:
        return f"tombstone: {TOMBSTONES.get(status, 'unnamed event')}"
    return STATUSES.get(status, "unknown")


def _details(row: sqlite3.Row, sender: sqlite3.Row | None) -> dict[str, str]:
    status, protocol = row["message_status"], row["message_protocol"]
    details: dict[str, str] = {}
    if status is not None:
        details["message_status"] = f"{status} ({_status_name(status)})"
    if protocol is not None:
        details["message_protocol"] = f"{protocol} ({PROTOCOLS.get(protocol, 'unknown')})"
    for flag in ("read", "seen"):
        if row[flag] is not None:
            details[flag] = str(row[flag])
    if row["mms_subject"] is not None:
        details["mms_subject"] = row["mms_subject"]
    if sender is not None:
        details["sender_sub_id"] = str(sender["sub_id"])
    return details


def _message(row: sqlite3.Row, people: dict[int, sqlite3.Row], titles: dict[int, str | None],
             members: dict[int, list[Participant]], parts: list[sqlite3.Row], context: ParseContext) -> Message:
    row_id = row["_id"]
    sender_row = people.get(row["sender_id"])
    direction = _direction(sender_row)
    sender = _participant(sender_row) if sender_row is not None else None
    if sender is not None and sender.id is None and sender.name is None:
        sender = None  # a self participant with no number recorded: the owner, unidentified
    texts = [text_value(p["text"]) for p in parts if _is_text(p) and p["text"] is not None]
    attachments = tuple(_attachment(p) for p in parts if not _is_text(p))
    details = _details(row, sender_row)
    tombstone = isinstance(row["message_status"], int) and row["message_status"] in TOMBSTONE_RANGE
    kind = "media" if attachments else "text"
    if tombstone:
        kind, direction = "system", "unknown"
        if sender is not None and sender.id is not None:
            details["participant"] = sender.id
        sender = None
    elif row["message_status"] == DELETED:
        kind = "deleted"
    # An outgoing message or a tombstone may have sent_timestamp 0: then its stored time is received_timestamp.
    falls_back = (tombstone or direction == "outgoing") and not row["sent_timestamp"]
    sent_column = "received_timestamp" if falls_back else "sent_timestamp"
    return Message(
        source_table="messages", source_row_id=row_id, conversation_id=text_value(row["conversation_id"]),
        conversation_title=titles.get(row["conversation_id"]), sender=sender,
        recipients=tuple(members.get(row["conversation_id"], [])) if direction == "outgoing" else (),
        direction=direction, sent=_time(row, sent_column, context), sent_raw=None if row[sent_column] is None else str(row[sent_column]),
        received=_time(row, "received_timestamp", context) if direction == "incoming" else None,
        body=_joined(texts), kind=kind, attachments=attachments,
        account_id=sender.id if direction == "outgoing" and sender is not None else None,
        is_deleted=True if kind == "deleted" else None, details=details,
    )


PARSER = GoogleMessages()
