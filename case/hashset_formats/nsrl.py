"""NIST NSRL RDSv3: the SQLite release. Hashes come from its FILE table, whose columns (lowercase in the
published schema) include sha256, sha1, md5, file_name and package_id; one FILE row gives up to three
entries, one per algorithm, with package_id as the entry id and file_name as its name.

The database is opened read-only and immutable (`file:...?mode=ro&immutable=1`): SQLite writes nothing
beside it (no journal, no WAL, no shared memory), so a release on read-only media imports as it is.
Values are fetched cut to 130 characters, so a hostile cell of gigabytes never reaches Python whole.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator

from case.hashset_formats import SQLITE_MAGIC, Entry, Format, NotThisFormat, Tally, hex_problem

VERSION = "1"
HASH_COLUMNS = ("sha256", "sha1", "md5")
NAME_COLUMNS = ("file_name", "package_id")
_CUT = 130
BATCH = 10_000


def _columns(connection: sqlite3.Connection) -> set[str]:
    tables = connection.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND lower(name) = 'file'").fetchall()
    if not tables:
        raise NotThisFormat("an SQLite database without the FILE table: not an NSRL RDSv3 release")
    return {str(row[1]).lower() for row in connection.execute("PRAGMA table_info(FILE)")}


def _version(connection: sqlite3.Connection) -> dict:
    """The release's own VERSION row (version, build_set, release_date, ...), when it has one."""
    if not connection.execute("SELECT 1 FROM sqlite_master WHERE lower(name) = 'version'").fetchall():
        return {}
    connection.text_factory = bytes  # a VERSION cell that is not UTF-8 is shown escaped, never refuses the release
    try:
        cursor = connection.execute("SELECT * FROM VERSION LIMIT 1")
        row = cursor.fetchone()
    finally:
        connection.text_factory = str
    if row is None:
        return {}
    # by column name (cursor.description), never by position: releases differ in VERSION's column order
    return {"nsrl_version": {str(d[0])[:100]: (v.decode("utf-8", "backslashreplace") if isinstance(v, bytes) else str(v))[:200]
                             for d, v in list(zip(cursor.description, row, strict=True))[:20]}}


def _select(columns: set[str]) -> str:
    """Fixed SQL text: each known column, or NULL when this release lacks it (names are ours, never the file's)."""
    parts = []
    for name in HASH_COLUMNS:
        parts += [f"typeof({name})", f"substr({name}, 1, {_CUT})"] if name in columns else ["'null'", "NULL"]
    for name in NAME_COLUMNS:
        parts.append(f"substr(CAST({name} AS TEXT), 1, 1024)" if name in columns else "NULL")
    return f"SELECT {', '.join(parts)} FROM FILE"


def _decoded(raw: tuple) -> list:
    """One FILE row with its text cells decoded (UnicodeDecodeError for a cell that is not UTF-8); a BLOB
    value stays bytes, so it is counted as a hash not stored as text."""
    row = [cell.decode("ascii") if isinstance(cell, bytes) else cell for cell in raw[:6:2]]  # typeof(): ASCII names
    out = []
    for position in range(len(HASH_COLUMNS)):
        kind, value = row[position], raw[2 * position + 1]
        out += [kind, value.decode("utf-8") if kind == "text" and isinstance(value, bytes) else value]
    out += [cell.decode("utf-8") if isinstance(cell, bytes) else cell for cell in raw[6:]]
    return out


def read(path: Path, tally: Tally, info: dict) -> Iterator[Entry]:
    with open(path, "rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise NotThisFormat(f"{path.name} is not an SQLite database: not an NSRL RDSv3 release")
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as error:
        raise NotThisFormat(f"{path.name} cannot be opened as SQLite: {error}") from None
    try:
        columns = _columns(connection)
        info.update(_version(connection))
        if not columns & set(HASH_COLUMNS):
            raise NotThisFormat("the FILE table has none of the columns sha256, sha1, md5: not an NSRL RDSv3 release")
        connection.text_factory = bytes  # each cell decoded here: one cell that is not UTF-8 costs its row, not the release
        cursor = connection.execute(_select(columns))
        number = 0
        while rows := cursor.fetchmany(BATCH):
            for raw in rows:
                number += 1
                try:
                    row = _decoded(raw)
                except UnicodeDecodeError as error:
                    tally.skip("row_not_utf8", f"FILE row {number}", str(error)[:80])
                    continue
                file_name, package_id = row[6], row[7]
                for position, algorithm in enumerate(HASH_COLUMNS):
                    kind, value = row[2 * position], row[2 * position + 1]
                    if kind == "null":
                        if algorithm in columns:
                            tally.skip(f"{algorithm}_missing", f"FILE row {number}")
                        continue
                    if kind != "text":
                        tally.skip("hash_not_text", f"FILE row {number} {algorithm}", f"stored as {kind}")
                        continue
                    problem = hex_problem(value, algorithm)
                    if problem is not None:
                        tally.skip(problem, f"FILE row {number} {algorithm}", value[:80])
                        continue
                    yield Entry(algorithm, value.lower(), None, package_id, file_name)
    except sqlite3.Error as error:  # a damaged page, a table that is not what it claims: the release cannot be read whole
        raise NotThisFormat(f"{path.name}: SQLite cannot read the FILE table ({error})") from None
    finally:
        connection.close()


FORMAT = Format("nsrl", VERSION, read)
