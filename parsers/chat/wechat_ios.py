"""WeChat iOS: `Documents/<32 hex>/DB/MM.sqlite` and `message_<n>.sqlite`, one `Chat_<md5>` table per chat.

Sources (facts only; no sample in the corpus):
- BlueMatthew/WechatExporter (`WechatExporter/core/WechatParser.cpp`, `MessageParser.cpp`; its
  README at release v1.9.5.13 names iOS 15.4 with WeChat 8.0.18 among its tests): the stores are plain SQLite (opened read-only with
  sqlite3); messages of one conversation are in the table `Chat_` + the lowercase hex MD5 of the
  conversation's user name, in `DB/MM.sqlite` and in further `DB/message_<n>.sqlite` files;
  columns read: `CreateTime` (Unix seconds), `Message`, `Des`, `Type`, `MesLocalID` (the local
  message id); `Des` 0 is a message the account owner sent, any other value one received; in a
  group (user name ending in `@chatroom`) a received `Message` starts with the sender's user name
  and ":\n"; contacts are `DB/WCDB_Contact.sqlite` table `Friend` (`userName`, and
  `dbContactRemark`, a protobuf blob whose field 1 is the name the exporter shows); images are
  `Img/<chat md5>/<MesLocalID>.pic`.
- The `Des` direction rule is the same in P79N6A/pa_script `apple_wechat` (`Des == 0` is sent).
- Type codes as on Android (see `wechat.py`: wechat-dump `lib/msg.py`, WechatExporter).

Table names come from the store, so only names matching `Chat_` + 32 hex digits are ever put into
SQL (double-quoted); any other `Chat_...` table is a `table_skipped` warning with its name escaped.
Not confirmed from any public source: `Des` values other than 0 and 1 (read as `unknown`),
`MesSvrID`/`Status` meanings (kept in `details`), the other `dbContactRemark` fields, whether
`MesLocalID` is the rowid (the rowid is read separately for that reason).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from manifests.text import display
from parsers.chat._rows import side_read, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_seconds
from parsers.chat.wechat import GROUP_SUFFIX, split_group_sender, type_kind
from parsers.decode.protobuf import LENGTH, ProtobufError, first, parse
from parsers.sqlite_store import Database

IMAGE = 3
CHAT_TABLE = re.compile(r"^Chat_[0-9a-f]{32}$")
REQUIRED = ("CreateTime", "Message", "Des")
OPTIONAL = ("MesLocalID", "Type", "MesSvrID", "Status")
DETAILED = ("MesLocalID", "MesSvrID", "Status")
CHAT_TABLES_SQL = "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'Chat\\_%' ESCAPE '\\' ORDER BY name"
FRIENDS_SQL = "SELECT userName, dbContactRemark FROM Friend"


@dataclass(frozen=True)
class ChatTables(Variant):
    """A store matches when one of its `Chat_<md5>` tables has the required columns (declared under `Chat_md5`)."""

    def matches(self, database: Database) -> bool:
        return any(database.has(name, *REQUIRED) for name in _chat_names(database))


IOS = ChatTables("ios_mm_chat_tables", {"Chat_md5": REQUIRED}, {"Chat_md5": OPTIONAL})


class WeChatIOS(SqliteChatParser):
    name = "wechat_ios"
    version = "1"
    app = "WeChat"
    platform = "iOS"
    paths = ("*/Documents/*/DB/MM.sqlite", "*/Documents/*/DB/message_*.sqlite")
    variants = (IOS,)

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        people = _friends(context)
        by_id = {p.id: p for p in people.values() if p.id is not None}
        for name in _all_chat_names(database):
            if not CHAT_TABLE.match(name):
                context.warn("table_skipped", f"{context.artefact.path}: table '{display(name)}' is named like a WeChat chat table "
                             "but is not Chat_ + 32 hex digits; not read")
                continue
            if not database.has(name, *REQUIRED):
                context.warn("table_skipped", f"{context.artefact.path}: table {name} lacks the columns {', '.join(REQUIRED)}; not read",
                             table=name)
                continue
            chat = people.get(name[5:], Participant(None))
            table_variant = Variant(variant.name, {name: REQUIRED}, {name: OPTIONAL})
            sql = f'SELECT rowid AS exhibit_rowid, {table_variant.columns(database, name)} FROM "{name}" ORDER BY rowid'
            yield from context.each(database.query(sql), name, lambda row, t=name, c=chat: _message(row, t, c, by_id, context),
                                    "exhibit_rowid")


def _message(row: sqlite3.Row, table: str, chat: Participant, by_id: dict[str, Participant], context: ParseContext) -> Message:
    row_id = row["exhibit_rowid"]
    direction = {0: "outgoing", 1: "incoming"}.get(row["Des"], "unknown")
    group = chat.id is not None and chat.id.endswith(GROUP_SUFFIX)
    body = text_value(row["Message"])
    sender: Participant | None = None
    recipients: tuple[Participant, ...] = ()
    if direction == "outgoing":
        recipients = () if group or chat.id is None else (chat,)
    elif group:
        sender, body = split_group_sender(body, by_id)
    elif direction == "incoming" and chat.id is not None:
        sender = chat
    kind, details = type_kind(row["Type"])
    details["chat_table_md5"] = table[5:]
    for column in DETAILED:
        if row[column] is not None:
            details[column] = str(row[column])
    attachments: tuple[Attachment, ...] = ()
    if row["Type"] == IMAGE and isinstance(row["MesLocalID"], int):
        attachments = (Attachment(file_name=f"{row['MesLocalID']}.pic", local_path=f"Img/{table[5:]}/{row['MesLocalID']}.pic"),)
    return Message(
        source_table=table, source_row_id=row_id, conversation_id=chat.id or table[5:], conversation_title=chat.name,
        sender=sender, recipients=recipients, direction=direction,
        sent=context.time(row["CreateTime"], unix_seconds, table=table, row_id=row_id, field="CreateTime"),
        sent_raw=None if row["CreateTime"] is None else str(row["CreateTime"]), body=body, kind=kind, attachments=attachments,
        details=details,
    )


def _chat_names(database: Database) -> list[str]:
    """Lowercased schema names that are valid chat table names (the schema map keys are lowercased)."""
    return [name for name in database.tables if name.startswith("chat_") and CHAT_TABLE.match("Chat_" + name[5:])]


def _all_chat_names(database: Database) -> list[str]:
    """Every table whose name begins `Chat_`, as the schema spells it."""
    return [str(row[0]) for row in database.query(CHAT_TABLES_SQL)]


def _friends(context: ParseContext) -> dict[str, Participant]:
    """md5(userName) -> Participant from the nearest WCDB_Contact.sqlite; {} when it is absent."""
    contacts = context.companion("*/DB/WCDB_Contact.sqlite")
    if contacts is None or not contacts.has("Friend", "userName", "dbContactRemark"):
        return {}
    people: dict[str, Participant] = {}
    for row in side_read(contacts.query(FRIENDS_SQL), "Friend", context):
        user = row["userName"]
        if not isinstance(user, str) or not user:
            continue
        people[hashlib.md5(user.encode("utf-8", "surrogatepass")).hexdigest()] = Participant(user, _remark_name(row["dbContactRemark"], context))
    return people


def _remark_name(blob: object, context: ParseContext) -> str | None:
    if not isinstance(blob, bytes) or not blob:
        return None
    try:
        field = first(parse(blob), 1)
    except ProtobufError as error:
        context.warn("bad_blob", f"Friend.dbContactRemark: {error}", table="Friend", field="dbContactRemark")
        return None
    if field is None or field.wire_type != LENGTH or not isinstance(field.value, bytes):
        return None
    try:
        return field.value.decode("utf-8") or None
    except UnicodeDecodeError as error:
        context.warn("bad_blob", f"Friend.dbContactRemark field 1 is not UTF-8: {error}", table="Friend", field="dbContactRemark")
        return None


PARSER = WeChatIOS()
