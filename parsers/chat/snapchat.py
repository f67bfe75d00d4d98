"""Snapchat Android chats from `arroyo.db` (the messaging store used since about 2020).

Schema facts (read for facts only from SnapEnhance, github.com/rhunk/SnapEnhance, files
`database/objects/ConversationMessage.kt` and `data/SnapEnums.kt`, and ALEAPP's snapchat module):
- `conversation_message`: `client_conversation_id` (text, the conversation), `client_message_id`,
  `server_message_id`, `sender_id` (user id text), `creation_timestamp` (Unix ms), `content_type`
  (int: 0 snap, 1 chat, 2 external media, 3 share, 4 note (voice), 5 sticker, 6 status; higher
  numbers were renumbered between app versions, so they are kept as raw numbers only), and
  `message_content`, a protobuf blob.
- `message_content`: field 4 -> field 4 is the message container. In the container, which field is
  present tells the kind (2 chat, 11 snap, 6 note, 3 external media, 4 sticker, 5 share, 7 story
  reply, 8 status); the chat text is container field 2 -> field 1 (UTF-8).
- Friend names live in the companion `main.db`, table `Friend` (`userId`, `displayName`, `username`),
  when that table is present.
The owner's own user id is not in this table, so direction is left unknown.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Message, Participant, decode_text
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.decode.protobuf import LENGTH, ProtobufError, follow, parse
from parsers.sqlite_store import Database

TABLE = "conversation_message"
MESSAGE_SQL = ("SELECT rowid AS row_id, client_conversation_id, server_message_id, sender_id, creation_timestamp, content_type, "
               "message_content FROM conversation_message ORDER BY creation_timestamp, rowid")
FRIEND_SQL = "SELECT userId, displayName, username FROM Friend"
CONTENT_TYPES = {0: ("snap", "media"), 1: ("chat", "text"), 2: ("external_media", "media"), 3: ("share", "media"),
                 4: ("note", "media"), 5: ("sticker", "sticker"), 6: ("status", "system")}
CONTAINER_FIELDS = {8: ("status", "system"), 2: ("chat", "text"), 11: ("snap", "media"), 6: ("note", "media"),
                    3: ("external_media", "media"), 4: ("sticker", "sticker"), 5: ("share", "media"), 7: ("story_reply", "media")}
CONTAINER_ORDER = (8, 2, 11, 6, 3, 4, 5, 7)  # status first: a status row may carry other fields too


class Snapchat(SqliteChatParser):
    name = "snapchat"
    version = "1"
    app = "Snapchat"
    platform = "Android"
    paths = ("*/com.snapchat.android/databases/arroyo.db",)
    variants = (
        Variant("arroyo", {TABLE: ("client_conversation_id", "server_message_id", "sender_id", "creation_timestamp",
                                   "content_type", "message_content")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        names = _friend_names(context)
        yield from context.each(database.query(MESSAGE_SQL), TABLE, lambda row: self._message(row, names, context), "row_id")

    def _message(self, row: sqlite3.Row, names: dict[str, str], context: ParseContext) -> Message:
        row_id = row["row_id"]
        content_type = row["content_type"]
        type_name, kind = CONTENT_TYPES.get(content_type, ("unknown", "unknown"))
        details = {"content_type": f"{content_type} ({type_name})"}
        if row["server_message_id"] is not None:
            details["server_message_id"] = str(row["server_message_id"])
        body = None
        blob = row["message_content"]
        if isinstance(blob, bytes) and blob:
            try:
                container_kind, body = _decode_content(blob)
            except (ProtobufError, UnicodeDecodeError) as error:
                context.warn("bad_blob", f"message_content is not readable protobuf: {error}", table=TABLE, row_id=row_id,
                             field="message_content")
            else:
                if container_kind is not None:
                    details["content_kind"] = container_kind[0]
                    kind = container_kind[1]
        sender_id = row["sender_id"]
        sender = Participant(str(sender_id), names.get(str(sender_id))) if sender_id is not None else None
        return Message(
            source_table=TABLE, source_row_id=row_id, conversation_id=row["client_conversation_id"], sender=sender,
            direction="unknown",
            sent=context.time(row["creation_timestamp"], unix_ms, table=TABLE, row_id=row_id, field="creation_timestamp"),
            sent_raw=None if row["creation_timestamp"] is None else str(row["creation_timestamp"]),
            body=body, kind=kind, details=details,
        )


def _decode_content(blob: bytes) -> tuple[tuple[str, str] | None, str | None]:
    """(content kind from the container, chat text) of a message_content blob."""
    container = follow(blob, 4, 4)
    if container is None:
        return None, None
    present = {f.number for f in parse(container)}
    kind = next((CONTAINER_FIELDS[n] for n in CONTAINER_ORDER if n in present), None)
    text = None
    chat = follow(container, 2)
    if chat is not None:
        fields = [f for f in parse(chat) if f.number == 1 and f.wire_type == LENGTH]
        if fields:
            text = decode_text(fields[0].value)  # type: ignore[arg-type]
    return kind, text


def _friend_names(context: ParseContext) -> dict[str, str]:
    """user id -> display name (else username) from the companion main.db, when it has a Friend table."""
    companion = context.companion("*/com.snapchat.android/databases/main.db")
    if companion is None or not companion.has("Friend", "userId", "displayName", "username"):
        return {}
    names: dict[str, str] = {}
    for row in companion.query(FRIEND_SQL):
        name = row["displayName"] or row["username"]
        if row["userId"] is not None and name:
            names[str(row["userId"])] = name
    return names


PARSER = Snapchat()
