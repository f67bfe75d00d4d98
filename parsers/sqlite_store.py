"""SQLite databases from evidence, opened only as copies in a scratch folder.

The database is copied with its `-wal` and `-journal` (and `-shm`) siblings and opened there; a
second copy without the WAL shows what the main file alone holds, so rows that exist only in the
uncheckpointed write-ahead log can be marked, and rows the WAL deleted can still be reported.

Every query streams its rows (a cursor, never a list) and runs under the database's `QueryBudget`:
a hostile database (a view over an endless recursive query, a join that explodes) is stopped by
SQLite's progress handler once the time SQLite spends on it, or the rows read from it, pass the
limit; the parser then gets `QueryBudgetExceeded`.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from manifests.records import decode_text
from parsers.artefact import Artefact, Catalog

SQLITE_MAGIC = b"SQLite format 3\x00"
WAL_HEADER_SIZE = 32
SIBLING_SUFFIXES = (b"-wal", b"-journal", b"-shm")
T = TypeVar("T")
# Defaults of [chats] database_seconds / database_rows in pipeline.toml.
DATABASE_SECONDS = 60.0
DATABASE_ROWS = 100_000_000
# SQLite virtual-machine instructions between two calls of the progress handler.
PROGRESS_STEPS = 10_000


class NotSQLiteError(ValueError):
    """The artefact does not start with the SQLite header (encrypted, truncated or another format)."""


class QueryBudgetExceeded(RuntimeError):
    """SQLite worked on one database longer, or gave more rows, than its budget allows."""


@dataclass(frozen=True)
class QueryLimits:
    """Per-database limits: seconds SQLite may spend on it (summed over its queries) and rows read."""

    seconds: float = DATABASE_SECONDS
    rows: int = DATABASE_ROWS


class QueryBudget:
    """What one database has used of its limits.

    Only time inside SQLite counts (a query's execution and each step of its cursor), not the time a
    parser spends converting rows, so a big honest database is not cut short by slow Python code.
    """

    def __init__(self, limits: QueryLimits, interrupted: tuple[type[Exception], ...] = (sqlite3.OperationalError,)) -> None:
        self.limits = limits
        self.interrupted = interrupted  # what the driver raises for an interrupted statement (sqlcipher3 has its own)
        self.spent = 0.0
        self.rows = 0
        self.exceeded: str | None = None
        self._step_started: float | None = None

    def on_progress(self) -> int:
        """SQLite's progress handler: non-zero interrupts the running statement."""
        if self.exceeded is not None:
            return 1
        if self._step_started is not None and self.spent + (time.monotonic() - self._step_started) > self.limits.seconds:
            self.exceeded = f"SQLite worked on this database for more than {self.limits.seconds:g} s"
            return 1
        return 0

    def step(self, action: Callable[[], T]) -> T:
        """Run `action` (an execute or a cursor step) as SQLite time; an interrupt by the budget raises QueryBudgetExceeded."""
        if self.exceeded is not None:
            raise QueryBudgetExceeded(self.exceeded)
        self._step_started = time.monotonic()
        try:
            return action()
        except self.interrupted:
            if self.exceeded is not None:
                raise QueryBudgetExceeded(self.exceeded) from None
            raise
        finally:
            self.spent += time.monotonic() - self._step_started
            self._step_started = None

    def count_row(self) -> None:
        self.rows += 1
        if self.rows > self.limits.rows:
            self.exceeded = f"more than {self.limits.rows} rows were read from this database"
            raise QueryBudgetExceeded(self.exceeded)


def is_sqlite_head(head: bytes) -> bool:
    return head.startswith(SQLITE_MAGIC)


def _connect(path: Path, budget: QueryBudget) -> sqlite3.Connection:
    # Opened read-write because it is our copy: SQLite must be able to read the WAL (which needs the
    # -shm index) and to roll back a hot journal, exactly as the app would on next start.
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    connection.text_factory = decode_text
    connection.row_factory = sqlite3.Row
    connection.set_progress_handler(budget.on_progress, PROGRESS_STEPS)
    return connection


def stream(connection: sqlite3.Connection, budget: QueryBudget, sql: str, parameters: tuple = ()) -> Iterator[sqlite3.Row]:
    """The rows of one statement, one at a time, each step under the budget."""
    cursor = budget.step(lambda: connection.execute(sql, parameters))
    while True:
        row = budget.step(cursor.fetchone)
        if row is None:
            return
        budget.count_row()
        yield row


@dataclass
class Database:
    """An opened copy of one database: `connection` sees main file + WAL, as the app would."""

    artefact: Artefact
    connection: sqlite3.Connection
    main_only: sqlite3.Connection | None
    wal_size: int = 0
    tables: dict[str, frozenset[str]] = field(default_factory=dict)
    budget: QueryBudget = field(default_factory=lambda: QueryBudget(QueryLimits()))

    @property
    def has_wal_frames(self) -> bool:
        return self.wal_size > WAL_HEADER_SIZE

    def query(self, sql: str, parameters: tuple = ()) -> Iterator[sqlite3.Row]:
        """The rows of `sql`, streamed; raises QueryBudgetExceeded when the database's budget runs out."""
        return stream(self.connection, self.budget, sql, parameters)

    def first(self, sql: str, parameters: tuple = ()) -> sqlite3.Row | None:
        """The first row of `sql`, or None."""
        rows = self.query(sql, parameters)
        try:
            return next(rows, None)
        finally:
            rows.close()

    def has(self, table: str, *columns: str) -> bool:
        """True when `table` exists (case-insensitive) with all `columns`."""
        present = self.tables.get(table.lower())
        return present is not None and all(c.lower() in present for c in columns)

    def fingerprint(self) -> str:
        return schema_fingerprint(self.tables)

    def rowids(self, table: str, main_only: bool = False) -> set[int]:
        """Row ids of a table (a name the schema lists: it is quoted, never taken from the data)."""
        connection = self.main_only if main_only else self.connection
        if connection is None or table.lower() not in _schema_tables(connection, self.budget):
            return set()
        quoted = '"' + table.replace('"', '""') + '"'
        return {row[0] for row in stream(connection, self.budget, f"SELECT rowid FROM {quoted}")}

    def close(self) -> None:
        self.connection.close()
        if self.main_only is not None:
            self.main_only.close()


def _schema_tables(connection: sqlite3.Connection, budget: QueryBudget) -> dict[str, frozenset[str]]:
    tables: dict[str, frozenset[str]] = {}
    names = [row[0] for row in stream(connection, budget, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")]
    for name in names:
        columns = stream(connection, budget, "SELECT name FROM pragma_table_info(?)", (name,))
        tables[str(name).lower()] = frozenset(str(c[0]).lower() for c in columns)
    return tables


def schema_fingerprint(tables: dict[str, frozenset[str]]) -> str:
    """A short, stable digest of table and column names: the same app version gives the same value."""
    text = ";".join(f"{name}({','.join(sorted(columns))})" for name, columns in sorted(tables.items()))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def open_copy(artefact: Artefact, catalog: Catalog, scratch: Path, limits: QueryLimits | None = None) -> Database:
    """Copy the database and its siblings into `scratch` and open the copy, with its own query budget.

    Raises NotSQLiteError when the header is not SQLite's, sqlite3.DatabaseError when SQLite
    refuses the file (malformed, encrypted with a SQLite header, truncated), OSError on a read error,
    QueryBudgetExceeded when even its schema cannot be read within the budget.
    """
    budget = QueryBudget(limits or QueryLimits())
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
        main_only = _connect(bare, budget)
    connection = _connect(full, budget)
    try:
        tables = _schema_tables(connection, budget)
    except (sqlite3.DatabaseError, QueryBudgetExceeded):
        connection.close()
        if main_only is not None:
            main_only.close()
        raise
    return Database(artefact=artefact, connection=connection, main_only=main_only, wal_size=wal_size, tables=tables, budget=budget)
