"""The timeline as Timesketch CSV or JSONL, or as a Sleuth Kit body file for mactime, streamed.

Timesketch: `message`, `timestamp` (microseconds since 1970 UTC, rounded down), `datetime` (ISO 8601
UTC with the source's precision), `timestamp_desc`, then provenance: exhibit_id, table, path,
entry_index, store_table, store_row_id, row_index (the row's index in its table). CSV text cells are
neutralised against formula injection; numbers and the ISO time are not (`-86400000000`, a time before
1970, is a number). JSONL is ASCII (other characters as \\u escapes).

Body file (TSK 3 format, one line per artefact): MD5|name|inode|mode_as_string|UID|GID|size|atime|
mtime|ctime|crtime, times in whole Unix seconds (rounded down; 0 when absent, as mactime expects),
name `EXHIBIT:PATH` with ` (deleted)` after a deleted entry as fls writes it, and `|` in a name
written `\\x7c` so no name can add a field.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import BinaryIO, Iterable

import duckdb

from case.outfile import write_whole
from case.timeline import BodyLine, Event, TimelineFilter, body_lines, events
from case.times import NS_PER_SECOND, iso_utc
from manifests.text import csv_cell, display, display_message

FORMATS: tuple[str, ...] = ("csv", "jsonl", "body")
TIMESKETCH_HEADER: tuple[str, ...] = ("message", "timestamp", "datetime", "timestamp_desc", "exhibit_id", "table", "path",
                                      "entry_index", "store_table", "store_row_id", "row_index")


def timesketch_record(event: Event) -> dict[str, object]:
    return {
        "message": event.message, "timestamp": event.time_ns // 1000, "datetime": iso_utc(event.time_ns),
        "timestamp_desc": event.timestamp_desc, "exhibit_id": event.exhibit_id, "table": event.table,
        "path": event.path, "entry_index": event.entry_index, "store_table": event.store_table,
        "store_row_id": event.store_row_id, "row_index": event.row_index,
    }


def _csv_value(name: str, value: object) -> str:
    """One cell: free text (message, path, ids, names) neutralised against formulas; the numbers and the
    ISO time this code formats are written as they are (a time before 1970 is a negative number, not a formula)."""
    if value is None:
        return ""
    if isinstance(value, int) or name == "datetime":
        return str(value)
    if name == "exhibit_id" or name == "store_table":
        return csv_cell(display(str(value)) or "")
    if name == "path":
        return csv_cell(display_message(str(value)))
    return csv_cell(str(value))


def write_csv(events: Iterable[Event], out: BinaryIO) -> int:
    """Timesketch CSV; returns the number of events written."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    try:
        writer = csv.writer(text)
        writer.writerow(TIMESKETCH_HEADER)
        count = 0
        for event in events:
            record = timesketch_record(event)
            writer.writerow([_csv_value(name, record[name]) for name in TIMESKETCH_HEADER])
            count += 1
        text.flush()
    finally:
        text.detach()
    return count


def write_jsonl(events: Iterable[Event], out: BinaryIO) -> int:
    """Timesketch JSONL, one object a line; returns the number of events written."""
    count = 0
    for event in events:
        out.write(json.dumps(timesketch_record(event), ensure_ascii=True).encode("ascii") + b"\n")
        count += 1
    return count


_TYPE_LETTER = {
    "file": "r", "data_stream": "r", "directory": "d", "symlink": "l", "char_device": "c", "block_device": "b",
    "fifo": "p", "socket": "s", "whiteout": "w", "shadow": "h", "virtual": "v", "virtual_directory": "V",
}


def mode_string(entry_type: str | None, mode: int | None) -> str:
    """fls's mode_as_string: name type '/' meta type and the nine permission letters (set-id, sticky shown)."""
    letter = _TYPE_LETTER.get(entry_type or "", "-")
    if mode is None:
        return f"{letter}/{letter}---------"
    chars = []
    for shift, special, special_letter in ((6, 0o4000, "s"), (3, 0o2000, "s"), (0, 0o1000, "t")):
        bits = (mode >> shift) & 7
        chars.append("r" if bits & 4 else "-")
        chars.append("w" if bits & 2 else "-")
        execute = bool(bits & 1)
        if mode & special:
            chars.append(special_letter if execute else special_letter.upper())
        else:
            chars.append("x" if execute else "-")
    return f"{letter}/{letter}{''.join(chars)}"


def _seconds(ns: int | None) -> str:
    return "0" if ns is None else str(ns // NS_PER_SECOND)


def _number(value: int | None) -> str:
    return "0" if value is None else str(value)


def body_line(line: BodyLine) -> str:
    name = f"{display(line.exhibit_id)}:{display_message(line.path or '')}"
    if line.is_deleted:
        name += " (deleted)"
    name = name.replace("|", "\\x7c")
    return "|".join((
        line.md5 or "0", name, _number(line.inode), mode_string(line.entry_type, line.mode), _number(line.uid),
        _number(line.gid), _number(line.size), _seconds(line.accessed_ns), _seconds(line.modified_ns),
        _seconds(line.changed_ns), _seconds(line.created_ns),
    ))


def write_body(lines: Iterable[BodyLine], out: BinaryIO) -> int:
    """A mactime body file; returns the number of lines written."""
    count = 0
    for line in lines:
        out.write(body_line(line).encode("utf-8") + b"\n")
        count += 1
    return count


def _produce(con: duckdb.DuckDBPyConnection, flt: TimelineFilter, output_format: str, handle: BinaryIO) -> int:
    if output_format == "body":
        return write_body(body_lines(con, flt), handle)
    if output_format == "jsonl":
        return write_jsonl(events(con, flt), handle)
    if output_format == "csv":
        return write_csv(events(con, flt), handle)
    raise ValueError(f"unknown timeline format {output_format!r}")


def write(con: duckdb.DuckDBPyConnection, flt: TimelineFilter, output_format: str, output: Path | None,
          stdout: BinaryIO) -> int:
    """The timeline to `output` (whole or not at all) or, once complete, to `stdout` (spooled in a
    temporary file meanwhile, so a run that fails half way prints nothing); the number of lines written."""
    return write_whole(lambda handle: _produce(con, flt, output_format, handle), output, stdout)
