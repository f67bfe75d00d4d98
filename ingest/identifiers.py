"""Identifier phase: after the chat and media phases, find identifiers in every message and media
row and write identifiers.parquet.

The rows are read back from the staging folder's messages.parquet and media.parquet in batches
(those parts are finished first), so memory stays flat whatever the number of messages. An id
that every message of a store repeats (the owner's account id, a conversation's id and title, a
sender's or recipient's id) is listed once per store and field, at the first message carrying it;
what a body says is listed at every message that says it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyarrow.parquet as pq

from ingest.config import Config
from ingest.problems import Problems
from manifests.schemas import IDENTIFIERS, MEDIA, MESSAGES
from manifests.writer import ExhibitOutput
from parsers.identifiers.base import ID, SERIAL, TEXT, Context
from parsers.identifiers.registry import extract, versions

BATCH_ROWS = 2048
MAX_SEEN = 100_000  # distinct repeated ids remembered per store; past it the memory starts again (an id may then be listed twice)
_MESSAGE_COLUMNS = ("message_index", "app", "body", "sender_id", "recipients", "conversation_id", "conversation_title", "account_id",
                    "path", "path_bytes", "entry_index", "store_table", "store_row_id")
_MEDIA_COLUMNS = ("media_index", "path", "path_bytes", "entry_index", "body_serial", "lens_serial")
_REPEATED = ("sender_id", "recipients", "conversation_id", "conversation_title", "account_id")  # fields listed once per store
# Extraction is pure code over str; these are what a defect in it could raise on strange text.
_EXTRACT_ERRORS = (ValueError, IndexError, KeyError, TypeError, UnicodeError, RecursionError, OverflowError)


def extractor_metadata() -> dict[str, str]:
    """Extractor names and versions for the Parquet metadata of identifiers.parquet."""
    return {f"exhibit.extractor.{name}": version for name, version in versions().items()}


def write_identifiers(output: ExhibitOutput, metadata: dict[str, str], ids: dict, problems: Problems, config: Config) -> int:
    """identifiers.parquet for the exhibit (empty when [identifiers] enabled is false); returns the row count."""
    table = output.open_table(IDENTIFIERS, {**metadata, **extractor_metadata()})
    if not config.identifiers:
        return 0
    count = 0
    for origin_table, origin_index, field, field_class, text, app, where in _fields(output, config):
        context = Context(field_class, config.identifier_regions, app, field.split("[")[0])
        label = f"{origin_table} row {origin_index} {field}"
        try:
            extracted = extract(text, context)
        except _EXTRACT_ERRORS as error:
            problems.add("parse", "identifier_extraction_failed", "error", f"{label}: {type(error).__name__}: {error}", path=where["path"],
                         parser="identifiers", store_table=where["store_table"], store_row_id=where["store_row_id"])
            continue
        for limit in extracted.limits:
            problems.add("parse", limit.kind, "warning", f"{label}: {limit.message}", path=where["path"], parser="identifiers",
                         store_table=where["store_table"], store_row_id=where["store_row_id"])
        for hit in extracted.hits:
            found = hit.found
            table.append({**ids, "identifier_index": count, "identifier_kind": found.kind, "identifier": found.value,
                          "identifier_raw": found.raw, "service": found.service, "region": found.region, "origin_table": origin_table,
                          "origin_index": origin_index, "origin_field": field, "origin_offset": found.start, **where,
                          "extractor": hit.extractor, "extractor_version": hit.extractor_version})
            count += 1
    return count


def _fields(output: ExhibitOutput, config: Config) -> Iterator[tuple[str, int, str, str, str, str | None, dict]]:
    """(origin table, origin index, field, field class, text, app, provenance) for every non-empty field, in order."""
    for name in (MESSAGES.name, MEDIA.name):
        if name in output.writers:
            output.writers[name].close()  # finished now, so its rows can be read back; closing again later does nothing
    seen: set[tuple[str, str]] = set()
    store: object = None
    for row in _rows(output.staging / f"{MESSAGES.name}.parquet", _MESSAGE_COLUMNS):
        where = {"path": row["path"], "path_bytes": row["path_bytes"], "entry_index": row["entry_index"],
                 "store_table": row["store_table"], "store_row_id": row["store_row_id"]}
        if row["path_bytes"] != store:
            store, seen = row["path_bytes"], set()  # messages come store by store: the set never outgrows one store's ids
        fields: list[tuple[str, str, str | None]] = [("body", TEXT, row["body"]), ("sender_id", ID, row["sender_id"])]
        fields += [(f"recipients[{n}].id", ID, r.get("id")) for n, r in enumerate(row["recipients"] or ())]
        fields += [("conversation_id", ID, row["conversation_id"]), ("conversation_title", TEXT, row["conversation_title"]),
                   ("account_id", ID, row["account_id"])]
        for field, field_class, text in fields:
            if not text:
                continue
            if field.split("[")[0] in _REPEATED:
                key = (field.split("[")[0], text)
                if key in seen:
                    continue
                if len(seen) >= MAX_SEEN:
                    seen.clear()  # a store with endless distinct ids costs repeated rows, never unbounded memory
                seen.add(key)
            yield "messages", row["message_index"], field, field_class, text, row["app"], where
    for row in _rows(output.staging / f"{MEDIA.name}.parquet", _MEDIA_COLUMNS):
        where = {"path": row["path"], "path_bytes": row["path_bytes"], "entry_index": row["entry_index"], "store_table": None, "store_row_id": None}
        for field in ("body_serial", "lens_serial"):
            if row[field]:
                yield "media", row["media_index"], field, SERIAL, row[field], None, where


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[dict]:
    """Rows of a finished part, only the given columns, in batches."""
    if not path.exists():
        return
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=list(columns)):
        yield from batch.to_pylist()
