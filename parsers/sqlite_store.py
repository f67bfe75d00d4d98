"""SQLite databases from evidence, opened only as copies in a scratch folder.

The database is copied with its `-wal` and `-journal` (and `-shm`) siblings and opened there; a
second copy without the WAL shows what the main file alone holds, so rows that exist only in the
uncheckpointed write-ahead log can be marked, and rows the WAL deleted can still be reported.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from manifests.records import decode_text
from parsers.artefact import Artefact, Catalog

SQLITE_MAGIC = b"SQLite format 3\x00"
WAL_HEADER_SIZE = 32
SIBLING_SUFFIXES = (b"-wal", b"-journal", b"-shm")


class NotSQLiteError(ValueError):
    """The artefact does not start with the SQLite header (encrypted, truncated or another format)."""


def is_sqlite_head(head: bytes) -> bool:
    return head.startswith(SQLITE_MAGIC)


def _connect(path: Path) -> sqlite3.Connection:
    # Opened read-write because it is our copy: SQLite must be able to read the WAL (which needs the
    # -shm index) and to roll back a hot journal, exactly as the app would on next start.
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    connection.text_factory = decode_text
    connection.row_factory = sqlite3.Row
    return connection


@dataclass
class Database:
    """An opened copy of one database: `connection` sees main file + WAL, as the app would."""

    artefact: Artefact
    connection: sqlite3.Connection
    main_only: sqlite3.Connection | None
    wal_size: int = 0
    tables: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def has_wal_frames(self) -> bool:
        return self.wal_size > WAL_HEADER_SIZE

    def query(self, sql: str, parameters: tuple = ()) -> list[sqlite3.Row]:
        return self.connection.execute(sql, parameters).fetchall()

    def has(self, table: str, *columns: str) -> bool:
        """True when `table` exists (case-insensitive) with all `columns`."""
        present = self.tables.get(table.lower())
        return present is not None and all(c.lower() in present for c in columns)

    def fingerprint(self) -> str:
        return schema_fingerprint(self.tables)

    def rowids(self, table: str, main_only: bool = False) -> set[int]:
        """Row ids of a table (a name the schema lists: it is quoted, never taken from the data)."""
        connection = self.main_only if main_only else self.connection
        if connection is None or table.lower() not in _schema_tables(connection):
            return set()
        quoted = '"' + table.replace('"', '""') + '"'
        return {row[0] for row in connection.execute(f"SELECT rowid FROM {quoted}")}

    def close(self) -> None:
        self.connection.close()
        if self.main_only is not None:
            self.main_only.close()


def _schema_tables(connection: sqlite3.Connection) -> dict[str, frozenset[str]]:
    tables: dict[str, frozenset[str]] = {}
    names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")]
    for name in names:
        columns = connection.execute("SELECT name FROM pragma_table_info(?)", (name,)).fetchall()
        tables[str(name).lower()] = frozenset(str(c[0]).lower() for c in columns)
    return tables


def schema_fingerprint(tables: dict[str, frozenset[str]]) -> str:
    """A short, stable digest of table and column names: the same app version gives the same value."""
    text = ";".join(f"{name}({','.join(sorted(columns))})" for name, columns in sorted(tables.items()))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def open_copy(artefact: Artefact, catalog: Catalog, scratch: Path) -> Database:
    """Copy the database and its siblings into `scratch` and open the copy.

    Raises NotSQLiteError when the header is not SQLite's, sqlite3.DatabaseError when SQLite
    refuses the file (malformed, encrypted with a SQLite header, truncated), OSError on a read error.
    """
    head = artefact.read_head(len(SQLITE_MAGIC))
    if not is_sqlite_head(head):
        raise NotSQLiteError(f"no SQLite header (first bytes {head[:16].hex()})")
    scratch.mkdir(parents=True, exist_ok=True)
    full = scratch / "full.db"
    artefact.copy_to(full)
    wal_size = 0
    for suffix in SIBLING_SUFFIXES:
        sibling = catalog.sibling(artefact, suffix)
        if sibling is not None:
            target = scratch / ("full.db" + suffix.decode())
            sibling.copy_to(target)
            if suffix == b"-wal":
                wal_size = target.stat().st_size
    main_only = None
    if wal_size > WAL_HEADER_SIZE:
        bare = scratch / "main-only.db"
        artefact.copy_to(bare)
        journal = catalog.sibling(artefact, b"-journal")
        if journal is not None:
            journal.copy_to(scratch / "main-only.db-journal")
        main_only = _connect(bare)
    connection = _connect(full)
    try:
        tables = _schema_tables(connection)
    except sqlite3.DatabaseError:
        connection.close()
        if main_only is not None:
            main_only.close()
        raise
    return Database(artefact=artefact, connection=connection, main_only=main_only, wal_size=wal_size, tables=tables)
