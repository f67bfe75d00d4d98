"""Signal Android signal.db (SQLCipher) and iOS signal.sqlite, from fixtures built here (no corpus sample).

Facts used (see parsers/chat/signal.py; sources: Signal-Android `SqlCipherDatabaseHook.java`
(kdf_iter 1, cipher_page_size 4096, passphrase = hex secret), `MessageTable.kt`, `MessageTypes.java`
(base type = type & 0x1F: 20 inbox, 23 sent, 2 outgoing audio call), `RecipientTable.kt`,
`ThreadTable.kt`, `AttachmentTable.kt`; Signal-iOS `SignalServiceKit/Resources/schema.sql`).
The encrypted fixture is written with the sqlcipher3 module using the Android settings.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, parse_files, sqlcipher_encrypt

LOGICAL = b"/data/data/org.thoughtcrime.securesms/databases/signal.db"
KEY = "5f0c2d9a8b7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a"

CURRENT = """
CREATE TABLE recipient (_id INTEGER PRIMARY KEY AUTOINCREMENT, type INTEGER DEFAULT 0, e164 TEXT UNIQUE DEFAULT NULL,
  aci TEXT UNIQUE DEFAULT NULL, group_id TEXT, system_joined_name TEXT, profile_joined_name TEXT);
CREATE TABLE thread (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0, recipient_id INTEGER UNIQUE);
CREATE TABLE groups (_id INTEGER PRIMARY KEY, group_id TEXT, recipient_id INTEGER, title TEXT);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, date_sent INTEGER NOT NULL, date_received INTEGER NOT NULL,
  date_server INTEGER DEFAULT -1, thread_id INTEGER NOT NULL, from_recipient_id INTEGER NOT NULL, from_device_id INTEGER,
  to_recipient_id INTEGER NOT NULL, type INTEGER NOT NULL, body TEXT, read INTEGER DEFAULT 0, remote_deleted INTEGER DEFAULT 0,
  view_once INTEGER DEFAULT 0);
CREATE TABLE attachment (_id INTEGER PRIMARY KEY AUTOINCREMENT, message_id INTEGER, content_type TEXT, file_name TEXT,
  data_size INTEGER, data_file TEXT);
"""
CURRENT_ROWS = {
    "recipient": [(1, 0, "+15550001", "aci-self", None, None, "Me"), (2, 0, "+15550002", "aci-bob", None, "Bob Contact", "bob"),
                  (3, 3, None, None, "__signal_group__v2__!abcd", None, None)],
    "thread": [(1, 1700000000000, 2), (2, 1700000500000, 3)],
    "groups": [(1, "__signal_group__v2__!abcd", 3, "Hiking")],
    "message": [
        (1, 1700000000000, 1700000001000, 1700000000500, 1, 2, 1, 1, 10485780, "hi from bob", 1, 0, 0),   # 0xA00014: base 20 inbox
        (2, 1700000100000, 1700000100000, -1, 1, 1, 1, 2, 10485783, "hi back", 1, 0, 0),                 # base 23 sent
        (3, 1700000200000, 1700000201000, -1, 1, 2, 1, 1, 10485780, None, 1, 0, 1),                       # picture, view once
        (4, 1700000300000, 1700000300000, -1, 1, 1, 1, 2, 2, None, 1, 0, 0),                              # outgoing audio call
        (5, 1700000500000, 1700000501000, -1, 2, 2, 1, 3, 10485780, "group hello", 1, 0, 0),
    ],
    "attachment": [(1, 3, "image/jpeg", None, 34567, "/data/user/0/org.thoughtcrime.securesms/app_attachments/part123.mms")],
}


def _encrypted(tmp_path: Path) -> Path:
    plain = build_database(tmp_path / "plain.db", CURRENT, CURRENT_ROWS)
    target = tmp_path / "signal.db"
    sqlcipher_encrypt(plain, target, (f"PRAGMA key = '{KEY}'", "PRAGMA kdf_iter = 1", "PRAGMA cipher_page_size = 4096"))
    assert not target.read_bytes().startswith(b"SQLite format 3")
    return target


def test_encrypted_without_key_is_one_warning(tmp_path: Path) -> None:
    db = _encrypted(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["encrypted_no_key"]


def test_encrypted_with_key_golden_record(tmp_path: Path) -> None:
    db = _encrypted(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL}, keys={"signal": KEY})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"signal"}
    assert len(parsed.messages) == 5
    assert parsed.messages[0] == Message(
        source_table="message", source_row_id=1, conversation_id="1", conversation_title="Bob Contact",
        sender=Participant("+15550002", "Bob Contact"), recipients=(Participant("+15550001", "Me"),), direction="incoming",
        sent=1700000000000000000, sent_raw="1700000000000", received=1700000001000000000, body="hi from bob", kind="text",
        is_deleted=False, is_view_once=False, details={"type": "10485780 (base 20)"},
    )
    sent, picture, call, group = parsed.messages[1:]
    assert (sent.direction, sent.sender, sent.received) == ("outgoing", Participant("+15550001", "Me"), None)
    assert (picture.kind, picture.is_view_once, picture.attachments) == ("media", True, (Attachment(
        mime_type="image/jpeg", size=34567, local_path="/data/user/0/org.thoughtcrime.securesms/app_attachments/part123.mms"),))
    assert (call.kind, call.direction) == ("call", "outgoing")
    assert (group.conversation_title, group.recipients) == ("Hiking", (Participant("__signal_group__v2__!abcd", "Hiking"),))
    assert parsed.time_range() == ("2023-11-14T22:13:20Z", "2023-11-14T22:21:40Z")


def test_wrong_key_is_an_error(tmp_path: Path) -> None:
    db = _encrypted(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL}, keys={"signal": "00" * 32})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["encrypted_bad_key"]


OLDER = """
CREATE TABLE recipient (_id INTEGER PRIMARY KEY AUTOINCREMENT, phone TEXT, uuid TEXT, system_display_name TEXT);
CREATE TABLE thread (_id INTEGER PRIMARY KEY AUTOINCREMENT, recipient_id INTEGER);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, date_sent INTEGER NOT NULL, date_received INTEGER NOT NULL,
  thread_id INTEGER NOT NULL, recipient_id INTEGER NOT NULL, type INTEGER NOT NULL, body TEXT, remote_deleted INTEGER DEFAULT 0,
  view_once INTEGER DEFAULT 0);
"""


def test_decrypted_copy_early_2023_recipient_id_schema(tmp_path: Path) -> None:
    db = build_database(tmp_path / "signal.db", OLDER, {
        "recipient": [(1, "+15550002", "uuid-bob", "Bob")], "thread": [(1, 1)],
        "message": [(1, 1670000000000, 1670000001000, 1, 1, 10485780, "in", 0, 0), (2, 1670000100000, 1670000100000, 1, 1, 10485783, "out", 1, 0)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    incoming, outgoing = parsed.messages
    assert (incoming.sender, incoming.recipients, incoming.direction) == (Participant("+15550002", "Bob"), (), "incoming")
    assert (outgoing.sender, outgoing.recipients, outgoing.is_deleted) == (None, (Participant("+15550002", "Bob"),), True)


LEGACY = """
CREATE TABLE recipient (_id INTEGER PRIMARY KEY AUTOINCREMENT, phone TEXT, system_display_name TEXT);
CREATE TABLE thread (_id INTEGER PRIMARY KEY AUTOINCREMENT, recipient_ids TEXT, recipient_id INTEGER);
CREATE TABLE sms (_id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id INTEGER, address INTEGER, date INTEGER, date_sent INTEGER,
  type INTEGER, body TEXT);
CREATE TABLE mms (_id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id INTEGER, date INTEGER, date_received INTEGER, msg_box INTEGER,
  body TEXT, address INTEGER);
CREATE TABLE part (_id INTEGER PRIMARY KEY, mid INTEGER, ct TEXT, file_name TEXT, data_size INTEGER, _data TEXT);
"""


def test_legacy_sms_mms_schema(tmp_path: Path) -> None:
    db = build_database(tmp_path / "signal.db", LEGACY, {
        "recipient": [(1, "+15550003", "Carol")], "thread": [(1, None, 1)],
        "sms": [(1, 1, 1, 1600000001000, 1600000000000, 10485780, "old sms-table text")],
        "mms": [(1, 1, 1600000100000, 1600000100500, 10485783, None, 1)],
        "part": [(1, 1, "video/mp4", "clip.mp4", 1000, "/data/user/0/org.thoughtcrime.securesms/app_parts/part1.mms")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    text, video = parsed.messages
    assert (text.source_table, text.sent, text.received, text.sender) == ("sms", 1600000000000 * 10**6, 1600000001000 * 10**6,
                                                                           Participant("+15550003", "Carol"))
    assert (video.source_table, video.direction, video.kind, video.attachments[0].file_name) == ("mms", "outgoing", "media", "clip.mp4")


IOS = """
CREATE TABLE model_TSThread (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, recordType INTEGER NOT NULL, uniqueId TEXT NOT NULL UNIQUE,
  contactPhoneNumber TEXT, contactUUID TEXT, name TEXT);
CREATE TABLE model_TSInteraction (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, recordType INTEGER NOT NULL, uniqueId TEXT NOT NULL,
  receivedAtTimestamp INTEGER NOT NULL, timestamp INTEGER NOT NULL, uniqueThreadId TEXT NOT NULL, authorPhoneNumber TEXT,
  authorUUID TEXT, body TEXT, recipientAddressStates BLOB, wasRemotelyDeleted BOOLEAN, isViewOnceMessage INTEGER);
"""


def test_ios_decrypted_grdb(tmp_path: Path) -> None:
    db = build_database(tmp_path / "signal.sqlite", IOS, {
        "model_TSThread": [(1, 0, "c+15550002", "+15550002", None, None)],
        "model_TSInteraction": [(1, 0, "m1", 1690000001000, 1690000000000, "c+15550002", "+15550002", None, "ios in", None, 0, 0),
                                (2, 0, "m2", 1690000100000, 1690000100000, "c+15550002", None, None, "ios out", b"bplist00", 0, 0)]})
    parsed = parse_files(db, logical={db: b"/private/var/mobile/Containers/Shared/AppGroup/X/grdb/signal.sqlite"})
    assert_no_warnings(parsed)
    incoming, outgoing = parsed.messages
    assert incoming == Message(
        source_table="model_TSInteraction", source_row_id=1, conversation_id="c+15550002", sender=Participant("+15550002"),
        direction="incoming", sent=1690000000000 * 10**6, sent_raw="1690000000000", received=1690000001000 * 10**6, body="ios in",
        kind="text", is_deleted=False, is_view_once=False)
    assert (outgoing.direction, outgoing.recipients, outgoing.received) == ("outgoing", (Participant("+15550002"),), None)


def test_unknown_schema_at_signal_path(tmp_path: Path) -> None:
    db = build_database(tmp_path / "signal.db", "CREATE TABLE message_v99 (_id INTEGER PRIMARY KEY, payload BLOB);")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_ios_encrypted_with_plaintext_header(tmp_path: Path) -> None:
    """iOS keeps the first 32 bytes clear, so the file starts like SQLite; the key holder's parser takes over."""
    plain = build_database(tmp_path / "plain.db", IOS, {
        "model_TSThread": [(1, 0, "c+15550002", "+15550002", None, None)],
        "model_TSInteraction": [(1, 0, "m1", 1690000001000, 1690000000000, "c+15550002", "+15550002", None, "ios in", None, 0, 0)]})
    key, salt = "11" * 32, "22" * 16
    db = tmp_path / "signal.sqlite"
    sqlcipher_encrypt(plain, db, (f"PRAGMA key = \"x'{key}{salt}'\"", "PRAGMA cipher_plaintext_header_size = 32"))
    assert db.read_bytes().startswith(b"SQLite format 3\x00")
    logical = {db: b"/private/var/mobile/Containers/Shared/AppGroup/X/grdb/signal.sqlite"}
    without = parse_files(db, logical=logical)
    assert (without.messages, [w.kind for w in without.warnings]) == ([], ["encrypted_no_key"])
    parsed = parse_files(db, logical=logical, keys={"signal": key + salt})
    assert_no_warnings(parsed)
    (message,) = parsed.messages
    assert (message.source_table, message.source_row_id, message.body, message.sender) == (
        "model_TSInteraction", 1, "ios in", Participant("+15550002"))
