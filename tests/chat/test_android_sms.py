"""Android SMS/MMS (mmssms.db): corpus counts, one golden record, MMS from a fixture, Samsung copies."""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files

PLASO = "log2timeline__plaso/test_data/android/mmssms.db"
LOGICAL = b"/data/data/com.android.providers.telephony/databases/mmssms.db"


def test_plaso_mmssms_counts_range_and_golden_record() -> None:
    path = corpus_file(PLASO)
    parsed = parse_files(path, logical={path: LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 9  # CHATS.tsv: sms 9, pdu 0
    assert parsed.parser_names() == {"android_sms"}
    assert parsed.time_range() == ("2013-10-29T16:56:28Z", "2013-10-29T17:16:17Z")
    assert parsed.messages[2] == Message(
        source_table="sms", source_row_id=3, conversation_id="1", sender=Participant("15555215554"),
        direction="incoming", sent=1383066340000000000, sent_raw="1383066340000", received=1383066341303000000,
        body="What message?", kind="text", details={"sms_type": "1 (inbox)", "read_flag": "0"},
    )
    assert {p.record_state for p in parsed.parsed} == {"live"}


def test_found_by_schema_when_renamed(tmp_path: Path) -> None:
    path = corpus_file(PLASO)
    parsed = parse_files(path, logical={path: b"/sdcard/backup/copy_of_messages.bin"})
    assert len(parsed.messages) == 9


SCHEMA = """
CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER, date_sent INTEGER DEFAULT 0,
  read INTEGER DEFAULT 0, type INTEGER, subject TEXT, body TEXT, service_center TEXT);
CREATE TABLE pdu (_id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id INTEGER, date INTEGER, date_sent INTEGER DEFAULT 0,
  msg_box INTEGER, read INTEGER DEFAULT 0, sub TEXT, m_type INTEGER);
CREATE TABLE part (_id INTEGER PRIMARY KEY AUTOINCREMENT, mid INTEGER, seq INTEGER DEFAULT 0, ct TEXT, name TEXT,
  fn TEXT, cl TEXT, _data TEXT, text TEXT);
CREATE TABLE addr (_id INTEGER PRIMARY KEY, msg_id INTEGER, contact_id INTEGER, address TEXT, type INTEGER, charset INTEGER);
"""


def test_mms_with_picture_and_recipients(tmp_path: Path) -> None:
    db = build_database(tmp_path / "mmssms.db", SCHEMA, {
        "pdu": [(1, 7, 1600000000, 1599999990, 1, 1, "hi", 132), (2, 7, 1600000100, 0, 2, 1, None, 128),
                (3, 7, 1600000101, 0, 1, 1, None, 134)],  # 134: delivery report, a system row
        "part": [(1, 1, 0, "application/smil", None, None, None, None, "<smil/>"),
                 (2, 1, 1, "text/plain", None, None, "text_0.txt", None, "look"),
                 (3, 1, 2, "image/jpeg", "IMG_1.jpg", None, "IMG_1.jpg", "/data/user_de/0/com.android.providers.telephony/app_parts/PART_1", None),
                 (4, 2, 0, "text/plain", None, None, None, None, "ok")],
        "addr": [(1, 1, None, "+15550001", 137, 106), (2, 1, None, "insert-address-token", 151, 106),
                 (3, 2, None, "+15550001", 151, 106), (4, 2, None, "insert-address-token", 137, 106)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert [(m.source_row_id, m.kind) for m in parsed.messages] == [(1, "media"), (2, "text"), (3, "system")]
    first, second, report = parsed.messages
    assert first == Message(
        source_table="pdu", source_row_id=1, conversation_id="7", sender=Participant("+15550001"),
        recipients=(Participant("insert-address-token"),), direction="incoming", sent=1599999990 * 10**9, sent_raw="1599999990",
        received=1600000000 * 10**9, body="look", kind="media",
        attachments=(Attachment(file_name="IMG_1.jpg", mime_type="image/jpeg",
                                local_path="/data/user_de/0/com.android.providers.telephony/app_parts/PART_1"),),
        details={"msg_box": "1 (inbox)", "m_type": "132 (retrieve-conf)", "subject": "hi"},
    )
    assert (second.direction, second.sent, second.received, second.body, second.recipients) == (
        "outgoing", 1600000100 * 10**9, None, "ok", (Participant("+15550001"),))
    # No st / m_id columns in this schema: the report says what it is, without a status.
    assert report.details == {"msg_box": "1 (inbox)", "m_type": "134 (delivery-ind)", "report_type": "delivery report"}


def test_samsung_dfrws_copies() -> None:
    path = corpus_file("dfrc-korea__DFRWS_Challenge_2021/Part 3 Samsung Smartphone/[3-1] mmssms.db")
    parsed = parse_files(path)
    assert len(parsed.messages) == 32
    # CHATS.tsv lists the range of sms.date (when the phone stored the message), not date_sent.
    assert parsed.time_range(key=lambda m: m.received or m.sent) == ("2021-04-08T09:14:07Z", "2021-04-18T15:30:22Z")


def test_outgoing_sms_keeps_both_stored_times(tmp_path: Path) -> None:
    db = build_database(tmp_path / "mmssms.db", SCHEMA, {
        "sms": [(1, 3, "+15550002", 1600000200123, 0, 1, 2, None, "sent, date only", None),
                (2, 3, "+15550002", 1600000300456, 1600000299000, 1, 2, None, "sent, both times", None)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    first, second = parsed.messages
    assert (first.sent, first.sent_raw, first.received, first.details) == (
        1600000200123 * 10**6, "1600000200123", None, {"sms_type": "2 (sent)", "read_flag": "1"})
    assert (second.sent, second.sent_raw, second.received, second.details) == (
        1600000299000 * 10**6, "1600000299000", None, {"sms_type": "2 (sent)", "read_flag": "1", "date": "1600000300456"})


PDU_DDL = """CREATE TABLE pdu (_id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id INTEGER, date INTEGER, date_sent INTEGER DEFAULT 0,
  msg_box INTEGER, read INTEGER DEFAULT 0, sub TEXT, m_type INTEGER);"""
PDU_AOSP_DDL = """CREATE TABLE pdu (_id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id INTEGER, date INTEGER, date_sent INTEGER DEFAULT 0,
  msg_box INTEGER, read INTEGER DEFAULT 0, m_id TEXT, sub TEXT, ct_l TEXT, exp INTEGER, m_type INTEGER, m_size INTEGER,
  st INTEGER, read_status INTEGER);"""
EVERY_M_TYPE = [  # _id, thread_id, date, date_sent, msg_box, read, m_id, sub, ct_l, exp, m_type, m_size, st, read_status
    (1, 7, 1600000000, 0, 2, 1, "MID-1", None, None, None, 128, None, None, None),  # send-req: the sent MMS
    (2, 7, 1600000050, 1600000040, 1, 0, None, "later", "http://mmsc.example/x1", 1600600000, 130, 48000, None, None),
    (3, 7, 1600000060, 1600000055, 1, 1, "MID-3", None, None, None, 132, None, None, None),  # retrieve-conf
    (4, 7, 1600000100, 0, 1, 1, "MID-1", None, None, None, 134, None, 129, None),  # delivery report of MMS 1: retrieved
    (5, 7, 1600000200, 0, 1, 1, "MID-1", None, None, None, 136, None, None, 128),  # read report of MMS 1: read
    (6, 7, 1600000300, 0, 1, 1, None, None, None, None, 133, None, None, None),  # acknowledge-ind: never stored by AOSP
]


def test_every_mms_type_kind_and_report_labels(tmp_path: Path) -> None:
    assert PDU_DDL in SCHEMA
    db = build_database(tmp_path / "mmssms.db", SCHEMA.replace(PDU_DDL, PDU_AOSP_DDL), {
        "pdu": EVERY_M_TYPE,
        "part": [(1, 1, 0, "text/plain", None, None, None, None, "sent one"), (2, 3, 0, "text/plain", None, None, None, None, "got one")],
        "addr": [(1, 1, None, "+15550001", 151, 106), (2, 2, None, "+15550002", 137, 106), (3, 4, None, "+15550001", 151, 106),
                 (4, 5, None, "+15550001", 137, 106)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.table, w.row_id, w.field) for w in parsed.warnings] == [("unexpected_m_type", "pdu", 6, "m_type")]
    assert [(m.source_row_id, m.kind, m.direction) for m in parsed.messages] == [
        (1, "text", "outgoing"), (2, "unknown", "incoming"), (3, "text", "incoming"), (4, "system", "unknown"),
        (5, "system", "unknown"), (6, "unknown", "incoming")]
    sent, announced, received, delivered, read, odd = parsed.messages
    assert [m.details["m_type"] for m in parsed.messages] == [
        "128 (send-req)", "130 (notification-ind)", "132 (retrieve-conf)", "134 (delivery-ind)", "136 (read-orig-ind)",
        "133 (acknowledge-ind)"]
    assert (sent.body, received.body) == ("sent one", "got one")
    assert announced == Message(
        source_table="pdu", source_row_id=2, conversation_id="7", sender=Participant("+15550002"), direction="incoming",
        sent=1600000040 * 10**9, sent_raw="1600000040", received=1600000050 * 10**9, kind="unknown",
        details={"msg_box": "1 (inbox)", "m_type": "130 (notification-ind)", "subject": "later", "message_size": "48000",
                 "expiry": "1600600000", "content_location": "http://mmsc.example/x1"},
    )
    assert delivered == Message(
        source_table="pdu", source_row_id=4, conversation_id="7", recipients=(Participant("+15550001"),), direction="unknown",
        sent=1600000100 * 10**9, sent_raw="1600000100", kind="system",
        details={"msg_box": "1 (inbox)", "m_type": "134 (delivery-ind)", "report_type": "delivery report",
                 "delivery_status": "129 (retrieved)", "reported_message_id": "MID-1"},
    )
    assert (read.sender, read.body, read.details["report_type"], read.details["read_status"], read.details["reported_message_id"]) == (
        Participant("+15550001"), None, "read report", "128 (read)", "MID-1")
    assert (odd.body, odd.sent, odd.received) == (None, None, 1600000300 * 10**9)


def test_odd_mms_type_and_report_status_are_kept_and_named_unknown(tmp_path: Path) -> None:
    db = build_database(tmp_path / "mmssms.db", SCHEMA.replace(PDU_DDL, PDU_AOSP_DDL), {"pdu": [
        (1, 7, 1600000000, 0, 1, 1, None, None, None, None, None, None, None, None),  # m_type missing
        (2, 7, 1600000100, 0, 1, 1, b"\x00id", None, None, None, 134, None, "x'); DROP", None),  # type-confused st, blob m_id
        (3, 7, 1600000200, 0, 1, 1, None, None, None, None, 136, None, None, 999)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("unexpected_m_type", 1)]
    assert [(m.kind, m.details["m_type"]) for m in parsed.messages] == [
        ("unknown", "None (unknown)"), ("system", "134 (delivery-ind)"), ("system", "136 (read-orig-ind)")]
    assert parsed.messages[1].details["delivery_status"] == "x'); DROP (unknown)"
    assert parsed.messages[1].details["reported_message_id"] == "\x00id"  # a blob: its exact bytes
    assert parsed.messages[2].details["read_status"] == "999 (unknown)"


# Before Android 4 (TelephonyProvider database versions below 54) neither `sms` nor `pdu` had
# `date_sent`; `seen` came with version 51, `part.text` with 46, `creator`/`sub_id` much later.
# This store is of about version 50: those columns are absent and every message is still read.
PRE_ANDROID_4 = """
CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER, date INTEGER, protocol INTEGER,
  read INTEGER DEFAULT 0, status INTEGER DEFAULT -1, type INTEGER, reply_path_present INTEGER, subject TEXT, body TEXT,
  service_center TEXT, locked INTEGER DEFAULT 0, error_code INTEGER DEFAULT 0);
CREATE TABLE pdu (_id INTEGER PRIMARY KEY, thread_id INTEGER, date INTEGER, msg_box INTEGER, read INTEGER DEFAULT 0, m_id TEXT,
  sub TEXT, sub_cs INTEGER, ct_t TEXT, m_type INTEGER, locked INTEGER DEFAULT 0);
CREATE TABLE part (_id INTEGER PRIMARY KEY, mid INTEGER, seq INTEGER DEFAULT 0, ct TEXT, name TEXT, chset INTEGER, cd TEXT,
  fn TEXT, cid TEXT, cl TEXT, ctt_s INTEGER, ctt_t TEXT, _data TEXT, text TEXT);
CREATE TABLE addr (_id INTEGER PRIMARY KEY, msg_id INTEGER, contact_id INTEGER, address TEXT, type INTEGER, charset INTEGER);
"""


def test_pre_android_4_store_without_date_sent(tmp_path: Path) -> None:
    db = build_database(tmp_path / "mmssms.db", PRE_ANDROID_4, {
        "sms": [(1, 1, "+15550007", None, 1290000000123, 0, 1, -1, 1, 0, None, "gingerbread hello", "+15559000", 0, 0),
                (2, 1, "+15550007", None, 1290000060456, 0, 1, -1, 2, 0, None, "reply", None, 0, 0)],
        "pdu": [(1, 1, 1290000100, 1, 1, "m1", "pic", 106, "application/vnd.wap.multipart.related", 132, 0)],
        "part": [(1, 1, 0, "image/jpeg", "cat.jpg", None, None, None, None, "cat.jpg", None, None,
                  "/data/data/com.android.providers.telephony/app_parts/PART_1", None)],
        "addr": [(1, 1, None, "+15550007", 137, 106)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == Message(
        source_table="sms", source_row_id=1, conversation_id="1", sender=Participant("+15550007"), direction="incoming",
        sent=None, sent_raw=None, received=1290000000123000000, body="gingerbread hello", kind="text",
        details={"sms_type": "1 (inbox)", "read_flag": "1", "service_center": "+15559000"},
    )
    reply, picture = parsed.messages[1:]
    assert (reply.direction, reply.sent, reply.sent_raw, reply.received, reply.recipients) == (
        "outgoing", 1290000060456000000, "1290000060456", None, (Participant("+15550007"),))
    assert (picture.source_table, picture.direction, picture.sent, picture.sent_raw, picture.received, picture.attachments) == (
        "pdu", "incoming", None, None, 1290000100 * 10**9,
        (Attachment(file_name="cat.jpg", mime_type="image/jpeg", local_path="/data/data/com.android.providers.telephony/app_parts/PART_1"),))


def test_later_columns_are_not_needed_and_do_not_hide_messages(tmp_path: Path) -> None:
    later = SCHEMA.replace("service_center TEXT);", "service_center TEXT, seen INTEGER DEFAULT 0, creator TEXT, sub_id INTEGER DEFAULT -1);", 1)
    db = build_database(tmp_path / "mmssms.db", later, {
        "sms": [(1, 2, "+15550008", 1700000000000, 1699999999000, 1, 1, None, "new", None, 1, "com.google.android.apps.messaging", 1)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert [(m.body, m.sent, m.received) for m in parsed.messages] == [("new", 1699999999000 * 10**6, 1700000000000 * 10**6)]


def test_mms_text_kept_in_a_file_before_part_text_existed(tmp_path: Path) -> None:
    # Before telephony database version 46 `part` had no `text`: a text part lived in the file `_data` names.
    schema = PRE_ANDROID_4.replace(", _data TEXT, text TEXT);", ", _data TEXT);")
    db = build_database(tmp_path / "mmssms.db", schema, {
        "pdu": [(1, 4, 1250000000, 2, 1, "m1", None, None, None, 128, 0)],
        "part": [(1, 1, 0, "text/plain", None, None, None, None, None, "text_0.txt", None, None,
                  "/data/data/com.android.providers.telephony/app_parts/PART_7")],
        "addr": [(1, 1, None, "+15550009", 151, 106)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.messages == [Message(
        source_table="pdu", source_row_id=1, conversation_id="4", recipients=(Participant("+15550009"),), direction="outgoing",
        sent=1250000000 * 10**9, sent_raw="1250000000", body=None, kind="media",
        attachments=(Attachment(file_name="text_0.txt", mime_type="text/plain",
                                local_path="/data/data/com.android.providers.telephony/app_parts/PART_7"),),
        details={"msg_box": "2 (sent)", "m_type": "128 (send-req)"},
    )]
