"""Zalo iOS: one database per chat, `Documents/chat_dbs/<account id>/<peer id>.db` or `group_<group id>.db`.

Sources (facts only; no sample in the corpus):
- C. Peter, "iLEAPP Sticker Animation (Zalo Parser)" (https://cp-df.com/en/blog/zalo.html): user
  data under the app container's `Documents/`; older versions kept every chat in `chat.sqlite`
  (`ChatEntity`, empty in the author's test data); all versions examined had `chat_dbs/<the
  account's Zalo id>/` with one database per chat named by the other party's Zalo id, or
  `group_<group id>.db`; names from `profile.sqlite` and `chatgroup.sqlite`.
- iLEAPP `zalo` artifact (author C_Peter; read for facts): table `ChatContent` with `SenderId`,
  `CliMsgId`, `MsgType`, `TimeStamp`, `MsgContent`, `BinNet` (blob), `LocalPath`; a message is
  outgoing when `SenderId` equals the account id of the folder name (no stored flag); names from
  `ProfileEntity` (`userid`, `displayname`) and `GroupEntity` (`groupid`, `name`); `_ext`
  databases in the folder are not chats. Its notes say the `MsgType` meanings are not
  vendor-documented but read from test data: 0 text, 1/2/3/4/19/23 media, 6 voice note,
  10 sticker, 12 call or link (told apart by markers in `BinNet`), 15/20/24/36 system, 18 location,
  22 file, 26 poll. Those readings are used here as kinds and named "iLEAPP reading" in `details`.

Not confirmed from any public source: the unit of `TimeStamp` (iLEAPP normalises by digit count;
here 12 or more digits are Unix milliseconds, fewer are seconds); the `chat.sqlite` schema (not
read); `BinNet`'s format (not read). Zalo Android (`com.zing.zalo`): no public source documents
its message schema. Its database path `databases/zalo` is known only from a decompiled old
release (nhnam/ZaloRE, `com/zing/zalo/db/a.smali`), so a store there is a `schema_unrecognised`
warning with its fingerprint, never silently skipped.
"""

from __future__ import annotations

import posixpath
import re
import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_read, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms, unix_seconds
from parsers.sqlite_store import Database

CHAT_FILE = re.compile(r"/chat_dbs/(?P<account>[^/]+)/(?P<stem>[^/]+)\.db$", re.IGNORECASE)
MS_DIGITS = 12
PROFILES_SQL = "SELECT userid, displayname FROM ProfileEntity"
GROUPS_SQL = "SELECT groupid, name FROM GroupEntity"

# MsgType -> (kind, label) as iLEAPP reads them (not vendor-documented; see the docstring).
TYPES: dict[int, tuple[str, str]] = {
    0: ("text", "text"), 6: ("media", "voice note"), 10: ("sticker", "sticker"), 12: ("unknown", "call or link"),
    18: ("location", "location"), 22: ("media", "file"), 26: ("poll", "poll"),
    **{code: ("media", "media") for code in (1, 2, 3, 4, 19, 23)},
    **{code: ("system", "system") for code in (15, 20, 24, 36)},
}

IOS = Variant(
    "ios_chat_dbs_chatcontent",
    {"ChatContent": ("SenderId", "TimeStamp", "MsgContent")},
    {"ChatContent": ("MsgType", "CliMsgId", "LocalPath")},
)


class Zalo(SqliteChatParser):
    name = "zalo"
    version = "1"
    app = "Zalo"
    platform = "iOS (Android path only)"
    paths = ("*/Documents/chat_dbs/*/*.db", "*/com.zing.zalo/databases/zalo")
    variants = (IOS,)

    def path_matches(self, path: str) -> bool:
        """`<id>_ext.db` beside the chats is not a chat database (iLEAPP skips it), so it is not expected here."""
        return super().path_matches(path) and "_ext" not in posixpath.basename(path).lower()

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        where = CHAT_FILE.search(context.artefact.path.replace("\\", "/"))
        account = where["account"] if where else None
        stem = where["stem"] if where else None
        group = stem is not None and stem.lower().startswith("group_")
        chat_id = stem[len("group_"):] if group and stem is not None else stem
        people = _names(context, "*/Documents/profile.sqlite", "ProfileEntity", ("userid", "displayname"), PROFILES_SQL)
        groups = _names(context, "*/Documents/chatgroup.sqlite", "GroupEntity", ("groupid", "name"), GROUPS_SQL)
        title = (groups if group else people).get(chat_id) if chat_id is not None else None
        peer = None if group or chat_id is None else Participant(chat_id, people.get(chat_id))
        conversation = None if chat_id is None else (f"group_{chat_id}" if group else chat_id)
        sql = f"SELECT rowid AS exhibit_rowid, {variant.columns(database, 'ChatContent')} FROM ChatContent ORDER BY rowid"

        def convert(row: sqlite3.Row) -> Message:
            row_id = row["exhibit_rowid"]
            sender_id = None if row["SenderId"] is None else str(row["SenderId"])
            if account is None or sender_id is None:
                direction = "unknown"
            else:
                direction = "outgoing" if sender_id == account else "incoming"
            kind, label = _type_kind(row["MsgType"])
            details = {} if row["MsgType"] is None else {"msg_type": f"{row['MsgType']} ({label}, iLEAPP reading)"}
            if row["CliMsgId"] is not None:
                details["CliMsgId"] = str(row["CliMsgId"])
            local = row["LocalPath"]
            attachments = (Attachment(file_name=posixpath.basename(local), local_path=local),) if isinstance(local, str) and local else ()
            return Message(
                source_table="ChatContent", source_row_id=row_id, conversation_id=conversation, conversation_title=title,
                sender=None if sender_id is None else Participant(sender_id, people.get(sender_id)),
                recipients=(peer,) if direction == "outgoing" and peer is not None else (), direction=direction,
                sent=context.time(row["TimeStamp"], unix_auto, table="ChatContent", row_id=row_id, field="TimeStamp"),
                sent_raw=None if row["TimeStamp"] is None else str(row["TimeStamp"]), body=text_value(row["MsgContent"]), kind=kind,
                attachments=attachments, account_id=account, details=details,
            )

        yield from context.each(database.query(sql), "ChatContent", convert, "exhibit_rowid")


def unix_auto(value: object) -> int:
    """Zalo's TimeStamp: Unix milliseconds when it has MS_DIGITS or more digits, else seconds (unit not documented)."""
    if isinstance(value, str):
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{type(value).__name__} is not an integer time")
    return unix_ms(value) if len(str(abs(value))) >= MS_DIGITS else unix_seconds(value)


def _type_kind(code: object) -> tuple[str, str]:
    if isinstance(code, int) and code in TYPES:
        return TYPES[code]
    return "unknown", "unlisted"


def _names(context: ParseContext, pattern: str, table: str, columns: tuple[str, str], sql: str) -> dict[str, str]:
    """id -> name from a companion store; {} when it is absent or lacks the table (names are then missing)."""
    database = context.companion(pattern)
    if database is None or not database.has(table, *columns):
        return {}
    key, value = columns
    rows = side_read(database.query(sql), table, context)
    return {str(row[key]): row[value] for row in rows if row[key] is not None and isinstance(row[value], str)}


PARSER = Zalo()
