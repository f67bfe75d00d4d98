"""Skype for Windows 10 (Store app) 12.7 and later: `LocalState/<user>/skype.db` (`messages`, `key_value`).

Where and when (bebinary4n6, "Skype Analysis - From the old one to the newest one" 2019-07-14 and
"Analysis of Skype - Windows 10 App Version 12.7 and higher" 2019-07-15,
https://bebinary4n6.blogspot.com/2019/07/analysis-of-skype-windows-10-app.html): from 12.7 the app keeps
`Packages/Microsoft.SkypeApp_*/LocalState/<skype user>/skype.db` (media in `media_messaging/media_cache_v3`);
by 14.23 it had moved to `s4l-<user>.db` (skype_s4l). Earlier Store builds kept a classic `main.db`.

Schema facts (own words; source read for facts only: Mobius Forensic Toolkit
`src/extensions/app/skype/file_skype_db.cpp`, which lists the same columns for the store's schema versions
533, 561, 680, 835 and 3576, read from `AppSchemaVersion.SQLiteSchemaVersion`):
- `messages`: `author` (the writer's MRI, e.g. "8:bob"), `content` (text, kept exactly), `convdbid` (the
  conversation's database id), `originalarrivaltime` (Unix milliseconds), `clientmessageid`, `id`, `dbid`,
  `editedtime`, `messagetype` (a number), `sendingstatus`, `skypeguid`, `is_preview`, `properties`,
  `json`, `version`, `smsmessagedbid` (-> `sms_messages.dbid` for an SMS row).
- `sms_messages`: `dbid`, `smstransportid`, `smstransportname`, `mmsdownloadstatus`, `unistoreid`.
- `contacts`: `mri`, `display_name`, `full_name` (and profile fields).
- `key_value(key, value)`: `mePersonMri` is the owner's MRI, `ACCOUNT_FULLNAME` the owner's name.
**Not confirmed** (no public source found): the `conversations` table's columns (so `convdbid` is kept as
the conversation id, without a title or members), the meaning of `messagetype` codes (kept in `details`;
kind is `unknown` except for SMS rows), and the unit of `editedtime` (kept raw).
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Message, Participant
from parsers.chat._rows import side_read, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

OWNER_KEYS = ("mePersonMri", "ACCOUNT_FULLNAME")
KEY_VALUE_SQL = "SELECT key, value FROM key_value WHERE key IN (?, ?)"
DETAIL_COLUMNS = ("id", "dbid", "clientmessageid", "messagetype", "sendingstatus", "skypeguid", "editedtime", "is_preview",
                  "smsmessagedbid")


class SkypeUwp(SqliteChatParser):
    name = "skype_uwp"
    version = "1"
    app = "Skype for Windows 10 (12.x)"
    platform = "Windows 10 Store app"
    paths = ("*/Microsoft.SkypeApp_*/LocalState/*/skype.db",)
    variants = (
        Variant("skype_db", {"messages": ("author", "content", "convdbid", "originalarrivaltime")},
                {"messages": DETAIL_COLUMNS, "contacts": ("mri", "display_name", "full_name"),
                 "sms_messages": ("dbid", "smstransportname")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        values = _key_values(database, context)
        owner_id = _text(values.get("mePersonMri")) or None
        names = _contact_names(database, variant, context)
        owner = Participant(owner_id, _text(values.get("ACCOUNT_FULLNAME")) or names.get(owner_id)) if owner_id else None
        sms = _sms_transports(database, variant, context)
        sql = f"SELECT rowid AS row_id, {variant.columns(database, 'messages')} FROM messages ORDER BY rowid"
        yield from context.each(database.query(sql), "messages", lambda row: _message(row, owner, names, sms, context), "row_id")


def _message(row: sqlite3.Row, owner: Participant | None, names: dict[str, str], sms: dict[object, str | None],
             context: ParseContext) -> Message:
    row_id = row["row_id"]
    author = _text(row["author"]) or None
    if owner is None or author is None:
        direction = "unknown"
    else:
        direction = "outgoing" if author == owner.id else "incoming"
    details = {column: str(row[column]) for column in DETAIL_COLUMNS if row[column] not in (None, "")}
    is_sms = row["smsmessagedbid"] not in (None, 0, "")
    if is_sms and sms.get(row["smsmessagedbid"]):
        details["smstransportname"] = str(sms[row["smsmessagedbid"]])
    arrival = row["originalarrivaltime"]
    return Message(
        source_table="messages", source_row_id=row_id, conversation_id=_text(row["convdbid"]),
        sender=owner if direction == "outgoing" else (Participant(author, names.get(author)) if author else None),
        recipients=((owner,) if direction == "incoming" and owner else ()), direction=direction,
        sent=context.time(arrival, unix_ms, table="messages", row_id=row_id, field="originalarrivaltime"),
        sent_raw=_text(arrival), body=text_value(row["content"]),
        kind="text" if is_sms else "unknown", account_id=owner.id if owner else None, details=details,
    )


def _key_values(database: Database, context: ParseContext) -> dict[str, object]:
    if not database.has("key_value", "key", "value"):
        return {}
    return {row["key"]: row["value"] for row in side_read(database.query(KEY_VALUE_SQL, OWNER_KEYS), "key_value", context)}


def _contact_names(database: Database, variant: Variant, context: ParseContext) -> dict[str, str]:
    names: dict[str, str] = {}
    if not database.has("contacts", "mri"):
        return names
    for row in side_read(database.query(variant.select(database, "contacts", "rowid")), "contacts", context):
        label = row["display_name"] or row["full_name"]
        if row["mri"] and label:
            names.setdefault(str(row["mri"]), str(label))
    return names


def _sms_transports(database: Database, variant: Variant, context: ParseContext) -> dict[object, str | None]:
    if not database.has("sms_messages", "dbid"):
        return {}
    rows = side_read(database.query(variant.select(database, "sms_messages", "rowid")), "sms_messages", context)
    return {row["dbid"]: row["smstransportname"] for row in rows}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


PARSER = SkypeUwp()
