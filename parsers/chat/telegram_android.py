"""Telegram for Android: `cache4.db` (files/cache4.db, or files/accountN/cache4.db per account).

Schema facts (DrKLO/Telegram `MessagesStorage.java`, read for facts only; IPED's Telegram parser):
- `messages_v2` (current): `mid`, `uid` (dialog id: > 0 a user, < 0 minus a chat/channel id;
  secret chats have the encrypted-chat id in the high 32 bits), `read_state`, `send_state`,
  `date` (Unix seconds), `data` (the TL-serialised Message object), `out` (1 sent by the owner),
  `ttl`, `media`; primary key (mid, uid), so rows are addressed by SQLite rowid.
- `messages` (older releases): the same columns with `mid INTEGER PRIMARY KEY`.
- `users` (`uid`, `name`, `status`, `data`) and `chats` (`uid`, `name`, `data`): `name` is the
  app's search form of the name (lower-cased "first last", then ";;;" and the username); it is the
  only name stored as plain text, so it is used as given (before ";;;") for senders and titles.
- `dialogs` (`did`, `date`, ...): one row per conversation.

TL facts (Telegram API schema, core.telegram.org/schema and tdesktop `Telegram/SourceFiles/mtproto/scheme/api.tl`;
constructor ids confirmed in kotlogram / gotd generated sources): little-endian 32-bit constructor id,
then fields; `#` is a 32-bit flags word, `flags.N?T` present when bit N is set, `true` flags carry
no data; int 4 bytes, long 8, double 8; string/bytes: one length byte (< 254) or 0xFE plus a 3-byte
length, the data, zero padding to a multiple of 4. Supported here:
- message#38116ee0 flags:# (out bit 1, fwd_from bit 2, reply_to bit 3, from_id bit 8, media bit 9,
  via_bot_id bit 11, edit_date bit 15) id:int from_id:flags.8?Peer peer_id:Peer
  fwd_from:flags.2?MessageFwdHeader via_bot_id:flags.11?long reply_to:flags.3?MessageReplyHeader
  date:int message:string media:flags.9?MessageMedia ... (API layer ~146-160).
- messageService#2b085862 flags:# id:int from_id:flags.8?Peer peer_id:Peer
  reply_to:flags.3?MessageReplyHeader date:int action:MessageAction ...; messageEmpty#90a6ca84.
- Peer: peerUser#59511722 / peerChat#36c6019a / peerChannel#a2a5371e (long ids, layer 133+) and
  peerUser#9db1bc6d / peerChat#bad0e5bb / peerChannel#bddde532 (int ids, earlier layers).
- messageFwdHeader#5f777dce flags:# from_id:flags.0?Peer from_name:flags.5?string date:int
  channel_post:flags.2?int post_author:flags.3?string saved_from_peer:flags.4?Peer
  saved_from_msg_id:flags.4?int psa_type:flags.6?string.
- messageReplyHeader#a6d57763 (layer 146 form) flags:# reply_to_msg_id:int
  reply_to_peer_id:flags.0?Peer reply_to_top_id:flags.1?int.
- MessageMedia constructor ids (name only; geo points are decoded): see MEDIA below;
  geoPoint#b2a2f663 flags:# long:double lat:double access_hash:long.
Another constructor (other layers, Android's secret-chat classes) is reported as a warning and the
row is kept with the columns' values (id, dialog, date, direction) and no text.
"""

from __future__ import annotations

import sqlite3
import struct
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from manifests.records import Message, Participant, decode_text
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_seconds
from parsers.sqlite_store import Database

MESSAGE = 0x38116EE0
MESSAGE_SERVICE = 0x2B085862
MESSAGE_EMPTY = 0x90A6CA84
PEERS_LONG = {0x59511722: "user", 0x36C6019A: "chat", 0xA2A5371E: "channel"}
PEERS_INT = {0x9DB1BC6D: "user", 0xBAD0E5BB: "chat", 0xBDDDE532: "channel"}
FWD_HEADER = 0x5F777DCE
REPLY_HEADER = 0xA6D57763
GEO_POINT = 0xB2A2F663
GEO_POINT_EMPTY = 0x1117DD5F
PHONE_CALL_ACTION = 0x80E11A7F
MEDIA = {0x3DED6320: ("empty", "text"), 0x695150D7: ("photo", "media"), 0x56E0D474: ("geo", "location"),
         0x70322949: ("contact", "contact"), 0x9F84F49E: ("unsupported", "unknown"), 0x4CF4D72D: ("document", "media"),
         0xA32DD600: ("webpage", "text"), 0xDDF10C3B: ("webpage", "text"), 0x2EC0533F: ("venue", "location"), 0xFDB19008: ("game", "media"),
         0xF6A548D3: ("invoice", "media"), 0xB940C666: ("geo_live", "location"), 0x4BD6E798: ("poll", "poll"),
         0x3F7EE58B: ("dice", "sticker")}
GEO_MEDIA = {0x56E0D474, 0xB940C666}

V2_SQL = "SELECT rowid AS row_id, mid, uid, read_state, send_state, date, data, out FROM messages_v2 ORDER BY date, rowid"
OLD_SQL = "SELECT rowid AS row_id, mid, uid, read_state, send_state, date, data, out FROM messages ORDER BY date, rowid"
USERS_SQL = "SELECT uid, name FROM users"
CHATS_SQL = "SELECT uid, name FROM chats"
COLUMNS = ("mid", "uid", "read_state", "send_state", "date", "data", "out")
NAME_TABLES = {"users": ("uid", "name"), "chats": ("uid", "name")}


class TLError(ValueError):
    """The blob does not follow the TL layout this reader knows."""


class TLReader:
    """Sequential reader of TL-serialised bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def _take(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise TLError(f"needs {size} bytes at offset {self.offset}, blob has {len(self.data)}")
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk

    def uint(self) -> int:
        return struct.unpack("<I", self._take(4))[0]

    def int(self) -> int:
        return struct.unpack("<i", self._take(4))[0]

    def long(self) -> int:
        return struct.unpack("<q", self._take(8))[0]

    def double(self) -> float:
        return struct.unpack("<d", self._take(8))[0]

    def bytes(self) -> bytes:
        first = self._take(1)[0]
        if first == 254:
            size = int.from_bytes(self._take(3), "little")
            header = 4
        elif first == 255:
            raise TLError("string length byte 255 is not valid")
        else:
            size, header = first, 1
        value = self._take(size)
        self._take((-(header + size)) % 4)
        return value

    def peer(self) -> tuple[str, int]:
        constructor = self.uint()
        if constructor in PEERS_LONG:
            return PEERS_LONG[constructor], self.long()
        if constructor in PEERS_INT:
            return PEERS_INT[constructor], self.int()
        raise TLError(f"unknown Peer constructor {constructor:#010x}")


@dataclass
class TLMessage:
    """What the parser takes from a Message object."""

    constructor: str
    flags: int
    id: int | None = None
    from_peer: tuple[str, int] | None = None
    peer: tuple[str, int] | None = None
    date: int | None = None
    text: str | None = None
    media: str | None = None
    media_kind: str | None = None
    action: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    details: dict[str, str] = field(default_factory=dict)


def decode_message(blob: bytes) -> TLMessage:
    """Decode the head of a TL Message object (up to text and media type); TLError if unsupported."""
    reader = TLReader(blob)
    constructor = reader.uint()
    if constructor == MESSAGE_EMPTY:
        flags = reader.uint()
        return TLMessage("messageEmpty", flags, id=reader.int(), peer=reader.peer() if flags & 1 else None)
    if constructor not in (MESSAGE, MESSAGE_SERVICE):
        raise TLError(f"unsupported Message constructor {constructor:#010x}")
    service = constructor == MESSAGE_SERVICE
    flags = reader.uint()
    message = TLMessage("messageService" if service else "message", flags, id=reader.int())
    if flags & (1 << 8):
        message.from_peer = reader.peer()
    message.peer = reader.peer()
    if not service and flags & (1 << 2):
        _forward_header(reader, message)
    if not service and flags & (1 << 11):
        message.details["via_bot_id"] = str(reader.long())
    if flags & (1 << 3):
        _reply_header(reader, message)
    message.date = reader.int()
    if service:
        message.action = reader.uint()
        return message
    message.text = decode_text(reader.bytes())
    if flags & (1 << 9):
        media = reader.uint()
        message.media, message.media_kind = MEDIA.get(media, (f"{media:#010x}", "unknown"))
        if media in GEO_MEDIA and reader.uint() == GEO_POINT:
            reader.uint()
            message.longitude = reader.double()
            message.latitude = reader.double()
    return message


def _forward_header(reader: TLReader, message: TLMessage) -> None:
    constructor = reader.uint()
    if constructor != FWD_HEADER:
        raise TLError(f"unsupported MessageFwdHeader constructor {constructor:#010x}")
    flags = reader.uint()
    if flags & 1:
        kind, ident = reader.peer()
        message.details["forwarded_from"] = f"{kind}:{ident}"
    if flags & (1 << 5):
        message.details["forwarded_from_name"] = decode_text(reader.bytes())
    message.details["forwarded_date"] = str(reader.int())
    if flags & (1 << 2):
        reader.int()
    if flags & (1 << 3):
        reader.bytes()
    if flags & (1 << 4):
        reader.peer()
        reader.int()
    if flags & (1 << 6):
        reader.bytes()


def _reply_header(reader: TLReader, message: TLMessage) -> None:
    constructor = reader.uint()
    if constructor != REPLY_HEADER:
        raise TLError(f"unsupported MessageReplyHeader constructor {constructor:#010x}")
    flags = reader.uint()
    message.details["reply_to_message_id"] = str(reader.int())
    if flags & 1:
        reader.peer()
    if flags & 2:
        reader.int()


class TelegramAndroid(SqliteChatParser):
    name = "telegram_android"
    version = "1"
    app = "Telegram"
    platform = "Android"
    paths = ("*/org.telegram.messenger*/files/cache4.db", "*/org.telegram.messenger*/files/account*/cache4.db",
             "*/cache4.db")
    variants = (
        Variant("messages_v2", {"messages_v2": COLUMNS, **NAME_TABLES, "dialogs": ("did",)}),
        Variant("messages_old", {"messages": COLUMNS, **NAME_TABLES, "dialogs": ("did",)}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        table = "messages_v2" if variant.name == "messages_v2" else "messages"
        users = _names(database.query(USERS_SQL))
        chats = _names(database.query(CHATS_SQL))
        rows = database.query(V2_SQL if table == "messages_v2" else OLD_SQL)
        yield from context.each(rows, table, lambda row: self._message(row, table, users, chats, context), "row_id")

    def _message(self, row: sqlite3.Row, table: str, users: dict[int, str], chats: dict[int, str], context: ParseContext) -> Message:
        row_id = row["row_id"]
        uid = row["uid"]
        outgoing = row["out"] == 1
        details = {"mid": str(row["mid"]), "read_state": str(row["read_state"]), "send_state": str(row["send_state"])}
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
            elif not outgoing and uid is not None and 0 < uid < 1 << 32:
                sender = Participant(f"user:{uid}", users.get(uid))  # a private chat: the other party
            if decoded.media is not None:
                details["media_type"] = decoded.media
                kind = decoded.media_kind or "unknown"
            if decoded.constructor == "messageService":
                kind = "call" if decoded.action == PHONE_CALL_ACTION else "system"
                details["action"] = f"{decoded.action:#010x}"
            elif decoded.constructor == "messageEmpty":
                kind = "deleted"
            latitude, longitude = decoded.latitude, decoded.longitude
        flags = decoded.flags if decoded is not None and decoded.constructor == "message" else None
        return Message(
            source_table=table, source_row_id=row_id, conversation_id=None if uid is None else str(uid),
            conversation_title=_title(uid, users, chats), sender=sender,
            direction="outgoing" if outgoing else ("incoming" if row["out"] == 0 else "unknown"),
            sent=context.time(row["date"], unix_seconds, table=table, row_id=row_id, field="date"),
            sent_raw=None if row["date"] is None else str(row["date"]), body=body, kind=kind,
            latitude=latitude, longitude=longitude,
            is_edited=None if flags is None else bool(flags & (1 << 15)),
            is_forwarded=None if flags is None else bool(flags & (1 << 2)),
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


def _title(uid: object, users: dict[int, str], chats: dict[int, str]) -> str | None:
    if not isinstance(uid, int):
        return None
    if 0 < uid < 1 << 32:
        return users.get(uid)
    if uid < 0:
        return chats.get(-uid)
    return None


PARSER = TelegramAndroid()
