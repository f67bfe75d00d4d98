"""Skype for Windows 10 12.x `skype.db`: a fixture from the documented columns (no corpus sample).

Facts (own words; Mobius Forensic Toolkit file_skype_db.cpp, schema versions 533-3576; bebinary4n6 2019 for
the path): messages(author MRI, content, convdbid, originalarrivaltime Unix ms, clientmessageid, id, dbid,
editedtime, messagetype, sendingstatus, skypeguid, is_preview, properties, json, version, smsmessagedbid ->
sms_messages.dbid), contacts(mri, display_name, full_name), key_value(key, value): mePersonMri = owner,
ACCOUNT_FULLNAME; AppSchemaVersion(SQLiteSchemaVersion).
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, parse_files
from tests.chat.hostile import assert_truncated_store_is_unreadable

LOGICAL = (b"/Users/ann/AppData/Local/Packages/Microsoft.SkypeApp_kzf8qxf38zg5c/LocalState/live#3aalice/skype.db")
DDL = """
CREATE TABLE AppSchemaVersion (SQLiteSchemaVersion INTEGER);
CREATE TABLE messages (dbid INTEGER PRIMARY KEY, id INTEGER, author TEXT, clientmessageid INTEGER, content TEXT,
  convdbid INTEGER, editedtime INTEGER, is_preview INTEGER, json TEXT, messagetype INTEGER, originalarrivaltime INTEGER,
  properties TEXT, sendingstatus INTEGER, skypeguid TEXT, smsmessagedbid INTEGER, version INTEGER);
CREATE TABLE sms_messages (dbid INTEGER PRIMARY KEY, mmsdownloadstatus INTEGER, smstransportid TEXT, smstransportname TEXT,
  unistoreid TEXT);
CREATE TABLE contacts (mri TEXT, display_name TEXT, full_name TEXT, mood TEXT);
CREATE TABLE key_value (key TEXT, value TEXT);
"""
ROWS = {
    "AppSchemaVersion": [(835,)],
    "messages": [
        (1, 1555000000001, "8:live:bob", 7001, "hi <b>Alice</b>", 3, None, 0, None, 3, 1555000000123, None, 2, None, None, 1),
        (2, 1555000000002, "8:live:alice", 7002, "hello", 3, None, 0, None, 3, 1555000060000, None, 2, None, None, 1),
        (3, 1555000000003, "4:+15551234567", 7003, "sms text", 4, None, 0, None, 3, 1555000120000, None, 2, None, 1, 1),
        (4, 1555000000004, "8:live:bob", 7004, "edited", 3, 1555000200000, 0, None, 3, 1555000180000, None, 2, None, None, 2),
    ],
    "sms_messages": [(1, 0, "t1", "Carrier", "u1")],
    "contacts": [("8:live:bob", "Bobby", "Bob Builder", None), ("8:live:alice", None, "Alice A", None)],
    "key_value": [("mePersonMri", "8:live:alice"), ("ACCOUNT_FULLNAME", "Alice Owner"), ("conv_lastsynctime", "1555000300000")],
}
ALICE = Participant("8:live:alice", "Alice Owner")
BOB = Participant("8:live:bob", "Bobby")


def _db(tmp_path: Path, ddl: str = DDL, rows: dict | None = None) -> Path:
    return build_database(tmp_path / "skype.db", ddl, ROWS if rows is None else rows)


def test_skype_db_store(tmp_path: Path) -> None:
    db = _db(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"skype_uwp"}
    assert len(parsed.messages) == 4
    assert [(m.direction, m.kind) for m in parsed.messages] == [
        ("incoming", "unknown"), ("outgoing", "unknown"), ("incoming", "text"), ("incoming", "unknown")]
    assert parsed.time_range() == ("2019-04-11T16:26:40Z", "2019-04-11T16:29:40Z")
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id="3", sender=BOB, recipients=(ALICE,),
        direction="incoming", sent=1555000000123 * 10**6, sent_raw="1555000000123", body="hi <b>Alice</b>", kind="unknown",
        account_id="8:live:alice",
        details={"id": "1555000000001", "dbid": "1", "clientmessageid": "7001", "messagetype": "3", "sendingstatus": "2",
                 "is_preview": "0"},
    )
    sent, sms, edited = parsed.messages[1:]
    assert (sent.sender, sent.recipients) == (ALICE, ())
    assert (sms.sender, sms.details["smsmessagedbid"], sms.details["smstransportname"]) == (
        Participant("4:+15551234567"), "1", "Carrier")
    assert edited.details["editedtime"] == "1555000200000"


def test_minimum_columns_only(tmp_path: Path) -> None:
    ddl = "CREATE TABLE messages (author TEXT, content TEXT, convdbid INTEGER, originalarrivaltime INTEGER);"
    db = _db(tmp_path, ddl, {"messages": [("8:bob", "x", 1, 1555000000000)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    # No key_value table: the owner, and so the direction, is unknown.
    assert parsed.messages == [Message(source_table="messages", source_row_id=1, conversation_id="1", sender=Participant("8:bob"),
                                       sent=1555000000000 * 10**6, sent_raw="1555000000000", body="x", kind="unknown")]


def test_wrong_types_cost_only_the_field(tmp_path: Path) -> None:
    rows = dict(ROWS)
    rows["messages"] = [(1, None, 8, None, b"\xff\xfe", "c", None, None, None, "x", "later", None, None, None, None, None),
                        (2, None, "8:live:alice", None, b"ok", 3, None, None, None, 3, -10**17, None, None, None, None, None)]
    db = _db(tmp_path, rows=rows)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert len(parsed.messages) == 2
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [
        ("bad_time", 1, "originalarrivaltime"), ("bad_time", 2, "originalarrivaltime")]
    odd, far = parsed.messages
    assert (odd.sender, odd.direction, odd.body, odd.body.raw, odd.conversation_id, odd.sent_raw) == (
        Participant("8"), "incoming", "\\xff\\xfe", b"\xff\xfe", "c", "later")
    assert (far.direction, far.body) == ("outgoing", "ok")


def test_a_blob_body_that_is_not_utf8_keeps_its_bytes(tmp_path: Path) -> None:
    rows = dict(ROWS)
    rows["messages"] = [(1, 1555000000001, "8:live:bob", 7001, b"hi \xff", 3, None, 0, None, 3, 1555000000123, None, 2, None, None, 1)]
    db = _db(tmp_path, rows=rows)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    (message,) = parsed.messages
    assert (message.body, message.body.raw) == ("hi \\xff", b"hi \xff")


def test_missing_messages_table_is_reported(tmp_path: Path) -> None:
    db = _db(tmp_path, "CREATE TABLE key_value (key TEXT, value TEXT);", {})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "schema_unrecognised" and "skype_uwp" in warning.message


def test_truncated_store_is_a_warning(tmp_path: Path) -> None:
    rows = dict(ROWS)
    rows["messages"] = [(i, i, "8:live:bob", i, "v" * 3000, 3, None, 0, None, 3, 1555000000000 + i, None, 2, None, None, 1)
                        for i in range(1, 200)]
    db = _db(tmp_path, rows=rows)
    assert_truncated_store_is_unreadable(db, LOGICAL)


def test_a_damaged_contacts_table_costs_the_names_only(tmp_path: Path) -> None:
    from tests.chat.hostile import assert_side_table_stopped, filled_last, wreck_side_table

    db = _db(tmp_path, rows=filled_last(ROWS, "contacts", [(f"8:live:many{i}", "x" * 300, None, None) for i in range(200)]))
    wreck_side_table(db, "contacts")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_side_table_stopped(parsed, "contacts", len(ROWS["messages"]))
    assert parsed.messages[0].sender == BOB  # names before the damaged page are kept
