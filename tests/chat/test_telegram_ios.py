"""Telegram iOS Postbox db_sqlite: recognised and reported as unsupported (no corpus sample).

Facts used (Telegram-iOS `Postbox/Sources/SqliteValueBox.swift`): `__meta_tables (name INTEGER,
keyType INTEGER)` lists tables `t<id>` with `key`/`value` columns; binary-key tables hold
big-endian keys (message history, `MessageHistoryTable.swift`: peer id int64, timestamp int32, namespace int32,
id int32).
"""

from __future__ import annotations

import struct
from pathlib import Path

from tests.chat.helpers import build_database, parse_files

LOGICAL = b"/private/var/mobile/Containers/Shared/AppGroup/X/telegram-data/account-123/postbox/db/db_sqlite"
SCHEMA = """
CREATE TABLE __meta_tables (name INTEGER, keyType INTEGER);
CREATE TABLE __meta_fulltext_tables (name INTEGER);
CREATE TABLE t0 (key INTEGER PRIMARY KEY, value BLOB);
CREATE TABLE t7 (key BLOB, value BLOB);
CREATE INDEX t7_key ON t7 (key);
"""


def _fixture(tmp_path: Path) -> Path:
    key = struct.pack(">qiii", 2002, 1700000000, 0, 10)
    return build_database(tmp_path / "db_sqlite", SCHEMA, {
        "__meta_tables": [(0, 1), (7, 0)], "t0": [(1, b"\x00\x01")], "t7": [(key, b"\x00" * 40)]})


def test_postbox_gives_one_unsupported_format_warning(tmp_path: Path) -> None:
    db = _fixture(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [(w.kind, w.table) for w in parsed.warnings] == [("unsupported_format", "__meta_tables")]
    assert "2 Postbox tables" in parsed.warnings[0].message


def test_postbox_found_by_schema_when_renamed(tmp_path: Path) -> None:
    db = _fixture(tmp_path)
    parsed = parse_files(db, logical={db: b"/evidence/export/copy.bin"})
    assert [w.kind for w in parsed.warnings] == ["unsupported_format"]


def test_unknown_schema_at_postbox_path(tmp_path: Path) -> None:
    db = build_database(tmp_path / "db_sqlite", "CREATE TABLE t0 (key INTEGER PRIMARY KEY, value BLOB);")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
