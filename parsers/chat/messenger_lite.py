"""Messenger Lite for Android (`com.facebook.mlite`): messages and calls of `databases/core.db`.

Schema facts (no corpus sample; one public source, read for facts only, never copied):
MonroCoury `Forensic_Tools` `facebook_scanner.py` (December 2017, "tested with lite versions";
https://github.com/MonroCoury/Forensic_Tools), which reads `/data/data/com.facebook.mlite/databases/`:
- `core.db` `messages`: `sender`, `thread_key`, `timestamp` (Unix milliseconds: the tool divides by
  1000), `snippet` (the message text), `is_unsent`, `attachment_filename`, `attachment_filesize`
  (bytes), `attachment_mime_type`, `media_playable_url`, `voice_call_duration_s`,
  `voice_call_start_time` (ms), `is_voice_call_answered`, `is_voice_call_incoming` (1 incoming,
  0 outgoing), `user_id`. The tool shows an empty `sender` as the database owner; thread keys
  start `GROUP:` for group chats, otherwise hold user ids separated by `:`.
- `core.db` `threads`: `thread_key`, `thread_name`; `contact`: `contact_user_id`, `name`,
  `profile_picture_url`, `is_blocked`, `last_seen_timestamp`, `is_friend`; `aggregated_calls`:
  `thread_name`, `updated_timestamp` (ms), `is_incoming` (1 incoming, 0 outgoing; the tool reads
  anything but 1 as outgoing, here NULL or another value is direction unknown),
  `is_answered`, `attempt_count`.
- `cross_account.db` `accounts`: `user_id`, `display_name`, `profile_pic`, `nonce` (the logged-in
  accounts).

Readings that are inferences, not confirmed by the app's own code or a second source:
- direction: an empty or NULL `sender` is outgoing (as the tool labels it), any other incoming;
- `messages.user_id` is the writer's Facebook id (the tool compares it with the ids of the thread
  key to tell whether the owner received the message) and `sender` the writer's name as shown;
- `is_unsent` is kept raw in details: the tool reads 1 as "not sent", which could mean pending or
  withdrawn, so it is not turned into a deleted flag.
App versions: the tool names none beyond "lite versions" of late 2017 (not confirmed for later
builds; the app was withdrawn by Meta in 2023, not confirmed here either).

Only `messages(thread_key, timestamp, snippet, sender)` is required; every other column and the
`threads`, `contact` and `aggregated_calls` tables are read when present.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import conversation_writers, row_key, side_read, side_whole, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

TABLE = "messages"
CALLS = "aggregated_calls"
MESSAGE_OPTIONAL = ("user_id", "is_unsent", "attachment_filename", "attachment_filesize", "attachment_mime_type",
                    "media_playable_url", "voice_call_duration_s", "voice_call_start_time", "is_voice_call_answered",
                    "is_voice_call_incoming")
CALL_COLUMNS = ("thread_name", "updated_timestamp", "is_incoming")
WRITERS_SQL = "SELECT DISTINCT thread_key, user_id FROM messages WHERE user_id IS NOT NULL ORDER BY thread_key, user_id"
ACCOUNTS_SQL = "SELECT user_id, display_name FROM accounts ORDER BY rowid LIMIT 2"
CALL_DIRECTIONS = {1: "incoming", 0: "outgoing"}  # aggregated_calls.is_incoming; NULL or any other value is unknown
FLAG_DETAILS = (("is_unsent", "is_unsent"), ("media_playable_url", "media_url"), ("voice_call_duration_s", "call_duration_s"),
                ("is_voice_call_answered", "call_answered"), ("is_voice_call_incoming", "call_incoming"))


class MessengerLite(SqliteChatParser):
    name = "messenger_lite"
    version = "1"
    app = "Messenger Lite"
    platform = "Android"
    paths = ("*/com.facebook.mlite/databases/core.db",)
    variants = (
        Variant("core_db", {TABLE: ("thread_key", "timestamp", "snippet", "sender")},
                optional={TABLE: MESSAGE_OPTIONAL, CALLS: ("is_answered", "attempt_count")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        names: dict[str, str] = {}
        if database.has("contact", "contact_user_id", "name"):
            for row in side_read(database.query("SELECT contact_user_id, name FROM contact"), "contact", context):
                if row["contact_user_id"] is not None and isinstance(row["name"], str) and row["name"]:
                    names[str(row["contact_user_id"])] = row["name"]
        titles: dict[str, str] = {}
        if database.has("threads", "thread_key", "thread_name"):
            for row in side_read(database.query("SELECT thread_key, thread_name FROM threads"), "threads", context):
                if row["thread_key"] is not None and isinstance(row["thread_name"], str) and row["thread_name"]:
                    titles[str(row["thread_key"])] = row["thread_name"]
        owner = _owner(context)
        writers = conversation_writers(database, context, WRITERS_SQL, TABLE) if database.has(TABLE, "user_id") else {}
        key = row_key(database, TABLE)
        sql = f"SELECT {key} AS row_id, {variant.columns(database, TABLE)} FROM {TABLE}" + (" ORDER BY rowid" if key == "rowid" else "")
        yield from context.each(database.query(sql), TABLE,
                                lambda row: self._message(row, names, titles, writers, owner, context), "row_id")
        if database.has(CALLS, *CALL_COLUMNS):
            key = row_key(database, CALLS)
            calls = (f"SELECT {key} AS row_id, {', '.join(CALL_COLUMNS)}, {variant.columns(database, CALLS)} FROM {CALLS}"
                     + (" ORDER BY rowid" if key == "rowid" else ""))
            yield from context.each(database.query(calls), CALLS, lambda row: self._call(row, owner, context), "row_id")

    def _message(self, row: sqlite3.Row, names: dict[str, str], titles: dict[str, str], writers: dict[str, list[str]],
                 owner: Participant | None, context: ParseContext) -> Message:
        row_id = row["row_id"]
        thread = text_value(row["thread_key"])
        writer_id = text_value(row["user_id"])
        shown = text_value(row["sender"])
        outgoing = not shown
        if outgoing:
            sender = owner or (Participant(writer_id, names.get(writer_id or "")) if writer_id else None)
        else:
            sender = Participant(writer_id, shown or names.get(writer_id or "")) if writer_id else Participant(None, shown)
        owner_id = owner.id if owner else None
        others = [Participant(w, names.get(w)) for w in writers.get(thread or "", [])
                  if w != owner_id and w != (sender.id if sender else None)]
        details: dict[str, str] = {}
        for column, key in FLAG_DETAILS:
            if row[column] is not None and row[column] != "":
                details[key] = str(row[column])
        if thread and thread.upper().startswith("GROUP:"):
            details["thread_type"] = "group"
        call_start = context.time(row["voice_call_start_time"], unix_ms, table=TABLE, row_id=row_id, field="voice_call_start_time")
        if call_start is not None:
            details["call_start_time"] = str(row["voice_call_start_time"])
        attachment = _attachment(row, details)
        body = text_value(row["snippet"])
        is_call = call_start is not None or row["voice_call_duration_s"] not in (None, 0, "")
        return Message(
            source_table=TABLE, source_row_id=row_id, conversation_id=thread, conversation_title=titles.get(thread or ""),
            sender=sender, recipients=tuple(others) if outgoing else ((owner,) if owner else ()),
            direction="outgoing" if outgoing else "incoming",
            sent=context.time(row["timestamp"], unix_ms, table=TABLE, row_id=row_id, field="timestamp"),
            sent_raw=text_value(row["timestamp"]), body=body,
            kind="call" if is_call else ("media" if attachment or row["media_playable_url"] else ("text" if body else "unknown")),
            attachments=(attachment,) if attachment else (), account_id=owner_id, details=details,
        )

    def _call(self, row: sqlite3.Row, owner: Participant | None, context: ParseContext) -> Message:
        row_id = row["row_id"]
        direction = CALL_DIRECTIONS.get(row["is_incoming"], "unknown")  # type: ignore[arg-type]
        incoming = direction == "incoming"
        details: dict[str, str] = {}
        for column in ("is_incoming", "is_answered", "attempt_count"):
            if row[column] is not None:
                details[column] = str(row[column])
        return Message(
            source_table=CALLS, source_row_id=row_id, conversation_title=text_value(row["thread_name"]),
            sender=owner if direction == "outgoing" else None, recipients=((owner,) if incoming and owner else ()),
            direction=direction,
            sent=context.time(row["updated_timestamp"], unix_ms, table=CALLS, row_id=row_id, field="updated_timestamp"),
            sent_raw=text_value(row["updated_timestamp"]), kind="call", account_id=owner.id if owner else None, details=details,
        )


def _attachment(row: sqlite3.Row, details: dict[str, str]) -> Attachment | None:
    name, mime, size = row["attachment_filename"], row["attachment_mime_type"], row["attachment_filesize"]
    if name in (None, "") and mime in (None, ""):
        return None
    exact = size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None
    if size is not None and exact is None:
        details["attachment_filesize"] = str(size)  # not a byte count: kept as stored
    return Attachment(file_name=text_value(name) or None, mime_type=text_value(mime) or None, size=exact)


def _owner(context: ParseContext) -> Participant | None:
    """The logged-in account from the companion cross_account.db, when it names exactly one."""
    accounts = context.companion("*/com.facebook.mlite/databases/cross_account.db")
    if accounts is None or not accounts.has("accounts", "user_id", "display_name"):
        return None
    rows, whole = side_whole(accounts.query(ACCOUNTS_SQL), "accounts", context)  # exactly one account: only a whole read shows it
    if not whole:
        return None
    if len(rows) != 1 or rows[0]["user_id"] is None:
        if len(rows) > 1:
            context.warn("owner_ambiguous", "cross_account.db names more than one account; the owner of core.db is left unknown",
                         table="accounts")
        return None
    name = rows[0]["display_name"]
    return Participant(str(rows[0]["user_id"]), name if isinstance(name, str) and name else None)


PARSER = MessengerLite()
