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

Before iOS 6 (the "legacy" variant; facts from The iPhone Wiki's "Messages" page, iOS 3.1.3 to
5.0.1, and the iOS 4/5 queries of toffer/iphone-sms-backup and jkeen/forever-chat-imessage-export):
- no `handle`/`chat`: `message` has `ROWID`, `address` (the other party), `date`, `text`, `flags`,
  `group_id` -> `msg_group.ROWID` (the conversation), `subject`, `read`, `svc_center`;
  `group_member(group_id, address)` lists a conversation's parties; `msg_pieces(message_id,
  part_id, content_type, content_loc, data)` holds an MMS's parts (text parts in `data`).
- SMS rows: `date` is Unix seconds; `flags` 2 = received, 3 = sent, 33 = send failed, 16387 = sent,
  129 = deleted (direction unknown); any other value: unknown, the raw value kept.
- iOS 5 adds iMessage in the same table: `is_madrid` = 1, the other party in `madrid_handle`,
  the owner's account in `madrid_account` ('P:'/'E:' prefix), `madrid_roomname` for group chats,
  `madrid_flags` 12289/77825 = received, 36869/45061/102405 = sent, 32773/98309 = sent to a group;
  `date`, `madrid_date_read` and `madrid_date_delivered` are seconds since 2001-01-01 on these rows
  (forever-chat reads `date` so; iphone-sms-backup takes the read/delivered time instead: both kept).
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_read
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_auto, cocoa_seconds, unix_seconds
from parsers.decode.typedstream import TypedStreamError, attributed_string_text
from parsers.sqlite_store import Database

MESSAGE_COLUMNS = ("ROWID", "guid", "text", "handle_id", "date", "is_from_me")
# Read when present, selected as NULL when the store lacks them (several came with later iOS/macOS versions).
OPTIONAL_COLUMNS = ("attributedBody", "service", "account", "date_read", "date_delivered", "item_type",
                    "associated_message_type", "associated_message_guid", "balloon_bundle_id", "destination_caller_id",
                    "subject", "group_title", "group_action_type", "other_handle")
LEGACY_COLUMNS = ("ROWID", "address", "date", "text", "flags", "group_id")
LEGACY_OPTIONAL = ("subject", "read", "svc_center", "is_madrid", "madrid_handle", "madrid_flags", "madrid_roomname",
                   "madrid_service", "madrid_account", "madrid_guid", "madrid_date_read", "madrid_date_delivered")
GROUP_MEMBER_SQL = "SELECT group_id, address FROM group_member ORDER BY group_id, ROWID"
PIECES_SQL = "SELECT message_id, content_type, content_loc, data FROM msg_pieces ORDER BY message_id, part_id, ROWID"
SMS_FLAGS = {2: ("incoming", "received"), 3: ("outgoing", "sent"), 33: ("outgoing", "send failed"),
             16387: ("outgoing", "sent"), 129: ("unknown", "deleted")}
MADRID_FLAGS = {12289: "incoming", 77825: "incoming", 36869: "outgoing", 45061: "outgoing", 102405: "outgoing",
                32773: "outgoing", 98309: "outgoing"}
NOT_ATTACHMENTS = ("text/plain", "application/smil")
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
        Variant("chats", FULL_TABLES, optional={"message": OPTIONAL_COLUMNS}),
        Variant("minimal", {"message": MESSAGE_COLUMNS, "handle": ("ROWID", "id", "service")}, optional={"message": OPTIONAL_COLUMNS}),
        Variant("legacy", {"message": LEGACY_COLUMNS}, optional={"message": LEGACY_OPTIONAL}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "legacy":
            yield from _legacy(database, variant, context)
            return
        handles = {row["ROWID"]: row for row in side_read(database.query(HANDLE_SQL), "handle", context)}
        chats: dict[int, sqlite3.Row] = {}
        chat_of: dict[int, list[int]] = {}
        members: dict[int, list[int]] = {}
        attachments: dict[int, list[sqlite3.Row]] = {}
        if variant.name == "chats":
            chats = {row["ROWID"]: row for row in side_read(database.query(CHAT_SQL), "chat", context)}
            for row in side_read(database.query(CHAT_MESSAGE_SQL), "chat_message_join", context):
                chat_of.setdefault(row["message_id"], []).append(row["chat_id"])
            for row in side_read(database.query(CHAT_HANDLE_SQL), "chat_handle_join", context):
                members.setdefault(row["chat_id"], []).append(row["handle_id"])
            for row in side_read(database.query(ATTACHMENT_SQL), "attachment", context):
                attachments.setdefault(row["message_id"], []).append(row)
        rows = database.query(variant.select(database, "message", "ROWID"))
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


def _account(account: object) -> str | None:
    """An account without Apple's 'p:'/'e:' prefix; None when empty."""
    if isinstance(account, str) and len(account) > 2 and account[1] == ":":
        return account[2:]
    if isinstance(account, str) and account and ":" not in account:
        return account
    return None


def _owner(row: sqlite3.Row) -> str | None:
    """The owner's account without Apple's 'p:'/'e:' prefix; destination_caller_id when account is empty."""
    account = _account(row["account"])
    if account is not None:
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


# Before iOS 6 -----------------------------------------------------------------------------------


def _legacy(database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
    members: dict[int, list[str]] = {}
    if database.has("group_member", "ROWID", "group_id", "address"):
        for row in side_read(database.query(GROUP_MEMBER_SQL), "group_member", context):
            if row["address"] is not None:
                members.setdefault(row["group_id"], []).append(row["address"])
    pieces: dict[int, list[sqlite3.Row]] = {}
    if database.has("msg_pieces", "ROWID", "message_id", "part_id", "content_type", "content_loc", "data"):
        for row in side_read(database.query(PIECES_SQL), "msg_pieces", context):
            pieces.setdefault(row["message_id"], []).append(row)
    rows = database.query(variant.select(database, "message", "ROWID"))
    yield from context.each(rows, "message", lambda row: _legacy_message(row, members, pieces, context), "ROWID")


def _legacy_message(row: sqlite3.Row, members: dict[int, list[str]], pieces: dict[int, list[sqlite3.Row]],
                    context: ParseContext) -> Message:
    row_id = row["ROWID"]
    madrid = row["is_madrid"] == 1
    details: dict[str, str] = {"flags": str(row["flags"])}
    if madrid:
        direction = MADRID_FLAGS.get(row["madrid_flags"], "unknown")
        details["madrid_flags"] = str(row["madrid_flags"])
        other = row["madrid_handle"] or row["address"]
        convert = cocoa_seconds
    else:
        direction, label = SMS_FLAGS.get(row["flags"], ("unknown", "unknown"))
        details["flags"] = f"{row['flags']} ({label})"
        other = row["address"]
        convert = unix_seconds
    for column in ("madrid_guid", "madrid_service", "madrid_roomname", "subject", "svc_center"):
        if row[column] not in (None, ""):
            details[column] = str(row[column])
    if row["read"] is not None:
        details["read_flag"] = str(row["read"])
    owner = _account(row["madrid_account"]) if madrid else None
    party = Participant(other) if other else None
    if direction == "outgoing":
        group = tuple(Participant(a) for a in members.get(row["group_id"], []))
        sender, recipients = (Participant(owner) if owner else None), group or ((party,) if party else ())
    elif direction == "incoming":
        sender, recipients = party, ()
    else:
        sender, recipients = None, ()
        if other:
            details["address"] = other  # who it was with is known, the direction is not
    parts = pieces.get(row_id, [])
    body = row["text"]
    if body is None:
        texts = [_piece_text(p, row_id, context) for p in parts if p["content_type"] == "text/plain"]
        if any(t is not None for t in texts):
            body = "\n".join(t for t in texts if t is not None)
            details["text_source"] = "msg_pieces"
    attachments = tuple(Attachment(file_name=p["content_loc"], mime_type=p["content_type"])
                        for p in parts if p["content_type"] not in NOT_ATTACHMENTS)
    read_time = context.time(row["madrid_date_read"], cocoa_seconds, table="message", row_id=row_id, field="madrid_date_read")
    delivered = context.time(row["madrid_date_delivered"], cocoa_seconds, table="message", row_id=row_id,
                             field="madrid_date_delivered")
    return Message(
        source_table="message", source_row_id=row_id,
        conversation_id=None if row["group_id"] is None else str(row["group_id"]),
        sender=sender, recipients=recipients, direction=direction,
        sent=context.time(row["date"], convert, table="message", row_id=row_id, field="date"),
        sent_raw=None if row["date"] is None else str(row["date"]),
        received=delivered if direction == "outgoing" else None, read=read_time,
        body=body, kind="media" if attachments else "text", attachments=attachments, account_id=owner, details=details,
    )


def _piece_text(piece: sqlite3.Row, row_id: int, context: ParseContext) -> str | None:
    """The text of a text/plain MMS piece (stored as bytes or text); a piece that is not UTF-8 is a warning."""
    data = piece["data"]
    if isinstance(data, str) or data is None:
        return data
    if not isinstance(data, bytes):
        context.warn("bad_blob", f"msg_pieces text is a {type(data).__name__}, not text", table="msg_pieces", row_id=row_id, field="data")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        context.warn("bad_blob", f"msg_pieces text is not UTF-8: {error}", table="msg_pieces", row_id=row_id, field="data")
        return None


PARSER = AppleMessages()
