"""Content units: send each unit to the runner, and write the rows back in walk order.

Rows are written in walk order whatever order the workers finish in, so the same input and
configuration always give the same rows in the same order. Only a bounded window of units is in
flight, so memory does not grow with the number of files. An artefact whose unit the runner gave
up (a worker that crashed, hung or ran out of memory on it, twice and then alone) keeps its row,
with `content_status` `read_error` and the failure's kind, and an errors row says what happened.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import Callable

from ingest import chats, unit_store
from ingest.config import Config
from ingest.problems import Problems
from ingest.request import Progress
from ingest.tasks import Failure, Outcome, Runner
from ingest.walk import Batch
from ingest.work import run_content_items


class ContentPhase:
    """Runs the units of every batch and appends artefacts and media rows in walk order."""

    def __init__(self, table, media_table, runner: Runner, config: Config, progress: Progress,
                 on_progress: Callable[[Progress], None] | None, ids: dict, units_dir: Path | None = None) -> None:
        self.table = table
        self.media_table = media_table
        self.media_index = 0
        self.runner = runner
        self.progress = progress
        self.on_progress = on_progress
        self.ids = ids
        self.window: deque[tuple[Batch, Future | None]] = deque()
        self.max_in_flight = 4 * max(1, getattr(runner, "slots", 0) or config.effective_workers())  # a cluster's workers, else the local pool's
        self.last_report = 0.0
        # Read errors are kept apart and appended after the walk's own problems, so the order of
        # errors.parquet does not depend on how many workers ran.
        self.read_problems = Problems()
        self.chat_candidates = chats.CandidateCollector()
        self.units_retried = 0
        self.artefacts_given_up = 0
        # Where each unit's Outcome is kept durably for a resume (None: not kept); see ingest.unit_store.
        self.units_dir = units_dir
        self.units_resumed = 0
        self.units_not_kept = 0
        self.units_discarded: list[tuple[str, str]] = []  # (unit id, why) of stored units that did not verify

    def add(self, batch: Batch) -> None:
        stored = self._stored(batch)
        if stored is not None:
            future: Future | None = Future()
            future.set_result(stored)
            future.from_disk = True  # type: ignore[attr-defined]  # kept already: not written again
            self.units_resumed += 1
        else:
            future = self.runner.submit(partial(run_content_items, batch.recipe), batch.items, batch.sizes) if batch.items else None
        self.window.append((batch, future))
        while len(self.window) > self.max_in_flight:
            self._drain_one()

    def _drain_one(self) -> None:
        batch, future = self.window.popleft()
        rows = batch.rows
        if future is not None:
            outcome = future.result()
            if not getattr(future, "from_disk", False):
                self._keep(batch, outcome)
            self._apply(rows, outcome)
            targets = {entry_index: target for entry_index, target, _name in batch.items}
            for row in rows:
                self.chat_candidates.consider(row, batch.recipe, targets.get(row["entry_index"]))
        for row in rows:
            self.table.append(row)
        self.progress.entries += len(rows)
        now = time.monotonic()
        if self.on_progress is not None and now - self.last_report > 0.5:
            self.last_report = now
            self.on_progress(self.progress)

    def _stored(self, batch: Batch) -> Outcome | None:
        """A finished unit's Outcome from an earlier run of this exhibit, if it verifies; else it runs again."""
        if self.units_dir is None or not batch.items or batch.unit_id is None:
            return None
        try:
            return unit_store.load(self.units_dir, f"content-{batch.unit_id}", batch.items)
        except unit_store.UnitFileInvalid as invalid:
            self.units_discarded.append((f"content-{batch.unit_id}", str(invalid)))
            return None

    def _keep(self, batch: Batch, outcome: Outcome) -> None:
        """Write the Outcome durably before it is applied (an OSError, a full disk, stops the run)."""
        if self.units_dir is None or batch.unit_id is None:
            return
        try:
            unit_store.save(self.units_dir, f"content-{batch.unit_id}", batch.items, outcome)
        except unit_store.UnitEncodeError:
            self.units_not_kept += 1  # a value the codec cannot store exactly: this unit simply runs again on a resume

    def _apply(self, rows: list[dict], outcome: Outcome) -> None:
        first = rows[0]["entry_index"]
        self.units_retried += outcome.retries
        for failure in outcome.failures:
            self._given_up(rows[failure.item[0] - first], failure)
        for entry_index, result in sorted(outcome.results, key=lambda pair: pair[0]):
            row = rows[entry_index - first]
            media_fields = result.pop("media", None)
            row.update(result)
            if media_fields is not None:
                self._media_row(row, media_fields)
            self._row_problems(row, result)

    def _row_problems(self, row: dict, result: dict) -> None:
        where = {"volume_index": row["volume_index"], "path": row["path"], "path_spec": row["path_spec"]}
        identify_error = row.pop("identify_error", None)
        if identify_error is not None:
            self.read_problems.add("identify", "identify_failed", "error", f"libmagic could not type {row['path']}: {identify_error}", **where)
        if result.get("content_status") == "read_error":
            self.read_problems.add("read", result.get("read_error_kind") or "read_error", "error",
                                   f"content of {row['path']} could not be read: {result.get('read_error_message')}",
                                   offset=result.get("read_error_offset"), length=result.get("read_error_length"), **where)
        if result.get("content_status") in ("hashed", "empty"):
            self.progress.files_hashed += 1
            self.progress.bytes_hashed += row["size"] or 0

    def _given_up(self, row: dict, failure: Failure) -> None:
        """An artefact the runner could not read even alone: its row stands, without hashes, and says why."""
        self.artefacts_given_up += 1
        row.update({"content_status": "read_error", "read_error_kind": failure.kind, "read_error_offset": None,
                    "read_error_length": None, "read_error_message": failure.detail})
        self.read_problems.add("worker", failure.kind, "error", f"content of {row['path']} was given up: {failure.detail}",
                               volume_index=row["volume_index"], path=row["path"], path_spec=row["path_spec"])

    def _media_row(self, row: dict, media_fields: dict) -> None:
        """One media.parquet row for an artefact, and its reader's warnings as errors rows."""
        where = {"volume_index": row["volume_index"], "path": row["path"], "path_spec": row["path_spec"]}
        if "error" in media_fields:
            self.read_problems.add("media", "media_unreadable", "error", f"{row['path']}: {media_fields['error']}", **where)
            return
        for warning in media_fields["warnings"]:
            self.read_problems.add("media", warning["kind"], warning["severity"], f"{row['path']}: {warning['message']}",
                                   store_field=warning["field"], parser=media_fields["reader"], **where)
        self.media_table.append({**self.ids, "media_index": self.media_index, "entry_index": row["entry_index"],
                                 "volume_index": row["volume_index"], "path": row["path"], "path_bytes": row["path_bytes"],
                                 "path_spec": row["path_spec"], "sha256": row.get("sha256"), **media_fields["record"],
                                 "reader": media_fields["reader"], "reader_version": media_fields["reader_version"]})
        self.media_index += 1

    def finish(self, problems: Problems) -> None:
        while self.window:
            self._drain_one()
        problems.rows.extend(self.read_problems.rows)


__all__ = ["ContentPhase"]
