"""Skype classic (desktop 3.x-7.x) `main.db`: chat messages, the call log and file transfers.

Schema facts (read for facts only: the corpus databases themselves; IPED
`iped-parsers/.../skype/SkypeMessage.java` and `SkypeSqliteV12.java`; plaso `skype.py` event names):
- `Messages`: `id` (INTEGER PRIMARY KEY), `convo_id` -> `Conversations.id`, `author` (Skype name of the
  writer), `from_dispname` (writer's display name as sent), `dialog_partner`, `timestamp` (Unix seconds),
  `type` (what the row is: 61 text, 60 emote, 63 contacts sent, 64 SMS, 67 voice message, 68 file,
  201 cloud media (URIObject), 50 contact request, 51 request accepted, 53 blocked, 10 members added,
  12 member removed, 13 member left, 30 call started, 39 call ended, 110 birthday, 2/4 topic/conference
  set), `chatmsg_type` (older sub-type, e.g. 3 plain, 7 special, 18 auth), `body_xml` (the text with
  Skype's XML markup, kept exactly), `edited_by`/`edited_timestamp` (Unix seconds), `identities`
  (members named by system rows; the SMS target for type 64), `sending_status`, `chatname`.
- `Conversations`: `id`, `identity` (the partner's Skype name for type 1 dialogs, the chat id for
  type 2 groups), `type`, `displayname`, `given_displayname`.
- `Contacts`: `skypename`, `fullname`, `displayname`, `given_displayname` (the owner's own label).
- `Accounts`: `skypename`, `fullname` of the profile owning the database.
- `Calls`: `id`, `begin_timestamp` (Unix seconds), `is_incoming`, `host_identity`, `duration`
  (seconds), `name`, `topic`, `is_conference`, `conv_dbid` -> `Conversations.id`.
- `CallMembers`: `call_db_id` -> `Calls.id`, `identity`, `dispname`, `call_duration` (seconds): the
  other parties of a call.
- `Transfers`: `id`, `type` (1 incoming, 2 outgoing), `partner_handle`, `partner_dispname`, `status`,
  `starttime`/`finishtime` (Unix seconds), `filepath`, `filename`, `filesize`, `chatmsg_guid` (the
  `Messages.guid` of the chat row announcing it, when there is one), `convo_id`.
A message edited to an empty `body_xml` is how the client records "remove message" (the row stays,
the text is cleared, `edited_by`/`edited_timestamp` say who and when): is_deleted=True for it.
A transfer whose `chatmsg_guid` names a message becomes that message's attachment; one without a
message (older clients) is its own `media` message, so no file transfer is lost or counted twice.

Schema history (docs/chat-schema-skypemsgr.md): main.db is SQLite from Skype 4.0 (2009; kosi2801,
"Messing with the Skype 4.0 database") to 7.x, and early Windows 10 Store builds keep the same file
(Forensafe 2021). The 2009 write-up groups messages by `Messages.chatname` (= `Chats.name`; `Chats.type`
4 a group chat, `chatmsg_type` 5 a topic change) and never names `Conversations` or `convo_id`; the 2013
plaso store has both, and in the 2021 IPED store `chatname` is empty. Whether a real 4.x store lacked
`convo_id`, `guid`, `identities` or `edited_by` is not confirmed, so only the columns a message needs are
required (`id`, `author`, `timestamp`, `body_xml`, and `convo_id`+`Conversations` or `chatname`); all
others are read when present and null when absent. `Chats.type` 2 is a dialog (both corpus stores).
Before 4.0 (and Skype 2.x for Linux) history was in `chatmsg*.dbb` record files, not SQLite: not read.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_read, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_seconds
from parsers.sqlite_store import Database

KINDS = {61: "text", 60: "text", 64: "text", 63: "contact", 67: "media", 68: "media", 201: "media",
         30: "call", 39: "call", 50: "system", 51: "system", 53: "system", 10: "system", 12: "system",
         13: "system", 110: "system", 2: "system", 4: "system"}
TYPE_NAMES = {61: "text", 60: "emote", 63: "contacts", 64: "sms", 67: "voice message", 68: "file",
              201: "cloud media", 50: "contact request", 51: "request accepted", 53: "blocked",
              10: "members added", 12: "member removed", 13: "member left", 30: "call started",
              39: "call ended", 110: "birthday", 2: "topic set", 4: "conference created"}
DIALOG = 1

MESSAGE_OPTIONAL = ("convo_id", "chatname", "from_dispname", "dialog_partner", "type", "chatmsg_type", "edited_by",
                    "edited_timestamp", "identities", "guid")
NAMES = ("skypename", "fullname", "displayname", "given_displayname")
OPTIONAL = {"Messages": MESSAGE_OPTIONAL, "Conversations": ("displayname", "given_displayname"), "Contacts": NAMES,
            "Accounts": NAMES, "Chats": ("name", "type", "friendlyname", "topic", "dialog_partner", "participants")}
CHAT_DIALOG = 2
CALLS_SQL = "SELECT id, begin_timestamp, is_incoming, host_identity, duration, name, topic, is_conference, conv_dbid FROM Calls ORDER BY id"
CALL_MEMBERS_SQL = "SELECT id, call_db_id, identity, dispname, call_duration FROM CallMembers ORDER BY call_db_id, id"
TRANSFERS_SQL = ("SELECT id, type, partner_handle, partner_dispname, status, starttime, finishtime, filepath, filename, "
                 "filesize, chatmsg_guid, convo_id FROM Transfers ORDER BY id")


class SkypeClassic(SqliteChatParser):
    name = "skype_classic"
    version = "1"
    app = "Skype classic"
    platform = "Windows/macOS desktop"
    paths = ("*/skype/*/main.db",)
    # Only what a message cannot be read without is required (time, body, writer, conversation); every other
    # column is read when present and null when absent, so older and newer builds still yield every message.
    variants = (
        Variant("main_db", {"Messages": ("id", "convo_id", "author", "timestamp", "body_xml"),
                            "Conversations": ("id", "identity", "type")},
                {**OPTIONAL, "Messages": tuple(c for c in MESSAGE_OPTIONAL if c != "convo_id")}),
        # Messages grouped by `chatname` (the key of `Chats.name`) with no Conversations table.
        Variant("chatname", {"Messages": ("id", "chatname", "author", "timestamp", "body_xml")},
                {**OPTIONAL, "Messages": tuple(c for c in MESSAGE_OPTIONAL if c != "chatname")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        names = _contact_names(database, variant, context)
        owner = _owner(database, variant, names, context)
        conversations: dict[int, sqlite3.Row] = {}
        if database.has("Conversations", "id", "identity", "type"):
            rows = side_read(database.query(variant.select(database, "Conversations")), "Conversations", context)
            conversations = {row["id"]: row for row in rows}
        chats: dict[str, sqlite3.Row] = {}
        if database.has("Chats", "name"):
            rows = side_read(database.query(variant.select(database, "Chats")), "Chats", context)
            chats = {row["name"]: row for row in rows if row["name"]}
        messages_sql = variant.select(database, "Messages", "id")
        transfers = list(side_read(database.query(TRANSFERS_SQL), "Transfers", context)) if database.has(
            "Transfers", "id", "type", "partner_handle", "partner_dispname", "status", "starttime", "finishtime", "filepath", "filename",
            "filesize", "chatmsg_guid", "convo_id") else []
        by_guid: dict[bytes, list[sqlite3.Row]] = {}
        for row in transfers:
            if isinstance(row["chatmsg_guid"], bytes):
                by_guid.setdefault(row["chatmsg_guid"], []).append(row)
        guids: set[bytes] = set()  # the Messages rows that announce a transfer, read before the messages themselves
        if database.has("Messages", "guid"):
            rows = side_read(database.query("SELECT guid FROM Messages"), "Messages", context)
            guids = {row["guid"] for row in rows if isinstance(row["guid"], bytes)}
        yield from context.each(database.query(messages_sql), "Messages",
                                lambda r: self._message(r, owner, names, conversations, chats, by_guid, context), "id")
        if database.has("Calls", "id", "begin_timestamp", "is_incoming", "host_identity", "duration", "name", "topic",
                        "is_conference", "conv_dbid"):
            members: dict[int, list[sqlite3.Row]] = {}
            if database.has("CallMembers", "id", "call_db_id", "identity", "dispname", "call_duration"):
                for member in side_read(database.query(CALL_MEMBERS_SQL), "CallMembers", context):
                    members.setdefault(member["call_db_id"], []).append(member)
            yield from context.each(database.query(CALLS_SQL), "Calls",
                                    lambda r: self._call(r, members.get(r["id"], []), owner, names, conversations, context), "id")
        loose = [row for row in transfers if row["chatmsg_guid"] not in guids]
        yield from context.each(loose, "Transfers", lambda r: self._transfer(r, owner, names, conversations, context), "id")

    def _message(self, row: sqlite3.Row, owner: Participant | None, names: dict[str, str],
                 conversations: dict[int, sqlite3.Row], chats: dict[str, sqlite3.Row], by_guid: dict[bytes, list[sqlite3.Row]],
                 context: ParseContext) -> Message:
        row_id = row["id"]
        author = _text(row["author"])
        outgoing = owner is not None and author == owner.id
        conversation = conversations.get(row["convo_id"])
        chat = chats.get(row["chatname"]) if row["chatname"] else None
        sent = context.time(row["timestamp"], unix_seconds, table="Messages", row_id=row_id, field="timestamp")
        edited = context.time(row["edited_timestamp"], unix_seconds, table="Messages", row_id=row_id, field="edited_timestamp")
        body = text_value(row["body_xml"])
        kind_code = row["type"]
        details = {"type": f"{kind_code} ({TYPE_NAMES.get(kind_code, 'unknown')})"} if kind_code is not None else {}
        for column in ("chatmsg_type", "from_dispname", "dialog_partner", "identities", "edited_by"):
            if row[column] not in (None, ""):
                details[column] = str(row[column])
        attachments = tuple(_attachment(t) for t in by_guid.get(row["guid"], [])) if isinstance(row["guid"], bytes) else ()
        sender = owner if outgoing else (Participant(author, names.get(author) or row["from_dispname"]) if author else None)
        return Message(
            source_table="Messages", source_row_id=row_id,
            conversation_id=_conversation_id(conversation, row["chatname"] or row["convo_id"]),
            conversation_title=_title(conversation) or (_chat_title(chat) if conversation is None else None), sender=sender,
            recipients=(_recipients(outgoing, conversation, owner, names, row) if conversation is not None or not row["chatname"]
                        else _chat_recipients(outgoing, chat, owner, names, row)),
            direction="outgoing" if outgoing else ("incoming" if owner is not None else "unknown"),
            sent=sent, sent_raw=_text(row["timestamp"]), edited=edited, body=body,
            kind=KINDS.get(kind_code, "unknown") if kind_code is not None else _older_kind(row["chatmsg_type"]), attachments=attachments,
            is_edited=True if row["edited_timestamp"] else None,
            is_deleted=True if row["edited_timestamp"] and body == "" else None,
            account_id=owner.id if owner else None, details=details,
        )

    def _call(self, row: sqlite3.Row, members: list[sqlite3.Row], owner: Participant | None, names: dict[str, str],
              conversations: dict[int, sqlite3.Row], context: ParseContext) -> Message:
        row_id = row["id"]
        incoming = row["is_incoming"] == 1
        host = row["host_identity"]
        conversation = conversations.get(row["conv_dbid"])
        details = {"is_incoming": _text(row["is_incoming"]) or ""}
        for column in ("duration", "name", "topic", "is_conference", "host_identity"):
            if row[column] not in (None, ""):
                details[column] = str(row[column])
        others = tuple(Participant(m["identity"], names.get(m["identity"]) or m["dispname"]) for m in members
                       if m["identity"] and (owner is None or m["identity"] != owner.id))
        if len(members) == 1 and members[0]["call_duration"] is not None:
            details["call_duration"] = str(members[0]["call_duration"])
        if incoming:
            caller = host if host and (owner is None or host != owner.id) else (others[0].id if others else None)
            sender = Participant(caller, names.get(caller)) if caller else None
        else:
            sender = owner
        return Message(
            source_table="Calls", source_row_id=row_id, conversation_id=_conversation_id(conversation, row["conv_dbid"]),
            conversation_title=_title(conversation), sender=sender,
            recipients=(((owner,) if owner else ()) if incoming else others),
            direction="incoming" if incoming else ("outgoing" if row["is_incoming"] == 0 else "unknown"),
            sent=context.time(row["begin_timestamp"], unix_seconds, table="Calls", row_id=row_id, field="begin_timestamp"),
            sent_raw=_text(row["begin_timestamp"]), kind="call", account_id=owner.id if owner else None, details=details,
        )

    def _transfer(self, row: sqlite3.Row, owner: Participant | None, names: dict[str, str],
                  conversations: dict[int, sqlite3.Row], context: ParseContext) -> Message:
        row_id = row["id"]
        outgoing = row["type"] == 2
        partner = Participant(row["partner_handle"], names.get(row["partner_handle"]) or row["partner_dispname"]) if row["partner_handle"] else None
        conversation = conversations.get(row["convo_id"])
        finished = context.time(row["finishtime"], unix_seconds, table="Transfers", row_id=row_id, field="finishtime")
        details = {"transfer_type": _text(row["type"]) or "", "status": _text(row["status"]) or ""}
        if row["partner_dispname"] is not None:
            details["partner_dispname"] = row["partner_dispname"]
        return Message(
            source_table="Transfers", source_row_id=row_id, conversation_id=_conversation_id(conversation, row["convo_id"]),
            conversation_title=_title(conversation), sender=owner if outgoing else partner,
            recipients=(partner,) if outgoing and partner else ((owner,) if owner and not outgoing else ()),
            direction="outgoing" if outgoing else ("incoming" if row["type"] == 1 else "unknown"),
            sent=context.time(row["starttime"], unix_seconds, table="Transfers", row_id=row_id, field="starttime"),
            sent_raw=_text(row["starttime"]), received=finished if not outgoing else None, kind="media",
            attachments=(_attachment(row),), account_id=owner.id if owner else None, details=details,
        )


def _attachment(row: sqlite3.Row) -> Attachment:
    size = row["filesize"]
    return Attachment(file_name=row["filename"], size=int(size) if isinstance(size, (int, str)) and str(size).isdigit() else None,
                      local_path=row["filepath"] or None)


def _older_kind(chatmsg_type: object) -> str:
    """A store without `Messages.type`: chatmsg_type 3 is a plain text row (both corpus stores), 5 a topic change
    (kosi2801, Skype 4.0); other codes stay unknown."""
    return {3: "text", 5: "system"}.get(chatmsg_type, "unknown") if isinstance(chatmsg_type, int) else "unknown"


def _contact_names(database: Database, variant: Variant, context: ParseContext) -> dict[str, str]:
    names: dict[str, str] = {}
    if not database.has("Contacts", "skypename"):
        return names
    for row in side_read(database.query(variant.select(database, "Contacts", "rowid")), "Contacts", context):
        label = row["given_displayname"] or row["displayname"] or row["fullname"]
        if row["skypename"] and label:
            names[row["skypename"]] = label
    return names


def _owner(database: Database, variant: Variant, names: dict[str, str], context: ParseContext) -> Participant | None:
    if not database.has("Accounts", "skypename"):
        return None
    for row in side_read(database.query(variant.select(database, "Accounts", "rowid")), "Accounts", context):
        if row["skypename"]:
            return Participant(row["skypename"], row["fullname"] or names.get(row["skypename"]))
    return None


def _recipients(outgoing: bool, conversation: sqlite3.Row | None, owner: Participant | None, names: dict[str, str],
                row: sqlite3.Row) -> tuple[Participant, ...]:
    """The other side of a dialog: its partner when the owner wrote, the owner otherwise; SMS go to `identities`."""
    if row["type"] == 64 and isinstance(row["identities"], str) and row["identities"]:
        return tuple(Participant(number) for number in row["identities"].split())
    if conversation is None or conversation["type"] != DIALOG:
        return ()
    if outgoing:
        partner = conversation["identity"]
        return (Participant(partner, names.get(partner)),) if partner else ()
    return (owner,) if owner else ()


def _chat_recipients(outgoing: bool, chat: sqlite3.Row | None, owner: Participant | None, names: dict[str, str],
                     row: sqlite3.Row) -> tuple[Participant, ...]:
    """Chatname grouping: a dialog (Chats.type 2, or a row naming its dialog_partner) has one other side."""
    if row["type"] == 64 and isinstance(row["identities"], str) and row["identities"]:
        return tuple(Participant(number) for number in row["identities"].split())
    partner = row["dialog_partner"] or (chat["dialog_partner"] if chat is not None else None)
    if not partner or (chat is not None and chat["type"] not in (None, CHAT_DIALOG)):
        return ()
    if outgoing:
        return (Participant(partner, names.get(partner)),)
    return (owner,) if owner else ()


def _chat_title(chat: sqlite3.Row | None) -> str | None:
    if chat is None:
        return None
    return chat["friendlyname"] or chat["topic"] or None


def _conversation_id(conversation: sqlite3.Row | None, fallback: object) -> str | None:
    if conversation is not None and conversation["identity"]:
        return conversation["identity"]
    return _text(fallback)


def _title(conversation: sqlite3.Row | None) -> str | None:
    if conversation is None:
        return None
    return conversation["given_displayname"] or conversation["displayname"] or None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


PARSER = SkypeClassic()
