"""The evidence-hash report as an A4 PDF (fpdf2, DejaVu fonts): the summary page with the case's verdict
and ledger head, a page per exhibit, an appendix of versions; every footer names the case and says
"page N of M". Hashes are never split across lines."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from manifests.report import (SUMMARY_HEADER, Report, ReportError, case_lines, check_word, plural, summary_row, trusted_line,
                              write_atomically)

if TYPE_CHECKING:  # fpdf2 takes most of a second to import: only when a PDF is made
    from fpdf import FPDF
    from fpdf.fonts import FontFace

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"Body": "DejaVuSans.ttf", "BodyB": "DejaVuSans-Bold.ttf", "Mono": "DejaVuSansMono.ttf"}
# Glyphs DejaVu lacks (Chinese, Japanese, Korean) come from Debian's fonts-droid-fallback.
FALLBACK_FONTS = (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),)

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
    pdf.multi_cell(0, 4.5, trusted_line(report), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("BodyB", size=11)
    pdf.multi_cell(0, 7, "Summary", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Body", size=8)
    with pdf.table(col_widths=(38, 56, 20, 13, 13, 10, 15, 10, 15), text_align=("LEFT", "LEFT", "LEFT", *["RIGHT"] * 6),
                   headings_style=bold, line_height=4.5, padding=1, v_align="TOP") as table:
        table.row(SUMMARY_HEADER)
        for entry in report.exhibits:
            cells = summary_row(entry)
            row = table.row()
            row.cell(cells[0])
            row.cell(cells[1], style=FontFace(family="BodyB", color=GREEN if entry.verified else RED))
            media_colour = {"MATCH": GREEN, "MISMATCH": RED, "NOT COMPARED": RED}.get(entry.media_hash)
            row.cell(cells[2], style=FontFace(color=media_colour) if media_colour else None)
            for cell in cells[3:]:
                row.cell(cell)
    pdf.set_font("Body", size=7)
    pdf.multi_cell(0, 4, "How to read it: each verdict is the one exhibit verify prints for the same exhibit, VERIFIED only when every check "
                         "listed under the exhibit's Verification holds; otherwise "
                         "NOT VERIFIED and the failing checks. Media hash: the computed media hash against stored (E01) and "
                         "--expected-hash values. Counts are rows in the exhibit's sealed tables.", new_x="LMARGIN", new_y="NEXT")
    lines = case_lines(report)
    _pdf_table(pdf, "Case", lines, bold, {index for index, (_, value) in enumerate(lines) if "NOT VERIFIED" in value})
    for entry in report.exhibits:
        pdf.add_page()
        pdf.set_font("BodyB", size=12)
        pdf.multi_cell(0, 7, f"Exhibit {entry.exhibit_id}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*(GREEN if entry.verified else RED))
        pdf.multi_cell(0, 6, f"Verdict: {entry.verdict}", align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        groups: dict[str, list[tuple[str, str]]] = {}
        for heading, label, value in entry.items:
            groups.setdefault(heading, []).append((label, value))
        passed = sum(c.ok for c in entry.checks)
        groups[f"Verification at {report.made}: {plural(passed, 'check')} of {len(entry.checks)} hold"] = [
            (outcome.name, f"{check_word(outcome)}: {outcome.detail}") for outcome in entry.checks]
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


def write(report: Report, output: Path) -> None:
    """Rendered twice: the first pass counts the pages the footers then name ("page 3 of 12")."""
    total = _render_pdf(report, None).pages_count
    pdf = _render_pdf(report, total)
    if pdf.pages_count != total:
        raise ReportError(f"the PDF changed length between passes ({total} then {pdf.pages_count} pages)")
    write_atomically(output, bytes(pdf.output()))
