"""What a chat parser declares, and the context it works in.

A parser module defines one subclass of `SqliteChatParser` (a database, matched by schema) or
`FileChatParser` (an export file), and binds an instance to the module name `PARSER`. Nothing
else is edited to add an app: the registry finds every module in this package.
"""

from __future__ import annotations

import calendar
import json
import re
import sqlite3
import struct
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, ClassVar, Iterable, Iterator, Mapping

from manifests.records import Message, ParseWarning
from parsers.artefact import Artefact, Catalog
from parsers.chat.times import unix_seconds
from parsers.sqlite_store import Database, NotSQLiteError, QueryBudgetExceeded, QueryLimits, open_copy

_OFFSET = re.compile(r"^(?:UTC|GMT)?(?P<sign>[+-])(?P<h>\d{1,2}):?(?P<m>\d{2})?$")

# What converting one row may raise: a bad value becomes a warning for that row, the rest go on.
ROW_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, KeyError, IndexError, OverflowError,
                                               UnicodeDecodeError, struct.error, sqlite3.DataError)


def _row_id(row: object, column: str) -> int | None:
    """The row id of a sqlite3.Row (by column) or of an export parser's item (by attribute); None if not an int."""
    try:
        value = row[column]  # type: ignore[index]
    except (IndexError, KeyError, TypeError):
        value = getattr(row, column, None)
    return value if isinstance(value, int) else None


_COLUMN = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?: AS (?P<alias>[A-Za-z_][A-Za-z0-9_]*))?$")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _column(spec: str) -> tuple[str, str]:
    """A declared column `name` or `name AS alias`: (name in the store, name in the row)."""
    match = _COLUMN.match(spec)
    if match is None:
        raise ValueError(f"not a column declaration: {spec!r}")
    return match["name"], match["alias"] or match["name"]


@dataclass(frozen=True)
class Variant:
    """A schema version the parser understands.

    `required`: the minimum tables and columns a message cannot be read without (time, body,
    direction, conversation); a store matches when it has them all. `optional`: columns read when
    the store has them and selected as NULL when it does not, so an older or newer version of the
    app still yields every message. A column is `name` or `name AS alias` (the row's key); only
    these declared identifiers ever reach the SQL text, never a value from the store.
    """

    name: str
    required: Mapping[str, tuple[str, ...]]
    optional: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for table, columns in (*self.required.items(), *self.optional.items()):
            if not _TABLE.match(table):
                raise ValueError(f"not a table name: {table!r}")
            for spec in columns:
                _column(spec)

    def matches(self, database: Database) -> bool:
        return all(database.has(table, *(_column(c)[0] for c in columns)) for table, columns in self.required.items())

    def columns(self, database: Database, table: str) -> str:
        """The select list of `table`: its required columns, then each optional one or `NULL AS` it when absent."""
        listed = list(self.required.get(table, ()))
        for spec in self.optional.get(table, ()):
            name, alias = _column(spec)
            listed.append(spec if database.has(table, name) else f"NULL AS {alias}")
        return ", ".join(listed)

    def select(self, database: Database, table: str, order_by: str = "") -> str:
        """`SELECT <columns> FROM table [ORDER BY ...]`: fixed text from the declaration, chosen per store."""
        sql = f"SELECT {self.columns(database, table)} FROM {table}"
        return f"{sql} ORDER BY {order_by}" if order_by else sql


class ChatParser:
    """Common declaration: identity and the paths (globs, case-insensitive) the app's store lives at."""

    name: ClassVar[str]
    version: ClassVar[str]
    app: ClassVar[str]
    platform: ClassVar[str]
    paths: ClassVar[tuple[str, ...]] = ()
    # Other files the parser reads through the catalog (e.g. NSURLCache's fsCachedData/*), so that
    # ingest hands them over although they are neither databases nor exports.
    companions: ClassVar[tuple[str, ...]] = ()

    def path_matches(self, path: str) -> bool:
        import fnmatch

        lowered = path.lower()
        return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in self.paths)


class SqliteChatParser(ChatParser):
    """A parser for a SQLite store; `parse` receives the opened copy and the variant that matched."""

    variants: ClassVar[tuple[Variant, ...]]
    # SQLCipher stores (Signal): the header is not SQLite's; parse_encrypted is called with the key.
    key_name: ClassVar[str | None] = None
    # An app whose store no public source documents declares paths and no variant: a database
    # there is then always a `schema_unrecognised` warning (with its fingerprint), never silence.
    schema_undocumented: ClassVar[bool] = False

    def match(self, database: Database) -> Variant | None:
        for variant in self.variants:
            if variant.matches(database):
                return variant
        return None

    def parse(self, database: Database, variant: Variant, context: "ParseContext") -> Iterator[Message]:
        raise NotImplementedError

    def parse_encrypted(self, artefact: Artefact, key: str, context: "ParseContext") -> Iterator[Message]:
        raise NotImplementedError

    def supplied_key(self, keys: Mapping[str, str]) -> str | None:
        """The key for an encrypted store from the examiner's keys (a parser may derive it from others)."""
        return keys.get(self.key_name or "")


class FileChatParser(ChatParser):
    """A parser for an export file (WhatsApp chat text, Telegram result.json, ...)."""

    def recognises(self, path: str, head: bytes) -> bool:
        """True when this file is the parser's export; `head` is the first 4096 bytes."""
        raise NotImplementedError

    def parse(self, artefact: Artefact, context: "ParseContext") -> Iterator[Message]:
        raise NotImplementedError


@dataclass
class ParseContext:
    """Everything a parser may touch besides its own artefact, and where its warnings go."""

    artefact: Artefact
    catalog: Catalog
    scratch: Path
    parser_name: str = ""
    keys: Mapping[str, str] = field(default_factory=dict)
    warnings: list[ParseWarning] = field(default_factory=list)
    limits: QueryLimits = field(default_factory=QueryLimits)
    # The row `each` is converting (table, row id), so a parser failure can say where it happened.
    current: tuple[str, int | None] | None = None
    _companions: list[Database] = field(default_factory=list)

    def warn(self, kind: str, message: str, *, table: str | None = None, row_id: int | None = None,
             field: str | None = None, severity: str = "warning") -> None:
        self.warnings.append(ParseWarning(kind=kind, message=message, table=table, row_id=row_id, field=field, severity=severity))

    def each(self, rows: Iterable[sqlite3.Row], table: str, convert: Callable[[sqlite3.Row], Message | None],
             row_id_column: str = "rowid") -> Iterator[Message]:
        """convert() every row; a row that raises one of ROW_ERRORS becomes a warning, the rest go on.

        Rows are sqlite3.Row (named by `row[row_id_column]`) or an export parser's own items (named by
        the attribute of that name).
        """
        for row in rows:
            self.current = (table, _row_id(row, row_id_column))
            try:
                message = convert(row)
            except ROW_ERRORS as error:
                self.warn("bad_row", f"row could not be read: {type(error).__name__}: {error}", table=table, row_id=self.current[1])
                continue
            self.current = None
            if message is not None:
                yield message

    def time(self, value: object, convert: Callable[[object], int], *, table: str, row_id: int | None, field: str) -> int | None:
        """A converted time, or None (with a warning) when the stored value is out of range or not a time.

        Null, 0 and '' mean "not recorded" in every store seen, so they give None without a warning.
        """
        if value is None or value == 0 or value == "":
            return None
        try:
            return convert(value)
        except (ValueError, TypeError, ArithmeticError) as error:
            self.warn("bad_time", f"{value!r} is not a valid time: {error}", table=table, row_id=row_id, field=field)
            return None

    def json_value(self, raw: object, *, table: str, row_id: int | None, field: str) -> object:
        """A JSON column's value; None for an empty column, or (with a `bad_json` warning) for text that is not JSON."""
        if raw is None or raw == "":
            return None
        try:
            return json.loads(raw)  # type: ignore[arg-type]
        except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as error:
            self.warn("bad_json", f"{field}: {error}", table=table, row_id=row_id, field=field)
            return None

    def utc_offset(self, key: str, table: str) -> int | None:
        """An examiner-supplied UTC offset in seconds for local-time exports (`--app-key KEY=+02:00`), or None.

        A malformed value is a `bad_offset` warning and the times stay local.
        """
        value = self.keys.get(key)
        if value is None:
            return None
        if value.strip().upper() in ("Z", "UTC", "GMT", "+00:00"):
            return 0
        match = _OFFSET.match(value.strip())
        if match is None:
            self.warn("bad_offset", f"{key}={value!r} is not an offset like +02:00; times are left local", table=table)
            return None
        seconds = int(match["h"]) * 3600 + int(match["m"] or 0) * 60
        return -seconds if match["sign"] == "-" else seconds

    def local_time(self, local: datetime | None, offset: int | None, key: str, details: dict[str, str], *,
                   table: str, row_id: int | None, field: str) -> int | None:
        """A local-time stamp of an export: kept in `details` as read; UTC only with the supplied offset."""
        if local is None:
            return None
        details["local_time"] = local.isoformat()
        if offset is None:
            return None
        details["utc_offset_supplied"] = self.keys[key]
        seconds = calendar.timegm(local.timetuple()) - offset
        return self.time(seconds, unix_seconds, table=table, row_id=row_id, field=field)

    def companion(self, pattern: str) -> Database | None:
        """Open a copy of the nearest database matching `pattern` (a contacts store); None when absent.

        A companion that is present but unreadable is a warning: names will be missing, and why is recorded.
        """
        for candidate in self.catalog.find(pattern, near=self.artefact):
            if candidate.path_bytes == self.artefact.path_bytes:
                continue
            target = self.scratch / f"companion-{len(self._companions)}"
            try:
                database = open_copy(candidate, self.catalog, target, self.limits)
            except (NotSQLiteError, sqlite3.DatabaseError, OSError, QueryBudgetExceeded) as error:
                self.warn("companion_unreadable", f"{candidate.path}: {error}; names from it are missing")
                continue
            self._companions.append(database)
            return database
        return None

    def close(self) -> None:
        for database in self._companions:
            database.close()
        self._companions.clear()
