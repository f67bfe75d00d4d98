"""Kik Messenger: iOS `kik.sqlite` (Core Data) and Android `kikDatabase.db`.

iOS schema facts (read for facts only: plaso test file `ios/kik.sqlite` itself; iLEAPP's Kik messages
artifact, https://github.com/abrignoni/iLEAPP, for the ZTYPE meanings and the message/user/attachment joins):
- `ZKIKMESSAGE`: `Z_PK`, `ZTYPE` (1 received, 2 sent, 3 "group admin" notice, 4 "group message" notice),
  `ZSTATE`, `ZSYSTEMSTATE`, `ZUSER` -> `ZKIKUSER.Z_PK` (the writer of a received message; the addressee
  of a sent one: a user or a group user), `ZBODY` (text; for an attachment, the attachment's content id),
  `ZTIMESTAMP` and `ZRECEIVEDTIMESTAMP` (Core Data seconds since 2001), `ZSTANZAID` (message uuid).
- `ZKIKUSER`: `Z_PK`, `ZUSERNAME`, `ZDISPLAYNAME`, `ZJID` (user "name_xyz@talk.kik.com", group
  "<n>_g@groups.kik.com").
- `ZKIKCHAT`: `Z_PK`, `ZUSER` (the chat's partner or group user); a Core Data many-to-many join table
  links chats to messages (a message may be linked to two chats: the one whose user is the message's user
  wins). In the plaso store (Kik 2015) it is `Z_3MESSAGES (Z_3CHAT, Z_5MESSAGES)`, and its
  `Z_PRIMARYKEY` table lists `Z_ENT` 3 = `KikChat`, 5 = `KikMessage`.
Core Data names such a join table after the entity numbers (`Z_<chat entity>MESSAGES` with columns
`Z_<chat entity>CHAT` and `Z_<message entity>MESSAGES`), and the numbers follow the model's entity list,
so a build whose model has other entities has other names (for example `Z_4MESSAGES (Z_4CHAT,
Z_6MESSAGES)`; no public source gives the numbers of a particular Kik build: **not confirmed** which
builds differ). The join table is therefore found from the store itself: the KikChat/KikMessage numbers
from `Z_PRIMARYKEY (Z_ENT, Z_NAME)` when it names them, else the one table of that pattern. The names
are built from those integers only, then checked against the schema, never copied from store text.
With no join table (or no `ZKIKCHAT`), messages are still read without a conversation, and one
`chat_links_missing` warning says why.
Only `ZKIKMESSAGE` `Z_PK`, `ZTYPE`, `ZUSER`, `ZBODY`, `ZTIMESTAMP` are required; `ZSTATE`, `ZSYSTEMSTATE`,
`ZRECEIVEDTIMESTAMP`, `ZSTANZAID` are read when present, and `ZKIKUSER`, `ZKIKCHAT` and `ZKIKATTACHMENT`
when the store has them (2013 to 2016 write-ups name the same three tables: Bridgey the Geek 2013,
https://www.scribd.com/doc/145278610/Artefacts-of-Kik-Messenger-on-iOS ; Ovens & Morison 2016,
doi:10.1016/j.diin.2016.04.001).
- `ZKIKATTACHMENT`: `ZMESSAGE` -> `ZKIKMESSAGE.Z_PK`, `ZCONTENT` (content id), `ZTYPE`.
Attachment files are stored by the app under their content id (an `attachments/<content id>` file on
iOS, `content_manager/data_cache/<content id>` on Android: iLEAPP/ALEAPP media look-ups), so the content id
is the attachment's file_name.
The owner's own account is not in this database (it is in the app's preferences), so outgoing
messages have no sender id and account_id is None.

Android schema facts (ALEAPP's Kik messages artifact, https://github.com/abrignoni/ALEAPP; K. Ovens' Kik
research, https://researchonline.gcu.ac.uk/ws/files/24282895/K.Ovens_revisedKMOvensManuscript3_2.pdf):
- `messagesTable`: `_id`, `body`, `partner_jid` (the other side; the writer in a group), `was_me`
  (1 = sent by the owner), `read_state`, `uid` (message uuid), `timestamp` (Unix ms), `bin_id` (the
  conversation: the partner's or the group's JID), `sys_msg`/`stat_msg` (system text), `content_id`
  (attachment id, details in `KIKContentTable`).
- `KIKcontactsTable`: `jid`, `display_name`, `user_name`.
Android history: anparser's Kik plugin (2015, github.com/anparser/anparser,
`anparser/plugins/sqlite_plugins/kik_android.py`) reads `messagesTable` `_id, body, partner_jid, was_me,
read_state, uid, length, timestamp, content_id, app_id` and no `bin_id`/`sys_msg`/`stat_msg`, which later
builds have (ALEAPP). Whether 2015 builds lacked those columns is **not confirmed** (that tool may simply
not have read them), so only `_id`, `body`, `partner_jid`, `was_me`, `timestamp` are required: every other
column is read when present and null when absent, and without `bin_id` the conversation is the partner.
`KIKcontactsTable` is read when present (names are missing without it).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_read, side_table, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_seconds, unix_ms
from parsers.sqlite_store import Database

IOS_TYPES = {1: "received", 2: "sent", 3: "group admin", 4: "group message"}
IOS_MESSAGE = ("Z_PK", "ZTYPE", "ZUSER", "ZBODY", "ZTIMESTAMP")
IOS_MESSAGE_OPTIONAL = ("ZSTATE", "ZSYSTEMSTATE", "ZRECEIVEDTIMESTAMP", "ZSTANZAID")
ANDROID_MESSAGE = ("_id", "body", "partner_jid", "was_me", "timestamp")
ANDROID_MESSAGE_OPTIONAL = ("read_state", "uid", "bin_id", "sys_msg", "stat_msg", "content_id")
# Side tables: read when the store has them (declared like variants, so only these names reach SQL).
IOS_USERS = Variant("ios_users", {"ZKIKUSER": ("Z_PK",)}, {"ZKIKUSER": ("ZUSERNAME", "ZDISPLAYNAME", "ZJID")})
IOS_ATTACHMENTS = Variant("ios_attachments", {"ZKIKATTACHMENT": ("Z_PK", "ZMESSAGE", "ZCONTENT")}, {"ZKIKATTACHMENT": ("ZTYPE",)})
ANDROID_CONTACTS = Variant("android_contacts", {"KIKcontactsTable": ("jid",)}, {"KIKcontactsTable": ("display_name", "user_name")})
ENTITIES_SQL = "SELECT Z_ENT, Z_NAME FROM Z_PRIMARYKEY"
CHAT_ENTITY, MESSAGE_ENTITY = "kikchat", "kikmessage"
# Z_<n>MESSAGES, lower case as Database.tables holds names: the join table's name and its message column.
_Z_MESSAGES = re.compile(r"^z_([0-9]{1,6})messages$")


class Kik(SqliteChatParser):
    name = "kik"
    version = "2"
    app = "Kik Messenger"
    platform = "iOS/Android"
    paths = ("*/kik.sqlite", "*/kik.android/databases/kikDatabase.db", "*/kikDatabase.db")
    variants = (
        Variant("ios", {"ZKIKMESSAGE": IOS_MESSAGE}, {"ZKIKMESSAGE": IOS_MESSAGE_OPTIONAL}),
        Variant("android", {"messagesTable": ANDROID_MESSAGE}, {"messagesTable": ANDROID_MESSAGE_OPTIONAL}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "ios":
            yield from self._ios(database, variant, context)
        else:
            yield from self._android(database, variant, context)

    def _ios(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        users: dict[int, sqlite3.Row] = {}
        if IOS_USERS.matches(database):
            users = {row["Z_PK"]: row for row in side_table(database, IOS_USERS, "ZKIKUSER", context)}
        chats: dict[int, list[sqlite3.Row]] = {}
        link, why = _chat_link(database, context)
        if link is None:
            context.warn("chat_links_missing", f"messages are read without their conversation: {why}", table="ZKIKMESSAGE")
        else:
            for row in side_read(database.query(_chats_sql(*link)), link[0], context):
                chats.setdefault(row["message"], []).append(row)
        attachments: dict[int, list[sqlite3.Row]] = {}
        if IOS_ATTACHMENTS.matches(database):
            for row in side_table(database, IOS_ATTACHMENTS, "ZKIKATTACHMENT", context, "Z_PK"):
                attachments.setdefault(row["ZMESSAGE"], []).append(row)
        yield from context.each(database.query(variant.select(database, "ZKIKMESSAGE", "Z_PK")), "ZKIKMESSAGE",
                                lambda row: self._ios_message(row, users, chats.get(row["Z_PK"], []), attachments.get(row["Z_PK"], []), context),
                                "Z_PK")

    def _ios_message(self, row: sqlite3.Row, users: dict[int, sqlite3.Row], chats: list[sqlite3.Row],
                     attachments: list[sqlite3.Row], context: ParseContext) -> Message:
        row_id = row["Z_PK"]
        kind_code = row["ZTYPE"]
        user = _ios_participant(users.get(row["ZUSER"]))
        chat = next((c for c in chats if c["user"] == row["ZUSER"]), chats[0] if chats else None)
        chat_user = users.get(chat["user"]) if chat is not None else None
        sent = context.time(row["ZTIMESTAMP"], cocoa_seconds, table="ZKIKMESSAGE", row_id=row_id, field="ZTIMESTAMP")
        received = context.time(row["ZRECEIVEDTIMESTAMP"], cocoa_seconds, table="ZKIKMESSAGE", row_id=row_id, field="ZRECEIVEDTIMESTAMP")
        details = {"type": f"{kind_code} ({IOS_TYPES.get(kind_code, 'unknown')})"}
        for column, key in (("ZSTATE", "state"), ("ZSYSTEMSTATE", "system_state"), ("ZSTANZAID", "stanza_id")):
            if row[column] is not None:
                details[key] = str(row[column])
        if chat is not None:
            details["chat_pk"] = str(chat["chat"])
        files = tuple(Attachment(file_name=str(a["ZCONTENT"])) for a in attachments if a["ZCONTENT"] is not None)
        if files:
            details["attachment_types"] = ",".join(str(a["ZTYPE"]) for a in attachments)
        outgoing = kind_code == 2
        return Message(
            source_table="ZKIKMESSAGE", source_row_id=row_id,
            conversation_id=text_value(chat_user["ZJID"]) if chat_user is not None else None,
            conversation_title=text_value(chat_user["ZDISPLAYNAME"]) if chat_user is not None else None,
            sender=user if kind_code == 1 else None, recipients=(user,) if outgoing and user else (),
            direction="outgoing" if outgoing else ("incoming" if kind_code == 1 else "unknown"),
            sent=sent, sent_raw=None if row["ZTIMESTAMP"] is None else str(row["ZTIMESTAMP"]),
            received=None if outgoing else received, body=text_value(row["ZBODY"]),
            kind="media" if files else ("system" if kind_code in (3, 4) else "text"), attachments=files, details=details,
        )

    def _android(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        names: dict[str, str | None] = {}
        if ANDROID_CONTACTS.matches(database):
            names = {row["jid"]: row["display_name"] or row["user_name"]
                     for row in side_table(database, ANDROID_CONTACTS, "KIKcontactsTable", context) if row["jid"]}
        yield from context.each(database.query(variant.select(database, "messagesTable", "_id")), "messagesTable",
                                lambda row: self._android_message(row, names, context), "_id")

    def _android_message(self, row: sqlite3.Row, names: dict[str, str | None], context: ParseContext) -> Message:
        row_id = row["_id"]
        partner_jid = text_value(row["partner_jid"])
        partner = Participant(partner_jid, names.get(partner_jid)) if partner_jid else None
        outgoing = row["was_me"] == 1
        direction = "outgoing" if outgoing else ("incoming" if row["was_me"] == 0 else "unknown")
        conversation = text_value(row["bin_id"]) or partner_jid
        system = row["sys_msg"] or row["stat_msg"]
        details = {"was_me": str(row["was_me"])}
        for column in ("read_state", "uid", "sys_msg", "stat_msg", "content_id"):
            if row[column] not in (None, ""):
                details[column] = str(row[column])
        in_group = conversation is not None and conversation != partner_jid
        return Message(
            source_table="messagesTable", source_row_id=row_id, conversation_id=conversation,
            conversation_title=names.get(conversation) if conversation else None,
            sender=None if outgoing else partner,
            recipients=(Participant(conversation, names.get(conversation)),) if outgoing and in_group else ((partner,) if outgoing and partner else ()),
            direction=direction,
            sent=context.time(row["timestamp"], unix_ms, table="messagesTable", row_id=row_id, field="timestamp"),
            sent_raw=None if row["timestamp"] is None else str(row["timestamp"]),
            body=text_value(row["body"]),
            kind="media" if row["content_id"] else ("system" if system and row["body"] is None else "text"),
            attachments=(Attachment(file_name=str(row["content_id"])),) if row["content_id"] else (),
            details=details,
        )


def _chat_link(database: Database, context: ParseContext) -> tuple[tuple[str, str, str] | None, str]:
    """(join table, chat column, message column) linking ZKIKCHAT to ZKIKMESSAGE, or None and why not.

    The names are made from entity numbers (integers) and checked against the schema before use.
    """
    if not database.has("ZKIKCHAT", "Z_PK", "ZUSER"):
        return None, "the store has no ZKIKCHAT table with Z_PK and ZUSER"
    if database.has("Z_PRIMARYKEY", "Z_ENT", "Z_NAME"):
        entities = _entities(database, context)
        chat, message = entities.get(CHAT_ENTITY), entities.get(MESSAGE_ENTITY)
        if chat is not None and message is not None:
            link = (f"Z_{chat}MESSAGES", f"Z_{chat}CHAT", f"Z_{message}MESSAGES")
            if database.has(*link):
                return link, ""
    candidates = _pattern_links(database)
    if len(candidates) == 1:
        return candidates[0], ""
    if candidates:
        return None, f"{len(candidates)} tables look like the chat-message join table ({', '.join(c[0] for c in candidates)}); none is taken"
    return None, "no Z_<n>MESSAGES table with Z_<n>CHAT and Z_<m>MESSAGES columns (Core Data chat-message join table)"


def _entities(database: Database, context: ParseContext) -> dict[str, int]:
    """Core Data entity name (lower case) -> entity number, from Z_PRIMARYKEY; non-integer numbers are ignored."""
    entities: dict[str, int] = {}
    for row in side_read(database.query(ENTITIES_SQL), "Z_PRIMARYKEY", context):
        number, name = row["Z_ENT"], row["Z_NAME"]
        if isinstance(number, int) and not isinstance(number, bool) and 0 < number < 1_000_000 and isinstance(name, str):
            entities.setdefault(name.lower(), number)
    return entities


def _pattern_links(database: Database) -> list[tuple[str, str, str]]:
    """Every table shaped like the join table: Z_<n>MESSAGES with Z_<n>CHAT and one Z_<m>MESSAGES column."""
    links = []
    for table, columns in sorted(database.tables.items()):
        match = _Z_MESSAGES.match(table)
        if match is None:
            continue
        chat = int(match[1])
        messages = [int(m[1]) for c in columns if (m := _Z_MESSAGES.match(c))]
        if f"z_{chat}chat" in columns and len(messages) == 1:
            links.append((f"Z_{chat}MESSAGES", f"Z_{chat}CHAT", f"Z_{messages[0]}MESSAGES"))
    return links


def _chats_sql(table: str, chat_column: str, message_column: str) -> str:
    """The chat links query; its identifiers come from `_chat_link` (built from integers, checked in the schema)."""
    return (f"SELECT c.Z_PK AS chat, c.ZUSER AS user, l.{message_column} AS message FROM {table} l "
            f"JOIN ZKIKCHAT c ON c.Z_PK = l.{chat_column} ORDER BY c.Z_PK, l.{message_column}")



def _ios_participant(user: sqlite3.Row | None) -> Participant | None:
    if user is None:
        return None
    handle = text_value(user["ZJID"]) or text_value(user["ZUSERNAME"])
    name = text_value(user["ZDISPLAYNAME"]) or text_value(user["ZUSERNAME"])
    return Participant(handle, name) if handle or name else None


PARSER = Kik()
