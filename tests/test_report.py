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

import pyarrow
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ingest.cli import main
from ingest.naming import decode_id
from manifests import custody, report
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
ESCAPED_HOSTILE = "JS/1\\u202egpj.exe\\x1b[31m\\x0aforged line"
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
    assert bad["source"]["hash_checks"][0]["is_match"] is False
    good = _ingest(root, image, "OP-2", SPACED_EXHIBIT, "=1+1", "@desk", "--expected-hash", f"sha256:{bad['source']['stream_sha256']}")
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
    values = [manifest["root_digest"], manifest["signature"]["public_key_fingerprint"], source["stream_md5"], source["stream_sha1"],
              source["stream_sha256"]]
    values += [entry["sha256_before"] for entry in source["container_files"]]
    return values


def _counts(manifest: dict) -> list[str]:
    rows = {part["schema"]: part["rows"] for part in manifest["parts"]}
    hits = sum(hit["artefacts"] for hit in manifest["hash_set_hits"])  # the case holds no set: 0, as sealed
    return [*(str(rows[name]) for name in COUNTED), str(hits)]


COUNTED = ("artefacts", "messages", "media", "identifiers", "errors")


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


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _in_every_format(verdict: str) -> dict[str, list[str]]:
    return {"csv": [verdict, verdict], "html": [verdict, verdict], "pdf": [_squeezed(verdict)] * 2}


def _pairs(case_dir: Path) -> list[tuple[str, Path]]:
    """(exhibit id, folder) of every exhibit, as `exhibit verify` and `exhibit report` pair them."""
    return [(decode_id(p.name), p) for p in sorted(case_dir.iterdir()) if p.is_dir()]


def _verify_line(case_dir: Path, *args: str) -> str:
    """The verdict line `exhibit verify` prints last."""
    result = CliRunner().invoke(main, ["verify", str(case_dir), *args])
    assert result.exit_code in (0, 1), result.output
    return result.output.splitlines()[-1]


BAD_VERDICT = 'NOT VERIFIED: =HYPERLINK("http://evil.example/?x","click") acquisition hash expected sha256 (1 of 20 checks failed)'


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
    assert re.search(r"Verdict: VERIFIED: 15 checks hold\n", text) and "NOT VERIFIED:" not in text
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
    assert re.fullmatch(r"JS/1\\u202egpj\.exe\\x1b\[\S*\s+VERIFIED: 15 checks hold\s+not checked\s+" + r"\s+".join(_counts(manifest)), row.strip()), row
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
    assert re.search(r"NOT VERIFIED:\s+MISMATCH\s+" + r"\s+".join(_counts(bad)) + "$", bad_row), bad_row
    assert _counts(bad)[-2:] == ["1", "0"]  # the hash_mismatch row, and no hash-set hit
    (good_row,) = [line for line in summary if line.startswith("-2 ")]  # pdftotext drops the leading space
    assert re.fullmatch(r"-2\s+VERIFIED: 20 checks hold\s+MATCH\s+" + r"\s+".join(_counts(good)), good_row.rstrip()), good_row
    bad_pages = [page for page in pages if "Verdict: NOT VERIFIED" in _flat(page)]
    assert f"Verdict:{_squeezed(BAD_VERDICT)}Exhibitcase" in _squeezed(bad_pages[0])
    assert re.search(rf"expected sha256\s+FAILS: expected {WRONG_SHA256},\s+computed {bad['source']['stream_sha256']}: MISMATCH", text)
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
        ["exhibit", "verdict", "media hash", "artefacts", "messages", "media", "identifiers", "errors", "hash-set hits"],
        [SPACED_EXHIBIT, "VERIFIED: 20 checks hold", "MATCH", *_counts(good)],
        [FORMULA_EXHIBIT, BAD_VERDICT, "MISMATCH", *_counts(bad)],
    ]
    assert "<style>" in source and "@media print" in source
    assert "<td class='verdict fail'>NOT VERIFIED: =HYPERLINK(&quot;http://evil.example/?x&quot;,&quot;click&quot;) acquisition" in source
    assert "<td class='verdict ok'>VERIFIED: 20 checks hold</td>" in source
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
    assert _html(page).tables["summary"][1][:3] == [ESCAPED_HOSTILE, "VERIFIED: 15 checks hold", "not checked"]


def test_csv_cells_cannot_start_formulas(mismatch_case: tuple[Path, Path, dict, dict], tmp_path: Path) -> None:
    case_dir, key, bad, good = mismatch_case
    table = tmp_path / "report.csv"
    _report(case_dir, "csv", table, key)
    rows = _csv(table)
    assert rows[0] == ["exhibit", "section", "item", "value"]
    cells = [cell for row in rows for cell in row]
    assert [cell for cell in cells if cell and (cell[:1] in "=+-@\t\r" or cell.lstrip()[:1] in "=+-@")] == []
    quoted_bad, quoted_good = "'" + FORMULA_EXHIBIT, "' -2"
    summary = {(r[0], r[2]): r[3] for r in rows[1:] if r[1] == "Summary"}
    assert summary == {(quoted_good, "verdict"): "VERIFIED: 20 checks hold", (quoted_good, "media hash"): "MATCH",
                       **{(quoted_good, name): count for name, count in zip((*COUNTED, "hash-set hits"), _counts(good), strict=True)},
                       (quoted_bad, "verdict"): BAD_VERDICT, (quoted_bad, "media hash"): "MISMATCH",
                       **{(quoted_bad, name): count for name, count in zip((*COUNTED, "hash-set hits"), _counts(bad), strict=True)}}
    assert rows[1][1] == "Summary" and rows[len(summary)][1] == "Summary"  # the summary leads
    items = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert items[(quoted_bad, "Exhibit", "examiner")] == "'" + FORMULA_EXAMINER
    assert items[(quoted_bad, "Exhibit", "description")] == "'" + FORMULA_DESCRIPTION
    assert items[(quoted_good, "Exhibit", "examiner")] == "'=1+1"
    assert items[(quoted_good, "Exhibit", "description")] == "'@desk"
    source_path = items[(quoted_bad, "Source", "path")]
    assert source_path.endswith("/" + FORMULA_FILE) and not source_path.startswith("'")
    assert items[(quoted_bad, "Verification", "acquisition hash expected sha256")] == (
        f"FAILS: expected {WRONG_SHA256}, computed {bad['source']['stream_sha256']}: MISMATCH")
    assert items[(quoted_bad, "Appendix: versions", "dfvfs")] == bad["libraries"]["dfvfs"]
    assert LEAKS.search("\n".join(cells)) is None
    # the raw values stay in the sealed tables and the manifest
    folder = next(p for p in case_dir.iterdir() if p.is_dir() and json.loads((p / "manifest.json").read_text())["exhibit_id"] == FORMULA_EXHIBIT)
    assert pq.read_table(folder / "sources.parquet", columns=["exhibit_id"]).column(0).to_pylist() == [FORMULA_EXHIBIT]
    assert bad["examiner"] == FORMULA_EXAMINER and bad["description"] == FORMULA_DESCRIPTION


def test_csv_without_trusted_key_names_what_failed(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    """No trusted key: the manifest signature and the ledger's signatures are unproven, but the chain is intact, not broken."""
    case_dir, _, manifest = case
    table = tmp_path / "report.csv"
    _report(case_dir, "csv", table)
    by_item = {(r[1], r[2]): r[3] for r in _csv(table)[1:]}
    assert by_item[("Seal", "manifest root digest (SHA-256)")] == manifest["root_digest"]
    assert by_item[("Source", "media SHA256")] == manifest["source"]["stream_sha256"]
    assert by_item[("Summary", "verdict")] == f"NOT VERIFIED: custody signatures, {ESCAPED_HOSTILE} signature (2 of 14 checks failed)"
    assert by_item[("Verification", f"custody event 1 (ingested {ESCAPED_HOSTILE})")].startswith("holds: sha256 ")
    assert by_item[("Verification", "custody signatures")] == (
        "FAILS: not checked against any trusted key (none given); 2 of 2 events carry a signature, which proves nothing until its key is trusted")
    assert by_item[("Case", "custody ledger")] == (
        "custody chain intact (2 events), but its signatures were not checked against any trusted key: NOT VERIFIED")
    assert [value for value in by_item.values() if "BROKEN" in value] == []


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("\tplain", "'\tplain"), ("\uff1d1+1", "'\uff1d1+1"), ("\uff0b1", "'\uff0b1"), ("\uff0d1", "'\uff0d1"), ("\uff20x", "'\uff20x"),
    ("\ufe661", "'\ufe661"), ("  =1+1", "'  =1+1"), ("\u3000-1", "'\u3000-1"), ("\n@x", "'\n@x"),
    ("", ""), ("plain", "plain"), ("a=b", "a=b"), ("1-2", "1-2"), ("'quoted", "'quoted"), ("  spaced", "  spaced"), ("\u2014", "\u2014"),
])
def test_csv_cell(value: str, cell: str) -> None:
    assert csv_cell(value) == cell


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
    assert by_item[("Summary", "verdict")] == f"NOT VERIFIED: {ESCAPED_HOSTILE} manifest, {ESCAPED_HOSTILE} custody (2 of 6 checks failed)"
    assert by_item[("Summary", "verdict")] == _verify_line(copy, "--trusted-key", str(key))
    assert by_item[("Summary", "media hash")] == "not checked" and by_item[("Summary", "artefacts")] == "\u2014"
    assert by_item[("Verification", "manifest")].startswith("FAILS: manifest.json cannot be read as JSON: JSONDecodeError: ")
    assert by_item[("Exhibit", "manifest")].startswith("cannot be read: manifest.json cannot be read as JSON: ")


def test_pdf_footer_keeps_a_case_id_that_looks_like_a_page_alias(tmp_path: Path) -> None:
    """fpdf2's page-count alias is off: a case called "{nb}" is shown as it is, and page counts come from a first pass."""
    entry = report.ExhibitReport("E1", "not checked", {name: "0" for name in report.COUNTED_PARTS},
                                 verdict="VERIFIED: 1 checks hold", checks=[Outcome("root digest", True, "recorded a, computed a")],
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
    assert by_item[("Summary", "verdict")] == f"NOT VERIFIED: {ESCAPED_HOSTILE} root digest, {ESCAPED_HOSTILE} signature (2 of 15 checks failed)"
    assert by_item[("Exhibit", "manifest")] == "lacks or mistypes a field: KeyError('outcome')"
    assert by_item[("Summary", "artefacts")] == "\u2014"


def test_an_acquisition_hash_is_counted_once(mismatch_case: tuple[Path, Path, dict, dict]) -> None:
    """verify compares the acquisition hashes itself; the report adds no second check of its own."""
    case_dir, key, _, _ = mismatch_case
    made = report.collect(case_dir, _pairs(case_dir), [verify_key(key)], "OP-2")
    for entry in made.exhibits:
        assert [c.name for c in entry.checks if c.name.startswith("acquisition")] == ["acquisition hash expected sha256"]
    bad_entry = next(e for e in made.exhibits if e.exhibit_id == FORMULA_EXHIBIT)
    assert bad_entry.verdict == BAD_VERDICT and not bad_entry.verified


def _strip_first_signature(case_dir: Path) -> None:
    ledger = case_dir / "custody.parquet"
    table = pq.read_table(ledger)
    column = table.schema.get_field_index("signature")
    values = table.column(column).to_pylist()
    table = table.set_column(column, table.schema.field(column), pyarrow.array([None, *values[1:]], table.schema.field(column).type))
    pq.write_table(table, ledger)


def _report_verdicts(case_dir: Path, tmp_path: Path, keys: list[str], exhibits: list[str]) -> dict[str, list[str]]:
    """Per format: [case verdict, each exhibit's verdict] as the report states them (the PDF's without whitespace)."""
    args = [arg for exhibit in exhibits for arg in ("--exhibit", exhibit)]
    found = {}
    for output_format in ("csv", "html", "pdf"):
        output = tmp_path / f"report.{output_format}"
        result = CliRunner().invoke(main, ["report", str(case_dir), "--format", output_format, "--output", str(output), *keys, *args])
        assert result.exit_code == 0, result.output
        if output_format == "csv":
            rows = _csv(output)[1:]
            found["csv"] = [r[3] for r in rows if r[1:3] == ["Case", "case verdict"]] + [r[3] for r in rows if r[1:3] == ["Summary", "verdict"]]
        elif output_format == "html":
            tables = _html(output).tables
            found["html"] = [v for label, v in tables["details case"] if label == "case verdict"] + [row[1] for row in tables["summary"][1:]]
        else:
            pages = [_squeezed(page) for page in _pdf_pages(output)]  # pdftotext breaks lines, even inside a word
            case_verdict = re.search(r"caseverdict(.*?)custodyledger(custodychain|custodyledgerNOT)", pages[0])
            exhibit_verdicts = [re.search(r"Verdict:(.*?)Exhibit(case|folder)", page) for page in pages[1:]]
            found["pdf"] = [case_verdict.group(1)] + [m.group(1) for m in exhibit_verdicts if m]
    return found


@pytest.mark.parametrize("scenario", ["good", "wrong expected hash", "no trusted key", "event unsigned"])
def test_report_verdict_is_the_verify_verdict(scenario: str, case: tuple[Path, Path, dict], mismatch_case: tuple[Path, Path, dict, dict],
                                              tmp_path: Path) -> None:
    """The report's verdicts (the case's, and each exhibit's) are the very lines `exhibit verify` prints, in every format."""
    case_dir, key, _ = case
    keys, exhibits = ["--trusted-key", str(key)], []
    if scenario == "wrong expected hash":
        case_dir, key, _, _ = mismatch_case
        keys, exhibits = ["--trusted-key", str(key)], [FORMULA_EXHIBIT]
    elif scenario == "no trusted key":
        keys = []
    elif scenario == "event unsigned":
        shutil.copytree(case_dir, tmp_path / "OP-1")
        case_dir = tmp_path / "OP-1"
        _strip_first_signature(case_dir)
    expected = _verify_line(case_dir, *keys, *[arg for exhibit in exhibits for arg in ("--exhibit", exhibit)])
    assert expected == {"good": "VERIFIED: 15 checks hold", "wrong expected hash": BAD_VERDICT,
                        "no trusted key": f"NOT VERIFIED: custody signatures, {ESCAPED_HOSTILE} signature (2 of 14 checks failed)",
                        "event unsigned": "NOT VERIFIED: custody event 0 signature (1 of 15 checks failed)"}[scenario]
    assert _report_verdicts(case_dir, tmp_path, keys, exhibits) == _in_every_format(expected)


def test_report_over_a_malformed_case_never_raises(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    """custody.parquet that is not Parquet and a manifest that is not JSON: every format is written, NOT VERIFIED with the reasons."""
    case_dir, key, _ = case
    copy = tmp_path / "OP-1"
    shutil.copytree(case_dir, copy)
    (copy / "custody.parquet").write_bytes(b"PAR1 this is not a ledger")
    (folder,) = [p for p in copy.iterdir() if p.is_dir()]
    (folder / "manifest.json").write_text('{"exhibit_id": ', encoding="utf-8")
    expected = _verify_line(copy, "--trusted-key", str(key))
    assert expected == f"NOT VERIFIED: custody ledger, {ESCAPED_HOSTILE} manifest, {ESCAPED_HOSTILE} custody (3 of 3 checks failed)"
    assert _report_verdicts(copy, tmp_path, ["--trusted-key", str(key)], []) == _in_every_format(expected)
    rows = {(r[0], r[1], r[2]): r[3] for r in _csv(tmp_path / "report.csv")[1:]}
    assert rows[("", "Case", "custody ledger head")].startswith("none: the ledger cannot be read (custody.parquet is not a readable Parquet file: ")
    assert rows[("", "Case", "custody ledger")].startswith("custody ledger NOT VERIFIED: custody.parquet is not a readable Parquet file: ")
    assert rows[(ESCAPED_HOSTILE, "Verification", "manifest")].startswith("FAILS: manifest.json cannot be read as JSON: JSONDecodeError: ")
    for output_format in ("html", "pdf"):
        assert "Traceback" not in (tmp_path / f"report.{output_format}").read_bytes().decode("latin-1")


def test_report_states_the_ledger_head(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    """The ledger's newest event (index and SHA-256) is in every format, and `exhibit verify --custody-head` accepts it."""
    case_dir, key, _ = case
    head = custody.head(case_dir)
    assert head["event_index"] == 1
    anchor = f"{head['event_index']}:{head['event_sha256']}"
    stated = f"event 1, SHA-256 {head['event_sha256']} (check later with: exhibit verify --custody-head {anchor})"
    _report(case_dir, "csv", tmp_path / "report.csv", key)
    assert [r[3] for r in _csv(tmp_path / "report.csv") if r[1:3] == ["Case", "custody ledger head"]] == [stated]
    _report(case_dir, "html", tmp_path / "report.html", key)
    assert ["custody ledger head", stated] in _html(tmp_path / "report.html").tables["details case"]
    _report(case_dir, "pdf", tmp_path / "report.pdf", key)
    assert f"custody ledger head {stated}" in _flat(_pdf_pages(tmp_path / "report.pdf")[0])
    checked = CliRunner().invoke(main, ["verify", str(case_dir), "--trusted-key", str(key), "--custody-head", anchor])
    assert checked.exit_code == 0, checked.output


def test_report_is_written_whole_or_not_at_all(case: tuple[Path, Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while writing leaves the earlier report as it was and no temporary file behind."""
    case_dir, key, _ = case
    output = tmp_path / "report.html"
    output.write_text("earlier report", encoding="utf-8")

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report.os, "replace", fail)
    made = report.collect(case_dir, _pairs(case_dir), [verify_key(key)], "OP-1")
    with pytest.raises(OSError, match="No space left"):
        report.write_html(made, output)
    assert output.read_text(encoding="utf-8") == "earlier report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_sealed_tables_that_cannot_be_read_are_lines_not_tracebacks(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    """messages.parquet that is not Parquet and media.parquet that is a link out of the folder: said so, never followed."""
    case_dir, key, _ = case
    copy = tmp_path / "OP-1"
    shutil.copytree(case_dir, copy)
    (folder,) = [p for p in copy.iterdir() if p.is_dir()]
    (folder / "messages.parquet").write_bytes(b"not parquet")
    (folder / "media.parquet").unlink()
    (folder / "media.parquet").symlink_to("/etc/passwd")
    table = tmp_path / "report.csv"
    _report(copy, "csv", table, key)
    by_item = {(r[1], r[2]): r[3] for r in _csv(table)[1:]}
    assert by_item[("Messages", "messages.parquet")].startswith("cannot be read: ")
    assert by_item[("Photos and videos", "media.parquet")] == "cannot be read: is a symbolic link; not followed"
    assert by_item[("Summary", "verdict")] == _verify_line(copy, "--trusted-key", str(key))
    assert by_item[("Summary", "verdict")].endswith(f"{ESCAPED_HOSTILE} part media.parquet, {ESCAPED_HOSTILE} part messages.parquet (2 of 15 checks failed)")


def _nested(path: Path, column: str) -> None:
    """The sealed part rewritten with `column` as list<int64> (one [1, 2] per row), every other column as it was."""
    table = pq.read_table(path)
    nested = pyarrow.array([[1, 2]] * table.num_rows, type=pyarrow.list_(pyarrow.int64()))
    pq.write_table(table.set_column(table.schema.get_field_index(column), column, nested), path)


def test_nested_column_in_a_sealed_table_is_not_summarised_and_verdict_stays_verifys(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    case_dir, key, _ = case
    copy = tmp_path / "OP-1"
    shutil.copytree(case_dir, copy)
    (folder,) = [p for p in copy.iterdir() if p.is_dir()]
    assert pq.read_schema(folder / "messages.parquet").field("app").type == pyarrow.string()
    assert pq.read_table(folder / "messages.parquet").num_rows > 0 and pq.read_table(folder / "media.parquet").num_rows > 0
    _nested(folder / "messages.parquet", "app")
    _nested(folder / "media.parquet", "container_format")
    expected = _verify_line(copy, "--trusted-key", str(key))
    assert expected == f"NOT VERIFIED: {ESCAPED_HOSTILE} part media.parquet, {ESCAPED_HOSTILE} part messages.parquet (2 of 15 checks failed)"
    assert _report_verdicts(copy, tmp_path, ["--trusted-key", str(key)], []) == _in_every_format(expected)
    rows = [r for r in _csv(tmp_path / "report.csv")[1:] if r[1] in ("Messages", "Photos and videos")]
    assert rows == [[ESCAPED_HOSTILE, "Messages", "messages.parquet", "cannot be summarised: ArrowTypeError: column app is list<element: int64>, not a string"],
                    [ESCAPED_HOSTILE, "Photos and videos", "media.parquet",
                     "cannot be summarised: ArrowTypeError: column container_format is list<element: int64>, not a string"]]


def _exhibit_items_in_every_format(case_dir: Path, key: Path, tmp_path: Path) -> dict[str, dict[str, str]]:
    """The report's Exhibit section, label -> value, as the CSV, the HTML and the PDF state it."""
    _report(case_dir, "csv", tmp_path / "r.csv", key)
    _report(case_dir, "html", tmp_path / "r.html", key)
    _report(case_dir, "pdf", tmp_path / "r.pdf", key)
    html_rows = [row for row in _html(tmp_path / "r.html").tables["details"] if len(row) == 2]
    pdf_lines = [line.strip() for line in "\n".join(_pdf_pages(tmp_path / "r.pdf")).splitlines()]
    labels = ("units retried", "artefacts given up")
    return {
        "csv": {r[2]: r[3] for r in _csv(tmp_path / "r.csv")[1:] if r[1] == "Exhibit" and r[2] in labels},
        "html": {label: value for label, value in html_rows if label in labels},
        "pdf": {label: re.sub(r"^" + label + r"\s+", "", line) for line in pdf_lines for label in labels if line.startswith(label + " ")},
    }


def test_the_report_states_units_retried_and_artefacts_given_up(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    """As the manifest records them (0 is said as 0), in every format."""
    case_dir, key, manifest = case
    assert (manifest["units_retried"], manifest["artefacts_given_up"]) == (0, 0)
    stated = _exhibit_items_in_every_format(case_dir, key, tmp_path)
    assert stated == {name: {"units retried": "0", "artefacts given up": "0"} for name in ("csv", "html", "pdf")}


@pytest.mark.parametrize(("fields", "shown"), [
    ({"units_retried": 5, "artefacts_given_up": 2}, ("5", "2")),
    ({}, ("not recorded", "not recorded")),  # a manifest older than the watchdog
])
def test_the_report_states_the_recorded_counts_or_says_they_were_not_recorded(case: tuple[Path, Path, dict], tmp_path: Path,
                                                                              fields: dict, shown: tuple[str, str]) -> None:
    case_dir, key, _ = case
    copy = tmp_path / "OP-1"
    shutil.copytree(case_dir, copy)
    (folder,) = [p for p in copy.iterdir() if p.is_dir()]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del manifest["units_retried"], manifest["artefacts_given_up"]
    (folder / "manifest.json").write_text(json.dumps({**manifest, **fields}), encoding="utf-8")
    stated = _exhibit_items_in_every_format(copy, key, tmp_path)
    assert stated == {name: {"units retried": shown[0], "artefacts given up": shown[1]} for name in ("csv", "html", "pdf")}


def test_a_mistyped_count_is_a_manifest_that_mistypes_a_field(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    case_dir, key, _ = case
    copy = tmp_path / "OP-1"
    shutil.copytree(case_dir, copy)
    (folder,) = [p for p in copy.iterdir() if p.is_dir()]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    (folder / "manifest.json").write_text(json.dumps({**manifest, "units_retried": "5"}), encoding="utf-8")
    _report(copy, "csv", tmp_path / "r.csv", key)
    by_item = {(r[1], r[2]): r[3] for r in _csv(tmp_path / "r.csv")[1:]}
    assert by_item[("Exhibit", "manifest")] == "lacks or mistypes a field: TypeError(\"units_retried is '5', not a count\")"
