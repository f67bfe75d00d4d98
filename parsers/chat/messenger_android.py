"""Facebook Messenger on Android: current `msys_database_<uid>` and legacy `threads_db2`.

Schema facts (own words; source: ALEAPP `scripts/artifacts/FacebookMessenger.py`, read for facts):
- current (MSYS / "lightspeed" store, `databases/msys_database_<account id>`):
  `messages`: `message_id`, `thread_key`, `sender_id`, `text`, `timestamp_ms` (Unix ms),
  `is_admin_message` (1 = app-generated notice); `contacts`: `id`, `name`, `username`;
  `attachments`: `message_id`, `title_text`, `subtitle_text` (call and location captions),
  `filename`, `playable_url_mime_type`, `playable_url`; `reactions`: `message_id`, `reaction`,
  `reaction_creation_timestamp_ms` (and `actor_id`); `participants`: `thread_key`, `contact_id`;
  `threads`: `thread_key`, `thread_name`. The account id is the file name's suffix.
- legacy (`databases/threads_db2`): `messages`: `msg_id`, `thread_key`, `text`, `sender` (JSON
  {"user_key": "FACEBOOK:<id>", "name": ...}), `timestamp_ms`, `timestamp_sent_ms`, `msg_type`,
  `attachments` (JSON list: filename, mime_type), `shares` (JSON list: name, description, href),
  `generic_admin_message_extensible_data` (JSON; calls carry `call_duration`, `video`);
  `thread_users`: `user_key`, `first_name`, `last_name`, `name`; `threads`: `thread_key`, `name`.
  The account id is in a small text file `threads_db2-uid` beside the database.
Columns beyond each variant's minimum are read only when present (names from fixed lists). The
minimum is the message row (id, thread, sender, text, time) plus a `threads` table; `contacts` and
`thread_users` only add names and may be absent (docs/chat-schema-otherhist.md).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any, Iterable, Iterator

from manifests.records import Attachment, Message, Participant
from parsers.artefact import Artefact
from parsers.chat._rows import side_read, side_table, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

MSYS_MESSAGE_COLUMNS = ("message_id", "thread_key", "sender_id", "text", "timestamp_ms")
MSYS_OPTIONAL = ("is_admin_message", "is_unsent", "is_forwarded", "offline_threading_id", "reply_source_id")
LEGACY_MESSAGE_COLUMNS = ("msg_id", "thread_key", "text", "sender", "timestamp_ms")
LEGACY_OPTIONAL = ("timestamp_sent_ms", "msg_type", "attachments", "shares", "generic_admin_message_extensible_data", "snippet")
FACEBOOK_PREFIX = "FACEBOOK:"
UID_FILE = re.compile(r"msys_database_(\d+)$")
SSUS_FILE = re.compile(r"/ssus\.(\d+)\.threads_db2$")
# threads_db2 reactions (ALEAPP FacebookMessenger.py): msg_id and reaction; the time column is spelled four
# ways across generations (only `reaction_timestamp` verified there), so the times are not read.
LEGACY_REACTIONS = Variant("message_reactions", {"message_reactions": ("msg_id", "reaction")})


def select(database: Database, table: str, required: tuple[str, ...], optional: tuple[str, ...], order: str,
           context: ParseContext) -> list[sqlite3.Row]:
    """Rows with the required columns and those optional ones the table has (names from constants).

    A WITHOUT ROWID table (not seen in samples, but possible in Meta's generated schemas) has no
    rowid: the rows are still read, with source_row_id None and a warning saying WAL-only marking
    cannot be done for them.
    """
    key = "rowid AS row_key"
    if not has_rowid(database, table):
        key = "NULL AS row_key"
        context.warn("no_rowid", f"{table} is a WITHOUT ROWID table: rows have no row id and cannot be marked WAL-only", table=table)
    columns = [key, *required, *(c for c in optional if database.has(table, c))]
    return database.query(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")


def has_rowid(database: Database, table: str) -> bool:
    row = database.first("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE", (table,))
    return row is None or "WITHOUT ROWID" not in " ".join(str(row[0] or "").upper().split())


def value(row: sqlite3.Row, column: str) -> Any:
    """A column that may be absent from this schema version: None then."""
    return row[column] if column in row.keys() else None


def text_id(item: object) -> str | None:
    """An id or time cell as text; a BLOB keeps its bytes (never its Python repr)."""
    return text_value(item)


def names_by_id(database: Database, context: ParseContext) -> dict[str, str | None]:
    """contacts.id -> contacts.name (MSYS / lightspeed); empty without a contacts table."""
    if not database.has("contacts", "id", "name"):
        return {}
    return {str(r["id"]): r["name"] for r in side_read(database.query("SELECT id, name FROM contacts"), "contacts", context)}


def group(rows: Iterable[sqlite3.Row], key: str) -> dict[str, list[sqlite3.Row]]:
    grouped: dict[str, list[sqlite3.Row]] = {}
    for row in rows:
        grouped.setdefault(str(row[key]), []).append(row)
    return grouped


def msys_reactions(database: Database, context: ParseContext) -> dict[str, list[sqlite3.Row]]:
    if not database.has("reactions", "message_id", "reaction"):
        return {}
    actor = "actor_id" if database.has("reactions", "actor_id") else "NULL AS actor_id"
    sql = f"SELECT message_id, reaction, {actor} FROM reactions ORDER BY message_id, actor_id, reaction"
    return group(side_read(database.query(sql), "reactions", context), "message_id")


def msys_participants(database: Database, context: ParseContext) -> dict[str, list[str]]:
    if not database.has("participants", "thread_key", "contact_id"):
        return {}
    members: dict[str, list[str]] = {}
    sql = "SELECT thread_key, contact_id FROM participants ORDER BY thread_key, contact_id"
    for row in side_read(database.query(sql), "participants", context):
        members.setdefault(str(row["thread_key"]), []).append(str(row["contact_id"]))
    return members


def msys_titles(database: Database, context: ParseContext) -> dict[str, str]:
    if not database.has("threads", "thread_key", "thread_name"):
        return {}
    rows = side_read(database.query("SELECT thread_key, thread_name FROM threads"), "threads", context)
    return {str(r["thread_key"]): r["thread_name"] for r in rows if r["thread_name"]}


def msys_message(row: sqlite3.Row, owner: str | None, names: dict[str, str | None], attachments: list[Attachment],
                 captions: list[str], reactions: list[sqlite3.Row], members: list[str], title: str | None,
                 context: ParseContext) -> Message:
    """One MSYS / lightspeed `messages` row (shared by the Android and iOS stores)."""
    row_id = row["row_key"]
    sender_id = text_id(row["sender_id"])
    details = {"message_id": str(row["message_id"])}
    for column in ("is_admin_message", "offline_threading_id", "reply_source_id"):
        if value(row, column) is not None:
            details[column] = str(value(row, column))
    if captions:
        details["attachment_text"] = " | ".join(captions)
    if reactions:
        details["reactions"] = "; ".join(f"{r['actor_id']}:{r['reaction']}" if r["actor_id"] is not None else str(r["reaction"]) for r in reactions)
    admin = value(row, "is_admin_message") == 1
    is_call = any("call" in c.lower() for c in captions)
    kind = "system" if admin else ("call" if is_call else ("media" if attachments else "text"))
    unsent = value(row, "is_unsent")
    forwarded = value(row, "is_forwarded")
    direction = "unknown" if owner is None or sender_id is None else ("outgoing" if sender_id == owner else "incoming")
    return Message(
        source_table="messages", source_row_id=row_id, conversation_id=text_id(row["thread_key"]), conversation_title=title,
        sender=Participant(sender_id, names.get(sender_id or "")) if sender_id else None,
        recipients=tuple(Participant(m, names.get(m)) for m in members if m != sender_id), direction=direction,
        sent=context.time(row["timestamp_ms"], unix_ms, table="messages", row_id=row_id, field="timestamp_ms"),
        sent_raw=text_id(row["timestamp_ms"]), body=text_value(row["text"]), kind="deleted" if unsent == 1 else kind,
        attachments=tuple(attachments), is_deleted=None if unsent is None else unsent == 1,
        is_forwarded=None if forwarded is None else forwarded == 1, account_id=owner, details=details,
    )


class MessengerAndroid(SqliteChatParser):
    name = "messenger_android"
    version = "2"
    app = "Facebook Messenger"
    platform = "Android"
    paths = ("*/com.facebook.orca/databases/msys_database_*", "*/com.facebook.katana/databases/msys_database_*",
             "*/com.facebook.orca/databases/threads_db2", "*/com.facebook.katana/databases/threads_db2",
             # Renamed `ssus.<account id>.threads_db2` from at least app 379.1.0.23.114 (ALEAPP PR #297, 2022).
             "*/com.facebook.orca/databases/ssus.*.threads_db2", "*/com.facebook.katana/databases/ssus.*.threads_db2")
    variants = (
        # `threads` is kept as a marker of each store (both eras have it); `contacts`/`thread_users` only name people.
        Variant("msys", {"messages": MSYS_MESSAGE_COLUMNS, "threads": ("thread_key",)}),
        Variant("threads_db2", {"messages": LEGACY_MESSAGE_COLUMNS, "threads": ("thread_key",)}),
    )

    def match(self, database: Database) -> Variant | None:
        # The iOS lightspeed store has the same message tables plus `_user_info`: messenger_ios reads it.
        if database.has("_user_info", "facebook_user_id"):
            return None
        return super().match(database)

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "msys":
            yield from self._msys(database, context)
        else:
            yield from self._legacy(database, context)

    def _msys(self, database: Database, context: ParseContext) -> Iterator[Message]:
        found = UID_FILE.search(context.artefact.path)
        owner = found.group(1) if found else None
        names = names_by_id(database, context)
        attachments, captions = self._msys_attachments(database, context)
        reactions = msys_reactions(database, context)
        members = msys_participants(database, context)
        titles = msys_titles(database, context)
        rows = select(database, "messages", MSYS_MESSAGE_COLUMNS, MSYS_OPTIONAL, "timestamp_ms, message_id", context)
        yield from context.each(rows, "messages", lambda r: msys_message(
            r, owner, names, attachments.get(str(r["message_id"]), []), captions.get(str(r["message_id"]), []),
            reactions.get(str(r["message_id"]), []), members.get(str(r["thread_key"]), []), titles.get(str(r["thread_key"])),
            context), "row_key")

    def _msys_attachments(self, database: Database, context: ParseContext) -> tuple[dict[str, list[Attachment]], dict[str, list[str]]]:
        files: dict[str, list[Attachment]] = {}
        captions: dict[str, list[str]] = {}
        if not database.has("attachments", "message_id"):
            return files, captions
        wanted = ("title_text", "subtitle_text", "filename", "playable_url_mime_type", "playable_url")
        columns = ["message_id", *(c if database.has("attachments", c) else f"NULL AS {c}" for c in wanted)]
        sql = f"SELECT {', '.join(columns)} FROM attachments ORDER BY message_id, filename, title_text"
        for row in side_read(database.query(sql), "attachments", context):
            key = str(row["message_id"])
            if row["filename"] is not None or row["playable_url"] is not None or row["playable_url_mime_type"] is not None:
                files.setdefault(key, []).append(Attachment(file_name=row["filename"], mime_type=row["playable_url_mime_type"],
                                                            local_path=row["playable_url"]))
            captions.setdefault(key, []).extend(t for t in (row["title_text"], row["subtitle_text"]) if t)
        return files, captions

    def _legacy(self, database: Database, context: ParseContext) -> Iterator[Message]:
        owner = _legacy_owner(context.artefact, context)
        names = self._legacy_names(database, context)
        titles = {}
        if database.has("threads", "thread_key", "name"):
            rows = side_read(database.query("SELECT thread_key, name FROM threads"), "threads", context)
            titles = {str(r["thread_key"]): r["name"] for r in rows if r["name"]}
        reactions: dict[str, list[str]] = {}
        if LEGACY_REACTIONS.matches(database):
            for r in side_table(database, LEGACY_REACTIONS, "message_reactions", context, "msg_id, rowid"):
                reactions.setdefault(str(r["msg_id"]), []).append(str(r["reaction"]))
        rows = select(database, "messages", LEGACY_MESSAGE_COLUMNS, LEGACY_OPTIONAL, "timestamp_ms, msg_id", context)
        yield from context.each(rows, "messages", lambda r: self._legacy_message(r, owner, names, titles, reactions, context),
                                "row_key")

    def _legacy_names(self, database: Database, context: ParseContext) -> dict[str, str | None]:
        if not database.has("thread_users", "user_key"):
            return {}
        wanted = ("name", "first_name", "last_name")
        columns = ["user_key", *(c if database.has("thread_users", c) else f"NULL AS {c}" for c in wanted)]
        names: dict[str, str | None] = {}
        for row in side_read(database.query(f"SELECT {', '.join(columns)} FROM thread_users"), "thread_users", context):
            full = " ".join(p for p in (row["first_name"], row["last_name"]) if p)
            names[_user_id(row["user_key"]) or ""] = row["name"] or full or None
        return names

    def _legacy_message(self, row: sqlite3.Row, owner: str | None, names: dict[str, str | None], titles: dict[str, str],
                        reactions: dict[str, list[str]], context: ParseContext) -> Message:
        row_id = row["row_key"]
        details = {"msg_id": str(row["msg_id"])}
        if reactions.get(str(row["msg_id"])):
            details["reactions"] = "; ".join(reactions[str(row["msg_id"])])
        sender_json = context.json_value(row["sender"], table="messages", row_id=row_id, field="sender")
        sender = None
        if isinstance(sender_json, dict):
            user_id = _user_id(sender_json.get("user_key"))
            if sender_json.get("user_key") is not None:
                details["sender_user_key"] = str(sender_json["user_key"])
            sender = Participant(user_id, names.get(user_id or "") or sender_json.get("name"))
        for column in ("msg_type", "snippet"):
            if value(row, column) is not None:
                details[column] = str(value(row, column))
        attachments = tuple(
            Attachment(file_name=a.get("filename"), mime_type=a.get("mime_type"), size=a.get("file_size") if isinstance(a.get("file_size"), int) else None)
            for a in _json_list(value(row, "attachments"), context, row_id, "attachments"))
        for index, share in enumerate(_json_list(value(row, "shares"), context, row_id, "shares")):
            for key in ("name", "description", "href"):
                if share.get(key) is not None:
                    details[f"share{index}_{key}"] = str(share[key])
        admin = context.json_value(value(row, "generic_admin_message_extensible_data"), table="messages", row_id=row_id,
                                   field="generic_admin_message_extensible_data")
        kind = "media" if attachments else "text"
        if isinstance(admin, dict):
            kind = "call" if "call_duration" in admin else "system"
            for key in ("call_duration", "video", "caller_id"):
                if key in admin:
                    details[key] = str(admin[key])
        # timestamp_ms is the server's time of the message (what the app lists); the device's own
        # send time, when recorded, is kept as text.
        if value(row, "timestamp_sent_ms"):
            details["timestamp_sent_ms"] = str(value(row, "timestamp_sent_ms"))
        sent = context.time(row["timestamp_ms"], unix_ms, table="messages", row_id=row_id, field="timestamp_ms")
        sender_id = sender.id if sender else None
        outgoing = owner is not None and sender_id == owner
        return Message(
            source_table="messages", source_row_id=row_id, conversation_id=text_id(row["thread_key"]),
            conversation_title=titles.get(str(row["thread_key"])), sender=sender,
            direction="unknown" if owner is None or sender_id is None else ("outgoing" if outgoing else "incoming"),
            sent=sent, sent_raw=text_id(row["timestamp_ms"]), body=text_value(row["text"]), kind=kind,
            attachments=attachments, account_id=owner, details=details,
        )


def _user_id(user_key: object) -> str | None:
    """'FACEBOOK:1234' -> '1234' (the id MSYS and the uid file use); other keys kept whole."""
    if user_key is None:
        return None
    key = str(user_key)
    return key[len(FACEBOOK_PREFIX):] if key.startswith(FACEBOOK_PREFIX) else key


def _json_list(raw: object, context: ParseContext, row_id: int, field: str) -> list[dict[str, Any]]:
    parsed = context.json_value(raw, table="messages", row_id=row_id, field=field)
    return [item for item in parsed if isinstance(item, dict)] if isinstance(parsed, list) else []


def _legacy_owner(artefact: Artefact, context: ParseContext) -> str | None:
    """The account id from `threads_db2-uid` beside the database, else from an `ssus.<id>.threads_db2` name."""
    uid_file = context.catalog.sibling(artefact, b"-uid")
    if uid_file is None:
        named = SSUS_FILE.search(artefact.path)
        return named.group(1) if named else None
    try:
        text = uid_file.read_head(64).decode("ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        context.warn("companion_unreadable", f"{uid_file.path}: {error}; directions unknown")
        return None
    return text if text.isdigit() else None


PARSER = MessengerAndroid()
