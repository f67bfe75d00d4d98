"""Kik Messenger: iOS `kik.sqlite` (Core Data) and Android `kikDatabase.db`.

iOS schema facts (read for facts only: plaso test file `ios/kik.sqlite` itself; iLEAPP's Kik messages
artifact, https://github.com/abrignoni/iLEAPP, for the ZTYPE meanings and the message/user/attachment joins):
- `ZKIKMESSAGE`: `Z_PK`, `ZTYPE` (1 received, 2 sent, 3 "group admin" notice, 4 "group message" notice),
  `ZSTATE`, `ZSYSTEMSTATE`, `ZUSER` -> `ZKIKUSER.Z_PK` (the writer of a received message; the addressee
  of a sent one: a user or a group user), `ZBODY` (text; for an attachment, the attachment's content id),
  `ZTIMESTAMP` and `ZRECEIVEDTIMESTAMP` (Core Data seconds since 2001), `ZSTANZAID` (message uuid).
- `ZKIKUSER`: `Z_PK`, `ZUSERNAME`, `ZDISPLAYNAME`, `ZJID` (user "name_xyz@talk.kik.com", group
  "<n>_g@groups.kik.com").
- `ZKIKCHAT`: `Z_PK`, `ZUSER` (the chat's partner or group user); `Z_3MESSAGES (Z_3CHAT, Z_5MESSAGES)` links
  chats to messages (a message may be linked to two chats: the one whose user is the message's user wins).
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
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_seconds, unix_ms
from parsers.sqlite_store import Database

IOS_TYPES = {1: "received", 2: "sent", 3: "group admin", 4: "group message"}
IOS_MESSAGES_SQL = ("SELECT Z_PK, ZTYPE, ZSTATE, ZSYSTEMSTATE, ZUSER, ZBODY, ZTIMESTAMP, ZRECEIVEDTIMESTAMP, ZSTANZAID "
                    "FROM ZKIKMESSAGE ORDER BY Z_PK")
IOS_USERS_SQL = "SELECT Z_PK, ZUSERNAME, ZDISPLAYNAME, ZJID FROM ZKIKUSER"
IOS_CHATS_SQL = "SELECT c.Z_PK AS chat, c.ZUSER AS user, l.Z_5MESSAGES AS message FROM Z_3MESSAGES l JOIN ZKIKCHAT c ON c.Z_PK = l.Z_3CHAT ORDER BY c.Z_PK"
IOS_ATTACHMENTS_SQL = "SELECT Z_PK, ZMESSAGE, ZCONTENT, ZTYPE FROM ZKIKATTACHMENT ORDER BY Z_PK"
ANDROID_MESSAGES_SQL = ("SELECT _id, body, partner_jid, was_me, read_state, uid, timestamp, bin_id, sys_msg, stat_msg, content_id "
                        "FROM messagesTable ORDER BY _id")
ANDROID_CONTACTS_SQL = "SELECT jid, display_name, user_name FROM KIKcontactsTable"


class Kik(SqliteChatParser):
    name = "kik"
    version = "1"
    app = "Kik Messenger"
    platform = "iOS/Android"
    paths = ("*/kik.sqlite", "*/kik.android/databases/kikDatabase.db", "*/kikDatabase.db")
    variants = (
        Variant("ios", {"ZKIKMESSAGE": ("Z_PK", "ZTYPE", "ZSTATE", "ZSYSTEMSTATE", "ZUSER", "ZBODY", "ZTIMESTAMP",
                                        "ZRECEIVEDTIMESTAMP", "ZSTANZAID"),
                        "ZKIKUSER": ("Z_PK", "ZUSERNAME", "ZDISPLAYNAME", "ZJID"),
                        "ZKIKCHAT": ("Z_PK", "ZUSER"), "Z_3MESSAGES": ("Z_3CHAT", "Z_5MESSAGES"),
                        "ZKIKATTACHMENT": ("Z_PK", "ZMESSAGE", "ZCONTENT", "ZTYPE")}),
        Variant("android", {"messagesTable": ("_id", "body", "partner_jid", "was_me", "read_state", "uid", "timestamp",
                                              "bin_id", "sys_msg", "stat_msg", "content_id"),
                            "KIKcontactsTable": ("jid", "display_name", "user_name")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "ios":
            yield from self._ios(database, context)
        else:
            yield from self._android(database, context)

    def _ios(self, database: Database, context: ParseContext) -> Iterator[Message]:
        users = {row["Z_PK"]: row for row in database.query(IOS_USERS_SQL)}
        chats: dict[int, list[sqlite3.Row]] = {}
        for row in database.query(IOS_CHATS_SQL):
            chats.setdefault(row["message"], []).append(row)
        attachments: dict[int, list[sqlite3.Row]] = {}
        for row in database.query(IOS_ATTACHMENTS_SQL):
            attachments.setdefault(row["ZMESSAGE"], []).append(row)
        yield from context.each(database.query(IOS_MESSAGES_SQL), "ZKIKMESSAGE",
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
        details = {"type": f"{kind_code} ({IOS_TYPES.get(kind_code, 'unknown')})", "state": str(row["ZSTATE"]),
                   "system_state": str(row["ZSYSTEMSTATE"])}
        if row["ZSTANZAID"] is not None:
            details["stanza_id"] = row["ZSTANZAID"]
        if chat is not None:
            details["chat_pk"] = str(chat["chat"])
        files = tuple(Attachment(file_name=a["ZCONTENT"]) for a in attachments)
        if files:
            details["attachment_types"] = ",".join(str(a["ZTYPE"]) for a in attachments)
        outgoing = kind_code == 2
        return Message(
            source_table="ZKIKMESSAGE", source_row_id=row_id,
            conversation_id=chat_user["ZJID"] if chat_user is not None else None,
            conversation_title=chat_user["ZDISPLAYNAME"] if chat_user is not None else None,
            sender=user if kind_code == 1 else None, recipients=(user,) if outgoing and user else (),
            direction="outgoing" if outgoing else ("incoming" if kind_code == 1 else "unknown"),
            sent=sent, sent_raw=None if row["ZTIMESTAMP"] is None else str(row["ZTIMESTAMP"]),
            received=None if outgoing else received, body=row["ZBODY"],
            kind="media" if files else ("system" if kind_code in (3, 4) else "text"), attachments=files, details=details,
        )

    def _android(self, database: Database, context: ParseContext) -> Iterator[Message]:
        names = {row["jid"]: row["display_name"] or row["user_name"] for row in database.query(ANDROID_CONTACTS_SQL) if row["jid"]}
        yield from context.each(database.query(ANDROID_MESSAGES_SQL), "messagesTable",
                                lambda row: self._android_message(row, names, context), "_id")

    def _android_message(self, row: sqlite3.Row, names: dict[str, str | None], context: ParseContext) -> Message:
        row_id = row["_id"]
        partner = Participant(row["partner_jid"], names.get(row["partner_jid"])) if row["partner_jid"] else None
        outgoing = row["was_me"] == 1
        conversation = row["bin_id"] or row["partner_jid"]
        system = row["sys_msg"] or row["stat_msg"]
        details = {"was_me": str(row["was_me"]), "read_state": str(row["read_state"])}
        for column in ("uid", "sys_msg", "stat_msg", "content_id"):
            if row[column] not in (None, ""):
                details[column] = str(row[column])
        in_group = conversation is not None and conversation != row["partner_jid"]
        return Message(
            source_table="messagesTable", source_row_id=row_id, conversation_id=conversation,
            conversation_title=names.get(conversation) if conversation else None,
            sender=None if outgoing else partner,
            recipients=(Participant(conversation, names.get(conversation)),) if outgoing and in_group else ((partner,) if outgoing and partner else ()),
            direction="outgoing" if outgoing else "incoming",
            sent=context.time(row["timestamp"], unix_ms, table="messagesTable", row_id=row_id, field="timestamp"),
            sent_raw=None if row["timestamp"] is None else str(row["timestamp"]),
            body=row["body"],
            kind="media" if row["content_id"] else ("system" if system and row["body"] is None else "text"),
            attachments=(Attachment(file_name=str(row["content_id"])),) if row["content_id"] else (),
            details=details,
        )


def _ios_participant(user: sqlite3.Row | None) -> Participant | None:
    if user is None:
        return None
    return Participant(user["ZJID"] or user["ZUSERNAME"], user["ZDISPLAYNAME"] or user["ZUSERNAME"])


PARSER = Kik()
