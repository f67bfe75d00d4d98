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

Eras and what is required (issue 10):
- Android `msg`: only `created_time`, `sender`, `content`, `conversation_id` are required; `type`,
  `deleted`, `read_status` are read when present. ALEAPP's module (updated 2026) names its test images
  com.zhiliaoapp.musically version codes 2021809050 (Android 10) to 2024109030 (Android 15), all read with
  that one column set. Names: newer builds also keep users in `db_im_contact`, table
  `IM_USER_BASE_INFO` (`UID`, `UNIQUE_ID`, `NICK_NAME`; ALEAPP prefers it over `SIMPLE_USER`): read from
  the companion `databases/db_im_contact`, first; then SIMPLE_USER (own file, else db_im_xx). ALEAPP also
  reads files named `db_im_contact-<suffix>`; what the suffix is was not documented, so those are
  **not read** (names stay uids).
- iOS `TIMMessageORM`: `localcreatedat`, `sender`, `content`, `belongingConversationIdentifier` required,
  `servercreatedat` optional. iLEAPP's sample images run from TikTok 28.4.1 (iOS 17.1) to 42.7.0 (iOS 18.7)
  with the same table. Contact tables in AwemeIM.db: `AwemeContacts` in 2018 (A. Brignoni, "Finding TikTok
  messages in iOS", https://abrignoni.blogspot.com/2018/11/finding-tiktok-messages-in-ios.html, and his
  DFIR-SQL-Query-Repo iOS/TIKTOK queries: `uid`, `customID`, `nickname`, `latestchattimestamp`, `url1`),
  `AwemeContactsV5` later; iLEAPP reads every `AwemeContacts%` table. Here names come from each table
  named `AwemeContacts` or `AwemeContactsV<n>` (a fixed pattern, checked against the schema), and an
  AwemeIM.db with only the 2018 `AwemeContacts` is the same contacts-only notice. Which app versions
  used which contact-table version is **not confirmed**.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Iterator

from manifests.records import Message, Participant
from parsers.chat._rows import side_table, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import iso_text, unix_ms, unix_seconds
from parsers.sqlite_store import Database

ANDROID = Variant("android_msg", {"msg": ("created_time", "sender", "content", "conversation_id")},
                  {"msg": ("type", "deleted", "read_status")})
IOS = Variant("ios_timmessage", {"TIMMessageORM": ("localcreatedat", "sender", "content", "belongingConversationIdentifier")},
              {"TIMMessageORM": ("servercreatedat",)})
# Name stores, read when present: SIMPLE_USER (db_im_xx, or beside msg in older builds) and
# IM_USER_BASE_INFO (db_im_contact, newer builds), both keyed by UID.
SIMPLE_USER = Variant("simple_user", {"SIMPLE_USER": ("UID",)}, {"SIMPLE_USER": ("UNIQUE_ID", "NICK_NAME")})
USER_BASE_INFO = Variant("im_user_base_info", {"IM_USER_BASE_INFO": ("UID",)}, {"IM_USER_BASE_INFO": ("UNIQUE_ID", "NICK_NAME")})
AWEME_OPTIONAL = ("customID", "nickname", "latestChatTimestamp")
# AwemeIM.db contact tables: `AwemeContacts` (2018 builds) and versioned `AwemeContactsV<n>` (V5 in 2023).
AWEME_TABLE = re.compile(r"^awemecontacts(?:v[0-9]{1,3})?$")
ACCOUNT_DB = re.compile(r"(\d+)_im\.db$")
CHATFILES_ACCOUNT = re.compile(r"/ChatFiles/([^/]+)/db\.sqlite$", re.IGNORECASE)


class TikTok(SqliteChatParser):
    name = "tiktok"
    version = "2"
    app = "TikTok"
    platform = "Android, iOS"
    paths = ("*/com.zhiliaoapp.musically/databases/*_im.db", "*/com.ss.android.ugc.trill/databases/*_im.db",
             "*/Library/Application Support/ChatFiles/*/db.sqlite",
             "*/AwemeIM.db")
    variants = (
        ANDROID,
        IOS,
        Variant("ios_contacts_only", {"AwemeContactsV5": ("uid", "latestChatTimestamp")}, {"AwemeContactsV5": AWEME_OPTIONAL}),
        Variant("ios_contacts_only_2018", {"AwemeContacts": ("uid", "latestChatTimestamp")}, {"AwemeContacts": AWEME_OPTIONAL}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant is ANDROID:
            yield from self._android(database, context)
        elif variant is IOS:
            yield from self._ios(database, context)
        else:
            self._contacts_only(database, variant, context)

    def _android(self, database: Database, context: ParseContext) -> Iterator[Message]:
        match = ACCOUNT_DB.search(context.artefact.path)
        owner = match.group(1) if match else None
        names: dict[str, Participant] = {}
        contacts = context.companion("*/databases/db_im_contact")
        if contacts is not None:
            _add_names(names, contacts, USER_BASE_INFO, context)
        _add_names(names, database, SIMPLE_USER, context)
        if not SIMPLE_USER.matches(database):
            companion = context.companion("*/databases/db_im_xx")
            if companion is not None:
                _add_names(names, companion, SIMPLE_USER, context)
        rows = database.query(f"SELECT rowid AS row_id, {ANDROID.columns(database, 'msg')} FROM msg ORDER BY created_time, rowid")
        yield from context.each(rows, "msg", lambda row: self._android_row(row, owner, names, context), "row_id")

    def _android_row(self, row: sqlite3.Row, owner: str | None, names: dict[str, Participant], context: ParseContext) -> Message:
        row_id = row["row_id"]
        details = {key: str(row[column]) for key, column in (("type", "type"), ("deleted_flag", "deleted"), ("read_status", "read_status"))
                   if row[column] is not None}
        body = _content(row["content"], details, context, "msg", row_id)
        sender_id = text_value(row["sender"])
        return Message(
            source_table="msg", source_row_id=row_id, conversation_id=text_value(row["conversation_id"]),
            sender=names.get(sender_id or "") or (Participant(sender_id) if sender_id else None),
            direction=_direction(sender_id, owner),
            sent=context.time(row["created_time"], unix_ms, table="msg", row_id=row_id, field="created_time"),
            sent_raw=text_value(row["created_time"]),
            body=body, kind="text" if body is not None else "unknown", account_id=owner, details=details,
        )

    def _ios(self, database: Database, context: ParseContext) -> Iterator[Message]:
        match = CHATFILES_ACCOUNT.search(context.artefact.path)
        owner = match.group(1) if match else None
        names: dict[str, Participant] = {}
        companion = context.companion("*/AwemeIM.db")
        if companion is not None:
            for table in sorted(t for t in companion.tables if AWEME_TABLE.match(t)):
                # The name matched the fixed pattern and is a table of this schema: only then is it put in SQL.
                _add_names(names, companion, Variant("aweme_contacts", {table: ("uid",)}, {table: ("customID", "nickname")}), context)
        rows = database.query(f"SELECT rowid AS row_id, {IOS.columns(database, 'TIMMessageORM')} FROM TIMMessageORM "
                              "ORDER BY localcreatedat, rowid")
        yield from context.each(rows, "TIMMessageORM", lambda row: self._ios_row(row, owner, names, context), "row_id")

    def _ios_row(self, row: sqlite3.Row, owner: str | None, names: dict[str, Participant], context: ParseContext) -> Message:
        row_id = row["row_id"]
        details = {"servercreatedat": str(row["servercreatedat"])} if row["servercreatedat"] is not None else {}
        body = _content(row["content"], details, context, "TIMMessageORM", row_id)
        sender_id = text_value(row["sender"])
        return Message(
            source_table="TIMMessageORM", source_row_id=row_id, conversation_id=text_value(row["belongingConversationIdentifier"]),
            sender=names.get(sender_id or "") or (Participant(sender_id) if sender_id else None),
            direction=_direction(sender_id, owner),
            sent=context.time(row["localcreatedat"], unix_seconds, table="TIMMessageORM", row_id=row_id, field="localcreatedat"),
            sent_raw=text_value(row["localcreatedat"]),
            body=body, kind="text" if body is not None else ("system" if "tips" in details else "unknown"),
            account_id=owner, details=details,
        )

    def _contacts_only(self, database: Database, variant: Variant, context: ParseContext) -> None:
        """AwemeIM.db without messages: one info notice with each contact's last chat time."""
        (table,) = variant.required
        chats = []
        contacts = 0
        for row in database.query(variant.select(database, table, "uid")):
            contacts += 1
            when = context.time(row["latestChatTimestamp"], unix_seconds, table=table, row_id=None, field="latestChatTimestamp")
            if when is not None:
                chats.append(f"{row['uid']} ({row['nickname'] or row['customID']}) last chat {iso_text(when)}")
        context.warn("contacts_only", f"{context.artefact.path}: TikTok contacts store with no messages "
                     f"({contacts} contacts; {'; '.join(chats) or 'no chat times'}); messages are kept in "
                     "ChatFiles/<uid>/db.sqlite", table=table, severity="info")


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


def _add_names(names: dict[str, Participant], database: Database, store: Variant, context: ParseContext) -> None:
    """uid -> Participant from one name table (when the store has it); the first store naming a uid wins."""
    if not store.matches(database):
        return
    (table,) = store.required
    for row in side_table(database, store, table, context):
        uid = text_value(row[0])
        if uid is not None and uid not in names:
            names[uid] = Participant(uid, text_value(row[2]) or text_value(row[1]))


def _direction(sender: str | None, owner: str | None) -> str:
    if sender is None or owner is None:
        return "unknown"
    return "outgoing" if sender == owner else "incoming"


PARSER = TikTok()
