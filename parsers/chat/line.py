"""LINE: Android `naver_line` (`chat_history`, names from `contacts`, chats and groups) and `call_history`; iOS `Line.sqlite`.

Facts (read for facts only, in these public sources):
- Autopsy `InternalPythonModules/android/line.py` (written against LINE 9.15.1,
  https://github.com/sleuthkit/autopsy): package `jp.naver.line.android`, databases `naver_line`
  (contacts and messages) and `call_history` (calls). `chat_history` holds one-to-one and group
  messages; `chat_id` is the other user's mid or the group id; "if the message direction is
  incoming, the sender mid is stored in the from_mid column"; `created_time` is Unix
  milliseconds; `content` the text; `attachement_type` (sic) and `attachement_local_uri` the
  attachment; `status` 1 was seen on incoming rows only, 3 and 7 on outgoing ones. `contacts`
  (`m_id`, `server_name`), `groups` (`id`, `name`), `membership` (`id` group, `m_id` member).
  `call_history.call_history`: `caller_mid` (user or group), `call_type` whose last letter is
  `O` (outgoing) or `I` (incoming), `start_time`/`end_time` (Unix ms), `voip_type` (`V` video,
  `A` audio, `G` group) and `voip_gc_media_type` (`VIDEO`/`AUDIO`) for group calls.
- ALEAPP `scripts/artifacts/line.py` (https://github.com/abrignoni/ALEAPP): the same databases,
  tables and call columns; it reads `status` 1 as incoming and anything else as outgoing.
- A public Django model generated from a real `naver_line` (`inspectdb`): `chat_history` columns
  `server_id`, `type`, `chat_id`, `from_mid`, `content`, `created_time` (declared TEXT),
  `delivered_time`, `status`, `sent_count`, `read_count`, `location_name`, `location_address`,
  `location_phone`, `location_latitude`/`location_longitude` (integers), `attachement_image`,
  `attachement_image_height`/`_width`/`_size`, `attachement_type`, `attachement_local_uri`,
  `parameter`, `chunks`; `chat` (`chat_id`, `chat_name`, `owner_mid`, ...), `chat_member`
  (`chat_id`, `mid`), `contacts` (`m_id`, `name`, `server_name`, `custom_name`, ...).
- Public code reading `naver_line` (a LINE export tool, and older monitoring code reading
  `type = 1` rows as messages): `from_mid` is the peer's mid on a message the peer sent and
  NULL or empty on anything the local user sent ("confirmed against ground truth" there).
- vxsecurity.sg, "LINE Forensic Artifacts - Android Edition" (2014, LINE 4.7.1): path
  `/data/data/jp.naver.line.android/databases/naver_line`, `contacts.m_id`, `chat_history`.

- `chat_history.type` (public code reading `naver_line` backups, and the app's own table of these
  values as seen in public decompiled code; both agree on these): 1 is a message a person wrote,
  13 a group event (a member joined, left or was added); the app's table names the others too:
  2 join, 3 leave, 6 and 7 group picture and name changes, 9 to 12 invitations, kick-outs and
  leaving a group. Such event rows are written by the app, not typed by anyone.
Read here: direction from `from_mid`: set = incoming (the writer's mid); empty = outgoing only on
a message row (`type` 1, the rows the ground truth above was about); an empty `from_mid` on any
other row, or in a store without `type`, is direction `unknown` (a system row, whose `type` stays
in details), never the owner's. `status` is kept raw in details (its values differ between
sources); `chat_id`, `from_mid`, `content` and `created_time` are required, every other column
optional. Not confirmed, so kept raw in details and not interpreted: the meaning of each `type`
other than 1 (so no row's kind is read from it), `status`, `attachement_type`, `parameter`, and the scale of
`location_latitude`/`location_longitude` (so `latitude`/`longitude` stay empty; a row with a
location name or coordinates is kind `location`). The owner's own mid is not in these tables.
LINE iOS `Line.sqlite` facts:
- Public iOS-backup extraction code reading LINE (a `messages.line` module, found through the
  code index): the store is `Library/Application Support/PrivateStore/P_<id>/Messages/Line.sqlite`
  in the app group `group.com.linecorp.line` (groups' names and members are in the sibling
  `UnifiedGroup.sqlite`, not read here); `ZMESSAGE` (`ZTEXT`, `ZSENDER` -> `ZUSER.Z_PK`, a NULL
  `ZSENDER` "means it's the phone's owner", `ZCONTENTTYPE` 0 = text, `ZCHAT` -> `ZCHAT.Z_PK`,
  `ZTIMESTAMP` in Unix milliseconds, `ZID` the message id); `ZUSER` (`Z_PK`, `ZMID`, `ZNAME`);
  `ZCHAT` (`Z_PK`, `ZMID` the chat's id, `ZTYPE` 0 private, 2 group); chat members in Core Data
  join tables `Z_<n>MEMBERS` (`Z_<n>CHATS`, `Z_<m>MEMBERS` -> `ZUSER`).
- shutingrz (2013, http://shutingrz.hatenablog.com/entry/2013/12/04/000106, then `talk.sqlite`):
  the same `ZMESSAGE` columns plus `ZREADCOUNT`, `ZSENDSTATUS`, `ZLATITUDE`/`ZLONGITUDE`,
  `ZMESSAGETYPE` (once `S`/`R`); `ZCONTENTTYPE` 1 = image; chat membership in `Z_1MEMBERS`.
- Kaoten Forensic (2020, https://www.kaotenforensic.com/iphone-line-sqlite-analysis/): the
  iPhone store is `Line.sqlite`, messages in `ZMESSAGE`.
Read here: direction from `ZSENDER` (NULL = outgoing; one source says so explicitly, as on
Android); the recipients of an outgoing message are the chat's members from `Z_<n>MEMBERS`, else
the users seen sending in that chat. Not confirmed, kept raw: `ZCONTENTTYPE` other than 0 and 1,
`ZSENDSTATUS`, `ZREADCOUNT`, `ZMESSAGETYPE`, `ZLATITUDE`/`ZLONGITUDE` (not only locations use
them). Group titles (in `UnifiedGroup.sqlite`) and the owner's own mid are not read.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import select_by_rowid, side_read, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

CALL_DIRECTIONS = {"O": "outgoing", "I": "incoming"}
MESSAGE_TYPE = 1  # chat_history.type of a message a person wrote (the rest are events: joins, leaves, group changes, notices)
CALL_MEDIA = {"V": "video", "A": "audio", "G": "group"}
MESSAGE_DETAILS = ("id", "server_id", "type", "status", "sent_count", "read_count", "attachement_type", "parameter",
                   "location_address", "location_phone", "location_latitude", "location_longitude")
CHATS_SQL = "SELECT chat_id, chat_name FROM chat"
GROUPS_SQL = 'SELECT id, name FROM "groups"'  # GROUPS is an SQL keyword (window frames)
MEMBERSHIP_SQL = "SELECT id AS chat, m_id AS mid FROM membership ORDER BY rowid"
CHAT_MEMBER_SQL = "SELECT chat_id AS chat, mid FROM chat_member ORDER BY rowid"
IOS_DETAILS = ("ZCONTENTTYPE", "ZID", "ZREADCOUNT", "ZSENDSTATUS", "ZMESSAGETYPE", "ZLATITUDE", "ZLONGITUDE")
IOS_IMAGE = 1  # ZCONTENTTYPE of an image (0 is text)
IOS_USERS_SQL = "SELECT Z_PK, ZMID, ZNAME FROM ZUSER"
IOS_SENDERS_SQL = "SELECT DISTINCT ZCHAT, ZSENDER FROM ZMESSAGE WHERE ZSENDER IS NOT NULL ORDER BY ZCHAT, ZSENDER"
# Core Data names its many-to-many join tables Z_<n>MEMBERS with columns Z_<n>CHATS and Z_<m>MEMBERS;
# the candidates are generated here (never read from the store) and looked up in its schema.
CORE_DATA_NUMBERS = range(1, 41)


@dataclass
class Directory:
    """Who is who in `naver_line`: contact names, chat titles, group members (each table used when present)."""

    names: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)

    def person(self, mid: str | None) -> Participant | None:
        return Participant(mid, self.names.get(mid)) if mid else None


class Line(SqliteChatParser):
    name = "line"
    version = "1"
    app = "LINE"
    platform = "Android/iOS"
    paths = ("*/jp.naver.line.android/databases/naver_line", "*/jp.naver.line.android/databases/call_history", "*/Line.sqlite")
    variants = (
        Variant("android_chat_history", {"chat_history": ("chat_id", "from_mid", "content", "created_time")},
                optional={"chat_history": (*MESSAGE_DETAILS, "location_name", "attachement_local_uri", "delivered_time")}),
        Variant("android_call_history", {"call_history": ("caller_mid", "call_type", "start_time")},
                optional={"call_history": ("end_time", "voip_type", "voip_gc_media_type")}),
        Variant("ios_line_sqlite", {"ZMESSAGE": ("Z_PK", "ZCHAT", "ZSENDER", "ZTIMESTAMP", "ZTEXT"), "ZCHAT": ("Z_PK", "ZMID"),
                                    "ZUSER": ("Z_PK", "ZMID", "ZNAME")},
                optional={"ZMESSAGE": IOS_DETAILS, "ZCHAT": ("ZTYPE",)}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "android_call_history":
            yield from context.each(database.query(select_by_rowid(variant, database, "call_history")), "call_history",
                                    lambda row: self._call(row, context), "row_key")
            return
        if variant.name == "ios_line_sqlite":
            yield from self._ios(database, variant, context)
            return
        directory = _directory(database, context)
        yield from context.each(database.query(select_by_rowid(variant, database, "chat_history")), "chat_history",
                                lambda row: self._message(row, directory, context), "row_key")

    def _message(self, row: sqlite3.Row, directory: Directory, context: ParseContext) -> Message:
        row_id = row["row_key"]
        chat = text_value(row["chat_id"])
        sender = text_value(row["from_mid"]) or None
        # An empty from_mid is the owner's only on a message row (type 1); other rows (joins, leaves, group
        # changes, notices) have no writer, and a store without `type` cannot tell the two apart.
        outgoing = sender is None and row["type"] == MESSAGE_TYPE
        direction = "incoming" if sender is not None else ("outgoing" if outgoing else "unknown")
        members = directory.members.get(chat or "")
        if outgoing:
            recipients = tuple(directory.person(m) for m in members if m) if members else ((directory.person(chat),) if chat else ())
        else:
            recipients = ()
        details: dict[str, str] = {}
        for column in MESSAGE_DETAILS:
            if row[column] not in (None, ""):
                details[column] = text_value(row[column]) or ""
        if row["delivered_time"] not in (None, "", 0, "0"):
            details["delivered_time"] = text_value(row["delivered_time"]) or ""
        body = text_value(row["content"])
        uri = text_value(row["attachement_local_uri"])
        location = text_value(row["location_name"]) or None
        placed = location is not None or row["location_latitude"] not in (None, 0) or row["location_longitude"] not in (None, 0)
        return Message(
            source_table="chat_history", source_row_id=row_id, conversation_id=chat,
            conversation_title=directory.titles.get(chat or "") or directory.names.get(chat or ""),
            sender=directory.person(sender), recipients=tuple(r for r in recipients if r is not None),
            direction=direction,
            sent=context.time(row["created_time"], unix_ms, table="chat_history", row_id=row_id, field="created_time"),
            sent_raw=text_value(row["created_time"]), body=body,
            kind="location" if placed else ("media" if uri else ("text" if body else "unknown")),
            attachments=(Attachment(local_path=uri),) if uri else (), location_name=location, details=details,
        )

    def _ios(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        users = {row["Z_PK"]: Participant(text_value(row["ZMID"]), text_value(row["ZNAME"]))
                 for row in side_read(database.query(IOS_USERS_SQL), "ZUSER", context)}
        chats = {row["Z_PK"]: row for row in side_read(database.query(variant.select(database, "ZCHAT")), "ZCHAT", context)}
        members = _ios_members(database, context)
        if not members:
            for row in side_read(database.query(IOS_SENDERS_SQL), "ZMESSAGE", context):
                members.setdefault(row["ZCHAT"], []).append(row["ZSENDER"])
        yield from context.each(database.query(select_by_rowid(variant, database, "ZMESSAGE")), "ZMESSAGE",
                                lambda row: self._ios_message(row, users, chats, members, context), "row_key")

    def _ios_message(self, row: sqlite3.Row, users: dict[object, Participant], chats: dict[object, sqlite3.Row],
                     members: dict[object, list[object]], context: ParseContext) -> Message:
        row_id = row["row_key"]
        chat = chats.get(row["ZCHAT"])
        outgoing = row["ZSENDER"] is None
        others = [users[m] for m in members.get(row["ZCHAT"], []) if m in users]
        details: dict[str, str] = {"chat_pk": text_value(row["ZCHAT"]) or ""}
        if chat is not None and chat["ZTYPE"] is not None:
            details["chat_type"] = text_value(chat["ZTYPE"]) or ""
        if not outgoing:
            details["sender_pk"] = text_value(row["ZSENDER"]) or ""
        for column in IOS_DETAILS:
            if row[column] not in (None, "") and not (column in ("ZLATITUDE", "ZLONGITUDE") and row[column] == 0):
                details[column] = text_value(row[column]) or ""
        body = text_value(row["ZTEXT"])
        private = chat is not None and chat["ZTYPE"] == 0 and len(others) == 1
        return Message(
            source_table="ZMESSAGE", source_row_id=row_id, conversation_id=text_value(chat["ZMID"]) if chat is not None else None,
            conversation_title=others[0].name if private else None,
            sender=None if outgoing else users.get(row["ZSENDER"]), recipients=tuple(others) if outgoing else (),
            direction="outgoing" if outgoing else "incoming",
            sent=context.time(row["ZTIMESTAMP"], unix_ms, table="ZMESSAGE", row_id=row_id, field="ZTIMESTAMP"),
            sent_raw=text_value(row["ZTIMESTAMP"]), body=body,
            kind="media" if row["ZCONTENTTYPE"] == IOS_IMAGE else ("text" if body else "unknown"),
            details=details,
        )

    def _call(self, row: sqlite3.Row, context: ParseContext) -> Message:
        row_id = row["row_key"]
        other = text_value(row["caller_mid"])
        call_type = text_value(row["call_type"]) or ""
        direction = CALL_DIRECTIONS.get(call_type[-1:], "unknown")
        person = Participant(other) if other else None
        details = {"call_type": call_type}
        if row["end_time"] not in (None, ""):
            details["end_time"] = text_value(row["end_time"]) or ""
        voip = text_value(row["voip_type"])
        if voip is not None:
            details["voip_type"] = f"{voip} ({CALL_MEDIA.get(voip, 'unknown')})"
        if row["voip_gc_media_type"] not in (None, ""):
            details["voip_gc_media_type"] = text_value(row["voip_gc_media_type"]) or ""
        return Message(
            source_table="call_history", source_row_id=row_id, conversation_id=other,
            sender=person if direction == "incoming" else None, recipients=(person,) if direction == "outgoing" and person else (),
            direction=direction,
            sent=context.time(row["start_time"], unix_ms, table="call_history", row_id=row_id, field="start_time"),
            sent_raw=text_value(row["start_time"]), kind="call", details=details,
        )


def _directory(database: Database, context: ParseContext) -> Directory:
    directory = Directory()
    if database.has("contacts", "m_id"):
        present = [c for c in ("custom_name", "name", "server_name") if database.has("contacts", c)]
        if present:
            # Fixed text: only these declared column names are ever placed in the query.
            for row in side_read(database.query(f"SELECT m_id, {', '.join(present)} FROM contacts"), "contacts", context):
                name = next((text_value(row[c]) for c in present if row[c]), None)
                if row["m_id"] and name:
                    directory.names[text_value(row["m_id"]) or ""] = name
    if database.has("chat", "chat_id", "chat_name"):
        directory.titles.update({text_value(r["chat_id"]) or "": text_value(r["chat_name"]) or ""
                                 for r in side_read(database.query(CHATS_SQL), "chat", context) if r["chat_id"] and r["chat_name"]})
    if database.has("groups", "id", "name"):
        for row in side_read(database.query(GROUPS_SQL), "groups", context):
            if row["id"] and row["name"]:
                directory.titles.setdefault(text_value(row["id"]) or "", text_value(row["name"]) or "")
    for table, sql, columns in (("membership", MEMBERSHIP_SQL, ("id", "m_id")), ("chat_member", CHAT_MEMBER_SQL, ("chat_id", "mid"))):
        if database.has(table, *columns):
            for row in side_read(database.query(sql), table, context):
                chat, mid = text_value(row["chat"]), text_value(row["mid"])
                if chat and mid and mid not in directory.members.setdefault(chat, []):
                    directory.members[chat].append(mid)
    return directory


def _ios_members(database: Database, context: ParseContext) -> dict[object, list[object]]:
    """Chat -> member user keys from the Core Data join tables Z_<n>MEMBERS (Z_<n>CHATS, Z_<m>MEMBERS), when present."""
    members: dict[object, list[object]] = {}
    for n in CORE_DATA_NUMBERS:
        table = f"Z_{n}MEMBERS"
        columns = database.tables.get(table.lower())
        if columns is None:
            continue
        chat = next((f"Z_{k}CHATS" for k in CORE_DATA_NUMBERS if f"z_{k}chats" in columns), None)
        member = next((f"Z_{k}MEMBERS" for k in CORE_DATA_NUMBERS if f"z_{k}members" in columns), None)
        if chat is None or member is None:
            continue
        sql = f"SELECT {chat} AS chat, {member} AS member FROM {table} ORDER BY rowid"
        for row in side_read(database.query(sql), table, context):
            if row["member"] not in members.setdefault(row["chat"], []):
                members[row["chat"]].append(row["member"])
    return members


PARSER = Line()
