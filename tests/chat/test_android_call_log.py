"""Android call log: contacts2.db from the corpus (Android <= 6), calllog.db fixture (Android 7+).

Facts (own words; source: Android SDK reference for android.provider.CallLog.Calls and the corpus
DDL): `calls._id` is the row id, `date` is the call start in Unix ms, `duration` seconds, `type`
1 incoming / 2 outgoing / 3 missed / 4 voicemail / 5 rejected / 6 blocked / 7 answered elsewhere,
`name` and `numbertype` are the contact details cached at call time. Android 7 moved the same table
to com.android.providers.contacts/databases/calllog.db, adding columns such as `features`,
`subscription_id`, `_data`/`mime_type` (voicemail audio).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files

PLASO = "log2timeline__plaso/test_data/android/contacts2.db"
OLD_LOGICAL = b"/data/data/com.android.providers.contacts/databases/contacts2.db"
NEW_LOGICAL = b"/data/user_de/0/com.android.providers.contacts/databases/calllog.db"


def test_contacts2_corpus_counts_range_and_golden_record() -> None:
    path = corpus_file(PLASO)
    parsed = parse_files(path, logical={path: OLD_LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3  # CHATS.tsv: calls 3 (contacts rows: 0)
    assert parsed.parser_names() == {"android_call_log"}
    assert parsed.time_range() == ("2013-11-06T21:17:16Z", "2013-11-07T00:03:36Z")
    assert [m.details["call_type"] for m in parsed.messages] == ["3 (missed)", "2 (outgoing)", "1 (incoming)"]
    assert parsed.messages[1] == Message(
        source_table="calls", source_row_id=715, conversation_id="5404561685", recipients=(Participant("5404561685", "Barney"),),
        direction="outgoing", sent=1383772733283000000, sent_raw="1383772733283", kind="call",
        details={"call_type": "2 (outgoing)", "duration_seconds": "126", "new": "0", "numbertype": "2", "countryiso": "US",
                 "geocoded_location": "Bedrock", "normalized_number": "+15404561685", "formatted_number": "(540) 456-1685",
                 "matched_number": "1-540-456-1685"},
    )
    assert {p.record_state for p in parsed.parsed} == {"live"}


NEW_SCHEMA = """
CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT, presentation INTEGER NOT NULL DEFAULT 1,
  post_dial_digits TEXT NOT NULL DEFAULT '', via_number TEXT NOT NULL DEFAULT '', date INTEGER, duration INTEGER,
  data_usage INTEGER, type INTEGER, features INTEGER NOT NULL DEFAULT 0, subscription_component_name TEXT,
  subscription_id TEXT, phone_account_address TEXT, phone_account_hidden INTEGER NOT NULL DEFAULT 0,
  sub_id INTEGER DEFAULT -1, new INTEGER, name TEXT, numbertype INTEGER, numberlabel TEXT, countryiso TEXT,
  voicemail_uri TEXT, is_read INTEGER, geocoded_location TEXT, lookup_uri TEXT, matched_number TEXT,
  normalized_number TEXT, photo_id INTEGER NOT NULL DEFAULT 0, photo_uri TEXT, formatted_number TEXT,
  add_for_all_users INTEGER NOT NULL DEFAULT 1, last_modified INTEGER DEFAULT 0, _data TEXT, has_content INTEGER,
  mime_type TEXT, source_data TEXT, source_package TEXT, transcription TEXT, transcription_state INTEGER NOT NULL DEFAULT 0,
  state INTEGER, dirty INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0, backed_up INTEGER NOT NULL DEFAULT 0,
  restored INTEGER NOT NULL DEFAULT 0, archived INTEGER NOT NULL DEFAULT 0, is_omtp_voicemail INTEGER NOT NULL DEFAULT 0);
CREATE TABLE voicemail_status (_id INTEGER PRIMARY KEY AUTOINCREMENT, source_package TEXT NOT NULL);
"""
COLUMNS = ("_id", "number", "date", "duration", "type", "features", "subscription_id", "new", "name", "numbertype",
           "is_read", "normalized_number", "last_modified", "_data", "mime_type", "transcription")


def test_calllog_db_fixture_video_rejected_and_voicemail_audio(tmp_path: Path) -> None:
    rows = [
        (1, "+15550001", 1700000000000, 61, 1, 1, "1", 0, "Ann", 2, 1, "+15550001", 1700000061000, None, None, None),
        (2, "+15550002", 1700000100000, 0, 5, 0, "1", 0, None, None, 1, None, 1700000100000, None, None, None),
        (3, "+15550003", 1700000200000, 14, 4, 0, "1", 1, None, None, 0, None, 1700000214000,
         "/data/user_de/0/com.android.providers.contacts/files/voicemail-1.amr", "audio/amr", "call me back"),
        (4, "+15550004", 1700000300000, 30, 2, 0, "2", 0, "Dan", 1, None, None, 0, None, None, None),
    ]
    db = tmp_path / "calllog.db"
    build_database(db, NEW_SCHEMA)
    connection = sqlite3.connect(db)
    with connection:
        connection.executemany(f"INSERT INTO calls ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})", rows)
    connection.close()
    parsed = parse_files(db, logical={db: NEW_LOGICAL})
    assert_no_warnings(parsed)
    assert [m.source_row_id for m in parsed.messages] == [1, 2, 3, 4]
    video, rejected, voicemail, outgoing = parsed.messages
    assert video == Message(
        source_table="calls", source_row_id=1, conversation_id="+15550001", sender=Participant("+15550001", "Ann"),
        direction="incoming", sent=1700000000000000000, sent_raw="1700000000000", kind="call",
        details={"call_type": "1 (incoming)", "duration_seconds": "61", "new": "0", "numbertype": "2",
                 "normalized_number": "+15550001", "is_read": "1", "features": "1", "presentation": "1",
                 "subscription_id": "1", "last_modified": "1700000061000"},
    )
    assert (rejected.direction, rejected.details["call_type"]) == ("incoming", "5 (rejected)")
    assert rejected.sender == Participant("+15550002")
    assert voicemail.attachments == (Attachment(file_name="voicemail-1.amr", mime_type="audio/amr",
                                                local_path="/data/user_de/0/com.android.providers.contacts/files/voicemail-1.amr"),)
    assert (voicemail.details["call_type"], voicemail.details["transcription"]) == ("4 (voicemail)", "call me back")
    assert (outgoing.direction, outgoing.sender, outgoing.recipients) == ("outgoing", None, (Participant("+15550004", "Dan"),))


def test_unknown_schema_at_calllog_path_warns_once(tmp_path: Path) -> None:
    db = build_database(tmp_path / "calllog.db", "CREATE TABLE calls (_id INTEGER PRIMARY KEY, number TEXT, date INTEGER);")
    parsed = parse_files(db, logical={db: NEW_LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_other_apps_calls_table_is_not_the_call_log(tmp_path: Path) -> None:
    # Viber's `calls` has number/date/duration/type but not the API 1 `new`/`name`/`numbertype` columns.
    db = build_database(tmp_path / "viber_data", "CREATE TABLE calls (_id INTEGER PRIMARY KEY, number TEXT, canonized_number TEXT,"
                        " date INTEGER, duration INTEGER, type INTEGER, token INTEGER);",
                        {"calls": [(1, "+1555", "+1555", 1700000000000, 5, 1, 0)]})
    parsed = parse_files(db)
    assert parsed.messages == []
    assert parsed.warnings == []


def test_minimal_calls_table_only_required_columns(tmp_path: Path) -> None:
    # Only the columns a call cannot be read without (and the API 1 `new` marker): every other column is NULL.
    db = build_database(tmp_path / "calllog.db", "CREATE TABLE calls (_id INTEGER PRIMARY KEY, number TEXT, date INTEGER,"
                        " type INTEGER, new INTEGER);",
                        {"calls": [(1, "+15550001", 1700000000000, 1, 1), (2, "+15550002", 1700000100000, 2, 0),
                                   (3, None, 1700000200000, 3, 1)]})
    parsed = parse_files(db, logical={db: NEW_LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"android_call_log"}
    assert len(parsed.messages) == 3
    assert parsed.messages[1] == Message(
        source_table="calls", source_row_id=2, conversation_id="+15550002", recipients=(Participant("+15550002"),),
        direction="outgoing", sent=1700000100000000000, sent_raw="1700000100000", kind="call",
        details={"call_type": "2 (outgoing)", "new": "0"},
    )
    assert (parsed.messages[2].sender, parsed.messages[2].conversation_id) == (None, None)


SAMSUNG_SCHEMA = """CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT, date INTEGER, duration INTEGER,
  type INTEGER, new INTEGER, name TEXT, numbertype INTEGER, numberlabel TEXT, last_modified INTEGER DEFAULT 0,
  m_content TEXT, logtype INTEGER);"""


def test_samsung_m_content_rows_are_text_messages(tmp_path: Path) -> None:
    db = build_database(tmp_path / "calllog.db", SAMSUNG_SCHEMA, {"calls": [
        (1, "+15550001", 1500000000000, 0, 1, 0, "Ann", 2, None, 1500000000000, "Running late, be there in 10", 300),
        (2, "+15550001", 1500000100000, 42, 2, 0, "Ann", 2, None, 1500000142000, "", 100),
        (3, "+15550002", 1500000200000, 0, 2, 0, None, None, None, 0, "ok", 300),
    ]})
    parsed = parse_files(db, logical={db: NEW_LOGICAL})
    assert_no_warnings(parsed)
    assert [m.kind for m in parsed.messages] == ["text", "call", "text"]
    assert parsed.messages[0] == Message(
        source_table="calls", source_row_id=1, conversation_id="+15550001", sender=Participant("+15550001", "Ann"),
        direction="incoming", sent=1500000000000000000, sent_raw="1500000000000", body="Running late, be there in 10",
        kind="text", details={"call_type": "1 (incoming)", "duration_seconds": "0", "new": "0", "numbertype": "2",
                              "last_modified": "1500000000000",
                              "m_content": "Samsung calls.m_content: a text message, its first 50 characters at most"},
    )
    assert (parsed.messages[2].direction, parsed.messages[2].body) == ("outgoing", "ok")


def test_hostile_m_content_and_types_end_as_rows_not_tracebacks(tmp_path: Path) -> None:
    db = build_database(tmp_path / "calllog.db", SAMSUNG_SCHEMA, {"calls": [
        (1, "+1", 1500000000000, 0, 1, 0, None, None, None, 0, b"\xff\xfe not utf-8", 300),
        (2, 12345, "yesterday", "long", "x", None, None, None, None, None, 7, None),
        (3, "+3", 2 ** 62, 0, 2, 0, None, None, None, None, None, None),
    ]})
    parsed = parse_files(db, logical={db: NEW_LOGICAL})
    assert len(parsed.messages) == 3
    first, second, third = parsed.messages
    assert first.body == "\\xff\\xfe not utf-8" and first.body.raw == b"\xff\xfe not utf-8"
    assert (second.direction, second.details["call_type"], second.body) == ("unknown", "x (unknown)", "7")
    assert third.sent is None
    assert sorted((w.kind, w.row_id) for w in parsed.warnings) == [("bad_time", 2), ("bad_time", 3)]


def test_truncated_calllog_is_one_unreadable_row(tmp_path: Path) -> None:
    from tests.chat.hostile import assert_truncated_store_is_unreadable

    rows = [(i, f"+1555{i:04d}", 1500000000000 + i, 10, 1, 0, None, None, None, 0, "x" * 200, 300) for i in range(1, 400)]
    db = build_database(tmp_path / "calllog.db", SAMSUNG_SCHEMA, {"calls": rows})
    assert_truncated_store_is_unreadable(db, NEW_LOGICAL)
