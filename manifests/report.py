"""The evidence-hash report for prosecutors: per exhibit, what was received (source files and their
hashes), the acquisition hashes beside the computed ones, what was found, the seal, who handled it,
and whether everything verified when the report was made.

Every string from the evidence or the case is shown through `display()`, so a hostile name
(newline, right-to-left override, escape sequence) appears escaped and cannot spoof the page.
"""

from __future__ import annotations

import csv
import html
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from manifests import custody
from manifests.seal import MANIFEST_NAME
from manifests.text import display, display_message
from manifests.verify import verify_exhibit

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"),
)
# Glyphs DejaVu lacks (Chinese, Japanese, Korean) come from Debian's fonts-droid-fallback.
FALLBACK_FONTS = (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),)


class ReportError(ValueError):
    """The report cannot be made (no sealed exhibit, no font for the PDF)."""


@dataclass
class Section:
    """One exhibit's part of the report: titled lines of (label, value) pairs, already escaped."""

    exhibit_id: str
    items: list[tuple[str, str, str]] = field(default_factory=list)  # (heading, label, value)

    def add(self, heading: str, label: str, value: object) -> None:
        text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        self.items.append((heading, display_message(label), display(text) if not isinstance(value, bool) else text))


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
    return sorted((row["container_format"], row["container_format_count"], row["gps_latitude_count"]) for row in grouped.to_pylist())


def collect(case_dir: Path, exhibit_folders: list[Path], trusted: list[Ed25519PublicKey]) -> list[Section]:
    sections = []
    chain_ok = all(check.ok for check in custody.verify_chain(case_dir, trusted))
    events = custody.read_events(case_dir)
    for folder in exhibit_folders:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        exhibit_id = manifest["exhibit_id"]
        section = Section(display(exhibit_id))
        source = manifest.get("source") or {}
        section.add("Exhibit", "case", manifest["case_id"])
        section.add("Exhibit", "exhibit", exhibit_id)
        section.add("Exhibit", "description", manifest.get("description") or "-")
        section.add("Exhibit", "examiner", manifest.get("examiner") or "-")
        section.add("Exhibit", "lab", manifest.get("lab") or "-")
        section.add("Exhibit", "ingested", f"{manifest['started']} to {manifest['finished']} (UTC) on {manifest['host']}")
        section.add("Exhibit", "outcome", manifest["outcome"])
        section.add("Source", "path", source.get("path") or "-")
        for entry in source.get("container_files") or []:
            section.add("Source", f"file {entry['path']}", f"{entry['size']} bytes, SHA-256 before {entry['sha256_before']}, "
                                                            f"after {entry['sha256_after']}, unchanged {entry['unchanged']}")
        section.add("Source", "media size", source.get("media_size"))
        for name in ("md5", "sha1", "sha256"):
            section.add("Source", f"media {name.upper()}", source.get(f"media_{name}") or "-")
        for check in source.get("hash_checks") or []:
            verdict = {True: "MATCH", False: "MISMATCH", None: "NOT COMPARED"}[check["match"]]
            section.add("Acquisition hashes", f"{check['origin']} {check['algorithm']}",
                        f"expected {check['expected']}, computed {check['computed']}: {verdict}")
        for part in manifest["parts"]:
            section.add("Findings", part["schema"], f"{part['rows']} rows")
        for app, count, stores in _messages_by_app(folder):
            section.add("Messages", app, f"{count} messages from {stores} stores")
        for container, count, located in _media_by_format(folder):
            section.add("Photos and videos", container, f"{count} files, {located} with a position")
        section.add("Seal", "manifest root digest (SHA-256)", manifest["root_digest"])
        signature = manifest.get("signature")
        section.add("Seal", "signing key fingerprint", signature["public_key_fingerprint"] if signature else "UNSIGNED")
        section.add("Versions", "tool", f"{manifest['tool']['name']} {manifest['tool']['version']}")
        for library, version in sorted((manifest.get("libraries") or {}).items()):
            section.add("Versions", library, version)
        for event in events:
            if event["exhibit_id"] != exhibit_id:
                continue
            party = f" from {event['from_party']} to {event['to_party']}" if event["from_party"] or event["to_party"] else ""
            section.add("Custody", f"#{event['event_index']} {event['occurred'].isoformat()}",
                        f"{event['action']} by {event['actor_name']}{party}; why: {event['purpose'] or '-'}; sha256 {event['event_sha256']}")
        checks = verify_exhibit(folder, trusted)
        failed = [c for c in checks if not c.ok]
        sealed = custody.latest_seal(case_dir, exhibit_id) == manifest["root_digest"]
        verdict = "VERIFIED" if not failed and chain_ok and sealed else "NOT VERIFIED"
        section.add("Verification", f"at {datetime.now(timezone.utc).isoformat(timespec='seconds')}",
                    f"{verdict}: {len(checks) - len(failed)} of {len(checks)} checks hold; custody chain "
                    f"{'intact' if chain_ok else 'BROKEN'}; latest ingest event {'names' if sealed else 'does NOT name'} this seal")
        for check in failed:
            section.add("Verification", f"FAILED {check.what}", check.detail)
        sections.append(section)
    return sections


def write_csv(sections: list[Section], output: Path) -> None:
    with open(output, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["exhibit", "section", "item", "value"])
        for section in sections:
            for heading, label, value in section.items:
                writer.writerow([section.exhibit_id, heading, label, value])


def write_html(sections: list[Section], output: Path, title: str) -> None:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    for section in sections:
        parts.append(f"<h2>Exhibit {html.escape(section.exhibit_id)}</h2>")
        heading = None
        for item_heading, label, value in section.items:
            if item_heading != heading:
                if heading is not None:
                    parts.append("</table>")
                parts.append(f"<h3>{html.escape(item_heading)}</h3><table>")
                heading = item_heading
            parts.append(f"<tr><th>{html.escape(label)}</th><td><code>{html.escape(value)}</code></td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    output.write_text("\n".join(parts), encoding="utf-8")


def write_pdf(sections: list[Section], output: Path, title: str) -> None:
    from fpdf import FPDF

    font = next((path for path in FONT_CANDIDATES if path.exists()), None)
    if font is None:
        raise ReportError("no Unicode font found for the PDF (install Debian's fonts-dejavu-core)")
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("Body", fname=str(font))
    fallbacks = []
    for index, path in enumerate(p for p in FALLBACK_FONTS if p.exists()):
        pdf.add_font(f"Fallback{index}", fname=str(path))
        fallbacks.append(f"Fallback{index}")
    if fallbacks:
        pdf.set_fallback_fonts(fallbacks)
    pdf.add_page()
    pdf.set_font("Body", size=14)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    for section in sections:
        pdf.set_font("Body", size=12)
        pdf.multi_cell(0, 8, f"Exhibit {section.exhibit_id}", new_x="LMARGIN", new_y="NEXT")
        heading = None
        for item_heading, label, value in section.items:
            if item_heading != heading:
                pdf.set_font("Body", size=10)
                pdf.multi_cell(0, 6, item_heading, new_x="LMARGIN", new_y="NEXT")
                heading = item_heading
            pdf.set_font("Body", size=8)
            # Label and value on their own lines, wrapped at spaces: a 64-digit hash fits on one line
            # at this size, so no hash is ever split (a reader can copy and compare it whole).
            pdf.multi_cell(0, 4, label, new_x="LMARGIN", new_y="NEXT")
            pdf.set_x(pdf.l_margin + 6)
            pdf.multi_cell(0, 4, value, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(output))
