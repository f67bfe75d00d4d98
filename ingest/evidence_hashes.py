"""Evidence hashes: the container files before and after the run, and the whole media stream.

They run as tasks beside the walk (the media hash reads the whole device, so it starts first and
overlaps the content units); the "after" hash runs at the end, once every read of the evidence
is over, so `is_source_unchanged` covers the whole run.
"""

from __future__ import annotations

import os
from concurrent.futures import Future

from dfvfs.lib import definitions

from ingest import media
from ingest.config import Config
from ingest.path_specs import serialize
from ingest.problems import Problems
from ingest.request import IngestRequest
from ingest.scan import Layout
from ingest.tasks import Outcome, Runner
from manifests.text import display


def _content_bytes(files: list[str]) -> int:
    """What the files hold, for the task's time limit; a file that cannot be looked at counts 0 (hashing it reports why)."""
    total = 0
    for path in files:
        try:
            total += os.stat(path).st_size
        except OSError:
            continue  # the hash task meets the same error and makes it a row
    return total


class EvidenceHashes:
    """Container-file hashes before and after, and the media hash, run beside the walk."""

    def __init__(self, layout: Layout, config: Config, request: IngestRequest, runner: Runner) -> None:
        self.layout = layout
        self.config = config
        self.request = request
        self.files = [os.fsdecode(p) for p in layout.container_files]
        media_spec = layout.media_path_spec
        chain = layout.format_chain
        ewf_segments = None
        raw_file = None
        if media_spec is not None and chain[:1] == [definitions.TYPE_INDICATOR_EWF]:
            ewf_segments = self.files
        elif media_spec is not None and chain[:1] == [definitions.TYPE_INDICATOR_RAW] and len(self.files) == 1:
            raw_file = self.files[0]
        size = _content_bytes(self.files)
        want_media = media_spec is not None and (config.hash_media or bool(request.expected_hashes))
        self.media_future: Future | None = None
        if want_media:
            self.media_future = runner.submit(media.hash_media_items, [(serialize(media_spec), ewf_segments, raw_file)], [size])
        covered = raw_file is not None and want_media
        self.before_future: Future | None = None
        if config.verify_source_files and self.files and not covered:
            self.before_future = runner.submit(media.sha256_files_items, [self.files], [size])

    def finish(self, problems: Problems) -> dict:
        row: dict = {
            "source_path": display(os.fsencode(self.request.source)),
            "source_path_bytes": os.fsencode(self.request.source),
            "source_kind": self.layout.kind,
            "format_chain": " > ".join(self.layout.format_chain),
        }
        result = _only_result(self.media_future, "the media stream hash", problems)
        before = _only_result(self.before_future, "the container files' hash before the run", problems)
        if before is None and result is not None and result.raw_file_sha256 is not None:
            path, size, digest = result.raw_file_sha256
            before = [(path, size, digest, None)]
        row.update(self._container_fields(before, problems))
        row.update(self._media_fields(result, problems))
        return row

    def _container_fields(self, before: list | None, problems: Problems) -> dict:
        containers = []
        unchanged = None
        if self.config.verify_source_files and self.files and before is None:
            # The single pass meant to give the "before" hash failed: no before, so no proof either way.
            problems.add("source", "source_unreadable", "error", "container files could not be hashed before the run; "
                         "is_source_unchanged is unknown")
        elif self.config.verify_source_files and self.files:
            after = media.sha256_files(self.files)
            unchanged = True
            for (path, size, digest, error), (_, size_after, digest_after, error_after) in zip(before, after, strict=True):
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
        return {"container_files": containers or None, "is_source_unchanged": unchanged}

    def _media_fields(self, result: media.MediaResult | None, problems: Problems) -> dict:
        fields: dict = {"stream_size": None, "stream_md5": None, "stream_sha1": None, "stream_sha256": None, "stream_read_errors": None,
                        "hash_checks": None, "ewf_checksum_errors": None, "acquisition_metadata": None}
        if result is not None:
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
        if result is None and self.media_future is None:
            return fields
        fields["hash_checks"] = self._hash_checks(result.hashes if result is not None else {},
                                                  result.stored_hashes if result is not None else {}, problems) or None
        return fields

    def _hash_checks(self, computed_hashes: dict, stored_hashes: dict, problems: Problems) -> list[dict]:
        checks = []
        for origin, pairs in (("ewf_stored", sorted(stored_hashes.items())), ("expected", list(self.request.expected_hashes))):
            for algorithm, expected in pairs:
                computed = computed_hashes.get(algorithm)
                match = None if computed is None else computed == expected.lower()
                checks.append({"origin": origin, "algorithm": algorithm, "expected": expected.lower(), "computed": computed, "is_match": match})
                if match is False:
                    problems.add("verify", "hash_mismatch", "error", f"{origin} {algorithm} {expected.lower()} does not match the computed {computed}")
                elif match is None:
                    problems.add("verify", "hash_unverified", "error", f"{origin} {algorithm} {expected.lower()} could not be compared: the media hash is unavailable")
        return checks


def _only_result(future: Future | None, what: str, problems: Problems):
    """The one result of a single-item evidence task, or None with an errors row when the runner gave it up."""
    if future is None:
        return None
    outcome: Outcome = future.result()
    for failure in outcome.failures:
        problems.add("source", failure.kind, "error", f"{what} was given up: {failure.detail}")
    return outcome.results[0] if outcome.results else None


__all__ = ["EvidenceHashes"]
