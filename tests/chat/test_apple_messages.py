"""Apple Messages (sms.db / chat.db): three corpus stores, golden records, a typedstream-only body.

Facts used by the fixtures (own words; sources: the corpus stores' own schema, plaso's imessage
plugin, imessage-exporter's documentation, dgelessus/python-typedstream's format notes):
- `message.text` is NULL on recent systems and the text lives only in `attributedBody`, an NSArchiver
  typedstream: byte 4, length-prefixed b"streamtyped", system version 1000 (0x81 + int16 LE), then
  "@" object NSMutableAttributedString (class chain NSAttributedString, NSObject, nil), whose first
  value is an "@" NSMutableString (superclass NSString, then a reference to NSObject) with content
  type "+": a length and the UTF-8 bytes. 0x84 = new item, 0x85 = nil, 0x86 = end of object,
  0x92 + n = reference to shared item n (strings and objects counted separately).
- `date` is nanoseconds since 2001-01-01 from iOS 11, seconds before (cocoa_auto).
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from parsers.decode.typedstream import TypedStreamError, attributed_string_text
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files

PLASO = "log2timeline__plaso/test_data/sqlite/imessage_chat.db"
CTF = "amandawills__CS426-iphone-sms-forensics/sms.db"
MVT = "mvt-project__mvt/tests/artifacts/ios_backup/3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28"
IOS_PATH = b"/private/var/mobile/Library/SMS/sms.db"


def _int(value: int) -> bytes:
    """A typedstream integer: one byte below 0x80, else 0x81 + int16 or 0x82 + int32 (little-endian)."""
    if 0 <= value < 0x80:
        return bytes([value])
    if -0x8000 <= value < 0x8000:
        return b"\x81" + struct.pack("<h", value)
    return b"\x82" + struct.pack("<i", value)


def _new_string(text: bytes) -> bytes:
    return b"\x84" + _int(len(text)) + text


def typedstream_blob(text: str) -> bytes:
    """An attributedBody as Messages writes it: NSMutableAttributedString holding an NSMutableString."""
    data = text.encode("utf-8")
    return (b"\x04" + _new_string(b"streamtyped")[1:] + _int(1000)
            + _new_string(b"@")                                   # string 0: type "@"
            + b"\x84"                                              # new object (object 0)
            + b"\x84" + _new_string(b"NSMutableAttributedString") + b"\x00"   # class (object 1), version 0
            + b"\x84" + _new_string(b"NSAttributedString") + b"\x00"          # superclass (object 2)
            + b"\x84" + _new_string(b"NSObject") + b"\x00"                    # superclass (object 3)
            + b"\x85"                                              # end of class chain
            + b"\x92"                                              # type: reference to string 0 "@"
            + b"\x84"                                              # new object (object 4): the string
            + b"\x84" + _new_string(b"NSMutableString") + b"\x01"
            + b"\x84" + _new_string(b"NSString") + b"\x01"
            + b"\x95"                                              # superclass: reference to object 3 NSObject
            + _new_string(b"+") + _int(len(data)) + data           # content: type "+", length, UTF-8
            + b"\x86"                                              # end of the NSMutableString
            + _new_string(b"iI") + b"\x01" + _int(len(text)) + b"\x85" + b"\x86")  # one attribute run, no attributes


def test_typedstream_decoder_reads_built_and_corpus_blobs(tmp_path: Path) -> None:
    assert attributed_string_text(typedstream_blob("Hi ✓ " + "x" * 300)) == "Hi ✓ " + "x" * 300
    copy = tmp_path / "sms.db"
    shutil.copyfile(corpus_file(CTF), copy)  # read a copy: the corpus is never opened by SQLite directly
    connection = sqlite3.connect(copy)
    pairs = connection.execute("SELECT text, attributedBody FROM message").fetchall()
    connection.close()
    assert len(pairs) == 105 and all(attributed_string_text(blob) == text for text, blob in pairs)
    try:
        attributed_string_text(b"bplist00")
    except TypedStreamError:
        pass
    else:
        raise AssertionError("a non-typedstream blob must be refused")


def test_plaso_chat_db_counts_range_and_golden_record() -> None:
    path = corpus_file(PLASO)
    parsed = parse_files(path, logical={path: b"/Users/ken/Library/Messages/chat.db"})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"apple_messages"}
    assert len(parsed.messages) == 10  # CHATS.tsv: message 10
    assert parsed.time_range() == ("2015-11-22T18:09:46Z", "2015-12-02T19:24:53Z")
    # plaso's test file was edited: `text` and the attributedBody copy disagree for rows 6 and 10;
    # both are kept (text as body, the blob's text in details).
    assert [m.source_row_id for m in parsed.messages if "attributedBody_text" in m.details] == [6, 10]
    assert parsed.messages[5] == Message(
        source_table="message", source_row_id=6, conversation_id="iMessage;-;+447775446518",
        sender=Participant("ken.doh@icloud.com"), recipients=(Participant("447775455555"),), direction="outgoing",
        sent=1448306774000000000, sent_raw="469999574", received=1448306777000000000,
        body="It does have it’s own ‘office’ software, but you can also install Open Office, which I have a copy of.",
        kind="text", account_id="ken.doh@icloud.com",
        details={"guid": "9ADFCC7B-A737-4ABF-A911-918E4278801E", "service": "iMessage", "date_delivered_raw": "469999577",
                 "chat_identifier": "+447775446518",
                 "attributedBody_text": "It does have it’s own ‘office’ software, but you can also install Microsoft Office, which I have a copy of."},
    )


def test_ctf_sms_db_counts_range_attachments_and_golden_record() -> None:
    path = corpus_file(CTF)
    parsed = parse_files(path, logical={path: IOS_PATH})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 105  # CHATS.tsv: message 105
    assert parsed.time_range() == ("2019-12-26T18:50:37Z", "2020-03-24T01:00:55Z")
    assert sum(len(m.attachments) for m in parsed.messages) == 7
    assert {m.details["service"] for m in parsed.messages} == {"SMS", "iMessage"}
    assert parsed.messages[4] == Message(
        source_table="message", source_row_id=34, conversation_id="iMessage;-;+15183808956",
        sender=Participant("+15186537460"), recipients=(Participant("+15183808956"),), direction="outgoing",
        sent=1578245399777601920, sent_raw="599938199777601920", received=1578245401307246720,
        body="\ufffc\ufffc", kind="media",
        attachments=(
            Attachment(file_name="IMG_0066.HEIC", mime_type="image/heic", size=2160391,
                       local_path="~/Library/SMS/Attachments/9e/14/3F582393-07A0-4DB2-9211-D0A9470D1079/IMG_0066.HEIC"),
            Attachment(file_name="IMG_0067.jpg", mime_type="image/jpeg", size=1678272,
                       local_path="~/Library/SMS/Attachments/2d/13/D98C451D-FDE9-4BD9-8BB6-DC4BF0B84881/IMG_0067.jpg")),
        account_id="+15186537460",
        details={"guid": "69A47004-50F3-454E-8112-344AC03B5627", "service": "iMessage",
                 "date_delivered_raw": "599938201307246720", "chat_identifier": "+15183808956"},
    )


def test_mvt_minimal_store_handle_and_message_only() -> None:
    path = corpus_file(MVT)
    parsed = parse_files(path)
    assert_no_warnings(parsed)
    assert parsed.time_range() == ("2019-08-29T23:13:30Z", "2019-08-29T23:13:30Z")
    assert parsed.messages == [Message(
        source_table="message", source_row_id=3, sender=Participant("apple"), direction="incoming",
        sent=1567120410539788032, sent_raw="588813210539788032", read=1567120410539900000,
        body="Please click here https://badbadbad.example.org/", kind="text",
        details={"guid": "FDC6EC94-9D5A-434D-90FA-BF170E10A311"},
    )]


SCHEMA = """
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT, handle_id INTEGER DEFAULT 0,
  attributedBody BLOB, service TEXT, account TEXT, date INTEGER, date_read INTEGER, date_delivered INTEGER, is_from_me INTEGER DEFAULT 0,
  item_type INTEGER DEFAULT 0, associated_message_guid TEXT, associated_message_type INTEGER DEFAULT 0, destination_caller_id TEXT);
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT, service TEXT NOT NULL);
CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, chat_identifier TEXT, display_name TEXT);
CREATE TABLE chat_message_join (chat_id INTEGER, message_id INTEGER, message_date INTEGER DEFAULT 0);
CREATE TABLE chat_handle_join (chat_id INTEGER, handle_id INTEGER);
CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT, filename TEXT, mime_type TEXT, transfer_name TEXT, total_bytes INTEGER);
CREATE TABLE message_attachment_join (message_id INTEGER, attachment_id INTEGER);
"""


def test_text_only_in_attributed_body_group_chat_and_reaction(tmp_path: Path) -> None:
    db = build_database(tmp_path / "sms.db", SCHEMA, {
        "message": [
            (1, "G1", None, 1, typedstream_blob("See you at 8 🙂"), "iMessage", "E:me@icloud.com", 700000000123456789, 0, 0, 0, 0, None, 0, None),
            (2, "G2", None, 0, typedstream_blob("ok"), "iMessage", "E:me@icloud.com", 700000100000000000, 0, 700000101000000000, 1, 0, None, 0, None),
            (3, "G3", None, 2, typedstream_blob("Loved “ok”"), "iMessage", "E:me@icloud.com", 700000200000000000, 0, 0, 0, 0, "p:0/G2", 2000, None),
            (4, "G4", None, 2, b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84", "iMessage", "E:me@icloud.com", 700000300000000000, 0, 0, 0, 0, None, 0, None),
            (5, "G5", None, 2, None, "iMessage", "E:me@icloud.com", 700000400000000000, 0, 0, 0, 2, None, 0, None),
        ],
        "handle": [(1, "+15550001", "us", "iMessage"), (2, "friend@example.com", "us", "iMessage")],
        "chat": [(1, "iMessage;+;chat123", "chat123", "Dinner")],
        "chat_message_join": [(1, 1, 0), (1, 2, 0), (1, 3, 0), (1, 4, 0), (1, 5, 0)],
        "chat_handle_join": [(1, 1), (1, 2)],
    })
    parsed = parse_files(db, logical={db: IOS_PATH})
    assert [(w.kind, w.table, w.row_id, w.field) for w in parsed.warnings] == [("bad_blob", "message", 4, "attributedBody")]
    assert len(parsed.messages) == 5
    first, second, third, fourth, rename = parsed.messages
    assert first == Message(
        source_table="message", source_row_id=1, conversation_id="iMessage;+;chat123", conversation_title="Dinner",
        sender=Participant("+15550001"), direction="incoming", sent=978307200 * 10**9 + 700000000123456789,
        sent_raw="700000000123456789", body="See you at 8 🙂", kind="text", account_id="me@icloud.com",
        details={"guid": "G1", "service": "iMessage", "text_source": "attributedBody", "chat_identifier": "chat123"},
    )
    assert (second.direction, second.sender, second.recipients, second.body) == (
        "outgoing", Participant("me@icloud.com"), (Participant("+15550001"), Participant("friend@example.com")), "ok")
    assert (third.kind, third.details["associated_message_guid"], third.body) == ("reaction", "p:0/G2", "Loved “ok”")
    assert (fourth.body, fourth.sender) == (None, Participant("friend@example.com"))  # the bad blob loses only the text
    assert (rename.kind, rename.body, rename.details["item_type"]) == ("system", None, "2 (group renamed)")


def test_old_seconds_dates(tmp_path: Path) -> None:
    db = build_database(tmp_path / "chat.db", SCHEMA, {
        "message": [(1, "G1", "hello", 1, None, "SMS", "p:+15559999", 469908586, 469908802, 0, 0, 0, None, 0, None)],
        "handle": [(1, "+15550001", "us", "SMS")],
    })
    parsed = parse_files(db)
    assert_no_warnings(parsed)
    message = parsed.messages[0]
    assert (message.sent, message.read, message.body, message.account_id, message.conversation_id) == (
        1448215786 * 10**9, 1448216002 * 10**9, "hello", "+15559999", None)


def test_named_like_sms_db_but_unknown_schema(tmp_path: Path) -> None:
    db = build_database(tmp_path / "sms.db", "CREATE TABLE message (id INTEGER PRIMARY KEY, body TEXT);", {"message": [(1, "x")]})
    parsed = parse_files(db, logical={db: IOS_PATH})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


# Before iOS 6 (The iPhone Wiki "Messages", iOS 3.1.3-5.0.1; the iOS 4/5 queries of iphone-sms-backup and
# forever-chat-imessage-export): no handle/chat tables; `message.address`, `flags` (2 received, 3 sent) and
# `date` in Unix seconds; `group_member` lists a conversation's parties; `msg_pieces` holds MMS parts.
IOS4 = """
CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
CREATE TABLE msg_group (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, type INTEGER, newest_message INTEGER, unread_count INTEGER, hash INTEGER);
CREATE TABLE group_member (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, group_id INTEGER, address TEXT, country TEXT);
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT, date INTEGER, text TEXT, flags INTEGER, replace INTEGER,
  svc_center TEXT, group_id INTEGER, association_id INTEGER, height INTEGER, UIFlags INTEGER, version INTEGER, subject TEXT,
  country TEXT, headers BLOB, recipients BLOB, read INTEGER);
CREATE TABLE msg_pieces (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, message_id INTEGER, data BLOB, part_id INTEGER, preview_part INTEGER,
  content_type TEXT, height INTEGER, version INTEGER, flags INTEGER, content_id TEXT, content_loc TEXT, headers BLOB);
"""
# iOS 5 adds iMessage to the same table (is_madrid = 1, madrid_* columns, dates in seconds since 2001).
IOS5 = IOS4.replace("recipients BLOB, read INTEGER);", """recipients BLOB, read INTEGER, madrid_attributedBody BLOB,
  madrid_handle TEXT, madrid_version INTEGER, madrid_guid TEXT, madrid_type INTEGER, madrid_roomname TEXT, madrid_service TEXT,
  madrid_account TEXT, madrid_account_guid TEXT, madrid_flags INTEGER, madrid_attachmentInfo BLOB, madrid_url TEXT,
  madrid_error INTEGER, is_madrid INTEGER, madrid_date_read INTEGER, madrid_date_delivered INTEGER);""")


def test_ios4_sms_db_without_handle_or_chat(tmp_path: Path) -> None:
    db = build_database(tmp_path / "sms.db", IOS4, {
        "msg_group": [(1, 0, 3, 0, 0)],
        "group_member": [(1, 1, "+15550101", "us")],
        "message": [(1, "+15550101", 1290000000, "old hello", 2, 0, "+15559000", 1, 0, 0, 0, 0, None, "us", None, None, 1),
                    (2, "+15550101", 1290000100, "old reply", 3, 0, None, 1, 0, 0, 0, 0, None, "us", None, None, 1),
                    (3, "+15550101", 1290000200, None, 2, 0, None, 1, 0, 0, 0, 0, "pic", "us", None, None, 0)],
        "msg_pieces": [(1, 3, b"look at this", 0, 0, "text/plain", 0, 0, 0, "text_0", "text_0.txt", None),
                       (2, 3, b"\xff\xd8jpeg", 1, 0, "image/jpeg", 0, 0, 0, "IMG_0001", "IMG_0001.jpg", None)],
    })
    parsed = parse_files(db, logical={db: IOS_PATH})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"apple_messages"}
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == Message(
        source_table="message", source_row_id=1, conversation_id="1", sender=Participant("+15550101"), direction="incoming",
        sent=1290000000 * 10**9, sent_raw="1290000000", body="old hello", kind="text",
        details={"flags": "2 (received)", "svc_center": "+15559000", "read_flag": "1"},
    )
    reply, mms = parsed.messages[1:]
    assert (reply.direction, reply.sender, reply.recipients, reply.sent) == (
        "outgoing", None, (Participant("+15550101"),), 1290000100 * 10**9)
    assert (mms.kind, mms.body, mms.attachments, mms.details["text_source"], mms.details["subject"]) == (
        "media", "look at this", (Attachment(file_name="IMG_0001.jpg", mime_type="image/jpeg"),), "msg_pieces", "pic")


def test_ios5_sms_db_with_imessage_rows(tmp_path: Path) -> None:
    sms = (1, "+15550101", 1320000000, "sms row", 2, 0, None, 1, 0, 0, 0, 0, None, "us", None, None, 1)
    madrid_in = (2, None, 342000000, "imessage in", 0, 0, None, 2, 0, 0, 0, 0, None, None, None, None, 1, None,
                 "friend@example.com", 10, "GUID-2", 0, None, "iMessage", "E:me@example.com", None, 12289, None, None, 0, 1,
                 342000050, 0)
    madrid_out = (3, None, 342000100, "imessage out", 0, 0, None, 2, 0, 0, 0, 0, None, None, None, None, 1, None,
                  "friend@example.com", 10, "GUID-3", 0, None, "iMessage", "E:me@example.com", None, 36869, None, None, 0, 1,
                  0, 342000102)
    unknown = (4, "+15550101", 1320000300, "odd", 129, 0, None, 1, 0, 0, 0, 0, None, "us", None, None, 1) + (None,) * 16
    db = build_database(tmp_path / "sms.db", IOS5, {
        "group_member": [(1, 1, "+15550101", "us"), (2, 2, "friend@example.com", None)],
        "message": [sms + (None,) * 13 + (0, None, None), madrid_in, madrid_out, unknown],
    })
    parsed = parse_files(db, logical={db: IOS_PATH})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 4
    first, incoming, outgoing, odd = parsed.messages
    assert (first.sent, first.direction, first.details) == (1320000000 * 10**9, "incoming", {"flags": "2 (received)", "read_flag": "1"})
    assert incoming == Message(
        source_table="message", source_row_id=2, conversation_id="2", sender=Participant("friend@example.com"),
        direction="incoming", sent=(978307200 + 342000000) * 10**9, sent_raw="342000000", read=(978307200 + 342000050) * 10**9,
        body="imessage in", kind="text", account_id="me@example.com",
        details={"flags": "0", "madrid_flags": "12289", "madrid_guid": "GUID-2", "madrid_service": "iMessage", "read_flag": "1"},
    )
    assert (outgoing.direction, outgoing.sender, outgoing.recipients, outgoing.received) == (
        "outgoing", Participant("me@example.com"), (Participant("friend@example.com"),), (978307200 + 342000102) * 10**9)
    assert (odd.direction, odd.sender, odd.details["flags"], odd.details["address"]) == ("unknown", None, "129 (deleted)", "+15550101")


def test_legacy_mms_text_that_is_not_utf8_is_a_warning(tmp_path: Path) -> None:
    db = build_database(tmp_path / "sms.db", IOS4, {
        "message": [(1, "+15550101", 1290000200, None, 2, 0, None, 1, 0, 0, 0, 0, None, "us", None, None, 0)],
        "msg_pieces": [(1, 1, b"\xff\xfe", 0, 0, "text/plain", 0, 0, 0, "text_0", "text_0.txt", None)],
    })
    parsed = parse_files(db, logical={db: IOS_PATH})
    assert [(w.kind, w.table, w.row_id, w.field) for w in parsed.warnings] == [("bad_blob", "msg_pieces", 1, "data")]
    assert [(m.source_row_id, m.body) for m in parsed.messages] == [(1, None)]


def test_legacy_type_confused_rows_cost_only_their_fields(tmp_path: Path) -> None:
    db = build_database(tmp_path / "sms.db", IOS4, {
        "message": [(1, "+15550101", "yesterday", "t", 2, 0, None, 1, 0, 0, 0, 0, None, "us", None, None, 1),
                    (2, "+15550101", 2**62, "far future", 3, 0, None, None, 0, 0, 0, 0, None, "us", None, None, 1),
                    (3, "+15550101", 1290000000, None, "two", 0, None, 1, 0, 0, 0, 0, None, "us", None, None, 1)],
        "msg_pieces": [(1, 3, 10**9, 0, 0, "text/plain", 0, 0, 0, None, None, None)],  # an integer where text belongs
    })
    parsed = parse_files(db, logical={db: IOS_PATH})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [
        ("bad_time", 1, "date"), ("bad_time", 2, "date"), ("bad_blob", 3, "data")]
    assert [(m.source_row_id, m.sent, m.sent_raw, m.direction, m.body) for m in parsed.messages] == [
        (1, None, "yesterday", "incoming", "t"), (2, None, str(2**62), "outgoing", "far future"),
        (3, 1290000000 * 10**9, "1290000000", "unknown", None)]
    assert parsed.messages[2].details == {"flags": "two (unknown)", "read_flag": "1", "address": "+15550101"}
