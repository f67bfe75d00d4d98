"""Google Messages (bugle_db): fixtures from the documented schema, current and old parts tables.

No corpus sample exists. Facts the fixtures use (own words; sources: AOSP Messaging
DatabaseHelper.java / ParticipantData.java / MessageData.java, ALEAPP googleMessages.py):
- messages.sender_id -> participants._id; participants.sub_id -2 = not the owner, any other value
  (a SIM's subscription id, -1 default) = the owner ("self"), whose normalized_destination is
  usually empty. sent_timestamp / received_timestamp are Unix ms; an outgoing message may have
  sent_timestamp 0 until sent, its received_timestamp is when it was stored.
- message_status 1..9 outgoing, 100..107 incoming; message_protocol 0 SMS, 1 MMS.
- parts: one row per text or media part (content_type text/plain for text); current Google
  Messages adds file_size_bytes (-1 unknown) and local_cache_path, older bugle_db lacks them.
- conversation_participants lists the members other than the owner.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, parse_files

LOGICAL = b"/data/data/com.google.android.apps.messaging/databases/bugle_db"

COMMON = """
CREATE TABLE conversations (_id INTEGER PRIMARY KEY AUTOINCREMENT, sms_thread_id INT DEFAULT(0), name TEXT, latest_message_id INT,
  snippet_text TEXT, current_self_id TEXT);
CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id INT, sender_id INT, sent_timestamp INT DEFAULT(0),
  received_timestamp INT DEFAULT(0), message_protocol INT DEFAULT(0), message_status INT DEFAULT(0), seen INT DEFAULT(0),
  read INT DEFAULT(0), sms_message_uri TEXT, mms_subject TEXT, self_id INT);
CREATE TABLE participants (_id INTEGER PRIMARY KEY AUTOINCREMENT, sub_id INT DEFAULT(-2), sim_slot_id INT DEFAULT(-1),
  normalized_destination TEXT, send_destination TEXT, display_destination TEXT, full_name TEXT, first_name TEXT,
  profile_photo_uri TEXT, contact_id INT DEFAULT(-1), lookup_key STRING, blocked INT DEFAULT(0));
CREATE TABLE conversation_participants (_id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id INT, participant_id INT);
"""
CURRENT_PARTS = """CREATE TABLE parts (_id INTEGER PRIMARY KEY AUTOINCREMENT, message_id INT, text TEXT, uri TEXT, content_type TEXT,
  width INT DEFAULT(-1), height INT DEFAULT(-1), timestamp INT, conversation_id INT NOT NULL, file_size_bytes INT DEFAULT(-1),
  local_cache_path TEXT);"""
OLD_PARTS = """CREATE TABLE parts (_id INTEGER PRIMARY KEY AUTOINCREMENT, message_id INT, text TEXT, uri TEXT, content_type TEXT,
  width INT DEFAULT(-1), height INT DEFAULT(-1), timestamp INT, conversation_id INT NOT NULL);"""

ROWS = {
    "conversations": [(1, 5, "Alice Example", 3, "see pic", "1"), (2, 6, "Hiking group", 4, None, "1")],
    "participants": [(1, -1, 0, None, None, None, None, None, None, -1, None, 0),
                     (2, -2, -1, "+15550001", "5550001", "(555) 000-1", "Alice Example", "Alice", None, 7, "k1", 0),
                     (3, -2, -1, "+15550002", "5550002", "(555) 000-2", "Bob", "Bob", None, 8, "k2", 0),
                     (4, None, -1, "+15550003", None, None, None, None, None, -1, None, 0)],
    "conversation_participants": [(1, 1, 2), (2, 2, 2), (3, 2, 3)],
    "messages": [(1, 1, 2, 1600000000000, 1600000001500, 0, 100, 1, 1, "content://sms/10", None, 1),
                 (2, 1, 1, 0, 1600000100000, 1, 1, 1, 1, "content://mms/11", "trip", 1),
                 (3, 2, 1, 1600000200000, 1600000200100, 0, 2, 1, 1, "content://sms/12", None, 1),
                 (4, 2, 4, 1600000300000, 1600000300500, 0, 100, 0, 0, "content://sms/13", None, 1)],
}
PART_ROWS = [(1, 1, "Are you coming?", None, "text/plain", -1, -1, 1600000001500, 1),
             (2, 2, "see pic", None, "text/plain", -1, -1, 1600000100000, 1),
             (3, 2, None, "content://mms/part/31", "image/jpeg", 640, 480, 1600000100000, 1),
             (4, 3, "Leaving at 8", None, "text/plain", -1, -1, 1600000200100, 2),
             (5, 4, "who is this", None, "text/plain", -1, -1, 1600000300500, 2)]


def _build(path: Path, parts_ddl: str, extra: tuple = ()) -> Path:
    rows = dict(ROWS)
    rows["parts"] = [row + extra for row in PART_ROWS]
    return build_database(path, COMMON + parts_ddl, rows)


def test_current_schema_directions_media_and_golden_record(tmp_path: Path) -> None:
    db = tmp_path / "bugle_db"
    part_rows = [row + (-1, None) for row in PART_ROWS]
    part_rows[2] = PART_ROWS[2] + (48213, "/data/user/0/com.google.android.apps.messaging/cache/parts/31.jpg")
    rows = dict(ROWS, parts=part_rows)
    build_database(db, COMMON + CURRENT_PARTS, rows)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"google_messages"}
    assert len(parsed.messages) == 4
    incoming, picture, group, unknown = parsed.messages
    assert incoming == Message(
        source_table="messages", source_row_id=1, conversation_id="1", conversation_title="Alice Example",
        sender=Participant("+15550001", "Alice Example"), direction="incoming", sent=1600000000000 * 10**6, sent_raw="1600000000000",
        received=1600000001500 * 10**6, body="Are you coming?", kind="text",
        details={"message_status": "100 (incoming complete)", "message_protocol": "0 (sms)", "read": "1", "seen": "1",
                 "sender_sub_id": "-2"},
    )
    assert picture == Message(
        source_table="messages", source_row_id=2, conversation_id="1", conversation_title="Alice Example",
        recipients=(Participant("+15550001", "Alice Example"),), direction="outgoing",
        sent=1600000100000 * 10**6, sent_raw="1600000100000", body="see pic", kind="media",
        attachments=(Attachment(file_name="31", mime_type="image/jpeg", size=48213,
                                local_path="/data/user/0/com.google.android.apps.messaging/cache/parts/31.jpg"),),
        details={"message_status": "1 (outgoing complete)", "message_protocol": "1 (mms)", "read": "1", "seen": "1",
                 "mms_subject": "trip", "sender_sub_id": "-1"},
    )
    assert group.recipients == (Participant("+15550001", "Alice Example"), Participant("+15550002", "Bob"))
    assert (unknown.direction, unknown.sender) == ("unknown", Participant("+15550003"))


def test_old_schema_without_size_and_cache_path(tmp_path: Path) -> None:
    db = _build(tmp_path / "bugle_db", OLD_PARTS)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 4
    assert parsed.messages[1].attachments == (Attachment(file_name="31", mime_type="image/jpeg", local_path="content://mms/part/31"),)
    assert [m.body for m in parsed.messages] == ["Are you coming?", "see pic", "Leaving at 8", "who is this"]


def test_bad_time_is_a_warning_and_the_row_is_kept(tmp_path: Path) -> None:
    db = _build(tmp_path / "bugle_db", OLD_PARTS)
    connection = sqlite3.connect(db)
    connection.execute("UPDATE messages SET sent_timestamp = ? WHERE _id = 3", (99999999999999999,))
    connection.commit()
    connection.close()
    parsed = parse_files(db, logical={db: LOGICAL})
    assert len(parsed.messages) == 4
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 3, "sent_timestamp")]
    assert (parsed.messages[2].sent, parsed.messages[2].sent_raw) == (None, "99999999999999999")


def test_named_like_bugle_db_but_unknown_schema(tmp_path: Path) -> None:
    db = build_database(tmp_path / "bugle_db", "CREATE TABLE messages (_id INTEGER PRIMARY KEY, text TEXT);", {"messages": [(1, "x")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


# _id, conversation_id, sender_id, sent_timestamp, received_timestamp, message_protocol, message_status, seen, read,
# sms_message_uri, mms_subject, self_id
EVENT_ROWS = [(1, 2, 2, 1600000000000, 1600000000500, 3, 109, 1, 1, None, None, 1),  # RCS, incoming displayed
              (2, 2, 1, 1600000010000, 1600000010000, 3, 11, 1, 1, None, None, 1),  # RCS, outgoing displayed (read)
              (3, 2, 3, 0, 1600000020000, 3, 200, 1, 1, None, None, 1),  # tombstone: Bob joined
              (4, 2, 1, 1600000030000, 1600000030000, 3, 216, 1, 1, None, None, 1),  # tombstone: end-to-end encryption on
              (5, 1, 2, 0, 1600000040000, 0, 244, 1, 1, None, None, 1),  # tombstone: missed video call
              (6, 1, 2, 0, 1600000050000, 0, 299, 1, 1, None, None, 1),  # a 2xx no source names
              (7, 1, 2, 1600000060000, 1600000060500, 3, 300, 1, 1, None, None, 1),  # message deleted
              (8, 1, 2, 1600000070000, 1600000070500, 2, 101, 0, 0, "content://mms/20", None, 1),  # MMS not downloaded
              (9, 1, 2, 1600000080000, 1600000080500, 7, 150, 0, 0, None, None, 1)]  # numbers no source names


def test_tombstones_are_system_rows_and_protocols_and_statuses_are_named(tmp_path: Path) -> None:
    db = build_database(tmp_path / "bugle_db", COMMON + OLD_PARTS, dict(ROWS, messages=EVENT_ROWS, parts=[
        (1, 1, "rcs hello", None, "text/plain", -1, -1, 1600000000500, 2),
        (2, 3, "Bob joined", None, "text/plain", -1, -1, 1600000020000, 2)]))
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert [(m.source_row_id, m.kind, m.direction) for m in parsed.messages] == [
        (1, "text", "incoming"), (2, "text", "outgoing"), (3, "system", "unknown"), (4, "system", "unknown"),
        (5, "system", "unknown"), (6, "system", "unknown"), (7, "deleted", "incoming"), (8, "text", "incoming"),
        (9, "text", "incoming")]
    assert [(m.details["message_protocol"], m.details["message_status"]) for m in parsed.messages] == [
        ("3 (rcs)", "109 (incoming displayed)"), ("3 (rcs)", "11 (outgoing displayed)"),
        ("3 (rcs)", "200 (tombstone: participant joined)"), ("3 (rcs)", "216 (tombstone: protocol switch to encrypted rcs)"),
        ("0 (sms)", "244 (tombstone: missed video call)"), ("0 (sms)", "299 (tombstone: unnamed event)"),
        ("3 (rcs)", "300 (message deleted)"), ("2 (mms notification, not downloaded)", "101 (incoming yet to manual download)"),
        ("7 (unknown)", "150 (unknown)")]
    joined = parsed.messages[2]
    assert joined == Message(
        source_table="messages", source_row_id=3, conversation_id="2", conversation_title="Hiking group", direction="unknown",
        sent=1600000020000 * 10**6, sent_raw="1600000020000", body="Bob joined", kind="system",
        details={"message_status": "200 (tombstone: participant joined)", "message_protocol": "3 (rcs)", "read": "1", "seen": "1",
                 "sender_sub_id": "-2", "participant": "+15550002"},
    )
    # The owner's own event: no participant number is recorded for self, so none is named.
    assert "participant" not in parsed.messages[3].details and parsed.messages[3].sent == 1600000030000 * 10**6
    assert (parsed.messages[6].is_deleted, parsed.messages[6].sender) == (True, Participant("+15550001", "Alice Example"))


MINIMAL = """
CREATE TABLE messages (_id INTEGER PRIMARY KEY, conversation_id INT, sender_id INT, sent_timestamp INT, received_timestamp INT);
CREATE TABLE parts (message_id INT, text TEXT);
CREATE TABLE participants (_id INTEGER PRIMARY KEY, sub_id INT);
"""


def test_minimal_bugle_db_only_required_columns(tmp_path: Path) -> None:
    """No conversations, members, status, protocol, part types or participant numbers: every message still read."""
    db = build_database(tmp_path / "bugle_db", MINIMAL, {
        "participants": [(1, -1), (2, -2)],
        "messages": [(1, 7, 2, 1600000000000, 1600000001000), (2, 7, 1, 1600000002000, 1600000002000), (3, 7, 9, 0, 1600000003000)],
        "parts": [(1, "hello"), (2, "hi"), (2, "there"), (3, "who")],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"google_messages"}
    assert len(parsed.messages) == 3
    assert parsed.messages[1] == Message(
        source_table="messages", source_row_id=2, conversation_id="7", direction="outgoing", sent=1600000002000000000,
        sent_raw="1600000002000", body="hi\nthere", kind="text", details={"sender_sub_id": "-1"},
    )
    assert [(m.direction, m.received) for m in parsed.messages] == [("incoming", 1600000001000000000), ("outgoing", None), ("unknown", None)]


AOSP_LOGICAL = b"/data/data/com.android.messaging/databases/bugle_db"


def test_aosp_messaging_bugle_db(tmp_path: Path) -> None:
    """AOSP Messaging's own bugle_db (the OLD_PARTS layout: no file_size_bytes/local_cache_path) at its own path."""
    db = _build(tmp_path / "bugle_db", OLD_PARTS)
    parsed = parse_files(db, logical={db: AOSP_LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"google_messages"}
    assert len(parsed.messages) == 4
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id="1", conversation_title="Alice Example",
        sender=Participant("+15550001", "Alice Example"), direction="incoming", sent=1600000000000000000,
        sent_raw="1600000000000", received=1600000001500000000, body="Are you coming?", kind="text",
        details={"message_status": "100 (incoming complete)", "message_protocol": "0 (sms)", "read": "1", "seen": "1",
                 "sender_sub_id": "-2"},
    )


def test_hostile_minimal_store_types_blobs_and_dangling_ids(tmp_path: Path) -> None:
    db = build_database(tmp_path / "bugle_db", MINIMAL, {
        "participants": [(1, "self"), (2, b"\x00")],
        "messages": [(1, b"\xfe", 1, "soon", None), (2, 7, 2, 2**62, 1), (3, None, None, None, None)],
        "parts": [(1, b"\xff\xfe"), (2, 12), (2, b"caf\xe9"), (99, "orphan part")],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert len(parsed.messages) == 3
    assert sorted((w.kind, w.row_id, w.field) for w in parsed.warnings) == [
        ("bad_time", 1, "sent_timestamp"), ("bad_time", 2, "sent_timestamp")]
    first, second, third = parsed.messages
    assert (first.conversation_id.raw, first.direction, first.body.raw) == (b"\xfe", "outgoing", b"\xff\xfe")
    assert (second.direction, second.body, second.body.raw) == ("outgoing", "12\ncaf\\xe9", b"12\ncaf\xe9")
    assert (third.direction, third.body, third.sent) == ("unknown", None, None)


def test_truncated_minimal_bugle_db_is_one_unreadable_row(tmp_path: Path) -> None:
    from tests.chat.hostile import assert_truncated_store_is_unreadable

    db = build_database(tmp_path / "bugle_db", MINIMAL, {
        "participants": [(1, -2)],
        "messages": [(i, 7, 1, 1600000000000 + i, 1600000000000 + i) for i in range(1, 300)],
        "parts": [(i, "x" * 200) for i in range(1, 300)],
    })
    assert_truncated_store_is_unreadable(db, LOGICAL)
