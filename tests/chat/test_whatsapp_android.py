"""WhatsApp Android (msgstore.db + wa.db): corpus counts and ranges, golden records, transition rule.

Schema facts are in parsers/chat/whatsapp_android.py (sources: the corpus databases' own DDL, IPED's
WhatsApp parser and ALEAPP whatsApp.py, read for facts only). Every msgstore.db starts with a
placeholder row ("-1" jid/key, timestamp 0; chat_row_id -1 in `message`): it is not a message and is
left out, counted in one `placeholder_row` info row, so messages + info rows = CHATS.tsv row counts.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import Parsed, assert_no_warnings, build_database, corpus_file, parse_files

IPED = "sepinf-inc__IPED/iped-parsers/iped-parsers-impl/src/test/resources/test-files/"
MSGSTORE = b"/data/data/com.whatsapp/databases/msgstore.db"
WADB = b"/data/data/com.whatsapp/databases/wa.db"


def _info_rows(parsed: Parsed) -> list[tuple]:
    return [(w.kind, w.severity, w.table, w.row_id) for w in parsed.warnings]


def _placeholders(*tables: str) -> list[tuple]:
    return [("placeholder_row", "info", table, 1) for table in tables]


def test_iped_transition_database_with_wa_db_names() -> None:
    db, wa = corpus_file(IPED + "test_whatsAppMsgStore.db"), corpus_file(IPED + "test_whatsApp.db")
    parsed = parse_files(db, wa, logical={db: MSGSTORE, wa: WADB})
    # CHATS.tsv: messages 75 rows (row 1 the placeholder), message 1 row (its own placeholder): 74 messages, 2 info rows.
    assert _info_rows(parsed) == _placeholders("messages", "message")
    assert parsed.warnings[0].message == ("messages row 1 (key_remote_jid '-1') is the placeholder row WhatsApp creates "
                                          "with every database, not a message; left out")
    assert len(parsed.messages) == 74
    assert {m.source_table for m in parsed.messages} == {"messages"}
    assert parsed.parser_names() == {"whatsapp_android"}
    assert parsed.time_range() == ("2016-04-29T21:15:08Z", "2021-06-16T17:01:34Z")
    assert sum(m.kind == "system" for m in parsed.messages) == 70  # status-6 rows (group created, member added ...)
    by_row = {m.source_row_id: m for m in parsed.messages}
    assert sorted(by_row) == list(range(2, 76))
    assert by_row[75] == Message(
        source_table="messages", source_row_id=75, conversation_id="556183125151@s.whatsapp.net",
        sender=Participant("556183125151@s.whatsapp.net", "Nickerida"), direction="incoming",
        sent=1623862894000000000, sent_raw="1623862894000", received=1623697359721000000, body="Teste", kind="text",
        details={"key_id": "D935423AB76A4AC64F25F2807E4B1581", "status": "0", "media_wa_type": "0"},
    )
    assert by_row[2].conversation_title == "Eu ❤ minha FAMÍLIA ❤"
    assert (by_row[2].kind, by_row[2].direction, by_row[2].details["system_action"]) == ("system", "unknown", "11")
    assert by_row[72].recipients == (Participant("556183125151@s.whatsapp.net", "Nickerida"),)


def test_lab_legacy_media_call_and_names() -> None:
    db, wa = corpus_file("code-kuuhaku__lab-whatsapp/msgstore.db"), corpus_file("code-kuuhaku__lab-whatsapp/wa.db")
    parsed = parse_files(db, wa, logical={db: MSGSTORE, wa: WADB})
    assert _info_rows(parsed) == _placeholders("messages")
    assert len(parsed.messages) == 46  # CHATS.tsv 47 rows, row 1 the placeholder (left out, one info row)
    assert parsed.time_range() == ("2018-05-17T15:52:55Z", "2018-05-18T03:04:39Z")
    by_row = {m.source_row_id: m for m in parsed.messages}
    assert by_row[33] == Message(
        source_table="messages", source_row_id=33, conversation_id="5511991689446@s.whatsapp.net",
        recipients=(Participant("5511991689446@s.whatsapp.net", "Marcelo"),), direction="outgoing",
        sent=1526611063829000000, sent_raw="1526611063829", kind="media",
        attachments=(Attachment(file_name="PTT-20180517-WA0003.opus", mime_type="audio/ogg; codecs=opus", size=3702,
                                local_path="Media/WhatsApp Voice Notes/201820/PTT-20180517-WA0003.opus"),),
        details={"key_id": "B571B6EF3F3ABE3D6994F8FC75A6C0AE", "status": "8", "media_wa_type": "2"},
    )
    # The path comes from the Java-serialised MediaData in thumb_image (no message_media table here).
    assert by_row[31].attachments[0].local_path == "Media/WhatsApp Images/IMG-20180517-WA0002.jpg"
    assert sum(bool(m.attachments and m.attachments[0].local_path) for m in parsed.messages) == 6
    call = by_row[29]
    assert (call.kind, call.body, call.details["call_media"], call.details["call_duration_s"]) == ("call", None, "audio", "5")
    assert call.sender == Participant("5511991880126@s.whatsapp.net", "Leonardo Nery")


def test_companion_found_by_name_glob_when_renamed() -> None:
    db, wa = corpus_file("code-kuuhaku__lab-whatsapp/msgstore.db"), corpus_file("code-kuuhaku__lab-whatsapp/wa.db")
    parsed = parse_files(db, wa, logical={db: b"/export/case1/msgstore.db", wa: b"/export/case1/copy_wa.db"})
    assert {m.sender.name for m in parsed.messages if m.direction == "incoming"} == {"Marcelo", "Leonardo Nery"}


def test_er_simon_transition_media_paths_from_message_media() -> None:
    path = corpus_file("Er-Simon__Sqlite3-restore-deleted-records/msgstore.db")
    parsed = parse_files(path, logical={path: MSGSTORE})
    assert _info_rows(parsed) == _placeholders("messages", "message")
    assert len(parsed.messages) == 19  # CHATS.tsv 20 rows, row 1 the placeholder; `message` holds only its own placeholder
    # Status posts (status@broadcast) have timestamp 0: no time, so the range is of the chats.
    assert parsed.time_range() == ("2021-12-27T08:10:54Z", "2021-12-27T09:06:23Z")
    by_row = {m.source_row_id: m for m in parsed.messages}
    assert by_row[16] == Message(
        source_table="messages", source_row_id=16, conversation_id="393482606211@s.whatsapp.net",
        sender=Participant("393482606211@s.whatsapp.net"), direction="incoming", sent=1640592767000000000,
        sent_raw="1640592767000", received=1640592767375000000, body="Immagine con descrizione", kind="media",
        attachments=(Attachment(file_name="IMG-20211227-WA0001.jpg", mime_type="image/jpeg", size=70426,
                                local_path="Media/WhatsApp Images/IMG-20211227-WA0001.jpg"),),
        details={"key_id": "4D2DFC16C4EC76BC907413E88194E62E", "status": "13", "media_wa_type": "1", "body_from": "media_caption"},
    )
    assert by_row[17].kind == "contact" and by_row[17].body.startswith("BEGIN:VCARD")


def test_dllsystem_current_schema_subset() -> None:
    path = corpus_file("dllsystem__whatsapp-msgstore-web-viewer/msgstore.db")
    parsed = parse_files(path, logical={path: MSGSTORE})
    assert_no_warnings(parsed)  # a synthetic sample without the placeholder row: nothing left out
    assert len(parsed.messages) == 9
    assert parsed.time_range() == ("2024-05-13T08:46:40Z", "2024-05-14T17:41:40Z")
    assert parsed.messages[8] == Message(
        source_table="message", source_row_id=9, conversation_id="123456789@g.us", conversation_title="Family Group 🏠",
        direction="incoming", sent=1715708500000000000, sent_raw="1715708500000",
        body="Thanks! Make sure it is chocolate.", kind="text", details={"chat_row_id": "3"},
    )


LEGACY_DDL = """
CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT NOT NULL, key_from_me INTEGER,
  key_id TEXT NOT NULL, status INTEGER, data TEXT, timestamp INTEGER, media_mime_type TEXT, media_wa_type TEXT,
  media_size INTEGER, media_name TEXT, media_caption TEXT, latitude REAL, longitude REAL, remote_resource TEXT,
  received_timestamp INTEGER);
"""
CURRENT_DDL = """
CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, server TEXT NOT NULL, raw_string TEXT);
CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE, subject TEXT);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL, from_me INTEGER NOT NULL,
  key_id TEXT NOT NULL, sender_jid_row_id INTEGER, status INTEGER, timestamp INTEGER, received_timestamp INTEGER,
  message_type INTEGER, text_data TEXT, starred INTEGER);
CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER, file_path TEXT, file_size INTEGER,
  mime_type TEXT, media_name TEXT);
CREATE TABLE message_location (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER, latitude REAL, longitude REAL,
  place_name TEXT);
"""
CURRENT_ROWS = {
    "jid": [(1, "4915100000001", "s.whatsapp.net", "4915100000001@s.whatsapp.net"),
            (2, "120363000000000001", "g.us", "120363000000000001@g.us")],
    "chat": [(1, 1, None), (2, 2, "Climbing")],
    "message": [(2, 2, 0, "K2", 1, 0, 1700000000000, 1700000001000, 5, None, None),
                (3, 2, 0, "K3", 1, 0, 1700000100000, 1700000101000, 42, "look once", 1),
                (4, 1, 1, "K4", None, 13, 1700000200000, 1700000200100, 0, "sent text", None)],
    "message_media": [(3, 2, "Media/WhatsApp Images/IMG-20231114-WA0003.jpg", 1234, "image/jpeg", None)],
    "message_location": [(2, 2, 47.5, 8.25, "Crag")],
}


# The current schema's placeholder as the app writes it (chat_row_id -1, key_id "-1", from_me 0, no times).
CURRENT_PLACEHOLDER = (1, -1, 0, "-1", None, None, None, None, None, None, None)
# The legacy one (every corpus sample): key_remote_jid/key_id "-1", status -1, media_wa_type "-1", media_size -1,
# timestamp 0, received_timestamp -1.
LEGACY_PLACEHOLDER = (1, "-1", 0, "-1", -1, None, 0, None, "-1", -1, None, None, 0.0, 0.0, None, -1)


def test_current_schema_location_view_once_and_group_sender(tmp_path: Path) -> None:
    rows = dict(CURRENT_ROWS, message=[CURRENT_PLACEHOLDER, *CURRENT_ROWS["message"]])
    db = build_database(tmp_path / "msgstore.db", CURRENT_DDL, rows)
    wa = build_database(tmp_path / "wa.db", "CREATE TABLE wa_contacts (_id INTEGER PRIMARY KEY, jid TEXT, display_name TEXT, wa_name TEXT);",
                        {"wa_contacts": [(1, "4915100000001@s.whatsapp.net", None, "Ana")]})
    parsed = parse_files(db, wa, logical={db: MSGSTORE, wa: WADB})
    assert _info_rows(parsed) == _placeholders("message")
    assert parsed.warnings[0].message == ("message row 1 (chat_row_id -1) is the placeholder row WhatsApp creates "
                                          "with every database, not a message; left out")
    assert [m.source_row_id for m in parsed.messages] == [2, 3, 4]
    location, view_once, sent = parsed.messages
    assert location == Message(
        source_table="message", source_row_id=2, conversation_id="120363000000000001@g.us", conversation_title="Climbing",
        sender=Participant("4915100000001@s.whatsapp.net", "Ana"), direction="incoming", sent=1700000000 * 10**9,
        sent_raw="1700000000000", received=1700000001 * 10**9, kind="location", latitude=47.5, longitude=8.25,
        location_name="Crag", details={"chat_row_id": "2", "key_id": "K2", "message_type": "5"},
    )
    assert (view_once.kind, view_once.is_view_once, view_once.body, view_once.attachments) == (
        "media", True, "look once", (Attachment(file_name="IMG-20231114-WA0003.jpg", mime_type="image/jpeg", size=1234,
                                                local_path="Media/WhatsApp Images/IMG-20231114-WA0003.jpg"),))
    assert (sent.direction, sent.sender, sent.recipients) == ("outgoing", None, (Participant("4915100000001@s.whatsapp.net", "Ana"),))


def test_transition_legacy_row_wins_and_message_only_rows_are_added(tmp_path: Path) -> None:
    """Rows with the same _id in both tables come from `messages`; `message`-only rows are read too."""
    rows = dict(CURRENT_ROWS)
    rows["message"] = [CURRENT_PLACEHOLDER,
                       (2, 1, 0, "K2", None, 0, 1700000000000, 1700000001000, 0, "hello (edited copy)", None),
                       (3, 1, 0, "K3", None, 0, 1700000100000, 1700000101000, 0, "only in message", None)]
    rows["message_location"] = []
    rows["message_media"] = []
    rows["messages"] = [LEGACY_PLACEHOLDER,
                        (2, "4915100000001@s.whatsapp.net", 0, "K2", 0, "hello", 1700000000000, None, "0", 0, None, None,
                         0.0, 0.0, None, 1700000001000)]
    db = build_database(tmp_path / "msgstore.db", LEGACY_DDL + CURRENT_DDL, rows)
    parsed = parse_files(db, logical={db: MSGSTORE})
    assert [(m.source_table, m.source_row_id, m.body) for m in parsed.messages] == [
        ("messages", 2, "hello"), ("message", 3, "only in message")]
    assert [(w.kind, w.table, w.row_id) for w in parsed.warnings] == [
        ("placeholder_row", "messages", 1), ("placeholder_row", "message", 1), ("twin_differs", "message", 2)]


def test_bad_time_is_a_warning_and_the_row_stays(tmp_path: Path) -> None:
    db = build_database(tmp_path / "msgstore.db", LEGACY_DDL, {"messages": [
        (2, "4915100000001@s.whatsapp.net", 1, "K2", 13, "far future", 99999999999999999, None, "0", 0, None, None, 0.0, 0.0, None, 0),
        (3, "4915100000001@s.whatsapp.net", 0, "K3", 0, None, 1700000000000, None, "5", 0, "Home", None, 47.1, 8.2, None, 0)]})
    parsed = parse_files(db, logical={db: MSGSTORE})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 2, "timestamp")]
    first, location = parsed.messages
    assert (first.sent, first.sent_raw, first.body) == (None, "99999999999999999", "far future")
    assert (location.kind, location.latitude, location.longitude, location.location_name) == ("location", 47.1, 8.2, "Home")


def test_thumb_image_java_file_path_and_a_broken_one(tmp_path: Path) -> None:
    ddl = LEGACY_DDL.replace("received_timestamp INTEGER);", "received_timestamp INTEGER, thumb_image TEXT);")
    path = "Media/WhatsApp Documents/plan ü.pdf".encode()
    good = (b"\xac\xed\x00\x05sr\x00\x0cjava.io.File\x04-\xa4E\x0e\r\xe4\xff\x03\x00\x01L\x00\x04pathq\x00~\x00\x02xpt"
            + len(path).to_bytes(2, "big") + path + b"w\x02\x00/x")
    broken = good[:60]
    jid = "4915100000001@s.whatsapp.net"
    db = build_database(tmp_path / "msgstore.db", ddl, {"messages": [
        (2, jid, 0, "K2", 0, None, 1700000000000, "application/pdf", "9", 10, "plan ü.pdf", None, 0.0, 0.0, None, 0, good),
        (3, jid, 0, "K3", 0, None, 1700000000000, "application/pdf", "9", 10, "plan ü.pdf", None, 0.0, 0.0, None, 0, broken),
        (4, jid, 0, "K4", 0, None, 1700000000000, "image/jpeg", "1", 10, None, None, 0.0, 0.0, None, 0, b"\xff\xd8\xff\xe0 jpeg")]})
    parsed = parse_files(db, logical={db: MSGSTORE})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_blob", 3, "thumb_image")]
    assert [m.attachments[0].local_path for m in parsed.messages] == ["Media/WhatsApp Documents/plan ü.pdf", None, None]
    assert [m.kind for m in parsed.messages] == ["media"] * 3


def test_unknown_schema_at_whatsapp_path(tmp_path: Path) -> None:
    db = build_database(tmp_path / "msgstore.db", "CREATE TABLE messages_v99 (id INTEGER PRIMARY KEY, body TEXT);")
    parsed = parse_files(db, logical={db: MSGSTORE})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_legacy_schema_placeholder_is_left_out_with_one_info_row(tmp_path: Path) -> None:
    jid = "4915100000001@s.whatsapp.net"
    db = build_database(tmp_path / "msgstore.db", LEGACY_DDL, {"messages": [
        LEGACY_PLACEHOLDER, (2, jid, 1, "K2", 13, "hi", 1700000000000, None, "0", 0, None, None, 0.0, 0.0, None, 0)]})
    parsed = parse_files(db, logical={db: MSGSTORE})
    assert _info_rows(parsed) == _placeholders("messages")
    assert parsed.messages == [Message(
        source_table="messages", source_row_id=2, conversation_id=jid, recipients=(Participant(jid),), direction="outgoing",
        sent=1700000000 * 10**9, sent_raw="1700000000000", body="hi", kind="text",
        details={"key_id": "K2", "status": "13", "media_wa_type": "0"})]
