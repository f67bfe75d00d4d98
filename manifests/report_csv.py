"""The evidence-hash report as one CSV table of four columns (exhibit, section, item, value): the summary
rows first, then the case, each exhibit's details, its checks and the versions. Every cell goes
through `csv_cell()`, so no evidence string can start a spreadsheet formula."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from manifests.files import write_atomically
from manifests.report import SUMMARY_HEADER, Report, case_lines, check_word, summary_row
from manifests.text import csv_cell


def write(report: Report, output: Path) -> None:
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)

    def row(*cells: str) -> None:
        writer.writerow([csv_cell(cell) for cell in cells])

    row("exhibit", "section", "item", "value")
    for entry in report.exhibits:
        for name, value in zip(SUMMARY_HEADER[1:], summary_row(entry)[1:], strict=True):
            row(entry.exhibit_id, "Summary", name, value)
    for label, value in case_lines(report):
        row("", "Case", label, value)
    for entry in report.exhibits:
        for heading, label, value in entry.items:
            row(entry.exhibit_id, heading, label, value)
        row(entry.exhibit_id, "Verification", "verdict", entry.verdict)
        row(entry.exhibit_id, "Verification", "checked at", report.made)
        for outcome in entry.checks:
            row(entry.exhibit_id, "Verification", outcome.name, f"{check_word(outcome)}: {outcome.detail}")
        for label, value in entry.versions:
            row(entry.exhibit_id, "Appendix: versions", label, value)
    write_atomically(output, handle.getvalue().encode("utf-8"))
