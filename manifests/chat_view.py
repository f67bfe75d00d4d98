"""Conversations from messages.parquet in a readable form, for `exhibit chats`.

Every evidence string is escaped for display (control and bidi characters, undecodable bytes), so a
hostile message cannot move the cursor or reorder a line on the examiner's terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from manifests.text import display

COLUMNS = ("exhibit_id", "message_index", "app", "conversation_id", "conversation_title", "sender_id", "sender_name", "recipients",
           "direction", "sent_time", "received_time", "body", "message_kind", "attachments", "record_state", "path", "store_table", "store_row_id")


@dataclass(frozen=True)
class ChatFilter:
    app: str | None = None  # case-insensitive substring of the app name or exact parser name
    grep: str | None = None  # case-insensitive substring of the body


def read_messages(exhibit_folder: Path, chat_filter: ChatFilter) -> pa.Table:
    table = pq.read_table(exhibit_folder / "messages.parquet", columns=list(COLUMNS) + ["parser"])
    if chat_filter.app:
        wanted = chat_filter.app.lower()
        mask = pc.or_(pc.match_substring(pc.utf8_lower(table["app"]), wanted), pc.equal(table["parser"], chat_filter.app))
        table = table.filter(mask)
    if chat_filter.grep:
        table = table.filter(pc.fill_null(pc.match_substring(table["body"], chat_filter.grep, ignore_case=True), False))
    return table


def _time(nanoseconds: int | None) -> str:
    if nanoseconds is None:
        return "(no time)".ljust(20)
    return datetime.fromtimestamp(nanoseconds // 1_000_000_000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def _who(row: dict) -> str:
    if row["direction"] == "outgoing":
        return "me" if not row["sender_id"] else f"me ({display(row['sender_id'])})"
    name, ident = row["sender_name"], row["sender_id"]
    if name and ident:
        return f"{display(name)} <{display(ident)}>"
    return display(name or ident) or "(unknown sender)"


def render(table: pa.Table) -> Iterator[str]:
    """Lines grouped by exhibit, app and conversation, in the stored (deterministic) order."""
    current = None
    for name in ("sent_time", "received_time"):
        # Nanosecond times (Apple's) do not fit a datetime: read them as integers.
        table = table.set_column(table.schema.get_field_index(name), name, table[name].cast(pa.int64()))
    for row in table.to_pylist():
        key = (row["exhibit_id"], row["app"], row["path"], row["conversation_id"])
        if key != current:
            current = key
            title = f" \"{display(row['conversation_title'])}\"" if row["conversation_title"] else ""
            yield ""
            yield (f"== {display(row['exhibit_id'])} | {display(row['app'])} | conversation {display(row['conversation_id']) or '(none)'}{title}"
                   f" | {display(row['path'])}")
        arrow = "->" if row["direction"] == "outgoing" else ("<-" if row["direction"] == "incoming" else "--")
        body = display(row["body"]) if row["body"] is not None else ""
        extras = []
        if row["message_kind"] != "text":
            extras.append(f"[{row['message_kind']}]")
        for attachment in row["attachments"] or ():
            extras.append(f"[file {display(attachment['file_name'] or attachment['local_path']) or '?'}"
                          + (f" sha256 {attachment['sha256'][:16]}...]" if attachment["sha256"] else "]"))
        if row["record_state"] != "live":
            extras.append(f"[{row['record_state']}]")
        when = row["sent_time"] if row["sent_time"] is not None else row["received_time"]
        text = " ".join([body] + extras if body else extras)
        yield f"{_time(when)} {arrow} {_who(row)}: {text}  ({row['store_table']}#{row['store_row_id']})"
