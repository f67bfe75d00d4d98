"""The evidence-hash report: every hash the prosecutor needs is in it, read back from the PDF with
pdftotext, and hostile strings appear escaped."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.cli import main
from tests.conftest import require_tool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from make_sample import build_sample  # noqa: E402

HOSTILE_EXHIBIT = "JS/1\u202egpj.exe\x1b[31m\nforged line"
HOSTILE_FILE = "phone\nimage\u202eraw.\x1b[2Jdd"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    require_tool("mkfs.ext4")
    root = tmp_path_factory.mktemp("report")
    assert CliRunner().invoke(main, ["keys", "generate", "--name", "lab", "--out", str(root / "keys")]).exit_code == 0
    built = build_sample(root / "image")
    image = built.with_name(HOSTILE_FILE)
    built.rename(image)
    result = CliRunner().invoke(main, ["ingest", str(image), "--case", "OP-1", "--exhibit", HOSTILE_EXHIBIT, "--out", str(root / "cases"),
                                       "--workers", "1", "--signing-key", str(root / "keys" / "lab.key"), "--examiner", "A. Smith",
                                       "--description", "Samsung phone, black — desk 4, 三星手机, Ελληνικά"])
    assert result.exit_code == 0, result.output
    case_dir = root / "cases" / "OP-1"
    (folder,) = [p for p in case_dir.iterdir() if p.is_dir()]
    manifest = json.loads((folder / "manifest.json").read_text())
    return case_dir, root / "keys" / "lab.pub", manifest


def _hashes(manifest: dict) -> list[str]:
    source = manifest["source"]
    values = [manifest["root_digest"], manifest["signature"]["public_key_fingerprint"], source["media_md5"], source["media_sha1"],
              source["media_sha256"]]
    values += [entry["sha256_before"] for entry in source["container_files"]]
    return values


def test_pdf_holds_every_hash_and_escapes_hostile_names(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    require_tool("pdftotext")
    case_dir, key, manifest = case
    output = tmp_path / "report.pdf"
    result = CliRunner().invoke(main, ["report", str(case_dir), "--format", "pdf", "--output", str(output), "--trusted-key", str(key)])
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", "-layout", str(output), "-"], check=True, capture_output=True, text=True).stdout
    missing = [value for value in _hashes(manifest) if value not in text]
    assert missing == []
    assert "VERIFIED: " in text and "NOT VERIFIED" not in text
    assert "JS/1\\u202egpj.exe\\x1b[31m\\x0aforged line" in text
    assert "phone\\x0aimage\\u202eraw.\\x1b[2Jdd" in text
    assert "Samsung phone, black \u2014 desk 4, \u4e09\u661f\u624b\u673a, \u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac" in text
    assert "\u202e" not in text and "\x1b" not in text


def test_html_and_csv(case: tuple[Path, Path, dict], tmp_path: Path) -> None:
    case_dir, key, manifest = case
    page = tmp_path / "report.html"
    assert CliRunner().invoke(main, ["report", str(case_dir), "--format", "html", "--output", str(page), "--trusted-key", str(key)]).exit_code == 0
    html_text = page.read_text()
    assert all(value in html_text for value in _hashes(manifest))
    assert "\u202e" not in html_text and "\x1b" not in html_text
    table = tmp_path / "report.csv"
    assert CliRunner().invoke(main, ["report", str(case_dir), "--format", "csv", "--output", str(table)]).exit_code == 0
    rows = list(csv.reader(table.open(encoding="utf-8")))
    assert rows[0] == ["exhibit", "section", "item", "value"]
    by_item = {(r[1], r[2]): r[3] for r in rows[1:]}
    assert by_item[("Seal", "manifest root digest (SHA-256)")] == manifest["root_digest"]
    assert by_item[("Source", "media SHA256")] == manifest["source"]["media_sha256"]
    # without the trusted key, the report says the case did not verify
    assert by_item[("Verification", next(k for s, k in by_item if s == "Verification" and k.startswith("at ")))].startswith("NOT VERIFIED")
