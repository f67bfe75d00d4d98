"""Telegram for iOS: messages from the Postbox key-value store `postbox/db/db_sqlite`.

Facts (TelegramMessenger/Telegram-iOS, `submodules/Postbox/Sources/`, read for facts only; the
value layout below follows MessageHistoryTable.swift at commit 008c4daa111aa2f043a667c4e7d3b0555202de4f,
app version of that commit not established):
- SqliteValueBox.swift: every Postbox table is SQLite table `t<id>` with columns `key` and
  `value`, listed in `__meta_tables (name, keyType)`. Binary-key tables are `key BLOB` (older:
  plain column + index; current: `key BLOB PRIMARY KEY`, `WITHOUT ROWID` only for "compact"
  tables); int64-key tables are `key INTEGER PRIMARY KEY`.
- Postbox.swift: the message history table is id 7 (`t7`, binary keys, not compact, so it has a
  rowid); the peer table is id 2 (`t2`, int64 key = peer id).
- ValueBoxKey.swift: key integers are big-endian. MessageHistoryTable.swift: a message key is
  peer id (int64), namespace (int32), timestamp (int32, Unix seconds), message id (int32) = 20 bytes.
  Older Postbox builds (e.g. Telegram-iOS commit cb125f8a48eeed0405da00c91392e008e28ec788,
  `Postbox/MessageHistoryTable.swift`, the 2018 code with group feeds) put the timestamp before the
  namespace (peer, timestamp, namespace, id) and kept history holes in t7 too: value = type int8 1,
  stableId uint32, min id int32, tags uint32 (13 bytes). Their message values have the layout below
  without the later dataFlags bits (no thread id, no PSA type / forward flags). Which order a store
  uses is read from its keys: a namespace is a small number (0 cloud, 1 local, 2 secret...), a
  timestamp a Unix time, so the store's keys show which of the two 32-bit fields is which (inferred
  from those meanings; no app version is known for the change, not confirmed). Holes are gaps in
  the locally cached history, not messages: they are counted in one `history_holes` info row.
- MessageHistoryTable.swift (value, written with WriteBuffer = raw memcpy, so integers are in the
  device's native order, little-endian on every iOS device): type int8 (0 = message);
  stableId uint32; stableVersion uint32; dataFlags int8 (bit0 globallyUniqueId int64, bit1 global
  tags uint32, bit2 grouping key int64, bit3 group info stableId uint32, bit4 local tags uint32,
  bit5 thread id int64 — each present in that order when its bit is set); flags uint32; tags
  uint32; forward-info flags int8 (0 = none; else forward author int64, forward date int32, then
  bit1 source peer int64, bit2 source message peer int64 + namespace int32 + id int32, bit3
  author signature and bit4 PSA type as int32 length + UTF-8, bit5 forward flags int32);
  has-author int8 (1 = author peer id int64 follows); text = int32 length + UTF-8; attributes =
  int32 count, each int32 length + PostboxEncoder object; embedded media = same shape;
  referenced media = int32 count of (namespace int32, id int64); then, when bytes remain, custom
  tags = int32 count of (int32 length + bytes).
- Message.swift: MessageFlags Unsent=1, Failed=2, Incoming=4, TopIndexable=16, Sending=32,
  CanBeGroupedIntoFeed=64, WasScheduled=128, CountedAsIncoming=256, CopyProtected=512.
- Coding.swift: a PostboxEncoder root object is key "_" (int8 length + UTF-8), value type int8
  5 (Object), type hash int32, int32 length, then fields: int8 key length + key, int8 value type
  (0 Int32, 1 Int64, 2 Bool, 3 Double, 4 String, 5 Object, 6 Int32Array, 7 Int64Array,
  8 ObjectArray, 9 ObjectDictionary, 10 Bytes, 11 Nil, 12 StringArray, 13 BytesArray) and the
  value (sizes as in PostboxDecoder.skipValue). The type hash is MurmurHash3 x86-32 of the
  Swift class name with seed -137723950 (submodules/MurMurHash32/Sources/MurMurHash32.m).
- TelegramCore SyncCore_TelegramUser/Group/Channel.swift: a user's first and last name are
  string fields "fn" and "ln" (username "un", phone "p"); a group's or channel's title is "t".

What is decoded: per t7 row the key (conversation = peer id, message id, namespace, timestamp),
direction (Incoming flag), author peer id, text, forward info, thread id, and the class of each
embedded media object (by its type hash) as the message kind; names of users, groups and
channels from t2. Not decoded: attributes (reply, edit date, entities...), the contents of media
(file names, coordinates) and referenced media (kept in the media table t6; only their ids are
listed); peers of other classes (secret chats) have no name. A value that does not consume
exactly as the layout says gives a `bad_blob` warning and a message holding only the key fields
(body None). A t7 whose rows all fail (another layout) gives one `unsupported_format` warning.
SQLCipher-encrypted stores are reported by the driver (`not_sqlite` / `database_unreadable`).
"""

from __future__ import annotations

import sqlite3
import struct
from dataclasses import dataclass, field
from typing import Iterator

from manifests.records import Message, Participant
from parsers.chat._rows import side_read
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_seconds
from parsers.sqlite_store import Database

TABLES_SQL = "SELECT count(*) AS tables FROM __meta_tables"
HISTORY_SQL = "SELECT rowid, key, value FROM t7 ORDER BY rowid"
HISTORY_NO_ROWID_SQL = "SELECT NULL AS rowid, key, value FROM t7 ORDER BY key"
KEY_SAMPLE_SQL = "SELECT key FROM t7 LIMIT 1000"
HOLE_TYPE, HOLE_SIZE = 1, 13
NAMESPACE_LIMIT, TIMESTAMP_FLOOR = 256, 1_000_000  # namespaces are small enumerations; message times are Unix seconds
HISTORY_DDL_SQL = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 't7'"
PEERS_SQL = "SELECT key, value FROM t2 ORDER BY key"
HISTORY_TABLE = "t7"
PEER_TABLE = "t2"

FLAG_NAMES = {1: "Unsent", 2: "Failed", 4: "Incoming", 16: "TopIndexable", 32: "Sending", 64: "CanBeGroupedIntoFeed",
              128: "WasScheduled", 256: "CountedAsIncoming", 512: "CopyProtected"}
INCOMING = 4
KNOWN_DATA_FLAGS = 0x3F
KNOWN_FORWARD_FLAGS = 0x3F
MURMUR_SEED = -137723950 & 0xFFFFFFFF

# Postbox value types (Coding.swift ValueType) and the fixed size of the scalar ones.
FIXED_SIZES = {0: 4, 1: 8, 2: 1, 3: 8, 11: 0}
STRING, OBJECT, INT32_ARRAY, INT64_ARRAY, OBJECT_ARRAY, OBJECT_DICT, BYTES, STRING_ARRAY, BYTES_ARRAY = 4, 5, 6, 7, 8, 9, 10, 12, 13


def murmur3_32(data: bytes, seed: int) -> int:
    """MurmurHash3 x86-32 as a signed int32 (Postbox's type hash of a class name)."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed & mask
    blocks = len(data) // 4
    for index in range(blocks):
        k = int.from_bytes(data[index * 4:index * 4 + 4], "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    tail = data[blocks * 4:]
    if tail:
        k = int.from_bytes(tail, "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def type_hash(class_name: str) -> int:
    return murmur3_32(class_name.encode("utf-8"), MURMUR_SEED)


# Embedded media classes (TelegramCore) and the message kind each stands for.
MEDIA_KINDS = {type_hash(name): (name, kind) for name, kind in (
    ("TelegramMediaImage", "media"), ("TelegramMediaFile", "media"), ("TelegramMediaMap", "location"),
    ("TelegramMediaContact", "contact"), ("TelegramMediaAction", "system"), ("TelegramMediaPoll", "poll"),
    ("TelegramMediaWebpage", "text"), ("TelegramMediaExpiredContent", "unknown"), ("TelegramMediaDice", "unknown"),
    ("TelegramMediaGame", "unknown"), ("TelegramMediaInvoice", "unknown"), ("TelegramMediaStory", "unknown"),
    ("TelegramMediaUnsupported", "unknown"))}
KIND_ORDER = ("system", "poll", "contact", "location", "media", "unknown", "text")
USER, GROUP, CHANNEL = type_hash("TelegramUser"), type_hash("TelegramGroup"), type_hash("TelegramChannel")


class BlobError(ValueError):
    """A value that does not follow the documented layout (truncated, unknown bits, leftovers)."""


class _Cursor:
    """Reads little-endian fields from a value, raising BlobError past its end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: int, what: str) -> bytes:
        if size < 0 or self.offset + size > len(self.data):
            raise BlobError(f"{what}: needs {size} bytes at offset {self.offset}, value has {len(self.data)}")
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk

    def unpack(self, fmt: str, what: str) -> int:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))[0]

    def remaining(self) -> int:
        return len(self.data) - self.offset

    def length_prefixed(self, what: str) -> bytes:
        return self.take(self.unpack("i", f"{what} length"), what)

    def counted_blobs(self, what: str) -> list[bytes]:
        count = self.unpack("i", f"{what} count")
        if count < 0:
            raise BlobError(f"{what} count {count} is negative")
        return [self.length_prefixed(what) for _ in range(count)]


@dataclass
class DecodedMessage:
    """The fields of one message value that this reader uses."""

    stable_id: int
    stable_version: int
    flags: int
    tags: int
    text: str
    author_id: int | None
    thread_id: int | None = None
    globally_unique_id: int | None = None
    grouping_key: int | None = None
    forward: dict[str, str] = field(default_factory=dict)
    media_hashes: list[int | None] = field(default_factory=list)  # None: the object's header is not a root object
    referenced_media: list[tuple[int, int]] = field(default_factory=list)
    attribute_count: int = 0


def decode_message_value(data: bytes) -> DecodedMessage:
    """Decode a t7 value per the layout in the module docstring; BlobError when it does not fit exactly."""
    cursor = _Cursor(data)
    kind = cursor.unpack("b", "type")
    if kind != 0:
        raise BlobError(f"entry type {kind} is not 0 (message)")
    stable_id = cursor.unpack("I", "stableId")
    stable_version = cursor.unpack("I", "stableVersion")
    data_flags = cursor.unpack("B", "dataFlags")
    if data_flags & ~KNOWN_DATA_FLAGS:
        raise BlobError(f"dataFlags 0x{data_flags:02x} has unknown bits")
    unique_id = cursor.unpack("q", "globallyUniqueId") if data_flags & 1 else None
    if data_flags & 2:
        cursor.unpack("I", "globalTags")
    grouping_key = cursor.unpack("q", "groupingKey") if data_flags & 4 else None
    if data_flags & 8:
        cursor.unpack("I", "groupInfo")
    if data_flags & 16:
        cursor.unpack("I", "localTags")
    thread_id = cursor.unpack("q", "threadId") if data_flags & 32 else None
    flags = cursor.unpack("I", "flags")
    tags = cursor.unpack("I", "tags")
    forward = _forward_info(cursor)
    has_author = cursor.unpack("b", "hasAuthor")
    if has_author not in (0, 1):
        raise BlobError(f"hasAuthor byte {has_author} is neither 0 nor 1")
    author = cursor.unpack("q", "authorId") if has_author else None
    raw_text = cursor.length_prefixed("text")
    try:
        text = raw_text.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BlobError(f"text is not UTF-8 ({error})") from error
    attributes = cursor.counted_blobs("attribute")
    media = [_root_type_hash(blob) for blob in cursor.counted_blobs("embedded media")]
    referenced = []
    for _ in range(_count(cursor, "referenced media")):
        referenced.append((cursor.unpack("i", "media namespace"), cursor.unpack("q", "media id")))
    if cursor.remaining():
        cursor.counted_blobs("custom tag")
    if cursor.remaining():
        raise BlobError(f"{cursor.remaining()} bytes left after the last field")
    return DecodedMessage(stable_id=stable_id, stable_version=stable_version, flags=flags, tags=tags, text=text,
                          author_id=author, thread_id=thread_id, globally_unique_id=unique_id, grouping_key=grouping_key,
                          forward=forward, media_hashes=media, referenced_media=referenced, attribute_count=len(attributes))


def _count(cursor: _Cursor, what: str) -> int:
    count = cursor.unpack("i", f"{what} count")
    if count < 0:
        raise BlobError(f"{what} count {count} is negative")
    return count


def _forward_info(cursor: _Cursor) -> dict[str, str]:
    """Forward info fields as text; empty when the message was not forwarded."""
    flags = cursor.unpack("B", "forwardInfoFlags")
    if flags == 0:
        return {}
    if flags & ~KNOWN_FORWARD_FLAGS or not flags & 1:
        raise BlobError(f"forward info flags 0x{flags:02x} are not understood")
    info = {"forward_author_id": str(cursor.unpack("q", "forward author")), "forward_date": str(cursor.unpack("i", "forward date"))}
    if flags & 2:
        info["forward_source_id"] = str(cursor.unpack("q", "forward source"))
    if flags & 4:
        peer, namespace, message = cursor.unpack("q", "source peer"), cursor.unpack("i", "source namespace"), cursor.unpack("i", "source id")
        info["forward_source_message"] = f"{peer}:{namespace}:{message}"
    if flags & 8:
        info["forward_author_signature"] = _utf8(cursor.length_prefixed("author signature"), "author signature")
    if flags & 16:
        info["forward_psa_type"] = _utf8(cursor.length_prefixed("PSA type"), "PSA type")
    if flags & 32:
        info["forward_flags"] = str(cursor.unpack("i", "forward flags"))
    return info


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BlobError(f"{what} is not UTF-8 ({error})") from error


def _root_type_hash(blob: bytes) -> int | None:
    """The type hash of an embedded media root object; None when its header is not one (the framing was valid)."""
    cursor = _Cursor(blob)
    try:
        key = cursor.take(cursor.unpack("B", "root key length"), "root key")
        value_type = cursor.unpack("b", "root value type")
        hash_value = cursor.unpack("i", "type hash")
    except BlobError:
        return None
    return hash_value if key == b"_" and value_type == OBJECT else None


def read_root_object(blob: bytes) -> tuple[int, dict[str, object]]:
    """A root object's type hash and its top-level fields (strings decoded, other values skipped as None)."""
    cursor = _Cursor(blob)
    key = cursor.take(cursor.unpack("B", "root key length"), "root key")
    value_type = cursor.unpack("b", "root value type")
    if key != b"_" or value_type != OBJECT:
        raise BlobError(f"not a Postbox root object (key {key!r}, type {value_type})")
    hash_value = cursor.unpack("i", "type hash")
    body = cursor.length_prefixed("object")
    if cursor.remaining():
        raise BlobError(f"{cursor.remaining()} bytes after the root object")
    return hash_value, _fields(body)


def _fields(body: bytes) -> dict[str, object]:
    cursor = _Cursor(body)
    fields: dict[str, object] = {}
    while cursor.remaining():
        key = _utf8(cursor.take(cursor.unpack("B", "field key length"), "field key"), "field key")
        value_type = cursor.unpack("b", "field type")
        if value_type == STRING:
            fields[key] = _utf8(cursor.length_prefixed(f"field {key}"), f"field {key}")
        else:
            _skip(cursor, value_type, key)
            fields[key] = None
    return fields


def _skip(cursor: _Cursor, value_type: int, key: str) -> None:
    """Step over one field value of a type this reader does not keep (sizes per PostboxDecoder.skipValue)."""
    if value_type in FIXED_SIZES:
        cursor.take(FIXED_SIZES[value_type], f"field {key}")
    elif value_type == BYTES:
        cursor.length_prefixed(f"field {key}")
    elif value_type == OBJECT:
        cursor.unpack("i", f"field {key} type hash")
        cursor.length_prefixed(f"field {key}")
    elif value_type in (INT32_ARRAY, INT64_ARRAY):
        cursor.take(_count(cursor, f"field {key}") * (4 if value_type == INT32_ARRAY else 8), f"field {key}")
    elif value_type == OBJECT_ARRAY:
        for _ in range(_count(cursor, f"field {key}")):
            cursor.unpack("i", f"field {key} type hash")
            cursor.length_prefixed(f"field {key}")
    elif value_type == OBJECT_DICT:
        for _ in range(_count(cursor, f"field {key}")):
            for part in ("key", "value"):
                cursor.unpack("i", f"field {key} {part} type hash")
                cursor.length_prefixed(f"field {key} {part}")
    elif value_type in (STRING_ARRAY, BYTES_ARRAY):
        for _ in range(_count(cursor, f"field {key}")):
            cursor.length_prefixed(f"field {key}")
    else:
        raise BlobError(f"field {key} has unknown value type {value_type}")


def peer_name(blob: bytes) -> str | None:
    """A user's "fn ln", or a group's/channel's title "t"; None for other peer classes."""
    hash_value, fields = read_root_object(blob)
    if hash_value == USER:
        parts = [p for p in (fields.get("fn"), fields.get("ln")) if isinstance(p, str) and p]
        return " ".join(parts) or None
    if hash_value in (GROUP, CHANNEL):
        title = fields.get("t")
        return title if isinstance(title, str) else None
    return None


@dataclass
class _RowOutcome:
    """Why the last converted row's value was not decoded (None when it was)."""

    error: str | None = None
    timestamp_first: bool = False  # the older key order (peer, timestamp, namespace, id)
    holes: int = 0


class TelegramIos(SqliteChatParser):
    name = "telegram_ios"
    version = "3"
    app = "Telegram"
    platform = "iOS"
    paths = ("*/telegram-data/account-*/postbox/db/db_sqlite", "*/postbox/db/db_sqlite")
    variants = (
        Variant("message_history", {"__meta_tables": ("name", "keyType"), "t7": ("key", "value")}),
        Variant("postbox", {"__meta_tables": ("name", "keyType")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "postbox":
            yield from self._unsupported(database, context, "it has no message history table t7")
            return
        names = self._peer_names(database, context)
        ddl = database.first(HISTORY_DDL_SQL)
        without_rowid = ddl is not None and "WITHOUT ROWID" in str(ddl["sql"] or "").upper()
        timestamp_first = _timestamp_first(database, context)
        rows = database.query(HISTORY_NO_ROWID_SQL if without_rowid else HISTORY_SQL)
        outcome = _RowOutcome(timestamp_first=timestamp_first)
        decoded = 0
        read = 0
        held: list[tuple[Message, str]] = []  # failures before any row decoded: the layout may not be this one
        for row in rows:
            read += 1
            outcome.error = None
            for message in context.each([row], HISTORY_TABLE, lambda r: self._message(r, names, outcome, context), "rowid"):
                if outcome.error is None:
                    for bad, why in held:
                        self._bad_blob(bad, why, context)
                    yield from (bad for bad, _ in held)
                    held.clear()
                    decoded += 1
                    yield message
                elif decoded:
                    self._bad_blob(message, outcome.error, context)
                    yield message
                else:
                    held.append((message, outcome.error))
        if held:
            yield from self._unsupported(database, context, f"none of its {read} message values (t7) follows the known layout "
                                         f"(first problem: {held[0][1]})")
        if outcome.holes:
            context.warn("history_holes", f"{outcome.holes} history holes in t7 (ranges of messages the app had not downloaded); "
                         "they are not messages", table=HISTORY_TABLE, severity="info")

    @staticmethod
    def _bad_blob(message: Message, why: str, context: ParseContext) -> None:
        context.warn("bad_blob", f"message {message.conversation_id}:{message.details['namespace']}:{message.details['message_id']}: "
                     f"{why}; only its key was read", table=HISTORY_TABLE, row_id=message.source_row_id, field="value")

    def _unsupported(self, database: Database, context: ParseContext, why: str) -> Iterator[Message]:
        first = database.first(TABLES_SQL)
        count = first["tables"] if first is not None else 0
        context.warn("unsupported_format",
                     f"{database.artefact.path}: Telegram iOS Postbox database ({count} Postbox tables), but {why}; "
                     "this Postbox layout is not decoded, so no messages were read", table="__meta_tables")
        return iter(())

    def _peer_names(self, database: Database, context: ParseContext) -> dict[int, str]:
        """Names by peer id from t2; an undecodable peer is a warning and has no name."""
        names: dict[int, str] = {}
        if not database.has(PEER_TABLE, "key", "value"):
            return names
        for row in side_read(database.query(PEERS_SQL), PEER_TABLE, context):
            value = row["value"]
            try:
                if not isinstance(value, bytes):
                    raise BlobError(f"value is {type(value).__name__}, not a blob")
                name = peer_name(value)
            except (BlobError, struct.error) as error:
                context.warn("bad_blob", f"peer {row['key']}: {error}; its name is missing", table=PEER_TABLE,
                             row_id=row["key"] if isinstance(row["key"], int) else None, field="value")
                continue
            if name is not None and isinstance(row["key"], int):
                names[row["key"]] = name
        return names

    def _message(self, row: sqlite3.Row, names: dict[int, str], outcome: _RowOutcome, context: ParseContext) -> Message | None:
        row_id = row["rowid"]
        key = row["key"]
        if not isinstance(key, bytes) or len(key) != 20:
            context.warn("bad_blob", f"message key {key!r} is not the 20-byte peer/namespace/timestamp/id key",
                         table=HISTORY_TABLE, row_id=row_id, field="key")
            return None
        value = row["value"]
        if isinstance(value, bytes) and len(value) == HOLE_SIZE and value[0] == HOLE_TYPE:
            outcome.holes += 1
            return None
        if outcome.timestamp_first:
            peer, timestamp, namespace, message_id = struct.unpack(">qiii", key)
        else:
            peer, namespace, timestamp, message_id = struct.unpack(">qiii", key)
        message = Message(
            source_table=HISTORY_TABLE, source_row_id=row_id, conversation_id=str(peer), conversation_title=names.get(peer),
            sent=context.time(timestamp, unix_seconds, table=HISTORY_TABLE, row_id=row_id, field="key.timestamp"),
            sent_raw=str(timestamp), body=None, kind="unknown",
            details={"message_id": str(message_id), "namespace": str(namespace)},
        )
        try:
            if not isinstance(value, bytes):
                raise BlobError(f"value is {type(value).__name__}, not a blob")
            decoded = decode_message_value(value)
        except BlobError as error:
            outcome.error = str(error)
            return message
        if None in decoded.media_hashes:
            context.warn("bad_blob", f"message {peer}:{namespace}:{message_id}: an embedded media object is not a Postbox root "
                         "object; its kind is unknown", table=HISTORY_TABLE, row_id=row_id, field="value.media")
        return _fill(message, decoded, names)


def _timestamp_first(database: Database, context: ParseContext) -> bool:
    """True when the store's t7 keys follow the older order (timestamp before namespace)."""
    current = older = 0
    for row in side_read(database.query(KEY_SAMPLE_SQL), HISTORY_TABLE, context):
        key = row["key"]
        if not isinstance(key, bytes) or len(key) != 20:
            continue
        first, second = struct.unpack(">ii", key[8:16])
        if 0 <= first < NAMESPACE_LIMIT and second >= TIMESTAMP_FLOOR:
            current += 1
        elif first >= TIMESTAMP_FLOOR and 0 <= second < NAMESPACE_LIMIT:
            older += 1
    return older > current


def _fill(message: Message, decoded: DecodedMessage, names: dict[int, str]) -> Message:
    """Complete a key-only message with what the value says."""
    incoming = bool(decoded.flags & INCOMING)
    media = [MEDIA_KINDS.get(h, (f"type hash {h}", "unknown")) if h is not None else ("undecoded object", "unknown")
             for h in decoded.media_hashes]
    kinds = {kind for _, kind in media}
    if decoded.referenced_media:
        kinds.add("media")
    kind = next((k for k in KIND_ORDER if k in kinds), "text")
    details = dict(message.details)
    details["flags"] = f"{decoded.flags} ({', '.join(n for bit, n in FLAG_NAMES.items() if decoded.flags & bit) or 'none'})"
    details["stable_id"] = str(decoded.stable_id)
    if decoded.thread_id is not None:
        details["thread_id"] = str(decoded.thread_id)
    if decoded.globally_unique_id is not None:
        details["globally_unique_id"] = str(decoded.globally_unique_id)
    if decoded.grouping_key is not None:
        details["grouping_key"] = str(decoded.grouping_key)
    if media:
        details["media"] = ", ".join(name for name, _ in media)
    if decoded.referenced_media:
        details["referenced_media"] = ", ".join(f"{ns}:{mid}" for ns, mid in decoded.referenced_media)
    details.update(decoded.forward)
    author = decoded.author_id
    message.sender = Participant(str(author), names.get(author)) if author is not None else None
    message.direction = "incoming" if incoming else "outgoing"
    message.body = decoded.text
    message.kind = kind
    message.is_forwarded = bool(decoded.forward)
    message.details = details
    return message


PARSER = TelegramIos()
