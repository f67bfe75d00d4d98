"""Instagram direct messages on iOS (`DirectSQLiteDatabase/<user pk>.db`).

Schema facts (read from the corpus sample plaso/test_data/ios/9368974384.db and plaso's
`parsers/sqlite_plugins/ios_instagram.py`, for facts only):
- `messages`: `row_id` (INTEGER PRIMARY KEY), `message_id`, `thread_id`, `class_name`
  ('IGDirectPublishedMessage'), `archive` = an NSKeyedArchiver binary plist. Inside it, the
  `metadata` object holds `senderPk`, `threadId`, `serverId`, `clientContext` and
  `serverTimestamp` (NSDate, seconds since 2001 UTC); the `content` object has a `codedSubtype`:
  SUBTYPE_TEXT (`string`), SUBTYPE_MEDIA (`media` -> permanent photo/video with CDN URLs),
  SUBTYPE_THREAD_ACTIVITY (`threadActivity`: call events with `voipTitle`, or `actionLogTitle`).
  `reactions` lists emoji reactions (`USER_BASED_REACTION_*` keys); `forwardMetadata` is set on
  forwarded messages.
- `threads`: `thread_id`, `viewer_id` (the account's own pk; also the file name), `metadata` =
  NSKeyedArchiver of IGDirectThread data: `users` (IGUser: `pk`, `userName`, `fullName`), `inviter`
  (often the owner), `threadName` for named groups.
- `inbox_metadata.snapshot_app_version`: the app version (e.g. '280.0.0.13.116') -> app_version.
Required: `messages(row_id, thread_id, archive)` (the archive holds sender, time and content) and
`threads(thread_id)`; `message_id`, `class_name`, `viewer_id` and `metadata` are optional, and without
`viewer_id` the owner is the pk the file is named after (docs/chat-schema-otherhist.md).
Media CDN links carry an `expiration_date` (NSDate); it is kept as `media_url_expires`, not as a
message time.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any, Iterator
from urllib.parse import urlsplit

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_first, side_table
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_seconds
from parsers.decode.nskeyed import Archived, ArchiveError, CocoaDate, unarchive
from parsers.sqlite_store import Database

THREADS = Variant("threads", {"threads": ("row_id", "thread_id")}, {"threads": ("viewer_id", "metadata")})
FILE_PK = re.compile(r"/DirectSQLiteDatabase/(\d+)\.db$", re.IGNORECASE)
KINDS = {"SUBTYPE_TEXT": "text", "SUBTYPE_MEDIA": "media", "SUBTYPE_THREAD_ACTIVITY": "system"}


class Thread:
    """What a thread's archived metadata tells: owner, members by pk, title."""

    def __init__(self, viewer_id: str | None) -> None:
        self.viewer_id = viewer_id
        self.users: dict[str, Participant] = {}
        self.title: str | None = None


class InstagramIos(SqliteChatParser):
    name = "instagram_ios"
    version = "2"
    app = "Instagram"
    platform = "iOS"
    paths = ("*/DirectSQLiteDatabase/*.db",)
    variants = (
        # The archive holds sender, time and content; `threads` (thread_id) marks the store.
        Variant("direct_archive", {"messages": ("row_id", "thread_id", "archive"), "threads": ("thread_id",)},
                {"messages": ("message_id", "class_name")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        found = FILE_PK.search(context.artefact.path)
        file_pk = found.group(1) if found else None
        threads = self._threads(database, context, file_pk)
        version = _app_version(database, context)
        rows = database.query(variant.select(database, "messages", order_by="row_id"))
        convert = lambda row: self._message(row, threads, Thread(file_pk), context)  # noqa: E731
        for message in context.each(rows, "messages", convert, "row_id"):
            message.app_version = version
            yield message

    def _threads(self, database: Database, context: ParseContext, file_pk: str | None) -> dict[str, Thread]:
        """Threads by id; a store without `viewer_id` takes the owner's pk from its file name (<pk>.db)."""
        threads: dict[str, Thread] = {}
        if not THREADS.matches(database):
            return threads
        for row in side_table(database, THREADS, "threads", context, "row_id"):
            thread = Thread(_text(row["viewer_id"]) or file_pk)
            threads[str(row["thread_id"])] = thread
            if row["metadata"] is None:
                continue
            try:
                metadata = unarchive(bytes(row["metadata"]))
            except ArchiveError as error:
                context.warn("bad_blob", f"thread metadata: {error}", table="threads", row_id=row["row_id"], field="metadata")
                continue
            if not isinstance(metadata, Archived):
                continue
            for user in [metadata.field("inviter"), *(metadata.field("users") or [])]:
                if isinstance(user, Archived) and user.field("pk") is not None:
                    thread.users[str(user.field("pk"))] = _participant(user)
            title = metadata.field("threadName")
            thread.title = title if isinstance(title, str) and title else None
        return threads

    def _message(self, row: sqlite3.Row, threads: dict[str, Thread], unknown: Thread, context: ParseContext) -> Message:
        """One archived message; `unknown` stands for a thread the threads table does not list."""
        row_id = row["row_id"]
        thread_id = _text(row["thread_id"])
        thread = threads.get(thread_id or "", unknown)
        details = {column: str(row[column]) for column in ("message_id", "class_name") if row[column] is not None}
        try:
            archived = unarchive(bytes(row["archive"]))
            if not isinstance(archived, Archived):
                raise ArchiveError(f"root is {type(archived).__name__}, not an archived object")
        except ArchiveError as error:
            context.warn("bad_blob", f"message archive: {error}", table="messages", row_id=row_id, field="archive")
            return Message(source_table="messages", source_row_id=row_id, conversation_id=thread_id,
                           conversation_title=thread.title, kind="unknown", account_id=thread.viewer_id, details=details)
        metadata = _object(archived.field("metadata"), "archive.metadata", row_id, context)
        content = _object(archived.field("content"), "archive.content", row_id, context)
        sender_pk = _text(metadata.field("senderPk"))
        stamp = metadata.field("serverTimestamp")
        sent_raw = repr(stamp.seconds) if isinstance(stamp, CocoaDate) else None
        sent = context.time(stamp.seconds if isinstance(stamp, CocoaDate) else None, cocoa_seconds,
                            table="messages", row_id=row_id, field="archive.metadata.serverTimestamp")
        subtype = str(content.field("codedSubtype"))
        details["subtype"] = subtype
        for name in ("serverId", "clientContext"):
            if metadata.field(name) and str(metadata.field(name)) != details.get("message_id"):
                details[name] = str(metadata.field(name))
        body, kind, attachments = _content(content, subtype, details, row_id, context)
        reactions = _reactions(archived.field("reactions"))
        if reactions:
            details["reactions"] = reactions
        outgoing = sender_pk is not None and sender_pk == thread.viewer_id
        sender = thread.users.get(sender_pk, Participant(sender_pk)) if sender_pk else None
        recipients = tuple(p for pk, p in sorted(thread.users.items()) if pk != sender_pk)
        return Message(
            source_table="messages", source_row_id=row_id, conversation_id=thread_id, conversation_title=thread.title,
            sender=sender, recipients=recipients,
            direction="unknown" if sender_pk is None or thread.viewer_id is None else ("outgoing" if outgoing else "incoming"),
            sent=sent, sent_raw=sent_raw, body=body, kind=kind, attachments=attachments,
            is_forwarded=archived.field("forwardMetadata") is not None if "IGDirectForwardMetadata*forwardMetadata" in archived else None,
            account_id=thread.viewer_id, details=details,
        )


def _object(value: Any, field: str, row_id: int, context: ParseContext) -> Archived:
    """An archived object the message needs; absent is empty, and anything else (a string where an
    object belongs: type confusion in the archive) is a `bad_value` warning and read as empty."""
    if isinstance(value, Archived):
        return value
    if value is not None:
        context.warn("bad_value", f"{field} is {type(value).__name__}, not an archived object; read as empty",
                     table="messages", row_id=row_id, field=field)
    return Archived()


def _content(content: Archived, subtype: str, details: dict[str, str], row_id: int,
             context: ParseContext) -> tuple[str | None, str, tuple[Attachment, ...]]:
    """Body, kind and attachments of one archived message content."""
    if subtype == "SUBTYPE_TEXT":
        text = content.field("string")
        return (text if isinstance(text, str) else None), "text", ()
    if subtype == "SUBTYPE_THREAD_ACTIVITY":
        activity = _object(content.field("threadActivity"), "archive.content.threadActivity", row_id, context)
        activity_type = str(activity.field("codedSubtype"))
        details["activity"] = activity_type
        if activity.field("videoCallId"):
            details["call_id"] = str(activity.field("videoCallId"))
        title = activity.field("voipTitle") or activity.field("actionLogTitle")
        return (title if isinstance(title, str) else None), ("call" if activity_type == "SUBTYPE_VOIP" else "system"), ()
    if subtype == "SUBTYPE_MEDIA":
        url = _largest_url(content)
        if url is None:
            return None, "media", ()
        details["media_url"] = url
        expires = [i["expiration_date"].seconds for i in _walk(content.field("media"))
                   if isinstance(i, dict) and isinstance(i.get("expiration_date"), CocoaDate)]
        if expires:
            details["media_url_expires"] = repr(max(expires))  # Cocoa seconds: when the CDN link stops working
        name = urlsplit(url).path.rsplit("/", 1)[-1] or None
        return None, "media", (Attachment(file_name=name),)
    return None, KINDS.get(subtype, "unknown"), ()


def _largest_url(content: Archived) -> str | None:
    """The widest image/video version's URL anywhere under the media object."""
    best: tuple[float, str] | None = None
    for item in _walk(content.field("media")):
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            width = item.get("width") if isinstance(item.get("width"), (int, float)) else 0
            if best is None or width > best[0]:
                best = (width, item["url"])
    return best[1] if best else None


def _walk(value: Any, seen: set[int] | None = None) -> Iterator[Any]:
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item, seen)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, seen)


def _app_version(database: Database, context: ParseContext) -> str | None:
    """The app version that wrote the last inbox snapshot (`inbox_metadata.snapshot_app_version`)."""
    if not database.has("inbox_metadata", "snapshot_app_version", "row_id"):
        return None
    sql = "SELECT snapshot_app_version FROM inbox_metadata ORDER BY row_id DESC LIMIT 1"
    row = side_first(database.query(sql), "inbox_metadata", context)
    return str(row[0]) if row is not None and row[0] is not None else None


def _reactions(reactions: Any) -> str:
    """'user pk:emoji' per reaction, in stored order."""
    found = []
    for reaction in reactions or []:
        if isinstance(reaction, dict):
            found.append(f"{reaction.get('USER_BASED_REACTION_USER_ID')}:{reaction.get('USER_BASED_REACTION_EMOJI_UNICODE')}")
    return "; ".join(found)


def _participant(user: Archived) -> Participant:
    full_name = user.field("fullName")
    user_name = user.field("userName")
    return Participant(str(user.field("pk")), full_name or user_name or None)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


PARSER = InstagramIos()
