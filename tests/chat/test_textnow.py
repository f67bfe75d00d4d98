"""TextNow Android `textnow_data.db` and the iOS Core Data account store: fixtures from the documented schema.

No TextNow sample is in the corpus (docs/chat-schema-missing-apps.md); the `messages` DDL is the
one of TextNow 20.21.0.1 quoted in public code, the other tables have the columns Autopsy and
ALEAPP query; the iOS tables have the columns the iLEAPP TextNow module reads (see parsers/chat/textnow.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, parse_files, truncate_to_half
from tests.chat.hostile import assert_side_table_stopped, filled_last, rows_before_damage, wreck_last_page, wreck_side_table

LOGICAL = b"/data/data/com.enflick.android.TextNow/databases/textnow_data.db"
SCHEMA = """
CREATE TABLE messages (_id integer primary key autoincrement, message_id integer unique, contact_value text not null,
  contact_type integer, contact_name text not null, message_direction integer, message_type integer, message_text text not null,
  read boolean, date numeric not null, state integer default 0, attach text default '', message_source integer default 0,
  all_emoji boolean);
CREATE TABLE contacts (_id integer primary key autoincrement, contact_value text, contact_type integer, contact_name text);
CREATE TABLE groups (_id integer primary key autoincrement, contact_value text, title text);
CREATE TABLE group_members (_id integer primary key autoincrement, contact_value text, member_contact_value text);
"""
ALICE, BOB, CAROL, GROUP = "+15550100", "+15550111", "+15550122", "group-7f3a"
T0 = 1_650_000_000_000
ROWS = {
    "messages": [
        (1, 9001, ALICE, 2, "Alice", 1, 1, "hey, you there?", 1, T0, 1, "", 0, 0),
        (2, 9002, ALICE, 2, "Alice", 2, 1, "yes", 0, T0 + 60_000, 2, "", 0, 0),
        (3, 9003, ALICE, 2, "Alice", 2, 2, "", 0, T0 + 120_000, 2, "https://media.textnow.example/p/1.jpg", 0, 0),
        (4, 9004, BOB, 2, "Bob", 1, 100, "35", 1, T0 + 180_000, 1, "", 0, 0),
        (5, 9005, GROUP, 5, "Team", 2, 1, "hello group", 0, T0 + 240_000, 2, "", 0, 0),
        (6, 9006, GROUP, 5, "Team", 1, 1, "hi all", 1, T0 + 300_000, 1, "", 0, 0),
        (7, 9007, CAROL, 2, "Carol", 3, 1, "odd direction", 1, T0 + 360_000, 1, "", 0, 0),
    ],
    "contacts": [(1, ALICE, 2, "Alice Smith"), (2, BOB, 2, "Bob Jones")],
    "groups": [(1, GROUP, "Team")],
    "group_members": [(1, GROUP, ALICE), (2, GROUP, BOB)],
}


def _store(tmp_path: Path, schema: str = SCHEMA, rows: dict | None = None) -> Path:
    return build_database(tmp_path / "textnow_data.db", schema, ROWS if rows is None else rows)


def test_fixture_count_golden_record_and_no_warnings(tmp_path: Path) -> None:
    db = _store(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"textnow"}
    assert len(parsed.messages) == 7
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id=ALICE, conversation_title="Alice Smith",
        sender=Participant(ALICE, "Alice Smith"), recipients=(), direction="incoming",
        sent=T0 * 1_000_000, sent_raw=str(T0), body="hey, you there?", kind="text",
        details={"message_direction": "1", "message_type": "1", "read_flag": "1", "message_id": "9001", "contact_type": "2",
                 "state": "1", "message_source": "0", "all_emoji": "0"},
    )
    outgoing, media, call, to_group, from_group, odd = parsed.messages[1:]
    assert (outgoing.direction, outgoing.sender, outgoing.recipients) == ("outgoing", None, (Participant(ALICE, "Alice Smith"),))
    assert (media.kind, media.body, media.attachments) == ("media", "", (Attachment(local_path="https://media.textnow.example/p/1.jpg"),))
    assert (call.kind, call.body, call.details["call_message_text"], call.sender) == ("call", None, "35", Participant(BOB, "Bob Jones"))
    assert (to_group.conversation_id, to_group.conversation_title, to_group.recipients) == (
        GROUP, None, (Participant(ALICE, "Alice Smith"), Participant(BOB, "Bob Jones")))
    assert (from_group.direction, from_group.sender, from_group.details["contact_name"]) == ("incoming", None, "Team")
    assert (odd.direction, odd.sender, odd.conversation_title, odd.details["message_direction"]) == ("unknown", None, "Carol", "3")


def test_minimal_columns_only_still_read(tmp_path: Path) -> None:
    """An older or newer build with only the required columns and no contacts table: every message, optional fields null."""
    db = _store(tmp_path, "CREATE TABLE messages (_id INTEGER PRIMARY KEY, contact_value TEXT, message_direction INTEGER, "
                          "message_text TEXT, date INTEGER);",
                {"messages": [(1, ALICE, 2, "sent", T0), (2, ALICE, 1, "got it", T0 + 1)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.messages == [
        Message(source_table="messages", source_row_id=1, conversation_id=ALICE, recipients=(Participant(ALICE),), direction="outgoing",
                sent=T0 * 1_000_000, sent_raw=str(T0), body="sent", details={"message_direction": "2"}),
        Message(source_table="messages", source_row_id=2, conversation_id=ALICE, sender=Participant(ALICE), direction="incoming",
                sent=(T0 + 1) * 1_000_000, sent_raw=str(T0 + 1), body="got it", details={"message_direction": "1"}),
    ]


def test_wrong_types_in_rows_are_warnings_and_rows_stay(tmp_path: Path) -> None:
    rows = {"messages": [(1, 1, 15550100, 2, "A", 1, 1, b"caf\xe9", 1, "yesterday", 0, "", 0, 0),
                         (2, 2, ALICE, 2, "A", "out", "x", "fine", 1, 99_999_999_999_999_999, 0, None, 0, 0)],
            "contacts": [], "groups": [], "group_members": []}
    db = _store(tmp_path, rows=rows)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 1, "date"), ("bad_time", 2, "date")]
    first, second = parsed.messages
    assert (first.conversation_id, first.body, first.body.raw, first.sent, first.sent_raw) == ("15550100", "caf\\xe9", b"caf\xe9", None,
                                                                                               "yesterday")
    assert (second.direction, second.kind, second.details["message_type"], second.sent) == ("unknown", "text", "x", None)


def test_truncated_store_is_an_error_row(tmp_path: Path) -> None:
    rows = {**ROWS, "messages": [(i, i, ALICE, 2, "A", 1, 1, "x" * 2000, 1, T0 + i, 0, "", 0, 0) for i in range(1, 120)]}
    db = _store(tmp_path, rows=rows)
    truncate_to_half(db)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "database_unreadable" and "expected by textnow" in warning.message


def test_corrupt_data_page_keeps_rows_before_it(tmp_path: Path) -> None:
    rows = {"messages": [(i, i, ALICE, 2, "A", 1, 1, "y" * 1500, 1, T0 + i, 0, "", 0, 0) for i in range(1, 60)]}
    db = _store(tmp_path, "CREATE TABLE messages (_id integer primary key autoincrement, message_id integer, contact_value text, "
                          "contact_type integer, contact_name text, message_direction integer, message_type integer, message_text text, "
                          "read boolean, date numeric, state integer, attach text, message_source integer, all_emoji boolean);", rows)
    wreck_last_page(db)
    readable = rows_before_damage(db, "SELECT rowid, * FROM messages ORDER BY rowid")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert 0 < readable < 59
    assert len(parsed.messages) == readable
    (warning,) = parsed.warnings
    assert (warning.kind, warning.severity) == ("parse_stopped", "error")
    assert f"reading stopped after {readable} messages" in warning.message


def test_missing_table_at_textnow_path_is_schema_unrecognised(tmp_path: Path) -> None:
    db = _store(tmp_path, "CREATE TABLE contacts (_id INTEGER PRIMARY KEY, contact_value TEXT, contact_name TEXT);",
                {"contacts": [(1, ALICE, "Alice")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "schema_unrecognised" and "path expected by textnow" in warning.message


# iOS: the Core Data account store, columns as the iLEAPP TextNow module reads them.
IOS_LOGICAL = b"/private/var/mobile/Containers/Data/Application/2C0EA118-A71B-4CFD-AF2E-7FE132AC59DF/Documents/1234567890jdoe"
IOS_SCHEMA = """
CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
CREATE TABLE ZTMOACCOUNTINFO (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZUSERNAME VARCHAR, ZPHONENUMBER VARCHAR);
CREATE TABLE ZTMOCONTACTVALUE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTACTISSELF INTEGER, ZCONVERSATION INTEGER,
  ZCONTACTVALUE VARCHAR, ZCONTACTNAME VARCHAR);
CREATE TABLE ZTMOCONVERSATION (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTACTVALUE INTEGER);
CREATE TABLE ZTMOINTERACTION (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZDIRECTION INTEGER, ZREAD INTEGER,
  ZDELETEDSTATE INTEGER, ZSTATUS INTEGER, ZSTATUS1 INTEGER, ZIMAGETYPE INTEGER, ZCONVERSATION INTEGER, ZLENGTH FLOAT,
  ZLOCALTIMESTAMP TIMESTAMP, ZREMOTETIMESTAMP TIMESTAMP, ZTHUMBNAILWIDTH FLOAT, ZTHUMBNAILHEIGHT FLOAT, ZAUTHORNAME VARCHAR,
  ZCALLID VARCHAR, ZCONTENT VARCHAR, ZMESSAGEID VARCHAR, ZORDERINGID VARCHAR);
"""
C0 = 634_000_000.5  # Core Data seconds (2021-02-02T23:06:40.5Z: + 978307200 s)
PICTURE = "https://media.textnow.example/i/abc.jpg"
IOS_ROWS = {
    "ZTMOACCOUNTINFO": [(1, 2, 1, "jdoe", "+15550199")],
    "ZTMOCONTACTVALUE": [(1, 3, 1, 1, None, "jdoe@textnow.me", None), (2, 3, 1, 0, 1, ALICE, "Alice")],
    "ZTMOCONVERSATION": [(1, 4, 1, 2)],
    "ZTMOINTERACTION": [
        (1, 5, 1, 1, 1, 0, None, 1, None, 1, None, C0, C0 - 10, None, None, "Alice", None, "are you alone?", "m1", "o1"),
        (2, 5, 1, 2, 1, 0, None, 2, None, 1, None, C0 + 60, C0 + 61, None, None, None, None, "yes", "m2", "o2"),
        (3, 5, 1, 2, 1, 0, None, 2, 1, 1, None, C0 + 120, None, 640.0, 480.0, None, None, PICTURE, "m3", "o3"),
        (4, 5, 1, 1, 1, 0, 4, None, None, 1, 42.5, C0 + 180, None, None, None, None, f"{ALICE}-{C0 + 178}", None, None, None),
        (5, 5, 1, 1, 0, 2, None, 1, None, None, None, C0 + 240, None, None, None, "90210", None, "TextNow news", "m5", None),
    ],
}


def test_ios_store_count_golden_record_and_no_warnings(tmp_path: Path) -> None:
    db = build_database(tmp_path / "1234567890jdoe", IOS_SCHEMA, IOS_ROWS)
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"textnow"}
    assert len(parsed.messages) == 5
    owner, alice = Participant("jdoe@textnow.me"), Participant(ALICE, "Alice")
    assert parsed.messages[0] == Message(
        source_table="ZTMOINTERACTION", source_row_id=1, conversation_id=ALICE, conversation_title="Alice",
        sender=Participant(None, "Alice"), recipients=(owner,), direction="incoming", sent=1_612_307_200_500_000_000,
        sent_raw=str(C0), body="are you alone?", kind="text", account_id="jdoe@textnow.me",
        details={"ZDIRECTION": "1", "ZREMOTETIMESTAMP": str(C0 - 10), "ZREAD": "1", "ZDELETEDSTATE": "0", "ZSTATUS1": "1",
                 "ZMESSAGEID": "m1", "ZORDERINGID": "o1"},
    )
    reply, picture, call, notice = parsed.messages[1:]
    assert (reply.direction, reply.sender, reply.recipients) == ("outgoing", owner, (alice,))
    cache = hashlib.md5(PICTURE.encode()).hexdigest()
    assert (picture.kind, picture.body, picture.attachments) == (
        "media", PICTURE, (Attachment(file_name=cache, local_path=f"com.hackemist.SDWebImageCache.default/{cache}"),))
    assert (call.kind, call.body, call.details["ZCALLID"], call.details["ZLENGTH"]) == ("call", None, f"{ALICE}-{C0 + 178}", "42.5")
    assert (notice.conversation_id, notice.sender, notice.details["ZDELETEDSTATE"]) == (None, Participant(None, "90210"), "2")


def test_ios_store_wrong_types_are_warnings(tmp_path: Path) -> None:
    rows = {**IOS_ROWS, "ZTMOINTERACTION": [
        (1, 5, 1, "in", None, None, None, None, None, 77, None, "noon", None, None, None, None, None, b"\xff", None, None)]}
    db = build_database(tmp_path / "1234567890jdoe", IOS_SCHEMA, rows)
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 1, "ZLOCALTIMESTAMP")]
    (message,) = parsed.messages
    assert (message.direction, message.sender, message.body.raw, message.details["conversation_pk"]) == ("unknown", None, b"\xff", "77")


def test_a_damaged_contacts_table_costs_the_names_only(tmp_path: Path) -> None:
    many = ROWS["contacts"] + [(3 + i, f"+1555{i:07d}", 2, "x" * 300) for i in range(200)]
    # contacts is filled last, so the file's last page is one of its leaves
    db = _store(tmp_path, rows={"messages": ROWS["messages"], "groups": ROWS["groups"], "group_members": ROWS["group_members"],
                                "contacts": many})
    wreck_last_page(db)
    assert rows_before_damage(db, "SELECT * FROM contacts") < len(many)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_side_table_stopped(parsed, "contacts", len(ROWS["messages"]))
    assert parsed.messages[0].conversation_title == "Alice Smith"  # names before the damaged page are kept


def test_a_damaged_ios_address_table_costs_the_partners_only(tmp_path: Path) -> None:
    db = build_database(tmp_path / "1234567890jdoe", IOS_SCHEMA, filled_last(IOS_ROWS, "ZTMOCONTACTVALUE", [(3 + i, 3, 1, 0, None, f"+1555{i:07d}", "x" * 300) for i in range(200)]))
    wreck_side_table(db, "ZTMOCONTACTVALUE")
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert_side_table_stopped(parsed, "ZTMOCONTACTVALUE", len(IOS_ROWS["ZTMOINTERACTION"]))
    assert parsed.messages[0].conversation_id == ALICE
