"""Small readers shared by the TextNow, LINE and imo parsers: a cell as text, a table read by rowid.

SQLite returns TEXT through `decode_text` (exact bytes kept when not UTF-8), but a hostile or
damaged store can hold a BLOB or a number where text belongs; those are read, never refused.
"""

from __future__ import annotations

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
    message names it, whatever the app calls its own id column.
    """
    return f"SELECT rowid AS row_key, {variant.columns(database, table)} FROM {table} ORDER BY rowid"
