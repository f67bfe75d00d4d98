"""The correlation table as text for a terminal, CSV, JSON or Parquet, streamed from the connection.

Text and CSV show every evidence string escaped (manifests.text.display) and CSV cells neutralised
against formula injection; JSON (ASCII, `\\u` escapes) and Parquet keep the exact values.
"""

from __future__ import annotations

import csv
import io
import json
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from case.correlate import CORRELATIONS, Correlation, Link
from case.times import iso_utc
from manifests.text import csv_cell, display

FORMATS: tuple[str, ...] = ("table", "csv", "json", "parquet")
HEADER: tuple[str, ...] = tuple(CORRELATIONS.column_names())


def _time(ns: int | None) -> str:
    return "" if ns is None else iso_utc(ns)


def _shown(link: Link) -> list[str]:
    return [display(link.link_kind), display(link.value), str(link.exhibit_count),
            ", ".join(display(e) for e in link.exhibits), str(link.occurrences),
            _time(link.first_seen_ns), _time(link.last_seen_ns)]


def write_table(correlation: Correlation, out: BinaryIO) -> None:
    """One line per link, cells separated by ' | ', every string escaped."""
    out.write((" | ".join(HEADER) + "\n").encode())
    for link in correlation.links():
        out.write((" | ".join(cell or "-" for cell in _shown(link)) + "\n").encode("utf-8"))


def write_csv(correlation: Correlation, out: BinaryIO) -> None:
    """CSV with a header; exhibits as one cell, ids escaped and joined by ', '."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for link in correlation.links():
        writer.writerow([csv_cell(cell) for cell in _shown(link)])
        if buffer.tell() > 1 << 20:
            out.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    out.write(buffer.getvalue().encode("utf-8"))


def link_object(link: Link) -> dict[str, object]:
    return {"link_kind": link.link_kind, "value": link.value, "exhibit_count": link.exhibit_count,
            "exhibits": list(link.exhibits), "occurrences": link.occurrences,
            "first_seen_time": None if link.first_seen_ns is None else iso_utc(link.first_seen_ns),
            "last_seen_time": None if link.last_seen_ns is None else iso_utc(link.last_seen_ns)}


def write_json(correlation: Correlation, out: BinaryIO) -> None:
    """A JSON array of objects in rank order, ASCII only (every other character as a \\u escape)."""
    out.write(b"[")
    first = True
    for link in correlation.links():
        out.write(b"\n" if first else b",\n")
        out.write(json.dumps(link_object(link), ensure_ascii=True).encode("ascii"))
        first = False
    out.write(b"]\n" if first else b"\n]\n")


def write_parquet(correlation: Correlation, out: BinaryIO) -> None:
    """Parquet in the CORRELATIONS schema (times timestamp[ns, UTC]), written batch by batch."""
    schema = CORRELATIONS.arrow_schema()
    with pq.ParquetWriter(out, schema) as writer:
        for batch in correlation.arrow_batches():
            table = pa.Table.from_batches([batch]).rename_columns(list(HEADER))
            writer.write_table(table.cast(schema))


WRITERS = {"table": write_table, "csv": write_csv, "json": write_json, "parquet": write_parquet}


def write(correlation: Correlation, output_format: str, out: BinaryIO) -> None:
    WRITERS[output_format](correlation, out)
