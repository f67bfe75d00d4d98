"""Damage a fixture database the way a bad extraction does: cut short, or one page overwritten; and what SQLite itself still reads."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.chat.helpers import Parsed, parse_files, truncate_to_half


def wreck_middle_page(path: Path, fill: int) -> None:
    """Overwrite the page in the middle of the file with one byte value (a bad sector inside a table's leaves)."""
    connection = sqlite3.connect(path)
    try:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
    finally:
        connection.close()
    data = bytearray(path.read_bytes())
    start = (pages // 2) * page_size
    data[start:start + page_size] = bytes([fill]) * page_size
    path.write_bytes(bytes(data))


def wreck_last_page(path: Path) -> None:
    """Overwrite the file's last page (a leaf of the biggest table when it was filled last) with 0xff."""
    connection = sqlite3.connect(path)
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    connection.close()
    data = bytearray(path.read_bytes())
    data[-page_size:] = b"\xff" * page_size
    path.write_bytes(bytes(data))


def rows_before_damage(path: Path, sql: str) -> int:
    """How many rows plain sqlite3 returns for `sql` before it reports the damage (the oracle)."""
    connection = sqlite3.connect(path)
    count = 0
    try:
        for _ in connection.execute(sql):
            count += 1
    except sqlite3.DatabaseError:
        return count
    finally:
        connection.close()
    raise AssertionError("the damaged page was never reached")


def assert_truncated_store_is_unreadable(db: Path, logical: bytes) -> None:
    """Cut a fixture in half: SQLite refuses it as a whole, so one database_unreadable warning and no messages."""
    parsed = parse_files(truncate_to_half(db), logical={db: logical})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "database_unreadable" and "database disk image is malformed" in warning.message


def filled_last(rows: dict[str, list[tuple]], table: str, extra: list[tuple]) -> dict[str, list[tuple]]:
    """The fixture's rows with `table` filled last and grown by `extra`, so the file's last page is one of its leaves."""
    return {**{name: value for name, value in rows.items() if name != table}, table: rows.get(table, []) + extra}


def wreck_side_table(db: Path, table: str) -> None:
    """Overwrite the file's last page (a leaf of `table` when it was filled last) and check SQLite itself stops there."""
    total = _count(db, table)
    wreck_last_page(db)
    assert rows_before_damage(db, f"SELECT * FROM {table}") < total


def _count(db: Path, table: str) -> int:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        connection.close()


def assert_side_table_stopped(parsed: Parsed, table: str, messages: int) -> None:
    """A damaged side table stops only its own read: all `messages` are read, and one error row (parse_stopped) names `table`."""
    assert len(parsed.messages) == messages
    (stopped,) = [w for w in parsed.warnings if w.severity == "error"]
    assert (stopped.kind, stopped.table) == ("parse_stopped", table)
    assert f"side table {table} could not be read whole" in stopped.message
