"""One ingest, start to finish: scan the source, walk every volume, hash and type content in workers,
hash the evidence before and after, and publish the exhibit folder atomically.

Rows are written in walk order whatever order the workers finish in, so the same input and
configuration always give the same rows in the same order. Only a bounded window of batches is
in flight, so memory does not grow with the number of files.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import tempfile
import time
import uuid
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from dfvfs.lib import definitions

from ingest import __version__, archive_walk, chats, confine, dfvfs_walk, folder_walk, identifiers, itunes_backup, media, media_metadata, tsk
from ingest.config import Config
from ingest.content import ContentSettings
from ingest.naming import encode_id
from ingest.path_specs import serialize
from ingest.problems import Problems
from ingest.scan import Credentials, Layout, SourceError, Volume, scan_source, tsk_file_system_name
from ingest.versions import library_versions
from ingest.stopping import StopOnSignals, run_scratch, scratch_key
from ingest.work import Unit, VolumeRecipe, init_pool_worker, init_worker, release_worker, run_unit
from case import hashsets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from manifests.schemas import ARTEFACTS, ERRORS, MEDIA, MESSAGES, SOURCES
from manifests import custody
from manifests.seal import seal
from manifests.text import display
from manifests.writer import ExhibitOutput

HASH_ORIGINS = {"expected": "--expected-hash", "ewf_stored": "the E01 stored hash"}
HASH_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256"}

TSK_FILE_SYSTEMS = frozenset({"EXT", "NTFS", "FAT", "HFS", "TSK", "EXFAT", "ISO9660"})
_CONTENT_FIELDS = ("md5", "sha1", "sha256", "sha512", "mime_type", "magic_description", "is_extension_mismatch",
                   "read_error_kind", "read_error_offset", "read_error_length", "read_error_message")


@dataclass(frozen=True)
class IngestRequest:
    source: Path
    case_id: str
    exhibit_id: str
    config: Config
    credentials: Credentials = Credentials()
    expected_hashes: tuple[tuple[str, str], ...] = ()
    signing_key: Ed25519PrivateKey | None = None
    description: str = ""
    app_keys: tuple[tuple[str, str], ...] = ()  # (app, key) for encrypted chat stores; never written out
    parent_dirs: tuple[Path, ...] = ()  # folders where parent disks and extents may also be found (--parent-dir)


@dataclass
class Progress:
    """Counters a terminal display reads while the run goes on."""

    volumes_done: int = 0
    volumes_total: int = 0
    entries: int = 0
    files_hashed: int = 0
    bytes_hashed: int = 0
    messages: int = 0
    identifiers: int = 0
    started: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Summary:
    output_dir: Path
    entries: int
    files_hashed: int
    bytes_hashed: int
    errors: int
    warnings: int
    seconds: float
    messages: int = 0
    identifiers: int = 0
    hash_findings: tuple[str, ...] = ()  # e.g. "MD5 MISMATCH against --expected-hash"
    held_signal: str | None = None  # a stop signal that came while the exhibit was being published
    cleanup_failure: str | None = None  # published, but removing the run's scratch or lock failed afterwards
    hash_hits: int | None = None  # rows added to CASE/hash_hits.parquet; None when the case holds no hash set
    hash_hits_problem: str | None = None  # published, but matching it against the case's hash sets failed

    @property
    def outcome(self) -> str:
        return outcome_text(self.errors, self.hash_findings)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else plural_form or singular + 's'}"


def outcome_text(errors: int, findings: tuple[str, ...]) -> str:
    """The run's outcome in words; a hash that does not match comes first, by name."""
    done = "completed" if errors == 0 else f"completed with {plural(errors, 'error')}"
    return "; ".join([*findings, done])


def hash_findings(checks: list[dict] | None) -> tuple[str, ...]:
    """A named finding for every media hash check that failed or could not be made."""
    findings = []
    for check in checks or ():
        name, origin = HASH_NAMES.get(check["algorithm"], check["algorithm"].upper()), HASH_ORIGINS.get(check["origin"], check["origin"])
        if check["is_match"] is False:
            findings.append(f"{name} MISMATCH against {origin}")
        elif check["is_match"] is None:
            findings.append(f"{name} NOT VERIFIED against {origin} (media hash unavailable)")
    return tuple(findings)


def exhibit_dir(out_dir: Path, case_id: str, exhibit_id: str) -> Path:
    return out_dir / encode_id(case_id) / encode_id(exhibit_id)


class _Executor:
    """A process pool, or the calling process itself when one worker is asked for.

    Leaving it normally waits for the workers to finish; leaving it on an exception (a stop
    signal, a full disk) kills them first, so a worker busy hashing a big file does not hold the
    run, or the evidence, for minutes."""

    def __init__(self, workers: int, settings: ContentSettings, credentials: list, scratch: Path,
                 confinement: confine.Confinement | None = None) -> None:
        self.pool = None
        if workers > 1:
            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"),
                                            initializer=init_pool_worker,
                                            initargs=(settings, credentials, str(scratch), os.getpid(), confinement))
        else:
            init_worker(settings, credentials, confinement)

    def submit(self, function: Callable, *args) -> Future:
        if self.pool is not None:
            return self.pool.submit(function, *args)
        future: Future = Future()
        future.set_result(function(*args))
        return future

    def __enter__(self) -> "_Executor":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if self.pool is None:
            release_worker()  # the in-process "worker" must not keep evidence handles open
            confine.activate(None)  # the run's confinement ends with the run
            return
        try:
            if exc_type is not None:
                self._kill_workers()
            self.pool.shutdown(wait=True, cancel_futures=True)
        finally:
            confine.activate(None)  # the run's confinement ends with the run

    def _kill_workers(self) -> None:
        # Python 3.11 has no public way to stop running tasks (3.14 adds terminate_workers); the
        # pool's own process table is the only handle on them.
        processes = list((self.pool._processes or {}).values())
        for process in processes:
            process.kill()
        for process in processes:
            process.join(timeout=5)


def ingest(request: IngestRequest, progress: Progress | None = None, on_progress: Callable[[Progress], None] | None = None) -> Summary:
    """Run one ingest and publish its folder; raises SourceError before anything is written.

    Whatever this raises (a stop signal as Interrupted, a full disk as OSError), nothing was
    published: the workers, the scratch folder and the staging folder are gone, and the ledger
    holds at most this run's `ingest_started` event. The one exception is PublishUndoError,
    whose message says what is where.
    """
    with StopOnSignals() as stop:
        try:
            return _ingest(request, stop, progress or Progress(), on_progress)
        finally:
            confine.activate(None)  # whatever ends the run (a busy exhibit, a stop during the scan), its confinement ends too


def _ingest(request: IngestRequest, stop: StopOnSignals, progress: Progress, on_progress: Callable[[Progress], None] | None) -> Summary:
    os.environ["TZ"] = "UTC"
    time.tzset()
    config = request.config
    started = datetime.now(timezone.utc)
    run_id = uuid.uuid4().hex
    problems = Problems()
    layout = scan_source(request.source, request.credentials, config.vss, problems, request.parent_dirs)
    walkable = layout.walkable()
    progress.volumes_total = len(walkable)
    settings = ContentSettings(algorithms=config.algorithms, chunk_size=config.chunk_size, magic_bytes=config.magic_bytes, media=config.media)
    credentials = [(v.path_spec_json(), v.credential[0], v.credential[1]) for v in layout.volumes if v.credential is not None]
    metadata = {
        "exhibit.tool": "exhibit",
        "exhibit.tool_version": __version__,
        "exhibit.case_id": request.case_id,
        "exhibit.exhibit_id": request.exhibit_id,
        "exhibit.config_digest": config.digest(),
        "exhibit.run_id": run_id,
        "exhibit.examiner": config.examiner,
        "exhibit.lab": config.lab,
    }
    metadata.update({f"exhibit.library.{name}": version for name, version in library_versions().items()})
    target_dir = exhibit_dir(Path(config.output_dir), request.case_id, request.exhibit_id)
    if request.source.is_dir() and target_dir.resolve().is_relative_to(request.source.resolve()):
        raise SourceError(f"{request.source}: the output folder {target_dir} lies inside the evidence folder; "
                          "nothing is ever written under a source path (choose another --out)")
    custody.require_readable(target_dir.parent)
    findings: tuple[str, ...] = ()
    output: ExhibitOutput | None = None
    cleanup_failure = None
    step = ["starting the run"]  # what the run was doing, for the message when the disk fails it
    hash_hits: int | None = None
    hash_hits_problem: str | None = None
    try:
        # Left in reverse order: workers stopped, scratch removed, then (on failure) staging removed, and the lock let go.
        with ExhibitOutput(target_dir, run_id) as output, run_scratch(scratch_key(target_dir), run_id) as (scratch, stale_scratch), \
                _Executor(config.effective_workers(), settings, credentials, scratch, layout.confinement) as executor:
            hits_file = scratch / "hash_hits.parquet"  # the hit rows, joined once: never in the staging exhibit
            for name in output.stale_removed:
                problems.add("output", "stale_staging_removed", "warning", f"removed the staging folder {name} of this exhibit, left by "
                             "an earlier run that was stopped before it finished (nothing of it was ever published)")
            for name in stale_scratch:
                problems.add("output", "stale_scratch_removed", "warning", f"removed the scratch folder {name} of this exhibit, left by "
                             "an earlier run that was stopped before it finished")
            step[0] = "recording the ingest_started custody event"
            _custody(request, target_dir.parent, "ingest_started", f"run {run_id}", ())
            step[0] = f"writing the parts in {output.staging}"
            evidence = _EvidenceHashes(layout, config, request, executor)
            artefacts = output.open_table(ARTEFACTS, metadata)
            media_table = output.open_table(MEDIA, {**metadata, **media_metadata.reader_metadata()})
            ids = {"case_id": request.case_id, "exhibit_id": request.exhibit_id}
            writer = _OrderedWriter(artefacts, executor, config, progress, on_progress, ids, media_table)
            for volume in walkable:
                for recipe, items in _volume_items(volume, layout, problems):
                    writer.add_volume(volume, recipe, items, _volume_id(volume, layout))
                progress.volumes_done += 1
            writer.finish(problems)
            artefacts.close()
            if config.chats:
                _chat_phase(writer.chat_candidates, executor, output, metadata, ids, problems, request, progress)
            else:
                output.open_table(MESSAGES, {**metadata, **chats.parser_metadata()})
            progress.identifiers = identifiers.write_identifiers(output, metadata, ids, problems, config)
            set_hits = _sealed_hash_set_hits(target_dir.parent, output.staging / f"{ARTEFACTS.name}.parquet", hits_file,
                                             problems)
            source_row = evidence.finish(problems)
            source_row.update(ids)
            source_row["volumes"] = [_volume_struct(v) for v in layout.volumes]
            source_row["started_time"] = started
            source_row["finished_time"] = datetime.now(timezone.utc)
            output.open_table(SOURCES, metadata).append(source_row)
            errors = output.open_table(ERRORS, metadata)
            for index, row in enumerate(problems.rows):
                errors.append({**ids, "error_index": index, **row})
            output.close_parts()
            findings = hash_findings(source_row["hash_checks"])
            outcome = outcome_text(problems.count("error"), findings)
            step[0] = f"sealing {output.staging}"
            manifest = seal(output.staging, {**_seal_facts(request, metadata, source_row, started, outcome), **set_hits},
                            request.signing_key)
            step[0] = f"writing {output.staging} to disk"
            output.sync()
            sealed = [("manifest", "sha256", manifest["root_digest"])]
            sealed += [("media", name, source_row[f"stream_{name}"]) for name in media.MEDIA_ALGORITHMS if source_row.get(f"stream_{name}")]
            # Publishing and its custody event are one step: a signal now waits, and a failed append takes the folder back.
            stop.hold()

            def record_ingested() -> None:
                step[0] = f"recording the ingested custody event (the folder {target_dir} was taken back)"
                _custody(request, target_dir.parent, "ingested", f"run {run_id}: {outcome}", tuple(sealed))

            step[0] = f"publishing {target_dir}"
            output.publish(record_ingested)
            # the rows counted before sealing, merged into the case while the run's scratch still holds them
            hash_hits, hash_hits_problem = _merge_hash_hits(target_dir, request.exhibit_id, hits_file)
    except OSError as error:
        if output is None or not output.published:
            error.add_note(f"while {step[0]}")
            raise
        cleanup_failure = str(error)  # only the run's own scratch or lock was left behind: the exhibit stands
    return Summary(output_dir=target_dir, entries=progress.entries, files_hashed=progress.files_hashed, bytes_hashed=progress.bytes_hashed,
                   errors=problems.count("error"), warnings=problems.count("warning"), seconds=time.monotonic() - progress.started,
                   messages=progress.messages, identifiers=progress.identifiers, hash_findings=findings,
                   held_signal=signal.Signals(stop.held).name if stop.held else None, cleanup_failure=cleanup_failure,
                   hash_hits=hash_hits, hash_hits_problem=hash_hits_problem)


def _sealed_hash_set_hits(case_dir: Path, artefacts: Path, hits_file: Path, problems: Problems) -> dict:
    """The exhibit's hits per hash set of the case, counted before sealing so the manifest states them (the
    hit rows go to `hits_file`, for `_merge_hash_hits` after publishing): the manifest's `hash_set_hits`,
    and `hash_set_status` with `hash_sets_unusable`, which tell a case without sets from one whose sets
    could not be used (both give no hits).

    A set that cannot be used, or a join that fails, is a warning row; the exhibit is ingested either way.
    """
    try:
        counts, set_problems = hashsets.count_hits(case_dir, artefacts, hits_file)
    except (hashsets.HashSetError, OSError) as error:  # a lock or folder of the case it cannot use: the exhibit still stands
        hits_file.unlink(missing_ok=True)  # a half-written file is never merged
        problems.add("hashsets", "hash_set_match_failed", "warning", str(error))
        return {"hash_set_hits": [], "hash_set_status": "failed", "hash_sets_unusable": None}
    for problem in set_problems:
        problems.add("hashsets", "hash_set_unusable", "warning", problem)
    status = "matched" if counts else ("no_usable_set" if set_problems else "no_set")
    return {"hash_set_hits": counts, "hash_set_status": status, "hash_sets_unusable": len(set_problems)}


def _merge_hash_hits(folder: Path, exhibit_id: str, hits_file: Path) -> tuple[int | None, str | None]:
    """The published exhibit's hit rows (joined before sealing) into CASE/hash_hits.parquet: (hit rows, None),
    (None, None) when no hits were counted (no usable set), or (None, why) when merging failed; the exhibit stands either way."""
    if not hits_file.is_file():
        return None, None
    try:
        rows = hashsets.merge_hits(folder.parent, exhibit_id, hits_file)
    except (hashsets.HashSetError, OSError) as error:  # after publishing: the exhibit stands whatever happens here
        return None, str(error)
    return rows, None


def _volume_items(volume: Volume, layout: Layout, problems: Problems) -> Iterator[tuple[VolumeRecipe, Iterator]]:
    """The walker for a volume: TSK where it opens the file system, dfVFS otherwise."""
    if volume.role == "archive":
        recipe = VolumeRecipe(index=volume.index, walker="archive", root=os.fsdecode(layout.source.absolute()))
        yield recipe, archive_walk.walk(layout.source, volume, "GZIP" in layout.format_chain, problems.add)
        return
    if volume.role == "folder":
        recipe = VolumeRecipe(index=volume.index, walker="folder", root=volume.location)
        folder = Path(volume.location)
        logical_paths = None
        if itunes_backup.is_itunes_backup(folder):
            layout.kind = "itunes_backup"
            logical_paths = _backup_logical_paths(folder, volume, problems)
        yield recipe, folder_walk.walk(folder, problems.add, volume.index, logical_paths)
        return
    if volume.file_system in TSK_FILE_SYSTEMS:
        tsk_volume = tsk.tsk_volume_for(volume.path_spec, volume.offset)
        try:
            fs, read_volume = tsk_volume.open_for_walk()
        except tsk.TSK_READ_ERRORS as error:
            problems.add("walk", "tsk_refused", "warning", f"The Sleuth Kit cannot open this {volume.file_system} file system ({error}); "
                         "walked with dfVFS instead (allocated entries only)", volume_index=volume.index, path_spec=volume.path_spec_json())
        else:
            if volume.file_system == "TSK":
                volume.file_system = tsk_file_system_name(int(fs.info.ftype))
            recipe = VolumeRecipe(index=volume.index, walker="tsk", tsk_parent_spec=tsk_volume.parent_spec,
                                  tsk_raw_file=tsk_volume.raw_file, tsk_offset=tsk_volume.offset)
            yield recipe, tsk.walk(fs, tsk_volume.parent_spec, problems.add, volume.index, read_volume)
            return
    recipe = VolumeRecipe(index=volume.index, walker="dfvfs")
    yield recipe, dfvfs_walk.walk(volume.path_spec, problems.add, volume.index)


def _backup_logical_paths(folder: Path, volume: Volume, problems: Problems) -> dict[bytes, str] | None:
    """Stored name -> DOMAIN/relativePath from Manifest.db (read from a copy, never in place)."""
    with tempfile.TemporaryDirectory(prefix="exhibit-backup-", dir=os.environ.get("EXHIBIT_SCRATCH")) as scratch:
        try:
            manifest = itunes_backup.read_manifest(folder, Path(scratch))
        except (itunes_backup.BackupError, OSError) as error:
            problems.add("walk", "backup_manifest_unreadable", "error", f"iTunes backup manifest: {error}; files are catalogued by stored name only",
                         volume_index=volume.index, path="/Manifest.db")
            return None
    for row_error in manifest.errors:
        problems.add("walk", "backup_manifest_row", "warning", f"Manifest.db row {row_error.row_id} field {row_error.field}: {row_error.why}",
                     volume_index=volume.index, path="/Manifest.db")
    return {stored.encode("utf-8", errors="surrogateescape"): entry.logical_path for stored, entry in manifest.files.items()}


class _OrderedWriter:
    """Groups rows into units, sends them to workers, and writes results back in walk order."""

    def __init__(self, table, executor: _Executor, config: Config, progress: Progress,
                 on_progress: Callable[[Progress], None] | None, ids: dict, media_table) -> None:
        self.table = table
        self.media_table = media_table
        self.media_index = 0
        self.executor = executor
        self.config = config
        self.progress = progress
        self.on_progress = on_progress
        self.ids = ids
        self.window: deque = deque()
        self.max_in_flight = 4 * max(1, config.effective_workers())
        self.entry_index = 0
        self.unit_number = 0
        self.last_report = 0.0
        # Read errors are kept apart and appended after the walk's own problems, so the order of
        # errors.parquet does not depend on how many workers ran.
        self.read_problems = Problems()
        self.chat_candidates = chats.CandidateCollector()

    def add_volume(self, volume: Volume, recipe: VolumeRecipe, items: Iterator, volume_id: str | None) -> None:
        base = {**self.ids, "volume_index": volume.index, "volume_id": volume_id, "volume_type": volume.file_system,
                "volume_offset": volume.offset, "logical_path": None}
        rows: list[dict] = []
        unit_items: list = []
        first_index = self.entry_index
        unit_bytes = 0
        for item in items:
            row = {**base, **item.row}
            row["entry_index"] = self.entry_index
            row.setdefault("content_status", "no_content")
            row.setdefault("logical_path", None)
            for name in _CONTENT_FIELDS:
                row.setdefault(name, None)
            target = item.target
            if target is not None:
                if row["is_deleted"] and not self.config.hash_deleted:
                    row["content_status"] = "not_hashed_deleted"
                else:
                    unit_items.append((self.entry_index, list(target), row["name_bytes"].decode("latin-1")))
                    unit_bytes += row["size"] or 0
            rows.append(row)
            self.entry_index += 1
            # A unit ends at batch_size entries or batch_bytes of content, so a few big files are
            # spread over the workers instead of landing in one unit on one core.
            if len(rows) >= self.config.batch_size or unit_bytes >= self.config.batch_bytes:
                self._dispatch(recipe, rows, unit_items)
                rows, unit_items, unit_bytes = [], [], 0
        if rows:
            self._dispatch(recipe, rows, unit_items)
        volume.entries = self.entry_index - first_index

    def _dispatch(self, recipe: VolumeRecipe, rows: list[dict], unit_items: list) -> None:
        future = None
        if unit_items:
            unit = Unit(unit_id=f"{recipe.index}-{self.unit_number}", volume=recipe, items=tuple(unit_items))
            self.unit_number += 1
            future = self.executor.submit(run_unit, unit)
        self.window.append((rows, future, recipe, unit_items))
        while len(self.window) > self.max_in_flight:
            self._drain_one()

    def _drain_one(self) -> None:
        rows, future, recipe, unit_items = self.window.popleft()
        if future is not None:
            first = rows[0]["entry_index"]
            for entry_index, result in sorted(future.result(), key=lambda pair: pair[0]):
                row = rows[entry_index - first]
                media_fields = result.pop("media", None)
                row.update(result)
                if media_fields is not None:
                    self._media_row(row, media_fields)
                identify_error = row.pop("identify_error", None)
                if identify_error is not None:
                    self.read_problems.add("identify", "identify_failed", "error", f"libmagic could not type {row['path']}: {identify_error}",
                                           volume_index=row["volume_index"], path=row["path"], path_spec=row["path_spec"])
                if result.get("content_status") == "read_error":
                    self.read_problems.add("read", result.get("read_error_kind") or "read_error", "error",
                                           f"content of {row['path']} could not be read: {result.get('read_error_message')}",
                                           volume_index=row["volume_index"], path=row["path"], path_spec=row["path_spec"],
                                           offset=result.get("read_error_offset"), length=result.get("read_error_length"))
                if result.get("content_status") in ("hashed", "empty"):
                    self.progress.files_hashed += 1
                    self.progress.bytes_hashed += row["size"] or 0
            targets = {entry_index: target for entry_index, target, _name in unit_items}
            for row in rows:
                self.chat_candidates.consider(row, recipe, targets.get(row["entry_index"]))
        for row in rows:
            self.table.append(row)
        self.progress.entries += len(rows)
        now = time.monotonic()
        if self.on_progress is not None and now - self.last_report > 0.5:
            self.last_report = now
            self.on_progress(self.progress)

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


def _chat_phase(collector: chats.CandidateCollector, executor: _Executor, output: ExhibitOutput, metadata: dict[str, str], ids: dict,
                problems: Problems, request: IngestRequest, progress: Progress) -> None:
    """Parse every chat store found, in entry order, and write messages.parquet (empty when none).

    Each unit's rows come back through a file in the scratch folder and are appended batch by batch,
    in unit order, so the message order is deterministic and memory stays flat.
    """
    table = output.open_table(MESSAGES, {**metadata, **chats.parser_metadata()})
    candidates = collector.candidates
    keys = dict(request.app_keys)
    artefacts_parquet = output.staging / f"{ARTEFACTS.name}.parquet"
    message_index = 0
    with tempfile.TemporaryDirectory(prefix="exhibit-chats-", dir=os.environ.get("EXHIBIT_SCRATCH")) as scratch:
        folder = Path(scratch)
        catalog_file = chats.write_catalog(candidates, folder)
        futures = [executor.submit(chats.run_chat_unit, chats.unit_json(catalog_file, index, keys, folder / f"messages-{index}.bin", request.config))
                   for index, candidate in enumerate(candidates) if candidate.parse]
        for future in futures:
            result = future.result()
            attachments = chats.attachment_index(result["attachment_names"], artefacts_parquet)
            for batch in chats.read_messages(Path(result["messages_file"])):
                chats.resolve_batch(batch, attachments)
                for row in batch:
                    table.append({**ids, "message_index": message_index, **row})
                    message_index += 1
            os.unlink(result["messages_file"])
            for problem in result["problems"]:
                problems.add(problem["stage"], problem["error_kind"], problem["severity"], problem["message"], path=problem["path"],
                             path_spec=problem["path_spec"], parser=problem["parser"], store_table=problem["store_table"],
                             store_row_id=problem["store_row_id"], store_field=problem["store_field"])
    progress.messages = message_index


class _EvidenceHashes:
    """Container-file hashes before and after, and the media hash, run beside the walk."""

    def __init__(self, layout: Layout, config: Config, request: IngestRequest, executor: _Executor) -> None:
        self.layout = layout
        self.config = config
        self.request = request
        self.executor = executor
        self.files = [os.fsdecode(p) for p in layout.container_files]
        media_spec = layout.media_path_spec
        chain = layout.format_chain
        self.raw_file = None
        self.ewf_segments = None
        if media_spec is not None and chain[:1] == [definitions.TYPE_INDICATOR_EWF]:
            self.ewf_segments = self.files
        elif media_spec is not None and chain[:1] == [definitions.TYPE_INDICATOR_RAW] and len(self.files) == 1:
            self.raw_file = self.files[0]
        want_media = media_spec is not None and (config.hash_media or bool(request.expected_hashes))
        self.media_future = executor.submit(media.hash_media, serialize(media_spec), self.ewf_segments, self.raw_file) if want_media else None
        covered = self.raw_file is not None and want_media
        self.before_future = executor.submit(media.sha256_files, self.files) if config.verify_source_files and self.files and not covered else None

    def finish(self, problems: Problems) -> dict:
        row: dict = {
            "source_path": display(os.fsencode(self.request.source)),
            "source_path_bytes": os.fsencode(self.request.source),
            "source_kind": self.layout.kind,
            "format_chain": " > ".join(self.layout.format_chain),
        }
        result = self.media_future.result() if self.media_future is not None else None
        before = self.before_future.result() if self.before_future is not None else None
        if before is None and result is not None and result.raw_file_sha256 is not None:
            path, size, digest = result.raw_file_sha256
            before = [(path, size, digest, None)]
        containers = []
        unchanged = None
        if self.config.verify_source_files and self.files and before is None:
            # The single pass meant to give the "before" hash failed: no before, so no proof either way.
            problems.add("source", "source_unreadable", "error", "container files could not be hashed before the run; "
                         "is_source_unchanged is unknown")
        elif self.config.verify_source_files and self.files:
            after = media.sha256_files(self.files)
            unchanged = True
            for (path, size, digest, error), (_, size_after, digest_after, error_after) in zip(before or [], after):
                same = digest is not None and digest == digest_after and size == size_after
                unchanged = unchanged and same
                containers.append({"path": display(os.fsencode(path)), "size": size, "sha256_before": digest,
                                   "sha256_after": digest_after, "is_unchanged": same})
                for message in (error, error_after):
                    if message:
                        problems.add("source", "source_unreadable", "error", f"{path}: {message}", path=display(os.fsencode(path)))
                if not same and not (error or error_after):
                    problems.add("verify", "source_changed", "error", f"{path}: SHA-256 before {digest} differs from after {digest_after}",
                                 path=display(os.fsencode(path)))
        row["container_files"] = containers or None
        row["is_source_unchanged"] = unchanged
        row.update(self._media_fields(result, problems))
        return row

    def _media_fields(self, result: media.MediaResult | None, problems: Problems) -> dict:
        fields: dict = {"stream_size": None, "stream_md5": None, "stream_sha1": None, "stream_sha256": None, "stream_read_errors": None,
                        "hash_checks": None, "ewf_checksum_errors": None, "acquisition_metadata": None}
        if result is None:
            return fields
        fields["stream_size"] = result.size
        for name in media.MEDIA_ALGORITHMS:
            fields[f"stream_{name}"] = result.hashes.get(name)
        if result.error_message:
            problems.add("source", "media_read_error", "error", result.error_message,
                         offset=result.read_errors[0][0] if result.read_errors else None,
                         length=result.read_errors[0][1] if result.read_errors else None)
        fields["stream_read_errors"] = [{"offset": o, "length": n} for o, n in result.read_errors] or None
        fields["ewf_checksum_errors"] = [{"offset": o, "length": n} for o, n in result.checksum_errors] or None
        fields["acquisition_metadata"] = sorted(result.metadata.items()) or None
        checks = []
        for origin, pairs in (("ewf_stored", sorted(result.stored_hashes.items())), ("expected", list(self.request.expected_hashes))):
            for algorithm, expected in pairs:
                computed = result.hashes.get(algorithm)
                match = None if computed is None else computed == expected.lower()
                checks.append({"origin": origin, "algorithm": algorithm, "expected": expected.lower(), "computed": computed, "is_match": match})
                if match is False:
                    problems.add("verify", "hash_mismatch", "error", f"{origin} {algorithm} {expected.lower()} does not match the computed {computed}")
                elif match is None:
                    problems.add("verify", "hash_unverified", "error", f"{origin} {algorithm} {expected.lower()} could not be compared: the media hash is unavailable")
        fields["hash_checks"] = checks or None
        return fields


def _volume_id(volume: Volume, layout: Layout) -> str:
    """The location that tells a volume apart: its own, or its nearest ancestor's (/p1, /lvm1, /vss2); '/' for a bare one."""
    if volume.role == "folder":
        return "/"
    node: Volume | None = volume
    while node is not None:
        if node.location not in (None, "/", "\\"):
            return node.location
        node = layout.volumes[node.parent_index] if node.parent_index is not None else None
    return "/"


def _custody(request: IngestRequest, case_dir: Path, action: str, notes: str, hashes: tuple[tuple[str, str, str], ...]) -> None:
    """Exhibit's own custody events: the run started, and the run ended with this seal."""
    examiner = request.config.examiner
    event = custody.Event(exhibit_id=request.exhibit_id, action=action, actor_name=examiner or "exhibit (no examiner given)",
                          actor_role="examiner" if examiner else "tool", actor_organisation=request.config.lab or None,
                          purpose="evidence ingest", hashes=hashes, notes=notes, tool_version=__version__)
    custody.append(case_dir, request.case_id, event, request.signing_key)


def _seal_facts(request: IngestRequest, metadata: dict[str, str], source_row: dict, started: datetime, outcome: str) -> dict:
    """Everything the manifest states besides its parts; times in UTC, ISO 8601."""
    return {
        "case_id": request.case_id,
        "exhibit_id": request.exhibit_id,
        "description": request.description,
        "run_id": metadata["exhibit.run_id"],
        "tool": {"name": "exhibit", "version": __version__},
        "libraries": {k.removeprefix("exhibit.library."): v for k, v in metadata.items() if k.startswith("exhibit.library.")},
        "config_digest": metadata["exhibit.config_digest"],
        "examiner": request.config.examiner,
        "lab": request.config.lab,
        "host": socket.gethostname(),
        "started": started.isoformat(),
        "finished": source_row["finished_time"].isoformat(),
        "outcome": outcome,
        "custody_head": custody.head(exhibit_dir(Path(request.config.output_dir), request.case_id, request.exhibit_id).parent),
        "source": {
            "path": source_row["source_path"],
            "kind": source_row["source_kind"],
            "container_files": source_row["container_files"],
            "is_source_unchanged": source_row["is_source_unchanged"],
            "stream_size": source_row["stream_size"],
            "stream_md5": source_row["stream_md5"],
            "stream_sha1": source_row["stream_sha1"],
            "stream_sha256": source_row["stream_sha256"],
            "hash_checks": source_row["hash_checks"],
        },
    }


def _volume_struct(volume: Volume) -> dict:
    return {
        "index": volume.index,
        "parent_index": volume.parent_index,
        "location": volume.location,
        "type": volume.type,
        "role": volume.role,
        "offset": volume.offset,
        "size": volume.size,
        "is_encrypted": volume.encrypted,
        "is_unlocked": volume.unlocked,
        "file_system": volume.file_system,
        "entries": volume.entries,
        "status": volume.status,
        "path_spec": volume.path_spec_json(),
    }


__all__ = ["IngestRequest", "Progress", "Summary", "exhibit_dir", "ingest"]
