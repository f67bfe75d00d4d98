"""The evidence-hash report for prosecutors: the facts it shows and its verdict; report_pdf, report_html
and report_csv each write them in one format.

Per exhibit: a summary row (verdict, media hash match, row counts), what was received (source files
and their hashes), the acquisition hashes beside the computed ones, what was found, the seal, who
handled it, and every check `exhibit verify` makes; the ledger head as a second anchor; tool and
library versions in an appendix.

The verdict is verify's own: `verify.verify_case` makes the checks and `verify.verdict` the sentence,
so the report and `exhibit verify --exhibit ID` can never disagree. A malformed manifest or ledger is
a failing check and a note, never an exception. Every string from the evidence or the case is shown
through `display()`, so a hostile name (newline, right-to-left override, escape sequence) appears
escaped and cannot spoof the page; CSV cells also go through `csv_cell()`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from manifests import custody, verify
from manifests.confined import Refused, brief, open_member
from manifests.keys import fingerprint
from manifests.text import display, display_message

NONE_SHOWN = "\u2014"  # an em dash where a value is absent
NOT_RECORDED = "not recorded"  # a fact an older manifest does not hold (it predates what records it)
COUNTED_PARTS = ("artefacts", "messages", "media", "identifiers", "errors")
SUMMARY_HEADER = ["exhibit", "verdict", "media hash", *COUNTED_PARTS, "hash-set hits"]
HASH_HITS_NAME = "hash_hits.parquet"  # CASE/hash_hits.parquet, written by `exhibit hashset match` and ingest
MAX_PART_BYTES = 1 << 34  # a sealed table read for its per-app and per-format counts
HASH = re.compile(r"\b[0-9a-f]{32,128}\b")
_ONE_PLURAL = re.compile(r"(?<![\d.,])1 (row|byte|error|warning|event|file|check)s\b")


class ReportError(ValueError):
    """The report cannot be made (no font for the PDF, a PDF that changed length)."""


@dataclass(frozen=True)
class Outcome:
    """One of verify's checks as the report shows it: name and detail escaped for display."""

    name: str
    ok: bool
    detail: str


@dataclass
class ExhibitReport:
    """One exhibit's part of the report; every string already escaped for display."""

    exhibit_id: str
    media_hash: str  # MATCH, MISMATCH, NOT COMPARED or "not checked"
    counts: dict[str, str]
    hash_hits: str = NONE_SHOWN  # artefacts matched by the case's hash sets, as sealed at ingest
    verdict: str = "NOT VERIFIED: no check was made"
    checks: list[Outcome] = field(default_factory=list)
    items: list[tuple[str, str, str]] = field(default_factory=list)  # (heading, label, value)
    versions: list[tuple[str, str]] = field(default_factory=list)

    def add(self, heading: str, label: str, value: object) -> None:
        """Label is the report's own text (it may quote escaped names); value is escaped here."""
        self.items.append((heading, display_message(label), show(value)))

    def add_escaped(self, heading: str, label: str, value: str | None) -> None:
        """A value recorded already in display form (the manifest's source paths): not escaped twice."""
        self.items.append((heading, display_message(label), display_message(value) if value else NONE_SHOWN))

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)


@dataclass
class Report:
    case_id: str
    made: str
    trusted: list[str]
    exhibits: list[ExhibitReport]
    verdict: str = ""  # the verdict line of `exhibit verify` over the same exhibits
    custody: str = ""  # its custody ledger sentence
    ledger_head: str = NONE_SHOWN  # the newest event (index and SHA-256), to keep outside the case

    @property
    def title(self) -> str:
        return f"Evidence-hash report, case {self.case_id}"


def show(value: object) -> str:
    """Display text of a value: escaped strings, "yes"/"no", an em dash for nothing; never Python's repr."""
    if value is None or value == "":
        return NONE_SHOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (bytes, str)):
        return display(value)
    return display(str(value))


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def tool_text(message: str) -> str:
    """A message of Exhibit's own (a check's detail, the recorded outcome), escaped, with "1 rows" said
    as "1 row" (the messages come from code that counts without a plural)."""
    return _ONE_PLURAL.sub(r"1 \1", display_message(message))


def collect(case_dir: Path, exhibits: list[tuple[str | None, Path]], trusted: list[Ed25519PublicKey], case_id: str) -> Report:
    """The report of (exhibit id, folder) pairs as `exhibit verify` names them (id None: a folder name that
    encodes no id). The case verdict is verify's over the ledger's checks and every exhibit's own, which
    is what `verify_case` over all of them returns, without hashing each exhibit twice."""
    ledger = custody.read_ledger(case_dir)
    later = _case_hash_hits(case_dir)
    entries, case_checks = [], []
    for exhibit_id, folder in exhibits:
        checks = verify.verify_case(case_dir, [(exhibit_id, folder)], trusted, rehash=False, known_head=None)
        if not case_checks:
            case_checks = [check for check in checks if not check.exhibit]
        case_checks += [check for check in checks if check.exhibit]
        entry = _exhibit(exhibit_id, folder, checks, ledger)
        _later_hits(entry, exhibit_id, later)
        entries.append(entry)
    if not exhibits:
        case_checks = verify.verify_case(case_dir, [], trusted)
    made = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return Report(show(case_id), made, sorted(fingerprint(key) for key in trusted), entries, display_message(verify.verdict(case_checks)),
                  display_message(verify.custody_verdict(case_checks)), ledger_head(ledger))


def ledger_head(ledger: custody.Ledger) -> str:
    """The head an examiner can hand over: `exhibit verify --custody-head` later proves no event before it was cut."""
    if ledger.problem is not None:
        return tool_text(f"none: the ledger cannot be read ({ledger.problem})")
    head = ledger.head
    if head is None:
        return "none: the case has no custody ledger or it is empty"
    index, digest = head["event_index"], head["event_sha256"]
    return tool_text(f"event {index}, SHA-256 {digest} (check later with: exhibit verify --custody-head {index}:{digest})")


def _exhibit(exhibit_id: str | None, folder: Path, checks: list[verify.Check], ledger: custody.Ledger) -> ExhibitReport:
    entry = ExhibitReport(show(exhibit_id if exhibit_id is not None else folder.name), "not checked",
                          {name: NONE_SHOWN for name in COUNTED_PARTS})
    entry.verdict = display_message(verify.verdict(checks))
    entry.checks = [Outcome(tool_text(check.what), check.ok, tool_text(check.detail)) for check in checks]
    try:
        manifest = verify.load_manifest(folder)
    except verify.ManifestError as error:
        entry.add("Exhibit", "folder", folder.name)
        entry.items.append(("Exhibit", "manifest", tool_text(f"cannot be read: {error}")))
        return entry
    try:
        _facts(entry, folder, manifest, [event for event in ledger.events if event["exhibit_id"] == exhibit_id])
    except (KeyError, TypeError, AttributeError, ValueError) as error:  # a manifest edited by hand: verify's checks fail too
        entry.media_hash, entry.counts, entry.hash_hits = "not checked", {name: NONE_SHOWN for name in COUNTED_PARTS}, NONE_SHOWN
        entry.items, entry.versions = [], []
        entry.add("Exhibit", "folder", folder.name)
        entry.items.append(("Exhibit", "manifest", tool_text(f"lacks or mistypes a field: {brief(error)}")))
    return entry


def _facts(entry: ExhibitReport, folder: Path, manifest: dict, events: list[dict]) -> None:
    """What the report shows beside the checks, read from the manifest, the sealed tables and the exhibit's events."""
    source = manifest.get("source") or {}
    rows = {part["schema"]: part["rows"] for part in manifest["parts"]}
    entry.media_hash = _media_hash_word(source)
    entry.counts = {name: show(rows.get(name)) for name in COUNTED_PARTS}
    entry.add("Exhibit", "case", manifest["case_id"])
    entry.add("Exhibit", "exhibit", manifest["exhibit_id"])
    entry.add("Exhibit", "description", manifest.get("description"))
    entry.add("Exhibit", "examiner", manifest.get("examiner"))
    entry.add("Exhibit", "lab", manifest.get("lab"))
    entry.add("Exhibit", "ingested", f"{manifest['started']} to {manifest['finished']} (UTC) on {manifest['host']}")
    entry.items.append(("Exhibit", "outcome", tool_text(manifest["outcome"])))
    entry.add("Exhibit", "units retried", _watchdog_count(manifest, "units_retried"))
    entry.add("Exhibit", "artefacts given up", _watchdog_count(manifest, "artefacts_given_up"))
    entry.add_escaped("Source", "path", source.get("path"))
    for file in source.get("container_files") or []:
        same = {True: "unchanged", False: "CHANGED during the ingest", None: "unchanged NOT confirmed"}[file["is_unchanged"]]
        entry.add_escaped("Source", "container file", f"{file['path']}; {plural(file['size'], 'byte')}; SHA-256 before {file['sha256_before']}, "
                                                       f"after {file['sha256_after'] or NONE_SHOWN}: {same}")
    entry.add("Source", "media size", plural(source["stream_size"], "byte") if source.get("stream_size") is not None else None)
    for name in ("md5", "sha1", "sha256"):
        entry.add("Source", f"media {name.upper()}", source.get(f"stream_{name}"))
    acquisition = verify.acquisition_checks(manifest)
    for check in acquisition:
        entry.items.append(("Acquisition hashes", tool_text(check.what.removeprefix("acquisition hash ")), tool_text(check.detail)))
    if not acquisition:
        entry.add("Acquisition hashes", "compared", "none: no stored (E01) or --expected-hash value to compare with")
    for part in manifest["parts"]:
        entry.add("Findings", part["schema"], plural(part["rows"], "row"))
    _table_facts(entry, folder)
    _sealed_hits(entry, manifest)
    entry.add("Seal", "manifest root digest (SHA-256)", manifest["root_digest"])
    signature = manifest.get("signature")
    entry.add("Seal", "signing key fingerprint", signature["public_key_fingerprint"] if signature else "UNSIGNED")
    head = manifest.get("custody_head")
    entry.add("Seal", "custody head sealed", f"event {show(head.get('event_index'))}, SHA-256 {show(head.get('event_sha256'))}"
              if isinstance(head, dict) else None)
    for event in events:
        party = f" from {event['from_party'] or NONE_SHOWN} to {event['to_party'] or NONE_SHOWN}" if event["from_party"] or event["to_party"] else ""
        signed = f"signed by {event['signer_fingerprint']}" if event["signature"] else "unsigned"
        entry.add("Custody", f"#{event['event_index']} {event['occurred_time'].isoformat()}",
                  f"{event['action']} by {event['actor_name']}{party}; why: {event['purpose'] or NONE_SHOWN}; {signed}; "
                  f"sha256 {event['event_sha256']}")
    entry.versions.append(("tool", show(f"{manifest['tool']['name']} {manifest['tool']['version']}")))
    entry.versions += [(show(library), show(version)) for library, version in sorted((manifest.get("libraries") or {}).items())]


def _sealed_hits(entry: ExhibitReport, manifest: dict) -> None:
    """The hash-set hits the manifest states (counted at ingest, before sealing): covered by the seal."""
    if "hash_set_hits" not in manifest:
        entry.add("Hash sets", "matched at ingest", "not recorded (sealed before hash sets were matched at ingest)")
        return
    hits = manifest["hash_set_hits"]
    status = manifest.get("hash_set_status")
    unusable = manifest.get("hash_sets_unusable")
    unusable_text = plural(unusable, "hash set") if type(unusable) is int else "some hash sets"
    if status == "failed":
        entry.hash_hits = NONE_SHOWN
        entry.add("Hash sets", "matched at ingest", "not matched: matching against the case's hash sets failed when the exhibit was "
                                                    "sealed (warning hash_set_match_failed); run `exhibit hashset match`")
        return
    if status == "no_usable_set":
        entry.hash_hits = NONE_SHOWN
        entry.add("Hash sets", "matched at ingest", f"not matched: the case held {unusable_text}, none of which could be used when the "
                                                    "exhibit was sealed (warnings hash_set_unusable)")
        return
    if not hits:
        entry.hash_hits = "0"
        entry.add("Hash sets", "matched at ingest", "none: the case held no hash set when the exhibit was sealed" if status == "no_set" else
                  "none: the case held no usable hash set when the exhibit was sealed (this manifest does not say whether it held any)")
        return
    entry.hash_hits = str(sum(hit["artefacts"] for hit in hits))
    if type(unusable) is int and unusable > 0:
        entry.add("Hash sets", "not used at ingest", f"{unusable_text} could not be used (warnings hash_set_unusable)")
    for hit in hits:
        category = f", category {hit['category']}" if hit["category"] else ""
        entry.add("Hash sets", f"{display(hit['set'])} ({hit['kind']}{display(category)}), at ingest",
                  f"{plural(hit['artefacts'], 'artefact')} matched ({plural(hit['rows'], 'hash', 'hashes')}); "
                  f"set file SHA-256 {hit['file_sha256']}, set table SHA-256 {hit['table_sha256']}")


def _case_hash_hits(case_dir: Path) -> dict[str, list[tuple[str, int, int]]] | str | None:
    """Exhibit id -> (set, artefacts, hash rows) from CASE/hash_hits.parquet (not sealed: rewritten by every
    match); None when the case has none, or the reason it cannot be read."""
    try:
        descriptor = open_member(case_dir, HASH_HITS_NAME, MAX_PART_BYTES)
        if descriptor is None:
            return None
        with os.fdopen(descriptor, "rb") as handle:
            table = pq.read_table(handle, columns=["exhibit_id", "set_name", "entry_index"])
        grouped = table.group_by(["exhibit_id", "set_name"]).aggregate([("entry_index", "count_distinct"), ("entry_index", "count")])
    except (Refused, OSError, pyarrow.ArrowException, ValueError, KeyError) as error:
        return f"{HASH_HITS_NAME} cannot be read: {error}"
    found: dict[str, list[tuple[str, int, int]]] = {}
    for row in sorted(grouped.to_pylist(), key=lambda r: (r["exhibit_id"] or "", r["set_name"] or "")):
        found.setdefault(row["exhibit_id"], []).append((row["set_name"], row["entry_index_count_distinct"], row["entry_index_count"]))
    return found


def _later_hits(entry: ExhibitReport, exhibit_id: str | None, later: dict[str, list[tuple[str, int, int]]] | str | None) -> None:
    """The case's latest match for this exhibit (hash_hits.parquet), said to be outside the seal."""
    if later is None:
        return
    if isinstance(later, str):
        entry.items.append(("Hash sets", "latest match (not sealed)", tool_text(later)))
        return
    rows = later.get(exhibit_id or "", [])
    if not rows:
        entry.add("Hash sets", f"latest match ({HASH_HITS_NAME}, not sealed)", "no hits")
    for name, artefacts, hashes in rows:
        entry.add("Hash sets", f"{display(name)}, latest match ({HASH_HITS_NAME}, not sealed)",
                  f"{plural(artefacts, 'artefact')} matched ({plural(hashes, 'hash', 'hashes')})")


def _media_hash_word(source: dict) -> str:
    entries = source.get("hash_checks") or []
    matches = [entry.get("is_match") if isinstance(entry, dict) else None for entry in entries]
    if not matches:
        return "not checked"
    if False in matches:
        return "MISMATCH"
    return "MATCH" if all(match is True for match in matches) else "NOT COMPARED"


def _watchdog_count(manifest: dict, name: str) -> str:
    """A count the watchdog recorded (0 is said as 0); a manifest older than the watchdog has none: "not recorded"."""
    value = manifest.get(name)
    if value is None:
        return NOT_RECORDED
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError(f"{name} is {value!r}, not a count")
    return str(value)


def _table_facts(entry: ExhibitReport, folder: Path) -> None:
    """Messages per app and photos per container format, from the sealed tables (a table that cannot be read is said so)."""
    for name, heading in (("messages.parquet", "Messages"), ("media.parquet", "Photos and videos")):
        try:
            table = _sealed_table(folder, name, ["app", "path"] if name == "messages.parquet" else ["container_format", "latitude"])
        except (Refused, OSError, pyarrow.ArrowException, ValueError, KeyError) as error:
            entry.items.append((heading, display(name), tool_text(f"cannot be read: {error}")))
            continue
        if table is None:
            continue
        try:  # a nested or mistyped column cannot be grouped: the table is named, the verdict stays verify's
            facts = _message_facts(table) if name == "messages.parquet" else _media_facts(table)
        except pyarrow.ArrowException as error:
            entry.items.append((heading, display(name), tool_text(f"cannot be summarised: {type(error).__name__}: {error}")))
            continue
        for item, value in facts:
            entry.add(heading, item, value)


def _grouped(table: pyarrow.Table, key: str, aggregates: list[tuple[str, str]]) -> list[dict]:
    """Rows grouped by a string column; ArrowTypeError when the sealed column is of another type."""
    kind = table.schema.field(key).type
    if not (pyarrow.types.is_string(kind) or pyarrow.types.is_large_string(kind)):
        raise pyarrow.ArrowTypeError(f"column {key} is {kind}, not a string")
    return sorted(table.group_by(key).aggregate(aggregates).to_pylist(), key=lambda row: row[key] or "")


def _message_facts(table: pyarrow.Table) -> list[tuple[str, str]]:
    return [(show(row["app"]), f"{plural(row['path_count'], 'message')} from {plural(row['path_count_distinct'], 'store')}")
            for row in _grouped(table, "app", [("path", "count"), ("path", "count_distinct")])]


def _media_facts(table: pyarrow.Table) -> list[tuple[str, str]]:
    return [(show(row["container_format"] or None), f"{plural(row['container_format_count'], 'file')}, {row['latitude_count']} with a position")
            for row in _grouped(table, "container_format", [("container_format", "count"), ("latitude", "count")])]


def _sealed_table(folder: Path, name: str, columns: list[str]) -> pyarrow.Table | None:
    """A part read directly inside the exhibit folder (no link followed); None when the exhibit has none."""
    descriptor = open_member(folder, name, MAX_PART_BYTES)
    if descriptor is None:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        return pq.read_table(handle, columns=columns)


def summary_row(entry: ExhibitReport) -> list[str]:
    return [entry.exhibit_id, entry.verdict, entry.media_hash, *(entry.counts[name] for name in COUNTED_PARTS), entry.hash_hits]


def trusted_line(report: Report) -> str:
    if not report.trusted:
        return "Trusted keys: none given, so no signature can be proven."
    return f"Trusted {plural(len(report.trusted), 'key')}: " + ", ".join(report.trusted)


def check_word(outcome: Outcome) -> str:
    return "holds" if outcome.ok else "FAILS"


def case_lines(report: Report) -> list[tuple[str, str]]:
    """The case as a whole, in every format: the verdict `exhibit verify` prints, the ledger's sentence, its head."""
    return [("case verdict", report.verdict), ("custody ledger", report.custody), ("custody ledger head", report.ledger_head)]


def write_pdf(report: Report, output: Path) -> None:
    from manifests.report_pdf import write  # fpdf2 takes most of a second to import: only when a PDF is made

    write(report, output)


def write_html(report: Report, output: Path) -> None:
    from manifests.report_html import write

    write(report, output)


def write_csv(report: Report, output: Path) -> None:
    from manifests.report_csv import write

    write(report, output)
