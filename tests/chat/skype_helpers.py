"""A hostile-input check the Skype fixture tests share."""

from __future__ import annotations

from pathlib import Path

from tests.chat.helpers import parse_files


def assert_truncated_store_is_unreadable(db: Path, logical: bytes) -> None:
    """Cut a fixture in half: SQLite refuses it as a whole, so one database_unreadable warning and no messages."""
    with open(db, "r+b") as handle:
        handle.truncate(db.stat().st_size // 2)
    parsed = parse_files(db, logical={db: logical})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "database_unreadable" and "database disk image is malformed" in warning.message
