"""Conversations from messages.parquet in a readable form, for `exhibit chats`.

Messages are grouped by conversation and shown in time order. Every evidence string is escaped for
display (control and bidi characters, undecodable bytes), so a hostile message cannot move the cursor
or reorder a line on the examiner's terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from manifests.text import display

# Columns read, by the names of issue 11; a file written before the rename has them under the old names.
COLUMNS = ("exhibit_id", "message_index", "app", "conversation_id", "conversation_title", "sender_id", "sender_name", "recipients",
           "direction", "sent_time", "received_time", "body", "message_kind", "attachments", "record_state", "path", "store_table",
           "store_row_id", "parser")
_OLD_NAMES = {"sent_time": "sent", "received_time": "received", "message_kind": "kind", "path": "source_path",
              "store_table": "source_table", "store_row_id": "source_row_id"}


@dataclass(frozen=True)
class ChatFilter:
    app: str | None = None  # case-insensitive substring of the app name or exact parser name
    grep: str | None = None  # case-insensitive substring of the body
    since_ns: int | None = None  # the message's time (sent, else received) at or after this, in ns since the epoch
    until_ns: int | None = None  # ... at or before this
    matches: Callable[[dict], bool] | None = None  # a test of one message row (terms and regexes; case/search.py builds it)


def _read(exhibit_folder: Path, columns: tuple[str, ...]) -> pa.Table:
    """The columns under their new names, whichever names the file uses."""
    path = exhibit_folder / "messages.parquet"
    present = set(pq.read_schema(path).names)
    stored = [name if name in present or name not in _OLD_NAMES else _OLD_NAMES[name] for name in columns]
    table = pq.read_table(path, columns=stored)
    return table.rename_columns(list(columns))


def app_matches(wanted: str, app: str | None, parser: str | None) -> bool:
    return (app is not None and wanted.lower() in app.lower()) or parser == wanted


def apps(exhibit_folder: Path) -> set[tuple[str, str]]:
    """(app, parser) pairs of an exhibit's messages."""
    table = _read(exhibit_folder, ("app", "parser")).group_by(["app", "parser"]).aggregate([])
    return {(row["app"], row["parser"]) for row in table.to_pylist()}


def _time_ns(table: pa.Table) -> pa.ChunkedArray:
    # Nanosecond times (Apple's) do not fit a datetime: read them as integers.
    return pc.coalesce(table["sent_time"].cast(pa.int64()), table["received_time"].cast(pa.int64()))


def read_messages(exhibit_folder: Path, chat_filter: ChatFilter) -> pa.Table:
    table = _read(exhibit_folder, COLUMNS)
    if chat_filter.app:
        wanted = chat_filter.app.lower()
        mask = pc.or_(pc.fill_null(pc.match_substring(pc.utf8_lower(table["app"]), wanted), False), pc.equal(table["parser"], chat_filter.app))
        table = table.filter(mask)
    if chat_filter.grep:
        table = table.filter(pc.fill_null(pc.match_substring(table["body"], chat_filter.grep, ignore_case=True), False))
    if chat_filter.since_ns is not None:
        table = table.filter(pc.fill_null(pc.greater_equal(_time_ns(table), chat_filter.since_ns), False))
    if chat_filter.until_ns is not None:
        table = table.filter(pc.fill_null(pc.less_equal(_time_ns(table), chat_filter.until_ns), False))
    if chat_filter.matches is not None:
        fields = table.select(["body", "sender_name", "sender_id", "conversation_title", "recipients"])
        table = table.filter(pa.array([chat_filter.matches(row) for row in fields.to_pylist()], pa.bool_()))
    return table


def _time(nanoseconds: int | None) -> str:
    if nanoseconds is None:
        return "(no time)".ljust(20)
    moment = datetime.fromtimestamp(nanoseconds // 1_000_000_000, tz=timezone.utc)
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} {moment:%H:%M:%S}Z"  # %Y would give `999` before year 1000


def _who(row: dict) -> str:
    if row["direction"] == "outgoing":
        return "me" if not row["sender_id"] else f"me ({display(row['sender_id'])})"
    name, ident = row["sender_name"], row["sender_id"]
    if name and ident:
        return f"{display(name)} <{display(ident)}>"
    return display(name or ident) or "(unknown sender)"


def conversations(table: pa.Table) -> list[list[dict]]:
    """One list per conversation (exhibit, app, database, conversation id), in the order each first appears in
    the stored order; its messages in time order (sent, else received; no time last), stored order breaking ties."""
    # The stored times leave as integers only: a nanosecond timestamp (Apple's Core Data dates) has no datetime.
    table = table.append_column("time_ns", _time_ns(table)).drop_columns(["sent_time", "received_time"])
    groups: dict[tuple, list[dict]] = {}
    for row in table.to_pylist():
        groups.setdefault((row["exhibit_id"], row["app"], row["path"], row["conversation_id"]), []).append(row)
    return [sorted(rows, key=lambda r: (r["time_ns"] is None, r["time_ns"] or 0, r["message_index"])) for rows in groups.values()]


def _header(rows: list[dict]) -> str:
    first = rows[0]
    title = next((r["conversation_title"] for r in rows if r["conversation_title"]), None)
    shown_title = f" \"{display(title)}\"" if title else ""
    times = [r["time_ns"] for r in rows if r["time_ns"] is not None]
    span = f"{_time(min(times))} to {_time(max(times))}" if times else "no times"
    count = f"{len(rows)} message{'' if len(rows) == 1 else 's'}"
    return (f"== {display(first['exhibit_id'])} | {display(first['app'])} | conversation {display(first['conversation_id']) or '(none)'}{shown_title}"
            f" | {count}, {span} | {display(first['path'])}")


def render(table: pa.Table) -> Iterator[str]:
    """One block per conversation: a header (app, conversation id and title, message count, first and last
    time, database), then one line per message in time order."""
    for rows in conversations(table):
        yield ""
        yield _header(rows)
        for row in rows:
            yield _line(row)


def _line(row: dict) -> str:
    arrow = "->" if row["direction"] == "outgoing" else ("<-" if row["direction"] == "incoming" else "--")
    body = display(row["body"]) if row["body"] is not None else ""
    extras = []
    if row["message_kind"] != "text":
        extras.append(f"[{display(row['message_kind'])}]")
    for attachment in row["attachments"] or ():
        extras.append(f"[file {display(attachment['file_name'] or attachment['local_path']) or '?'}"
                      + (f" sha256 {attachment['sha256'][:16]}...]" if attachment["sha256"] else "]"))
    if row["record_state"] != "live":
        extras.append(f"[{display(row['record_state'])}]")
    text = " ".join([body] + extras if body else extras)
    return f"{_time(row['time_ns'])} {arrow} {_who(row)}: {text}  ({display(row['store_table'])}#{row['store_row_id']})"
