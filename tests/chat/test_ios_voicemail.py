"""iOS voicemail.db: the corpus table is empty; fixtures with rows for the current and the old schema.

Facts (own words; sources: the corpus DDL (josh_ios15_ffs) and iLEAPP scripts/artifacts/voicemail.py):
`voicemail.ROWID` names the audio file `<ROWID>.amr` beside the database; `date` is Unix seconds,
`duration` seconds, `sender` the caller's number, `trashed_date` Cocoa seconds (0 = not deleted),
`flags` a bit field; newer releases add `receiver` and `label` (-> `map.label`, `map.account` = the
SIM's ICCID). The `deleted` table has the same columns.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant, decode_text
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files
from tests.chat.hostile import assert_truncated_store_is_unreadable

CORPUS = ("abrignoni__iLEAPP/admin/test/cases/data/voicemail/testdata.voicemail.voicemail.josh_ios15_ffs.zip.extracted/"
          "filesystem2/mobile/Library/Voicemail/voicemail.db")
LOGICAL = b"/private/var/mobile/Library/Voicemail/voicemail.db"
FOLDER = "/private/var/mobile/Library/Voicemail/"  # where the <ROWID>.amr files sit

CURRENT = """
CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
CREATE TABLE voicemail (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, remote_uid INTEGER, date INTEGER, token TEXT, sender TEXT,
  callback_num TEXT, duration INTEGER, expiration INTEGER, trashed_date INTEGER, flags INTEGER, receiver TEXT, label TEXT);
CREATE TABLE deleted (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, remote_uid INTEGER, date INTEGER, token TEXT, sender TEXT,
  callback_num TEXT, duration INTEGER, expiration INTEGER, trashed_date INTEGER, flags INTEGER, receiver TEXT, label TEXT);
CREATE TABLE map (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT, label TEXT);
"""
OLD = """
CREATE TABLE voicemail (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, remote_uid INTEGER, date INTEGER, token TEXT, sender TEXT,
  callback_num TEXT, duration INTEGER, expiration INTEGER, trashed_date INTEGER, flags INTEGER);
"""


def test_corpus_table_is_empty() -> None:
    path = corpus_file(CORPUS)
    parsed = parse_files(path, logical={path: LOGICAL})
    # CHATS.tsv: voicemail 0 rows. The path matches this parser, so the absence of a
    # schema_unrecognised warning shows the "current" variant was recognised and read.
    assert parsed.warnings == []
    assert parsed.messages == []


def test_current_schema_fixture(tmp_path: Path) -> None:
    db = build_database(tmp_path / "voicemail.db", CURRENT, {
        "map": [(1, "8901260971148676693", "E8B6")],
        "voicemail": [(1, 501, 1650000000, "t1", "+15550100", "+15550100", 23, 1652592000, 0, 3, "+15559999", "E8B6"),
                      (2, 502, 1650000500, "t2", "+15550101", None, 5, 0, 680000000, 11, "+15559999", "E8B6")],
        "deleted": [(7, 499, 1640000000, "t0", "+15550102", None, 9, 0, 0, 75, None, None)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert [(m.source_table, m.source_row_id) for m in parsed.messages] == [("voicemail", 1), ("voicemail", 2), ("deleted", 7)]
    first, trashed, deleted = parsed.messages
    assert first == Message(
        source_table="voicemail", source_row_id=1, conversation_id="+15550100", sender=Participant("+15550100"),
        recipients=(Participant("+15559999"),), direction="incoming", sent=1650000000 * 10**9, sent_raw="1650000000",
        kind="call", attachments=(Attachment(file_name="1.amr", mime_type="audio/amr", local_path=FOLDER + "1.amr"),),
        is_deleted=False,
        details={"voicemail": "true", "duration_seconds": "23", "flags": "3", "remote_uid": "501", "callback_num": "+15550100",
                 "receiver_account": "8901260971148676693"},
    )
    assert (trashed.is_deleted, trashed.deleted, trashed.details["trashed_date"]) == (True, (680000000 + 978307200) * 10**9, "680000000")
    assert (deleted.is_deleted, deleted.attachments[0].local_path, deleted.details["flags"]) == (
        True, FOLDER + "7.amr", "75")


def test_old_schema_fixture(tmp_path: Path) -> None:
    db = build_database(tmp_path / "voicemail.db", OLD, {
        "voicemail": [(4, 77, 1400000000, None, "+15550200", "+15550200", 12, 0, 0, 1)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.messages == [Message(
        source_table="voicemail", source_row_id=4, conversation_id="+15550200", sender=Participant("+15550200"),
        direction="incoming", sent=1400000000 * 10**9, sent_raw="1400000000", kind="call",
        attachments=(Attachment(file_name="4.amr", mime_type="audio/amr", local_path=FOLDER + "4.amr"),),
        is_deleted=False, details={"voicemail": "true", "duration_seconds": "12", "flags": "1", "remote_uid": "77",
                                   "callback_num": "+15550200"},
    )]


def test_bad_date_is_a_warning_and_the_row_is_kept(tmp_path: Path) -> None:
    db = build_database(tmp_path / "voicemail.db", OLD, {"voicemail": [(1, 1, 99999999999999, None, "+1", None, 1, 0, 0, 0)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.field) for w in parsed.warnings] == [("bad_time", "date")]
    assert len(parsed.messages) == 1 and parsed.messages[0].sent is None


def test_unknown_schema_at_voicemail_path_warns_once(tmp_path: Path) -> None:
    db = build_database(tmp_path / "voicemail.db", "CREATE TABLE voicemail (ROWID INTEGER PRIMARY KEY, date INTEGER);")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_deleted_table_of_another_shape_is_a_warning_not_a_silent_skip(tmp_path: Path) -> None:
    schema = CURRENT.replace("CREATE TABLE deleted (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, remote_uid INTEGER, date INTEGER,",
                             "CREATE TABLE deleted (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, remote_uid INTEGER, when_deleted INTEGER,")
    db = build_database(tmp_path / "voicemail.db", schema, {
        "voicemail": [(1, 501, 1650000000, "t1", "+15550100", None, 23, 0, 0, 3, None, None)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.table) for w in parsed.warnings] == [("table_not_read", "deleted")]
    assert [(m.source_table, m.source_row_id) for m in parsed.messages] == [("voicemail", 1)]


# iOS 9.3.5 (iphonebackuptools' schema notes, schemas/voicemails/voicemails_9.3.5.sql): no deleted, no map.
IOS9 = """
CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
CREATE TABLE voicemail (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, remote_uid INTEGER, date INTEGER, token TEXT, sender TEXT,
  callback_num TEXT, duration INTEGER, expiration INTEGER, trashed_date INTEGER, flags INTEGER);
CREATE INDEX date_index on voicemail(date);
CREATE INDEX remote_uid_index on voicemail(remote_uid);
"""
MINIMAL = "CREATE TABLE voicemail (ROWID INTEGER PRIMARY KEY, remote_uid INTEGER, date INTEGER, sender TEXT);"


def test_ios9_schema_fixture(tmp_path: Path) -> None:
    db = build_database(tmp_path / "voicemail.db", IOS9, {"voicemail": [
        (1, 11, 1470000000, "tok", "+15550300", "+15550300", 31, 1472592000, 0, 2),
        (2, 12, 1470000100, None, "+15550301", None, 4, 0, 490000000, 75)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 2
    assert parsed.messages[1] == Message(
        source_table="voicemail", source_row_id=2, conversation_id="+15550301", sender=Participant("+15550301"),
        direction="incoming", sent=1470000100 * 10**9, sent_raw="1470000100", deleted=(490000000 + 978307200) * 10**9, kind="call",
        attachments=(Attachment(file_name="2.amr", mime_type="audio/amr", local_path=FOLDER + "2.amr"),), is_deleted=True,
        details={"voicemail": "true", "duration_seconds": "4", "flags": "75", "remote_uid": "12", "trashed_date": "490000000"},
    )


def test_minimal_schema_reads_every_voicemail(tmp_path: Path) -> None:
    db = build_database(tmp_path / "voicemail.db", MINIMAL, {"voicemail": [(1, 5, 1400000000, "+15550400"), (2, None, None, None)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 2
    assert parsed.messages[0] == Message(
        source_table="voicemail", source_row_id=1, conversation_id="+15550400", sender=Participant("+15550400"),
        direction="incoming", sent=1400000000 * 10**9, sent_raw="1400000000", kind="call",
        attachments=(Attachment(file_name="1.amr", mime_type="audio/amr", local_path=FOLDER + "1.amr"),), is_deleted=False,
        details={"voicemail": "true", "remote_uid": "5"},
    )
    assert (parsed.messages[1].sender, parsed.messages[1].sent) == (None, None)


def test_type_confused_values_and_a_map_of_another_shape(tmp_path: Path) -> None:
    db = build_database(tmp_path / "voicemail.db", MINIMAL.replace("sender TEXT", "sender TEXT, label TEXT, receiver TEXT") + """
        CREATE TABLE map (ROWID INTEGER PRIMARY KEY, account BLOB, label TEXT);
        CREATE TABLE deleted (ROWID INTEGER PRIMARY KEY, remote_uid INTEGER, date INTEGER, sender BLOB);""", {
        "voicemail": [(1, "x", "soon", b"\xff\xfe", b"\x01", 7), (2, 1, 1400000000, "+1", "L", None)],
        "map": [(1, b"\x00\x01", "L"), (2, "second", "L")], "deleted": [(3, 2, 1400000001, b"+2")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.table, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", "voicemail", 1, "date")]
    first, second, deleted = parsed.messages
    assert (first.sender, first.recipients, first.sent) == (Participant(decode_text(b"\xff\xfe")), (Participant("7"),), None)
    assert second.details["receiver_account"] == decode_text(b"\x00\x01")  # the lowest map ROWID of the label, bytes kept
    assert (deleted.source_table, deleted.sender, deleted.is_deleted) == ("deleted", Participant("+2"), True)


def test_truncated_store_is_database_unreadable(tmp_path: Path) -> None:
    db = build_database(tmp_path / "voicemail.db", MINIMAL, {"voicemail": [(i, i, 1400000000 + i, "+1" * 150) for i in range(400)]})
    assert_truncated_store_is_unreadable(db, LOGICAL)
