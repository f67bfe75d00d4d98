"""Small readers shared by the TextNow, LINE and imo parsers: a cell as text, a table read by rowid.

SQLite returns TEXT through `decode_text` (exact bytes kept when not UTF-8), but a hostile or
damaged store can hold a BLOB or a number where text belongs; those are read, never refused.
"""

from __future__ import annotations

import sqlite3

from manifests.records import decode_text
from parsers.chat.base import Variant
from parsers.sqlite_store import Database


def text_of(value: object) -> str | None:
    """A cell as text: None stays None, a blob keeps its exact bytes, a number becomes its digits."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return decode_text(value)
    return str(value)


def select_by_rowid(variant: Variant, database: Database, table: str) -> str:
    """The declared columns of `table` (NULL for absent optional ones) with its rowid as `row_key`, in rowid order.

    The rowid is what the driver compares with the main file to mark WAL-only rows, so every
    message names it, whatever the app calls its own id column. A `WITHOUT ROWID` table (no app
    makes one; a rebuilt or hostile copy can) has none: its rows are read in key order with a
    NULL `row_key`, so they are still reported (as live) instead of being lost.
    """
    columns = variant.columns(database, table)
    try:
        database.first(f"SELECT rowid FROM {table} LIMIT 0")
    except sqlite3.OperationalError:
        return f"SELECT NULL AS row_key, {columns} FROM {table}"
    return f"SELECT rowid AS row_key, {columns} FROM {table} ORDER BY rowid"
