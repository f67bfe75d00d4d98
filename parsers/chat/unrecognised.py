"""Is a SQLite database no parser read shaped like a message store? Then say so, never stay silent.

A table is message-like when either
- its name (lowercased, a Core Data `Z` prefix dropped) contains `message`, `chat`, `conversation`
  or `thread`, and it holds at least one row; or
- it has a body column (its name begins with the word `body`, `text`, `message` or `msg`, as in
  `body`, `ZTEXT`, `message_text`, `body_xml`; no word of it names an id, count, type, status or
  link; its declared type has SQLite's TEXT affinity or none), a different time-like column (the
  name holds `date`, `time` or `stamp`, is `ts`, ends in `_ts` or `_at`, or the declared type holds
  `DATE` or `TIME`), at least `MANY_ROWS` (10) rows, and a name that is not a log's (no word `log`,
  `logs`, `event`, `events`, `analytics`, `crash`, `telemetry`, `metrics`, `trace`).

It is bounded: only the schema is read, plus for each table that passes the schema test one
`SELECT count(*) FROM (SELECT 1 FROM t LIMIT MANY_ROWS)` under the database's query budget (never
a full count), for at most `MAX_PROBED_TABLES` tables. A probe SQLite cannot finish (a malformed
page) leaves the table message-like: the failure is written beside it rather than hidden.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from manifests.records import ParseWarning
from parsers.sqlite_store import Database, QueryBudgetExceeded

MANY_ROWS = 10
MAX_PROBED_TABLES = 64
MAX_LISTED_TABLES = 100
NAME_STEMS = ("message", "chat", "conversation", "thread")
BODY_WORDS = frozenset({"body", "text", "message", "msg"})
NOT_BODY_WORDS = frozenset({"id", "ids", "uid", "guid", "key", "type", "count", "status", "hash", "url", "uri", "path",
                            "size", "flags", "len", "length", "index", "number"})
LOG_WORDS = frozenset({"log", "logs", "event", "events", "analytics", "crash", "telemetry", "metrics", "trace"})
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@dataclass(frozen=True)
class Reason:
    table: str
    why: str


def _bare(name: str, core_data: bool) -> str:
    """The name without Core Data's `Z` prefix (ZWAMESSAGE -> wamessage), lowercased."""
    return (name[1:] if core_data and name[:1] in ("z", "Z") and not name.lower().startswith("z_") else name).lower()


def _words(name: str) -> list[str]:
    return [w.lower() for part in name.split("_") for w in _WORDS.findall(part)]


def _is_time_like(column: str, declared: str) -> bool:
    lowered = column.lower()
    return (any(s in lowered for s in ("date", "time", "stamp")) or lowered == "ts" or lowered.endswith(("_ts", "_at"))
            or any(s in declared.upper() for s in ("DATE", "TIME")))


def _has_text_affinity(declared: str) -> bool:
    """SQLite's affinity rules: INT first, then CHAR/CLOB/TEXT; an undeclared type can hold text too."""
    upper = declared.upper()
    return upper == "" or ("INT" not in upper and any(s in upper for s in ("CHAR", "CLOB", "TEXT")))


def _is_body_name(column: str, core_data: bool) -> bool:
    words = _words(column) if not core_data else [_bare(column, True)]
    return bool(words) and words[0] in BODY_WORDS and not NOT_BODY_WORDS.intersection(words) and not _is_time_like(_bare(column, core_data), "")


def _columns(database: Database, table: str) -> list[tuple[str, str]]:
    return [(str(r[0]), str(r[1] or "")) for r in database.query("SELECT name, type FROM pragma_table_info(?)", (table,))]


def _schema_reason(database: Database, table: str) -> tuple[str, bool] | None:
    """Why `table`'s schema looks like a message table, and whether it needs MANY_ROWS (else one row)."""
    core_data = table[:1] in ("z", "Z") and database.has("z_primarykey")
    if core_data and table.lower().startswith("z_"):
        return None  # Core Data's own bookkeeping and many-to-many join tables
    bare = _bare(table, core_data)
    if any(stem in bare for stem in NAME_STEMS):
        return "named like a message table", False
    if LOG_WORDS.intersection(_words(table)):
        return None
    if not any(word in column for column in database.tables.get(table.lower(), ()) for word in BODY_WORDS):
        return None  # no column could be a body (the schema's names are lowercased): the declared types need not be read
    columns = _columns(database, table)
    bodies = [c for c, t in columns if _is_body_name(c, core_data) and _has_text_affinity(t)]
    times = [c for c, t in columns if _is_time_like(_bare(c, core_data), t) and c not in bodies]
    if bodies and times:
        return f"text column {bodies[0]}, time column {times[0]}", True
    return None


def _rows_at_least(database: Database, table: str, wanted: int) -> str | None:
    """A capped row count: '1 row', 'at least 10 rows', or None when the table holds fewer than `wanted`."""
    quoted = '"' + table.replace('"', '""') + '"'
    row = database.first(f"SELECT count(*) FROM (SELECT 1 FROM {quoted} LIMIT ?)", (MANY_ROWS,))
    count = int(row[0]) if row is not None else 0
    if count < wanted:
        return None
    return f"at least {MANY_ROWS} rows" if count >= MANY_ROWS else f"{count} row" + ("" if count == 1 else "s")


def _real_tables(database: Database) -> list[str]:
    """Tables (not views: a hostile view could be made endless), as the schema spells them, SQLite's own left out."""
    rows = database.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
    return [str(r[0]) for r in rows]


def message_like_tables(database: Database) -> tuple[list[Reason], int]:
    """The message-like tables, and how many more passed the schema test but were not counted (the probe limit)."""
    found: list[Reason] = []
    probed = 0
    skipped = 0
    for table in _real_tables(database):
        reason = _schema_reason(database, table)
        if reason is None:
            continue
        if probed >= MAX_PROBED_TABLES:
            skipped += 1
            continue
        probed += 1
        why, needs_many = reason
        try:
            rows = _rows_at_least(database, table, MANY_ROWS if needs_many else 1)
        except sqlite3.DatabaseError as error:
            found.append(Reason(table, f"{why}, rows unreadable ({type(error).__name__}: {error})"))
            continue
        if rows is not None:
            found.append(Reason(table, f"{why}, {rows}"))
    return found, skipped


def unrecognised_warning(database: Database) -> ParseWarning | None:
    """One `chat_store_unrecognised` warning for a message-like database no parser read, else None.

    An exhausted query budget is a `query_budget_exceeded` warning instead: the probe could not say.
    """
    path = database.artefact.path
    try:
        found, skipped = message_like_tables(database)
    except QueryBudgetExceeded as error:
        return ParseWarning("query_budget_exceeded", f"{path}: no chat parser reads it, and whether it looks like a message store "
                                                     f"could not be told within the query budget: {error}")
    if not found and not skipped:
        return None
    names = sorted(database.tables)
    listed = ", ".join(names[:MAX_LISTED_TABLES]) + (f" and {len(names) - MAX_LISTED_TABLES} more" if len(names) > MAX_LISTED_TABLES else "")
    like = "; ".join(f"{r.table} ({r.why})" for r in found)
    more = f"; {skipped} more tables shaped like message tables not counted (limit {MAX_PROBED_TABLES})" if skipped else ""
    return ParseWarning("chat_store_unrecognised",
                        f"{path}: looks like a message store but no chat parser reads it (schema fingerprint {database.fingerprint()}; "
                        f"message-like tables: {like or 'none counted'}{more}; tables: {listed})",
                        table=found[0].table if found else None)
