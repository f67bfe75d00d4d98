"""One examiner's SQL over a case: choose the exhibits to read, open the locked views, run one statement.

Only exhibits whose seal holds are read (case/selection.py), unless the examiner asks for the
unverified ones too; what was read and what was skipped, and why, is said in `notes()`. Only a
single SELECT (WITH, FROM-first, VALUES, DESCRIBE, SHOW, SUMMARIZE) statement is run (not EXPLAIN,
whose ANALYZE form executes what it wraps):
DuckDB's lock keeps every other file out of reach, but it would let COPY write over a Parquet file
the views read, and nothing may write into the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from case import views
from case.selection import CaseFile, Exhibit, assess_case_file, assess_exhibits, regular_file
from manifests.confined import brief
from manifests.text import display, display_message

RUNNABLE = frozenset({"SELECT"})  # not EXPLAIN: EXPLAIN ANALYZE runs the statement it wraps (a COPY over a sealed part)
BATCH_ROWS = 8192
STORED_ID_BUDGET = 8  # distinct stored exhibit ids named per part read unverified


class QueryError(ValueError):
    """The statement cannot be run: DuckDB's own message, or why it is refused."""


class ViewError(QueryError):
    """The views cannot be made over the files read (DuckDB's message names the file)."""


@dataclass
class Selection:
    """What a query reads of the case, and what it leaves out and why."""

    read: list[Exhibit]
    skipped: list[Exhibit]
    case_read: list[CaseFile]
    case_skipped: list[CaseFile]
    signatures_checked: bool
    unreadable: list[str] = field(default_factory=list)  # parts of unverified exhibits and unsealed case files that are not Parquet
    mismatched: list[str] = field(default_factory=list)  # parts read unverified whose stored exhibit id is not their folder's

    @property
    def skipped_any(self) -> bool:
        """Something of the case was left out: an exhibit whose seal fails, a case-level file, an unreadable part."""
        return bool(self.skipped or self.case_skipped or self.unreadable)


def select(case_dir: Path, exhibits: list[tuple[str | None, Path]], trusted: list[Ed25519PublicKey],
           include_unverified: bool) -> Selection:
    """Check each exhibit's seal (and the ledger's chain); keep the verified ones, or every one when asked."""
    unique = list({folder.absolute(): (exhibit_id, folder) for exhibit_id, folder in exhibits}.values())  # --exhibit E --exhibit E
    assessed = assess_exhibits(unique, trusted)
    case_files = [f for f in (assess_case_file(case_dir, name, trusted) for name in views.CASE_TABLES) if f is not None]
    keep = (lambda item: True) if include_unverified else (lambda item: item.verified)
    keep_file = (lambda item: regular_file(item.path)) if include_unverified else (lambda item: item.verified)  # never a link
    return Selection(read=[e for e in assessed if keep(e)], skipped=[e for e in assessed if not keep(e)],
                     case_read=[f for f in case_files if keep_file(f)], case_skipped=[f for f in case_files if not keep_file(f)],
                     signatures_checked=bool(trusted))


def _readable_parquet(path: Path) -> str | None:
    """Why a file cannot be a view's input (None when its footer reads)."""
    try:
        pq.ParquetFile(path)
    except (OSError, pa.ArrowException, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def _stored_ids(path: Path) -> tuple[bool, list[str | None]]:
    """Whether the part has an exhibit_id column, and the distinct ids it stores (budgeted: the first few)."""
    handle = pq.ParquetFile(path)
    if "exhibit_id" not in handle.schema_arrow.names:
        return False, []
    seen: list[str | None] = []
    for batch in handle.iter_batches(columns=["exhibit_id"], batch_size=65_536):
        column = batch.column(0)
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            return True, [f"(a {column.type} column)"]
        for value in pc.unique(column).to_pylist():
            if value not in seen:
                seen.append(value)
        if len(seen) > STORED_ID_BUDGET:
            break
    return True, seen[:STORED_ID_BUDGET]


def open_case(selection: Selection) -> views.CaseViews:
    """The locked views over what `selection` reads. A part of an unverified exhibit, or a case-level file
    no seal covers (hash_hits.parquet), that is not readable Parquet is left out (named in
    `selection.unreadable`): one broken file costs its own rows, never the query. Rows of an exhibit read
    unverified carry its folder's exhibit id, whatever id its parts store (a disagreement is named)."""
    files = views.table_files(selection.read, selection.case_read)
    unverified = {e.folder.absolute(): e for e in selection.read if not e.verified}
    unchecked = {f.path.absolute() for f in selection.case_read if not f.verified or not f.checked}
    relabel: dict[Path, str] = {}
    with_id: dict[str, bool] = {}
    for name, paths in files.items():
        kept = []
        for path in paths:
            exhibit = unverified.get(path.parent) if name in views.EXHIBIT_TABLES else None
            problem = _readable_parquet(path) if (exhibit is not None or path in unchecked) else None
            if problem is None and exhibit is not None:
                try:
                    has_id, stored = _stored_ids(path)
                except (OSError, pa.ArrowException, ValueError) as error:
                    problem = f"{type(error).__name__}: {error}"
                else:
                    own = views.folder_exhibit_id(exhibit)
                    relabel[path] = own
                    with_id[name] = with_id.get(name, False) or has_id
                    strays = [value for value in stored if value != own]
                    if strays:
                        selection.mismatched.append(display_message(
                            f"{display(str(path))}: stores exhibit id(s) {', '.join(brief(v) for v in strays)}, not {brief(own)}; "
                            f"its rows are given its folder's exhibit id {brief(own)}"))
            if problem is None:
                kept.append(path)
            else:
                selection.unreadable.append(display_message(f"{display(str(path))}: not read, not readable Parquet ({problem})"))
        files[name] = kept
    try:
        return views.open_views(files, views.exhibits_table(selection.read), relabel, with_id)
    except duckdb.Error as error:
        raise ViewError(f"the case's views cannot be made: {error}") from None


def _statement_kind(statement: object) -> str:
    return str(getattr(statement, "type", "")).rsplit(".", 1)[-1]


@dataclass
class Result:
    """The rows of one statement, streamed in record batches; DuckDB failing midway is a QueryError."""

    schema: pa.Schema
    reader: pa.RecordBatchReader

    def batches(self) -> Iterator[pa.RecordBatch]:
        while True:
            try:
                batch = self.reader.read_next_batch()
            except StopIteration:
                return
            except (duckdb.Error, pa.ArrowException) as error:
                raise QueryError(str(error)) from None
            yield batch


def run(case: views.CaseViews, sql: str) -> Result:
    """Run `sql`, which must be one SELECT statement; QueryError with DuckDB's message otherwise."""
    try:
        statements = case.connection.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryError(str(error)) from None
    if len(statements) != 1:
        raise QueryError(f"give exactly one SQL statement (got {len(statements)})")
    kind = _statement_kind(statements[0])
    if kind not in RUNNABLE:
        raise QueryError(f"only a SELECT statement is run (this is a {kind} statement): the case is read, never written")
    try:
        relation = case.connection.sql(sql)
        reader = relation.to_arrow_reader(BATCH_ROWS)
    except (duckdb.Error, pa.ArrowException) as error:
        raise QueryError(str(error)) from None
    return Result(reader.schema, reader)


def _failures(failures: tuple[str, ...]) -> str:
    return "; ".join(failures)


def notes(selection: Selection) -> list[str]:
    """What the command says on standard error: exhibits read, each one skipped or read unverified and why."""
    lines = []
    read = ", ".join(e.label for e in selection.read) or "none"
    lines.append(f"read {len(selection.read)} exhibit(s): {read}")
    for exhibit in selection.skipped:
        lines.append(f"skipped {exhibit.label}: its manifest does not verify: {_failures(exhibit.failures)}")
    for exhibit in selection.read:
        if not exhibit.verified:
            lines.append(f"read {exhibit.label} UNVERIFIED (--unverified): its manifest does not verify: {_failures(exhibit.failures)}")
    for case_file in selection.case_skipped:
        lines.append(f"skipped {case_file.name}.parquet (its view is empty): {_failures(case_file.failures)}")
    for case_file in selection.case_read:
        if not case_file.verified:
            lines.append(f"read {case_file.name}.parquet UNVERIFIED (--unverified): {_failures(case_file.failures)}")
        elif not case_file.checked:
            lines.append(f"read {case_file.name}.parquet as it is: no seal covers this case-level file")
    lines.extend(selection.unreadable)
    lines.extend(f"warning: {line}" for line in selection.mismatched)
    if not selection.signatures_checked:
        lines.append("signatures not checked (no --trusted-key): seals and the custody chain were recomputed, "
                     "but a manifest or ledger rewritten and resealed by anyone would pass")
    return lines
