"""Facebook Lite Android: no documented store, so every database of the app is a warning, never silence.

See parsers/chat/facebook_lite.py: no public source documents a local message store or schema;
the app's `databases/*.db` are declared (but the WebView's `webview.db`/`webviewCache.db`), and
each SQLite database there becomes one `schema_unrecognised` with its fingerprint and tables.
"""

from __future__ import annotations

from pathlib import Path

from parsers.sqlite_store import schema_fingerprint
from tests.chat.helpers import assert_no_warnings, build_database, parse_files

FOLDER = b"/data/data/com.facebook.lite/databases/"


def test_any_database_of_the_app_is_schema_unrecognised(tmp_path: Path) -> None:
    db = build_database(tmp_path / "lite_store.db", "CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB); CREATE TABLE msgq (id INTEGER, payload BLOB);",
                        {"kv": [("a", b"1")], "msgq": [(1, b"\x00")]})
    parsed = parse_files(db, logical={db: FOLDER + b"lite_store.db"})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "schema_unrecognised" and warning.severity == "warning"
    assert "path expected by facebook_lite" in warning.message and "tables: kv, msgq" in warning.message
    assert f"fingerprint {schema_fingerprint({'kv': frozenset({'k', 'v'}), 'msgq': frozenset({'id', 'payload'})})}" in warning.message


def test_webview_caches_stay_silent(tmp_path: Path) -> None:
    for name in ("webview.db", "webviewCache.db"):
        db = build_database(tmp_path / name, "CREATE TABLE cookies (_id INTEGER PRIMARY KEY, name TEXT, value TEXT, domain TEXT);",
                            {"cookies": [(1, "c_user", "1", ".facebook.com")]})
        parsed = parse_files(db, logical={db: FOLDER + name.encode()})
        assert (parsed.messages, parsed.warnings) == ([], []), name


def test_a_file_there_that_is_not_sqlite_is_named(tmp_path: Path) -> None:
    path = tmp_path / "blob.db"
    path.write_bytes(b"\x89LITE\x00\x01" + b"\x00" * 64)
    parsed = parse_files(path, logical={path: FOLDER + b"blob.db"})
    (warning,) = parsed.warnings
    assert warning.kind == "not_sqlite" and "Facebook Lite" in warning.message and "894c495445000100" in warning.message


def test_a_known_schema_there_is_read_by_its_parser(tmp_path: Path) -> None:
    """A store another parser knows (here a Google Chat topic_messages table) is read, with no warning."""
    db = build_database(tmp_path / "copy.db", "CREATE TABLE topic_messages (group_id TEXT, creator_id TEXT, create_time INTEGER, text_body TEXT);",
                        {"topic_messages": [("dm/A", "1", 1650000000000000, "hi")]})
    parsed = parse_files(db, logical={db: FOLDER + b"copy.db"})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"google_chat"} and [m.body for m in parsed.messages] == ["hi"]


def test_sidecars_are_not_declared(tmp_path: Path) -> None:
    from parsers.chat.registry import by_name

    parser = by_name("facebook_lite")
    assert parser.path_matches("/data/data/com.facebook.lite/databases/lite_store.db")
    assert not parser.path_matches("/data/data/com.facebook.lite/databases/lite_store.db-wal")
    assert not parser.path_matches("/data/data/com.facebook.lite/databases/lite_store.db-journal")
    assert not parser.path_matches("/data/data/com.facebook.lite/databases/WebViewCache.db")
    assert not parser.path_matches("/data/data/com.facebook.lite/files/PropertiesStore_v02")
