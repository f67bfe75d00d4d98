"""Snapchat chats: `arroyo.db` (Android and iOS, about 2020 on), `main.db` (Android, about 2017-2020)
and `tcspahn.db` (Android, Snapchat 5.x to about 9.x). Research notes: docs/chat-schema-snapkik.md.

arroyo.db facts (read for facts only from SnapEnhance, github.com/rhunk/SnapEnhance, files
`database/objects/ConversationMessage.kt` and `data/SnapEnums.kt`, and ALEAPP's snapchat module,
github.com/abrignoni/ALEAPP `scripts/artifacts/snapchat.py`):
- `conversation_message`: `client_conversation_id` (text, the conversation), `client_message_id`,
  `server_message_id`, `sender_id` (user id text), `creation_timestamp` and `read_timestamp` (Unix ms),
  `content_type` (int: 0 snap, 1 chat, 2 external media, 3 share, 4 note (voice), 5 sticker, 6 status;
  higher numbers were renumbered between app versions, so they are kept as raw numbers only),
  `message_state_type`, `created_on_device` (1 = written on this device), and `message_content`, a
  protobuf blob. ALEAPP notes that older builds hold a strict subset of today's columns (its tested
  build vc 147872 lacks `created_on_device` and `replies_count`; nothing was renamed). So only the
  conversation, sender, time and content columns are required; the others are read when present.
- `message_content`: field 4 -> field 4 is the message container. In the container, which field is
  present tells the kind (2 chat, 11 snap, 6 note, 3 external media, 4 sticker, 5 share, 7 story
  reply, 8 status); the chat text is container field 2 -> field 1 (UTF-8) (ALEAPP reads the same path).
- Friend names live in the companion Android `main.db`, table `Friend` (`userId`, `displayName`,
  `username`), when that table is present. iOS keeps `arroyo.db` at
  `Documents/user_scoped/<hash>/arroyo/arroyo.db` with the same `conversation_message` table
  (charpy4n6 2025, https://charpy4n6.blogspot.com/2025/04/snapchat-artifacts.html); its friend names
  are in a plist and `primary.docobjects`, not read here, so iOS senders are ids only.
Direction: `created_on_device` = 1 is outgoing; otherwise it is unknown (the owner's id is in
shared_prefs, not in this store, and a message of the owner's written on another device is possible).

main.db facts (Snapchat 10.x: the SQLDelight `CREATE TABLE` text of `Message`, `Feed` in a decompiled
10.x build published on GitHub, read for table and column names only; John Walther and Josh Hickman,
"Two Snaps and a Twist" 2019, https://thebinaryhick.blog/2019/06/01/two-snaps-and-a-twist-an-in-depth-and-updated-look-at-snapchat-on-android/,
report that tcspahn.db is gone by 10.x and chats are in main.db; ALEAPP's older Messages artifact):
- `Message`: `_id`, `key` (message id text), `feedRowId` -> `Feed._id`, `timestamp` (when it was sent;
  Unix ms as ALEAPP reads it), `seenTimestamp`, `senderId` -> `Friend._id`, `clientStatus`, `type`
  (text, e.g. "text", "snap"), `content` (blob), `savedStates`, `released`, ...
- `Feed`: `_id`, `key` (the conversation id), `specifiedName` (a group's chosen name),
  `participantString`, `friendRowId` (the partner of a 1:1 chat), `kind`.
- `Friend`: `_id`, `userId`, `username`, `displayName`.
- The text of a "text" row: ALEAPP reads a length byte at offset 0x28 of `content` and the UTF-8
  text from offset 0x2c. That layout was read from observed data, not from a format description
  (**not confirmed** for other builds or for long texts), so it is used only when it is consistent
  (the length fits the blob and the bytes are UTF-8); otherwise the body is empty and a `bad_blob`
  warning says so. The raw content is kept in details (`content_hex`, first 1024 bytes) either way.
Direction: unknown (the owner's own Friend row is not marked in the schema).

tcspahn.db facts (Learning Android Forensics, Skulkin/Tyndall/Tamma, Snapchat 8.1.2 in the 1st ed.:
`Chat` lists text chats with sender, recipient, Unix-epoch timestamp and text; anparser 2015,
github.com/anparser/anparser `anparser/plugins/sqlite_plugins/snapchat_android.py`, reads `Chat` `_id,
recipient, sender, is_saved_by_sender, is_saved_by_recipient, send_receive_status, timestamp, text,
conversation_id` and `Friends` `Username, DisplayName`, timestamps as Unix ms; a decompiled pre-10
build's `ChatTable` declares `_id` TEXT (the chat id, not a row number), `type` ("text", "media",
"screenshot"), `media_id`, `seq_num` as well):
- Senders and recipients are usernames; `conversation_id` names the conversation. Names come from
  `Friends` in the same file when present. Direction: unknown (the owner's username is in shared_prefs).
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Message, Participant, decode_text
from parsers.chat._rows import side_index, side_read, side_table, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.decode.protobuf import LENGTH, ProtobufError, follow, parse
from parsers.sqlite_store import Database

TABLE = "conversation_message"
FRIEND_SQL = "SELECT userId, displayName, username FROM Friend"
CONTENT_TYPES = {0: ("snap", "media"), 1: ("chat", "text"), 2: ("external_media", "media"), 3: ("share", "media"),
                 4: ("note", "media"), 5: ("sticker", "sticker"), 6: ("status", "system")}
CONTAINER_FIELDS = {8: ("status", "system"), 2: ("chat", "text"), 11: ("snap", "media"), 6: ("note", "media"),
                    3: ("external_media", "media"), 4: ("sticker", "sticker"), 5: ("share", "media"), 7: ("story_reply", "media")}
CONTAINER_ORDER = (8, 2, 11, 6, 3, 4, 5, 7)  # status first: a status row may carry other fields too

MAIN_TEXT_LENGTH_AT, MAIN_TEXT_AT = 0x28, 0x2C  # ALEAPP's reading of Message.content (see docstring)
CONTENT_HEX_BYTES = 1024
MAIN_KINDS = {"text": "text", "snap": "media", "media": "media", "sticker": "sticker"}
TCSPAHN_KINDS = {"text": "text", "media": "media", "screenshot": "system"}

ARROYO = Variant("arroyo", {TABLE: ("client_conversation_id", "sender_id", "creation_timestamp", "message_content")},
                 {TABLE: ("client_message_id", "server_message_id", "content_type", "read_timestamp", "message_state_type",
                          "created_on_device")})
MAIN_DB = Variant("main_db", {"Message": ("feedRowId", "senderId", "timestamp", "type", "content")},
                  {"Message": ("key", "seenTimestamp", "clientStatus", "savedStates", "released")})
TCSPAHN = Variant("tcspahn", {"Chat": ("sender", "recipient", "timestamp", "text")},
                  {"Chat": ("_id AS chat_id", "type", "conversation_id", "send_receive_status", "is_saved_by_sender",
                            "is_saved_by_recipient", "media_id")})
# Side tables, read when present (declared like variants, so only these names reach SQL text).
MAIN_FEED = Variant("main_feed", {"Feed": ("_id", "key")}, {"Feed": ("specifiedName", "participantString")})
MAIN_FRIEND = Variant("main_friend", {"Friend": ("_id",)}, {"Friend": ("userId", "username", "displayName")})
TCSPAHN_FRIENDS = Variant("tcspahn_friends", {"Friends": ("Username",)}, {"Friends": ("DisplayName",)})


class Snapchat(SqliteChatParser):
    name = "snapchat"
    version = "2"
    app = "Snapchat"
    platform = "Android/iOS"
    # main.db is matched by schema only: since arroyo it mostly holds friends, and is the arroyo companion.
    paths = ("*/com.snapchat.android/databases/arroyo.db", "*/Documents/user_scoped/*/arroyo/arroyo.db",
             "*/com.snapchat.android/databases/tcspahn.db")
    variants = (ARROYO, MAIN_DB, TCSPAHN)

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "arroyo":
            names = _friend_names(context)
            sql = f"SELECT rowid AS row_id, {variant.columns(database, TABLE)} FROM {TABLE} ORDER BY creation_timestamp, rowid"
            yield from context.each(database.query(sql), TABLE, lambda row: self._arroyo(row, names, context), "row_id")
        elif variant.name == "main_db":
            yield from self._main_db(database, variant, context)
        else:
            yield from self._tcspahn(database, variant, context)

    def _arroyo(self, row: sqlite3.Row, names: dict[str, str], context: ParseContext) -> Message:
        row_id = row["row_id"]
        content_type = row["content_type"]
        type_name, kind = CONTENT_TYPES.get(content_type, ("unknown", "unknown"))
        details: dict[str, str] = {}
        if content_type is not None:
            details["content_type"] = f"{content_type} ({type_name})"
        for column in ("server_message_id", "client_message_id", "message_state_type"):
            if row[column] is not None:
                details[column] = str(row[column])
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
        elif blob is not None and not isinstance(blob, bytes):
            context.warn("bad_blob", f"message_content is {type(blob).__name__}, not a blob", table=TABLE, row_id=row_id,
                         field="message_content")
        sender_id = row["sender_id"]
        sender = Participant(str(sender_id), names.get(str(sender_id))) if sender_id is not None else None
        return Message(
            source_table=TABLE, source_row_id=row_id, conversation_id=text_value(row["client_conversation_id"]), sender=sender,
            direction="outgoing" if row["created_on_device"] == 1 else "unknown",
            sent=context.time(row["creation_timestamp"], unix_ms, table=TABLE, row_id=row_id, field="creation_timestamp"),
            sent_raw=None if row["creation_timestamp"] is None else str(row["creation_timestamp"]),
            read=context.time(row["read_timestamp"], unix_ms, table=TABLE, row_id=row_id, field="read_timestamp"),
            body=body, kind=kind, details=details,
        )

    def _main_db(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        feeds = side_index(database, MAIN_FEED, "Feed", "_id", context)
        friends = side_index(database, MAIN_FRIEND, "Friend", "_id", context)
        sql = f"SELECT rowid AS row_id, {variant.columns(database, 'Message')} FROM Message ORDER BY timestamp, rowid"
        yield from context.each(database.query(sql), "Message", lambda row: self._main_message(row, feeds, friends, context), "row_id")

    def _main_message(self, row: sqlite3.Row, feeds: dict[object, sqlite3.Row], friends: dict[object, sqlite3.Row],
                      context: ParseContext) -> Message:
        row_id = row["row_id"]
        message_type = text_value(row["type"])
        details = {"type": str(message_type), "feed_row_id": str(row["feedRowId"]), "sender_row_id": str(row["senderId"])}
        for column, key in (("key", "key"), ("clientStatus", "client_status"), ("savedStates", "saved_states"), ("released", "released")):
            if row[column] not in (None, ""):
                details[key] = str(row[column])
        body = None
        content = row["content"]
        if isinstance(content, bytes):
            details["content_bytes"] = str(len(content))
            details["content_hex"] = content[:CONTENT_HEX_BYTES].hex()
            if message_type == "text":
                body = _main_db_text(content)
                if body is None:
                    context.warn("bad_blob", f"content ({len(content)} bytes) does not hold text at the offsets ALEAPP reads "
                                 f"(length byte at {MAIN_TEXT_LENGTH_AT:#x}, text from {MAIN_TEXT_AT:#x})",
                                 table="Message", row_id=row_id, field="content")
        elif content is not None:
            body = text_value(content)  # a store that kept text in the column
        feed = feeds.get(row["feedRowId"])
        friend = friends.get(row["senderId"])
        sender = None
        friend_id = next((value for value in (text_value(friend["userId"]), text_value(friend["username"])) if value), None) \
            if friend is not None else None
        if friend_id is not None:
            sender = Participant(friend_id, text_value(friend["displayName"]) or text_value(friend["username"]))
        elif row["senderId"] is not None:  # no Friend row, or one that names nobody: the Message's own sender row id
            sender = Participant(str(row["senderId"]), text_value(friend["displayName"]) if friend is not None else None)
        return Message(
            source_table="Message", source_row_id=row_id,
            conversation_id=text_value(feed["key"]) if feed is not None else None,
            conversation_title=(text_value(feed["specifiedName"]) or text_value(feed["participantString"])) if feed is not None else None,
            sender=sender, direction="unknown",
            sent=context.time(row["timestamp"], unix_ms, table="Message", row_id=row_id, field="timestamp"),
            sent_raw=None if row["timestamp"] is None else str(row["timestamp"]),
            read=context.time(row["seenTimestamp"], unix_ms, table="Message", row_id=row_id, field="seenTimestamp"),
            body=body, kind=MAIN_KINDS.get(message_type or "", "unknown"), details=details,
        )

    def _tcspahn(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        names: dict[str, str] = {}
        if TCSPAHN_FRIENDS.matches(database):
            for row in side_table(database, TCSPAHN_FRIENDS, "Friends", context):
                if isinstance(row["Username"], str) and isinstance(row["DisplayName"], str) and row["DisplayName"]:
                    names[row["Username"]] = row["DisplayName"]
        sql = f"SELECT rowid AS row_id, {variant.columns(database, 'Chat')} FROM Chat ORDER BY timestamp, rowid"
        yield from context.each(database.query(sql), "Chat", lambda row: self._tcspahn_message(row, names, context), "row_id")

    def _tcspahn_message(self, row: sqlite3.Row, names: dict[str, str], context: ParseContext) -> Message:
        row_id = row["row_id"]
        chat_type = text_value(row["type"])
        details: dict[str, str] = {}
        for column in ("chat_id", "type", "send_receive_status", "is_saved_by_sender", "is_saved_by_recipient", "media_id"):
            if row[column] not in (None, ""):
                details[column] = str(row[column])
        sender, recipient = text_value(row["sender"]), text_value(row["recipient"])
        body = text_value(row["text"])
        kind = TCSPAHN_KINDS.get(chat_type or "", "text" if chat_type is None and body else "unknown")
        return Message(
            source_table="Chat", source_row_id=row_id, conversation_id=text_value(row["conversation_id"]),
            sender=Participant(sender, names.get(sender)) if sender else None,
            recipients=(Participant(recipient, names.get(recipient)),) if recipient else (),
            direction="unknown",
            sent=context.time(row["timestamp"], unix_ms, table="Chat", row_id=row_id, field="timestamp"),
            sent_raw=None if row["timestamp"] is None else str(row["timestamp"]),
            body=body or None, kind=kind, details=details,
        )


def _main_db_text(content: bytes) -> str | None:
    """The text of a main.db "text" row by ALEAPP's layout, or None when the blob does not fit it."""
    if len(content) <= MAIN_TEXT_AT:
        return None
    length = content[MAIN_TEXT_LENGTH_AT]
    end = MAIN_TEXT_AT + length
    if length == 0 or end > len(content):
        return None
    try:
        return content[MAIN_TEXT_AT:end].decode("utf-8")
    except UnicodeDecodeError:
        return None


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
    for row in side_read(companion.query(FRIEND_SQL), "Friend", context):
        name = row["displayName"] or row["username"]
        if row["userId"] is not None and name:
            names[str(row["userId"])] = name
    return names


PARSER = Snapchat()
