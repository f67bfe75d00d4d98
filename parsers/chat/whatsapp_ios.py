"""WhatsApp for iOS: ChatStorage.sqlite (Core Data), names from ContactsV2.sqlite.

Schema facts (from the corpus databases' DDL; meanings from iLEAPP scripts/artifacts/whatsApp.py
and mvt-project/mvt src/mvt/ios/modules/mixed/whatsapp.py, read for facts only):
- `ZWAMESSAGE`: `Z_PK`, `ZCHATSESSION` -> `ZWACHATSESSION.Z_PK`, `ZISFROMME` (1 sent by the owner),
  `ZMESSAGEDATE` (Cocoa seconds since 2001-01-01 UTC, a float: the time WhatsApp orders the chat by),
  `ZSENTDATE` (Cocoa seconds, set on most messages; kept in details), `ZFROMJID`/`ZTOJID` (the jids,
  owner's side left empty), `ZTEXT`, `ZMESSAGETYPE` (0 text, 1 image, 2 video, 3 audio, 4 contact,
  5 location, 6 group event, 7 link, 8 document, 10 system notice, 11 GIF, 14 deleted, 15 sticker),
  `ZGROUPMEMBER` -> `ZWAGROUPMEMBER.Z_PK` (who sent it in a group), `ZMEDIAITEM`, `ZSTARRED`,
  `ZMESSAGESTATUS`, `ZGROUPEVENTTYPE`, `ZSTANZAID` (message id).
- `ZWACHATSESSION`: `Z_PK`, `ZCONTACTJID` (chat jid), `ZPARTNERNAME` (contact or group name),
  `ZSESSIONTYPE` (0 one-to-one, 1 group, 2 broadcast list, 3 status: bakerst221b.com WhatsApp notes,
  2023). Broadcast and status chats have no single other party, so outgoing messages there get no
  recipient and details["session_type"] says which.
- Only `ZWAMESSAGE(Z_PK, ZCHATSESSION, ZISFROMME, ZMESSAGEDATE, ZTEXT)` is required (row, chat,
  direction, time, body); the type and jid columns, ZWACHATSESSION and every other column are read
  when present. Without ZMESSAGETYPE a message is media when it has a ZWAMEDIAITEM, else text. The
  same Core Data store is used by WhatsApp Desktop for macOS (kb-macfor-io.pages.dev).
- `ZWAMEDIAITEM`: `ZMESSAGE` -> message, `ZMEDIALOCALPATH` (relative to the app group folder, e.g.
  "Media/<jid>/d/0/<uuid>.jpg"), `ZFILESIZE`, `ZTITLE` (caption or place name), `ZVCARDSTRING`,
  `ZLATITUDE`/`ZLONGITUDE` (a location's coordinates; for images and videos the same columns hold
  the picture's width and height, so they are read only for location messages).
- `ZWAGROUPMEMBER`: `Z_PK`, `ZMEMBERJID`, `ZCONTACTNAME`, `ZFIRSTNAME`.
- ContactsV2.sqlite `ZWAADDRESSBOOKCONTACT`: `ZWHATSAPPID` (jid), `ZFULLNAME`.

Decisions:
- The owner's jid is not stored as such; it is the `ZTOJID` of received messages. When exactly one
  such jid exists it is the owner (sender of outgoing messages and account_id); otherwise unknown.
- Group events (6) and system notices (10) are kind "system" with direction "unknown" and no sender
  (their ZFROMJID is the chat's own jid).
- Names: ContactsV2 first, then the chat's ZPARTNERNAME for the chat's own jid, then the group
  member's ZCONTACTNAME/ZFIRSTNAME. ZPUSHNAME is not a readable name in iOS 15 (it holds a
  base64 protobuf) and is not used.
"""

from __future__ import annotations

import posixpath
import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_read, side_table, side_whole
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_seconds
from parsers.sqlite_store import Database

# The minimum a message is read with (row id, chat, direction, time, body); the rest is optional.
MESSAGE_REQUIRED = ("Z_PK", "ZCHATSESSION", "ZISFROMME", "ZMESSAGEDATE", "ZTEXT")
MESSAGE_OPTIONAL = ("ZMESSAGETYPE", "ZFROMJID", "ZTOJID", "ZSENTDATE", "ZGROUPMEMBER", "ZMESSAGESTATUS", "ZGROUPEVENTTYPE",
                    "ZSTANZAID", "ZSTARRED")
SESSIONS = Variant("sessions", {"ZWACHATSESSION": ("Z_PK",)},
                   {"ZWACHATSESSION": ("ZCONTACTJID", "ZPARTNERNAME", "ZSESSIONTYPE")})
# ZWACHATSESSION.ZSESSIONTYPE (bakerst221b.com WhatsApp notes, 2023): none of 1..3 has a single other party.
SESSION_TYPES = {0: "one-to-one", 1: "group", 2: "broadcast", 3: "status"}
MEMBERS = Variant("members", {"ZWAGROUPMEMBER": ("Z_PK", "ZMEMBERJID")}, {"ZWAGROUPMEMBER": ("ZCONTACTNAME", "ZFIRSTNAME")})
MEDIA_OPTIONAL = ("ZMEDIALOCALPATH", "ZFILESIZE", "ZTITLE", "ZVCARDSTRING", "ZVCARDNAME", "ZLATITUDE", "ZLONGITUDE", "ZMEDIAURL")

KINDS = {0: "text", 1: "media", 2: "media", 3: "media", 4: "contact", 5: "location", 6: "system", 7: "text",
         8: "media", 10: "system", 11: "media", 14: "deleted", 15: "sticker"}
WITH_FILE = {"media", "sticker"}

OWNER_SQL = "SELECT DISTINCT ZTOJID FROM ZWAMESSAGE WHERE ZISFROMME = 0 AND ZTOJID IS NOT NULL AND ZTOJID != ''"
CONTACTS_SQL = "SELECT ZWHATSAPPID, ZFULLNAME FROM ZWAADDRESSBOOKCONTACT WHERE ZWHATSAPPID IS NOT NULL ORDER BY Z_PK"


class WhatsAppIos(SqliteChatParser):
    name = "whatsapp_ios"
    version = "2"
    app = "WhatsApp"
    platform = "iOS"
    paths = ("*/ChatStorage.sqlite",)
    variants = (
        Variant("chatstorage", {"ZWAMESSAGE": MESSAGE_REQUIRED}, {"ZWAMESSAGE": MESSAGE_OPTIONAL}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        sessions = {row["Z_PK"]: row for row in side_table(database, SESSIONS, "ZWACHATSESSION", context)}
        members = {row["Z_PK"]: row for row in side_table(database, MEMBERS, "ZWAGROUPMEMBER", context)}
        media = _media(database, context)
        # The owner is the one jid messages were received at: only a whole read of ZWAMESSAGE shows there is one.
        owners, whole = side_whole(database.query(OWNER_SQL), "ZWAMESSAGE", context) if database.has("ZWAMESSAGE", "ZTOJID") else ([], True)
        owner = owners[0]["ZTOJID"] if whole and len(owners) == 1 else None
        names = _names(context, sessions, members)
        rows = database.query(variant.select(database, "ZWAMESSAGE", order_by="Z_PK"))
        convert = lambda row: self._message(row, sessions, members, media, names, owner, context)  # noqa: E731
        yield from context.each(rows, "ZWAMESSAGE", convert, "Z_PK")

    def _message(self, row: sqlite3.Row, sessions: dict[int, sqlite3.Row], members: dict[int, sqlite3.Row],
                 media: dict[int, sqlite3.Row], names: dict[str, str], owner: str | None, context: ParseContext) -> Message:
        row_id = row["Z_PK"]
        session = sessions.get(row["ZCHATSESSION"])
        chat = session["ZCONTACTJID"] if session is not None else None
        session_type = SESSION_TYPES.get(session["ZSESSIONTYPE"]) if session is not None else None
        is_group = bool(chat and chat.endswith(("@g.us", "@broadcast"))) or session_type in ("group", "broadcast", "status")
        message_type = row["ZMESSAGETYPE"]
        item = media.get(row_id)
        if message_type is None:  # a store without ZMESSAGETYPE: media if it has a media item, else text
            kind = "media" if item is not None else "text"
        else:
            kind = KINDS.get(message_type, "unknown")
        details = {"ZMESSAGETYPE": str(message_type)} if message_type is not None else {}
        if session_type in ("broadcast", "status"):
            details["session_type"] = session_type
        for column in ("ZMESSAGESTATUS", "ZGROUPEVENTTYPE", "ZSTANZAID", "ZSTARRED", "ZSENTDATE"):
            value = _get(row, column)
            if value not in (None, 0, ""):
                details[column] = str(value)
        sender, recipients = None, ()
        if kind == "system":
            direction = "unknown"
            details["ZISFROMME"] = str(row["ZISFROMME"])
        elif row["ZISFROMME"] == 1:
            direction = "outgoing"
            sender = Participant(owner, names.get(owner)) if owner else None
            other = row["ZTOJID"] or chat
            recipients = (Participant(other, names.get(other)),) if other and not is_group else ()
        else:
            direction = "incoming"
            member = members.get(_get(row, "ZGROUPMEMBER"))
            jid = member["ZMEMBERJID"] if member is not None else row["ZFROMJID"]
            sender = Participant(jid, names.get(jid)) if jid else None
        body = row["ZTEXT"]
        attachments: tuple[Attachment, ...] = ()
        latitude = longitude = location_name = None
        if item is not None:
            if kind in WITH_FILE:
                attachments = _attachment(item)
                if body is None and _get(item, "ZTITLE"):
                    body, details["body_from"] = item["ZTITLE"], "ZWAMEDIAITEM.ZTITLE"
            elif kind == "location":
                latitude, longitude, location_name = _get(item, "ZLATITUDE"), _get(item, "ZLONGITUDE"), _get(item, "ZTITLE")
            elif kind == "contact" and body is None and _get(item, "ZVCARDSTRING"):
                body, details["body_from"] = item["ZVCARDSTRING"], "ZWAMEDIAITEM.ZVCARDSTRING"
        return Message(
            source_table="ZWAMESSAGE", source_row_id=row_id, conversation_id=chat,
            conversation_title=session["ZPARTNERNAME"] if session is not None else None,
            sender=sender, recipients=recipients, direction=direction,
            sent=context.time(row["ZMESSAGEDATE"], cocoa_seconds, table="ZWAMESSAGE", row_id=row_id, field="ZMESSAGEDATE"),
            sent_raw=None if row["ZMESSAGEDATE"] is None else str(row["ZMESSAGEDATE"]), body=body, kind=kind,
            attachments=attachments, latitude=latitude, longitude=longitude, location_name=location_name,
            is_deleted=True if kind == "deleted" else None, account_id=owner, details=details,
        )


def _media(database: Database, context: ParseContext) -> dict[int, sqlite3.Row]:
    """Media items by message Z_PK, with the optional columns this database has."""
    if not database.has("ZWAMEDIAITEM", "Z_PK", "ZMESSAGE"):
        return {}
    columns = ["Z_PK", "ZMESSAGE"] + [c for c in MEDIA_OPTIONAL if database.has("ZWAMEDIAITEM", c)]
    rows = side_read(database.query(f"SELECT {', '.join(columns)} FROM ZWAMEDIAITEM ORDER BY Z_PK"), "ZWAMEDIAITEM", context)
    return {row["ZMESSAGE"]: row for row in rows if row["ZMESSAGE"] is not None}


def _attachment(item: sqlite3.Row) -> tuple[Attachment, ...]:
    path = _get(item, "ZMEDIALOCALPATH") or None
    size = _get(item, "ZFILESIZE") or None
    if path is None and size is None:
        return ()  # a link preview or a file never downloaded: nothing names a file
    return (Attachment(file_name=posixpath.basename(path) if path else None, size=size, local_path=path),)


def _names(context: ParseContext, sessions: dict[int, sqlite3.Row], members: dict[int, sqlite3.Row]) -> dict[str, str]:
    """jid -> name: group member names, overridden by chat partner names, overridden by ContactsV2."""
    names: dict[str, str] = {}
    for member in members.values():
        name = member["ZCONTACTNAME"] or member["ZFIRSTNAME"]
        if member["ZMEMBERJID"] and name:
            names[member["ZMEMBERJID"]] = name
    for session in sessions.values():
        if session["ZCONTACTJID"] and session["ZPARTNERNAME"]:
            names[session["ZCONTACTJID"]] = session["ZPARTNERNAME"]
    contacts = context.companion("*/ContactsV2.sqlite")
    if contacts is not None and contacts.has("ZWAADDRESSBOOKCONTACT", "ZWHATSAPPID", "ZFULLNAME"):
        for row in side_read(contacts.query(CONTACTS_SQL), "ZWAADDRESSBOOKCONTACT", context):
            if row["ZFULLNAME"]:
                names[row["ZWHATSAPPID"]] = row["ZFULLNAME"]
    return names


def _get(row: sqlite3.Row, column: str) -> object:
    return row[column] if column in row.keys() else None


PARSER = WhatsAppIos()
