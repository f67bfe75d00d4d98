"""Media phase of the content pass: photos and videos (by libmagic's signature-based type) get their
metadata read in the same worker that hashed them, while their first blocks are still cached.

A type libmagic calls image/ or video/ that no reader knows still gets a media row (container from
the MIME type, reader "libmagic"), so "every photo and video has a row" holds.
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import fields as dataclass_fields
from typing import Callable

import pyarrow as pa

from manifests.records import MediaRecord
from manifests.schemas import MEDIA
from parsers.media.base import MediaSource
from parsers.media.driver import read_media
from parsers.media.registry import all_readers

MEDIA_PREFIXES = ("image/", "video/")
# MediaRecord keeps its readers' attribute names; the columns follow the table vocabulary (no _utc suffix).
COLUMN_OF_FIELD = {
    "capture_time_utc": "capture_time",
    "digitized_time_utc": "digitized_time",
    "modified_time_raw": "metadata_modified_time_raw",
    "modified_time_utc": "metadata_modified_time",
    "gps_latitude": "latitude",
    "gps_longitude": "longitude",
    "gps_altitude": "altitude",
    "gps_time_utc": "gps_time",
}
_RECORD_COLUMNS = {COLUMN_OF_FIELD.get(f.name, f.name) for f in dataclass_fields(MediaRecord)}
# The media.parquet columns a MediaRecord fills: a record is checked against them in the worker.
RECORD_SCHEMA = pa.schema([f for f in MEDIA.arrow_schema() if f.name in _RECORD_COLUMNS])
# What a reader's record can hold that does not make a row: a wrong type, a value out of range.
ROW_ERRORS: tuple[type[BaseException], ...] = (TypeError, ValueError, OverflowError, pa.ArrowInvalid, pa.ArrowTypeError)


def is_media_type(mime: str | None) -> bool:
    return bool(mime) and mime.startswith(MEDIA_PREFIXES)


def extract(read: Callable[[int, int], bytes], size: int, mime: str, name: str) -> dict:
    """Media fields (a MediaRecord as a dict plus reader and warnings) for one hashed artefact."""
    result = read_media(MediaSource(read, size, name=name))
    if result.record is None:
        record = MediaRecord(container_format=mime.split("/", 1)[1].upper(), flags=["no_reader"])
        reader, version = "libmagic", "-"
    else:
        record = result.record
        reader, version = result.reader.name, result.reader.version
    warnings = [{"kind": w.kind, "message": w.message, "field": COLUMN_OF_FIELD.get(w.field, w.field), "severity": w.severity}
                for w in result.warnings]
    try:
        fields = _fields(record)
        pa.Table.from_pylist([fields], schema=RECORD_SCHEMA)
    except ROW_ERRORS as error:
        # A reader bug that slipped past the reader's own boundary: the record cannot become a row.
        # The file keeps a media row (flagged), and the failure is a row of its own.
        warnings.append({"kind": "parser_failed", "field": None, "severity": "error",
                         "message": f"reader {reader} (version {version}) gave a record that does not fit media.parquet: {type(error).__name__}: {error}"})
        container = getattr(record, "container_format", None)
        container = container if isinstance(container, str) else mime.split("/", 1)[1].upper()
        fields = _fields(MediaRecord(container_format=container, flags=["metadata_unreadable"]))
    return {"record": fields, "reader": reader, "reader_version": version, "warnings": warnings}


def _fields(record: MediaRecord) -> dict:
    """The record as media.parquet columns."""
    fields = {COLUMN_OF_FIELD.get(name, name): value for name, value in asdict(record).items()}
    fields["flags"] = list(record.flags) or None
    return fields


def reader_metadata() -> dict[str, str]:
    """Reader names and versions for the Parquet metadata of media.parquet."""
    return {f"exhibit.media_reader.{r.name}": r.version for r in all_readers()}
