"""MeWe for iOS: chat messages from the Core Data store Documents/sgrouplesdb.sqlite.

Schema facts (iLEAPP `scripts/artifacts/meWe.py`, checked against the iLEAPP sample
`meWe/...josh_ios17_ffs`):
- `ZCHATMESSAGE`: `Z_PK`, `ZDATE` (Cocoa seconds), `ZEDITEDDATE`, `ZTEXT`, `ZORIGINALTEXT` (text
  before an edit), `ZSENDER` (a MeWe user id), `ZTHREADID`, `ZMESSAGEID`, `ZREPLYMESSAGEID`,
  `ZDELETEDBYSENDER`, `ZDISAPPEARINGTYPE`, `ZEVENTTYPE` (set on chat events), `ZCALLDURATION`,
  `ZCALLHASVIDEO`.
- `ZUSER`: `ZUSERID`, `ZNAME`, `ZFIRSTNAME`, `ZLASTNAME`, `ZHANDLE`, `ZCURRENTUSER` (1 = the account).
- `ZCHATTHREAD`: `ZTHREADID`, `ZCHATTYPE` (UserChat, ...).
- `ZCHATATTACHMENT`: `ZCHATMESSAGE` (-> ZCHATMESSAGE.Z_PK), `ZATYPE` (photo, ...), `ZFILENAME`,
  `ZMIMETYPE`, `ZURL` (server path).
- A shared location is a message whose text is an OpenStreetMap link with `mlat=`/`mlon=`
  (iLEAPP notes the same); the coordinates are read from it and the text is kept as stored.
Schema history: no public source documents another MeWe build's store (docs/chat-schema-hist4.md),
so which columns older or newer builds lack is **not confirmed**. Only `ZCHATMESSAGE` `Z_PK`,
`ZDATE`, `ZTEXT`, `ZSENDER`, `ZTHREADID` are required; every other column is read when present,
and `ZUSER`, `ZCHATTHREAD`, `ZCHATATTACHMENT` when the store has them (without `ZUSER` the owner,
and so the direction, is unknown).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Iterable, Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_read, side_table, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_seconds
from parsers.sqlite_store import Database

# The minimum a message is read with (time, body, writer, thread); every other column is optional.
MESSAGE_REQUIRED = ("Z_PK", "ZDATE", "ZTEXT", "ZSENDER", "ZTHREADID")
MESSAGE_OPTIONAL = ("ZEDITEDDATE", "ZORIGINALTEXT", "ZMESSAGEID", "ZREPLYMESSAGEID", "ZDELETEDBYSENDER", "ZDISAPPEARINGTYPE",
                    "ZEVENTTYPE", "ZCALLDURATION", "ZCALLHASVIDEO")
# Side tables: read when the store has them (names, the owner, chat type, files), declared like variants.
USERS = Variant("users", {"ZUSER": ("ZUSERID",)}, {"ZUSER": ("ZNAME", "ZFIRSTNAME", "ZLASTNAME", "ZHANDLE", "ZCURRENTUSER")})
THREADS = Variant("threads", {"ZCHATTHREAD": ("ZTHREADID",)}, {"ZCHATTHREAD": ("ZCHATTYPE",)})
ATTACHMENTS = Variant("attachments", {"ZCHATATTACHMENT": ("Z_PK", "ZCHATMESSAGE")},
                      {"ZCHATATTACHMENT": ("ZATYPE", "ZFILENAME", "ZMIMETYPE", "ZURL")})
OSM_LOCATION = re.compile(r"openstreetmap\.org/\?mlat=(-?\d+(?:\.\d+)?)&(?:amp;)?mlon=(-?\d+(?:\.\d+)?)")
TABLE = "ZCHATMESSAGE"


class MeWe(SqliteChatParser):
    name = "mewe"
    version = "2"
    app = "MeWe"
    platform = "iOS"
    paths = ("*/Documents/sgrouplesdb.sqlite",)
    variants = (
        Variant("core_data", {"ZCHATMESSAGE": MESSAGE_REQUIRED}, {"ZCHATMESSAGE": MESSAGE_OPTIONAL}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        users: dict[str, Participant] = {}
        owner: str | None = None
        for row in side_table(database, USERS, "ZUSER", context):
            if row["ZUSERID"] is None:
                continue
            user_id = str(row["ZUSERID"])
            users[user_id] = Participant(user_id, _display_name(row))
            if row["ZCURRENTUSER"] == 1:
                owner = user_id
        threads = {str(r["ZTHREADID"]): r["ZCHATTYPE"] for r in side_table(database, THREADS, "ZCHATTHREAD", context)
                   if r["ZTHREADID"] is not None}
        attachments: dict[int, list[Attachment]] = {}
        for row in side_table(database, ATTACHMENTS, "ZCHATATTACHMENT", context, "Z_PK"):
            attachments.setdefault(row["ZCHATMESSAGE"], []).append(
                Attachment(file_name=row["ZFILENAME"], mime_type=row["ZMIMETYPE"]))
        sql = variant.select(database, TABLE, "Z_PK")
        members = _thread_members(side_read(database.query(sql), TABLE, context))  # the writers of each thread, before the messages
        yield from context.each(database.query(sql), TABLE, lambda row: self._message(row, users, owner, threads, members, attachments, context), "Z_PK")

    def _message(self, row: sqlite3.Row, users: dict[str, Participant], owner: str | None, threads: dict[str, str],
                 members: dict[str, list[str]], attachments: dict[int, list[Attachment]], context: ParseContext) -> Message:
        row_id = row["Z_PK"]
        sender_id = None if row["ZSENDER"] is None else str(row["ZSENDER"])
        thread = None if row["ZTHREADID"] is None else str(row["ZTHREADID"])
        others = [users.get(m, Participant(m)) for m in members.get(thread or "", []) if m != owner]
        sent = context.time(row["ZDATE"], cocoa_seconds, table=TABLE, row_id=row_id, field="ZDATE")
        edited = context.time(row["ZEDITEDDATE"], cocoa_seconds, table=TABLE, row_id=row_id, field="ZEDITEDDATE")
        body = text_value(row["ZTEXT"])
        latitude = longitude = None
        match = OSM_LOCATION.search(body) if isinstance(body, str) else None
        if match:
            latitude, longitude = float(match.group(1)), float(match.group(2))
        files = tuple(attachments.get(row_id, ()))
        direction = "unknown" if owner is None or sender_id is None else ("outgoing" if sender_id == owner else "incoming")
        details = {"message_id": str(row["ZMESSAGEID"])}
        for key, column in (("chat_type", None), ("reply_to", "ZREPLYMESSAGEID"), ("original_text", "ZORIGINALTEXT"),
                            ("disappearing_type", "ZDISAPPEARINGTYPE"), ("event_type", "ZEVENTTYPE"),
                            ("call_duration", "ZCALLDURATION"), ("call_has_video", "ZCALLHASVIDEO")):
            value = threads.get(thread or "") if column is None else row[column]
            if value not in (None, "", 0):
                details[key] = str(value)
        return Message(
            source_table=TABLE, source_row_id=row_id, conversation_id=thread,
            conversation_title=", ".join(p.name or p.id or "" for p in others) or None,
            sender=users.get(sender_id, Participant(sender_id)) if sender_id else None,
            recipients=_recipients(direction, others, sender_id, users.get(owner or "") or Participant(owner)),
            direction=direction, sent=sent, sent_raw=None if row["ZDATE"] is None else str(row["ZDATE"]), edited=edited,
            body=body, kind=_kind(row, files, match is not None), attachments=files, latitude=latitude, longitude=longitude,
            is_deleted=None if row["ZDELETEDBYSENDER"] is None else bool(row["ZDELETEDBYSENDER"]),
            is_edited=edited is not None, account_id=owner, details=details,
        )


def _recipients(direction: str, others: list[Participant], sender_id: str | None, me: Participant) -> tuple[Participant, ...]:
    """Outgoing: the thread's other senders; incoming: the account (when the store names it)."""
    if direction == "outgoing":
        return tuple(p for p in others if p.id != sender_id)
    return (me,) if direction == "incoming" and me.id else ()


def _kind(row: sqlite3.Row, files: tuple[Attachment, ...], located: bool) -> str:
    if row["ZEVENTTYPE"]:
        return "system"
    if row["ZCALLDURATION"] or row["ZCALLHASVIDEO"]:
        return "call"
    if row["ZDELETEDBYSENDER"]:
        return "deleted"
    if files:
        return "media"
    return "location" if located else "text"


def _display_name(row: sqlite3.Row) -> str | None:
    if row["ZNAME"]:
        return row["ZNAME"]
    full = " ".join(p for p in (row["ZFIRSTNAME"], row["ZLASTNAME"]) if p)
    return full or row["ZHANDLE"]


def _thread_members(rows: Iterable[sqlite3.Row]) -> dict[str, list[str]]:
    """Thread id -> distinct senders in first-seen order (the store keeps no member list per chat)."""
    members: dict[str, list[str]] = {}
    for row in rows:
        if row["ZTHREADID"] is None or row["ZSENDER"] is None:
            continue
        seen = members.setdefault(str(row["ZTHREADID"]), [])
        if str(row["ZSENDER"]) not in seen:
            seen.append(str(row["ZSENDER"]))
    return members


PARSER = MeWe()
