"""Streaming, atomic Parquet output for one exhibit.

Rows go to row groups as they come, so memory does not grow with the number of artefacts. All
parts are written in a hidden staging folder beside the exhibit folder, which is renamed into
place only when every part is closed: a run that dies never leaves a folder that looks complete.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from manifests.schemas import Table

ROW_GROUP_ROWS = 16384


class ExhibitExistsError(FileExistsError):
    """The exhibit folder already holds a completed ingest."""


class TableWriter:
    """Buffers rows of one table and writes them as Parquet row groups."""

    def __init__(self, path: Path, table: Table, metadata: dict[str, str]) -> None:
        self.table = table
        self.path = path
        schema = table.arrow_schema()
        merged = dict(schema.metadata or {})
        merged.update({k.encode(): v.encode() for k, v in metadata.items()})
        self.schema = schema.with_metadata(merged)
        self._writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")
        self._rows: list[dict] = []
        self.row_count = 0
        self.closed = False

    def append(self, row: dict) -> None:
        self._rows.append(row)
        if len(self._rows) >= ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        batch = pa.Table.from_pylist(self._rows, schema=self.schema)
        self._writer.write_table(batch)
        self.row_count += len(self._rows)
        self._rows = []

    def close(self) -> None:
        if self.closed:
            return
        self.flush()
        self._writer.close()
        self.closed = True


class ExhibitOutput:
    """Staging folder for one exhibit's parts, published by an atomic rename on success."""

    def __init__(self, final_dir: Path, run_id: str) -> None:
        self.final_dir = final_dir
        if final_dir.exists():
            raise ExhibitExistsError(f"{final_dir} already exists: an exhibit is ingested once; choose another --out or exhibit id")
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        self.staging = final_dir.parent / f".{final_dir.name}.partial-{run_id}"
        self.staging.mkdir()
        self.writers: dict[str, TableWriter] = {}

    def open_table(self, table: Table, metadata: dict[str, str]) -> TableWriter:
        writer = TableWriter(self.staging / f"{table.name}.parquet", table, metadata)
        self.writers[table.name] = writer
        return writer

    def close_parts(self) -> None:
        """Finish every Parquet part (the seal hashes them as they will be published)."""
        for writer in self.writers.values():
            writer.close()

    def publish(self) -> Path:
        self.close_parts()
        for path in self.staging.iterdir():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        if self.final_dir.exists():  # another run published the same exhibit meanwhile: never replace it
            raise ExhibitExistsError(f"{self.final_dir} appeared while this run was writing; this run's output is discarded")
        os.rename(self.staging, self.final_dir)
        dir_fd = os.open(self.final_dir.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return self.final_dir

    def abandon(self) -> None:
        """Remove the staging folder of a failed run; nothing it held was ever published."""
        shutil.rmtree(self.staging)

    def __enter__(self) -> "ExhibitOutput":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is not None and self.staging.exists():
            self.abandon()
