"""Google Chat (Android and iOS): messages of the `dynamite.db` store.

Schema facts (no corpus sample; read for facts only, never copied):
- ALEAPP `scripts/artifacts/googleChat.py` (Josh Hickman and Alexis Brignoni, 2021, updated
  since; https://github.com/abrignoni/ALEAPP): Android paths
  `com.google.android.apps.dynamite/databases/dynamite.db`,
  `com.google.android.apps.dynamite/databases/user_accounts/<account>/dynamite.db` and, for Chat
  inside Gmail, `com.google.android.gm/databases/user_accounts/<account>/dynamite.db`. Messages are
  `topic_messages` rows: `create_time` (Unix microseconds), `text_body`, `creator_id` ->
  `users.user_id`, `group_id` -> `Groups.group_id`, `annotation` (protobuf: field 1.10 is an image
  attachment whose field 3 is the file name and 4 its MIME type; field 1.12.1 a Meet invitation
  whose field 2 is the link and 3 the meeting code). `Groups`: `group_id`, `name`,
  `creator_id`, `create_time`, `last_view_time`; `users`: `user_id`, `name`, `email`. The account
  folder is the owner's e-mail address on Android; ALEAPP finds the owner's id as the `users` row
  with that e-mail, and a message is outgoing when its `creator_id` is that id.
- iLEAPP `scripts/artifacts/googleChat.py` (Alexis Brignoni, 2023; https://github.com/abrignoni/iLEAPP):
  iOS path `Documents/user_accounts/<account id>/dynamite.db`, the same three tables; the folder
  name is the owner's user id (outgoing when `creator_id` equals it); `Groups.group_type` 1 = a
  group, 2 = a one-to-one chat; an `annotation` or `reactions` blob beginning with the bytes
  FE FF 00 is empty; `reactions` is protobuf whose field 1.1.1.1 is the emoji and 1.2.1 the
  reacting user.
- `message_id` and `topic_id` columns of `topic_messages` are named in the issue's lead but are
  not in either source above: they are read when present, not relied on (not confirmed).
App versions: the sources do not name the app versions they were tested with (not confirmed).

Only `topic_messages` (time, body, writer, conversation) is required; `Groups` and `users` give the
conversation's name and people's names and e-mails when present. Without an account folder in the
path (or, on Android, without a `users` row carrying the folder's e-mail) the owner is unknown and
every direction is "unknown" rather than guessed.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant, decode_text
from parsers.chat._rows import conversation_writers, row_key, side_index, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_us
from parsers.decode.protobuf import ProtobufError, follow
from parsers.sqlite_store import Database

TABLE = "topic_messages"
EMPTY_BLOB = b"\xfe\xff\x00"  # iLEAPP: an annotation/reactions value starting so holds nothing
GROUP_TYPES = {1: "group", 2: "direct"}
ACCOUNT = re.compile(r"/user_accounts/([^/]+)/dynamite\.db$", re.IGNORECASE)
USERS = Variant("users", {"users": ("user_id",)}, optional={"users": ("name", "email")})
GROUPS = Variant("groups", {"Groups": ("group_id",)}, optional={"Groups": ("name", "group_type")})
MEMBERS_SQL = "SELECT DISTINCT group_id, creator_id FROM topic_messages WHERE creator_id IS NOT NULL ORDER BY group_id, creator_id"


class GoogleChat(SqliteChatParser):
    name = "google_chat"
    version = "1"
    app = "Google Chat"
    platform = "Android/iOS"
    paths = ("*/com.google.android.apps.dynamite/databases/dynamite.db",
             "*/com.google.android.apps.dynamite/databases/user_accounts/*/dynamite.db",
             "*/com.google.android.gm/databases/user_accounts/*/dynamite.db",
             "*/Documents/user_accounts/*/dynamite.db")
    variants = (
        Variant("dynamite", {TABLE: ("create_time", "text_body", "creator_id", "group_id")},
                optional={TABLE: ("message_id", "topic_id", "annotation", "reactions"),
                          "Groups": ("name", "group_type"), "users": ("name", "email")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        users: dict[str, Participant] = {}
        emails: dict[str, str] = {}
        for user_id, row in side_index(database, USERS, "users", "user_id", context).items():
            if user_id is not None:
                users[str(user_id)] = Participant(str(user_id), text_value(row["name"]) or None)
                if isinstance(row["email"], str) and row["email"]:
                    emails[row["email"].lower()] = str(user_id)
        groups = {str(group_id): row for group_id, row in side_index(database, GROUPS, "Groups", "group_id", context).items()
                  if group_id is not None}
        owner_id = _owner_id(context.artefact.path, emails)
        members = conversation_writers(database, context, MEMBERS_SQL, TABLE)
        key = row_key(database, TABLE)
        sql = f"SELECT {key} AS row_id, {variant.columns(database, TABLE)} FROM {TABLE}" + (" ORDER BY rowid" if key == "rowid" else "")
        yield from context.each(database.query(sql), TABLE,
                                lambda row: self._message(row, users, groups, members, owner_id, context), "row_id")

    def _message(self, row: sqlite3.Row, users: dict[str, Participant], groups: dict[str, sqlite3.Row],
                 members: dict[str, list[str]], owner_id: str | None, context: ParseContext) -> Message:
        row_id = row["row_id"]
        creator = None if row["creator_id"] is None else str(row["creator_id"])
        group_id = None if row["group_id"] is None else str(row["group_id"])
        group = groups.get(group_id or "")
        details: dict[str, str] = {}
        for column in ("message_id", "topic_id"):
            if row[column] not in (None, ""):
                details[column] = str(row[column])
        if group is not None and group["group_type"] is not None:
            details["group_type"] = f"{group['group_type']} ({GROUP_TYPES.get(group['group_type'], 'unknown')})"
        attachment = self._attachment(row["annotation"], row_id, details, context)
        self._reaction(row["reactions"], row_id, details, context)
        if owner_id is None or creator is None:
            direction = "unknown"
        else:
            direction = "outgoing" if creator == owner_id else "incoming"
        owner = users.get(owner_id or "") or (Participant(owner_id) if owner_id else None)
        others = [users.get(m) or Participant(m) for m in members.get(group_id or "", []) if m != owner_id and m != creator]
        if direction == "outgoing":
            recipients = tuple(others)
        elif direction == "incoming":
            recipients = (owner,) if owner else ()
        else:
            recipients = ()
        body = text_value(row["text_body"])
        return Message(
            source_table=TABLE, source_row_id=row_id, conversation_id=group_id,
            conversation_title=(text_value(group["name"]) or None) if group is not None else None,
            sender=(users.get(creator) or Participant(creator)) if creator else None, recipients=recipients,
            direction=direction,
            sent=context.time(row["create_time"], unix_us, table=TABLE, row_id=row_id, field="create_time"),
            sent_raw=None if row["create_time"] is None else str(row["create_time"]),
            body=body, kind="media" if attachment else ("text" if body else "unknown"),
            attachments=(attachment,) if attachment else (), account_id=owner_id, details=details,
        )

    def _attachment(self, blob: object, row_id: int | None, details: dict[str, str], context: ParseContext) -> Attachment | None:
        """The image attachment an `annotation` blob names (ALEAPP's field 1.10), or None; a Meet link (1.12.1) into details."""
        if not isinstance(blob, bytes) or not blob or blob.startswith(EMPTY_BLOB):
            return None
        try:
            meeting = follow(blob, 1, 12, 1)
            if meeting is not None:
                for number, key in ((2, "meeting_url"), (3, "meeting_code")):
                    value = follow(meeting, number)
                    if value is not None:
                        details[key] = decode_text(value)
            image = follow(blob, 1, 10)
            if image is None:
                return None
            name, mime = follow(image, 3), follow(image, 4)
        except ProtobufError as error:
            context.warn("bad_blob", f"annotation is not readable protobuf: {error}", table=TABLE, row_id=row_id, field="annotation")
            return None
        return Attachment(file_name=None if name is None else decode_text(name), mime_type=None if mime is None else decode_text(mime))

    def _reaction(self, blob: object, row_id: int | None, details: dict[str, str], context: ParseContext) -> None:
        """The first reaction's emoji and reacting user (iLEAPP's fields 1.1.1.1 and 1.2.1) into details."""
        if not isinstance(blob, bytes) or not blob or blob.startswith(EMPTY_BLOB):
            return
        try:
            emoji, user = follow(blob, 1, 1, 1, 1), follow(blob, 1, 2, 1)
        except ProtobufError as error:
            context.warn("bad_blob", f"reactions is not readable protobuf: {error}", table=TABLE, row_id=row_id, field="reactions")
            return
        if emoji is not None:
            details["reaction"] = decode_text(emoji)
        if user is not None:
            details["reaction_user"] = decode_text(user)


def _owner_id(path: str, emails: dict[str, str]) -> str | None:
    """The owner's user id from the account folder: an e-mail (Android, via `users`) or the id itself (iOS)."""
    match = ACCOUNT.search(path.replace("\\", "/"))
    if match is None:
        return None
    account = match.group(1)
    if "@" in account:
        return emails.get(account.lower())
    return account


PARSER = GoogleChat()
