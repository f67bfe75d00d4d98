"""Skype 8+ on Android: `/data/data/com.skype.raider/databases/live:<id>.db` (tables `chatItem`, `person`, ...).

Schema facts (own words; sources read for facts only: Autopsy `InternalPythonModules/android/skype.py`,
written against Skype for Android 8.15.0.428 (2019-09-17); ALEAPP `scripts/artifacts/skype.py` (2021,
same tables and path `*/com.skype.raider/databases/live*`); bebinary4n6, "Skype on Android - Images in
Web Cache" (2020-01-28, https://bebinary4n6.blogspot.com/2020/01/skype-on-android-images-in-web-cache.html):
the main database is `databases/<username>.db`, holding messages, conversations and contacts):
- `chatItem`: one row per message or call. `conversation_link` is the conversation: the partner's Skype
  id for a 1:1 chat, the group id otherwise; `person_id` the writer; `is_sender_me` 1 when the owner
  wrote it, 0 otherwise (both tools read it so; neither names a source for the mapping); `time` Unix
  milliseconds; `content` the text (kept exactly); `device_gallery_path` the local path of a sent or
  received file; `message_type` 3 is a call (both tools); `duration` a call's length, read as
  milliseconds by Autopsy and as seconds by ALEAPP: its unit is **not confirmed**, so it is kept raw.
- `person`: `entry_id` (Skype id), `first_name`, `last_name`: the contacts.
- `user`: `entry_id`, `first_name`, `last_name`: the account owning the database.
- `particiapnt` (spelled so in the app's schema): `conversation_id`, `person_id`: group members.
Other `message_type` values are not documented: they are kept in `details` and read as text (media
when a file path is set). Newer builds that keep an s4l layout are read by skype_s4l; which Android
versions do so is not confirmed.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_read, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

CALL = 3
NAME_COLUMNS = ("entry_id", "first_name", "last_name")


class SkypeAndroid(SqliteChatParser):
    name = "skype_android"
    version = "1"
    app = "Skype 8+"
    platform = "Android"
    # Autopsy finds the store by "live:" anywhere in its name (bebinary4n6: `s4l-live:<id>` for Microsoft accounts).
    paths = ("*/com.skype.raider/databases/live*", "*/com.skype.raider/databases/s4l-live*")
    variants = (
        Variant("chatitem", {"chatItem": ("conversation_link", "time", "content", "is_sender_me")},
                {"chatItem": ("person_id", "message_type", "device_gallery_path", "duration"),
                 "person": NAME_COLUMNS, "user": NAME_COLUMNS, "particiapnt": ("conversation_id", "person_id")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        names = _names(database, variant, "person", context)
        owners = _names(database, variant, "user", context)
        owner_id = next(iter(owners), None)
        if len(owners) > 1:
            context.warn("ambiguous_owner", f"user lists several accounts {sorted(owners)}; the first is used as owner", table="user")
        owner = Participant(owner_id, owners[owner_id] or names.get(owner_id)) if owner_id else None
        names.update({k: v for k, v in owners.items() if v})
        members = _members(database, variant, context)
        sql = f"SELECT rowid AS row_id, {variant.columns(database, 'chatItem')} FROM chatItem ORDER BY rowid"
        yield from context.each(database.query(sql), "chatItem",
                                lambda row: _message(row, owner, names, members.get(str(row["conversation_link"]), ()), context), "row_id")


def _message(row: sqlite3.Row, owner: Participant | None, names: dict[str, str | None], members: tuple[str, ...],
             context: ParseContext) -> Message:
    row_id = row["row_id"]
    mine = row["is_sender_me"]
    direction = "outgoing" if mine == 1 else ("incoming" if mine == 0 else "unknown")
    conversation = _text(row["conversation_link"])
    writer = _text(row["person_id"])
    if direction == "outgoing":
        sender = owner
    else:
        writer = writer or (conversation if not members else None)
        sender = Participant(writer, names.get(writer)) if writer else None
    path = row["device_gallery_path"]
    kind_code = row["message_type"]
    details = {key: str(row[key]) for key in ("message_type", "duration", "is_sender_me", "person_id") if row[key] not in (None, "")}
    return Message(
        source_table="chatItem", source_row_id=row_id, conversation_id=conversation, sender=sender,
        recipients=_recipients(direction, conversation, members, sender, owner, names), direction=direction,
        sent=context.time(row["time"], unix_ms, table="chatItem", row_id=row_id, field="time"),
        sent_raw=_text(row["time"]), body=text_value(row["content"]),
        kind="call" if kind_code == CALL else ("media" if path else "text"),
        attachments=(Attachment(local_path=str(path)),) if path else (),
        account_id=owner.id if owner else None, details=details,
    )


def _recipients(direction: str, conversation: str | None, members: tuple[str, ...], sender: Participant | None,
                owner: Participant | None, names: dict[str, str | None]) -> tuple[Participant, ...]:
    """Group members other than the writer; in a 1:1 chat (no members listed) the other side."""
    if members:
        writer = sender.id if sender else None
        return tuple(Participant(m, names.get(m)) for m in members if m != writer)
    if direction == "outgoing" and conversation:
        return (Participant(conversation, names.get(conversation)),)
    if direction == "incoming" and owner:
        return (owner,)
    return ()


def _names(database: Database, variant: Variant, table: str, context: ParseContext) -> dict[str, str | None]:
    """Skype id -> "first last" (None when both are empty), in row order."""
    found: dict[str, str | None] = {}
    if not database.has(table, "entry_id"):
        return found
    for row in side_read(database.query(variant.select(database, table, "rowid")), table, context):
        if row["entry_id"] in (None, ""):
            continue
        joined = " ".join(str(p) for p in (row["first_name"], row["last_name"]) if p not in (None, ""))
        found.setdefault(str(row["entry_id"]), joined or None)
    return found


def _members(database: Database, variant: Variant, context: ParseContext) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    if not database.has("particiapnt", "conversation_id", "person_id"):
        return {}
    for row in side_read(database.query(variant.select(database, "particiapnt", "rowid")), "particiapnt", context):
        if row["conversation_id"] is not None and row["person_id"] is not None:
            found.setdefault(str(row["conversation_id"]), []).append(str(row["person_id"]))
    return {key: tuple(value) for key, value in found.items()}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


PARSER = SkypeAndroid()
