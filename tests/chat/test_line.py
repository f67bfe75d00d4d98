"""LINE Android `naver_line` and `call_history`, iOS `Line.sqlite`: fixtures built from the documented schema.

No LINE sample is in the corpus (docs/chat-schema-missing-apps.md); the tables and columns are
those of a public model generated from a real `naver_line`, of the Autopsy and ALEAPP LINE
modules and, for iOS, of public iOS-backup extraction code and blog notes (see parsers/chat/line.py).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import Parsed, assert_no_warnings, build_database, parse_files, truncate_to_half
from tests.chat.hostile import assert_side_table_stopped, filled_last, rows_before_damage, wreck_last_page, wreck_side_table

FOLDER = b"/data/data/jp.naver.line.android/databases/"
LOGICAL = FOLDER + b"naver_line"
CHAT_HISTORY = """
CREATE TABLE chat_history (id INTEGER PRIMARY KEY AUTOINCREMENT, server_id TEXT, type INTEGER, chat_id TEXT, from_mid TEXT,
  content TEXT, created_time TEXT, delivered_time TEXT, status INTEGER, sent_count INTEGER, read_count INTEGER, location_name TEXT,
  location_address TEXT, location_phone TEXT, location_latitude INTEGER, location_longitude INTEGER, attachement_image INTEGER,
  attachement_image_height INTEGER, attachement_image_width INTEGER, attachement_image_size INTEGER, attachement_type INTEGER,
  attachement_local_uri TEXT, parameter TEXT, chunks BLOB);
"""
SCHEMA = CHAT_HISTORY + """
CREATE TABLE chat (chat_id TEXT PRIMARY KEY, chat_name TEXT, owner_mid TEXT, last_from_mid TEXT, last_message TEXT, type INTEGER);
CREATE TABLE chat_member (chat_id TEXT, mid TEXT, created_time TEXT, UNIQUE (chat_id, mid));
CREATE TABLE contacts (m_id TEXT PRIMARY KEY, contact_id TEXT, name TEXT, server_name TEXT, custom_name TEXT, created_time INTEGER);
CREATE TABLE groups (id TEXT PRIMARY KEY, name TEXT, creator TEXT, created_time INTEGER);
CREATE TABLE membership (id TEXT, m_id TEXT, is_accepted INTEGER, updated_time INTEGER, created_time INTEGER, PRIMARY KEY (id, m_id));
"""
KEN, YUKI, GROUP = "u1a2b3c4d5e6f708192a3b4c5d6e7f809", "u9f8e7d6c5b4a39281706f5e4d3c2b1a0", "c0ffee00112233445566778899aabbcc"
T0 = 1_700_000_000_000


def _row(i: int, chat: str, sender: str | None, content: str | None, **extra: object) -> tuple:
    values = {"id": i, "server_id": str(50_000 + i), "type": 1, "chat_id": chat, "from_mid": sender, "content": content,
              "created_time": str(T0 + i * 1000), "delivered_time": "0", "status": 1 if sender else 3, "sent_count": 0 if sender else 1,
              "read_count": 0, "location_name": None, "location_address": None, "location_phone": None, "location_latitude": 0,
              "location_longitude": 0, "attachement_image": 0, "attachement_image_height": 0, "attachement_image_width": 0,
              "attachement_image_size": 0, "attachement_type": 0, "attachement_local_uri": None, "parameter": None, "chunks": None}
    values.update(extra)
    return tuple(values.values())


ROWS = {
    "chat_history": [
        _row(1, KEN, KEN, "hello from Ken"),
        _row(2, KEN, None, "hi Ken"),
        _row(3, KEN, "", None, attachement_type=1, attachement_local_uri="/storage/emulated/0/Pictures/LINE/line_1.jpg"),
        _row(4, GROUP, YUKI, "meet at 8?", status=1),
        _row(5, GROUP, None, "ok", status=7),
        _row(6, KEN, KEN, None, location_name="Shibuya Station", location_latitude=35658034, location_longitude=139701636),
    ],
    "chat": [(KEN, None, None, KEN, "hello", 1), (GROUP, "Night Owls", KEN, YUKI, "ok", 2)],
    "chat_member": [(GROUP, KEN, None), (GROUP, YUKI, None)],
    "contacts": [(KEN, "c1", "Ken", "Ken S.", None, 0), (YUKI, "c2", None, "Yuki", "Yuki (work)", 0)],
    "groups": [(GROUP, "Night Owls (group)", KEN, 0)],
    "membership": [(GROUP, KEN, 1, 0, 0), (GROUP, YUKI, 1, 0, 0)],
}
CALLS = """CREATE TABLE call_history (_id INTEGER PRIMARY KEY, caller_mid TEXT, call_type TEXT, start_time TEXT, end_time TEXT,
  voip_type TEXT, voip_gc_media_type TEXT);"""


def _read_cleanly(path: Path, schema: str, rows: dict, logical: bytes) -> Parsed:
    """Parse a fixture that must give only LINE messages and no warning at all."""
    db = build_database(path, schema, rows)
    parsed = parse_files(db, logical={db: logical})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"line"}
    return parsed


def test_fixture_count_golden_record_and_no_warnings(tmp_path: Path) -> None:
    parsed = _read_cleanly(tmp_path / "naver_line", SCHEMA, ROWS, LOGICAL)
    assert len(parsed.messages) == 6
    ken, yuki = Participant(KEN, "Ken"), Participant(YUKI, "Yuki (work)")
    assert parsed.messages[0] == Message(
        source_table="chat_history", source_row_id=1, conversation_id=KEN, conversation_title="Ken", sender=ken, recipients=(),
        direction="incoming", sent=(T0 + 1000) * 1_000_000, sent_raw=str(T0 + 1000), body="hello from Ken", kind="text",
        details={"id": "1", "server_id": "50001", "type": "1", "status": "1", "sent_count": "0", "read_count": "0",
                 "attachement_type": "0", "location_latitude": "0", "location_longitude": "0"},
    )
    reply, picture, in_group, to_group, place = parsed.messages[1:]
    assert (reply.direction, reply.sender, reply.recipients) == ("outgoing", None, (ken,))
    assert (picture.direction, picture.kind, picture.body, picture.attachments) == (
        "outgoing", "media", None, (Attachment(local_path="/storage/emulated/0/Pictures/LINE/line_1.jpg"),))
    assert (in_group.conversation_title, in_group.sender, in_group.direction) == ("Night Owls", yuki, "incoming")
    assert (to_group.direction, to_group.recipients, to_group.details["status"]) == ("outgoing", (ken, yuki), "7")
    assert (place.kind, place.location_name, place.latitude, place.details["location_latitude"]) == (
        "location", "Shibuya Station", None, "35658034")


def test_minimal_columns_without_contacts_still_read(tmp_path: Path) -> None:
    """Only the four required columns: without `type` an empty from_mid cannot be told from a system row, so it is unknown."""
    db = build_database(tmp_path / "naver_line", "CREATE TABLE chat_history (chat_id TEXT, from_mid TEXT, content TEXT, created_time TEXT);",
                        {"chat_history": [(KEN, KEN, "yo", str(T0)), (KEN, None, "sup", str(T0 + 1))]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.messages == [
        Message(source_table="chat_history", source_row_id=1, conversation_id=KEN, sender=Participant(KEN), direction="incoming",
                sent=T0 * 1_000_000, sent_raw=str(T0), body="yo"),
        Message(source_table="chat_history", source_row_id=2, conversation_id=KEN, direction="unknown",
                sent=(T0 + 1) * 1_000_000, sent_raw=str(T0 + 1), body="sup"),
    ]


def test_system_rows_with_an_empty_from_mid_are_not_the_owners(tmp_path: Path) -> None:
    """An empty from_mid is the owner's only on a message row (type 1); a join or group event row has no writer: unknown."""
    rows = {**ROWS, "chat_history": [_row(1, GROUP, None, "hi all"), _row(2, GROUP, None, None, type=2),
                                     _row(3, GROUP, "", None, type=13), _row(4, GROUP, None, "?", type=None),
                                     _row(5, GROUP, YUKI, None, type=13)]}
    parsed = _read_cleanly(tmp_path / "naver_line", SCHEMA, rows, LOGICAL)
    ken, yuki = Participant(KEN, "Ken"), Participant(YUKI, "Yuki (work)")
    assert [(m.direction, m.sender, m.recipients, m.details.get("type")) for m in parsed.messages] == [
        ("outgoing", None, (ken, yuki), "1"), ("unknown", None, (), "2"), ("unknown", None, (), "13"), ("unknown", None, (), None),
        ("incoming", yuki, (), "13")]


def test_call_history_database(tmp_path: Path) -> None:
    db = build_database(tmp_path / "call_history", CALLS, {"call_history": [
        (1, KEN, "AO", str(T0), str(T0 + 65_000), "A", None),
        (2, GROUP, "GI", str(T0 + 100_000), str(T0 + 200_000), "G", "VIDEO"),
        (3, YUKI, "X", str(T0 + 300_000), None, None, None)]})
    parsed = parse_files(db, logical={db: FOLDER + b"call_history"})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == Message(
        source_table="call_history", source_row_id=1, conversation_id=KEN, recipients=(Participant(KEN),), direction="outgoing",
        sent=T0 * 1_000_000, sent_raw=str(T0), kind="call", details={"call_type": "AO", "end_time": str(T0 + 65_000), "voip_type": "A (audio)"})
    assert (parsed.messages[1].direction, parsed.messages[1].sender, parsed.messages[1].details["voip_gc_media_type"]) == (
        "incoming", Participant(GROUP), "VIDEO")
    assert (parsed.messages[2].direction, parsed.messages[2].sender, parsed.messages[2].recipients) == ("unknown", None, ())


def test_wrong_types_in_rows_are_warnings_and_rows_stay(tmp_path: Path) -> None:
    rows = {"chat_history": [_row(1, KEN, KEN, b"\xe3\x81\x82\xff", created_time="noon"), _row(2, 12345, None, 678, created_time=-5)],
            "chat": [], "chat_member": [], "contacts": [], "groups": [], "membership": []}
    db = build_database(tmp_path / "naver_line", SCHEMA, rows)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 1, "created_time"), ("bad_time", 2, "created_time")]
    first, second = parsed.messages
    assert (first.body.raw, first.sent, first.sent_raw) == (b"\xe3\x81\x82\xff", None, "noon")
    assert (second.conversation_id, second.body, second.direction, second.recipients) == ("12345", "678", "outgoing", (Participant("12345"),))


def test_truncated_store_is_an_error_row(tmp_path: Path) -> None:
    db = build_database(tmp_path / "naver_line", SCHEMA, {**ROWS, "chat_history": [_row(i, KEN, KEN, "x" * 2000) for i in range(1, 120)]})
    truncate_to_half(db)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "database_unreadable" and "expected by line" in warning.message


def test_corrupt_data_page_keeps_rows_before_it(tmp_path: Path) -> None:
    db = build_database(tmp_path / "naver_line", CHAT_HISTORY, {"chat_history": [_row(i, KEN, KEN, "y" * 1500) for i in range(1, 60)]})
    wreck_last_page(db)
    readable = rows_before_damage(db, "SELECT rowid, * FROM chat_history ORDER BY rowid")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert 0 < readable < 59 and len(parsed.messages) == readable
    (warning,) = parsed.warnings
    assert (warning.kind, warning.severity) == ("parse_stopped", "error")
    assert f"reading stopped after {readable} messages" in warning.message


def test_missing_table_at_line_paths_is_schema_unrecognised(tmp_path: Path) -> None:
    db = build_database(tmp_path / "naver_line", "CREATE TABLE contacts (m_id TEXT PRIMARY KEY, name TEXT);", {"contacts": [(KEN, "Ken")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "schema_unrecognised" and "path expected by line" in warning.message


IOS_LOGICAL = (b"/private/var/mobile/Containers/Shared/AppGroup/5F0C2D1E/Library/Application Support/PrivateStore/P_u1a2/Messages/"
               b"Line.sqlite")
IOS_SCHEMA = """
CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
CREATE TABLE ZUSER (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZMID VARCHAR, ZNAME VARCHAR);
CREATE TABLE ZCHAT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZTYPE INTEGER, ZMID VARCHAR);
CREATE TABLE ZMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTENTTYPE INTEGER, ZREADCOUNT INTEGER,
  ZSENDSTATUS INTEGER, ZTIMESTAMP INTEGER, ZCHAT INTEGER, ZSENDER INTEGER, ZLATITUDE FLOAT, ZLONGITUDE FLOAT, ZID VARCHAR,
  ZMESSAGETYPE VARCHAR, ZTEXT VARCHAR);
CREATE TABLE Z_1MEMBERS (Z_1CHATS INTEGER, Z_6MEMBERS INTEGER, PRIMARY KEY (Z_1CHATS, Z_6MEMBERS));
"""
IOS_ROWS = {
    "ZUSER": [(1, 6, 1, KEN, "Ken"), (2, 6, 1, YUKI, "Yuki")],
    "ZCHAT": [(1, 1, 1, 0, KEN), (2, 1, 1, 2, GROUP)],
    "ZMESSAGE": [
        (1, 4, 1, 0, 0, 1, T0, 1, 1, 0.0, 0.0, "738000000001", None, "hello from Ken"),
        (2, 4, 1, 0, 1, 1, T0 + 1000, 1, None, 0.0, 0.0, "738000000002", None, "hi Ken"),
        (3, 4, 1, 1, 1, 1, T0 + 2000, 1, None, 35.5, 139.7, "738000000003", None, None),
        (4, 4, 1, 0, 0, 1, T0 + 3000, 2, 2, 0.0, 0.0, "738000000004", None, "meet at 8?"),
        (5, 4, 1, 0, 2, 1, T0 + 4000, 2, None, 0.0, 0.0, "738000000005", None, "ok"),
        (6, 4, 1, 7, 0, 1, T0 + 5000, 2, 2, 0.0, 0.0, "738000000006", "R", None),
    ],
    "Z_1MEMBERS": [(1, 1), (2, 1), (2, 2)],
}


def test_ios_line_sqlite_count_golden_record_and_no_warnings(tmp_path: Path) -> None:
    parsed = _read_cleanly(tmp_path / "Line.sqlite", IOS_SCHEMA, IOS_ROWS, IOS_LOGICAL)
    assert len(parsed.messages) == 6
    ken, yuki = Participant(KEN, "Ken"), Participant(YUKI, "Yuki")
    assert parsed.messages[1] == Message(
        source_table="ZMESSAGE", source_row_id=2, conversation_id=KEN, conversation_title="Ken", recipients=(ken,),
        direction="outgoing", sent=(T0 + 1000) * 1_000_000, sent_raw=str(T0 + 1000), body="hi Ken", kind="text",
        details={"chat_pk": "1", "chat_type": "0", "ZCONTENTTYPE": "0", "ZID": "738000000002", "ZREADCOUNT": "1", "ZSENDSTATUS": "1"},
    )
    incoming, _, image, in_group, to_group, other = parsed.messages
    assert (incoming.direction, incoming.sender, incoming.details["sender_pk"]) == ("incoming", ken, "1")
    assert (image.kind, image.body, image.details["ZLATITUDE"]) == ("media", None, "35.5")
    assert (in_group.conversation_id, in_group.conversation_title, in_group.sender) == (GROUP, None, yuki)
    assert (to_group.direction, to_group.recipients) == ("outgoing", (ken, yuki))
    assert (other.kind, other.details["ZCONTENTTYPE"], other.details["ZMESSAGETYPE"]) == ("unknown", "7", "R")


def test_ios_without_member_tables_recipients_come_from_senders(tmp_path: Path) -> None:
    schema = IOS_SCHEMA.replace("CREATE TABLE Z_1MEMBERS (Z_1CHATS INTEGER, Z_6MEMBERS INTEGER, PRIMARY KEY (Z_1CHATS, Z_6MEMBERS));", "")
    db = build_database(tmp_path / "Line.sqlite", schema, {k: v for k, v in IOS_ROWS.items() if k != "Z_1MEMBERS"})
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert_no_warnings(parsed)
    assert [m.recipients for m in parsed.messages if m.direction == "outgoing"] == [
        (Participant(KEN, "Ken"),), (Participant(KEN, "Ken"),), (Participant(YUKI, "Yuki"),)]


def test_unknown_schema_at_ios_line_path_warns(tmp_path: Path) -> None:
    db = build_database(tmp_path / "Line.sqlite", """
        CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
        CREATE TABLE ZMESSAGE (Z_PK INTEGER PRIMARY KEY, ZCHAT INTEGER, ZTIMESTAMP INTEGER, ZBODY VARCHAR);""",
                        {"ZMESSAGE": [(1, 1, T0, "hi")]})
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "schema_unrecognised" and "path expected by line" in warning.message


def test_wal_only_and_removed_rows_are_marked_by_rowid(tmp_path: Path) -> None:
    """chat_history without an integer key: the rowid names each message, so WAL-only and removed rows are told apart."""
    live, evidence = tmp_path / "live", tmp_path / "evidence"
    live.mkdir()
    evidence.mkdir()
    db = build_database(live / "naver_line", "CREATE TABLE chat_history (chat_id TEXT, from_mid TEXT, content TEXT, created_time TEXT, "
                                             "type INTEGER);",
                        {"chat_history": [(KEN, KEN, "one", str(T0), 1), (KEN, None, "two", str(T0 + 1), 1)]}, journal_mode="wal")
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("INSERT INTO chat_history VALUES (?, ?, 'three (only in the WAL)', ?, 1)", (KEN, KEN, str(T0 + 2)))
    connection.execute("DELETE FROM chat_history WHERE content = 'two'")
    connection.commit()
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(live / f"naver_line{suffix}", evidence / f"naver_line{suffix}")
    connection.close()
    copy = evidence / "naver_line"
    parsed = parse_files(copy, logical={copy: LOGICAL})
    assert_no_warnings(parsed)
    assert [(p.message.source_row_id, p.message.body, p.message.direction, p.record_state) for p in parsed.parsed] == [
        (1, "one", "incoming", "live"), (3, "three (only in the WAL)", "incoming", "wal_only"), (2, "two", "outgoing", "removed_in_wal")]


def test_without_rowid_table_is_still_read(tmp_path: Path) -> None:
    """A rebuilt copy whose chat_history is WITHOUT ROWID: every message is read (key order), with no row id to name."""
    db = build_database(tmp_path / "naver_line", "CREATE TABLE chat_history (chat_id TEXT, from_mid TEXT, content TEXT, created_time TEXT, "
                                                 "type INTEGER, PRIMARY KEY (chat_id, created_time)) WITHOUT ROWID;",
                        {"chat_history": [(KEN, KEN, "later", str(T0 + 5), 1), (KEN, None, "first", str(T0), 1)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert [(m.source_row_id, m.body, m.direction, m.sent) for m in parsed.messages] == [
        (None, "first", "outgoing", T0 * 1_000_000), (None, "later", "incoming", (T0 + 5) * 1_000_000)]


def test_a_damaged_contacts_table_costs_the_names_only(tmp_path: Path) -> None:
    db = build_database(tmp_path / "naver_line", SCHEMA, filled_last(ROWS, "contacts", [(f"u{i:032x}", f"c{i}", None, "x" * 300, None, 0) for i in range(200)]))
    wreck_side_table(db, "contacts")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_side_table_stopped(parsed, "contacts", len(ROWS["chat_history"]))
    assert parsed.messages[0].sender == Participant(KEN, "Ken")  # names before the damaged page are kept
    assert parsed.messages[3].conversation_title == "Night Owls"  # the chat table, read after it, is whole


def test_a_damaged_ios_user_table_costs_the_people_only(tmp_path: Path) -> None:
    db = build_database(tmp_path / "Line.sqlite", IOS_SCHEMA, filled_last(IOS_ROWS, "ZUSER", [(3 + i, 6, 1, f"u{i:032x}", "x" * 300) for i in range(200)]))
    wreck_side_table(db, "ZUSER")
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert_side_table_stopped(parsed, "ZUSER", len(IOS_ROWS["ZMESSAGE"]))
    assert parsed.messages[0].sender == Participant(KEN, "Ken")
