"""Snapchat arroyo.db (Android, iOS), main.db (2017-2020) and tcspahn.db (5.x-9.x), from fixtures built here
(the corpus has no Snapchat sample; CHATS.tsv lists none).

Facts used (see parsers/chat/snapchat.py; sources: SnapEnhance `ConversationMessage.kt` and
`SnapEnums.kt`, ALEAPP snapchat module): `conversation_message` keyed by
(client_conversation_id, client_message_id), creation_timestamp in Unix ms, content_type 1 = chat,
0 = snap, 5 = sticker; message_content protobuf: 4 -> 4 is the container, 2 -> 1 the chat text,
11 a snap. Friend names in main.db `Friend(userId, displayName, username)`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from manifests.records import Message, Participant
from parsers.decode.protobuf import encode_field
from tests.chat.helpers import assert_no_warnings, build_database, parse_files, truncate_to_half

LOGICAL = b"/data/data/com.snapchat.android/databases/arroyo.db"
MAIN_LOGICAL = b"/data/data/com.snapchat.android/databases/main.db"

SCHEMA = """
CREATE TABLE conversation_message (client_conversation_id TEXT NOT NULL, client_message_id INTEGER NOT NULL,
  server_message_id INTEGER, message_content BLOB, message_state_type TEXT, content_type INTEGER, creation_timestamp INTEGER,
  read_timestamp INTEGER, sender_id TEXT, PRIMARY KEY (client_conversation_id, client_message_id));
"""
MAIN_SCHEMA = "CREATE TABLE Friend (_id INTEGER PRIMARY KEY, userId TEXT, username TEXT, displayName TEXT);"
CONV = "7f3e2a10-0000-4000-8000-000000000001"
ALICE = "aaaaaaaa-1111-4111-8111-111111111111"
BOB = "bbbbbbbb-2222-4222-8222-222222222222"


def _chat(text: str) -> bytes:
    container = encode_field(2, encode_field(1, text))
    return encode_field(2, 1) + encode_field(4, encode_field(4, container))


def _snap() -> bytes:
    container = encode_field(11, encode_field(1, b"\x01\x02"))
    return encode_field(4, encode_field(4, container))


def _fixture(tmp_path: Path) -> tuple[Path, Path]:
    db = build_database(tmp_path / "arroyo.db", SCHEMA, {"conversation_message": [
        (CONV, 1, 101, _chat("hey there 👋"), "COMMITTED", 1, 1650000000123, None, ALICE),
        (CONV, 2, 102, _snap(), "COMMITTED", 0, 1650000060000, None, BOB),
        (CONV, 3, 103, b"\x22\x05\x01", "COMMITTED", 1, 1650000120000, None, BOB),  # truncated protobuf
    ]})
    main = build_database(tmp_path / "main.db", MAIN_SCHEMA, {"Friend": [(1, ALICE, "alice_s", "Alice S"), (2, BOB, "bob99", None)]})
    return db, main


def test_messages_names_and_golden_record(tmp_path: Path) -> None:
    db, main = _fixture(tmp_path)
    parsed = parse_files(db, main, logical={db: LOGICAL, main: MAIN_LOGICAL})
    assert parsed.parser_names() == {"snapchat"}
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == Message(
        source_table="conversation_message", source_row_id=1, conversation_id=CONV, sender=Participant(ALICE, "Alice S"),
        direction="unknown", sent=1650000000123000000, sent_raw="1650000000123", body="hey there 👋", kind="text",
        details={"content_type": "1 (chat)", "server_message_id": "101", "client_message_id": "1", "message_state_type": "COMMITTED",
                 "content_kind": "chat"},
    )
    snap = parsed.messages[1]
    assert (snap.kind, snap.body, snap.sender, snap.details["content_kind"]) == ("media", None, Participant(BOB, "bob99"), "snap")
    broken = parsed.messages[2]
    assert (broken.source_row_id, broken.body, broken.kind) == (3, None, "text")
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_blob", 3, "message_content")]
    assert parsed.time_range() == ("2022-04-15T05:20:00Z", "2022-04-15T05:22:00Z")


def test_without_companion_names_are_missing(tmp_path: Path) -> None:
    db, _ = _fixture(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages[0].sender == Participant(ALICE, None)
    assert_no_warnings(parsed, allowed={"bad_blob"})


def test_unknown_schema_at_snapchat_path(tmp_path: Path) -> None:
    db = build_database(tmp_path / "arroyo.db", "CREATE TABLE conversation_message_v9 (id INTEGER PRIMARY KEY, blob BLOB);")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


IOS_LOGICAL = (b"/private/var/mobile/Containers/Data/Application/5C0E0B33-0000-4000-8000-000000000000/Documents/user_scoped/"
               b"9ea0aafe276d670e1a5155f78ee18485/arroyo/arroyo.db")
# An older arroyo build: a strict subset of the columns (ALEAPP: nothing renamed, only absent).
OLD_ARROYO_SCHEMA = """
CREATE TABLE conversation_message (client_conversation_id TEXT NOT NULL, client_message_id INTEGER NOT NULL,
  message_content BLOB, creation_timestamp INTEGER, sender_id TEXT, created_on_device INTEGER,
  PRIMARY KEY (client_conversation_id, client_message_id));
"""


def test_ios_arroyo_with_fewer_columns_is_read(tmp_path: Path) -> None:
    db = build_database(tmp_path / "arroyo.db", OLD_ARROYO_SCHEMA, {"conversation_message": [
        (CONV, 7, _chat("sent from my iPhone"), 1650000300000, ALICE, 1),
        (CONV, 8, _chat("got it"), 1650000360000, BOB, 0),
    ]})
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"snapchat"}
    assert len(parsed.messages) == 2
    assert parsed.messages[0] == Message(
        source_table="conversation_message", source_row_id=1, conversation_id=CONV, sender=Participant(ALICE, None),
        direction="outgoing", sent=1650000300000000000, sent_raw="1650000300000", body="sent from my iPhone", kind="text",
        details={"client_message_id": "7", "content_kind": "chat"},
    )
    assert (parsed.messages[1].direction, parsed.messages[1].body) == ("unknown", "got it")


def test_ios_arroyo_path_with_unknown_schema_is_reported(tmp_path: Path) -> None:
    db = build_database(tmp_path / "arroyo.db", "CREATE TABLE conversation (client_conversation_id TEXT);")
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
    assert "snapchat" in parsed.warnings[0].message


# main.db, Snapchat 10.x: Message and Feed as the decompiled 10.x SQLDelight DDL declares them (every column, in
# order; Feed trimmed to the columns before `kind` that matter here plus kind), Friend as ALEAPP reads it.
MAIN_DB_SCHEMA = """
CREATE TABLE Friend (_id INTEGER PRIMARY KEY AUTOINCREMENT, userId TEXT, username TEXT NOT NULL UNIQUE, displayName TEXT,
  phone TEXT, birthday TEXT, addedTimestamp INTEGER);
CREATE TABLE Feed (_id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, specifiedName TEXT,
  participantString TEXT, fitScreenParticipantString TEXT, participantsSize INTEGER NOT NULL DEFAULT 1, friendRowId INTEGER,
  iterToken TEXT, displayTimestamp INTEGER NOT NULL DEFAULT 0, displayInteractionType TEXT, kind INTEGER NOT NULL);
CREATE TABLE Message (_id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, _modifiedTimestamp INTEGER NOT NULL DEFAULT 0,
  key TEXT NOT NULL UNIQUE, feedRowId INTEGER REFERENCES Feed(_id) ON DELETE CASCADE, timestamp INTEGER NOT NULL,
  seenTimestamp INTEGER, senderId INTEGER, clientStatus TEXT, sequenceNumber INTEGER, type TEXT, cryptoKey TEXT, cryptoIV TEXT,
  mediaId TEXT, mediaType TEXT, mediaUrl TEXT, mediaWidth INTEGER, mediaHeight INTEGER, mediaOwner TEXT, mediaTimerSec REAL,
  mediaIsInfinite INTEGER, mediaZipped INTEGER, mediaVenueId TEXT, mediaSourceId TEXT, payloadId INTEGER, content BLOB,
  preserved INTEGER NOT NULL, savedStates TEXT, released INTEGER NOT NULL DEFAULT 0, messageOrderingKey TEXT,
  screenshottedOrReplayed TEXT, snapServerStatus TEXT, lastInteractionTimestamp INTEGER, viewerList BLOB);
"""
MAIN_LOGICAL_10 = b"/data/data/com.snapchat.android/databases/main.db"
FEED_KEY = "alice_s~bob99"


def _main_content(text: str) -> bytes:
    """A content blob laid out as ALEAPP reads a text row: length byte at 0x28, UTF-8 text from 0x2c."""
    data = text.encode("utf-8")
    return bytes(range(0x28)) + bytes([len(data)]) + b"\x00\x00\x00" + data


def _message_row(row_id: int, key: str, timestamp: int, seen: int | None, sender: int, kind: str, content: object) -> tuple[object, ...]:
    return (row_id, 0, key, 1, timestamp, seen, sender, "RECEIVED", row_id, kind, *([None] * 14), content, 0, None, 1, None, None,
            None, None, None)


def _main_db(tmp_path: Path, messages: list[tuple[object, ...]]) -> Path:
    return build_database(tmp_path / "main.db", MAIN_DB_SCHEMA, {
        "Friend": [(1, ALICE, "alice_s", "Alice S", None, None, 1500000000000), (2, BOB, "bob99", None, None, None, 1500000000000)],
        "Feed": [(1, FEED_KEY, None, "Alice S", None, 2, 1, None, 1530000000000, "TEXT", 0)],
        "Message": messages,
    })


def test_main_db_era_messages_feed_and_friend_names(tmp_path: Path) -> None:
    content = _main_content("see you at 8 ✨")
    db = _main_db(tmp_path, [
        _message_row(1, "m-1", 1530000000123, 1530000100000, 1, "text", content),
        _message_row(2, "m-2", 1530000060000, None, 2, "snap", b"\x0a\x02\x08\x01"),
    ])
    parsed = parse_files(db, logical={db: MAIN_LOGICAL_10})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"snapchat"}
    assert len(parsed.messages) == 2
    assert parsed.messages[0] == Message(
        source_table="Message", source_row_id=1, conversation_id=FEED_KEY, conversation_title="Alice S",
        sender=Participant(ALICE, "Alice S"), direction="unknown", sent=1530000000123000000, sent_raw="1530000000123",
        read=1530000100000000000, body="see you at 8 ✨", kind="text",
        details={"type": "text", "feed_row_id": "1", "sender_row_id": "1", "key": "m-1", "client_status": "RECEIVED",
                 "released": "1", "content_bytes": str(len(content)), "content_hex": content.hex()},
    )
    snap = parsed.messages[1]
    assert (snap.kind, snap.body, snap.sender, snap.details["content_hex"]) == ("media", None, Participant(BOB, "bob99"), "0a020801")


def test_main_db_text_that_does_not_fit_the_layout_is_a_warning(tmp_path: Path) -> None:
    short = b"\x0a\x05hello"
    oversized = bytes(0x28) + bytes([200]) + b"\x00\x00\x00" + b"cut"
    not_utf8 = bytes(0x28) + bytes([2]) + b"\x00\x00\x00" + b"\xff\xfe"
    db = _main_db(tmp_path, [_message_row(1, "m-1", 1530000000000, None, 1, "text", short),
                             _message_row(2, "m-2", 1530000001000, None, 1, "text", oversized),
                             _message_row(3, "m-3", 1530000002000, None, 1, "text", not_utf8),
                             _message_row(4, "m-4", "soon", None, 9, "text", "typed text")])
    parsed = parse_files(db, logical={db: MAIN_LOGICAL_10})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [
        ("bad_blob", 1, "content"), ("bad_blob", 2, "content"), ("bad_blob", 3, "content"), ("bad_time", 4, "timestamp")]
    assert [m.body for m in parsed.messages] == [None, None, None, "typed text"]
    assert parsed.messages[3].sender == Participant("9")  # senderId with no Friend row: the row id only


def test_main_db_without_feed_and_friend_tables(tmp_path: Path) -> None:
    ddl = MAIN_DB_SCHEMA.split("CREATE TABLE Message", 1)[1]
    db = build_database(tmp_path / "main.db", "CREATE TABLE Message" + ddl,
                        {"Message": [_message_row(1, "m-1", 1530000000123, None, 1, "text", _main_content("hi"))]})
    parsed = parse_files(db, logical={db: MAIN_LOGICAL_10})
    assert_no_warnings(parsed)
    (message,) = parsed.messages
    assert (message.conversation_id, message.conversation_title, message.sender, message.body) == (None, None, Participant("1"), "hi")


# tcspahn.db: Chat as the decompiled pre-10 ChatTable declares it, Friends and Conversation as anparser reads them.
TCSPAHN_SCHEMA = """
CREATE TABLE Chat (_id TEXT PRIMARY KEY, type TEXT, ack_id TEXT, recipient TEXT, sender TEXT, is_saved_by_sender BOOLEAN,
  is_saved_by_recipient BOOLEAN, is_released_by_recipient BOOLEAN, send_receive_status TEXT, timestamp INTEGER, seq_num INTEGER,
  text TEXT, media_id TEXT, conversation_id TEXT, sender_message_state_version INTEGER, recipient_message_state_version INTEGER,
  iter_token TEXT, has_links BOOLEAN, target_view TEXT, released_timestamp INTEGER, status_text TEXT);
CREATE TABLE Friends (_id INTEGER PRIMARY KEY, Username TEXT, DisplayName TEXT, PhoneNumber TEXT, AddedMeTimestamp INTEGER,
  AddedThemTimestamp INTEGER);
CREATE TABLE Conversation (_id TEXT PRIMARY KEY, sender TEXT, recipient TEXT, timestamp INTEGER, has_unviewed_snaps BOOLEAN,
  has_unviewed_chats BOOLEAN);
"""
TCSPAHN_LOGICAL = b"/data/data/com.snapchat.android/databases/tcspahn.db"
TC_CONV = "alice_s~bob99"


def _chat_row(chat_id: str, kind: str, sender: str, recipient: str, timestamp: object, text: object, media: str | None = None) -> tuple[object, ...]:
    return (chat_id, kind, "ack-" + chat_id, recipient, sender, 0, 1, 1, "RECEIVED", timestamp, 3, text, media, TC_CONV, 1, 1,
            None, 0, "CHAT", 0, None)


def test_tcspahn_era_chats_with_friend_names(tmp_path: Path) -> None:
    db = build_database(tmp_path / "tcspahn.db", TCSPAHN_SCHEMA, {
        "Chat": [_chat_row("c9f0-1", "text", "alice_s", "bob99", 1420000000123, "hey, it's me"),
                 _chat_row("c9f0-2", "media", "bob99", "alice_s", 1420000060000, None, "media-77"),
                 _chat_row("c9f0-3", "screenshot", "bob99", "alice_s", 1420000120000, None)],
        "Friends": [(1, "alice_s", "Alice S", None, 1400000000000, 1400000000000), (2, "bob99", "", None, None, None)],
        "Conversation": [(TC_CONV, "alice_s", "bob99", 1420000120000, 0, 0)],
    })
    parsed = parse_files(db, logical={db: TCSPAHN_LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"snapchat"}
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == Message(
        source_table="Chat", source_row_id=1, conversation_id=TC_CONV, sender=Participant("alice_s", "Alice S"),
        recipients=(Participant("bob99", None),), direction="unknown", sent=1420000000123000000, sent_raw="1420000000123",
        body="hey, it's me", kind="text",
        details={"chat_id": "c9f0-1", "type": "text", "send_receive_status": "RECEIVED", "is_saved_by_sender": "0",
                 "is_saved_by_recipient": "1"},
    )
    media, screenshot = parsed.messages[1:]
    assert (media.kind, media.body, media.details["media_id"], media.sender) == ("media", None, "media-77", Participant("bob99", None))
    assert (screenshot.kind, screenshot.recipients) == ("system", (Participant("alice_s", "Alice S"),))


def test_tcspahn_minimal_chat_table_and_type_confused_values(tmp_path: Path) -> None:
    db = build_database(tmp_path / "tcspahn.db", "CREATE TABLE Chat (sender, recipient, timestamp, text);", {
        "Chat": [("carol", "dave", 1410000000000, "old build"), (7, None, "noon", b"\xffraw"), ("dave", "carol", 1410000001000, "")]})
    parsed = parse_files(db, logical={db: TCSPAHN_LOGICAL})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 2, "timestamp")]
    first, empty, confused = parsed.messages  # ORDER BY timestamp: SQLite sorts text after numbers
    assert first == Message(source_table="Chat", source_row_id=1, sender=Participant("carol", None), recipients=(Participant("dave", None),),
                            direction="unknown", sent=1410000000000000000, sent_raw="1410000000000", body="old build", kind="text")
    from manifests.records import UndecodedText

    assert (confused.sender, confused.recipients, confused.sent, confused.sent_raw) == (Participant("7", None), (), None, "noon")
    assert isinstance(confused.body, UndecodedText)
    assert (empty.body, empty.kind) == (None, "unknown")


def test_tcspahn_path_without_chat_table_is_reported(tmp_path: Path) -> None:
    db = build_database(tmp_path / "tcspahn.db", "CREATE TABLE Conversation (_id TEXT PRIMARY KEY, sender TEXT);")
    parsed = parse_files(db, logical={db: TCSPAHN_LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
    assert "snapchat" in parsed.warnings[0].message


def test_tcspahn_truncated_file_is_database_unreadable(tmp_path: Path) -> None:
    db = build_database(tmp_path / "tcspahn.db", TCSPAHN_SCHEMA, {
        "Chat": [_chat_row(f"c-{i}", "text", "alice_s", "bob99", 1420000000000 + i, "x" * 3000) for i in range(200)]})
    truncate_to_half(db)
    parsed = parse_files(db, logical={db: TCSPAHN_LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["database_unreadable"]
    assert "expected by snapchat" in parsed.warnings[0].message


def test_main_db_friend_naming_nobody_falls_back_to_the_sender_row(tmp_path: Path) -> None:
    db = _main_db(tmp_path, [_message_row(1, "m-1", 1530000000123, None, 3, "text", _main_content("hi"))])
    with sqlite3.connect(db) as connection:
        connection.execute("INSERT INTO Friend VALUES (3, NULL, '', 'Nameless', NULL, NULL, 0)")
    connection.close()
    parsed = parse_files(db, logical={db: MAIN_LOGICAL_10})
    assert_no_warnings(parsed)
    assert [m.sender for m in parsed.messages] == [Participant("3", "Nameless")]


def test_main_db_unreadable_friend_table_costs_the_names_only(tmp_path: Path) -> None:
    """A side table that fails half way (here a view whose second row overflows) is one error row; every message is read."""
    ddl = MAIN_DB_SCHEMA.replace(MAIN_DB_SCHEMA.split("CREATE TABLE Feed")[0], "")
    db = build_database(tmp_path / "main.db", ddl + """
        CREATE TABLE friend_rows (_id INTEGER, n INTEGER);
        INSERT INTO friend_rows VALUES (1, 1), (2, -9223372036854775808);
        CREATE VIEW Friend AS SELECT _id, CASE WHEN abs(n) > 0 THEN 'u' || _id END AS userId, 'name' || _id AS username,
          NULL AS displayName FROM friend_rows ORDER BY _id;
        """, {"Feed": [(1, FEED_KEY, None, "Alice S", None, 2, 1, None, 1530000000000, "TEXT", 0)],
              "Message": [_message_row(1, "m-1", 1530000000123, None, 1, "text", _main_content("one")),
                          _message_row(2, "m-2", 1530000000124, None, 2, "text", _main_content("two"))]})
    parsed = parse_files(db, logical={db: MAIN_LOGICAL_10})
    assert [m.body for m in parsed.messages] == ["one", "two"]
    assert [(w.kind, w.severity, w.table) for w in parsed.warnings] == [("parse_stopped", "error", "Friend")]
    assert [m.sender for m in parsed.messages] == [Participant("1"), Participant("2")]  # the view fails before its first row
