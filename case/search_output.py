"""Search hits as a terminal table, CSV or JSON, streamed (one hit at a time) and, to a file, written atomically.

Every evidence string in a hit is already escaped for display (case/search.py); CSV cells also go through
`csv_cell()`, so no hit can start a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import IO, Iterable

from case.search import HIT_COLUMNS, Hit, SearchReport
from manifests.files import atomic_output
from manifests.text import csv_cell, display

FORMATS = ("table", "csv", "json")


def where(hit: Hit) -> str:
    """The provenance that opens the hit: the file, the store row, the table's own index."""
    parts = [display(hit.get("path")) or "(no path)"]
    if hit.get("store_table") is not None or hit.get("store_row_id") is not None:
        parts.append(f"{display(hit.get('store_table')) or '?'}#{hit.get('store_row_id') if hit.get('store_row_id') is not None else '?'}")
    for name in ("message_index", "media_index"):
        if hit.get(name) is not None:
            parts.append(f"{name} {hit.get(name)}")
    if len(parts) == 1 and hit.get("entry_index") is not None:
        parts.append(f"entry_index {hit.get('entry_index')}")
    return " ".join(parts)


def table_line(hit: Hit) -> str:
    when = hit.as_dict()["time"]
    shown = f"{when[:10]} {when[11:19]}Z" if when else "(no time)"
    return f"{display(hit.exhibit_id)}  {hit.table}.{hit.field}  {shown}  {display(hit.term)}  {hit.before}[{hit.match}]{hit.after}  ({where(hit)})"


def write_hits(hits: Iterable[Hit], output_format: str, output: Path | IO[str], report: SearchReport, hit_budget: int, field_budget: int) -> None:
    """Write every hit; JSON also carries the report's lines (`notes`) and whether the search is `complete`
    (false when the hit budget stopped it or a part, table or field could not be read or searched)."""
    if isinstance(output, Path):
        with atomic_output(output) as raw:  # whole or not at all
            handle = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            _write(hits, output_format, handle, report, hit_budget, field_budget)
            handle.flush()
            handle.detach()
    else:
        _write(hits, output_format, output, report, hit_budget, field_budget)


def _write(hits: Iterable[Hit], output_format: str, handle: IO[str], report: SearchReport, hit_budget: int, field_budget: int) -> None:
    if output_format == "table":
        handle.write("exhibit  table.field  time  term  context  (where)\n")
        for hit in hits:
            handle.write(table_line(hit) + "\n")
    elif output_format == "csv":
        writer = csv.writer(handle)
        writer.writerow(HIT_COLUMNS)
        for hit in hits:
            writer.writerow(["" if value is None else csv_cell(value) if isinstance(value, str) else str(value) for value in hit.as_dict().values()])
    elif output_format == "json":
        handle.write('{"hits": [')
        for index, hit in enumerate(hits):
            handle.write(("\n" if index == 0 else ",\n") + json.dumps(hit.as_dict(), ensure_ascii=False, sort_keys=False))
        notes = report.lines(hit_budget, field_budget)
        handle.write(f'\n], "complete": {json.dumps(report.complete)}, "notes": {json.dumps(notes, ensure_ascii=False)}}}\n')
    else:
        raise ValueError(f"unknown format {output_format!r}")
