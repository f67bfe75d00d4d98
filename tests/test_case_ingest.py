"""`exhibit case ingest`: many devices as one case, checked whole before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

from ingest.cli import main
from tests.folder_case import ingest_folder, write_files

HEADER = "source,exhibit_id,description,expected_hashes,credentials\n"


def _devices(tmp_path: Path) -> Path:
    write_files(tmp_path / "d1", {"a.txt": b"alpha\n", "sub/b.txt": b"bravo\n"})
    write_files(tmp_path / "d2", {"c.txt": b"charlie\n"})
    write_files(tmp_path / "d3", {"d.txt": b"delta\n", "e.txt": b"echo\n", "f.txt": b"foxtrot\n"})
    return tmp_path


def _run(case_dir: Path, devices: Path, *extra: str):
    return CliRunner().invoke(main, ["case", "ingest", str(case_dir), "--devices", str(devices), "--no-progress", *extra],
                              catch_exceptions=False)


def _artefacts(folder: Path):
    return pq.read_table(folder / "artefacts.parquet")


def test_three_devices_in_parallel_match_plain_ingests(tmp_path: Path) -> None:
    root = _devices(tmp_path)
    (root / "devices.csv").write_text(HEADER + "d1,JS/1,phone,,\nd2,JS/2,=cmd|' /C calc'!A0,,\nd3,JS/3,tablet,,\n", encoding="utf-8")
    result = _run(root / "out" / "OP-1", root / "devices.csv", "--parallel", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["exhibit", "outcome", "entries", "messages", "media", "errors", "seconds"]
    assert [line.split()[:6] for line in lines[1:]] == [["JS/1", "completed", "4", "0", "0", "0"],
                                                        ["JS/2", "completed", "2", "0", "0", "0"],
                                                        ["JS/3", "completed", "4", "0", "0", "0"]]
    manifest = json.loads((root / "out" / "OP-1" / "JS%2F2" / "manifest.json").read_text())
    assert manifest["description"] == "=cmd|' /C calc'!A0"  # kept exactly
    for number in (1, 2, 3):
        ingest_folder(root / f"d{number}", root / "plain", "OP-1", f"JS/{number}")
        assert _artefacts(root / "out" / "OP-1" / f"JS%2F{number}").equals(_artefacts(root / "plain" / "OP-1" / f"JS%2F{number}"))
    ledger = pq.read_table(root / "out" / "OP-1" / "custody.parquet").to_pylist()
    assert sorted((e["exhibit_id"], e["action"]) for e in ledger) == sorted(
        [(f"JS/{n}", a) for n in (1, 2, 3) for a in ("ingest_started", "ingested")])


def test_missing_source_fails_alone_and_a_rerun_skips_the_sealed(tmp_path: Path) -> None:
    root = _devices(tmp_path)
    (root / "devices.csv").write_text(HEADER + "d1,JS/1,phone,,\nnowhere,JS/9,gone,,\nd2,JS/2,laptop,,\n", encoding="utf-8")
    first = _run(root / "out" / "OP-1", root / "devices.csv", "--parallel", "2")
    assert first.exit_code == 1, first.output
    rows = first.stdout.splitlines()[1:]
    assert rows[0].split()[:3] == ["JS/1", "completed", "4"]
    assert rows[1].startswith("JS/9") and f"failed: {root / 'nowhere'}: no such file or folder" in rows[1]
    assert rows[2].split()[:3] == ["JS/2", "completed", "2"]
    assert sorted(p.name for p in (root / "out" / "OP-1").iterdir() if not p.name.startswith(".")) == ["JS%2F1", "JS%2F2", "custody.parquet"]
    again = _run(root / "out" / "OP-1", root / "devices.csv")
    assert again.exit_code == 1
    rows = again.stdout.splitlines()[1:]
    assert rows[0].split()[:4] == ["JS/1", "skipped", "(already", "sealed)"] and rows[2].split()[:4] == ["JS/2", "skipped", "(already", "sealed)"]
    assert "failed:" in rows[1]


def _refused(tmp_path: Path, text: bytes, *extra: str) -> str:
    _devices(tmp_path)
    (tmp_path / "devices.csv").write_bytes(text)
    result = _run(tmp_path / "out" / "OP-1", tmp_path / "devices.csv", *extra)
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "out").exists()  # nothing ran
    return result.output


def test_hostile_devices_lists_are_refused_naming_the_line(tmp_path: Path) -> None:
    csv_path = tmp_path / "devices.csv"
    assert f"{csv_path} line 3: exhibit_id JS/1 is already on line 2" in _refused(tmp_path, (HEADER + "d1,JS/1,a,,\nd2,JS/1,b,,\n").encode())
    assert f"{csv_path} line 1: unknown column(s) colour" in _refused(tmp_path, b"source,exhibit_id,description,expected_hashes,credentials,colour\nd1,A,a,,,red\n")
    assert f"{csv_path} line 2: credentials phone1 is not an entry of the --credentials file (none was given)" in _refused(
        tmp_path, (HEADER + "d1,A,a,,phone1\n").encode())
    assert "column password looks like a secret; passwords and keys do not belong in devices.csv" in _refused(
        tmp_path, b"source,exhibit_id,description,expected_hashes,credentials,password\nd1,A,a,,,hunter2\n")
    assert f"{csv_path} line 2: not UTF-8 text" in _refused(tmp_path, (HEADER + "d1,A,caf").encode() + b"\xe9,,\n")
    assert f"{csv_path} line 2: expected_hashes 'md5:12'" in _refused(tmp_path, (HEADER + "d1,A,a,md5:12,\n").encode())
    assert f"{csv_path} line 2: empty source" in _refused(tmp_path, (HEADER + ",A,a,,\n").encode())
    assert f"{csv_path} line 1: missing column(s) credentials" in _refused(tmp_path, b"source,exhibit_id,description,expected_hashes\nd1,A,a,\n")


def test_credentials_name_an_entry_of_the_credentials_file(tmp_path: Path) -> None:
    root = _devices(tmp_path)
    (root / "creds.toml").write_text('[phone1]\npassword = "hunter2"\n', encoding="utf-8")
    (root / "devices.csv").write_text(HEADER + "d1,JS/1,phone,md5:" + "0" * 32 + ",phone1\n", encoding="utf-8")
    result = _run(root / "out" / "OP-1", root / "devices.csv", "--credentials", str(root / "creds.toml"))
    assert result.exit_code == 0, result.output  # a folder has no media stream: the name was found and the run went on
    assert result.stdout.splitlines()[1].split()[:2] == ["JS/1", "completed"]


def test_formula_and_bidi_exhibit_ids_are_shown_escaped(tmp_path: Path) -> None:
    root = _devices(tmp_path)
    (root / "devices.csv").write_text(HEADER + "d1,=HYPERLINK(\"x\")\u202e,phone,,\n", encoding="utf-8")
    result = _run(root / "out" / "OP-1", root / "devices.csv")
    assert result.exit_code == 0, result.output
    row = result.stdout.splitlines()[1]
    assert "\u202e" not in row and row.startswith('=HYPERLINK("x")\\u202e  completed')
    manifest = json.loads(next((root / "out" / "OP-1").glob("*HYPERLINK*/manifest.json")).read_text())
    assert manifest["exhibit_id"] == "=HYPERLINK(\"x\")\u202e"


def test_case_id_must_match_the_case_folder(tmp_path: Path) -> None:
    root = _devices(tmp_path)
    (root / "devices.csv").write_text(HEADER + "d1,JS/1,phone,,\n", encoding="utf-8")
    result = _run(root / "out" / "OP-1", root / "devices.csv", "--case", "OP/1")
    assert result.exit_code == 2
    assert "--case OP/1: its folder is named OP%2F1, not OP-1" in result.output
