"""Skype 8+ on Android `live:<id>.db`: a fixture from the documented schema (no corpus sample).

Facts (own words; Autopsy android/skype.py for 8.15.0.428, ALEAPP skype.py): chatItem(conversation_link =
partner id or group id, person_id = writer, is_sender_me 1/0, time Unix ms, content, device_gallery_path,
message_type 3 = call, duration), person/user(entry_id, first_name, last_name), particiapnt(conversation_id,
person_id) lists group members.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, parse_files
from tests.chat.hostile import assert_truncated_store_is_unreadable

LOGICAL = b"/data/data/com.skype.raider/databases/live:alice.db"
GROUP = "19:grp@thread.skype"
DDL = """
CREATE TABLE chatItem (conversation_link TEXT, person_id TEXT, time INTEGER, content TEXT, device_gallery_path TEXT,
  is_sender_me INTEGER, message_type INTEGER, duration INTEGER);
CREATE TABLE person (entry_id TEXT, first_name TEXT, last_name TEXT);
CREATE TABLE user (entry_id TEXT, first_name TEXT, last_name TEXT);
CREATE TABLE particiapnt (conversation_id TEXT, person_id TEXT);
"""
ROWS = {
    "chatItem": [
        ("live:bob", "live:bob", 1600000000123, "hi <b>Alice</b>", None, 0, 1, None),
        ("live:bob", "live:alice", 1600000060000, "hello Bob", None, 1, 1, None),
        ("live:bob", "live:alice", 1600000120000, "photo", "/storage/emulated/0/Pictures/Skype/IMG_1.jpg", 1, 2, None),
        ("live:bob", "live:bob", 1600000180000, None, None, 0, 3, 65000),
        (GROUP, "live:carol", 1600000240000, "group hi", None, 0, 1, None),
        (GROUP, "live:alice", 1600000300000, "group reply", None, 1, 1, None),
    ],
    "person": [("live:bob", "Bob", "Builder"), ("live:carol", "Carol", None)],
    "user": [("live:alice", "Alice", "Owner")],
    "particiapnt": [(GROUP, "live:alice"), (GROUP, "live:bob"), (GROUP, "live:carol")],
}
ALICE = Participant("live:alice", "Alice Owner")
BOB = Participant("live:bob", "Bob Builder")
CAROL = Participant("live:carol", "Carol")


def _db(tmp_path: Path, ddl: str = DDL, rows: dict | None = None) -> Path:
    return build_database(tmp_path / "live:alice.db", ddl, ROWS if rows is None else rows)


def test_chatitem_store(tmp_path: Path) -> None:
    db = _db(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"skype_android"}
    assert len(parsed.messages) == 6
    assert [(m.direction, m.kind) for m in parsed.messages] == [
        ("incoming", "text"), ("outgoing", "text"), ("outgoing", "media"), ("incoming", "call"),
        ("incoming", "text"), ("outgoing", "text")]
    assert parsed.time_range() == ("2020-09-13T12:26:40Z", "2020-09-13T12:31:40Z")
    assert parsed.messages[0] == Message(
        source_table="chatItem", source_row_id=1, conversation_id="live:bob", sender=BOB, recipients=(ALICE,),
        direction="incoming", sent=1600000000123 * 10**6, sent_raw="1600000000123", body="hi <b>Alice</b>", kind="text",
        account_id="live:alice", details={"message_type": "1", "is_sender_me": "0", "person_id": "live:bob"},
    )
    sent, media, call, group_in, group_out = parsed.messages[1:]
    assert (sent.sender, sent.recipients) == (ALICE, (BOB,))
    assert media.attachments == (Attachment(local_path="/storage/emulated/0/Pictures/Skype/IMG_1.jpg"),)
    assert (call.body, call.details["duration"], call.sender) == (None, "65000", BOB)
    assert (group_in.sender, group_in.recipients) == (CAROL, (ALICE, BOB))
    assert (group_out.sender, group_out.recipients) == (ALICE, (BOB, CAROL))


def test_minimum_columns_only(tmp_path: Path) -> None:
    """Only the four columns a message needs: the rest are null, nothing is lost, and no name tables."""
    ddl = "CREATE TABLE chatItem (conversation_link TEXT, time INTEGER, content TEXT, is_sender_me INTEGER);"
    db = _db(tmp_path, ddl, {"chatItem": [("live:bob", 1600000000000, "x", 0), ("live:bob", 1600000001000, "y", 1)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.messages == [
        Message(source_table="chatItem", source_row_id=1, conversation_id="live:bob", sender=Participant("live:bob"),
                direction="incoming", sent=1600000000000 * 10**6, sent_raw="1600000000000", body="x",
                details={"is_sender_me": "0"}),
        Message(source_table="chatItem", source_row_id=2, conversation_id="live:bob", recipients=(Participant("live:bob"),),
                direction="outgoing", sent=1600000001000 * 10**6, sent_raw="1600000001000", body="y",
                details={"is_sender_me": "1"}),
    ]


def test_wrong_types_cost_only_the_field(tmp_path: Path) -> None:
    rows = dict(ROWS)
    rows["chatItem"] = [("live:bob", "live:bob", "yesterday", b"\xffblob", None, "x", "call", None),
                        ("live:bob", "live:bob", 10**18, b"caf\xc3\xa9", None, 0, 1, None)]
    db = _db(tmp_path, rows=rows)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert len(parsed.messages) == 2
    assert [(w.kind, w.table, w.row_id, w.field) for w in parsed.warnings] == [
        ("bad_time", "chatItem", 1, "time"), ("bad_time", "chatItem", 2, "time")]
    odd, far = parsed.messages
    assert (odd.sent, odd.sent_raw, odd.direction, odd.kind, odd.body, odd.details["message_type"]) == (
        None, "yesterday", "unknown", "text", "\\xffblob", "call")
    assert odd.body.raw == b"\xffblob"
    assert (far.sent, far.sent_raw, far.body) == (None, str(10**18), "café")


def test_a_blob_body_that_is_not_utf8_keeps_its_bytes(tmp_path: Path) -> None:
    rows = dict(ROWS)
    rows["chatItem"] = [("live:bob", "live:bob", 1600000000000, b"hi \xff", None, 0, 1, None)]
    db = _db(tmp_path, rows=rows)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    (message,) = parsed.messages
    assert (message.body, message.body.raw) == ("hi \\xff", b"hi \xff")


def test_missing_chatitem_table_is_reported(tmp_path: Path) -> None:
    db = _db(tmp_path, "CREATE TABLE person (entry_id TEXT, first_name TEXT, last_name TEXT);", {})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "schema_unrecognised" and "skype_android" in warning.message


def test_truncated_store_is_a_warning(tmp_path: Path) -> None:
    rows = dict(ROWS)
    rows["chatItem"] = [("live:bob", "live:bob", 1600000000000 + i, "z" * 3000, None, 0, 1, None) for i in range(200)]
    db = _db(tmp_path, rows=rows)
    assert_truncated_store_is_unreadable(db, LOGICAL)


def test_a_damaged_person_table_costs_the_names_only(tmp_path: Path) -> None:
    from tests.chat.hostile import assert_side_table_stopped, filled_last, wreck_side_table

    db = _db(tmp_path, rows=filled_last(ROWS, "person", [(f"live:many{i}", "x" * 300, None) for i in range(200)]))
    wreck_side_table(db, "person")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_side_table_stopped(parsed, "person", len(ROWS["chatItem"]))
    assert parsed.messages[0].sender == BOB  # names before the damaged page are kept
    assert parsed.messages[4].recipients == (ALICE, BOB)  # the owner and the members, read after it, are whole
