"""The custody ledger: CASE/custody.parquet, an append-only, hash-chained record of who handled each
exhibit, when, where and why.

Each event's SHA-256 covers its own fields and the previous event's SHA-256, so removing,
reordering or editing any event breaks every hash after it. Only a ledger of the current table
version is read: an older one (version 1 named the time `occurred`, in microseconds) is refused by
name, never converted, since converting would change every event's hash. Appends take an exclusive lock on
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

from manifests.confined import Refused, brief, open_member, short
from manifests.files import fsync_file
from manifests.keys import fingerprint
from manifests.schemas import CUSTODY

LEDGER_NAME = "custody.parquet"
LOCK_NAME = ".custody.lock"
GENESIS = "0" * 64
ACTIONS = ("seized", "received", "acquired", "ingest_started", "ingested", "verified", "transferred", "exported", "returned",
           "disposed", "note", "hashset_imported")
INGEST_ACTIONS = ("ingest_started", "ingested")
# Events about the case itself rather than one exhibit: their exhibit_id is "", which no exhibit can have
# (ingest and `custody add` refuse an empty id). Only `exhibit hashset import` writes them.
CASE_ACTIONS = ("hashset_imported",)
HUMAN_ACTIONS = tuple(action for action in ACTIONS if action not in INGEST_ACTIONS + CASE_ACTIONS)
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
    """UTC ISO 8601 with nine fractional digits (the column's nanoseconds; an event's time is whole microseconds)."""
    utc = value.astimezone(timezone.utc)
    return f"{utc.strftime('%Y-%m-%dT%H:%M:%S')}.{utc.microsecond * 1000:09d}Z"


def event_hash(row: dict) -> str:
    """SHA-256 over the event's fields (times as UTC ISO 8601) and the previous event's hash."""
    body = {}
    for name in _HASHED_FIELDS:
        value = row[name]
        body[name] = _canonical_time(value) if isinstance(value, datetime) else value
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()


class LedgerError(CustodyError):
    """custody.parquet is a symbolic link, not Parquet, or not of the ledger's schema."""


MAX_LEDGER_BYTES = 1 << 30
_REQUIRED = [c.name for c in CUSTODY.columns if not c.nullable]


@dataclass(frozen=True)
class Ledger:
    """The events of a ledger, or why it cannot be read (then `events` is empty and `problem` says why)."""

    events: list[dict]
    problem: str | None = None

    @property
    def head(self) -> dict | None:
        return head_of(self.events)


def read_ledger(case_dir: Path) -> Ledger:
    """The ledger as read, never raising: a missing ledger is empty, a malformed one has a problem."""
    try:
        return Ledger(read_events(case_dir))
    except LedgerError as error:
        return Ledger([], str(error))


def require_readable(case_dir: Path) -> None:
    """LedgerError naming the file when the case's ledger exists but cannot be read: a run must not start then."""
    problem = read_ledger(case_dir).problem
    if problem is not None:
        raise LedgerError(f"{case_dir / LEDGER_NAME}: the case's custody ledger cannot be read ({problem}); nothing was written "
                          "(restore the ledger from a copy first; it is never replaced by a new one)")


def read_events(case_dir: Path) -> list[dict]:
    """Every event, oldest first ([] when there is no ledger); LedgerError when it cannot be trusted to be one."""
    try:
        descriptor = open_member(case_dir, LEDGER_NAME, MAX_LEDGER_BYTES)
    except Refused as error:
        raise LedgerError(f"{LEDGER_NAME} {error}") from None
    if descriptor is None:
        return []
    try:
        with os.fdopen(descriptor, "rb") as handle:
            table = pq.read_table(handle)
    except (OSError, pa.ArrowException, ValueError) as error:
        raise LedgerError(f"{LEDGER_NAME} is not a readable Parquet file: {error}") from None
    version = (table.schema.metadata or {}).get(b"exhibit.table_version")
    if version != str(CUSTODY.version).encode():
        named = f"version {short(version.decode('utf-8', errors='backslashreplace'))}" if version is not None else "no table version"
        raise LedgerError(f"{LEDGER_NAME} is a custody ledger of {named}; this Exhibit reads only version {CUSTODY.version} "
                          "ledgers and does not convert an older one (that would change every event's hash): read it with "
                          "the Exhibit version that wrote it")
    expected = CUSTODY.arrow_schema()
    if table.schema.names != expected.names:
        raise LedgerError(f"{LEDGER_NAME} has columns {table.schema.names}, not the ledger's {expected.names}")
    wrong = [f"{field.name} is {table.schema.field(field.name).type}, not {field.type}" for field in expected
             if not table.schema.field(field.name).type.equals(field.type)]
    if wrong:
        raise LedgerError(f"{LEDGER_NAME} has columns of the wrong type: {'; '.join(wrong)}")
    try:
        rows = table.to_pylist()
    except ValueError as error:  # a time finer than the microseconds every event is written with
        raise LedgerError(f"{LEDGER_NAME} holds a value that cannot be read exactly: {error}") from None
    for position, row in enumerate(rows):
        missing = [name for name in _REQUIRED if row[name] is None]
        if missing:
            raise LedgerError(f"{LEDGER_NAME}: the event at position {position} has no {', '.join(missing)}")
    return rows


def head_of(events: list[dict]) -> dict | None:
    """The newest event as a seal records it: its index and SHA-256 (None for an empty ledger)."""
    if not events:
        return None
    return {"event_index": events[-1]["event_index"], "event_sha256": events[-1]["event_sha256"]}


def head(case_dir: Path) -> dict | None:
    """{"event_index", "event_sha256"} of the ledger's newest event; None when empty; LedgerError when unreadable."""
    return head_of(read_events(case_dir))


def append(case_dir: Path, case_id: str, event: Event, signing_key: Ed25519PrivateKey | None = None) -> dict:
    """Add one event to the case's ledger under the lock; returns the row as written."""
    if event.action not in ACTIONS:
        raise CustodyError(f"action {event.action!r} is not one of {', '.join(ACTIONS)}")
    if event.action in CASE_ACTIONS:
        if event.exhibit_id or not event.actor_name:
            raise CustodyError(f"a {event.action} event is about the case (empty exhibit id) and needs the name of who acted")
    elif not event.exhibit_id or not event.actor_name:
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
        "occurred_time": occurred.astimezone(timezone.utc),
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
    replaced = False
    try:
        pq.write_table(pa.Table.from_pylist(rows, schema=CUSTODY.arrow_schema()), temporary, compression="zstd")
        fsync_file(temporary)
        os.replace(temporary, case_dir / LEDGER_NAME)
        replaced = True
    finally:
        if not replaced:  # a full disk or a stop: the ledger stays as it was, with no half-written copy beside it
            temporary.unlink(missing_ok=True)


def record(case_dir: Path, case_id: str, event: Event, signing_key: Ed25519PrivateKey | None, exhibit_sealed: bool,
           new_exhibit: bool) -> dict:
    """A person's event: never one only ingest writes, and only for an exhibit the case holds unless it is new.

    An exhibit is held when its folder is sealed (`exhibit_sealed`) or an earlier event names it; events are
    never removed, so a check made before taking the append lock stays true.
    """
    if event.action in INGEST_ACTIONS:
        raise CustodyError(f"action {event.action!r} is written by `exhibit ingest` only; a person records one of {', '.join(HUMAN_ACTIONS)}")
    if event.action in CASE_ACTIONS:
        raise CustodyError(f"action {event.action!r} is written by `exhibit hashset import` only; a person records one of {', '.join(HUMAN_ACTIONS)}")
    if not new_exhibit and not exhibit_sealed and not any(row["exhibit_id"] == event.exhibit_id for row in read_events(case_dir)):
        raise CustodyError(f"the case holds no exhibit {event.exhibit_id!r} (no sealed exhibit folder and no earlier event for it); "
                           "an event before ingest (such as its seizure) is recorded with --new-exhibit")
    return append(case_dir, case_id, event, signing_key)


@dataclass(frozen=True)
class ChainCheck:
    """One line of the ledger's verification; `kind` is ledger, chain or signature."""

    what: str
    ok: bool
    detail: str
    kind: str = "chain"


def verify_chain(case_dir: Path, trusted: list[Ed25519PublicKey]) -> list[ChainCheck]:
    """Every event in order, each hash recomputed and linked; with trusted keys, each signature by one of them.

    Without a trusted key, signatures are not checked and one failing check says so: a signature by a
    key nobody trusted proves nothing, and a chain anyone can recompute proves no authorship.
    """
    ledger = read_ledger(case_dir)
    if ledger.problem is not None:
        return [ChainCheck("custody ledger", False, ledger.problem, "ledger")]
    if not ledger.events:
        return [ChainCheck("custody ledger", False, f"{LEDGER_NAME} is missing or empty", "ledger")]
    checks = []
    previous = GENESIS
    by_fingerprint = {fingerprint(key): key for key in trusted}
    for position, row in enumerate(ledger.events):
        label = f"custody event {position} ({row['action']} {row['exhibit_id'] or 'case'})"
        problems = _link_problems(row, position, previous)
        checks.append(ChainCheck(label, not problems, "; ".join(problems) or f"sha256 {row['event_sha256']}"))
        if trusted:
            problem = _signature_problem(row, by_fingerprint)
            checks.append(ChainCheck(f"custody event {position} signature", problem is None,
                                     problem or f"valid Ed25519 signature by trusted key {row['signer_fingerprint']}", "signature"))
        previous = row["event_sha256"]
    if not trusted:
        signed = sum(1 for row in ledger.events if row["signature"])
        checks.append(ChainCheck("custody signatures", False, f"not checked against any trusted key (none given); {signed} of "
                                 f"{len(ledger.events)} events carry a signature, which proves nothing until its key is trusted", "signature"))
    return checks


def _link_problems(row: dict, position: int, previous: str) -> list[str]:
    problems = []
    if row["event_index"] != position:
        problems.append(f"event_index {row['event_index']} at position {position} (removed or reordered)")
    if row["previous_sha256"] != previous:
        problems.append("previous_sha256 does not match the event before it (removed, inserted or reordered)")
    computed = event_hash(row)
    if computed != row["event_sha256"]:
        problems.append(f"event_sha256 {row['event_sha256']} != recomputed {computed} (edited)")
    return problems


def _signature_problem(row: dict, by_fingerprint: dict[str, Ed25519PublicKey]) -> str | None:
    if not row["signature"]:
        return "unsigned (under trusted keys every event must be signed by one of them)"
    key = by_fingerprint.get(row["signer_fingerprint"])
    if key is None:
        return f"signed by key {row['signer_fingerprint']}, which is not among the trusted keys"
    try:
        key.verify(base64.b64decode(row["signature"], validate=True), bytes.fromhex(row["event_sha256"]))
    except (InvalidSignature, binascii.Error, ValueError):
        return f"signature by trusted key {row['signer_fingerprint']} does not match the event"
    return None


def signature_status(row: dict, trusted: list[Ed25519PublicKey] | None) -> str:
    """How `custody show` describes an event's signature: by whom, and (given keys) whether that key is trusted."""
    if not row["signature"]:
        return "unsigned"
    text = f"signed by key {row['signer_fingerprint']}"
    if trusted is None:
        return text
    by_fingerprint = {fingerprint(key): key for key in trusted}
    if row["signer_fingerprint"] not in by_fingerprint:
        return f"{text} (NOT a trusted key)"
    problem = _signature_problem(row, by_fingerprint)
    return f"{text} (trusted, valid)" if problem is None else f"{text} (trusted key, signature INVALID)"


def check_anchor(events: list[dict], anchor: object, what: str = "custody anchor", named_by: str = "the seal recorded") -> ChainCheck:
    """The ledger still holds the event a seal recorded as its head (or a head kept elsewhere, `named_by`
    saying which), at that index, and the chain up to it recomputes.

    This catches earlier events removed, edited or the chain rewritten even when no key is trusted; events
    added after the seal are covered by later seals, signatures, or a head kept outside the case.
    """
    if not isinstance(anchor, dict):
        return ChainCheck(what, False, "the manifest records no custody head (custody_head missing or not an object)", "anchor")
    index, digest = anchor.get("event_index"), anchor.get("event_sha256")
    if type(index) is not int or index < 0 or not isinstance(digest, str):
        return ChainCheck(what, False, f"the manifest's custody_head is malformed: {brief(anchor)}", "anchor")
    digest = short(digest)
    if index >= len(events):
        return ChainCheck(what, False, f"{named_by} event {index} with sha256 {digest}, but the ledger holds only "
                          f"{len(events)} events (events removed)", "anchor")
    if events[index]["event_sha256"] != digest:
        return ChainCheck(what, False, f"event {index} has sha256 {events[index]['event_sha256']}, {named_by} {digest} "
                          "(events before it removed, inserted or rewritten)", "anchor")
    previous = GENESIS
    for position in range(index + 1):
        if _link_problems(events[position], position, previous):
            return ChainCheck(what, False, f"the chain up to the sealed event {index} does not recompute at event {position}", "anchor")
        previous = events[position]["event_sha256"]
    return ChainCheck(what, True, f"the ledger holds the sealed head, event {index} with sha256 {digest}, and the chain up to it recomputes",
                      "anchor")


def chain_verdict(checks: list[ChainCheck]) -> str:
    """One sentence on the ledger that separates a broken chain from signatures nobody trusted."""
    ledger = [c for c in checks if c.kind == "ledger"]
    if ledger:
        return f"custody ledger NOT VERIFIED: {ledger[0].detail}"
    events = [c for c in checks if c.kind == "chain"]
    broken = [c.what for c in events if not c.ok]
    signatures = [c for c in checks if c.kind == "signature"]
    if broken:
        head = f"custody chain BROKEN at {', '.join(broken)}"
    else:
        head = f"custody chain intact ({len(events)} events)"
    unsigned = [c for c in signatures if not c.ok]
    if any(c.what == "custody signatures" for c in signatures):
        return f"{head}, but its signatures were not checked against any trusted key: NOT VERIFIED"
    if unsigned:
        return f"{head}, but {len(unsigned)} of {len(signatures)} events are not validly signed by a key you trusted " \
               f"({', '.join(c.what.removesuffix(' signature') for c in unsigned)}): NOT VERIFIED"
    anchors = [c for c in checks if c.kind == "anchor" and not c.ok]
    if anchors:
        return f"{head}, but it does not hold the head given ({anchors[0].detail}): NOT VERIFIED"
    if broken:
        return f"{head}: NOT VERIFIED"
    return f"{head}, every event validly signed by a trusted key: VERIFIED"


def latest_seal(case_dir: Path, exhibit_id: str) -> str | None:
    """The manifest root digest named by the exhibit's latest `ingested` event (None also when the ledger is unreadable)."""
    return latest_seal_in(read_ledger(case_dir).events, exhibit_id)


def latest_seal_in(events: list[dict], exhibit_id: str) -> str | None:
    for row in reversed(events):
        if row["exhibit_id"] == exhibit_id and row["action"] == "ingested":
            for entry in row["hashes"] or []:
                if entry["subject"] == "manifest" and entry["algorithm"] == "sha256":
                    return entry["value"]
            return None
    return None
