"""Reading loosely typed chat rows: a cell as exact text, a table by rowid, the writers of each conversation, side tables.

SQLite returns TEXT through `decode_text` (exact bytes kept when not UTF-8), but a hostile or
damaged store can hold a BLOB or a number where text belongs; those are read, never refused.
`conversation_writers` serves stores that keep no member list per conversation (the recipients of
an outgoing message are then the conversation's other writers, as far as the store shows them).
Side tables (names, chats, members, files) are read before the messages through `side_read` and its
kin, so a damaged page in one costs that table's rest, with one `parse_stopped` row, never the messages.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Iterable, Iterator

from manifests.records import decode_text
from parsers.chat.base import ParseContext, Variant
from parsers.sqlite_store import Database

_WITHOUT_ROWID = re.compile(r"\bWITHOUT\s+ROWID\s*;?\s*$", re.IGNORECASE)


def row_key(database: Database, table: str) -> str:
    """The select expression of a row's id: `rowid`, or NULL for a WITHOUT ROWID table (which has none).

    Reading such a table by rowid would fail on its first row and lose every message; its rows are
    read instead with no row id (the driver reports them live, as it cannot tell WAL-only rows).
    """
    row = database.first("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE", (table,))
    declared = row[0] if row is not None and isinstance(row[0], str) else ""
    return "NULL" if _WITHOUT_ROWID.search(declared) else "rowid"


def text_value(value: object) -> str | None:
    """Text as stored; a BLOB keeps its exact bytes (UndecodedText when not UTF-8), a number its digits."""
    if value is None or isinstance(value, str):
        return value
    return decode_text(value) if isinstance(value, bytes) else str(value)


def conversation_writers(database: Database, context: ParseContext, sql: str, table: str) -> dict[str, list[str]]:
    """Conversation -> writer ids, from `sql` (fixed text selecting the two, in that order, sorted by them).

    A damaged page stops this pre-scan with an error row, and the messages before that page are
    still read (the main pass stops at the same page and says so itself).
    """
    writers: dict[str, list[str]] = {}
    try:
        for row in database.query(sql):
            writers.setdefault(str(row[0]), []).append(str(row[1]))
    except sqlite3.DatabaseError as error:
        context.warn("parse_stopped", f"the writers of each conversation could not be read whole ({type(error).__name__}: {error}); "
                                      "recipients of outgoing messages may be incomplete", table=table, severity="error")
    return writers


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


def side_rows(database: Database, side: Variant, table: str, order_by: str = "") -> Iterable[sqlite3.Row]:
    """The rows of a side table (names, files) when the store has it; none when it does not, so messages still read."""
    return database.query(side.select(database, table, order_by)) if side.matches(database) else ()


def side_read(rows: Iterable[sqlite3.Row], table: str, context: ParseContext) -> Iterator[sqlite3.Row]:
    """The rows of a side-table pre-scan (names, chats, links read before the messages), up to a damaged page:
    there this read alone stops, with one error row, and the messages are still read (what the rest of the
    table would have named or linked is missing). Only the reading is guarded; the caller's own work is not."""
    try:
        yield from rows
    except sqlite3.DatabaseError as error:
        _side_stopped(table, error, context)


def side_whole(rows: Iterable[sqlite3.Row], table: str, context: ParseContext) -> tuple[list[sqlite3.Row], bool]:
    """The rows of a side read and whether it was whole (a damaged page stops it as `side_read` does).

    For a fact only the whole table proves, such as "exactly one account sent messages": the rows before
    the damage could show one owner where the whole table shows two, so a partial read proves nothing.
    """
    found: list[sqlite3.Row] = []
    try:
        for row in rows:
            found.append(row)
    except sqlite3.DatabaseError as error:
        _side_stopped(table, error, context)
        return found, False
    return found, True


def _side_stopped(table: str, error: sqlite3.DatabaseError, context: ParseContext) -> None:
    context.warn("parse_stopped", f"side table {table} could not be read whole ({type(error).__name__}: {error}); "
                                  "names or links from it may be missing", table=table, severity="error")


def side_table(database: Database, side: Variant, table: str, context: ParseContext, order_by: str = "") -> Iterator[sqlite3.Row]:
    """`side_rows` guarded as `side_read`: a damaged page stops only this side table's read, with one error row."""
    return side_read(side_rows(database, side, table, order_by), table, context)


def side_first(rows: Iterable[sqlite3.Row], table: str, context: ParseContext) -> sqlite3.Row | None:
    """The first row of a side-table read (an owner, a version), guarded as `side_read`: None when the page holding it is damaged."""
    reading = side_read(rows, table, context)
    try:
        return next(reading, None)
    finally:
        reading.close()


def side_index(database: Database, side: Variant, table: str, key: str, context: ParseContext) -> dict[object, sqlite3.Row]:
    """A side table's rows by `key`, read before the messages, guarded as `side_read` (a later row with the same key wins)."""
    return {row[key]: row for row in side_table(database, side, table, context)}
