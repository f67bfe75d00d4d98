"""imo Android `imofriends.db` (+ `accountdb.db`): fixtures built from the documented schema (see parsers/chat/imo.py).

No imo sample is in the corpus (docs/chat-schema-missing-apps.md); the columns are those Autopsy
and ALEAPP query plus those of a public model scaffolded from a real `imofriends.db`.
"""

from __future__ import annotations

import json
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, parse_files, truncate_to_half
from tests.chat.hostile import assert_side_table_stopped, rows_before_damage, wreck_last_page

FOLDER = b"/data/data/com.imo.android.imous/databases/"
LOGICAL = FOLDER + b"imofriends.db"
SCHEMA = """
CREATE TABLE friends (_id INTEGER PRIMARY KEY, buid TEXT UNIQUE, name TEXT, _alias_sl TEXT, display TEXT, icon TEXT);
CREATE TABLE messages (_id INTEGER PRIMARY KEY, buid TEXT, alias TEXT, author TEXT, author_alias TEXT, icon TEXT, imdata TEXT,
  last_message TEXT, message_read INTEGER, message_state INTEGER, message_type INTEGER, msg_id TEXT, timestamp INTEGER,
  view_type INTEGER, delete_type INTEGER, sender_timestamp_nano LONG DEFAULT 0, expiration_timestamp LONG DEFAULT 0,
  seq_number LONG DEFAULT 0, encrypt_flag INTEGER, UNIQUE (buid, timestamp));
CREATE TABLE big_group_message (_id INTEGER PRIMARY KEY, bgid TEXT, timestamp INTEGER, msg_seq INTEGER, imdata TEXT,
  last_message TEXT, message_type INTEGER, user_nickname TEXT);
"""
ACCOUNT_SCHEMA = "CREATE TABLE account (_id INTEGER PRIMARY KEY, uid TEXT, name TEXT);"
BOB, EVE = "u.bob.1234", "u.eve.5678"
T0 = 1_690_000_000_123_456_789  # nanoseconds
PHOTO = {"type": "image", "original_path": "/storage/emulated/0/DCIM/Camera/IMG_0042.jpg",
         "local_path": "/data/user/0/com.imo.android.imous/cache/abc.jpg"}
ROWS = {
    "friends": [(1, BOB, "Bob", None, "Bob", None), (2, EVE, "Eve", None, "Eve", None)],
    "messages": [
        (1, BOB, "Bob", None, None, None, None, "hi, who is this?", 1, 2, 1, "m-1", T0, 1, None, T0 - 5, 0, 1, 0),
        (2, BOB, "Bob", None, None, None, None, "a friend", 0, 3, 0, "m-2", T0 + 10**9, 1, None, 0, 0, 2, 0),
        (3, BOB, "Bob", None, None, None, json.dumps(PHOTO), "", 1, 3, 2, "m-3", T0 + 2 * 10**9, 2, None, 0, 0, 3, 0),
        (4, EVE, "Eve", None, None, None, None, "status?", 1, 1, 7, "m-4", T0 + 3 * 10**9, 1, None, 0, 0, 4, 0),
    ],
    "big_group_message": [(1, "bg.1", T0, 1, None, "group hello", 1, "Zed"), (2, "bg.1", T0 + 1, 2, None, "group bye", 1, "Zed")],
}


def _stores(tmp_path: Path, rows: dict | None = None, schema: str = SCHEMA, account: bool = True) -> tuple[Path, dict[Path, bytes], list[Path]]:
    db = build_database(tmp_path / "imofriends.db", schema, ROWS if rows is None else rows)
    logical = {db: LOGICAL}
    others: list[Path] = []
    if account:
        accounts = build_database(tmp_path / "accountdb.db", ACCOUNT_SCHEMA, {"account": [(1, "u.owner.42", "Owner O")]})
        logical[accounts] = FOLDER + b"accountdb.db"
        others.append(accounts)
    return db, logical, others


def test_fixture_count_golden_record_and_no_unexpected_warnings(tmp_path: Path) -> None:
    db, logical, others = _stores(tmp_path)
    parsed = parse_files(db, *others, logical=logical)
    assert_no_warnings(parsed, allowed=("table_not_read",))
    (info,) = parsed.warnings
    assert (info.kind, info.severity, info.table) == ("table_not_read", "info", "big_group_message")
    assert info.message.startswith("big_group_message: 2 rows of imo big-group messages not read")
    assert parsed.parser_names() == {"imo"}
    assert len(parsed.messages) == 4
    owner, bob = Participant("u.owner.42", "Owner O"), Participant(BOB, "Bob")
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id=BOB, conversation_title="Bob", sender=bob, recipients=(owner,),
        direction="incoming", sent=T0, sent_raw=str(T0), body="hi, who is this?", kind="text", account_id="u.owner.42",
        details={"message_type": "1", "msg_id": "m-1", "message_read": "1", "message_state": "2", "view_type": "1",
                 "alias": "Bob", "sender_timestamp_nano": str(T0 - 5), "expiration_timestamp": "0", "seq_number": "1",
                 "encrypt_flag": "0"},
    )
    reply, photo, odd = parsed.messages[1:]
    assert (reply.direction, reply.sender, reply.recipients) == ("outgoing", owner, (bob,))
    assert (photo.direction, photo.kind, photo.attachments) == ("outgoing", "media", (Attachment(local_path=PHOTO["original_path"]),))
    assert json.loads(photo.details["imdata"]) == PHOTO
    assert (odd.direction, odd.sender, odd.recipients, odd.details["message_type"]) == ("unknown", None, (), "7")


def test_without_account_db_or_friends_the_messages_stay(tmp_path: Path) -> None:
    db, logical, _ = _stores(tmp_path, rows={"messages": [(1, "u.x", None, None, None, None, None, "yo", 0, 1, 1, None, T0, None, None,
                                                           0, 0, 0, None)]},
                             schema="CREATE TABLE messages (_id INTEGER PRIMARY KEY, buid TEXT, alias TEXT, author TEXT, author_alias TEXT,"
                                    " icon TEXT, imdata TEXT, last_message TEXT, message_read INTEGER, message_state INTEGER,"
                                    " message_type INTEGER, msg_id TEXT, timestamp INTEGER, view_type INTEGER, delete_type INTEGER,"
                                    " sender_timestamp_nano LONG, expiration_timestamp LONG, seq_number LONG, encrypt_flag INTEGER);",
                             account=False)
    parsed = parse_files(db, logical=logical)
    assert_no_warnings(parsed)
    assert parsed.messages == [Message(
        source_table="messages", source_row_id=1, conversation_id="u.x", sender=Participant("u.x"), direction="incoming", sent=T0,
        sent_raw=str(T0), body="yo", details={"message_type": "1", "message_read": "0", "message_state": "1", "sender_timestamp_nano": "0",
                                              "expiration_timestamp": "0", "seq_number": "0"})]


def test_minimal_columns_only_still_read(tmp_path: Path) -> None:
    db, logical, _ = _stores(tmp_path, rows={"messages": [(7, "u.y", "ok", 1500000000000000000, 0)]},
                             schema="CREATE TABLE messages (_id INTEGER PRIMARY KEY, buid TEXT, last_message TEXT, timestamp INTEGER,"
                                    " message_type INTEGER);", account=False)
    parsed = parse_files(db, logical=logical)
    assert_no_warnings(parsed)
    assert parsed.messages == [Message(source_table="messages", source_row_id=7, conversation_id="u.y", recipients=(Participant("u.y"),),
                                       direction="outgoing", sent=1500000000000000000, sent_raw="1500000000000000000", body="ok",
                                       details={"message_type": "0"})]


def test_wrong_types_and_bad_json_are_warnings_and_rows_stay(tmp_path: Path) -> None:
    rows = {"friends": [], "big_group_message": [],
            "messages": [(1, 4242, None, None, None, None, "{not json", b"\xff\xfe", 1, 1, "one", None, "soon", None, None, 0, 0, 0, None),
                         (2, BOB, None, None, None, None, "[1, 2]", "fine", 1, 1, 1, None, 9_000_000_000_000_000_000, None, None, 0, 0, 0, None)]}
    db, logical, others = _stores(tmp_path, rows=rows)
    parsed = parse_files(db, *others, logical=logical)
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_json", 1, "imdata"), ("bad_time", 1, "timestamp"),
                                                                       ("bad_time", 2, "timestamp")]
    first, second = parsed.messages
    assert (first.conversation_id, first.body.raw, first.direction, first.sent, first.sent_raw) == ("4242", b"\xff\xfe", "unknown", None, "soon")
    assert (second.kind, second.attachments, second.details["imdata"]) == ("text", (), "[1, 2]")


def test_truncated_store_is_an_error_row(tmp_path: Path) -> None:
    rows = {**ROWS, "messages": [(i, BOB, None, None, None, None, None, "x" * 2000, 1, 1, 1, None, T0 + i, None, None, 0, 0, 0, None)
                                 for i in range(1, 120)]}
    db, logical, others = _stores(tmp_path, rows=rows)
    truncate_to_half(db)
    parsed = parse_files(db, *others, logical=logical)
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "database_unreadable" and "expected by imo" in warning.message


def test_corrupt_data_page_keeps_rows_before_it(tmp_path: Path) -> None:
    rows = {"messages": [(i, BOB, "y" * 1500, T0 + i, 1) for i in range(1, 60)]}
    db, logical, _ = _stores(tmp_path, rows=rows, account=False,
                             schema="CREATE TABLE messages (_id INTEGER PRIMARY KEY, buid TEXT, last_message TEXT, timestamp INTEGER,"
                                    " message_type INTEGER);")
    wreck_last_page(db)
    readable = rows_before_damage(db, "SELECT rowid, * FROM messages ORDER BY rowid")
    parsed = parse_files(db, logical=logical)
    assert 0 < readable < 59 and len(parsed.messages) == readable
    (warning,) = parsed.warnings
    assert (warning.kind, warning.severity) == ("parse_stopped", "error")
    assert f"reading stopped after {readable} messages" in warning.message


def test_missing_table_at_imo_path_is_schema_unrecognised(tmp_path: Path) -> None:
    db, logical, _ = _stores(tmp_path, rows={"friends": [(1, BOB, "Bob", None, "Bob", None)]}, account=False,
                             schema="CREATE TABLE friends (_id INTEGER PRIMARY KEY, buid TEXT, name TEXT, _alias_sl TEXT, display TEXT,"
                                    " icon TEXT);")
    parsed = parse_files(db, logical=logical)
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "schema_unrecognised" and "path expected by imo" in warning.message


def test_unreadable_account_db_is_a_warning_and_messages_stay(tmp_path: Path) -> None:
    db, logical, _ = _stores(tmp_path, account=False)
    broken = tmp_path / "accountdb.db"
    broken.write_bytes(b"\x00" * 100)
    logical[broken] = FOLDER + b"accountdb.db"
    parsed = parse_files(db, broken, logical=logical)
    assert [w.kind for w in parsed.warnings] == ["companion_unreadable", "table_not_read"]
    assert len(parsed.messages) == 4
    assert (parsed.messages[1].sender, parsed.messages[1].account_id) == (None, None)


def test_a_damaged_friends_table_costs_the_names_only(tmp_path: Path) -> None:
    many = ROWS["friends"] + [(3 + i, f"u.many.{i}", "x" * 300, None, None, None) for i in range(200)]
    # friends is filled last, so the file's last page is one of its leaves
    rows = {table: value for table, value in ROWS.items() if table != "friends"}
    db, logical, others = _stores(tmp_path, {**rows, "friends": many})
    wreck_last_page(db)
    assert rows_before_damage(db, "SELECT * FROM friends") < len(many)
    parsed = parse_files(db, *others, logical=logical)
    assert_side_table_stopped(parsed, "friends", len(ROWS["messages"]))
    assert parsed.messages[0].sender == Participant(BOB, "Bob")  # names before the damaged page are kept
