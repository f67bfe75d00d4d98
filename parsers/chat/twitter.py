"""Twitter (X) for Android: direct messages in the account database's `conversation_entries`.

Schema facts (from the corpus database log2timeline__plaso/test_data/android/twitter.db; plaso's
android_twitter plugin reads the same file for contacts, searches and tweets, not DMs):
- `conversation_entries`: `_id` (INTEGER PRIMARY KEY), `entry_id` (the DM's id), `conversation_id`
  (text; for a one-to-one chat the two user ids joined by '-'), `user_id` (who wrote it),
  `created` (Unix milliseconds), `entry_type` (0 = a message: the only value in the corpus; other
  values -- participants joining, renames -- are kept as kind "unknown"), `data` (the entry as a
  Twitter "Serial" blob, below), `request_id`.
- `conversations`: `conversation_id`, `title` (group name, NULL for one-to-one chats).
- `conversation_participants`: `conversation_id`, `user_id` (text).
- `users`: `user_id`, `username` (screen name), `name` (display name).
- `status_groups`, `user_groups`, `timeline`: `owner_id`, the account the cached rows belong to.
  The owner of the database is the owner_id that is also a DM participant (one in the corpus,
  4354196549; another owner_id, 4351838729, owns a few timeline rows but no DM).

The `data` blob is Twitter's open-source "Serial" format (github.com/twitter/Serial:
SerializerDefs.java, ByteBufferSerializerInput.java; and a public write-up of the format by
Gro-Tsen, 2023, gist.github.com/Gro-Tsen; read for facts only): each value starts with a header
byte whose top 5 bits are the type (1 byte, 2 int, 3 long, 4 float, 5 double, 6 boolean, 7 null,
8 UTF-8 string, 9 object start, 10 debug object start, 11 object end, 12 EOF, 13 ASCII string,
14 byte array) and bottom 3 bits the size of what follows (1 = value 0 / nothing, 2 = 1 byte,
3 = 2 bytes, 4 = 4 bytes, 5 = 8 bytes (longs), 0 = the type's own size); integers are big-endian;
a UTF-8 string's length counts UTF-16 units, not bytes; booleans carry no payload (subtype 1 =
true). A message entry is an object whose first fields are the entry id (long) and the text
(string): the body is the first string field of the outer object, kept exactly as stored.

Required (issue 10): only `conversation_entries` `_id`, `conversation_id`, `user_id`, `created`, `data`
(that table name is Twitter's own; no other app in the registry has it). `entry_id`, `entry_type`,
`users` (names), `conversations` (titles), `conversation_participants` and the owner tables are read when
present; without an owner table the account is the user id in the file name (`<id>-<n>.db`, the naming
the app uses: the corpus file's own id, 4354196549, is also its owner_id). Without `entry_type` each entry
is read as a message (a blob with no text then warns `undecoded_blob`). Schema history: the only public
sample is plaso's (2015, database version 66 in the file name); no source was found listing the DM tables
of other app versions (**not confirmed** whether they differ), and the newer X app's store was not seen.

iOS: the Twitter for iOS `twitter.db` (plaso test_data/ios/twitter.db) holds `Statuses` (tweets),
`Users`, `Lists`, `MyRetweets` and their *Shadow copies and no DM table. Tweets are public posts, not
messages, so that file matches no variant and gives no messages; iOS DMs are kept elsewhere (a
per-account "direct-message.cache" file, which this parser does not read).
"""

from __future__ import annotations

import re
import sqlite3
import struct
from typing import Iterator

from manifests.records import Message, Participant, decode_text
from parsers.chat._rows import side_read, side_table, side_whole
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

ENTRIES = Variant("android_dm", {"conversation_entries": ("_id", "conversation_id", "user_id", "created", "data")},
                  {"conversation_entries": ("entry_id", "entry_type")})
USERS = Variant("users", {"users": ("user_id",)}, {"users": ("username", "name")})
# The per-account database's name: "<account user id>-<schema version>[...].db".
ACCOUNT_FILE = re.compile(r"/([0-9]+)-[0-9]+[^/]*\.db$")
PARTICIPANTS_SQL = "SELECT conversation_id, user_id FROM conversation_participants ORDER BY _id"
TITLES_SQL = "SELECT conversation_id, title FROM conversations"
OWNER_SQL = {
    "status_groups": "SELECT DISTINCT owner_id FROM status_groups",
    "user_groups": "SELECT DISTINCT owner_id FROM user_groups",
    "timeline": "SELECT DISTINCT owner_id FROM timeline",
}
MESSAGE_ENTRY = 0

# Serial types and subtypes (SerializerDefs / ByteBufferSerializerDefs).
T_BYTE, T_INT, T_LONG, T_FLOAT, T_DOUBLE, T_BOOL, T_NULL, T_UTF8 = 1, 2, 3, 4, 5, 6, 7, 8
T_START, T_START_DEBUG, T_END, T_EOF, T_ASCII, T_BYTES = 9, 10, 11, 12, 13, 14
S_DEFAULT, S_BYTE, S_SHORT, S_LONG = 1, 2, 3, 5


class Twitter(SqliteChatParser):
    name = "twitter"
    version = "2"
    app = "Twitter"
    platform = "Android"
    # The per-account database is named "<user id>-<schema version>[...].db"; the app's other
    # databases ("<id>-search.db", ...) hold no DMs and are not named here, so they raise no warning.
    paths = ("*/com.twitter.android/databases/[0-9]*-[0-9]*.db",)
    variants = (ENTRIES,)

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        users = ({str(row["user_id"]): row for row in side_table(database, USERS, "users", context)}
                 if USERS.matches(database) else {})
        members: dict[str, list[str]] = {}
        whole = True  # the owner is the one cached owner_id among all participants: a partial read proves nothing
        if database.has("conversation_participants", "_id", "conversation_id", "user_id"):
            participants, whole = side_whole(database.query(PARTICIPANTS_SQL), "conversation_participants", context)
            for row in participants:
                members.setdefault(row["conversation_id"], []).append(str(row["user_id"]))
        titles = ({row["conversation_id"]: row["title"] for row in side_read(database.query(TITLES_SQL), "conversations", context)}
                  if database.has("conversations", "conversation_id", "title") else {})
        owner = (_owner(database, members, context) if whole else None) or _file_owner(context.artefact.path)
        convert = lambda row: self._entry(row, users, members, titles, owner, context)  # noqa: E731
        rows = database.query(variant.select(database, "conversation_entries", "_id"))
        yield from context.each(rows, "conversation_entries", convert, "_id")

    def _entry(self, row: sqlite3.Row, users: dict[str, sqlite3.Row], members: dict[str, list[str]],
               titles: dict[str, str | None], owner: str | None, context: ParseContext) -> Message:
        row_id = row["_id"]
        author = None if row["user_id"] is None else str(row["user_id"])
        chat = row["conversation_id"]
        details = {name: str(row[name]) for name in ("entry_type", "entry_id") if row[name] is not None}
        if author and author in users and users[author]["username"]:
            details["sender_username"] = users[author]["username"]
        # Without an entry_type column every entry is read as a message; with it, only type 0 is.
        is_message = row["entry_type"] in (MESSAGE_ENTRY, None)
        body = _message_text(row["data"], row_id, context) if is_message else None
        if owner is None or author is None:
            direction = "unknown"
        else:
            direction = "outgoing" if author == owner else "incoming"
        sender = Participant(author, _name(users, author)) if author else None
        recipients = tuple(Participant(m, _name(users, m)) for m in members.get(chat, []) if m != author)
        return Message(
            source_table="conversation_entries", source_row_id=row_id, conversation_id=chat,
            conversation_title=titles.get(chat), sender=sender, recipients=recipients, direction=direction,
            sent=context.time(row["created"], unix_ms, table="conversation_entries", row_id=row_id, field="created"),
            sent_raw=None if row["created"] is None else str(row["created"]), body=body,
            kind="text" if row["entry_type"] == MESSAGE_ENTRY or body is not None else "unknown", account_id=owner, details=details,
        )


def _name(users: dict[str, sqlite3.Row], user_id: str) -> str | None:
    row = users.get(user_id)
    return (row["name"] or None) if row is not None else None


def _file_owner(path: str) -> str | None:
    """The account id in the database's file name, when the store has no cached rows naming it."""
    match = ACCOUNT_FILE.search(path)
    return match.group(1) if match else None


def _owner(database: Database, members: dict[str, list[str]], context: ParseContext) -> str | None:
    """The account's user id: the owner_id of cached rows that is also a DM participant."""
    owners: set[str] = set()
    for table, sql in OWNER_SQL.items():
        if database.has(table, "owner_id"):
            rows, whole = side_whole(database.query(sql), table, context)
            if not whole:
                return None
            owners.update(str(row["owner_id"]) for row in rows if row["owner_id"] is not None)
    participants = {m for people in members.values() for m in people}
    found = owners & participants
    if len(found) == 1:
        return found.pop()
    return owners.pop() if len(owners) == 1 else None


def _message_text(data: object, row_id: int, context: ParseContext) -> str | None:
    """The first string field of the entry's outer Serial object; a warning when the blob cannot be read."""
    if data is None:
        return None
    if not isinstance(data, bytes):
        context.warn("undecoded_blob", f"data is {type(data).__name__}, not a Serial blob", table="conversation_entries",
                     row_id=row_id, field="data")
        return None
    try:
        tokens = serial_tokens(data)
    except (ValueError, IndexError, struct.error) as error:
        context.warn("undecoded_blob", f"Serial blob could not be read: {error}", table="conversation_entries",
                     row_id=row_id, field="data")
        return None
    for depth, kind, value in tokens:
        if depth == 1 and kind in (T_UTF8, T_ASCII):
            return value
    context.warn("undecoded_blob", "Serial blob holds no text field", table="conversation_entries", row_id=row_id, field="data")
    return None


def serial_tokens(data: bytes) -> list[tuple[int, int, object]]:
    """Every value of a Serial blob as (object depth, type, value); raises ValueError on a malformed blob."""
    tokens: list[tuple[int, int, object]] = []
    position, depth = 0, 0
    while position < len(data):
        header = data[position]
        kind, subtype = header >> 3, header & 7
        position += 1
        if kind == T_EOF:
            break
        if kind == T_END:
            depth -= 1
            if depth < 0:
                raise ValueError(f"object end without a start at byte {position - 1}")
            continue
        if kind in (T_NULL, T_BOOL):
            tokens.append((depth, kind, None if kind == T_NULL else subtype == S_DEFAULT))
            continue
        if kind == T_LONG and subtype == S_LONG:
            value, position = _fixed(data, position, ">q")
        elif kind in (T_BYTE, T_FLOAT, T_DOUBLE):
            size = 0 if subtype == S_DEFAULT else {T_BYTE: 1, T_FLOAT: 4, T_DOUBLE: 8}[kind]
            value, position = _scalar(data, position, kind, size)
        elif kind in (T_INT, T_LONG, T_START, T_START_DEBUG, T_UTF8, T_ASCII, T_BYTES):
            value, position = _int_value(data, position, subtype)
        else:
            raise ValueError(f"unknown Serial type {kind} at byte {position - 1}")
        if kind in (T_START, T_START_DEBUG):
            tokens.append((depth, kind, value))
            depth += 1
        elif kind in (T_UTF8, T_ASCII, T_BYTES):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"negative length at byte {position}")
            text, position = _sized(data, position, kind, value)
            tokens.append((depth, kind, text))
        else:
            tokens.append((depth, kind, value))
    return tokens


def _fixed(data: bytes, position: int, layout: str) -> tuple[object, int]:
    size = struct.calcsize(layout)
    if position + size > len(data):
        raise ValueError(f"value runs past the end at byte {position}")
    return struct.unpack_from(layout, data, position)[0], position + size


def _scalar(data: bytes, position: int, kind: int, size: int) -> tuple[object, int]:
    if size == 0:
        return 0, position
    return _fixed(data, position, {T_BYTE: ">b", T_FLOAT: ">f", T_DOUBLE: ">d"}[kind])


def _int_value(data: bytes, position: int, subtype: int) -> tuple[int, int]:
    """An int as ByteBufferSerializerInput reads it: 0, 1 or 2 unsigned bytes, else a signed 4-byte int."""
    if subtype == S_DEFAULT:
        return 0, position
    if subtype == S_BYTE:
        value, position = _fixed(data, position, ">B")
    elif subtype == S_SHORT:
        value, position = _fixed(data, position, ">H")
    else:
        value, position = _fixed(data, position, ">i")
    return int(value), position  # type: ignore[arg-type]


def _sized(data: bytes, position: int, kind: int, length: int) -> tuple[object, int]:
    if kind != T_UTF8:
        end = position + length
        if end > len(data):
            raise ValueError(f"string runs past the end at byte {position}")
        chunk = data[position:end]
        return (chunk if kind == T_BYTES else decode_text(chunk)), end
    # The length counts UTF-16 units: a 4-byte sequence is two of them.
    start, units = position, 0
    while units < length:
        if position >= len(data):
            raise ValueError(f"string runs past the end at byte {position}")
        lead = data[position]
        size = 1 if lead < 0x80 else 2 if lead & 0xE0 == 0xC0 else 3 if lead & 0xF0 == 0xE0 else 4 if lead & 0xF8 == 0xF0 else 0
        if size == 0:
            raise ValueError(f"malformed UTF-8 lead byte {lead:#x} at byte {position}")
        position += size
        units += 2 if size == 4 else 1
    if position > len(data):
        raise ValueError(f"string runs past the end at byte {start}")
    return decode_text(data[start:position]), position


PARSER = Twitter()
