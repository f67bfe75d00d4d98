"""Telegram for Android: `cache4.db` (files/cache4.db, or files/accountN/cache4.db per account).

Schema facts (DrKLO/Telegram `MessagesStorage.java`, read for facts only; IPED's Telegram parser):
- `messages_v2` (current): `mid`, `uid` (dialog id: > 0 a user, < 0 minus a chat/channel id; a
  secret chat is, in releases since 64-bit ids (2021), `0x4000000000000000 | (chat id & 0xffffffff)`
  (bit 62 set, DialogObject.makeEncryptedDialogId) and before that `chat id << 32` (low 32 bits
  zero); user ids may exceed 2^32 in the current scheme), `read_state`, `send_state`,
  `date` (Unix seconds), `data` (the TL-serialised Message object), `out` (1 sent by the owner),
  `ttl`, `media`; primary key (mid, uid), so rows are addressed by SQLite rowid.
- `messages` (older releases): the same columns with `mid INTEGER PRIMARY KEY`.
- `users` (`uid`, `name`, `status`, `data`) and `chats` (`uid`, `name`, `data`): `name` is the
  app's search form of the name (lower-cased "first last", then ";;;" and the username); it is the
  only name stored as plain text, so it is used as given (before ";;;") for senders and titles.
- `dialogs` (`did`, `date`, ...): one row per conversation.
- `enc_chats` (`uid` = the encrypted chat id, `user` = the other party's user id, `name`, ...; in
  the 2013 CREATE TABLE already): a secret chat's title is that user's name.

TL facts: the `data` blob is a Message object in the layout of the API layer of the app version that
wrote it; `parsers/chat/_telegram_tl.py` lists every layer's layout it decodes and its sources.
A constructor it does not know (or a reply header carrying quote entities or media) is reported as
an `unsupported_tl` warning and the row is kept with the columns' values (id, dialog, date,
direction) and no text.

Schema history (MessagesStorage.java versions in public forks; Boiko, "cache4.db file of Telegram
for Android", dflab.blogspot.com 2019): `messages(mid INTEGER PRIMARY KEY, uid, read_state,
send_state, date, data, out, ttl)` from the first releases (2013); `media`, `replydata`, `imp`,
`mention`, `forwards`, `replies_data`, `thread_reply_id` were added over time; `messages_v2`
with PRIMARY KEY(mid, uid) replaced it later (the app version is not confirmed). Only `mid`,
`uid`, `date`, `data` and `out` are required; `read_state`, `send_state`, `ttl` and the `users` /
`chats` / `dialogs` tables are read when present.
"""

from __future__ import annotations

import sqlite3
from typing import Iterable, Iterator

from manifests.records import Message, Participant
from parsers.chat._rows import side_read
from parsers.chat._telegram_tl import PHONE_CALL_ACTION, TLError, TLMessage, decode_message
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_seconds
from parsers.sqlite_store import Database

REQUIRED = ("mid", "uid", "date", "data", "out")
OPTIONAL = ("read_state", "send_state", "ttl")
NAMES_SQL = {"users": "SELECT uid, name FROM users", "chats": "SELECT uid, name FROM chats"}
SECRET_SQL = "SELECT uid, user FROM enc_chats"
NEW_SECRET_BIT = 1 << 62


class TelegramAndroid(SqliteChatParser):
    name = "telegram_android"
    version = "2"
    app = "Telegram"
    platform = "Android"
    paths = ("*/org.telegram.messenger*/files/cache4.db", "*/org.telegram.messenger*/files/account*/cache4.db",
             "*/cache4.db")
    variants = (
        Variant("messages_v2", {"messages_v2": REQUIRED}, optional={"messages_v2": OPTIONAL}),
        Variant("messages_old", {"messages": REQUIRED}, optional={"messages": OPTIONAL}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        table = "messages_v2" if variant.name == "messages_v2" else "messages"
        users, chats = (_names(side_read(database.query(sql), name, context)) if database.has(name, "uid", "name") else {}
                        for name, sql in NAMES_SQL.items())
        secret = _secret_partners(database, context)
        rows = database.query(f"SELECT rowid AS row_id, {variant.columns(database, table)} FROM {table} ORDER BY date, rowid")
        yield from context.each(rows, table, lambda row: self._message(row, table, users, chats, secret, context), "row_id")

    def _message(self, row: sqlite3.Row, table: str, users: dict[int, str], chats: dict[int, str], secret: dict[int, int],
                 context: ParseContext) -> Message:
        row_id = row["row_id"]
        uid = row["uid"]
        outgoing = row["out"] == 1
        details = {"mid": str(row["mid"])}
        details.update({column: str(row[column]) for column in OPTIONAL if row[column] is not None})
        decoded = self._decode(row["data"], table, row_id, context)
        sender = None
        body = None
        kind = "unknown" if decoded is None else "text"
        latitude = longitude = None
        if decoded is not None:
            details["tl_constructor"] = decoded.constructor
            details.update(decoded.details)
            body = decoded.text if decoded.text != "" else None
            if decoded.from_peer is not None:
                sender = _participant(decoded.from_peer, users, chats)
            elif not outgoing and _kind(uid, users, chats, secret) == "user":
                sender = Participant(f"user:{uid}", users.get(uid))  # a private chat: the other party
            elif not outgoing and isinstance(uid, int) and uid in secret:
                sender = Participant(f"user:{secret[uid]}", users.get(secret[uid]))  # a secret chat: its partner
            if decoded.media is not None:
                details["media_type"] = decoded.media
                kind = decoded.media_kind or "unknown"
            if decoded.service:
                kind = "call" if decoded.action == PHONE_CALL_ACTION else "system"
                details["action"] = f"{decoded.action:#010x}"
            elif decoded.empty:
                kind = "deleted"
            latitude, longitude = decoded.latitude, decoded.longitude
        plain = decoded is not None and not decoded.service and not decoded.empty
        return Message(
            source_table=table, source_row_id=row_id, conversation_id=None if uid is None else str(uid),
            conversation_title=_title(uid, users, chats, secret), sender=sender,
            direction="outgoing" if outgoing else ("incoming" if row["out"] == 0 else "unknown"),
            sent=context.time(row["date"], unix_seconds, table=table, row_id=row_id, field="date"),
            sent_raw=None if row["date"] is None else str(row["date"]), body=body, kind=kind,
            latitude=latitude, longitude=longitude,
            is_edited=decoded.edited if plain else None,
            is_forwarded=decoded.forwarded if plain else None,
            account_id=sender.id if outgoing and sender is not None else None, details=details,
        )

    def _decode(self, blob: object, table: str, row_id: int, context: ParseContext) -> TLMessage | None:
        if not isinstance(blob, bytes) or not blob:
            context.warn("missing_blob", "message row has no TL data", table=table, row_id=row_id, field="data")
            return None
        try:
            return decode_message(blob)
        except TLError as error:
            context.warn("unsupported_tl", f"message data not decoded: {error}", table=table, row_id=row_id, field="data")
            return None


def _names(rows: Iterable[sqlite3.Row]) -> dict[int, str]:
    names: dict[int, str] = {}
    for row in rows:
        name = row["name"]
        if isinstance(name, str) and row["uid"] is not None:
            shown = name.split(";;;")[0]
            if shown:
                names[row["uid"]] = shown
    return names


def _participant(peer: tuple[str, int], users: dict[int, str], chats: dict[int, str]) -> Participant:
    kind, ident = peer
    return Participant(f"{kind}:{ident}", users.get(ident) if kind == "user" else chats.get(ident))


def _secret_partners(database: Database, context: ParseContext) -> dict[int, int]:
    """Secret-chat dialog id -> the other user's id, from enc_chats, keyed by both id schemes (old and 64-bit)."""
    if not database.has("enc_chats", "uid", "user"):
        return {}
    partners: dict[int, int] = {}
    for row in side_read(database.query(SECRET_SQL), "enc_chats", context):
        chat, user = row["uid"], row["user"]
        if isinstance(chat, int) and isinstance(user, int) and chat != 0 and -(1 << 31) <= chat < 1 << 31:
            partners[chat << 32] = user  # before 64-bit ids: ((long) chat id) << 32
            partners[NEW_SECRET_BIT | (chat & 0xFFFFFFFF)] = user  # DialogObject.makeEncryptedDialogId
    return partners


def _kind(uid: object, users: dict[int, str], chats: dict[int, str], secret: dict[int, int]) -> str | None:
    """What a dialog id names: "user", "chat" or "secret", by the app's own rules for both id schemes."""
    if not isinstance(uid, int) or uid == 0:
        return None
    if uid in secret:
        return "secret"
    if uid < 0:
        return "chat" if -uid in chats or uid & 0xFFFFFFFF else "secret"
    if uid & NEW_SECRET_BIT:
        return "secret"
    if uid >= 1 << 32 and uid & 0xFFFFFFFF == 0 and uid not in users:
        return "secret"  # the old scheme's encrypted chat id in the high 32 bits
    return "user"


def _title(uid: object, users: dict[int, str], chats: dict[int, str], secret: dict[int, int]) -> str | None:
    kind = _kind(uid, users, chats, secret)
    if not isinstance(uid, int):
        return None
    if kind == "secret":
        return users.get(secret[uid]) if uid in secret else None
    if kind == "user":
        return users.get(uid)
    if kind == "chat":
        return chats.get(-uid)
    return None


PARSER = TelegramAndroid()
