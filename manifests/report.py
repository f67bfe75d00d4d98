"""The evidence-hash report for prosecutors: a one-page summary (one row per exhibit: verdict, media
hash match, row counts), then per exhibit what was received (source files and their hashes), the
acquisition hashes beside the computed ones, what was found, the seal, who handled it and every check
the verdict counts; tool and library versions in an appendix.

The verdict is built only from checks, each shown with its own line: VERIFIED when every one holds,
otherwise NOT VERIFIED and the names of those that fail. Every string from the evidence or the case is
shown through `display()`, so a hostile name (newline, right-to-left override, escape sequence)
appears escaped and cannot spoof the page; CSV cells also go through `csv_cell()`.
"""

from __future__ import annotations

import csv
import html
import io
import os
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from manifests import custody
from manifests.keys import fingerprint
from manifests.seal import MANIFEST_NAME
from manifests.text import csv_cell, display, display_message
from manifests.verify import verify_exhibit

if TYPE_CHECKING:  # fpdf2 takes most of a second to import: only when a PDF is made
    from fpdf import FPDF
    from fpdf.fonts import FontFace

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"Body": "DejaVuSans.ttf", "BodyB": "DejaVuSans-Bold.ttf", "Mono": "DejaVuSansMono.ttf"}
# Glyphs DejaVu lacks (Chinese, Japanese, Korean) come from Debian's fonts-droid-fallback.
FALLBACK_FONTS = (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),)
NONE_SHOWN = "\u2014"  # an em dash where a value is absent
COUNTED_PARTS = ("artefacts", "messages", "media", "errors")
VERIFIED, NOT_VERIFIED = "VERIFIED", "NOT VERIFIED"
_HASH = re.compile(r"\b[0-9a-f]{32,128}\b")
_UNTRUSTED = re.compile(r"signed by untrusted key (\S+)")
_ONE_PLURAL = re.compile(r"(?<![\d.,])1 (row|byte|error|warning|event|file|check)s\b")


class ReportError(ValueError):
    """The report cannot be made (no sealed exhibit, no font for the PDF)."""


@dataclass(frozen=True)
class Outcome:
    """One check the verdict counts: its name, whether it holds, and what was compared (escaped)."""

    name: str
    ok: bool
    detail: str


@dataclass
class ExhibitReport:
    """One exhibit's part of the report; every string already escaped for display."""

    exhibit_id: str
    media_hash: str  # MATCH, MISMATCH, NOT COMPARED or "not checked"
    counts: dict[str, str]
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

    @property
    def verdict(self) -> str:
        return verdict(self.checks)


@dataclass
class Report:
    case_id: str
    made: str
    trusted: list[str]
    exhibits: list[ExhibitReport]

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


def verdict(checks: list[Outcome]) -> str:
    """VERIFIED only when there are checks and every one holds; otherwise the failing checks by name."""
    if not checks:
        return f"{NOT_VERIFIED}: nothing was checked"
    failed = [check.name for check in checks if not check.ok]
    return VERIFIED if not failed else f"{NOT_VERIFIED}: {', '.join(failed)}"


def _messages_by_app(folder: Path) -> list[tuple[str, int, int]]:
    """(app, messages, distinct databases or exports) from messages.parquet, by app name."""
    path = folder / "messages.parquet"
    if not path.exists():
        return []
    table = pq.read_table(path, columns=["app", "source_path"])
    grouped = table.group_by("app").aggregate([("source_path", "count"), ("source_path", "count_distinct")])
    return sorted((row["app"], row["source_path_count"], row["source_path_count_distinct"]) for row in grouped.to_pylist())


def _media_by_format(folder: Path) -> list[tuple[str, int, int]]:
    """(container format, files, files with a latitude) from media.parquet."""
    path = folder / "media.parquet"
    if not path.exists():
        return []
    table = pq.read_table(path, columns=["container_format", "gps_latitude"])
    grouped = table.group_by("container_format").aggregate([("container_format", "count"), ("gps_latitude", "count")])
    return sorted((row["container_format"] or "", row["container_format_count"], row["gps_latitude_count"]) for row in grouped.to_pylist())


def _chain_outcomes(case_dir: Path, trusted: list[Ed25519PublicKey]) -> list[Outcome]:
    """The case's custody chain as two checks: links and hashes (is it intact?) and signatures (by whom?).

    A chain whose every hash recomputes and links but whose events are signed by a key the reader did
    not trust is intact and unproven, not broken: the two are told apart so the wording says which.
    """
    links, signatures, events = [], [], 0
    untrusted: dict[str, list[str]] = {}  # key fingerprint -> events it signed
    for position, check in enumerate(custody.verify_chain(case_dir, trusted)):
        if check.what == "custody ledger":
            links.append(tool_text(check.detail))
            continue
        events += 1
        for problem in check.detail.split("; ") if not check.ok else ():
            unknown = _UNTRUSTED.fullmatch(problem)
            if unknown:
                untrusted.setdefault(tool_text(unknown.group(1)), []).append(str(position))
            (signatures if "sign" in problem else links).append(f"{tool_text(check.what)}: {tool_text(problem)}")
    intact = not links
    if intact:
        link_detail = f"intact: {plural(events, 'event')}, every hash recomputed and linked to the one before"
    else:
        link_detail = "BROKEN: " + "; ".join(links)
    if not events:
        sign_detail, sign_ok = "no custody events to check", False
    elif signatures:
        sign_ok = False
        prefix = "chain intact but " if intact else ""
        if sum(map(len, untrusted.values())) == len(signatures):  # every problem is a key the reader did not trust
            sign_detail = prefix + "signed by a key you did not trust: " + "; ".join(
                f"{'event' if len(positions) == 1 else 'events'} {', '.join(positions)} by key {key}" for key, positions in untrusted.items())
        else:
            sign_detail = prefix + "signatures do not hold: " + "; ".join(signatures)
    else:
        sign_ok, sign_detail = True, f"{plural(events, 'event')}, each signature valid by a trusted key"
    return [Outcome("custody chain", intact, link_detail), Outcome("custody signatures", sign_ok, sign_detail)]


def _hash_outcomes(source: dict) -> list[Outcome]:
    """Each stored or expected acquisition hash beside the computed one; a mismatch or a hash that could
    not be compared fails the verdict (the report is right whether or not verify counts these itself)."""
    outcomes = []
    for check in source.get("hash_checks") or []:
        word = {True: "MATCH", False: "MISMATCH", None: "NOT COMPARED (the media hash is unavailable)"}[check["match"]]
        outcomes.append(Outcome(f"acquisition hash {show(check['origin'])} {show(check['algorithm'])}", check["match"] is True,
                                f"expected {show(check['expected'])}, computed {show(check['computed'])}: {word}"))
    return outcomes


def _named_by(outcome: Outcome, checks: list[Outcome]) -> bool:
    """Whether another check already names the expected digest of this acquisition-hash outcome."""
    expected = _HASH.search(outcome.detail)
    return expected is not None and any(expected.group() in check.detail for check in checks)


def _media_hash_word(source: dict) -> str:
    matches = [check["match"] for check in source.get("hash_checks") or []]
    if not matches:
        return "not checked"
    if False in matches:
        return "MISMATCH"
    return "MATCH" if all(match is True for match in matches) else "NOT COMPARED"


def _verify_outcomes(folder: Path, trusted: list[Ed25519PublicKey]) -> list[Outcome]:
    return [Outcome(tool_text(c.what), c.ok, tool_text(c.detail)) for c in verify_exhibit(folder, trusted)]


def _unreadable(folder: Path, trusted: list[Ed25519PublicKey], chain: list[Outcome], problem: Outcome | None = None) -> ExhibitReport:
    """An exhibit whose manifest cannot be read, or lacks a field, is in the report, NOT VERIFIED, under its folder's name."""
    entry = ExhibitReport(show(folder.name), "not checked", {name: NONE_SHOWN for name in COUNTED_PARTS})
    entry.checks = _verify_outcomes(folder, trusted) + ([problem] if problem else []) + chain
    entry.add("Exhibit", "folder", folder.name)
    return entry


def _exhibit(case_dir: Path, folder: Path, trusted: list[Ed25519PublicKey], chain: list[Outcome], events: list[dict]) -> ExhibitReport:
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _unreadable(folder, trusted, chain)
    try:
        return _sealed_exhibit(case_dir, folder, manifest, trusted, chain, events)
    except (KeyError, TypeError) as error:  # a manifest edited by hand: its seal check fails as well
        return _unreadable(folder, trusted, chain, Outcome("manifest fields", False, f"{MANIFEST_NAME} lacks or mistypes a field: "
                                                                                     f"{tool_text(repr(error))}"))


def _sealed_exhibit(case_dir: Path, folder: Path, manifest: dict, trusted: list[Ed25519PublicKey], chain: list[Outcome],
                    events: list[dict]) -> ExhibitReport:
    exhibit_id = manifest["exhibit_id"]
    source = manifest.get("source") or {}
    rows = {part["schema"]: part["rows"] for part in manifest["parts"]}
    entry = ExhibitReport(show(exhibit_id), _media_hash_word(source), {name: show(rows.get(name)) for name in COUNTED_PARTS})
    entry.add("Exhibit", "case", manifest["case_id"])
    entry.add("Exhibit", "exhibit", exhibit_id)
    entry.add("Exhibit", "description", manifest.get("description"))
    entry.add("Exhibit", "examiner", manifest.get("examiner"))
    entry.add("Exhibit", "lab", manifest.get("lab"))
    entry.add("Exhibit", "ingested", f"{manifest['started']} to {manifest['finished']} (UTC) on {manifest['host']}")
    entry.items.append(("Exhibit", "outcome", tool_text(manifest["outcome"])))
    entry.add_escaped("Source", "path", source.get("path"))
    for file in source.get("container_files") or []:
        same = {True: "unchanged", False: "CHANGED during the ingest", None: "unchanged NOT confirmed"}[file["unchanged"]]
        entry.add_escaped("Source", "container file", f"{file['path']}; {plural(file['size'], 'byte')}; SHA-256 before {file['sha256_before']}, "
                                                       f"after {file['sha256_after'] or NONE_SHOWN}: {same}")
    entry.add("Source", "media size", plural(source["media_size"], "byte") if source.get("media_size") is not None else None)
    for name in ("md5", "sha1", "sha256"):
        entry.add("Source", f"media {name.upper()}", source.get(f"media_{name}"))
    hash_checks = _hash_outcomes(source)
    for outcome in hash_checks:
        entry.items.append(("Acquisition hashes", outcome.name.removeprefix("acquisition hash "), outcome.detail))
    if not hash_checks:
        entry.add("Acquisition hashes", "compared", "none: no stored (E01) or --expected-hash value to compare with")
    for part in manifest["parts"]:
        entry.add("Findings", part["schema"], plural(part["rows"], "row"))
    for app, count, stores in _messages_by_app(folder):
        entry.add("Messages", show(app), f"{plural(count, 'message')} from {plural(stores, 'store')}")
    for container, count, located in _media_by_format(folder):
        entry.add("Photos and videos", show(container or None), f"{plural(count, 'file')}, {located} with a position")
    entry.add("Seal", "manifest root digest (SHA-256)", manifest["root_digest"])
    signature = manifest.get("signature")
    entry.add("Seal", "signing key fingerprint", signature["public_key_fingerprint"] if signature else "UNSIGNED")
    for event in events:
        if event["exhibit_id"] != exhibit_id:
            continue
        party = f" from {event['from_party'] or NONE_SHOWN} to {event['to_party'] or NONE_SHOWN}" if event["from_party"] or event["to_party"] else ""
        signed = f"signed by {event['signer_fingerprint']}" if event["signature"] else "unsigned"
        entry.add("Custody", f"#{event['event_index']} {event['occurred'].isoformat()}",
                  f"{event['action']} by {event['actor_name']}{party}; why: {event['purpose'] or NONE_SHOWN}; {signed}; "
                  f"sha256 {event['event_sha256']}")
    entry.versions.append(("tool", show(f"{manifest['tool']['name']} {manifest['tool']['version']}")))
    entry.versions += [(show(library), show(version)) for library, version in sorted((manifest.get("libraries") or {}).items())]

    checks = _verify_outcomes(folder, trusted)
    # Once verify compares the acquisition hashes itself, its check (naming the expected digest) stands alone.
    hash_checks = [o for o in hash_checks if not _named_by(o, checks)]
    named = custody.latest_seal(case_dir, exhibit_id)
    linked = named is not None and named == manifest["root_digest"]
    seal_link = Outcome("custody seal link", linked, f"the latest ingested event names seal {show(named)}; "
                                                     f"the manifest root digest is {manifest['root_digest']}")
    entry.checks = checks + hash_checks + chain + [seal_link]
    return entry


def collect(case_dir: Path, exhibit_folders: list[Path], trusted: list[Ed25519PublicKey], case_id: str) -> Report:
    chain = _chain_outcomes(case_dir, trusted)
    events = custody.read_events(case_dir)
    exhibits = [_exhibit(case_dir, folder, trusted, chain, events) for folder in exhibit_folders]
    made = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return Report(show(case_id), made, sorted(fingerprint(key) for key in trusted), exhibits)


def _write_atomically(output: Path, data: bytes) -> None:
    """The whole report or none of it: written beside the target, flushed, then renamed over it."""
    temporary = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)


def _summary_row(entry: ExhibitReport) -> list[str]:
    return [entry.exhibit_id, entry.verdict, entry.media_hash, *(entry.counts[name] for name in COUNTED_PARTS)]


SUMMARY_HEADER = ["exhibit", "verdict", "media hash", *COUNTED_PARTS]


def _trusted_line(report: Report) -> str:
    if not report.trusted:
        return "Trusted keys: none given, so no signature can be proven."
    return f"Trusted {plural(len(report.trusted), 'key')}: " + ", ".join(report.trusted)


def _check_word(outcome: Outcome) -> str:
    return "holds" if outcome.ok else "FAILS"


def write_csv(report: Report, output: Path) -> None:
    """One table, four columns: the summary rows first, then the details, the checks and the versions."""
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)

    def row(*cells: str) -> None:
        writer.writerow([csv_cell(cell) for cell in cells])

    row("exhibit", "section", "item", "value")
    for entry in report.exhibits:
        for name, value in zip(SUMMARY_HEADER[1:], _summary_row(entry)[1:]):
            row(entry.exhibit_id, "Summary", name, value)
    for entry in report.exhibits:
        for heading, label, value in entry.items:
            row(entry.exhibit_id, heading, label, value)
        row(entry.exhibit_id, "Verification", "verdict", entry.verdict)
        row(entry.exhibit_id, "Verification", "checked at", report.made)
        for outcome in entry.checks:
            row(entry.exhibit_id, "Verification", outcome.name, f"{_check_word(outcome)}: {outcome.detail}")
        for label, value in entry.versions:
            row(entry.exhibit_id, "Appendix: versions", label, value)
    _write_atomically(output, handle.getvalue().encode("utf-8"))


_STYLE = """
body { font-family: "DejaVu Sans", Verdana, sans-serif; font-size: 15px; line-height: 1.45; color: #1a1a1a;
       max-width: 72em; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.3em; border-bottom: 2px solid #444; padding-bottom: .2em; margin-top: 2.2em; }
h3 { font-size: 1.05em; margin: 1.4em 0 .4em; color: #333; }
p.meta { color: #444; margin: .2em 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: .4em 0 1em; }
th, td { border: 1px solid #bbb; padding: .3em .5em; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
thead th { background: #e8e8e8; }
table.details th { width: 16em; font-weight: normal; background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary thead th, table.summary td.num, table.summary td.media { white-space: nowrap; overflow-wrap: normal; }
table.summary td.verdict { min-width: 14em; }
code, .hash { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .92em; }
.hash { white-space: nowrap; }
.verdict { font-weight: bold; }
.ok { color: #0a6b1f; }
.fail { color: #b00020; }
td.ok, td.fail { font-weight: bold; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  table.details th { width: 11em; }
  code, .hash { font-size: .85em; }
  h2 { break-before: page; }
  h2.first { break-before: auto; }
  tr, .verdict { break-inside: avoid; }
  .ok, .fail { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _html_value(value: str) -> str:
    """Escaped text with every hash in a span that never wraps."""
    out, position = [], 0
    for match in _HASH.finditer(value):
        out.append(html.escape(value[position:match.start()]))
        out.append(f"<span class='hash'>{match.group()}</span>")
        position = match.end()
    out.append(html.escape(value[position:]))
    return "".join(out)


def _html_verdict(entry: ExhibitReport, tag: str = "span") -> str:
    css = "ok" if entry.verified else "fail"
    return f"<{tag} class='verdict {css}'>{html.escape(entry.verdict)}</{tag}>"


def write_html(report: Report, output: Path) -> None:
    title = html.escape(report.title)
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
             f"<title>{title}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{title}</h1>",
             f"<p class='meta'>Made and verified at {html.escape(report.made)} (UTC). {_html_value(_trusted_line(report))}</p>",
             "<h2 class='first'>Summary</h2><table class='summary'><thead><tr>"
             + "".join(f"<th>{html.escape(name)}</th>" for name in SUMMARY_HEADER) + "</tr></thead><tbody>"]
    for entry in report.exhibits:
        media_css = {"MATCH": "ok", "MISMATCH": "fail", "NOT COMPARED": "fail"}.get(entry.media_hash, "")
        parts.append(f"<tr><td>{html.escape(entry.exhibit_id)}</td>{_html_verdict(entry, 'td')}"
                     f"<td class='media {media_css}'>{html.escape(entry.media_hash)}</td>"
                     + "".join(f"<td class='num'>{html.escape(entry.counts[name])}</td>" for name in COUNTED_PARTS) + "</tr>")
    parts.append("</tbody></table>")
    for entry in report.exhibits:
        parts.append(f"<h2>Exhibit {html.escape(entry.exhibit_id)}</h2><p>Verdict: {_html_verdict(entry)}</p>")
        heading = None
        for item_heading, label, value in entry.items:
            if item_heading != heading:
                if heading is not None:
                    parts.append("</table>")
                parts.append(f"<h3>{html.escape(item_heading)}</h3><table class='details'>")
                heading = item_heading
            parts.append(f"<tr><th>{html.escape(label)}</th><td>{_html_value(value)}</td></tr>")
        parts.append("</table>")
        parts.append(f"<h3>Verification at {html.escape(report.made)}: "
                     f"{plural(sum(c.ok for c in entry.checks), 'check')} of {len(entry.checks)} hold</h3><table class='details'>")
        for outcome in entry.checks:
            css = "ok" if outcome.ok else "fail"
            parts.append(f"<tr><th>{html.escape(outcome.name)}</th><td><span class='{css}'>{_check_word(outcome)}</span>: "
                         f"{_html_value(outcome.detail)}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Appendix: tool and library versions</h2>")
    for entry in report.exhibits:
        parts.append(f"<h3>Exhibit {html.escape(entry.exhibit_id)}</h3><table class='details'>")
        parts += [f"<tr><th>{html.escape(label)}</th><td><code>{html.escape(value)}</code></td></tr>" for label, value in entry.versions]
        parts.append("</table>")
    parts.append("</body></html>")
    _write_atomically(output, ("\n".join(parts) + "\n").encode("utf-8"))


GREEN, RED, GREY = (10, 107, 31), (176, 0, 32), (90, 90, 90)


@cache
def _pdf_class() -> type[FPDF]:
    from fpdf import FPDF

    class ReportPDF(FPDF):
        """A4 pages whose footer names the case and says "page N of M" (M known from a first pass)."""

        footer_text = ""
        total_pages: int | None = None

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Body", size=7)
            self.set_text_color(*GREY)
            total = self.total_pages if self.total_pages is not None else "?"
            self.cell(0, 5, self.footer_text, align="L")
            self.set_x(self.l_margin)
            self.cell(0, 5, f"page {self.page_no()} of {total}", align="R")
            self.set_text_color(0, 0, 0)

    return ReportPDF


def _render_pdf(report: Report, total_pages: int | None) -> FPDF:
    from fpdf.fonts import FontFace


    missing = [name for name in FONTS.values() if not (FONT_DIR / name).exists()]
    if missing:
        raise ReportError(f"no Unicode font for the PDF: {', '.join(missing)} missing (install Debian's fonts-dejavu-core)")
    pdf = _pdf_class()(format="A4")
    pdf.alias_nb_pages(None)  # no text substitution: a name holding "{nb}" stays as it is
    pdf.total_pages = total_pages
    pdf.footer_text = f"Case {report.case_id} \u00b7 evidence-hash report made {report.made}"
    pdf.set_auto_page_break(auto=True, margin=16)
    for name, file in FONTS.items():
        pdf.add_font(name, fname=str(FONT_DIR / file))
    fallbacks = []
    for index, path in enumerate(p for p in FALLBACK_FONTS if p.exists()):
        pdf.add_font(f"Fallback{index}", fname=str(path))
        fallbacks.append(f"Fallback{index}")
    if fallbacks:
        pdf.set_fallback_fonts(fallbacks, exact_match=False)
    bold = FontFace(family="BodyB")
    pdf.add_page()
    pdf.set_font("BodyB", size=15)
    pdf.multi_cell(0, 8, report.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Body", size=8)
    pdf.multi_cell(0, 4.5, f"Made and verified at {report.made} (UTC).", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 4.5, _trusted_line(report), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("BodyB", size=11)
    pdf.multi_cell(0, 7, "Summary", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Body", size=8)
    with pdf.table(col_widths=(38, 56, 24, 18, 18, 18, 18), text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
                   headings_style=bold, line_height=4.5, padding=1, v_align="TOP") as table:
        table.row(SUMMARY_HEADER)
        for entry in report.exhibits:
            cells = _summary_row(entry)
            row = table.row()
            row.cell(cells[0])
            row.cell(cells[1], style=FontFace(family="BodyB", color=GREEN if entry.verified else RED))
            media_colour = {"MATCH": GREEN, "MISMATCH": RED, "NOT COMPARED": RED}.get(entry.media_hash)
            row.cell(cells[2], style=FontFace(color=media_colour) if media_colour else None)
            for cell in cells[3:]:
                row.cell(cell)
    pdf.set_font("Body", size=7)
    pdf.multi_cell(0, 4, "How to read it: the verdict is VERIFIED only when every check listed under the exhibit's Verification holds; otherwise "
                         "NOT VERIFIED and the failing checks. Media hash: the computed media hash against stored (E01) and "
                         "--expected-hash values. Counts are rows in the exhibit's sealed tables.", new_x="LMARGIN", new_y="NEXT")
    for entry in report.exhibits:
        pdf.add_page()
        pdf.set_font("BodyB", size=12)
        pdf.multi_cell(0, 7, f"Exhibit {entry.exhibit_id}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*(GREEN if entry.verified else RED))
        pdf.multi_cell(0, 6, f"Verdict: {entry.verdict}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        groups: dict[str, list[tuple[str, str]]] = {}
        for heading, label, value in entry.items:
            groups.setdefault(heading, []).append((label, value))
        passed = sum(c.ok for c in entry.checks)
        groups[f"Verification at {report.made}: {plural(passed, 'check')} of {len(entry.checks)} hold"] = [
            (outcome.name, f"{_check_word(outcome)}: {outcome.detail}") for outcome in entry.checks]
        failing = {index for index, outcome in enumerate(entry.checks) if not outcome.ok}
        for heading, pairs in groups.items():
            _pdf_table(pdf, heading, pairs, bold, failing if heading.startswith("Verification at ") else set())
    pdf.add_page()
    pdf.set_font("BodyB", size=12)
    pdf.multi_cell(0, 7, "Appendix: tool and library versions", new_x="LMARGIN", new_y="NEXT")
    for entry in report.exhibits:
        _pdf_table(pdf, f"Exhibit {entry.exhibit_id}", entry.versions, bold)
    return pdf


def _pdf_table(pdf: FPDF, heading: str, pairs: list[tuple[str, str]], bold: FontFace, red_rows: set[int] = frozenset()) -> None:
    """A heading and a two-column table; the value column is wide enough for a SHA-256 in one line,
    and lines wrap only at spaces, so no hash is ever split."""
    from fpdf.fonts import FontFace

    pdf.ln(1.5)
    pdf.set_font("BodyB", size=9)
    pdf.multi_cell(0, 5.5, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Body", size=7.5)
    with pdf.table(col_widths=(52, 138), text_align="LEFT", first_row_as_headings=False, line_height=3.8, padding=0.8,
                   borders_layout="HORIZONTAL_LINES", v_align="TOP") as table:
        for index, (label, value) in enumerate(pairs):
            style = FontFace(color=RED) if index in red_rows else None
            row = table.row()
            row.cell(label, style=style)
            row.cell(value, style=style)


def write_pdf(report: Report, output: Path) -> None:
    """Rendered twice: the first pass counts the pages the footers then name ("page 3 of 12")."""
    total = _render_pdf(report, None).pages_count
    pdf = _render_pdf(report, total)
    if pdf.pages_count != total:
        raise ReportError(f"the PDF changed length between passes ({total} then {pdf.pages_count} pages)")
    _write_atomically(output, bytes(pdf.output()))
