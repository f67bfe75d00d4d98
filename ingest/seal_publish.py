"""Seal and publish: what the manifest states besides its parts, the custody events of the run, and
the case's hash sets matched against the exhibit before its seal and merged after it is published."""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path

from case import hashsets
from ingest import __version__
from ingest.naming import encode_id
from ingest.problems import Problems
from ingest.request import IngestRequest
from ingest.scan import Volume
from manifests import custody


def exhibit_dir(out_dir: Path, case_id: str, exhibit_id: str) -> Path:
    return out_dir / encode_id(case_id) / encode_id(exhibit_id)


def record_custody(request: IngestRequest, case_dir: Path, action: str, notes: str, hashes: tuple[tuple[str, str, str], ...]) -> None:
    """Exhibit's own custody events: the run started, and the run ended with this seal."""
    examiner = request.config.examiner
    event = custody.Event(exhibit_id=request.exhibit_id, action=action, actor_name=examiner or "exhibit (no examiner given)",
                          actor_role="examiner" if examiner else "tool", actor_organisation=request.config.lab or None,
                          purpose="evidence ingest", hashes=hashes, notes=notes, tool_version=__version__)
    custody.append(case_dir, request.case_id, event, request.signing_key)


def seal_facts(request: IngestRequest, metadata: dict[str, str], source_row: dict, started: datetime, outcome: str) -> dict:
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


def volume_struct(volume: Volume) -> dict:
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


def sealed_hash_set_hits(case_dir: Path, artefacts: Path, hits_file: Path, problems: Problems) -> dict:
    """The exhibit's hits per hash set of the case, counted before sealing so the manifest states them (the
    hit rows go to `hits_file`, for `merge_hash_hits` after publishing): the manifest's `hash_set_hits`,
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


def merge_hash_hits(folder: Path, exhibit_id: str, hits_file: Path) -> tuple[int | None, str | None]:
    """The published exhibit's hit rows (joined before sealing) into CASE/hash_hits.parquet: (hit rows, None),
    (None, None) when no hits were counted (no usable set), or (None, why) when merging failed; the exhibit stands either way."""
    if not hits_file.is_file():
        return None, None
    try:
        rows = hashsets.merge_hits(folder.parent, exhibit_id, hits_file)
    except (hashsets.HashSetError, OSError) as error:  # after publishing: the exhibit stands whatever happens here
        return None, str(error)
    return rows, None


__all__ = ["exhibit_dir", "merge_hash_hits", "record_custody", "seal_facts", "sealed_hash_set_hits", "volume_struct"]
