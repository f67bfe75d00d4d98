"""TikTok / Douyin (Aweme) direct messages: Android `<uid>_im.db`, iOS ChatFiles db.sqlite, iOS AwemeIM.db.

Schema facts (read for facts only):
- Android, ALEAPP `scripts/artifacts/tikTok.py`: one `<account uid>_im.db` per logged-in account
  with table `msg`: `created_time` (Unix ms), `sender` (uid), `content` (JSON: `text`,
  `display_name` and `url.url_list` of a shared link/GIF), `type`, `deleted`, `read_status`
  (0 not read, 1 read), `conversation_id`. Names: `SIMPLE_USER` (`UID`, `UNIQUE_ID`,
  `NICK_NAME`) in `db_im_xx` (older builds keep `msg` in db_im_xx beside SIMPLE_USER itself).
  The account's own messages are those whose sender is the uid in the file name. db_im_xx is
  not in `paths`: in current builds it holds names only (no variant, and no warning, is right);
  an older db_im_xx with `msg` is still recognised by its schema.
- iOS, iLEAPP `scripts/artifacts/tikTok.py`: messages in `Library/Application Support/ChatFiles/
  <account uid>/db.sqlite`, table `TIMMessageORM`: `localcreatedat` and `servercreatedat`
  (iLEAPP converts both as Unix seconds), `sender`, `content` (JSON as on Android, plus `tips`
  for app notices), `belongingConversationIdentifier`; names from `AwemeContactsV5` (`uid`,
  `customID`, `nickname`) in `AwemeIM.db` of the same app container.
- AwemeIM.db alone (plaso `test_data/AwemeIM.db`): `AwemeContactsV5` and `AwemeShareRecords`
  only; no message bodies. Decision: it yields no messages. `latestChatTimestamp` (Unix seconds,
  checked: 1684594082 = 2023-05-20, a millisecond reading would fall in 1970) says that a chat
  with that contact happened, not what was said, by whom or in which direction, so it is not
  made into a message; it is reported as one `info` notice (`contacts_only`) listing each
  contact's last chat time, so the store is visibly recognised and the fact is not lost.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Iterator

from manifests.records import Message, Participant
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import iso_text, unix_ms, unix_seconds
from parsers.sqlite_store import Database

ANDROID_SQL = ("SELECT rowid AS row_id, created_time, sender, content, type, deleted, read_status, conversation_id "
               "FROM msg ORDER BY created_time, rowid")
SIMPLE_USER_SQL = "SELECT UID, UNIQUE_ID, NICK_NAME FROM SIMPLE_USER"
IOS_SQL = ("SELECT rowid AS row_id, localcreatedat, servercreatedat, sender, content, belongingConversationIdentifier "
           "FROM TIMMessageORM ORDER BY localcreatedat, rowid")
AWEME_SQL = "SELECT uid, customID, nickname, latestChatTimestamp FROM AwemeContactsV5 ORDER BY uid"
ACCOUNT_DB = re.compile(r"(\d+)_im\.db$")
CHATFILES_ACCOUNT = re.compile(r"/ChatFiles/([^/]+)/db\.sqlite$", re.IGNORECASE)


class TikTok(SqliteChatParser):
    name = "tiktok"
    version = "1"
    app = "TikTok"
    platform = "Android, iOS"
    paths = ("*/com.zhiliaoapp.musically/databases/*_im.db", "*/com.ss.android.ugc.trill/databases/*_im.db",
             "*/Library/Application Support/ChatFiles/*/db.sqlite",
             "*/AwemeIM.db")
    variants = (
        Variant("android_msg", {"msg": ("created_time", "sender", "content", "type", "deleted", "read_status", "conversation_id")}),
        Variant("ios_timmessage", {"TIMMessageORM": ("localcreatedat", "servercreatedat", "sender", "content",
                                                     "belongingConversationIdentifier")}),
        Variant("ios_contacts_only", {"AwemeContactsV5": ("uid", "customID", "nickname", "latestChatTimestamp")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "android_msg":
            yield from self._android(database, context)
        elif variant.name == "ios_timmessage":
            yield from self._ios(database, context)
        else:
            self._contacts_only(database, context)

    def _android(self, database: Database, context: ParseContext) -> Iterator[Message]:
        match = ACCOUNT_DB.search(context.artefact.path)
        owner = match.group(1) if match else None
        names = _simple_users(database) if database.has("SIMPLE_USER", "UID", "UNIQUE_ID", "NICK_NAME") else {}
        if not names:
            companion = context.companion("*/databases/db_im_xx")
            if companion is not None and companion.has("SIMPLE_USER", "UID", "UNIQUE_ID", "NICK_NAME"):
                names = _simple_users(companion)
        rows = database.query(ANDROID_SQL)
        yield from context.each(rows, "msg", lambda row: self._android_row(row, owner, names, context), "row_id")

    def _android_row(self, row: sqlite3.Row, owner: str | None, names: dict[str, Participant], context: ParseContext) -> Message:
        row_id = row["row_id"]
        details = {"type": str(row["type"]), "deleted_flag": str(row["deleted"]), "read_status": str(row["read_status"])}
        body = _content(row["content"], details, context, "msg", row_id)
        sender_id = None if row["sender"] is None else str(row["sender"])
        return Message(
            source_table="msg", source_row_id=row_id, conversation_id=None if row["conversation_id"] is None else str(row["conversation_id"]),
            sender=names.get(sender_id or "") or (Participant(sender_id) if sender_id else None),
            direction=_direction(sender_id, owner),
            sent=context.time(row["created_time"], unix_ms, table="msg", row_id=row_id, field="created_time"),
            sent_raw=None if row["created_time"] is None else str(row["created_time"]),
            body=body, kind="text" if body is not None else "unknown", account_id=owner, details=details,
        )

    def _ios(self, database: Database, context: ParseContext) -> Iterator[Message]:
        match = CHATFILES_ACCOUNT.search(context.artefact.path)
        owner = match.group(1) if match else None
        names: dict[str, Participant] = {}
        companion = context.companion("*/AwemeIM.db")
        if companion is not None and companion.has("AwemeContactsV5", "uid", "customID", "nickname"):
            names = {str(r["uid"]): Participant(str(r["uid"]), r["nickname"] or r["customID"]) for r in companion.query(AWEME_SQL)}
        rows = database.query(IOS_SQL)
        yield from context.each(rows, "TIMMessageORM", lambda row: self._ios_row(row, owner, names, context), "row_id")

    def _ios_row(self, row: sqlite3.Row, owner: str | None, names: dict[str, Participant], context: ParseContext) -> Message:
        row_id = row["row_id"]
        details = {"servercreatedat": str(row["servercreatedat"])}
        body = _content(row["content"], details, context, "TIMMessageORM", row_id)
        sender_id = None if row["sender"] is None else str(row["sender"])
        conversation = row["belongingConversationIdentifier"]
        return Message(
            source_table="TIMMessageORM", source_row_id=row_id, conversation_id=None if conversation is None else str(conversation),
            sender=names.get(sender_id or "") or (Participant(sender_id) if sender_id else None),
            direction=_direction(sender_id, owner),
            sent=context.time(row["localcreatedat"], unix_seconds, table="TIMMessageORM", row_id=row_id, field="localcreatedat"),
            sent_raw=None if row["localcreatedat"] is None else str(row["localcreatedat"]),
            body=body, kind="text" if body is not None else ("system" if "tips" in details else "unknown"),
            account_id=owner, details=details,
        )

    def _contacts_only(self, database: Database, context: ParseContext) -> None:
        """AwemeIM.db without messages: one info notice with each contact's last chat time."""
        chats = []
        contacts = 0
        for row in database.query(AWEME_SQL):
            contacts += 1
            when = context.time(row["latestChatTimestamp"], unix_seconds, table="AwemeContactsV5", row_id=None,
                                field="latestChatTimestamp")
            if when is not None:
                chats.append(f"{row['uid']} ({row['nickname'] or row['customID']}) last chat {iso_text(when)}")
        context.warn("contacts_only", f"{context.artefact.path}: TikTok contacts store with no messages "
                     f"({contacts} contacts; {'; '.join(chats) or 'no chat times'}); messages are kept in "
                     "ChatFiles/<uid>/db.sqlite", table="AwemeContactsV5", severity="info")


def _content(value: object, details: dict[str, str], context: ParseContext, table: str, row_id: int) -> str | None:
    """The message text inside the JSON content; the other fields go to details, bad JSON to a warning."""
    if value is None:
        return None
    try:
        document = json.loads(value if isinstance(value, str) else bytes(value).decode("utf-8"))  # type: ignore[arg-type]
    except (ValueError, TypeError) as error:
        context.warn("bad_json", f"content is not JSON: {error}", table=table, row_id=row_id, field="content")
        details["content"] = str(value)
        return None
    if not isinstance(document, dict):
        details["content"] = str(value)
        return None
    for key in ("display_name", "tips"):
        if isinstance(document.get(key), str):
            details[key] = document[key]
    url = document.get("url")
    if isinstance(url, dict) and isinstance(url.get("url_list"), list) and url["url_list"]:
        details["url"] = str(url["url_list"][0])
    text = document.get("text")
    if not isinstance(text, str):
        details.setdefault("content", str(value))
        return None
    return text


def _simple_users(database: Database) -> dict[str, Participant]:
    return {str(r["UID"]): Participant(str(r["UID"]), r["NICK_NAME"] or r["UNIQUE_ID"])
            for r in database.query(SIMPLE_USER_SQL) if r["UID"] is not None}


def _direction(sender: str | None, owner: str | None) -> str:
    if sender is None or owner is None:
        return "unknown"
    return "outgoing" if sender == owner else "incoming"


PARSER = TikTok()
