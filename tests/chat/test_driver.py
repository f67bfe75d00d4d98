"""The driver: WAL-only rows marked, evidence untouched, and every bad database a warning, never a crash."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

from manifests.records import UndecodedText
from tests.chat.helpers import build_database, parse_files
from tests.chat.test_android_sms import LOGICAL, SCHEMA


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _wal_database(folder: Path) -> Path:
    """mmssms.db with rows 1-2 checkpointed, then row 3 inserted and row 2 deleted only in the WAL.

    The WAL files are snapshotted while a connection still holds them open (closing would checkpoint).
    """
    live = folder / "live"
    live.mkdir()
    db = build_database(live / "mmssms.db", SCHEMA, {"sms": [(1, 1, "+1555", 1600000000000, 0, 1, 1, None, "one", None),
                                                              (2, 1, "+1555", 1600000001000, 0, 1, 1, None, "two", None)]},
                        journal_mode="wal")
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("INSERT INTO sms VALUES (3, 1, '+1555', 1600000002000, 0, 1, 1, NULL, 'three (only in the WAL)', NULL)")
    connection.execute("DELETE FROM sms WHERE _id = 2")
    connection.commit()
    return _snapshot(connection, live, folder / "evidence")


def _snapshot(connection: sqlite3.Connection, live: Path, evidence: Path) -> Path:
    """mmssms.db with its -wal and -shm copied while `connection` still holds them open, then closed."""
    evidence.mkdir()
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(live / f"mmssms.db{suffix}", evidence / f"mmssms.db{suffix}")
    connection.close()
    return evidence / "mmssms.db"


def test_wal_only_and_removed_rows_are_marked_and_evidence_is_unchanged(tmp_path: Path) -> None:
    db = _wal_database(tmp_path)
    wal = db.with_name("mmssms.db-wal")
    assert wal.stat().st_size > 32
    before = {p.name: _sha(p) for p in db.parent.iterdir()}
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.warnings == []
    states = [(p.message.source_row_id, p.message.body, p.record_state) for p in parsed.parsed]
    assert states == [(1, "one", "live"), (3, "three (only in the WAL)", "wal_only"), (2, "two", "removed_in_wal")]
    assert {p.name: _sha(p) for p in db.parent.iterdir()} == before


def test_without_its_wal_the_database_shows_only_checkpointed_rows(tmp_path: Path) -> None:
    db = _wal_database(tmp_path)
    db.with_name("mmssms.db-wal").unlink()
    db.with_name("mmssms.db-shm").unlink()
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(m.source_row_id, p.record_state) for p, m in zip(parsed.parsed, parsed.messages, strict=True)] == [(1, "live"), (2, "live")]


def test_main_file_damaged_where_the_wal_is_whole_keeps_every_message(tmp_path: Path) -> None:
    """The sms table's root page is garbage in the main file but rewritten in the WAL: the database reads
    (50 rows), only the main-file-alone lookups fail, and each is a warning of its own."""
    live = tmp_path / "live"
    live.mkdir()
    db = build_database(live / "mmssms.db", SCHEMA, {"sms": [(i, 1, "+1555", 1600000000000 + i * 1000, 0, 1, 1, None, f"m{i}", None)
                                                              for i in range(1, 51)]}, journal_mode="wal")
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA wal_autocheckpoint=0")
    ((root,),) = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'sms'")
    ((page_size,),) = connection.execute("PRAGMA page_size")
    connection.execute("UPDATE sms SET body = body || 'x'")  # every sms page now also in the WAL
    connection.commit()
    main = _snapshot(connection, live, tmp_path / "evidence")
    data = bytearray(main.read_bytes())
    start = (root - 1) * page_size
    data[start:start + 100] = b"\xff" * 100
    main.write_bytes(bytes(data))
    check = sqlite3.connect(f"file:{main}?mode=ro&immutable=1", uri=True)  # the main file alone, as the oracle
    try:
        check.execute("SELECT rowid FROM sms").fetchall()
        raise AssertionError("the main file alone should be unreadable")
    except sqlite3.DatabaseError as error:
        assert str(error) == "database disk image is malformed"
    finally:
        check.close()

    parsed = parse_files(main, logical={main: LOGICAL})
    assert [(p.message.source_row_id, p.message.body, p.record_state) for p in parsed.parsed] == [
        (i, f"m{i}x", "live") for i in range(1, 51)]
    path = LOGICAL.decode()
    assert [(w.kind, w.table, w.severity, w.message) for w in parsed.warnings] == [
        ("wal_state_unknown", "sms", "error",
         f"{path}: the row ids of table sms in the main file without the WAL could not be read (DatabaseError: database disk image "
         "is malformed); its rows are reported live whether or not they are only in the WAL"),
        ("parse_stopped", None, "error",
         f"{path}: reading stopped after 0 messages: DatabaseError: database disk image is malformed "
         "(reading the main file without the WAL, to find removed rows)"),
    ]


def test_non_sqlite_file_named_like_a_chat_database(tmp_path: Path) -> None:
    fake = tmp_path / "msgstore.db"
    fake.write_bytes(b"PK\x03\x04 this is a zip, not a database")
    parsed = parse_files(fake, logical={fake: b"/data/data/com.android.providers.telephony/databases/mmssms.db"})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "not_sqlite"
    assert "504b0304" in warning.message and "not SQLite" in warning.message


def test_corrupt_database_is_a_warning(tmp_path: Path) -> None:
    db = build_database(tmp_path / "mmssms.db", SCHEMA, {"sms": [(i, 1, "+1", 1600000000000 + i, 0, 1, 1, None, "x" * 3000, None) for i in range(1, 40)]})
    data = bytearray(db.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wreck the schema page after the header
    db.write_bytes(bytes(data))
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "database_unreadable"
    assert "android_sms" in warning.message


def test_truncated_database_is_a_warning(tmp_path: Path) -> None:
    db = build_database(tmp_path / "mmssms.db", SCHEMA, {"sms": [(i, 1, "+1", 1600000000000 + i, 0, 1, 1, None, "y" * 3000, None) for i in range(1, 200)]})
    size = db.stat().st_size
    with open(db, "r+b") as handle:
        handle.truncate(size // 2)
    parsed = parse_files(db, logical={db: LOGICAL})
    # SQLite refuses a file shorter than its header's page count as a whole, before any row is read.
    (warning,) = parsed.warnings
    assert warning.kind == "database_unreadable"
    assert "database disk image is malformed" in warning.message
    assert parsed.messages == []


def test_schema_matching_no_variant_gives_a_fingerprinted_warning(tmp_path: Path) -> None:
    db = build_database(tmp_path / "mmssms.db", "CREATE TABLE sms (_id INTEGER PRIMARY KEY, body TEXT);")
    parsed = parse_files(db, logical={db: LOGICAL})
    (warning,) = parsed.warnings
    assert warning.kind == "schema_unrecognised"
    assert "android_sms" in warning.message and "tables: sms" in warning.message
    from parsers.sqlite_store import schema_fingerprint

    assert f"fingerprint {schema_fingerprint({'sms': frozenset({'_id', 'body'})})}" in warning.message


def test_hostile_text_is_kept_exactly(tmp_path: Path) -> None:
    hostile = "a\x1b[2Jb\u202eexe.jpg\r\n\x00end"
    big = "Z" * (1 << 20)
    db = build_database(tmp_path / "mmssms.db", SCHEMA, {"sms": [(1, 1, "+1\u202e", 1600000000000, 0, 1, 1, None, hostile, None),
                                                                (2, 1, "+1", 1600000000001, 0, 1, 1, None, big, None)]})
    connection = sqlite3.connect(db)
    connection.execute("INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (3, 1, '+1', 1600000000002, 1, CAST(? AS TEXT))",
                       (b"caf\xe9 \xff",))
    connection.commit()
    connection.close()
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.warnings == []
    first, second, third = parsed.messages
    assert first.body == hostile and first.sender.id == "+1\u202e"
    assert second.body == big
    assert isinstance(third.body, UndecodedText)
    assert third.body.raw == b"caf\xe9 \xff" and third.body == "caf\\xe9 \\xff"


def test_bad_time_is_a_warning_and_the_row_stays(tmp_path: Path) -> None:
    db = build_database(tmp_path / "mmssms.db", SCHEMA, {"sms": [(1, 1, "+1", 99999999999999999, 0, 1, 1, None, "far future", None)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    (message,) = parsed.messages
    assert (message.received, message.body) == (None, "far future")
    (warning,) = parsed.warnings
    assert (warning.kind, warning.table, warning.row_id, warning.field) == ("bad_time", "sms", 1, "date")
