"""Apple Messages (iMessage / SMS / RCS): iOS sms.db and macOS chat.db.

Schema facts (read for facts only from the stores themselves, plaso's imessage parser
(log2timeline/plaso plaso/parsers/sqlite_plugins/imessage.py), iLEAPP's sms module and the
imessage-exporter project's documentation; written in our own words):
- `message`: `ROWID` (INTEGER PRIMARY KEY), `guid`, `text` (NULL on recent systems when only
  `attributedBody` holds it), `attributedBody` (an NSArchiver typedstream of an NSAttributedString,
  decoded by parsers.decode.typedstream), `handle_id` -> handle.ROWID (the other party; 0 for
  group sends), `service` ('iMessage', 'SMS', 'RCS'), `account` (the owner's account, prefixed
  'p:' phone / 'e:' email), `date`, `date_read`, `date_delivered` (seconds since 2001-01-01 before
  iOS 11 / macOS 10.13, nanoseconds since; told apart by magnitude, times.cocoa_auto),
  `is_from_me` (1 = sent by the owner), `item_type` (0 = normal message; others are group events:
  1 member added/removed (`group_action_type` 0/1, `other_handle` the member), 2 rename,
  3 left the group / group photo change), `cache_has_attachments`.
  Later versions add `associated_message_type` (2000-2007 tapback reactions, 3000-3007 their
  removal), `associated_message_guid`, `balloon_bundle_id` (iMessage app extension),
  `destination_caller_id` (the owner's number/email the message used).
- `handle`: `ROWID`, `id` (phone number or email), `service`.
- `chat`: `ROWID`, `guid` (e.g. 'iMessage;-;+4477...'), `chat_identifier`, `display_name`
  (group name); `chat_message_join(chat_id, message_id)`; `chat_handle_join(chat_id, handle_id)`.
- `attachment`: `ROWID`, `filename` (e.g. ~/Library/SMS/Attachments/ab/11/<guid>/IMG_1.jpg),
  `mime_type`, `transfer_name`, `total_bytes`; `message_attachment_join(message_id, attachment_id)`.
A stripped copy (mvt's test backup) holds only `message` and `handle`: the "minimal" variant.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_auto
from parsers.decode.typedstream import TypedStreamError, attributed_string_text
from parsers.sqlite_store import Database

MESSAGE_COLUMNS = ("ROWID", "guid", "text", "attributedBody", "handle_id", "service", "account", "date", "date_read",
                   "date_delivered", "is_from_me", "item_type")
# Added in later iOS/macOS versions; selected as NULL when the store lacks them (names from this list only).
OPTIONAL_COLUMNS = ("associated_message_type", "associated_message_guid", "balloon_bundle_id", "destination_caller_id",
                    "subject", "group_title", "group_action_type", "other_handle")
HANDLE_SQL = "SELECT ROWID, id, service FROM handle"
CHAT_SQL = "SELECT ROWID, guid, chat_identifier, display_name FROM chat"
CHAT_MESSAGE_SQL = "SELECT chat_id, message_id FROM chat_message_join ORDER BY message_id, chat_id"
CHAT_HANDLE_SQL = "SELECT chat_id, handle_id FROM chat_handle_join ORDER BY chat_id, handle_id"
ATTACHMENT_SQL = """SELECT j.message_id, a.ROWID, a.filename, a.mime_type, a.transfer_name, a.total_bytes
FROM message_attachment_join j JOIN attachment a ON a.ROWID = j.attachment_id ORDER BY j.message_id, a.ROWID"""
ITEM_TYPES = {0: "message", 1: "group member change", 2: "group renamed", 3: "group event"}

FULL_TABLES = {
    "message": MESSAGE_COLUMNS,
    "handle": ("ROWID", "id", "service"),
    "chat": ("ROWID", "guid", "chat_identifier", "display_name"),
    "chat_message_join": ("chat_id", "message_id"),
    "chat_handle_join": ("chat_id", "handle_id"),
    "attachment": ("ROWID", "filename", "mime_type", "transfer_name", "total_bytes"),
    "message_attachment_join": ("message_id", "attachment_id"),
}


class AppleMessages(SqliteChatParser):
    name = "apple_messages"
    version = "1"
    app = "Apple Messages (iMessage/SMS)"
    platform = "iOS/macOS"
    # Only Apple's own locations: a generic "chat.db" of another app must not draw a schema warning.
    paths = ("*/Library/SMS/sms.db", "*/Library/Messages/chat.db",
             "*/3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28")  # sms.db's name in an iTunes backup
    variants = (
        Variant("chats", FULL_TABLES),
        Variant("minimal", {"message": MESSAGE_COLUMNS, "handle": ("ROWID", "id", "service")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        handles = {row["ROWID"]: row for row in database.query(HANDLE_SQL)}
        chats: dict[int, sqlite3.Row] = {}
        chat_of: dict[int, list[int]] = {}
        members: dict[int, list[int]] = {}
        attachments: dict[int, list[sqlite3.Row]] = {}
        if variant.name == "chats":
            chats = {row["ROWID"]: row for row in database.query(CHAT_SQL)}
            for row in database.query(CHAT_MESSAGE_SQL):
                chat_of.setdefault(row["message_id"], []).append(row["chat_id"])
            for row in database.query(CHAT_HANDLE_SQL):
                members.setdefault(row["chat_id"], []).append(row["handle_id"])
            for row in database.query(ATTACHMENT_SQL):
                attachments.setdefault(row["message_id"], []).append(row)
        rows = database.query(_message_sql(database))
        lookups = _Lookups(handles, chats, chat_of, members, attachments)
        yield from context.each(rows, "message", lambda row: _message(row, lookups, context), "ROWID")


class _Lookups:
    """The side tables a message row is joined with, read once."""

    def __init__(self, handles: dict[int, sqlite3.Row], chats: dict[int, sqlite3.Row], chat_of: dict[int, list[int]],
                 members: dict[int, list[int]], attachments: dict[int, list[sqlite3.Row]]) -> None:
        self.handles, self.chats, self.chat_of, self.members, self.attachments = handles, chats, chat_of, members, attachments

    def handle(self, handle_id: object) -> Participant | None:
        row = self.handles.get(handle_id) if isinstance(handle_id, int) else None
        return Participant(row["id"]) if row is not None else None


def _message_sql(database: Database) -> str:
    """The message query: fixed column names, optional ones present or selected as NULL."""
    optional = [c if database.has("message", c) else f"NULL AS {c}" for c in OPTIONAL_COLUMNS]
    return f"SELECT {', '.join(MESSAGE_COLUMNS + tuple(optional))} FROM message ORDER BY ROWID"


def _owner(row: sqlite3.Row) -> str | None:
    """The owner's account without Apple's 'p:'/'e:' prefix; destination_caller_id when account is empty."""
    account = row["account"]
    if isinstance(account, str) and len(account) > 2 and account[1] == ":":
        return account[2:]
    if isinstance(account, str) and account and ":" not in account:
        return account
    caller = row["destination_caller_id"]
    return caller if isinstance(caller, str) and caller else None


def _body(row: sqlite3.Row, details: dict[str, str], context: ParseContext) -> str | None:
    """`text` as stored; the attributedBody's string when text is NULL (or, when they differ, in details)."""
    text = row["text"]
    blob = row["attributedBody"]
    if blob is None:
        return text
    try:
        decoded = attributed_string_text(blob)
    except TypedStreamError as error:
        context.warn("bad_blob", f"attributedBody is not a readable typedstream: {error}", table="message",
                     row_id=row["ROWID"], field="attributedBody")
        return text
    if text is None:
        details["text_source"] = "attributedBody"
        return decoded
    if decoded != text:
        details["attributedBody_text"] = decoded  # the two copies disagree: both are evidence
    return text


def _kind(row: sqlite3.Row, has_attachments: bool) -> str:
    item_type = row["item_type"]
    associated = row["associated_message_type"] or 0
    if item_type not in (0, None):
        return "system"
    if 2000 <= associated < 4000:
        return "reaction"
    return "media" if has_attachments else "text"


def _details(row: sqlite3.Row, chat: sqlite3.Row | None, chat_ids: list[int]) -> dict[str, str]:
    details = {"guid": row["guid"]}
    if row["service"] is not None:
        details["service"] = row["service"]
    if row["item_type"] not in (0, None):
        details["item_type"] = f"{row['item_type']} ({ITEM_TYPES.get(row['item_type'], 'unknown')})"
    for column in ("associated_message_type", "associated_message_guid", "balloon_bundle_id", "subject", "group_title",
                   "group_action_type", "other_handle"):
        if row[column] not in (None, 0, ""):
            details[column] = str(row[column])
    if row["date_delivered"]:
        details["date_delivered_raw"] = str(row["date_delivered"])
    if chat is not None and chat["chat_identifier"] is not None:
        details["chat_identifier"] = chat["chat_identifier"]
    if len(chat_ids) > 1:
        details["chat_ids"] = ",".join(str(c) for c in chat_ids)
    return details


def _message(row: sqlite3.Row, lookups: _Lookups, context: ParseContext) -> Message:
    row_id = row["ROWID"]
    outgoing = row["is_from_me"] == 1
    chat_ids = lookups.chat_of.get(row_id, [])
    chat = lookups.chats.get(chat_ids[0]) if chat_ids else None
    owner = _owner(row)
    other = lookups.handle(row["handle_id"])
    if outgoing:
        in_chat = [p for h in lookups.members.get(chat["ROWID"], []) if (p := lookups.handle(h)) is not None] if chat else []
        recipients = tuple(in_chat) or ((other,) if other else ())
        sender = Participant(owner) if owner else None
    else:
        recipients, sender = (), other
    files = lookups.attachments.get(row_id, [])
    details = _details(row, chat, chat_ids)
    body = _body(row, details, context)
    return Message(
        source_table="message", source_row_id=row_id,
        conversation_id=chat["guid"] if chat is not None else None,
        conversation_title=(chat["display_name"] or None) if chat is not None else None,
        sender=sender, recipients=recipients, direction="outgoing" if outgoing else "incoming",
        sent=_time(row, "date", context), sent_raw=None if row["date"] is None else str(row["date"]),
        received=_time(row, "date_delivered", context) if outgoing else None, read=_time(row, "date_read", context),
        body=body, kind=_kind(row, bool(files)), attachments=tuple(_attachment(f) for f in files),
        account_id=owner, details=details,
    )


def _time(row: sqlite3.Row, column: str, context: ParseContext) -> int | None:
    return context.time(row[column], cocoa_auto, table="message", row_id=row["ROWID"], field=column)


def _attachment(row: sqlite3.Row) -> Attachment:
    filename = row["filename"]
    name = row["transfer_name"] or (filename.rsplit("/", 1)[-1] if filename else None)
    return Attachment(file_name=name, mime_type=row["mime_type"], size=row["total_bytes"], local_path=filename)


PARSER = AppleMessages()
