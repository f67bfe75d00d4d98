"""Viber: plaso's Android viber_data (call log), Android viber_messages fixtures (current and DB v53 schemas),
and an iOS Contacts.data fixture with its Settings.data companion.

Facts (see parsers/chat/viber.py): decompiled ViberMessagesHelper DDL (v53 and later) for viber_messages
(messages.msg_date Unix ms, send_type 1 = sent, participant_id -> participants -> participants_info,
participant_type 0 = owner; v53: address/date/type); viber_data calls.type 1 in / 2 out / 3 missed,
viber_call_type 1 audio / 4 video, names via phonebookdata.data2 -> phonebookcontact; iOS ZVIBERMESSAGE
ZSTATE send/delivered/received, ZDATE Core Data seconds, Settings.data Data(_myPhoneNumber, _myUserName)
(iLEAPP scripts/artifacts/viber.py).
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant, decode_text
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files
from tests.chat.hostile import assert_truncated_store_is_unreadable

PLASO = "log2timeline__plaso/test_data/android/viber_data"
DATA_LOGICAL = b"/data/data/com.viber.voip/databases/viber_data"
MESSAGES_LOGICAL = b"/data/data/com.viber.voip/databases/viber_messages"
IOS_ROOT = b"/private/var/mobile/Containers/Shared/AppGroup/0A1B/com.viber"
DFIR_TWO = Participant("+19198887386", "This Is DFIR Two")


def test_plaso_viber_data_calls_are_call_messages() -> None:
    path = corpus_file(PLASO)
    parsed = parse_files(path, logical={path: DATA_LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"viber"}
    # CHATS.tsv: calls 4 (no message table in viber_data): each call is a kind="call" message.
    assert len(parsed.messages) == 4
    assert {m.kind for m in parsed.messages} == {"call"}
    assert parsed.time_range() == ("2022-11-25T20:34:25Z", "2022-11-25T20:43:08Z")
    assert parsed.messages[0] == Message(
        source_table="calls", source_row_id=1, conversation_id="+19198887386", sender=DFIR_TWO, direction="incoming",
        sent=1669408465582000000, sent_raw="1669408465582", body=None, kind="call",
        details={"call_type": "1 (incoming)", "duration": "98", "media": "1 (audio)"},
    )
    assert [(m.direction, m.details["media"]) for m in parsed.messages[1:]] == [
        ("outgoing", "1 (audio)"), ("incoming", "4 (video)"), ("outgoing", "4 (video)")]
    assert parsed.messages[1].recipients == (DFIR_TWO,)


COMMON = """
CREATE TABLE conversations (_id INTEGER PRIMARY KEY autoincrement, conversation_type INTEGER DEFAULT 0, group_id INTEGER DEFAULT 0,
  recipient_number TEXT, name TEXT, date LONG DEFAULT 0);
CREATE TABLE participants (_id INTEGER PRIMARY KEY autoincrement, conversation_id INTEGER DEFAULT 0, participant_info_id INTEGER DEFAULT 0,
  last_message_id INTEGER DEFAULT 0, active INTEGER DEFAULT TRUE, group_role INTEGER DEFAULT 0);
CREATE TABLE participants_info (_id INTEGER PRIMARY KEY autoincrement, number TEXT, display_name TEXT, contact_name TEXT,
  contact_id INTEGER DEFAULT 0, viber_name TEXT, participant_type INTEGER DEFAULT 1);
"""
CURRENT = COMMON + """
CREATE TABLE messages (_id INTEGER PRIMARY KEY autoincrement, conversation_id INTEGER DEFAULT 0, order_key INTEGER, msg_date INTEGER NOT NULL,
  token INTEGER, conversation_type INTEGER DEFAULT 0, participant_id INTEGER DEFAULT 0, unread INTEGER DEFAULT 0, flag INTEGER DEFAULT 0,
  group_id INTEGER DEFAULT 0, extra_flags INTEGER DEFAULT 0, deleted INTEGER DEFAULT 0, send_type INTEGER NOT NULL, extra_mime INTEGER,
  user_id TEXT NOT NULL, seq INTEGER, status INTEGER DEFAULT 0, location_lat INTEGER, location_lng INTEGER, extra_uri TEXT,
  body TEXT, description TEXT, msg_info TEXT);
"""
V53 = COMMON + """
CREATE TABLE messages (_id INTEGER PRIMARY KEY autoincrement, address TEXT NOT NULL, date INTEGER NOT NULL, read INTEGER DEFAULT 0,
  opened INTEGER DEFAULT 0, status INTEGER DEFAULT 0, type INTEGER NOT NULL, body TEXT, token LONG, location_lat LONG, location_lng LONG,
  extra_uri TEXT, extra_mime TEXT, deleted INTEGER DEFAULT 0, group_id INTEGER DEFAULT 0, conversation_id INTEGER DEFAULT 0,
  conversation_type INTEGER DEFAULT 0, participant_id DEFAULT 0, date_real INTEGER NOT NULL);
"""
PEOPLE = {
    "conversations": [(1, 0, 0, "+15550002", None, 0), (2, 1, 777, None, "Family", 0)],
    "participants": [(1, 1, 1, 0, 1, 0), (2, 1, 2, 0, 1, 0), (3, 2, 1, 0, 1, 0), (4, 2, 3, 0, 1, 0)],
    "participants_info": [(1, "+15550001", "Me", None, 0, None, 0), (2, "+15550002", "bob", "Bob Contact", 5, None, 1),
                          (3, "+15550003", "Carol", None, 0, None, 1)],
}


def test_android_viber_messages_current_schema(tmp_path: Path) -> None:
    db = build_database(tmp_path / "viber_messages", CURRENT, {**PEOPLE, "messages": [
        (1, 1, 1, 1600000000123, 11, 0, 2, 0, 0, 0, 0, 0, 0, 0, "u", 1, 0, None, None, None, "hi", None, None),
        (2, 1, 2, 1600000001000, 12, 0, 1, 0, 0, 0, 0, 0, 1, 1, "u", 2, 0, None, None,
         "file:///storage/emulated/0/Viber/media/IMG-1.jpg", None, None, "{\"a\":1}"),
        (3, 2, 3, 1600000002000, 13, 1, 4, 1, 0, 777, 0, 1, 0, 5, "u", 3, 0, 515000000, -1000000, None, None, None, None),
    ]})
    parsed = parse_files(db, logical={db: MESSAGES_LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    me = Participant("+15550001", "Me")
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id="1", sender=Participant("+15550002", "Bob Contact"),
        recipients=(me,), direction="incoming", sent=1600000000123000000, sent_raw="1600000000123", body="hi", kind="text",
        is_deleted=False, account_id="+15550001",
        details={"direction_flag": "0", "extra_mime": "0", "read_flag": "0", "token": "11"},
    )
    photo, location = parsed.messages[1:]
    assert (photo.direction, photo.sender, photo.recipients, photo.kind, photo.attachments, photo.details["msg_info"]) == (
        "outgoing", me, (Participant("+15550002", "Bob Contact"),), "media",
        (Attachment(local_path="file:///storage/emulated/0/Viber/media/IMG-1.jpg"),), "{\"a\":1}")
    assert (location.conversation_title, location.sender, location.kind, location.latitude, location.longitude, location.is_deleted) == (
        "Family", Participant("+15550003", "Carol"), "location", 51.5, -0.1, True)
    assert location.details["group_id"] == "777"


def test_android_viber_messages_v53_schema(tmp_path: Path) -> None:
    db = build_database(tmp_path / "viber_messages", V53, {**PEOPLE, "messages": [
        (1, "+15550002", 1400000000000, 1, 1, 0, 0, "old hello", 5, 0, 0, None, None, 0, 0, 1, 0, 2, 1400000000000),
        (2, "+15550002", 1400000005000, 0, 0, 0, 1, "old reply", 6, 0, 0, None, None, 0, 0, 1, 0, 1, 1400000005000),
    ]})
    parsed = parse_files(db, logical={db: MESSAGES_LOGICAL})
    assert_no_warnings(parsed)
    assert [(m.direction, m.sender, m.body, m.sent) for m in parsed.messages] == [
        ("incoming", Participant("+15550002", "Bob Contact"), "old hello", 1400000000000000000),
        ("outgoing", Participant("+15550001", "Me"), "old reply", 1400000005000000000)]
    assert parsed.messages[0].details["address"] == "+15550002"


IOS_SCHEMA = """
CREATE TABLE ZVIBERMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZBEINGDELETED INTEGER, ZATTACHMENT INTEGER,
  ZCONVERSATION INTEGER, ZLOCATION INTEGER, ZPHONENUMINDEX INTEGER, ZDATE TIMESTAMP, ZSTATEDATE TIMESTAMP, ZSTATE VARCHAR,
  ZSYSTEMTYPE VARCHAR, ZTEXT VARCHAR, ZMETADATA VARCHAR);
CREATE TABLE ZCONVERSATION (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZBEINGDELETED INTEGER, ZINTERLOCUTOR INTEGER, ZNAME VARCHAR);
CREATE TABLE ZMEMBER (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZDISPLAYFULLNAME VARCHAR, ZDISPLAYSHORTNAME VARCHAR, ZNAME VARCHAR);
CREATE TABLE ZPHONENUMBER (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZMEMBER INTEGER, ZCANONIZEDPHONENUM VARCHAR, ZPHONE VARCHAR);
CREATE TABLE ZATTACHMENT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFILESIZE INTEGER, ZNAME VARCHAR, ZTYPE VARCHAR);
CREATE TABLE ZVIBERLOCATION (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZLATITUDE FLOAT, ZLONGITUDE FLOAT);
"""


def test_ios_contacts_data_with_settings_companion(tmp_path: Path) -> None:
    (tmp_path / "database").mkdir()
    (tmp_path / "settings").mkdir()
    db = build_database(tmp_path / "database" / "Contacts.data", IOS_SCHEMA, {
        "ZVIBERMESSAGE": [(1, 10, 1, 0, None, 1, None, 1, 620000000.5, 620000001.0, "received", None, "Hi from Dan", None),
                          (2, 10, 1, 0, 1, 1, None, None, 620000010.0, 620000012.0, "delivered", None, None, "{\"x\":1}"),
                          (3, 10, 1, 1, None, 1, 1, 1, 620000020.0, None, "received", None, None, None)],
        "ZCONVERSATION": [(1, 2, 1, 0, 1, None)],
        "ZMEMBER": [(1, 3, 1, "Dan Jones", "Dan", "dan")],
        "ZPHONENUMBER": [(1, 4, 1, 1, "15550009", "+1 555 0009")],
        "ZATTACHMENT": [(1, 5, 1, 2048, "IMG_0001.jpg", "picture")],
        "ZVIBERLOCATION": [(1, 6, 1, 48.85, 2.35)],
    })
    settings = build_database(tmp_path / "settings" / "Settings.data", "CREATE TABLE Data (key TEXT PRIMARY KEY, value);",
                              {"Data": [("_myPhoneNumber", "+15550001"), ("_myUserName", "Me Myself")]})
    parsed = parse_files(db, settings, logical={db: IOS_ROOT + b"/database/Contacts.data", settings: IOS_ROOT + b"/settings/Settings.data"})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    dan = Participant("+1 555 0009", "Dan Jones")
    me = Participant("+15550001", "Me Myself")
    assert parsed.messages[0] == Message(
        source_table="ZVIBERMESSAGE", source_row_id=1, conversation_id="1", sender=dan, recipients=(me,), direction="incoming",
        sent=1598307200500000000, sent_raw="620000000.5", body="Hi from Dan", kind="text", is_deleted=False, account_id="+15550001",
        details={"state": "received", "state_date": "620000001", "state_date_utc_ns": "1598307201000000000"},
    )
    photo, place = parsed.messages[1:]
    assert (photo.direction, photo.sender, photo.recipients, photo.kind, photo.attachments) == (
        "outgoing", me, (dan,), "media", (Attachment(file_name="IMG_0001.jpg", size=2048),))
    assert (place.kind, place.latitude, place.longitude, place.is_deleted) == ("location", 48.85, 2.35, True)


def test_ios_without_settings_leaves_owner_unknown(tmp_path: Path) -> None:
    db = build_database(tmp_path / "Contacts.data", IOS_SCHEMA, {
        "ZVIBERMESSAGE": [(1, 10, 1, 0, None, 1, None, None, 620000010.0, None, "send", None, "yo", None)],
        "ZCONVERSATION": [(1, 2, 1, 0, None, "Group")]})
    parsed = parse_files(db, logical={db: IOS_ROOT + b"/database/Contacts.data"})
    assert_no_warnings(parsed)
    assert [(m.direction, m.sender, m.account_id, m.conversation_title) for m in parsed.messages] == [("outgoing", None, None, "Group")]


def test_viber_with_unknown_schema_is_reported(tmp_path: Path) -> None:
    db = build_database(tmp_path / "viber_messages", "CREATE TABLE messages (_id INTEGER PRIMARY KEY, body TEXT);")
    parsed = parse_files(db, logical={db: MESSAGES_LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_bad_row_is_a_warning_and_the_rest_go_on(tmp_path: Path) -> None:
    db = build_database(tmp_path / "viber_messages", CURRENT, {**PEOPLE, "messages": [
        (1, 1, 1, 1600000000123, 11, 0, 2, 0, 0, 0, 0, 0, 0, 0, "u", 1, 0, "north", None, None, "bad place", None, None),
        (2, 1, 2, 1600000001000, 12, 0, 2, 0, 0, 0, 0, 0, 0, 0, "u", 2, 0, None, None, None, "fine", None, None),
    ]})
    parsed = parse_files(db, logical={db: MESSAGES_LOGICAL})
    assert [m.body for m in parsed.messages] == ["fine"]
    assert [(w.kind, w.table, w.row_id) for w in parsed.warnings] == [("bad_row", "messages", 1)]


# Later builds: `conversations` has no `recipient_number` any more; who is in a conversation is only in
# `participants` (and `participant_id_1`..`_4`, participants_info ids of the latest writers, shown in the
# chat list). A decompiled later build also reads `messages.message_global_id` and a
# `group_conversations_extras` table. Built from those facts; the store must still yield every message.
LATER = """
CREATE TABLE conversations (_id INTEGER PRIMARY KEY autoincrement, conversation_type INTEGER DEFAULT 0, group_id INTEGER DEFAULT 0,
  name TEXT, date LONG DEFAULT 0, participant_id_1 INTEGER DEFAULT 0, participant_id_2 INTEGER DEFAULT 0,
  participant_id_3 INTEGER DEFAULT 0, participant_id_4 INTEGER DEFAULT 0, last_message_id INTEGER DEFAULT 0,
  unread_message_count INTEGER DEFAULT 0, deleted INTEGER DEFAULT 0);
CREATE TABLE group_conversations_extras (_id INTEGER PRIMARY KEY autoincrement, group_id INTEGER, local_message_id INTEGER);
CREATE TABLE participants (_id INTEGER PRIMARY KEY autoincrement, conversation_id INTEGER DEFAULT 0, participant_info_id INTEGER DEFAULT 0,
  last_message_id INTEGER DEFAULT 0, active INTEGER DEFAULT 0, group_role INTEGER DEFAULT 0);
CREATE TABLE participants_info (_id INTEGER PRIMARY KEY autoincrement, participant_type INTEGER DEFAULT 1, member_id TEXT,
  encrypted_member_id TEXT, number TEXT, display_name TEXT, contact_name TEXT, viber_name TEXT, contact_id INTEGER DEFAULT 0);
CREATE TABLE messages (_id INTEGER PRIMARY KEY autoincrement, conversation_id INTEGER DEFAULT 0, order_key INTEGER, msg_date INTEGER NOT NULL,
  token INTEGER, conversation_type INTEGER DEFAULT 0, participant_id INTEGER DEFAULT 0, unread INTEGER DEFAULT 0, deleted INTEGER DEFAULT 0,
  send_type INTEGER NOT NULL, extra_mime INTEGER, message_global_id INTEGER, status INTEGER DEFAULT 0, location_lat INTEGER,
  location_lng INTEGER, extra_uri TEXT, body TEXT, msg_info TEXT, spans TEXT);
"""


def test_android_viber_messages_later_schema_without_recipient_number(tmp_path: Path) -> None:
    db = build_database(tmp_path / "viber_messages", LATER, {
        "conversations": [(1, 0, 0, None, 0, 2, 0, 0, 0, 2, 0, 0), (2, 1, 888, "Team", 0, 3, 1, 0, 0, 3, 0, 0)],
        "participants": [(1, 1, 1, 0, 0, 0), (2, 1, 2, 1, 0, 0), (3, 2, 1, 0, 0, 0), (4, 2, 3, 3, 0, 0)],
        "participants_info": [(1, 0, "me-id", None, "+15550001", "Me", None, None, 0),
                              (2, 1, "dora-id", None, "+15550004", "dora", "Dora Contact", "Dora V", 7),
                              (3, 1, "erin-id", None, "+15550005", "Erin", None, None, 0)],
        "messages": [(1, 1, 1, 1700000000123, 21, 0, 2, 1, 0, 0, 0, 9001, 0, None, None, None, "hello from dora", None, None),
                     (2, 1, 2, 1700000001000, 22, 0, 1, 0, 0, 1, 0, 9002, 0, None, None, None, "hi dora", None, None),
                     (3, 2, 3, 1700000002000, 23, 1, 4, 0, 0, 0, 0, 9003, 0, None, None, None, "team news", None, None)],
    })
    parsed = parse_files(db, logical={db: MESSAGES_LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    me, dora = Participant("+15550001", "Me"), Participant("+15550004", "Dora Contact")
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id="1", sender=dora, recipients=(me,), direction="incoming",
        sent=1700000000123000000, sent_raw="1700000000123", body="hello from dora", kind="text", is_deleted=False,
        account_id="+15550001", details={"direction_flag": "0", "extra_mime": "0", "read_flag": "1", "token": "21"},
    )
    reply, group = parsed.messages[1:]
    assert (reply.direction, reply.sender, reply.recipients, reply.body) == ("outgoing", me, (dora,), "hi dora")
    assert (group.conversation_title, group.sender, group.details["group_id"]) == ("Team", Participant("+15550005", "Erin"), "888")


def test_v53_partner_from_recipient_number_when_participants_are_missing(tmp_path: Path) -> None:
    db = build_database(tmp_path / "viber_messages", V53, {**PEOPLE, "participants": [], "messages": [
        (1, "+15550002", 1400000005000, 0, 0, 0, 1, "to bob", 6, 0, 0, None, None, 0, 0, 1, 0, 0, 1400000005000)]})
    parsed = parse_files(db, logical={db: MESSAGES_LOGICAL})
    assert_no_warnings(parsed)
    assert [(m.direction, m.recipients) for m in parsed.messages] == [("outgoing", (Participant("+15550002"),))]


CALLS_MINIMAL = "CREATE TABLE calls (_id INTEGER PRIMARY KEY, number TEXT, date INTEGER, type INTEGER, viber_call_type INTEGER);"


def test_android_data_minimal_calls_table(tmp_path: Path) -> None:
    db = build_database(tmp_path / "viber_data", CALLS_MINIMAL, {"calls": [
        (1, "+15550002", 1669408465582, 2, 4), (2, None, None, 9, None)]})
    parsed = parse_files(db, logical={db: DATA_LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 2
    bob = Participant("+15550002")
    assert parsed.messages[0] == Message(
        source_table="calls", source_row_id=1, conversation_id="+15550002", recipients=(bob,), direction="outgoing",
        sent=1669408465582000000, sent_raw="1669408465582", kind="call", details={"call_type": "2 (outgoing)", "media": "4 (video)"},
    )
    assert (parsed.messages[1].direction, parsed.messages[1].details) == ("unknown", {"call_type": "9 (unknown)", "media": "None (unknown)"})


def test_android_system_call_log_is_not_taken_for_viber(tmp_path: Path) -> None:
    db = build_database(tmp_path / "calllog.db", "CREATE TABLE calls (_id INTEGER PRIMARY KEY, number TEXT, date INTEGER, duration INTEGER, "
                                                 "type INTEGER, normalized_number TEXT);", {"calls": [(1, "+1", 1669408465582, 3, 1, "+1")]})
    parsed = parse_files(db, logical={db: b"/data/data/com.android.providers.contacts/databases/calllog.db"})
    assert "viber" not in parsed.parser_names()


def test_android_data_type_confused_calls(tmp_path: Path) -> None:
    db = build_database(tmp_path / "viber_data", CALLS_MINIMAL, {"calls": [(1, b"\xff", "later", "two", 1), (2, 5, 1669408465582, 1, 1)]})
    parsed = parse_files(db, logical={db: DATA_LOGICAL})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 1, "date")]
    assert [(m.conversation_id, m.direction) for m in parsed.messages] == [(decode_text(b"\xff"), "unknown"), ("5", "incoming")]


IOS_MINIMAL = "CREATE TABLE ZVIBERMESSAGE (Z_PK INTEGER PRIMARY KEY, ZCONVERSATION INTEGER, ZDATE TIMESTAMP, ZSTATE VARCHAR, ZTEXT VARCHAR);"


def test_ios_minimal_contacts_data(tmp_path: Path) -> None:
    db = build_database(tmp_path / "Contacts.data", IOS_MINIMAL, {"ZVIBERMESSAGE": [
        (1, 3, 620000000.5, "received", "hello"), (2, 3, 620000010.5, "delivered", "hi"), (3, None, None, None, None)]})
    parsed = parse_files(db, logical={db: IOS_ROOT + b"/database/Contacts.data"})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == Message(
        source_table="ZVIBERMESSAGE", source_row_id=1, conversation_id="3", direction="incoming", sent=1598307200500000000,
        sent_raw="620000000.5", body="hello", kind="text", details={"state": "received"},
    )
    assert [m.direction for m in parsed.messages[1:]] == ["outgoing", "unknown"]


def test_ios_type_confused_values_and_dangling_links(tmp_path: Path) -> None:
    schema = IOS_MINIMAL.replace("ZTEXT VARCHAR", "ZTEXT VARCHAR, ZATTACHMENT INTEGER, ZLOCATION INTEGER, ZPHONENUMINDEX INTEGER") + """
        CREATE TABLE ZATTACHMENT (Z_PK INTEGER PRIMARY KEY, ZNAME VARCHAR);
        CREATE TABLE ZMEMBER (Z_PK INTEGER PRIMARY KEY, ZNAME VARCHAR);
        CREATE TABLE ZPHONENUMBER (Z_PK INTEGER PRIMARY KEY, ZMEMBER INTEGER);"""
    db = build_database(tmp_path / "Contacts.data", schema, {
        "ZVIBERMESSAGE": [(1, 1, "tuesday", b"received", b"\xff", 9, 9, 9), (2, 1, 620000000, "received", "photo", 1, None, 1)],
        "ZATTACHMENT": [(1, b"IMG.jpg")], "ZMEMBER": [(1, "dan")], "ZPHONENUMBER": [(1, 1)]})
    parsed = parse_files(db, logical={db: IOS_ROOT + b"/database/Contacts.data"})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 1, "ZDATE")]
    first, second = parsed.messages
    assert (first.direction, first.body, first.sender, first.attachments) == ("unknown", decode_text(b"\xff"), None, ())
    assert (second.sender, second.attachments, second.kind) == (Participant("member:1", "dan"), (Attachment(file_name="IMG.jpg"),), "media")


def test_ios_truncated_contacts_data_is_database_unreadable(tmp_path: Path) -> None:
    db = build_database(tmp_path / "Contacts.data", IOS_MINIMAL, {"ZVIBERMESSAGE": [(i, 1, 620000000 + i, "received", "x" * 300) for i in range(400)]})
    assert_truncated_store_is_unreadable(db, IOS_ROOT + b"/database/Contacts.data")


# Viber 14.2.0.1 on iOS 14.2 (theAtropos4n6 DFIR_SQL_Queries): repeated calls without a message are only in ZRECENT.
RECENTS = IOS_SCHEMA + """
CREATE TABLE ZRECENTSLINE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZPHONENUMBER VARCHAR);
CREATE TABLE ZRECENT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCALLLOGMESSAGE INTEGER, ZRECENTSLINE INTEGER,
  ZDATE TIMESTAMP, ZDURATION FLOAT, ZCALLTYPE VARCHAR);
"""


def test_ios_zrecent_calls_are_read_with_their_message_link(tmp_path: Path) -> None:
    db = build_database(tmp_path / "Contacts.data", RECENTS, {
        "ZVIBERMESSAGE": [(1, 10, 1, 0, None, 1, None, 1, 620000000.5, None, "received", "call", None, None)],
        "ZCONVERSATION": [(1, 2, 1, 0, 1, None)], "ZMEMBER": [(1, 3, 1, "Dan Jones", "Dan", "dan")],
        "ZPHONENUMBER": [(1, 4, 1, 1, "15550009", "+1 555 0009")],
        "ZRECENTSLINE": [(1, 7, 1, "15550009"), (2, 7, 1, "+15550077")],
        "ZRECENT": [(1, 8, 1, 1, 1, 620000000.5, 31.0, "incoming"), (2, 8, 1, None, 1, 620000100.25, 12.5, "outgoing_viber_with_video"),
                    (3, 8, 1, None, 2, 620000200.0, 0.0, "missed_with_video"), (4, 8, 1, None, 9, "bad", None, 7)],
    })
    parsed = parse_files(db, logical={db: IOS_ROOT + b"/database/Contacts.data"})
    assert [(w.kind, w.table, w.row_id) for w in parsed.warnings] == [("bad_time", "ZRECENT", 4)]
    calls = [m for m in parsed.messages if m.source_table == "ZRECENT"]
    assert len(parsed.messages) == 5 and len(calls) == 4
    dan = Participant("15550009", "Dan Jones")
    assert calls[1] == Message(
        source_table="ZRECENT", source_row_id=2, conversation_id="15550009", recipients=(dan,), direction="outgoing",
        sent=1598307300250000000, sent_raw="620000100.25", kind="call",
        details={"call_type": "outgoing_viber_with_video", "duration": "12.5", "media": "video"},
    )
    assert (calls[0].direction, calls[0].sender, calls[0].details["call_log_message"]) == ("incoming", dan, "1")
    assert (calls[2].direction, calls[2].sender, calls[2].details["media"]) == ("incoming", Participant("+15550077"), "video")
    assert (calls[3].direction, calls[3].sender, calls[3].details) == ("unknown", None, {"call_type": "7"})


def test_ios_minimal_zrecent_is_still_read(tmp_path: Path) -> None:
    db = build_database(tmp_path / "Contacts.data", IOS_MINIMAL + "CREATE TABLE ZRECENT (Z_PK INTEGER PRIMARY KEY, ZDATE TIMESTAMP);",
                        {"ZRECENT": [(1, 620000000)]})
    parsed = parse_files(db, logical={db: IOS_ROOT + b"/database/Contacts.data"})
    assert_no_warnings(parsed)
    assert parsed.messages == [Message(source_table="ZRECENT", source_row_id=1, direction="unknown", sent=1598307200000000000,
                                       sent_raw="620000000", kind="call", details={"call_type": "None"})]


def test_ios_zrecent_of_another_shape_is_a_warning_not_a_silent_skip(tmp_path: Path) -> None:
    db = build_database(tmp_path / "Contacts.data", IOS_MINIMAL + "CREATE TABLE ZRECENT (Z_PK INTEGER PRIMARY KEY, ZWHEN TIMESTAMP);",
                        {"ZVIBERMESSAGE": [(1, 1, 620000000, "received", "hi")], "ZRECENT": [(1, 620000000)]})
    parsed = parse_files(db, logical={db: IOS_ROOT + b"/database/Contacts.data"})
    assert [(w.kind, w.table) for w in parsed.warnings] == [("table_not_read", "ZRECENT")]
    assert [(m.source_table, m.body) for m in parsed.messages] == [("ZVIBERMESSAGE", "hi")]
