"""Streaming, atomic Parquet output for one exhibit.

Rows go to row groups as they come, so memory does not grow with the number of artefacts. All
parts are written in a hidden staging folder beside the exhibit folder, which is renamed into
place only when every part is closed: a run that dies never leaves a folder that looks complete.

A run holds its exhibit's run lock (CASE/.EXHIBIT.run-lock, flock) from start to end, so two runs
never write the same exhibit, and any staging folder of the exhibit found while holding it was
left by a run that was killed: it is removed, and the new run records that it did.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from pathlib import Path
from types import TracebackType
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

from manifests.files import fsync_dir, fsync_file
from manifests.schemas import Table

ROW_GROUP_ROWS = 16384


class ExhibitExistsError(FileExistsError):
    """The exhibit folder already holds a completed ingest."""


class ExhibitBusyError(RuntimeError):
    """Another run is writing the same exhibit right now."""


class PublishUndoError(OSError):
    """The exhibit folder was renamed into place, the step after it failed, and it could not be taken back."""


class _RunLock:
    """An exclusive flock on a lock file that is removed when released.

    Removing a lock file is safe only because a taker checks, once it holds the lock, that the
    path still names the file it locked (else it was removed meanwhile, and it tries again)."""

    def __init__(self, path: Path, owner: str) -> None:
        self.path = path
        while True:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(descriptor, 200, 0).decode("utf-8", "backslashreplace").strip()
                os.close(descriptor)
                raise ExhibitBusyError(f"another run is writing this exhibit now ({holder or 'owner unknown'}; lock {path})") from None
            try:
                current = os.stat(path)
            except FileNotFoundError:
                current = None
            mine = os.fstat(descriptor)
            if current is not None and (current.st_dev, current.st_ino) == (mine.st_dev, mine.st_ino):
                break
            os.close(descriptor)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, owner.encode(), 0)
        self.descriptor: int | None = descriptor

    def release(self) -> None:
        if self.descriptor is None:
            return
        os.unlink(self.path)  # still holding it: a waiting taker sees the path gone and starts again
        os.close(self.descriptor)
        self.descriptor = None


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
        self._names = frozenset(self.schema.names)
        self._rows: list[dict] = []
        self.row_count = 0
        self.closed = False

    def append(self, row: dict) -> None:
        """Queue one row; a row whose keys are not exactly the table's columns is refused at once.

        `pa.Table.from_pylist` would drop an unknown key and null a missing one without a word, so
        a misspelt or forgotten column would be written as null: here it is an error, naming both."""
        if row.keys() != self._names:
            raise ValueError(self._mismatch(row))
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

    def _mismatch(self, row: dict) -> str:
        stray = sorted(key for key in row if key not in self._names)
        missing = sorted(name for name in self.schema.names if name not in row)
        parts = [f"keys that are not its columns: {', '.join(map(str, stray))}"] if stray else []
        parts += [f"no value for the columns: {', '.join(missing)}"] if missing else []
        return f"{self.table.name}.parquet: a row has " + "; and ".join(parts)

    def close(self) -> None:
        if self.closed:
            return
        self.flush()
        self._writer.close()
        self.closed = True

    def discard(self) -> None:
        """Let go of a part whose folder is being removed: no footer is written (the disk may be full)."""
        self._rows = []
        self._writer.is_open = False  # pyarrow's ParquetWriter would otherwise finish the file when collected
        self._writer.file_handle = None
        self.closed = True


class ExhibitOutput:
    """Staging folder for one exhibit's parts, published by an atomic rename on success."""

    def __init__(self, final_dir: Path, run_id: str) -> None:
        self.final_dir = final_dir
        self.published = False
        self.synced = False
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _RunLock(final_dir.parent / f".{final_dir.name}.run-lock", f"pid {os.getpid()}, run {run_id}")
        staged = False
        try:
            if final_dir.exists():
                raise ExhibitExistsError(f"{final_dir} already exists: an exhibit is ingested once; choose another --out or exhibit id")
            self.stale_removed = self._remove_stale_staging()
            self.staging = final_dir.parent / f".{final_dir.name}.partial-{run_id}"
            self.staging.mkdir()
            staged = True
        finally:
            if not staged:
                self._lock.release()
        self.writers: dict[str, TableWriter] = {}

    def _remove_stale_staging(self) -> list[str]:
        """Staging folders of this exhibit (never another's) left by runs that died: the lock proves no live run owns them."""
        pattern = re.compile(rf"\.{re.escape(self.final_dir.name)}\.partial-[0-9a-f]{{32}}")
        stale = sorted(p for p in self.final_dir.parent.iterdir() if pattern.fullmatch(p.name) and p.is_dir() and not p.is_symlink())
        for folder in stale:
            shutil.rmtree(folder)
        return [p.name for p in stale]

    def open_table(self, table: Table, metadata: dict[str, str]) -> TableWriter:
        writer = TableWriter(self.staging / f"{table.name}.parquet", table, metadata)
        self.writers[table.name] = writer
        return writer

    def close_parts(self) -> None:
        """Finish every Parquet part (the seal hashes them as they will be published)."""
        for writer in self.writers.values():
            writer.close()

    def sync(self) -> None:
        """Everything in the staging folder on stable storage (a full disk can still surface here)."""
        self.close_parts()
        for path in sorted(self.staging.iterdir()):
            fsync_file(path)
        fsync_dir(self.staging)
        self.synced = True

    def publish(self, commit: Callable[[], None] | None = None) -> Path:
        """Rename the staging folder into place, then run `commit` (the custody event); if that
        fails the folder is taken back, so the exhibit is published with its record or not at all."""
        if not self.synced:
            self.sync()
        if self.final_dir.exists():  # the run lock makes this a folder made by hand meanwhile: never replace it
            raise ExhibitExistsError(f"{self.final_dir} appeared while this run was writing; this run's output is discarded")
        os.rename(self.staging, self.final_dir)
        try:
            fsync_dir(self.final_dir.parent)
            if commit is not None:
                commit()
        except BaseException as failure:
            try:
                os.rename(self.final_dir, self.staging)
            except OSError as undo:
                raise PublishUndoError(undo.errno, f"{self.final_dir} was published, then {failure}; taking it back failed: "
                                                   f"{undo.strerror}") from failure
            raise
        self.published = True
        return self.final_dir

    def abandon(self) -> None:
        """Remove the staging folder of a failed run; nothing it held was ever published."""
        for writer in self.writers.values():
            writer.discard()
        shutil.rmtree(self.staging)

    def __enter__(self) -> "ExhibitOutput":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if exc_type is not None and not self.published and self.staging.exists():
                self.abandon()
        finally:
            self._lock.release()
