"""Snapchat Android arroyo.db, from fixtures built here (no corpus sample).

Facts used (see parsers/chat/snapchat.py; sources: SnapEnhance `ConversationMessage.kt` and
`SnapEnums.kt`, ALEAPP snapchat module): `conversation_message` keyed by
(client_conversation_id, client_message_id), creation_timestamp in Unix ms, content_type 1 = chat,
0 = snap, 5 = sticker; message_content protobuf: 4 -> 4 is the container, 2 -> 1 the chat text,
11 a snap. Friend names in main.db `Friend(userId, displayName, username)`.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Message, Participant
from parsers.decode.protobuf import encode_field
from tests.chat.helpers import assert_no_warnings, build_database, parse_files

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
        details={"content_type": "1 (chat)", "server_message_id": "101", "content_kind": "chat"},
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
