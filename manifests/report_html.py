"""The evidence-hash report as one HTML page: a summary table, the case's verdict and ledger head, a section
per exhibit, and an appendix of versions; a print style sheet for paper. Every value is HTML-escaped
after display escaping, and every hash sits in a span that never wraps."""

from __future__ import annotations

import html
from pathlib import Path

from manifests.files import write_atomically
from manifests.report import COUNTED_PARTS, HASH, SUMMARY_HEADER, ExhibitReport, Report, case_lines, check_word, plural, trusted_line

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
    for match in HASH.finditer(value):
        out.append(html.escape(value[position:match.start()]))
        out.append(f"<span class='hash'>{match.group()}</span>")
        position = match.end()
    out.append(html.escape(value[position:]))
    return "".join(out)


def _html_verdict(entry: ExhibitReport, tag: str = "span") -> str:
    css = "ok" if entry.verified else "fail"
    return f"<{tag} class='verdict {css}'>{html.escape(entry.verdict)}</{tag}>"


def write(report: Report, output: Path) -> None:
    title = html.escape(report.title)
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
             f"<title>{title}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{title}</h1>",
             f"<p class='meta'>Made and verified at {html.escape(report.made)} (UTC). {_html_value(trusted_line(report))}</p>",
             "<h2 class='first'>Summary</h2><table class='summary'><thead><tr>"
             + "".join(f"<th>{html.escape(name)}</th>" for name in SUMMARY_HEADER) + "</tr></thead><tbody>"]
    for entry in report.exhibits:
        media_css = {"MATCH": "ok", "MISMATCH": "fail", "NOT COMPARED": "fail"}.get(entry.media_hash, "")
        parts.append(f"<tr><td>{html.escape(entry.exhibit_id)}</td>{_html_verdict(entry, 'td')}"
                     f"<td class='media {media_css}'>{html.escape(entry.media_hash)}</td>"
                     + "".join(f"<td class='num'>{html.escape(entry.counts[name])}</td>" for name in COUNTED_PARTS)
                     + f"<td class='num'>{html.escape(entry.hash_hits)}</td></tr>")
    parts.append("</tbody></table><table class='details case'>")
    parts += [f"<tr><th>{html.escape(label)}</th><td>{_html_value(value)}</td></tr>" for label, value in case_lines(report)]
    parts.append("</table>")
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
            parts.append(f"<tr><th>{html.escape(outcome.name)}</th><td><span class='{css}'>{check_word(outcome)}</span>: "
                         f"{_html_value(outcome.detail)}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Appendix: tool and library versions</h2>")
    for entry in report.exhibits:
        parts.append(f"<h3>Exhibit {html.escape(entry.exhibit_id)}</h3><table class='details'>")
        parts += [f"<tr><th>{html.escape(label)}</th><td><code>{html.escape(value)}</code></td></tr>" for label, value in entry.versions]
        parts.append("</table>")
    parts.append("</body></html>")
    write_atomically(output, ("\n".join(parts) + "\n").encode("utf-8"))
