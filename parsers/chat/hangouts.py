"""Google Hangouts on Android: babel.db (babel0.db, babel1.db ... one per account).

Schema facts (read for facts only from the corpus store's schema and plaso's Hangouts plugin and
its formatter: log2timeline/plaso plaso/parsers/sqlite_plugins/android_hangouts.py and
plaso/data/formatters/android.yaml; written in our own words):
- `messages`: `_id` (INTEGER PRIMARY KEY), `message_id` (server id), `conversation_id` ->
  conversations.conversation_id, `author_chat_id` / `author_gaia_id` (the sender's Google id),
  `text` (as the server sent it, HTML entities such as &#39; included), `timestamp` (Unix
  microseconds), `status` (0 unread, 4 read), `type` (1 sent by the owner, 2 received),
  `local_url` / `remote_url` / `attachment_content_type` / `attachment_name` (an image or file),
  `latitude` / `longitude` / `address` (a shared place; 0.0/0.0 when none), `transport_type`
  (1 Hangouts, 2/3 SMS/MMS through Hangouts), `new_conversation_name` (a rename event).
- `participants`: `_id`, `chat_id` / `gaia_id`, `full_name`, `first_name`, `fallback_name`
  (an email when the name is unknown).
- `conversations`: `conversation_id`, `name` (set by users) and `generated_name` (built by the
  app from the other members' names); `conversation_participants(participant_row_id ->
  participants._id, conversation_id)` lists the members including the owner.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_read
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_us
from parsers.sqlite_store import Database

MESSAGE_COLUMNS = ("_id", "conversation_id", "author_chat_id", "text", "timestamp", "type")
OPTIONAL_COLUMNS = ("message_id", "status", "local_url", "remote_url", "attachment_content_type", "attachment_name", "latitude", "longitude",
                    "address", "transport_type", "new_conversation_name")
PARTICIPANT_SQL = "SELECT _id, chat_id, full_name, fallback_name FROM participants ORDER BY _id"
CONVERSATION_SQL = "SELECT conversation_id, name, generated_name FROM conversations"
MEMBER_SQL = "SELECT conversation_id, participant_row_id FROM conversation_participants ORDER BY conversation_id, _id"
# Read when the store has them (names, titles, members); without them the messages still are.
NAME_TABLES = {"participants": ("_id", "chat_id", "full_name", "fallback_name"),
               "conversations": ("conversation_id", "name", "generated_name"),
               "conversation_participants": ("_id", "conversation_id", "participant_row_id")}
TYPES = {1: "sent", 2: "received"}
STATUSES = {0: "unread", 4: "read"}
TRANSPORTS = {1: "hangouts", 2: "sms", 3: "mms"}


class Hangouts(SqliteChatParser):
    name = "hangouts"
    version = "2"
    app = "Google Hangouts"
    platform = "Android"
    paths = ("*/com.google.android.talk/databases/babel*.db",)
    variants = (
        Variant("babel", {"messages": MESSAGE_COLUMNS}, optional={"messages": OPTIONAL_COLUMNS}),
    )


    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        people = {row["_id"]: row for row in _rows(database, "participants", PARTICIPANT_SQL, context)}
        by_chat_id = {row["chat_id"]: row for row in people.values() if row["chat_id"] is not None}
        conversations = {row["conversation_id"]: row for row in _rows(database, "conversations", CONVERSATION_SQL, context)}
        members: dict[str, list[Participant]] = {}
        for row in _rows(database, "conversation_participants", MEMBER_SQL, context):
            person = people.get(row["participant_row_id"])
            if person is not None:
                members.setdefault(row["conversation_id"], []).append(_participant(person["chat_id"], by_chat_id))
        yield from context.each(database.query(variant.select(database, "messages", "_id")), "messages",
                                lambda row: _message(row, by_chat_id, conversations, members, context), "_id")


def _rows(database: Database, table: str, sql: str, context: ParseContext) -> list[sqlite3.Row]:
    return list(side_read(database.query(sql), table, context)) if database.has(table, *NAME_TABLES[table]) else []


def _participant(chat_id: str | None, by_chat_id: dict[str, sqlite3.Row]) -> Participant:
    person = by_chat_id.get(chat_id) if chat_id is not None else None
    name = (person["full_name"] or person["fallback_name"]) if person is not None else None
    return Participant(chat_id, name)


def _kind(row: sqlite3.Row) -> str:
    if row["new_conversation_name"] is not None:
        return "system"
    if row["latitude"] or row["longitude"]:
        return "location"
    if row["local_url"] or row["remote_url"] or row["attachment_content_type"]:
        return "media"
    return "text" if row["text"] is not None else "unknown"


def _details(row: sqlite3.Row) -> dict[str, str]:
    details = {"type": f"{row['type']} ({TYPES.get(row['type'], 'unknown')})"}
    if row["message_id"] is not None:
        details["message_id"] = row["message_id"]
    if row["status"] is not None:
        details["status"] = f"{row['status']} ({STATUSES.get(row['status'], 'unknown')})"
    if row["transport_type"] is not None:
        details["transport_type"] = f"{row['transport_type']} ({TRANSPORTS.get(row['transport_type'], 'unknown')})"
    if row["new_conversation_name"] is not None:
        details["new_conversation_name"] = row["new_conversation_name"]
    if row["remote_url"]:
        details["remote_url"] = row["remote_url"]
    return details


def _message(row: sqlite3.Row, by_chat_id: dict[str, sqlite3.Row], conversations: dict[str, sqlite3.Row],
             members: dict[str, list[Participant]], context: ParseContext) -> Message:
    row_id = row["_id"]
    sender = _participant(row["author_chat_id"], by_chat_id) if row["author_chat_id"] is not None else None
    outgoing = row["type"] == 1
    conversation = conversations.get(row["conversation_id"])
    title = (conversation["name"] or conversation["generated_name"]) if conversation is not None else None
    recipients = tuple(p for p in members.get(row["conversation_id"], []) if sender is None or p.id != sender.id)
    kind = _kind(row)
    attachments = ()
    if kind == "media":
        attachments = (Attachment(file_name=row["attachment_name"], mime_type=row["attachment_content_type"],
                                  local_path=row["local_url"]),)
    return Message(
        source_table="messages", source_row_id=row_id, conversation_id=row["conversation_id"], conversation_title=title,
        sender=sender, recipients=recipients,
        direction="outgoing" if outgoing else ("incoming" if row["type"] == 2 else "unknown"),
        sent=context.time(row["timestamp"], unix_us, table="messages", row_id=row_id, field="timestamp"),
        sent_raw=None if row["timestamp"] is None else str(row["timestamp"]),
        body=row["text"], kind=kind, attachments=attachments,
        latitude=row["latitude"] if kind == "location" else None, longitude=row["longitude"] if kind == "location" else None,
        location_name=row["address"] if kind == "location" else None,
        account_id=sender.id if outgoing and sender is not None else None, details=_details(row),
    )


PARSER = Hangouts()
