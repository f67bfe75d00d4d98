"""imo Android: `imofriends.db` (one-to-one messages), owner from the companion `accountdb.db`.

Facts (read for facts only, in these public sources):
- Autopsy `InternalPythonModules/android/imo.py` (written against imo 9.8.0,
  https://github.com/sleuthkit/autopsy): package `com.imo.android.imous`; `accountdb.db` table
  `account` (`uid`, `name`) is the owner's account; `imofriends.db` table `friends` (`buid` the
  contact's imo id, `name`) and `messages` (`buid` the other party, `last_message` the text,
  `timestamp` in nanoseconds since 1970, `message_type` 1 incoming and 0 outgoing,
  `message_read`, `imdata` a JSON object whose `original_path`, else `local_path`, names an
  attachment file).
- ALEAPP `scripts/artifacts/imo.py` (https://github.com/abrignoni/ALEAPP, sample "Android 14,
  com.imo.android.imous vc 2043"): the same tables, nanosecond `timestamp`, `message_type` 1
  incoming and 2 outgoing, any other value reported as stored ("established through testing").
- A public EF Core model scaffolded from a real `imofriends.db` (C# `imofriendsContext`; its
  repository was not identified by the search index): `messages` also has `_id`, `msg_id`,
  `author`, `author_alias`, `alias`, `message_state`, `view_type`, `delete_type`,
  `sender_timestamp_nano`, `expiration_timestamp`, `seq_number`, `encrypt_flag`, and a unique
  index on (`buid`, `timestamp`); the database also holds `big_group_message` (`bgid`,
  `timestamp`, `msg_seq`, `last_message`, `message_type`, `user_nickname`, ...).
- The package `com.imo.android.imoim` with the same `imofriends.db` name is named in public
  monitoring code; its path is declared too.

Read here: `buid`, `last_message`, `timestamp` and `message_type` are required; every other column
is optional. Direction: 1 incoming (both sources); 0 outgoing (Autopsy, imo 9.8.0) and 2 outgoing
(ALEAPP, a 2023-era build) are both read as outgoing, any other value is `unknown`; the raw value
is always in `details.message_type`. Not confirmed, so kept raw in details and not interpreted:
`message_state`, `view_type`, `delete_type`, `author`/`author_alias` (possibly the writer in a
group chat; not documented), `sender_timestamp_nano`. `big_group_message` (imo "big groups") has
no documented time unit or direction, so it is not read: its row count is one `table_not_read`
info row, never silently dropped. imo iOS: no public schema was found; not read.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import select_by_rowid, side_first, side_read, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ns
from parsers.sqlite_store import Database

DIRECTIONS = {1: "incoming", 0: "outgoing", 2: "outgoing"}
FRIENDS_SQL = "SELECT buid, name FROM friends"
ACCOUNT_SQL = "SELECT uid, name FROM account ORDER BY rowid LIMIT 1"
BIG_GROUP_COUNT_SQL = "SELECT count(*) FROM big_group_message"
OPTIONAL_DETAILS = ("msg_id", "message_read", "message_state", "view_type", "delete_type", "author", "author_alias", "alias",
                    "sender_timestamp_nano", "expiration_timestamp", "seq_number", "encrypt_flag")


class Imo(SqliteChatParser):
    name = "imo"
    version = "1"
    app = "imo"
    platform = "Android"
    paths = ("*/com.imo.android.imous/databases/imofriends.db", "*/com.imo.android.imoim/databases/imofriends.db")
    variants = (
        Variant("android", {"messages": ("buid", "last_message", "timestamp", "message_type")},
                optional={"messages": ("imdata", *OPTIONAL_DETAILS)}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        names: dict[str, str] = {}
        if database.has("friends", "buid", "name"):
            for row in side_read(database.query(FRIENDS_SQL), "friends", context):
                if row["buid"] is not None and row["name"]:
                    names[text_value(row["buid"]) or ""] = text_value(row["name"]) or ""
        owner = _owner(context)
        yield from context.each(database.query(select_by_rowid(variant, database, "messages")), "messages",
                                lambda row: self._message(row, names, owner, context), "row_key")
        if database.has("big_group_message"):
            count = database.first(BIG_GROUP_COUNT_SQL)
            if count is not None and count[0]:
                context.warn("table_not_read", f"big_group_message: {count[0]} rows of imo big-group messages not read (their time "
                                               "unit and direction are not documented)", table="big_group_message", severity="info")

    def _message(self, row: sqlite3.Row, names: dict[str, str], owner: Participant | None, context: ParseContext) -> Message:
        row_id = row["row_key"]
        buid = text_value(row["buid"])
        partner = Participant(buid, names.get(buid or "")) if buid else None
        direction = DIRECTIONS.get(row["message_type"], "unknown")  # type: ignore[arg-type]
        details = {"message_type": text_value(row["message_type"]) or ""}
        for column in OPTIONAL_DETAILS:
            if row[column] not in (None, ""):
                details[column] = text_value(row[column]) or ""
        imdata = context.json_value(row["imdata"], table="messages", row_id=row_id, field="imdata")
        path = None
        if isinstance(imdata, dict):
            path = imdata.get("original_path") or imdata.get("local_path")
        if imdata is not None:
            details["imdata"] = text_value(row["imdata"]) or ""
        body = text_value(row["last_message"])
        files = (Attachment(local_path=str(path)),) if path else ()
        return Message(
            source_table="messages", source_row_id=row_id, conversation_id=buid,
            conversation_title=partner.name if partner else None,
            sender=partner if direction == "incoming" else (owner if direction == "outgoing" else None),
            recipients=((partner,) if direction == "outgoing" and partner else ((owner,) if direction == "incoming" and owner else ())),
            direction=direction,
            sent=context.time(row["timestamp"], unix_ns, table="messages", row_id=row_id, field="timestamp"),
            sent_raw=text_value(row["timestamp"]), body=body,
            kind="media" if files else ("text" if body else "unknown"), attachments=files,
            account_id=owner.id if owner else None, details=details,
        )


def _owner(context: ParseContext) -> Participant | None:
    """The owner's imo account from the nearest imo `accountdb.db` (never another app's); None when absent.

    A present but unreadable companion is a `companion_unreadable` warning (ParseContext.companion).
    """
    database = context.companion("*/com.imo.android.*/databases/accountdb.db")
    if database is None or not database.has("account", "uid", "name"):
        return None
    row = side_first(database.query(ACCOUNT_SQL), "account", context)
    if row is None or row["uid"] is None:
        return None
    return Participant(text_value(row["uid"]), text_value(row["name"]))


PARSER = Imo()
