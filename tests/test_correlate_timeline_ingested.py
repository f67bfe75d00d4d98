"""exhibit correlate and exhibit timeline on a case ingested here (two folder sources sharing one file
and one phone number),
sealed and read through query's seal-checked views: the shared file is a link, its times are in the
timeline, and the body file goes through mactime."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.cli import main
from tests.folder_case import SMS_PATH, ingest_folder, write_files, write_sms_database

CASE = "OP-CT"
SHARED = b"one file, two phones\n"
SHARED_SHA = hashlib.sha256(SHARED).hexdigest()
MTIME = 1767261600  # 2026-01-01T10:00:00Z


def _source(root: Path, files: dict[str, bytes]) -> Path:
    write_files(root, files)
    for relative in files:
        os.utime(root / relative, (MTIME, MTIME))
    return root


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ingested")
    sources = {"JS/1": _source(root / "one", {"Download/shared.bin": SHARED, "a.txt": b"only on one\n"}),
               "JS/2": _source(root / "two", {"backup/copy.dat": SHARED, "b.txt": b"only on two\n"})}
    write_sms_database(sources["JS/1"] / SMS_PATH, [(1, "+447911123456", 1767430800000, 0, 1, "meet at 9")])
    write_sms_database(sources["JS/2"] / SMS_PATH, [(1, "+44 7911 123456", 1767434400000, 0, 2, "ok")])
    for exhibit, source in sources.items():
        ingest_folder(source, root / "cases", CASE, exhibit)
    return root / "cases" / CASE


def test_the_shared_file_and_number_link_the_two_exhibits(case_dir: Path) -> None:
    result = CliRunner().invoke(main, ["correlate", str(case_dir), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"link_kind": "file_sha256", "value": SHARED_SHA, "exhibit_count": 2, "exhibits": ["JS/1", "JS/2"], "occurrences": 2,
         "first_seen_time": "2026-01-01T10:00:00.000000000Z", "last_seen_time": "2026-01-01T10:00:00.000000000Z"},
        # the SMS sender on JS/1 and the recipient (written another way) on JS/2, timed by their messages
        {"link_kind": "identifier:phone", "value": "+447911123456", "exhibit_count": 2, "exhibits": ["JS/1", "JS/2"],
         "occurrences": 2, "first_seen_time": "2026-01-03T09:00:00.000000000Z", "last_seen_time": "2026-01-03T10:00:00.000000000Z"},
    ]
    assert result.stderr.splitlines()[-1] == "2 shared value(s)"


def test_timeline_holds_both_copies_and_the_custody_events(case_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    result = CliRunner().invoke(main, ["timeline", str(case_dir), "--output", str(target)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    modified = [(r["exhibit_id"], r["message"]) for r in rows if r["timestamp_desc"] == "File modified" and r["datetime"] == "2026-01-01T10:00:00+00:00"]
    assert ("JS/1", "/Download/shared.bin") in modified and ("JS/2", "/backup/copy.dat") in modified
    custody = [r["message"].split(" ")[0] for r in rows if r["table"] == "custody"]
    assert custody == ["ingest_started", "ingested", "ingest_started", "ingested"]
    times = [int(r["timestamp"]) for r in rows]
    assert times == sorted(times)
    # --exhibit keeps that exhibit's events only, custody events included (the ledger names every exhibit)
    result = CliRunner().invoke(main, ["timeline", str(case_dir), "--exhibit", "JS/2", "--output", str(target)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert {r["exhibit_id"] for r in rows} == {"JS/2"}
    assert [r["message"].split(" ")[0] for r in rows if r["table"] == "custody"] == ["ingest_started", "ingested"]


def test_body_file_reads_in_mactime(case_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "case.body"
    result = CliRunner().invoke(main, ["timeline", str(case_dir), "--format", "body", "--output", str(target)])
    assert result.exit_code == 0, result.output
    lines = target.read_text(encoding="utf-8").splitlines()
    shared = [line for line in lines if line.split("|")[1] == "JS/1:/Download/shared.bin"]
    assert len(shared) == 1 and shared[0].split("|")[8] == str(MTIME) and shared[0].split("|")[6] == str(len(SHARED))
    mactime = shutil.which("mactime")
    if mactime is None:
        pytest.skip("mactime (Debian sleuthkit) is not installed")
    out = subprocess.run([mactime, "-b", str(target), "-d", "-y", "-z", "UTC"], capture_output=True, check=True).stdout.decode()
    assert any(line.startswith("2026-01-01T10:00:00Z,") and line.endswith('"JS/2:/backup/copy.dat"') for line in out.splitlines())
