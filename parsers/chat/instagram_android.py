"""Instagram direct messages on Android (`com.instagram.android/databases/direct.db`).

Schema facts (own words; sources: karlicoss/HPI `src/my/instagram/android.py` and a public analyser
note on direct.db `messages` columns; read for facts only):
- `messages`: `_id` (row key), `user_id` (the account the database belongs to), `server_item_id`,
  `client_item_id`, `thread_id`, `timestamp` (Unix microseconds), `message_type`, `text` (the text
  the app shows), `message` = JSON of the whole item: `item_id`, `item_type` ('text', 'media',
  'media_share', 'reel_share', 'action_log', 'link', 'like', 'voice_media', ...), `user_id` (the
  SENDER), `timestamp` (µs), `text`, `thread_key.thread_id`, `reel_share.text`,
  `action_log.description`, `link.text`, `like`, `edit_count` and `edit_history` [{body,
  timestamp ms}], `reactions` ({emojis: [{sender_id, emoji}], likes: [{sender_id}]}).
- `threads`: `thread_id`, `thread_info` = JSON: `thread_id`, `thread_v2_id`, `thread_title`,
  `inviter` and `recipients` [{`pk` / `pk_id` / `id`, `username`, `full_name`}].
- `session`: `user_id` of the logged-in account (present on ALEAPP's Android 10..17 test images, 2026).
Required: `messages(_id, thread_id, timestamp, message)` (the JSON holds sender and text) and a
`threads` table (the store's marker); `thread_info` and every other column are optional
(docs/chat-schema-otherhist.md).
"""

from __future__ import annotations

import sqlite3
from typing import Any, Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_read
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_us
from parsers.sqlite_store import Database

REQUIRED = ("_id", "thread_id", "timestamp", "message")
OPTIONAL = ("user_id", "text", "server_item_id", "client_item_id", "message_type")
KINDS = {"text": "text", "link": "text", "media": "media", "media_share": "media", "voice_media": "media",
         "raven_media": "media", "animated_media": "media", "clip": "media", "reel_share": "media", "story_share": "media",
         "like": "reaction", "action_log": "system", "video_call_event": "call", "location": "location", "profile": "contact"}


class InstagramAndroid(SqliteChatParser):
    name = "instagram_android"
    version = "2"
    app = "Instagram"
    platform = "Android"
    paths = ("*/com.instagram.android/databases/direct.db",)
    # `threads` (thread_id) marks the store; thread_info only adds titles and members.
    variants = (Variant("direct", {"messages": REQUIRED, "threads": ("thread_id",)}, {"messages": OPTIONAL}),)

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        threads = self._threads(database, context)
        session_owner = None
        if database.has("session", "user_id"):
            owners = [str(r[0]) for r in side_read(database.query("SELECT user_id FROM session"), "session", context) if r[0] is not None]
            session_owner = owners[0] if owners else None
        rows = database.query(variant.select(database, "messages", order_by="timestamp, _id"))
        yield from context.each(rows, "messages", lambda r: self._message(r, threads, session_owner, context), "_id")

    def _threads(self, database: Database, context: ParseContext) -> dict[str, tuple[str | None, dict[str, Participant], str | None]]:
        """thread_id -> (title, members by id, thread_v2_id)."""
        threads: dict[str, tuple[str | None, dict[str, Participant], str | None]] = {}
        if not database.has("threads", "thread_info"):
            return threads
        sql = "SELECT rowid AS row_key, thread_id, thread_info FROM threads ORDER BY rowid"
        for row in side_read(database.query(sql), "threads", context):
            info = context.json_value(row["thread_info"], table="threads", row_id=row["row_key"], field="thread_info")
            if not isinstance(info, dict):
                continue
            members: dict[str, Participant] = {}
            for user in [info.get("inviter"), *(info.get("recipients") or [])]:
                if isinstance(user, dict) and (uid := _user_id(user)) is not None:
                    members[uid] = Participant(uid, user.get("full_name") or user.get("username") or None)
            title = info.get("thread_title") if isinstance(info.get("thread_title"), str) else None
            threads[str(row["thread_id"])] = (title, members, _text(info.get("thread_v2_id")))
        return threads

    def _message(self, row: sqlite3.Row, threads: dict, session_owner: str | None, context: ParseContext) -> Message:
        row_id = row["_id"]
        keys = row.keys()
        owner = _text(row["user_id"]) if "user_id" in keys and row["user_id"] is not None else session_owner
        item = context.json_value(row["message"], table="messages", row_id=row_id, field="message")
        item = item if isinstance(item, dict) else {}
        thread_id = _text(row["thread_id"])
        title, members, thread_v2 = threads.get(thread_id or "", (None, {}, None))
        sender_id = _text(item.get("user_id"))
        item_type = item.get("item_type") or (row["message_type"] if "message_type" in keys else None)
        details = {k: str(row[k]) for k in ("server_item_id", "client_item_id") if k in keys and row[k] is not None}
        if item.get("item_id") is not None:
            details["item_id"] = str(item["item_id"])
        if item_type is not None:
            details["item_type"] = str(item_type)
        if thread_v2:
            details["thread_v2_id"] = thread_v2
        stored_text = row["text"] if "text" in keys else None
        body = stored_text if stored_text is not None else _item_text(item)
        edits = item.get("edit_history") if isinstance(item.get("edit_history"), list) else []
        if edits:
            details["edit_history"] = " | ".join(str(e.get("body")) for e in edits if isinstance(e, dict))
        reactions = _reactions(item.get("reactions"))
        if reactions:
            details["reactions"] = reactions
        edit_count = item.get("edit_count")
        direction = "unknown" if owner is None or sender_id is None else ("outgoing" if sender_id == owner else "incoming")
        return Message(
            source_table="messages", source_row_id=row_id, conversation_id=thread_id, conversation_title=title,
            sender=members.get(sender_id, Participant(sender_id)) if sender_id else None,
            recipients=tuple(p for uid, p in members.items() if uid != sender_id), direction=direction,
            sent=context.time(row["timestamp"], unix_us, table="messages", row_id=row_id, field="timestamp"),
            sent_raw=_text(row["timestamp"]), body=body, kind=KINDS.get(str(item_type), "unknown" if item_type else "text"),
            attachments=_attachments(item), is_edited=None if edit_count is None else int(edit_count) > 0,
            account_id=owner, details=details,
        )


def _item_text(item: dict[str, Any]) -> str | None:
    """The text of an item whose `text` column is empty, by item type."""
    for path in (("text",), ("reel_share", "text"), ("action_log", "description"), ("link", "text"), ("like",)):
        value: Any = item
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            return value
    return None


def _attachments(item: dict[str, Any]) -> tuple[Attachment, ...]:
    """The best image/video URL of a media item (the app caches files under its own names)."""
    media = item.get("media")
    if not isinstance(media, dict) and isinstance(item.get("visual_media"), dict):
        media = item["visual_media"].get("media")  # disappearing ("raven") photos and videos
    if not isinstance(media, dict):
        return ()
    for group_key, list_key in (("video_versions", None), ("image_versions2", "candidates")):
        versions = media.get(group_key)
        if list_key and isinstance(versions, dict):
            versions = versions.get(list_key)
        if isinstance(versions, list) and versions and isinstance(versions[0], dict) and versions[0].get("url"):
            mime = "video/mp4" if group_key == "video_versions" else None
            return (Attachment(mime_type=mime, local_path=str(versions[0]["url"])),)
    return ()


def _reactions(reactions: Any) -> str:
    if not isinstance(reactions, dict):
        return ""
    found = [f"{e.get('sender_id')}:{e.get('emoji')}" for e in reactions.get("emojis") or [] if isinstance(e, dict)]
    found += [f"{e.get('sender_id')}:like" for e in reactions.get("likes") or [] if isinstance(e, dict)]
    return "; ".join(found)


def _user_id(user: dict[str, Any]) -> str | None:
    for key in ("pk", "pk_id", "id"):
        if user.get(key) is not None:
            return str(user[key])
    return None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


PARSER = InstagramAndroid()
