"""A database no parser reads but whose tables look like a message store is one `chat_store_unrecognised`
warning wherever it sits; the common non-chat databases of phones, and databases a parser read, stay silent;
a renamed copy of a known store at an odd path is read by its schema alone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from parsers.artefact import Catalog, HostArtefact
from parsers.chat.driver import parse_artefact
from parsers.sqlite_store import QueryLimits, schema_fingerprint
from tests.chat.helpers import build_database, parse_files
from tests.chat.test_android_call_log import NEW_SCHEMA as CALLLOG_SCHEMA
from tests.chat.test_android_sms import SCHEMA as SMS_SCHEMA

ROWS = 30
T0 = 1_700_000_000_000


def _rows(count: int, make) -> list[tuple]:
    return [make(i) for i in range(1, count + 1)]


# name -> (logical path on a phone, DDL, rows per table): ordinary databases that hold no messages.
NON_CHAT: dict[str, tuple[bytes, str, dict]] = {
    "chrome_history": (b"/data/data/com.android.chrome/app_chrome/Default/History", """
        CREATE TABLE meta (key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
        CREATE TABLE urls (id INTEGER PRIMARY KEY AUTOINCREMENT, url LONGVARCHAR, title LONGVARCHAR, visit_count INTEGER DEFAULT 0 NOT NULL,
          typed_count INTEGER DEFAULT 0 NOT NULL, last_visit_time INTEGER NOT NULL, hidden INTEGER DEFAULT 0 NOT NULL);
        CREATE TABLE visits (id INTEGER PRIMARY KEY, url INTEGER NOT NULL, visit_time INTEGER NOT NULL, from_visit INTEGER,
          transition INTEGER DEFAULT 0 NOT NULL, segment_id INTEGER, visit_duration INTEGER DEFAULT 0 NOT NULL);
        CREATE TABLE keyword_search_terms (keyword_id INTEGER NOT NULL, url_id INTEGER NOT NULL, term LONGVARCHAR NOT NULL,
          normalized_term LONGVARCHAR NOT NULL);""",
        {"meta": [("version", "56")],
         "urls": _rows(ROWS, lambda i: (i, f"https://example.com/{i}", f"Page {i}", 1, 0, 13_300_000_000_000_000 + i, 0)),
         "visits": _rows(ROWS, lambda i: (i, i, 13_300_000_000_000_000 + i, 0, 805306368, 0, 1000)),
         "keyword_search_terms": _rows(ROWS, lambda i: (2, i, f"query {i}", f"query {i}"))}),
    "firefox_places": (b"/data/data/org.mozilla.firefox/files/places.sqlite", """
        CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR, rev_host LONGVARCHAR,
          visit_count INTEGER DEFAULT 0, last_visit_date INTEGER);
        CREATE TABLE moz_annos (id INTEGER PRIMARY KEY, place_id INTEGER NOT NULL, anno_attribute_id INTEGER, content LONGVARCHAR,
          flags INTEGER DEFAULT 0, expiration INTEGER DEFAULT 0, type INTEGER DEFAULT 0, dateAdded INTEGER DEFAULT 0,
          lastModified INTEGER DEFAULT 0);
        CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, from_visit INTEGER, place_id INTEGER, visit_date INTEGER, visit_type INTEGER);""",
        {"moz_places": _rows(ROWS, lambda i: (i, f"https://example.org/{i}", f"Title {i}", "gro.elpmaxe.", 1, T0 * 1000 + i)),
         "moz_annos": _rows(ROWS, lambda i: (i, i, 1, f"file:///sdcard/Download/{i}.pdf", 0, 4, 3, T0 * 1000, T0 * 1000)),
         "moz_historyvisits": _rows(ROWS, lambda i: (i, 0, i, T0 * 1000 + i, 1))}),
    "photos_sqlite": (b"/private/var/mobile/Media/PhotoData/Photos.sqlite", """
        CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
        CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
        CREATE TABLE ZASSET (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, ZDATECREATED TIMESTAMP, ZMODIFICATIONDATE TIMESTAMP,
          ZFILENAME VARCHAR, ZDIRECTORY VARCHAR, ZUUID VARCHAR);
        CREATE TABLE ZCLOUDSHAREDCOMMENT (Z_PK INTEGER PRIMARY KEY, ZCOMMENTTEXT VARCHAR, ZCOMMENTDATE TIMESTAMP, ZCOMMENTERHASHEDPERSONID VARCHAR);
        CREATE TABLE ZADDITIONALASSETATTRIBUTES (Z_PK INTEGER PRIMARY KEY, ZASSET INTEGER, ZORIGINALFILENAME VARCHAR, ZTIMEZONENAME VARCHAR);""",
        {"Z_PRIMARYKEY": [(1, "Asset", 0, ROWS)],
         "ZASSET": _rows(ROWS, lambda i: (i, 1, 700_000_000.0 + i, 700_000_000.0 + i, f"IMG_{i:04}.HEIC", "DCIM/100APPLE", f"u{i}")),
         "ZCLOUDSHAREDCOMMENT": _rows(ROWS, lambda i: (i, f"nice {i}", 700_000_000.0 + i, f"p{i}")),
         "ZADDITIONALASSETATTRIBUTES": _rows(ROWS, lambda i: (i, i, f"IMG_{i:04}.HEIC", "Europe/Berlin"))}),
    "address_book": (b"/private/var/mobile/Library/AddressBook/AddressBook.sqlitedb", """
        CREATE TABLE ABPerson (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, First TEXT, Last TEXT, Note TEXT, CreationDate INTEGER,
          ModificationDate INTEGER);
        CREATE TABLE ABMultiValue (UID INTEGER PRIMARY KEY, record_id INTEGER, property INTEGER, identifier INTEGER, label INTEGER, value TEXT);""",
        {"ABPerson": _rows(ROWS, lambda i: (i, f"First{i}", f"Last{i}", f"note {i}", 600_000_000 + i, 600_000_000 + i)),
         "ABMultiValue": _rows(ROWS, lambda i: (i, i, 3, 0, 1, f"+1555000{i:04}"))}),
    "nsurlcache": (b"/private/var/mobile/Containers/Data/Application/0A1B/Library/Caches/com.example.weather/Cache.db", """
        CREATE TABLE cfurl_cache_schema_version (schema_version INTEGER);
        CREATE TABLE cfurl_cache_response (entry_ID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, version INTEGER, hash_value INTEGER,
          storage_policy INTEGER, request_key TEXT UNIQUE, time_stamp NOT NULL DEFAULT CURRENT_TIMESTAMP, partition TEXT);
        CREATE TABLE cfurl_cache_blob_data (entry_ID INTEGER PRIMARY KEY, response_object BLOB, request_object BLOB, proto_props BLOB,
          user_info BLOB);
        CREATE TABLE cfurl_cache_receiver_data (entry_ID INTEGER PRIMARY KEY, isDataOnFS INTEGER, receiver_data BLOB);""",
        {"cfurl_cache_schema_version": [(202,)],
         "cfurl_cache_response": _rows(ROWS, lambda i: (i, 0, i, 0, f"https://api.example.com/forecast?{i}", "2023-05-01 10:00:00", None)),
         "cfurl_cache_receiver_data": _rows(ROWS, lambda i: (i, 0, b"{}"))}),
    "app_log": (b"/data/data/com.example.app/databases/logs.db",
                "CREATE TABLE app_log (id INTEGER PRIMARY KEY, level INTEGER, message TEXT, timestamp INTEGER);",
                {"app_log": _rows(100, lambda i: (i, 3, f"request {i} done", T0 + i))}),
    "whatsapp_contacts": (b"/sdcard/backup/wa.db", """
        CREATE TABLE wa_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid TEXT NOT NULL, is_whatsapp_user BOOLEAN, status TEXT,
          status_timestamp INTEGER, number TEXT, display_name TEXT, unseen_msg_count INTEGER);""",
        {"wa_contacts": _rows(ROWS, lambda i: (i, f"{i}@s.whatsapp.net", 1, "Hey there!", T0 + i, f"+{i}", f"Name {i}", 0))}),
    "calendar": (b"/private/var/mobile/Library/Calendar/Calendar.sqlitedb", """
        CREATE TABLE CalendarItem (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, summary TEXT, description TEXT, start_date REAL, end_date REAL);""",
        {"CalendarItem": _rows(ROWS, lambda i: (i, f"Meeting {i}", "weekly", 700_000_000.0 + i, 700_003_600.0 + i))}),
    "few_rows": (b"/data/data/com.example.notes/databases/notes.db",
                 "CREATE TABLE entries (id INTEGER PRIMARY KEY, text TEXT, created_at INTEGER);",
                 {"entries": _rows(9, lambda i: (i, f"note {i}", T0 + i))}),  # one row short of MANY_ROWS
    "empty_message_table": (b"/data/data/com.example.mail/databases/outbox.db",
                            "CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT, ts INTEGER);", {}),
}


@pytest.mark.parametrize("name", sorted(NON_CHAT))
def test_ordinary_databases_stay_silent(tmp_path: Path, name: str) -> None:
    logical, schema, rows = NON_CHAT[name]
    db = build_database(tmp_path / logical.rsplit(b"/", 1)[1].decode(), schema, rows)
    parsed = parse_files(db, logical={db: logical})
    assert [w.kind for w in parsed.warnings] == []
    assert parsed.messages == []


def test_call_log_a_parser_read_stays_silent(tmp_path: Path) -> None:
    db = build_database(tmp_path / "calllog.db", CALLLOG_SCHEMA)
    connection = sqlite3.connect(db)
    connection.executemany("INSERT INTO calls (_id, number, date, duration, type, transcription) VALUES (?, ?, ?, ?, ?, ?)",
                           _rows(12, lambda i: (i, f"+1555{i:04}", T0 + i, 10, 1, "call me back")))
    connection.commit()
    connection.close()
    parsed = parse_files(db, logical={db: b"/sdcard/Download/old/calls-copy.sqlite"})
    assert (len(parsed.messages), parsed.parser_names(), parsed.warnings) == (12, {"android_call_log"}, [])


CHAT_LIKE: dict[str, tuple[str, dict, str]] = {
    "named_messages": ("CREATE TABLE messages (id INTEGER PRIMARY KEY, payload BLOB, ts INTEGER);",
                       {"messages": [(1, b"\x08\x01", T0)]}, "messages (named like a message table, 1 row)"),
    "named_conversation_camel": ("CREATE TABLE UserConversation (id INTEGER PRIMARY KEY, peer TEXT); CREATE TABLE prefs (k TEXT, v TEXT);",
                                 {"UserConversation": _rows(3, lambda i: (i, f"peer{i}"))},
                                 "UserConversation (named like a message table, 3 rows)"),
    "core_data_shape": ("""CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
                           CREATE TABLE ZITEM (Z_PK INTEGER PRIMARY KEY, ZBODY VARCHAR, ZSENTDATE TIMESTAMP, ZPEER INTEGER);""",
                        {"ZITEM": _rows(10, lambda i: (i, f"hello {i}", 700_000_000.0 + i, 1))},
                        "ZITEM (text column ZBODY, time column ZSENTDATE, at least 10 rows)"),
    "shape_at_many_rows": ("CREATE TABLE entries (id INTEGER PRIMARY KEY, text TEXT, created_at INTEGER);",
                           {"entries": _rows(10, lambda i: (i, f"hi {i}", T0 + i))},
                           "entries (text column text, time column created_at, at least 10 rows)"),
    "camel_case_columns": ("CREATE TABLE items (itemId INTEGER PRIMARY KEY, messageText TEXT, sentDate INTEGER);",
                           {"items": _rows(11, lambda i: (i, f"m{i}", T0 + i))},
                           "items (text column messageText, time column sentDate, at least 10 rows)"),
    "untyped_columns": ("CREATE TABLE posts (id, body_text, ts);", {"posts": _rows(12, lambda i: (i, f"b{i}", T0 + i))},
                        "posts (text column body_text, time column ts, at least 10 rows)"),
    "quoted_name": ('CREATE TABLE "we""ird chat" (id INTEGER PRIMARY KEY, x TEXT);', {'"we""ird chat"': [(1, "x")]},
                    'we"ird chat (named like a message table, 1 row)'),
}


@pytest.mark.parametrize("name", sorted(CHAT_LIKE))
def test_unknown_message_like_database_warns_once(tmp_path: Path, name: str) -> None:
    schema, rows, reason = CHAT_LIKE[name]
    db = build_database(tmp_path / "store.bin", schema, rows)
    logical = b"/data/data/com.example.newchat/files/store.bin"
    parsed = parse_files(db, logical={db: logical})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    tables = _tables(db)
    assert warning.kind == "chat_store_unrecognised" and warning.severity == "warning"
    assert warning.message == (f"{logical.decode()}: looks like a message store but no chat parser reads it (schema fingerprint "
                               f"{schema_fingerprint(tables)}; message-like tables: {reason}; tables: {', '.join(sorted(tables))})")


def _tables(db: Path) -> dict[str, frozenset[str]]:
    connection = sqlite3.connect(db)
    try:
        names = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n.lower(): frozenset(c[1].lower() for c in connection.execute("SELECT * FROM pragma_table_info(?)", (n,))) for n in names}
    finally:
        connection.close()


def test_at_a_known_app_path_only_schema_unrecognised(tmp_path: Path) -> None:
    """An app's own path gives the more specific `schema_unrecognised` (it names the parser); never both."""
    db = build_database(tmp_path / "mmssms.db", "CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT, ts INTEGER);",
                        {"messages": [(1, "x", T0)]})
    parsed = parse_files(db, logical={db: b"/data/data/com.android.providers.telephony/databases/mmssms.db"})
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_unreadable_candidate_table_still_warns(tmp_path: Path) -> None:
    db = build_database(tmp_path / "store.db", "CREATE TABLE chat_rows (id INTEGER PRIMARY KEY, blob BLOB);",
                        {"chat_rows": _rows(50, lambda i: (i, b"\x00" * 3000))})
    connection = sqlite3.connect(db)
    root = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'chat_rows'").fetchone()[0]
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    connection.close()
    data = bytearray(db.read_bytes())
    data[(root - 1) * page_size:root * page_size] = b"\xff" * page_size  # the table's root page, not the schema
    db.write_bytes(bytes(data))
    parsed = parse_files(db)
    (warning,) = parsed.warnings
    assert warning.kind == "chat_store_unrecognised"
    assert "chat_rows (named like a message table, rows unreadable (DatabaseError: database disk image is malformed))" in warning.message


def test_probe_limit_still_warns(tmp_path: Path) -> None:
    """70 empty tables named like message tables: 64 are counted (all empty), the other 6 are said to be uncounted."""
    db = build_database(tmp_path / "many.db", "".join(f"CREATE TABLE message_{i:02} (id INTEGER);" for i in range(70)))
    parsed = parse_files(db)
    (warning,) = parsed.warnings
    assert warning.kind == "chat_store_unrecognised"
    assert "message-like tables: none counted; 6 more tables shaped like message tables not counted (limit 64); tables: message_00," \
        in warning.message


def test_probe_past_the_query_budget_is_said(tmp_path: Path) -> None:
    db = build_database(tmp_path / "store.db", "CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT, ts INTEGER);",
                        {"messages": [(1, "x", T0)]})
    artefact = HostArtefact(db)
    # The schema read returns 4 rows (1 table name, 3 columns); the probe's first row passes the limit.
    result = parse_artefact(artefact, Catalog.of([artefact]), limits=QueryLimits(rows=4))
    (warning,) = [w for _, w in result.warnings]
    assert warning.kind == "query_budget_exceeded"
    assert warning.message == (f"{artefact.path}: no chat parser reads it, and whether it looks like a message store could not be told "
                               "within the query budget: more than 4 rows were read from this database")


def test_renamed_copy_of_a_known_store_is_read_by_schema(tmp_path: Path) -> None:
    folder = tmp_path / "Backup 2020" / "misc"
    folder.mkdir(parents=True)
    db = build_database(folder / "old_texts.sqlite", SMS_SCHEMA,
                        {"sms": _rows(12, lambda i: (i, 1, "+15550001", T0 + i, 0, 1, 1, None, f"text {i}", None))})
    parsed = parse_files(db)
    assert parsed.warnings == []
    assert parsed.parser_names() == {"android_sms"}
    assert [(m.source_table, m.source_row_id, m.body, m.received) for m in parsed.messages] == \
        [("sms", i, f"text {i}", (T0 + i) * 1_000_000) for i in range(1, 13)]


def test_endless_view_named_like_messages_is_not_probed(tmp_path: Path) -> None:
    """Views are never counted: one over an endless recursive query would only stop at the budget."""
    db = build_database(tmp_path / "view.db", "CREATE TABLE prefs (k TEXT, v TEXT); CREATE VIEW messages AS WITH RECURSIVE c(x) AS "
                        "(SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x AS body, x AS ts FROM c;")
    artefact = HostArtefact(db)
    result = parse_artefact(artefact, Catalog.of([artefact]), limits=QueryLimits(seconds=5.0))
    assert (result.messages, result.warnings) == ([], [])
