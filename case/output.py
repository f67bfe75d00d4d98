"""A query's rows as a terminal table, CSV, JSON lines or Parquet, written whole or not at all.

Values are turned to text one way in every text format: times as ISO 8601 UTC with as many
fractional digits as their unit holds (`2024-01-02T03:04:05.123456789Z`), binary values as lowercase
hex, lists, structs and maps as JSON, decimals exactly. The table escapes every string for the
terminal (manifests/text.py `display`: control and bidi characters, undecodable bytes, and the
backslash itself, so an already-escaped stored name shows its backslash doubled) and shows at most
TABLE_MAX_ROWS rows. CSV keeps text exact (quoted as CSV requires) but neutralises every cell a
spreadsheet would run as a formula (`csv_cell`), numbers excepted; a null is an empty cell. JSON is
one object per line (JSON lines), ASCII only (every other character as a \\u escape, so it prints
safely and parses back exactly); NaN and infinities are the strings "NaN", "Infinity", "-Infinity".
Parquet keeps the types DuckDB gives; a result holding an INTERVAL or a UNION, which Parquet cannot
store, is refused (QueryError: exit 2) before anything is written.

The output goes to a temporary file first: beside --output, then renamed over it; for standard
output, a temporary file copied out only when the query has run to its end, so a statement that
fails half way never leaves part of an answer.
"""

from __future__ import annotations

import csv
import io
import json
import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from case.outfile import write_whole
from case.query import QueryError, Result
from manifests.text import csv_cell, display

FORMATS = ("table", "csv", "json", "parquet")
TABLE_MAX_ROWS = 10_000
NULL_SHOWN = "\u2014"  # an em dash for a null in the table, as in the reports
_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Written:
    """How many rows the query gave, and how many of them the output holds."""

    rows: int
    shown: int


def _integral_times(kind: pa.DataType) -> pa.DataType:
    """`kind` with every timestamp, time64 and duration replaced by int64: pyarrow cannot give nanoseconds
    as Python values, so they are read as integers and formatted here."""
    if pa.types.is_timestamp(kind) or pa.types.is_time64(kind) or pa.types.is_duration(kind):
        return pa.int64()
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        maker = pa.list_ if pa.types.is_list(kind) else pa.large_list
        return maker(pa.field(kind.value_field.name, _integral_times(kind.value_type)))
    if pa.types.is_fixed_size_list(kind):
        return pa.list_(pa.field(kind.value_field.name, _integral_times(kind.value_type)), kind.list_size)
    if pa.types.is_map(kind):
        return pa.map_(_integral_times(kind.key_type), _integral_times(kind.item_type))
    if pa.types.is_struct(kind):
        return pa.struct([pa.field(f.name, _integral_times(f.type)) for f in kind])
    return kind


def iso_seconds(moment: datetime) -> str:
    """YYYY-MM-DDTHH:MM:SS with a four-digit year (ISO 8601; strftime's %Y gives `999` on Linux)."""
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")


def _time_text(value: int, kind: pa.TimestampType) -> str:
    """ISO 8601 of an epoch count in the type's unit; Z when the type has a zone (the count is then UTC)."""
    per_second = _PER_SECOND[kind.unit]
    seconds, fraction = divmod(value, per_second)
    try:
        moment = _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return f"{value} {kind.unit} since 1970-01-01T00:00:00Z"  # past datetime's years 1-9999
    digits = _DIGITS[kind.unit]
    text = iso_seconds(moment) + (f".{fraction:0{digits}d}" if digits else "")
    return text + ("Z" if kind.tz is not None else "")


def _clock_text(value: int, unit: str) -> str:
    seconds, fraction = divmod(value, _PER_SECOND[unit])
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}" + (f".{fraction:0{_DIGITS[unit]}d}" if _DIGITS[unit] else "")


def plain(value: object, kind: pa.DataType) -> object:
    """A value as JSON can hold it, read with the integer times of `_integral_times`."""
    if value is None:
        return None
    if pa.types.is_dictionary(kind):
        return plain(value, kind.value_type)
    if pa.types.is_timestamp(kind):
        return _time_text(value, kind)
    if pa.types.is_time64(kind):
        return _clock_text(value, kind.unit)
    if pa.types.is_duration(kind):
        return f"{value} {kind.unit}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return [plain(item, kind.value_type) for item in value]
    if pa.types.is_map(kind):
        return _plain_map(value, kind)
    if pa.types.is_struct(kind):
        return {f.name: plain(value.get(f.name), f.type) for f in kind}
    return _plain_scalar(value)


def _plain_map(value: object, kind: pa.MapType) -> object:
    """A map as an object when every key is text, else as a list of {key, value} (JSON keys are strings)."""
    pairs = [(plain(k, kind.key_type), plain(v, kind.item_type)) for k, v in value]
    if all(isinstance(k, str) for k, _ in pairs):
        return dict(pairs)
    return [{"key": k, "value": v} for k, v in pairs]


def _plain_scalar(value: object) -> object:
    """A value of no temporal, binary or nested Arrow type, by its Python type (JSON has no NaN or infinity)."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)  # intervals, UUIDs, anything else: its own text


def columns(batch: pa.RecordBatch) -> list[list[object]]:
    """Each column of the batch as plain values."""
    out = []
    for array in batch.columns:
        readable = array.cast(_integral_times(array.type)) if _integral_times(array.type) != array.type else array
        out.append([plain(v, array.type) for v in readable.to_pylist()])
    return out


def rows(batch: pa.RecordBatch) -> Iterator[list[object]]:
    return (list(row) for row in zip(*columns(batch), strict=True)) if batch.num_columns else iter([[]] * batch.num_rows)


def text(value: object) -> str | None:
    """A plain value as one line of text (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _width(shown: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 0 if unicodedata.combining(ch) else 1 for ch in shown)


def _pad(shown: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(shown))
    return gap + shown if right else shown + gap


def write_table(result: Result, handle: BinaryIO) -> Written:
    """Aligned columns, every string escaped for the terminal; at most TABLE_MAX_ROWS rows (the rest counted)."""
    names = [display(name) for name in result.schema.names]
    right = [_numeric(f.type) for f in result.schema]
    shown_rows: list[list[str]] = []
    total = 0
    for batch in result.batches():
        total += batch.num_rows
        room = TABLE_MAX_ROWS - len(shown_rows)
        if room > 0:
            for row in rows(batch.slice(0, room)):
                shown_rows.append([NULL_SHOWN if v is None else display(text(v)) for v in row])
    widths = [max([_width(n)] + [_width(r[i]) for r in shown_rows]) for i, n in enumerate(names)]
    lines = [" | ".join(_pad(n, w, False) for n, w in zip(names, widths, strict=True)).rstrip(),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(_pad(c, w, r) for c, w, r in zip(row, widths, right, strict=True)).rstrip() for row in shown_rows]
    handle.write(("\n".join(lines) + "\n").encode("utf-8"))
    return Written(total, len(shown_rows))


def write_csv(result: Result, handle: BinaryIO) -> Written:
    """A header row, then one row per result row; formula-like cells get a leading quote (numbers excepted)."""
    wrapper = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(wrapper, lineterminator="\r\n")
    numeric = [_numeric(f.type) for f in result.schema]
    writer.writerow([csv_cell(name) for name in result.schema.names])
    total = 0
    for batch in result.batches():
        for row in rows(batch):
            writer.writerow(["" if v is None else text(v) if is_number else csv_cell(text(v)) for v, is_number in zip(row, numeric, strict=True)])
        total += batch.num_rows
    wrapper.flush()
    wrapper.detach()
    return Written(total, total)


def write_json(result: Result, handle: BinaryIO) -> Written:
    """JSON lines: one object per row, keys the column names (which must differ), ASCII only."""
    names = result.schema.names
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise QueryError(f"the result repeats column name(s) {', '.join(display(n) for n in repeated)}: "
                         "name them apart with AS for JSON output")
    total = 0
    for batch in result.batches():
        for row in rows(batch):
            handle.write(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n")
        total += batch.num_rows
    return Written(total, total)


def _unstorable(kind: pa.DataType) -> str | None:
    """The DuckDB type name of what Parquet cannot hold in `kind` (INTERVAL, UNION), nested or not."""
    if pa.types.is_interval(kind):
        return "INTERVAL"
    if pa.types.is_union(kind):
        return "UNION"
    if pa.types.is_dictionary(kind):
        return _unstorable(kind.value_type)
    if pa.types.is_map(kind):
        return _unstorable(kind.key_type) or _unstorable(kind.item_type)
    if pa.types.is_nested(kind):
        return next((found for found in (_unstorable(kind.field(i).type) for i in range(kind.num_fields)) if found), None)
    return None


def write_parquet(result: Result, handle: BinaryIO) -> Written:
    """The rows with DuckDB's types; a column Parquet cannot hold (INTERVAL, UNION) is refused before anything
    is written, naming the column and a cast that can be stored."""
    for column in result.schema:
        found = _unstorable(column.type)
        if found:
            raise QueryError(f"column {display(column.name)} is (or holds) {found}, which Parquet cannot store: "
                             f"cast it in the SQL (an INTERVAL to VARCHAR, or to seconds with epoch(x); "
                             f"a UNION to VARCHAR), or use --format csv or json")
    writer = pq.ParquetWriter(handle, result.schema, compression="zstd")
    total = 0
    try:
        for batch in result.batches():
            writer.write_batch(batch)
            total += batch.num_rows
    finally:
        writer.close()
    return Written(total, total)


WRITERS = {"table": write_table, "csv": write_csv, "json": write_json, "parquet": write_parquet}


def write(result: Result, output_format: str, output: Path | None, stdout: BinaryIO) -> Written:
    """The rows in `output_format`, to `output` (atomically) or, once complete, to `stdout`."""
    if output_format not in WRITERS:
        raise ValueError(f"unknown format {output_format!r}")
    if output is None and output_format == "parquet":
        raise ValueError("Parquet is written to a file (--output), never to standard output")
    return write_whole(lambda handle: WRITERS[output_format](result, handle), output, stdout)


def inside(output: Path, case_dir: Path) -> bool:
    """True when `output` would land in the case folder: nothing is written into the evidence."""
    target = output.parent.resolve() / output.name
    case = case_dir.resolve()
    return target == case or case in target.parents
