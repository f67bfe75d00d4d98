"""Every time in the case in one sorted stream: file times, message times, photo and video times,
custody events.

Works on an open DuckDB connection whose views cover the case (case/views.py). One fixed SQL text
per source and event (UNION ALL) gives, for every non-null time, the time as integer nanoseconds
and where it came from; DuckDB sorts (spilling to disk when it must) and the rows are fetched in
batches, so Python never holds the case. A time stored at the int64 limits (which DuckDB reads as
+-infinity) keeps its stored value (case/times.py `epoch_ns_sql`). Order: time, then exhibit id, then source (artefacts,
media, messages, custody), then the row's index in its table (entry_index, media_index,
message_index, event_index), then the event's place in the source's list below: the same case
always gives the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import duckdb

from case.relations import bound, exhibit_filter, has_columns, missing_note
from case.times import epoch_ns_sql
from manifests.text import display, display_message

BATCH_ROWS = 10_000
MAX_BODY_CHARS = 1000

@dataclass(frozen=True)
class Source:
    """One table's events: its sort rank, the SQL (fixed text) of its provenance columns and of the six
    fields its message is made of, its (time column, timestamp_desc) pairs and the columns it needs."""

    name: str
    rank: int
    row_index: str
    path: str
    entry_index: str
    store_table: str
    store_row_id: str
    fields: tuple[str, str, str, str, str, str]
    events: tuple[tuple[str, str], ...]
    required: tuple[str, ...]


_NULL_TEXT = "CAST(NULL AS VARCHAR)"
_NULL_INT = "CAST(NULL AS BIGINT)"

SOURCES: tuple[Source, ...] = (
    Source("artefacts", 0, "entry_index", "path", "entry_index", _NULL_TEXT, _NULL_INT,
           ("path", "CASE WHEN is_deleted THEN 'deleted' END", "entry_type", _NULL_TEXT, _NULL_TEXT, _NULL_TEXT),
           (("created_time", "File created"), ("modified_time", "File modified"), ("accessed_time", "File accessed"),
            ("changed_time", "File metadata changed"), ("deleted_time", "File deleted")),
           ("entry_index", "path", "is_deleted", "entry_type")),
    Source("media", 1, "media_index", "path", "entry_index", _NULL_TEXT, _NULL_INT,
           ("path", "make", "model", "CAST(latitude AS VARCHAR)", "CAST(longitude AS VARCHAR)", "container_format"),
           (("capture_time", "Media captured"), ("digitized_time", "Media digitized"),
            ("metadata_modified_time", "Media metadata modified"), ("gps_time", "Media GPS time")),
           ("media_index", "path", "entry_index", "make", "model", "latitude", "longitude", "container_format")),
    Source("messages", 2, "message_index", "path", "entry_index", "store_table", "store_row_id",
           ("app", "direction", "coalesce(sender_name, sender_id)", "coalesce(conversation_title, conversation_id)",
            f"left(body, {MAX_BODY_CHARS + 1})", "message_kind"),
           (("sent_time", "Message sent"), ("received_time", "Message received"), ("read_time", "Message read"),
            ("edited_time", "Message edited"), ("deleted_time", "Message deleted")),
           ("message_index", "path", "entry_index", "store_table", "store_row_id", "app", "direction", "sender_name",
            "sender_id", "conversation_title", "conversation_id", "body", "message_kind")),
    Source("custody", 3, "event_index", _NULL_TEXT, _NULL_INT, _NULL_TEXT, _NULL_INT,
           ("action", "actor_name", "from_party", "to_party", "notes", "location"),
           (("occurred_time", "Custody event"),),
           ("event_index", "action", "actor_name", "from_party", "to_party", "notes", "location")),
)
KINDS: tuple[str, ...] = tuple(source.name for source in SOURCES)


@dataclass(frozen=True)
class TimelineFilter:
    """Which events: exhibits (None: all), a time range in ns since 1970 UTC (inclusive), sources."""

    exhibits: list[str] | None = None
    since_ns: int | None = None
    until_ns: int | None = None
    kinds: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.kinds or ()) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown timeline kind(s): {', '.join(unknown)} (known: {', '.join(KINDS)})")
        if self.since_ns is not None and self.until_ns is not None and self.since_ns > self.until_ns:
            raise ValueError("--since is after --until")


@dataclass(frozen=True)
class Event:
    """One time of one row, with its provenance."""

    time_ns: int
    timestamp_desc: str
    table: str
    exhibit_id: str
    row_index: int | None
    path: str | None
    entry_index: int | None
    store_table: str | None
    store_row_id: int | None
    message: str


def _range(expression: str, flt: TimelineFilter) -> str:
    conditions = []
    if flt.since_ns is not None:
        conditions.append(f"{expression} >= $since_ns")
    if flt.until_ns is not None:
        conditions.append(f"{expression} <= $until_ns")
    return " AND ".join(conditions) or "TRUE"


def available_sources(con: duckdb.DuckDBPyConnection) -> list[Source]:
    """Sources whose view exists with every column the timeline reads."""
    return [s for s in SOURCES if has_columns(con, s.name, ("exhibit_id", *s.required, *(c for c, _ in s.events)))]


def unread_notes(con: duckdb.DuckDBPyConnection, flt: TimelineFilter, body: bool = False) -> list[str]:
    """Sentences for standard error naming each asked-for source that cannot be read, and why."""
    if body:
        note = missing_note(con, "artefacts", BODY_COLUMNS, "body file")
        return [note] if note else []
    notes = []
    for source in SOURCES:
        if flt.kinds is None or source.name in flt.kinds:
            columns = ("exhibit_id", *source.required, *(c for c, _ in source.events))
            note = missing_note(con, source.name, tuple(dict.fromkeys(columns)), f"{source.name} times")
            if note:
                notes.append(note)
    return notes


def _events_sql(sources: list[Source], flt: TimelineFilter) -> str:
    branches = []
    for source in sources:
        for event_rank, (column, description) in enumerate(source.events):
            time = epoch_ns_sql(column)
            branches.append(f"""
            SELECT {time} AS time_ns, '{description}' AS timestamp_desc, '{source.name}' AS "table", exhibit_id,
                   {source.rank} AS source_rank, CAST({source.row_index} AS BIGINT) AS row_index, {event_rank} AS event_rank,
                   CAST({source.path} AS VARCHAR) AS path, CAST({source.entry_index} AS BIGINT) AS entry_index,
                   CAST({source.store_table} AS VARCHAR) AS store_table, CAST({source.store_row_id} AS BIGINT) AS store_row_id,
                   {', '.join(f'CAST({field} AS VARCHAR) AS f{i}' for i, field in enumerate(source.fields))}
            FROM {source.name}
            WHERE {column} IS NOT NULL AND {exhibit_filter(flt.exhibits)} AND {_range(time, flt)}""")
    return (" UNION ALL ".join(branches)
            + "\nORDER BY time_ns, exhibit_id, source_rank, row_index, event_rank")


def _params(flt: TimelineFilter) -> dict[str, object]:
    return {"exhibits": flt.exhibits, "since_ns": flt.since_ns, "until_ns": flt.until_ns}


def _body_text(body: str | None) -> str | None:
    if body is None:
        return None
    if len(body) > MAX_BODY_CHARS:
        return display(body[:MAX_BODY_CHARS]) + " [...]"
    return display(body)


def event_message(table: str, fields: tuple[str | None, ...]) -> str:
    """The one-line description of an event; every evidence string escaped (stored paths already are)."""
    f0, f1, f2, f3, f4, f5 = fields
    if table == "artefacts":
        return display_message(f0 or "") + (" (deleted)" if f1 == "deleted" else "")
    if table == "media":
        text = display_message(f0 or "")
        camera = " ".join(display(v) for v in (f1, f2) if v)
        if camera:
            text += f" ({camera})"
        if f3 is not None and f4 is not None:
            text += f" at {f3}, {f4}"
        return text
    if table == "messages":
        parts = [display(f0), display(f5), display(f1)]
        text = " ".join(p for p in parts if p)
        if f2:
            text += f" from {display(f2)}"
        if f3:
            text += f" in {display(f3)}"
        body = _body_text(f4)
        return text + (f": {body}" if body else "")
    text = f"{display(f0)} by {display(f1)}"
    if f2 or f3:
        text += f" ({display(f2) or '?'} -> {display(f3) or '?'})"
    if f5:
        text += f" at {display(f5)}"
    if f4:
        text += f": {display(f4)}"
    return text


def events(con: duckdb.DuckDBPyConnection, flt: TimelineFilter) -> Iterator[Event]:
    """The case's events in order, fetched in batches."""
    sources = [s for s in available_sources(con) if flt.kinds is None or s.name in flt.kinds]
    if not sources:
        return
    sql = _events_sql(sources, flt)
    cursor = con.execute(sql, bound(sql, _params(flt)))
    while rows := cursor.fetchmany(BATCH_ROWS):
        for row in rows:
            (time_ns, description, table, exhibit_id, _rank, row_index, _event_rank,
             path, entry_index, store_table, store_row_id, *fields) = row
            yield Event(time_ns, description, table, exhibit_id, row_index, path, entry_index, store_table,
                        store_row_id, event_message(table, tuple(fields)))


@dataclass(frozen=True)
class BodyLine:
    """One artefact's body-file fields (times in ns; None when absent)."""

    exhibit_id: str
    md5: str | None
    path: str | None
    inode: int | None
    entry_type: str | None
    mode: int | None
    uid: int | None
    gid: int | None
    size: int | None
    accessed_ns: int | None
    modified_ns: int | None
    changed_ns: int | None
    created_ns: int | None
    is_deleted: bool | None


BODY_COLUMNS = ("exhibit_id", "md5", "path", "inode", "entry_type", "mode", "uid", "gid", "size", "accessed_time",
                "modified_time", "changed_time", "created_time", "is_deleted", "entry_index")


def body_lines(con: duckdb.DuckDBPyConnection, flt: TimelineFilter) -> Iterator[BodyLine]:
    """Artefacts with at least one of the four body-file times (and, with --since/--until, one of them
    in range), in exhibit id then entry_index order."""
    if flt.kinds is not None and tuple(flt.kinds) != ("artefacts",):
        raise ValueError("a body file holds artefacts only (--kind artefacts, or no --kind)")
    if not has_columns(con, "artefacts", BODY_COLUMNS):
        return
    times = ("accessed_time", "modified_time", "changed_time", "created_time")
    any_time = " OR ".join(f"{t} IS NOT NULL" for t in times)
    in_range = " OR ".join(f"({t} IS NOT NULL AND {_range(epoch_ns_sql(t), flt)})" for t in times)
    sql = f"""
        SELECT exhibit_id, md5, path, inode, entry_type, mode, uid, gid, size,
               {', '.join(epoch_ns_sql(t) for t in ("accessed_time", "modified_time", "changed_time", "created_time"))}, is_deleted
        FROM artefacts
        WHERE ({any_time}) AND ({in_range}) AND {exhibit_filter(flt.exhibits)}
        ORDER BY exhibit_id, entry_index"""
    cursor = con.execute(sql, bound(sql, _params(flt)))
    while rows := cursor.fetchmany(BATCH_ROWS):
        for row in rows:
            yield BodyLine(*row)
