"""Google Chat dynamite.db (Android and iOS), from fixtures built here (no corpus sample).

Facts used (see parsers/chat/google_chat.py; sources: ALEAPP and iLEAPP `googleChat.py`):
`topic_messages(create_time µs, text_body, creator_id -> users.user_id, group_id -> Groups.group_id,
annotation, reactions)`, `Groups(group_id, name, group_type 1 group / 2 direct)`, `users(user_id, name,
email)`; the account folder `user_accounts/<e-mail>` (Android) or `user_accounts/<user id>` (iOS)
names the owner; annotation protobuf 1.10.3/1.10.4 = image file name and MIME type; a blob starting
FE FF 00 is empty; reactions protobuf 1.1.1.1 = emoji, 1.2.1 = reacting user.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from parsers.decode.protobuf import encode_field
from tests.chat.helpers import assert_no_warnings, build_database, parse_files, truncate_to_half
from tests.chat.hostile import wreck_middle_page

ANDROID = b"/data/data/com.google.android.apps.dynamite/databases/user_accounts/ann.owner@example.com/dynamite.db"
GMAIL = b"/data/data/com.google.android.gm/databases/user_accounts/ann.owner@example.com/dynamite.db"
TOP = b"/data/data/com.google.android.apps.dynamite/databases/dynamite.db"
IOS = b"/private/var/mobile/Containers/Data/Application/0A1B/Documents/user_accounts/111000111/dynamite.db"

# Columns beyond those the sources name (message_id, topic_id) are what a newer store may add.
SCHEMA = """
CREATE TABLE topic_messages (message_id TEXT, topic_id TEXT, group_id TEXT, creator_id TEXT, create_time INTEGER,
  text_body TEXT, annotation BLOB, reactions BLOB);
CREATE TABLE Groups (group_id TEXT PRIMARY KEY, name TEXT, group_type INTEGER, creator_id TEXT, create_time INTEGER,
  last_view_time INTEGER);
CREATE TABLE users (user_id TEXT PRIMARY KEY, name TEXT, email TEXT, avatar_url TEXT, last_updated_time_micros INTEGER);
"""
ANN = "111000111"
BEN = "222000222"
CARA = "333000333"
USERS = [(ANN, "Ann Owner", "ann.owner@example.com", None, 1650000000000000),
         (BEN, "Ben B", "ben@example.com", None, 1650000000000000),
         (CARA, "Cara C", None, None, None)]
GROUPS = [("dm/AAAA", "", 2, ANN, 1650000000000000, None), ("space/BBBB", "Night shift", 1, BEN, 1650000000000000, None)]


def _image(name: str, mime: str) -> bytes:
    return encode_field(1, encode_field(10, encode_field(3, name) + encode_field(4, mime) + encode_field(5, encode_field(1, 640))))


def _meeting(url: str, code: str) -> bytes:
    return encode_field(1, encode_field(12, encode_field(1, encode_field(2, url) + encode_field(3, code))))


def _reaction(emoji: str, user: str) -> bytes:
    return encode_field(1, encode_field(1, encode_field(1, encode_field(1, emoji)) + encode_field(4, 1650000100000000))
                        + encode_field(2, encode_field(1, user)))


ROWS = [
    ("m1", "t1", "dm/AAAA", BEN, 1650000000123456, "are you alone?", b"", b"\xfe\xff\x00"),
    ("m2", "t1", "dm/AAAA", ANN, 1650000060000000, "yes", b"\xfe\xff\x00\x01", _reaction("👍", BEN)),
    ("m3", "t2", "space/BBBB", CARA, 1650000120000000, "", _image("IMG_0042.jpg", "image/jpeg"), None),
    ("m4", "t2", "space/BBBB", ANN, 1650000180000000, "seen it", None, None),
    ("m5", "t2", "space/BBBB", BEN, 1650000240000000, "join here", _meeting("https://meet.example/abc-defg-hij", "abc-defg-hij"), None),
]


def _fixture(tmp_path: Path, rows: list[tuple] | None = None) -> Path:
    return build_database(tmp_path / "dynamite.db", SCHEMA, {"users": USERS, "Groups": GROUPS, "topic_messages": ROWS if rows is None else rows})


def test_android_account_messages_and_golden_record(tmp_path: Path) -> None:
    db = _fixture(tmp_path)
    parsed = parse_files(db, logical={db: ANDROID})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"google_chat"}
    assert len(parsed.messages) == 5
    me, ben, cara = Participant(ANN, "Ann Owner"), Participant(BEN, "Ben B"), Participant(CARA, "Cara C")
    assert parsed.messages[1] == Message(
        source_table="topic_messages", source_row_id=2, conversation_id="dm/AAAA", conversation_title=None,
        sender=me, recipients=(ben,), direction="outgoing", sent=1650000060000000000, sent_raw="1650000060000000",
        body="yes", kind="text", account_id=ANN,
        details={"message_id": "m2", "topic_id": "t1", "group_type": "2 (direct)", "reaction": "👍", "reaction_user": BEN},
    )
    first, _, third, fourth, fifth = parsed.messages
    assert (first.direction, first.sender, first.recipients, first.sent) == ("incoming", ben, (me,), 1650000000123456000)
    assert (third.kind, third.attachments, third.conversation_title, third.direction) == (
        "media", (Attachment(file_name="IMG_0042.jpg", mime_type="image/jpeg"),), "Night shift", "incoming")
    assert (fourth.direction, fourth.recipients) == ("outgoing", (ben, cara))  # writers sorted by id
    assert (fifth.kind, fifth.details) == ("text", {"message_id": "m5", "topic_id": "t2", "group_type": "1 (group)",
                                                    "meeting_url": "https://meet.example/abc-defg-hij", "meeting_code": "abc-defg-hij"})
    assert [p.record_state for p in parsed.parsed] == ["live"] * 5


def test_gmail_embedded_chat_is_read_the_same(tmp_path: Path) -> None:
    db = _fixture(tmp_path)
    parsed = parse_files(db, logical={db: GMAIL})
    assert_no_warnings(parsed)
    assert [m.direction for m in parsed.messages] == ["incoming", "outgoing", "incoming", "outgoing", "incoming"]


def test_ios_account_folder_is_the_owner_id(tmp_path: Path) -> None:
    db = _fixture(tmp_path)
    parsed = parse_files(db, logical={db: IOS})
    assert_no_warnings(parsed)
    assert [m.direction for m in parsed.messages] == ["incoming", "outgoing", "incoming", "outgoing", "incoming"]
    assert {m.account_id for m in parsed.messages} == {ANN}


def test_without_account_folder_direction_is_unknown(tmp_path: Path) -> None:
    db = _fixture(tmp_path)
    parsed = parse_files(db, logical={db: TOP})
    assert_no_warnings(parsed)
    assert [(m.direction, m.recipients, m.account_id) for m in parsed.messages] == [("unknown", (), None)] * 5


def test_android_email_not_in_users_leaves_direction_unknown(tmp_path: Path) -> None:
    db = build_database(tmp_path / "dynamite.db", SCHEMA, {"users": USERS[1:], "Groups": GROUPS, "topic_messages": ROWS})
    parsed = parse_files(db, logical={db: ANDROID})
    assert_no_warnings(parsed)
    assert {m.direction for m in parsed.messages} == {"unknown"}
    assert parsed.messages[1].sender == Participant(ANN, None)


def test_minimal_store_without_groups_and_users(tmp_path: Path) -> None:
    """Only the required columns: names and titles are missing, every message is still read."""
    db = build_database(tmp_path / "dynamite.db", "CREATE TABLE topic_messages (group_id TEXT, creator_id TEXT, create_time INTEGER, text_body TEXT);",
                        {"topic_messages": [("dm/AAAA", BEN, 1650000000000000, "hi"), ("dm/AAAA", ANN, 1650000001000000, "hey")]})
    parsed = parse_files(db, logical={db: IOS})
    assert_no_warnings(parsed)
    assert parsed.messages[0] == Message(
        source_table="topic_messages", source_row_id=1, conversation_id="dm/AAAA", sender=Participant(BEN),
        recipients=(Participant(ANN),), direction="incoming", sent=1650000000000000000, sent_raw="1650000000000000",
        body="hi", kind="text", account_id=ANN, details={})
    assert len(parsed.messages) == 2


def test_bad_values_are_warnings_and_the_rest_go_on(tmp_path: Path) -> None:
    rows = [ROWS[0],
            ("m5", "t1", "dm/AAAA", BEN, "yesterday", "text time", None, None),  # a time that is text
            ("m6", "t1", "dm/AAAA", BEN, 99999999999999999, "far future", None, None),  # past 2100 as µs
            ("m7", "t1", "dm/AAAA", BEN, 1650000200000000, "broken blob", b"\x0a\x05\x01", b"\x0a\xff"),  # truncated protobuf
            ("m8", "t1", 42, 7, 1650000300000000, b"bytes \xff body", None, None)]  # integers and bytes where text is usual
    db = _fixture(tmp_path, rows)
    parsed = parse_files(db, logical={db: ANDROID})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [
        ("bad_time", 2, "create_time"), ("bad_time", 3, "create_time"), ("bad_blob", 4, "annotation"), ("bad_blob", 4, "reactions")]
    assert len(parsed.messages) == 5
    assert [(m.sent, m.sent_raw) for m in parsed.messages[1:3]] == [(None, "yesterday"), (None, "99999999999999999")]
    assert (parsed.messages[3].body, parsed.messages[3].attachments) == ("broken blob", ())
    last = parsed.messages[4]
    assert (last.conversation_id, last.sender, last.direction) == ("42", Participant("7"), "incoming")
    assert (last.body, last.body.raw) == ("bytes \\xff body", b"bytes \xff body")  # exact bytes kept


def test_missing_table_at_the_app_path_is_schema_unrecognised(tmp_path: Path) -> None:
    db = build_database(tmp_path / "dynamite.db", "CREATE TABLE Groups (group_id TEXT, name TEXT); CREATE TABLE users (user_id TEXT, name TEXT);")
    parsed = parse_files(db, logical={db: ANDROID})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "schema_unrecognised"
    assert "google_chat" in warning.message and "tables: groups, users" in warning.message


def test_truncated_store_is_database_unreadable(tmp_path: Path) -> None:
    rows = [(f"m{i}", "t", "dm/AAAA", BEN, 1650000000000000 + i, "x" * 2000, None, None) for i in range(200)]
    db = _fixture(tmp_path, rows)
    truncate_to_half(db)
    parsed = parse_files(db, logical={db: ANDROID})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "database_unreadable" and "google_chat" in warning.message


def test_corrupt_data_page_stops_with_an_error_row(tmp_path: Path) -> None:
    rows = [(f"m{i}", "t", "dm/AAAA", BEN, 1650000000000000 + i, "y" * 1500, None, None) for i in range(300)]
    db = _fixture(tmp_path, rows)
    wreck_middle_page(db, 0xA5)  # a page in the middle of topic_messages' leaves
    parsed = parse_files(db, logical={db: ANDROID})
    assert [(w.kind, w.severity) for w in parsed.warnings] == [("parse_stopped", "error")] * 2
    assert "the writers of each conversation could not be read whole" in parsed.warnings[0].message
    assert "reading stopped after 143 messages: DatabaseError: database disk image is malformed" in parsed.warnings[1].message
    # the rows before the wrecked page are kept, in order
    assert [m.details["message_id"] for m in parsed.messages] == [f"m{i}" for i in range(143)]


def test_without_rowid_table_is_still_read(tmp_path: Path) -> None:
    """A WITHOUT ROWID topic_messages (not excluded by any source) loses no message: rows come without a row id."""
    db = build_database(tmp_path / "dynamite.db", """
        CREATE TABLE topic_messages (message_id TEXT PRIMARY KEY, group_id TEXT, creator_id TEXT, create_time INTEGER,
          text_body TEXT) WITHOUT ROWID;""", {"topic_messages": [("m2", "dm/AAAA", ANN, 1650000001000000, "second"),
                                                               ("m1", "dm/AAAA", BEN, 1650000000000000, "first")]})
    parsed = parse_files(db, logical={db: IOS})
    assert_no_warnings(parsed)  # no WAL here: nothing to compare, nothing to say
    assert [(m.source_row_id, m.details["message_id"], m.direction, m.recipients) for m in parsed.messages] == [
        (None, "m1", "incoming", (Participant(ANN),)), (None, "m2", "outgoing", (Participant(BEN),))]


def test_rows_only_in_the_wal_are_marked(tmp_path: Path) -> None:
    db = _fixture(tmp_path, ROWS[:2])
    keeper = sqlite3.connect(db)  # holds the WAL open so it is not checkpointed away at close
    keeper.execute("PRAGMA journal_mode=WAL")
    keeper.execute("PRAGMA wal_autocheckpoint=0")
    keeper.execute("INSERT INTO topic_messages VALUES ('m9', 't1', 'dm/AAAA', ?, 1650000400000000, 'only in the wal', NULL, NULL)", (BEN,))
    keeper.commit()
    try:
        parsed = parse_files(db, logical={db: ANDROID})
    finally:
        keeper.close()
    assert_no_warnings(parsed)
    assert [(p.message.details["message_id"], p.record_state) for p in parsed.parsed] == [("m1", "live"), ("m2", "live"), ("m9", "wal_only")]


def test_names_that_are_not_text_keep_every_message(tmp_path: Path) -> None:
    # A user name that is a blob or a number, a space name that is a blob: the names are read as text, never dropped
    users = [(ANN, "Ann Owner", "ann.owner@example.com", None, None), (BEN, b"Ben \xff", None, None, None), (CARA, 404, None, None, None)]
    groups = [("dm/AAAA", 12, 2, ANN, None, None), ("space/BBBB", b"Night \xfe", 1, BEN, None, None)]
    db = build_database(tmp_path / "dynamite.db", SCHEMA, {"users": users, "Groups": groups, "topic_messages": ROWS})
    parsed = parse_files(db, logical={db: ANDROID})
    assert parsed.warnings == []
    assert [(m.conversation_title, m.sender.name) for m in parsed.messages] == [
        ("12", "Ben \\xff"), ("12", "Ann Owner"), ("Night \\xfe", "404"), ("Night \\xfe", "Ann Owner"), ("Night \\xfe", "Ben \\xff")]
    assert parsed.messages[0].sender.name.raw == b"Ben \xff"


def test_a_damaged_users_table_costs_the_names_only(tmp_path: Path) -> None:
    from tests.chat.hostile import rows_before_damage, wreck_last_page

    many = USERS + [(str(900000000 + i), "x" * 300, None, None, None) for i in range(200)]
    # users is filled last, so the file's last page is one of its leaves
    db = build_database(tmp_path / "dynamite.db", SCHEMA, {"Groups": GROUPS, "topic_messages": ROWS, "users": many})
    wreck_last_page(db)
    assert rows_before_damage(db, "SELECT * FROM users") < len(many)
    parsed = parse_files(db, logical={db: ANDROID})
    assert len(parsed.messages) == len(ROWS)
    (stopped,) = [w for w in parsed.warnings if w.severity == "error"]
    assert (stopped.kind, stopped.table) == ("parse_stopped", "users")
    assert "side table users could not be read whole" in stopped.message
    assert parsed.messages[0].sender.name == "Ben B"  # names before the damaged page are kept
