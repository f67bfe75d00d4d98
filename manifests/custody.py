"""The custody ledger: CASE/custody.parquet, an append-only, hash-chained record of who handled each
exhibit, when, where and why.

Each event's SHA-256 covers its own fields and the previous event's SHA-256, so removing,
reordering or editing any event breaks every hash after it. Appends take an exclusive lock on
CASE/.custody.lock and replace the file atomically, so concurrent appends never lose an event and
a crash never leaves half a ledger.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from manifests.keys import fingerprint
from manifests.schemas import CUSTODY

LEDGER_NAME = "custody.parquet"
LOCK_NAME = ".custody.lock"
GENESIS = "0" * 64
ACTIONS = ("seized", "received", "acquired", "ingest_started", "ingested", "verified", "transferred", "exported", "returned",
           "disposed", "note")
_HASHED_FIELDS = [c.name for c in CUSTODY.columns if c.name not in ("event_sha256", "signature", "signer_fingerprint")]


class CustodyError(ValueError):
    """A custody event is incomplete or the ledger cannot be written."""


@dataclass(frozen=True)
class Event:
    """What a person (or Exhibit itself) states about an exhibit."""

    exhibit_id: str
    action: str
    actor_name: str
    actor_role: str | None = None
    actor_organisation: str | None = None
    from_party: str | None = None
    to_party: str | None = None
    occurred: datetime | None = None
    location: str | None = None
    purpose: str | None = None
    authority: str | None = None
    hashes: tuple[tuple[str, str, str], ...] = ()  # (subject, algorithm, value)
    notes: str | None = None
    tool_version: str | None = None


def _canonical_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(row: dict) -> str:
    """SHA-256 over the event's fields (times as UTC ISO 8601) and the previous event's hash."""
    body = {}
    for name in _HASHED_FIELDS:
        value = row[name]
        body[name] = _canonical_time(value) if isinstance(value, datetime) else value
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()


def read_events(case_dir: Path) -> list[dict]:
    path = case_dir / LEDGER_NAME
    if not path.exists():
        return []
    return pq.read_table(path).to_pylist()


def append(case_dir: Path, case_id: str, event: Event, signing_key: Ed25519PrivateKey | None = None) -> dict:
    """Add one event to the case's ledger under the lock; returns the row as written."""
    if event.action not in ACTIONS:
        raise CustodyError(f"action {event.action!r} is not one of {', '.join(ACTIONS)}")
    if not event.exhibit_id or not event.actor_name:
        raise CustodyError("an event needs an exhibit id and the name of who acted")
    case_dir.mkdir(parents=True, exist_ok=True)
    lock = os.open(case_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = read_events(case_dir)
        row = _row(case_id, event, len(rows), rows[-1]["event_sha256"] if rows else GENESIS, signing_key)
        _write(case_dir, rows + [row])
        return row
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)


def _row(case_id: str, event: Event, index: int, previous: str, signing_key: Ed25519PrivateKey | None) -> dict:
    occurred = event.occurred or datetime.now(timezone.utc).astimezone()
    if occurred.tzinfo is None:
        raise CustodyError("the time of an event must carry its UTC offset")
    offset = occurred.utcoffset()
    row = {
        "case_id": case_id,
        "event_index": index,
        "exhibit_id": event.exhibit_id,
        "action": event.action,
        "actor_name": event.actor_name,
        "actor_role": event.actor_role,
        "actor_organisation": event.actor_organisation,
        "from_party": event.from_party,
        "to_party": event.to_party,
        "occurred": occurred.astimezone(timezone.utc),
        "utc_offset_minutes": int(offset.total_seconds() // 60) if offset is not None else 0,
        "location": event.location,
        "purpose": event.purpose,
        "authority": event.authority,
        "hashes": [{"subject": s, "algorithm": a, "value": v} for s, a, v in event.hashes],
        "notes": event.notes,
        "tool_version": event.tool_version,
        "host": socket.gethostname(),
        "previous_sha256": previous,
    }
    row["event_sha256"] = event_hash(row)
    row["signature"] = base64.b64encode(signing_key.sign(bytes.fromhex(row["event_sha256"]))).decode() if signing_key else None
    row["signer_fingerprint"] = fingerprint(signing_key.public_key()) if signing_key else None
    return row


def _write(case_dir: Path, rows: list[dict]) -> None:
    temporary = case_dir / f".{LEDGER_NAME}.{os.getpid()}.tmp"
    try:
        pq.write_table(pa.Table.from_pylist(rows, schema=CUSTODY.arrow_schema()), temporary, compression="zstd")
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, case_dir / LEDGER_NAME)
    except BaseException:  # a full disk or a stop: the ledger stays as it was, with no half-written copy beside it
        temporary.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class ChainCheck:
    what: str
    ok: bool
    detail: str


def verify_chain(case_dir: Path, trusted: list[Ed25519PublicKey]) -> list[ChainCheck]:
    """Every event in order, each hash recomputed and linked, each signature checked."""
    rows = read_events(case_dir)
    if not rows:
        return [ChainCheck("custody ledger", False, f"{LEDGER_NAME} is missing or empty")]
    checks = []
    previous = GENESIS
    by_fingerprint = {fingerprint(key): key for key in trusted}
    for position, row in enumerate(rows):
        label = f"custody event {position} ({row['action']} {row['exhibit_id']})"
        problems = []
        if row["event_index"] != position:
            problems.append(f"event_index {row['event_index']} at position {position} (removed or reordered)")
        if row["previous_sha256"] != previous:
            problems.append("previous_sha256 does not match the event before it (removed, inserted or reordered)")
        computed = event_hash(row)
        if computed != row["event_sha256"]:
            problems.append(f"event_sha256 {row['event_sha256']} != recomputed {computed} (edited)")
        if row["signature"]:
            key = by_fingerprint.get(row["signer_fingerprint"])
            if key is None:
                problems.append(f"signed by untrusted key {row['signer_fingerprint']}")
            else:
                try:
                    key.verify(base64.b64decode(row["signature"], validate=True), bytes.fromhex(row["event_sha256"]))
                except (InvalidSignature, binascii.Error, ValueError):
                    problems.append("signature does not match the event")
        checks.append(ChainCheck(label, not problems, "; ".join(problems) or f"sha256 {row['event_sha256']}"))
        previous = row["event_sha256"]
    return checks


def latest_seal(case_dir: Path, exhibit_id: str) -> str | None:
    """The manifest root digest named by the exhibit's latest `ingested` event."""
    for row in reversed(read_events(case_dir)):
        if row["exhibit_id"] == exhibit_id and row["action"] == "ingested":
            for entry in row["hashes"] or []:
                if entry["subject"] == "manifest" and entry["algorithm"] == "sha256":
                    return entry["value"]
            return None
    return None
