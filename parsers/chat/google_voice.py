"""Google Voice for iOS: threadingStore.sqlite (texts, calls and voicemails in one ThreadItem table).

Schema facts (read for facts only from the corpus store (iOS 17.3, Josh Hickman's image) and
iLEAPP's googleVoice module, abrignoni/iLEAPP scripts/artifacts/googleVoice.py; own words):
- `ThreadItem` (composite primary key threadItemKey + threadItemType, so the SQLite rowid is the
  row's identity): `itemType` text says what the item is: 'SmsIn' / 'SmsOut' are text messages
  (MMS too: their media are in MMSAttachmentInfo), 'IncomingCall', 'OutgoingCall', 'MissedCall'
  and 'Voicemail' are calls. `messageText` (empty for calls), `senderPhoneNumber` (E.164; for
  an outgoing item it is the owner's own Google Voice line, which can change over time),
  `timestamp` (Unix seconds with milliseconds, REAL), `duration` (seconds, calls), `isUnread`,
  `isDeleted`, `isSystemMessage`, `threadKey` + `threadType` -> Thread.
- `Thread`: `threadKey`, `threadType`, `groupName` (group texts); `ThreadParticipant`:
  `phoneNumberE164` per thread (the other parties, never the owner).
- `MMSAttachmentInfo(attachmentKey, mediaType, threadItemKey, threadItemType)` one row per
  media item; `FileAttachmentInfo(attachmentName, byteCount, attachmentKey)` when a file name is known.
- `Transcript(threadItemKey, threadItemType, text, confidence)`: voicemail transcription.
Which items are messages: iLEAPP's "Google Voice - Messages" lists only SmsIn/SmsOut (118 rows
in the corpus store); this parser also emits the 34 call and voicemail items, with kind='call',
because they are communications of the same thread (152 ThreadItem rows in all).
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_read
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_seconds
from parsers.sqlite_store import Database

# What an item cannot be read without (time, body, what it is, its thread); the rest is read when present.
ITEM_COLUMNS = ("threadItemKey", "messageText", "timestamp", "itemType", "threadKey")
ITEM_OPTIONAL = ("threadItemType", "senderPhoneNumber", "isUnread", "isDeleted", "isSystemMessage", "duration", "threadType")
THREAD_SQL = "SELECT threadKey, threadType, groupName FROM Thread"
PARTICIPANT_SQL = "SELECT threadKey, threadType, phoneNumberE164 FROM ThreadParticipant ORDER BY threadKey, threadType, phoneNumberE164"
MEDIA_SQL = """SELECT m.threadItemKey, m.threadItemType, m.attachmentKey, m.mediaType, f.attachmentName, f.byteCount
FROM MMSAttachmentInfo m LEFT JOIN FileAttachmentInfo f ON f.attachmentKey = m.attachmentKey AND f.attachmentSource = m.attachmentSource
ORDER BY m.threadItemKey, m.attachmentKey"""
TRANSCRIPT_SQL = "SELECT threadItemKey, threadItemType, text FROM Transcript"
TEXT_ITEMS = {"SmsIn": "incoming", "SmsOut": "outgoing"}
CALL_ITEMS = {"IncomingCall": "incoming", "MissedCall": "incoming", "Voicemail": "incoming", "OutgoingCall": "outgoing"}

Key = tuple[str, int]


class GoogleVoice(SqliteChatParser):
    name = "google_voice"
    version = "2"
    app = "Google Voice"
    platform = "iOS"
    paths = ("*/Library/Application Support/*/threadingStore.sqlite",)
    variants = (
        Variant("threading_store", {"ThreadItem": ITEM_COLUMNS}, optional={"ThreadItem": ITEM_OPTIONAL}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        members: dict[Key, list[Participant]] = {}
        if database.has("ThreadParticipant", "threadKey", "threadType", "phoneNumberE164"):
            for row in side_read(database.query(PARTICIPANT_SQL), "ThreadParticipant", context):
                members.setdefault((row["threadKey"], row["threadType"]), []).append(Participant(row["phoneNumberE164"]))
        titles: dict[Key, str] = {}
        if database.has("Thread", "threadKey", "threadType", "groupName"):
            titles = {(r["threadKey"], r["threadType"]): r["groupName"]
                      for r in side_read(database.query(THREAD_SQL), "Thread", context) if r["groupName"] is not None}
        media: dict[Key, list[sqlite3.Row]] = {}
        if database.has("MMSAttachmentInfo", "attachmentKey", "mediaType", "threadItemKey", "threadItemType", "attachmentSource") \
                and database.has("FileAttachmentInfo", "attachmentName", "byteCount", "attachmentKey", "attachmentSource"):
            for row in side_read(database.query(MEDIA_SQL), "MMSAttachmentInfo", context):
                media.setdefault((row["threadItemKey"], row["threadItemType"]), []).append(row)
        transcripts: dict[Key, str] = {}
        if database.has("Transcript", "threadItemKey", "threadItemType", "text"):
            transcripts = {(r["threadItemKey"], r["threadItemType"]): r["text"]
                           for r in side_read(database.query(TRANSCRIPT_SQL), "Transcript", context)}
        items = database.query(f"SELECT rowid AS row_id, {variant.columns(database, 'ThreadItem')} FROM ThreadItem ORDER BY rowid")
        yield from context.each(items, "ThreadItem", lambda row: _item(row, members, titles, media, transcripts, context), "row_id")


def _kind(row: sqlite3.Row, has_media: bool) -> str:
    item_type = row["itemType"]
    if item_type in CALL_ITEMS:
        return "call"
    if item_type not in TEXT_ITEMS:
        return "unknown"
    if row["isSystemMessage"] == 1:
        return "system"
    return "media" if has_media else "text"


def _details(row: sqlite3.Row, files: list[sqlite3.Row], transcript: str | None) -> dict[str, str]:
    details = {"item_type": row["itemType"], "thread_item_key": row["threadItemKey"]}
    if row["isUnread"] is not None:
        details["is_unread"] = str(row["isUnread"])
    if row["itemType"] in CALL_ITEMS and row["duration"] is not None:
        details["duration_seconds"] = str(row["duration"])
    if transcript is not None:
        details["transcript"] = transcript
    if files:
        details["attachment_keys"] = ",".join(f["attachmentKey"] for f in files)
        details["attachment_media_types"] = ",".join(str(f["mediaType"]) for f in files)
    return details


def _item(row: sqlite3.Row, members: dict[Key, list[Participant]], titles: dict[Key, str], media: dict[Key, list[sqlite3.Row]],
          transcripts: dict[Key, str], context: ParseContext) -> Message:
    row_id = row["row_id"]
    key = (row["threadItemKey"], row["threadItemType"])
    direction = TEXT_ITEMS.get(row["itemType"]) or CALL_ITEMS.get(row["itemType"]) or "unknown"
    sender = Participant(row["senderPhoneNumber"]) if row["senderPhoneNumber"] else None
    others = members.get((row["threadKey"], row["threadType"]), [])
    files = media.get(key, [])
    return Message(
        source_table="ThreadItem", source_row_id=row_id, conversation_id=row["threadKey"], conversation_title=titles.get((row["threadKey"], row["threadType"])),
        sender=sender, recipients=tuple(others) if direction == "outgoing" else (), direction=direction,
        sent=context.time(row["timestamp"], unix_seconds, table="ThreadItem", row_id=row_id, field="timestamp"),
        sent_raw=None if row["timestamp"] is None else str(row["timestamp"]),
        body=row["messageText"], kind=_kind(row, bool(files)),
        attachments=tuple(Attachment(file_name=f["attachmentName"], size=f["byteCount"]) for f in files),
        is_deleted=bool(row["isDeleted"]) if row["isDeleted"] is not None else None,
        account_id=sender.id if direction == "outgoing" and sender is not None else None,
        details=_details(row, files, transcripts.get(key)),
    )


PARSER = GoogleVoice()
