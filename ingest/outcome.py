"""How a run ended, in numbers and in words: the summary the CLI prints and the manifest's outcome."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HASH_ORIGINS = {"expected": "--expected-hash", "ewf_stored": "the E01 stored hash"}
HASH_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256"}


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
    units_retried: int = 0  # units (or halves of units) run again after their worker crashed, hung or ran out of memory
    artefacts_given_up: int = 0  # artefacts whose content could not be read even alone (errors rows unit_crashed, ...)

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


__all__ = ["Summary", "hash_findings", "outcome_text", "plural"]
