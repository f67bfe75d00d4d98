"""One ingest, start to finish. Read it top-down; each step is its own module:

1. scan the source (`ingest.scan`): containers, volume systems, file systems, what is encrypted;
2. walk every volume and cut units (`ingest.walk`);
3. content units (`ingest.content_units`): hash, type and read media metadata in the workers;
4. chat units (`ingest.chat_units`): parse the chat stores found into messages;
5. identifiers from messages and media (`ingest.identifiers`);
6. evidence hashes (`ingest.evidence_hashes`): container files before and after, the media stream;
7. seal and publish (`ingest.seal_publish`, `manifests.seal`, `manifests.writer`): the manifest,
   the custody event, the atomic rename, the case's hash sets.

Units run on a runner (`ingest.tasks`): the watchdog's worker processes (`ingest.watchdog`), or a Dask cluster's
workers (`ingest.cluster`) when the request names one; either way every result comes back here, and only this
process writes, seals and appends custody. Whatever stops a run before step 7 publishes nothing.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ingest import __version__, chats, confine, identifiers, media, media_metadata
from ingest.chat_units import chat_phase
from ingest.cluster import ClusterChoice, ClusterRunner
from ingest.config import Config
from ingest.content import ContentSettings
from ingest.content_units import ContentPhase
from ingest.evidence_hashes import EvidenceHashes
from ingest.outcome import Summary, hash_findings, outcome_text, plural
from ingest.problems import Problems
from ingest.request import IngestRequest, Progress
from ingest.scan import Layout, SourceError, scan_source
from ingest.seal_publish import exhibit_dir, merge_hash_hits, record_custody, seal_facts, sealed_hash_set_hits, volume_struct
from ingest.stopping import StopOnSignals, run_scratch, scratch_key
from ingest.tasks import Runner
from ingest.versions import library_versions
from ingest.walk import UnitCutter, volume_id, volume_items
from ingest.watchdog import InlineRunner, Supervisor
from ingest.work import init_pool_worker, init_worker, release_worker
from manifests import custody
from manifests.schemas import ARTEFACTS, ERRORS, MEDIA, MESSAGES, SOURCES
from manifests.seal import seal
from manifests.writer import ExhibitOutput


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


def _metadata(request: IngestRequest, run_id: str) -> dict[str, str]:
    """Key-value metadata every part carries: who and what made it, with which libraries."""
    config = request.config
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
    return metadata


def _target_dir(request: IngestRequest) -> Path:
    target_dir = exhibit_dir(Path(request.config.output_dir), request.case_id, request.exhibit_id)
    if request.source.is_dir() and target_dir.resolve().is_relative_to(request.source.resolve()):
        raise SourceError(f"{request.source}: the output folder {target_dir} lies inside the evidence folder; "
                          "nothing is ever written under a source path (choose another --out)")
    custody.require_readable(target_dir.parent)
    return target_dir


def _runner(config: Config, layout: Layout, scratch: Path, cluster: ClusterChoice | None = None) -> Runner:
    """The Dask cluster when the request names one; else the watchdog's worker processes; the calling
    process itself for one worker or `isolation = "inline"`.

    In-process there is no watchdog: a crash or hang of a native library takes the run with it.
    That is for debugging (and for tests that patch a parser); every other run is watched."""
    settings = ContentSettings(algorithms=config.algorithms, chunk_size=config.chunk_size, magic_bytes=config.magic_bytes, media=config.media)
    credentials = [(v.path_spec_json(), v.credential[0], v.credential[1]) for v in layout.volumes if v.credential is not None]
    if cluster is not None:
        return ClusterRunner(cluster.scheduler, settings, credentials, layout.confinement, cluster.path_map)
    workers = config.effective_workers()
    if workers == 1 or config.isolation == "inline":
        return InlineRunner(init_worker, (settings, credentials, layout.confinement), release_worker)
    return Supervisor(workers, init_pool_worker, (settings, credentials, str(scratch), os.getpid(), layout.confinement), config.limits())


def _stale_warnings(output: ExhibitOutput, stale_scratch: list[str], problems: Problems) -> None:
    for name in output.stale_removed:
        problems.add("output", "stale_staging_removed", "warning", f"removed the staging folder {name} of this exhibit, left by "
                     "an earlier run that was stopped before it finished (nothing of it was ever published)")
    for name in stale_scratch:
        problems.add("output", "stale_scratch_removed", "warning", f"removed the scratch folder {name} of this exhibit, left by "
                     "an earlier run that was stopped before it finished")


class _Run:
    """The state one ingest carries from step to step."""

    def __init__(self, request: IngestRequest, progress: Progress, on_progress: Callable[[Progress], None] | None) -> None:
        self.request = request
        self.config = request.config
        self.progress = progress
        self.on_progress = on_progress
        self.started = datetime.now(timezone.utc)
        self.run_id = uuid.uuid4().hex
        self.problems = Problems()
        self.metadata = _metadata(request, self.run_id)
        self.ids = {"case_id": request.case_id, "exhibit_id": request.exhibit_id}
        self.step = "starting the run"  # what the run was doing, for the message when the disk fails it
        self.units_retried = 0
        self.artefacts_given_up = 0

    def content(self, layout: Layout, output: ExhibitOutput, runner: Runner) -> chats.CandidateCollector:
        """Steps 2 and 3: walk every volume, cut units, run them, write artefacts and media rows in walk order."""
        artefacts = output.open_table(ARTEFACTS, self.metadata)
        media_table = output.open_table(MEDIA, {**self.metadata, **media_metadata.reader_metadata()})
        phase = ContentPhase(artefacts, media_table, runner, self.config, self.progress, self.on_progress, self.ids)
        cutter = UnitCutter(self.config, self.ids)
        for volume in layout.walkable():
            for recipe, items in volume_items(volume, layout, self.problems):
                for batch in cutter.batches(volume, recipe, items, volume_id(volume, layout)):
                    phase.add(batch)
            self.progress.volumes_done += 1
        phase.finish(self.problems)
        artefacts.close()
        self.units_retried += phase.units_retried
        self.artefacts_given_up += phase.artefacts_given_up
        return phase.chat_candidates

    def chats(self, candidates: chats.CandidateCollector, output: ExhibitOutput, runner: Runner) -> None:
        """Step 4 (an empty messages.parquet when chats are off)."""
        if self.config.chats:
            self.units_retried += chat_phase(candidates, runner, output, self.metadata, self.ids, self.problems, self.request, self.progress)
        else:
            output.open_table(MESSAGES, {**self.metadata, **chats.parser_metadata()})

    def source_and_errors(self, layout: Layout, evidence: EvidenceHashes, output: ExhibitOutput) -> dict:
        """Step 6's row in sources.parquet, then every problem of the run in errors.parquet."""
        source_row = evidence.finish(self.problems)
        source_row.update(self.ids)
        source_row["volumes"] = [volume_struct(v) for v in layout.volumes]
        source_row["started_time"] = self.started
        source_row["finished_time"] = datetime.now(timezone.utc)
        output.open_table(SOURCES, self.metadata).append(source_row)
        errors = output.open_table(ERRORS, self.metadata)
        for index, row in enumerate(self.problems.rows):
            errors.append({**self.ids, "error_index": index, **row})
        output.close_parts()
        return source_row

    def engine_facts(self) -> dict:
        """How the tasks ran; `cluster` (the scheduler and path map) only when they ran on one."""
        facts: dict = {"units_retried": self.units_retried, "artefacts_given_up": self.artefacts_given_up}
        if self.request.cluster is not None:
            facts["cluster"] = self.request.cluster.facts()
        return facts

    def custody_note(self, text: str) -> str:
        cluster = self.request.cluster
        return text if cluster is None else f"{text} (tasks on the Dask cluster at {cluster.scheduler})"


def _ingest(request: IngestRequest, stop: StopOnSignals, progress: Progress, on_progress: Callable[[Progress], None] | None) -> Summary:
    os.environ["TZ"] = "UTC"
    time.tzset()
    run = _Run(request, progress, on_progress)
    layout = scan_source(request.source, request.credentials, request.config.vss, run.problems, request.parent_dirs)
    progress.volumes_total = len(layout.walkable())
    target_dir = _target_dir(request)
    findings: tuple[str, ...] = ()
    output: ExhibitOutput | None = None
    cleanup_failure = None
    hash_hits: int | None = None
    hash_hits_problem: str | None = None
    try:
        # Left in reverse order: workers stopped, scratch removed, then (on failure) staging removed, and the lock let go.
        with ExhibitOutput(target_dir, run.run_id) as output, run_scratch(scratch_key(target_dir), run.run_id) as (scratch, stale_scratch), \
                _runner(request.config, layout, scratch, request.cluster) as runner:
            hits_file = scratch / "hash_hits.parquet"  # the hit rows, joined once: never in the staging exhibit
            _stale_warnings(output, stale_scratch, run.problems)
            run.step = "recording the ingest_started custody event"
            record_custody(request, target_dir.parent, "ingest_started", run.custody_note(f"run {run.run_id}"), ())
            run.step = f"writing the parts in {output.staging}"
            evidence = EvidenceHashes(layout, request.config, request, runner)
            candidates = run.content(layout, output, runner)
            run.chats(candidates, output, runner)
            progress.identifiers = identifiers.write_identifiers(output, run.metadata, run.ids, run.problems, request.config)
            set_hits = sealed_hash_set_hits(target_dir.parent, output.staging / f"{ARTEFACTS.name}.parquet", hits_file, run.problems)
            source_row = run.source_and_errors(layout, evidence, output)
            findings = hash_findings(source_row["hash_checks"])
            outcome = outcome_text(run.problems.count("error"), findings)
            run.step = f"sealing {output.staging}"
            facts = {**seal_facts(request, run.metadata, source_row, run.started, outcome), **set_hits, **run.engine_facts()}
            manifest = seal(output.staging, facts, request.signing_key)
            run.step = f"writing {output.staging} to disk"
            output.sync()
            sealed = [("manifest", "sha256", manifest["root_digest"])]
            sealed += [("media", name, source_row[f"stream_{name}"]) for name in media.MEDIA_ALGORITHMS if source_row.get(f"stream_{name}")]
            # Publishing and its custody event are one step: a signal now waits, and a failed append takes the folder back.
            stop.hold()

            def record_ingested() -> None:
                run.step = f"recording the ingested custody event (the folder {target_dir} was taken back)"
                record_custody(request, target_dir.parent, "ingested", run.custody_note(f"run {run.run_id}: {outcome}"), tuple(sealed))

            run.step = f"publishing {target_dir}"
            output.publish(record_ingested)
            # the rows counted before sealing, merged into the case while the run's scratch still holds them
            hash_hits, hash_hits_problem = merge_hash_hits(target_dir, request.exhibit_id, hits_file)
    except OSError as error:
        if output is None or not output.published:
            error.add_note(f"while {run.step}")
            raise
        cleanup_failure = str(error)  # only the run's own scratch or lock was left behind: the exhibit stands
    problems = run.problems
    return Summary(output_dir=target_dir, entries=progress.entries, files_hashed=progress.files_hashed, bytes_hashed=progress.bytes_hashed,
                   errors=problems.count("error"), warnings=problems.count("warning"), seconds=time.monotonic() - progress.started,
                   messages=progress.messages, identifiers=progress.identifiers, hash_findings=findings,
                   held_signal=signal.Signals(stop.held).name if stop.held else None, cleanup_failure=cleanup_failure,
                   hash_hits=hash_hits, hash_hits_problem=hash_hits_problem, units_retried=run.units_retried,
                   artefacts_given_up=run.artefacts_given_up)


__all__ = ["IngestRequest", "Progress", "Summary", "exhibit_dir", "ingest", "plural"]
