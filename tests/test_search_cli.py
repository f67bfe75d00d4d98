"""`exhibit search` end to end: two exhibits ingested here from folder sources (an Android SMS database and
files), searched through case/views.py's verified views; formats, exit codes, skipped exhibits, bad usage."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.cli import main
from tests.folder_case import SMS_PATH, ingest_folder, lab_key, write_files, write_sms_database

CASE = "OP-S"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(case folder, lab public key): JS/1 signed with the lab key, JS/2 unsigned."""
    root = tmp_path_factory.mktemp("search")
    private, public = lab_key(root)
    one = root / "src1"
    write_sms_database(one / SMS_PATH, [(1, "+639171234567", 1772352000000, 0, 1, "Magpadala ka ng PERA sa GCash"),
                                        (2, "+639171234567", 1772355600000, 0, 2, "=cmd|' /C calc'!A0 \u202eevil péra")])
    write_files(one, {"Download/Straße-pera.txt": b"x\n"})
    two = root / "src2"
    write_sms_database(two / SMS_PATH, [(1, "+34600000001", 1772442000000, 0, 1, "envíe el dinero, PÉRA")])
    ingest_folder(one, root / "cases", CASE, "JS/1", "--signing-key", str(private))
    ingest_folder(two, root / "cases", CASE, "JS/2")
    return root / "cases" / CASE, public


def _search(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["search", *args])
    return result.exit_code, result.stdout, result.stderr


def test_table_output_and_summary(built: tuple[Path, Path]) -> None:
    case, _ = built
    code, out, err = _search(str(case), "pera")
    assert code == 0, err
    db = f"/{SMS_PATH}"
    lines = out.splitlines()
    modified = lines[3].split("  ")[2]  # the file's own modification time, set when the test wrote it
    assert lines == [
        "exhibit  table.field  time  term  context  (where)",
        f"JS/1  messages.body  2026-03-01 08:00:00Z  pera  Magpadala ka ng [PERA] sa GCash  ({db} sms#1 message_index 0)",  # received: no sent time
        f"JS/1  messages.body  2026-03-01 09:00:00Z  pera  =cmd|' /C calc'!A0 \\u202eevil [péra]  ({db} sms#2 message_index 1)",
        f"JS/1  artefacts.path  {modified}  pera  /Download/Straße-[pera].txt  (/Download/Straße-pera.txt entry_index 3)",
        f"JS/2  messages.body  2026-03-02 09:00:00Z  pera  envíe el dinero, [PÉRA]  ({db} sms#1 message_index 0)",
    ]
    assert "\u202e" not in out
    assert err.splitlines() == [
        "read 2 exhibit(s): JS/1, JS/2",
        "signatures not checked (no --trusted-key): seals and the custody chain were recomputed, but a manifest or ledger rewritten "
        "and resealed by anyone would pass",
        "4 hits in messages, artefacts, media, identifiers (4 candidate rows read)"]


def test_csv_json_and_output_file(built: tuple[Path, Path], tmp_path: Path) -> None:
    case, _ = built
    target = tmp_path / "hits.csv"
    code, out, err = _search(str(case), "=cmd", "--format", "csv", "--output", str(target))
    assert (code, out) == (0, "")
    assert err.splitlines()[-1] == f"-> {target}"
    (header, row) = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert header[:9] == ["exhibit_id", "table", "field", "time", "term", "start", "end", "match", "context"]
    assert row[:3] + row[4:9] == ["JS/1", "messages", "body", "'=cmd", "0", "4", "'=cmd", "'=cmd|' /C calc'!A0 \\u202eevil péra"]
    code, out, _ = _search(str(case), "--identifier", "+63 917 123 4567", "--format", "json", "--max-hits", "1")
    document = json.loads(out)
    assert code == 0 and document["complete"] is False
    assert [(h["exhibit_id"], h["field"], h["match"], h["time"]) for h in document["hits"]] == [
        ("JS/1", "sender_id", "+639171234567", "2026-03-01T08:00:00Z")]
    code, out, _ = _search(str(case), "--identifier", "0917 123 4567", "--region", "ph", "--format", "json")
    assert code == 0
    assert [(h["exhibit_id"], h["table"], h["field"], h["match"], h["time"], h["message_index"]) for h in json.loads(out)["hits"]] == [
        ("JS/1", "messages", "sender_id", "+639171234567", "2026-03-01T08:00:00Z", 0),
        ("JS/1", "messages", "recipients[0].id", "+639171234567", "2026-03-01T09:00:00Z", 1),
        ("JS/1", "identifiers", "identifier", "+639171234567", "2026-03-01T08:00:00Z", 0),  # the origin message's time and index
        ("JS/1", "identifiers", "identifier", "+639171234567", "2026-03-01T09:00:00Z", 1)]
    assert _search(str(case), "--identifier", "0917 123 4567", "--region", "XX")[2].splitlines()[-1] == (
        "Error: unknown region XX (an ISO 3166 code such as PH)")
    assert document["notes"][-1] == "hit budget of 1 reached: the search stopped in JS/1 messages; more hits may exist"


def test_unverified_exhibits_are_skipped_with_exit_1(built: tuple[Path, Path]) -> None:
    case, key = built
    code, out, err = _search(str(case), "pera", "--trusted-key", str(key))
    assert code == 1
    assert {line.split("  ")[0] for line in out.splitlines()[1:]} == {"JS/1"}
    assert err.splitlines()[1].startswith("skipped JS/2: its manifest does not verify: ")
    code, out, _ = _search(str(case), "pera", "--trusted-key", str(key), "--unverified", "--exhibit", "JS/2")
    assert code == 0 and [line.split("  ")[0] for line in out.splitlines()[1:]] == ["JS/2"]


def test_filters_and_bad_usage(built: tuple[Path, Path], tmp_path: Path) -> None:
    case, _ = built
    code, out, err = _search(str(case), "pera", "--since", "2026-03-01T08:30:00+00:00", "--until", "2026-03-02")
    assert (code, [line.split("  ")[:3] for line in out.splitlines()[1:]]) == (0, [
        ["JS/1", "messages.body", "2026-03-01 09:00:00Z"], ["JS/2", "messages.body", "2026-03-02 09:00:00Z"]])
    assert _search(str(case), "--regex", "(")[0] == 2
    assert _search(str(case), "--regex", "(")[2].splitlines()[-1] == "Error: invalid regex (: missing ), unterminated subpattern at position 0"
    assert _search(str(case))[2].splitlines()[-1] == "Error: nothing to search for: give a TERM, --terms-file, --regex or --identifier"
    assert _search(str(case), "x", "--until", "2026-03-02T10:00")[0] == 2
    assert _search(str(case), "x", "--exhibit", "JS/9")[0] == 2
    assert _search(str(case), "x", "--output", str(case / "hits.txt"))[0] == 2
    assert not (case / "hits.txt").exists()
    terms = tmp_path / "t.txt"
    terms.write_text("# Tagalog\nmagpadala\nre:env[i]e\n", encoding="utf-8")
    code, out, _ = _search(str(case), "--terms-file", str(terms))
    assert code == 0 and [line.split("  ")[3] for line in out.splitlines()[1:]] == ["magpadala", "re:env[i]e"]


def _copy(built: tuple[Path, Path], tmp_path: Path) -> Path:
    import shutil

    case = tmp_path / CASE
    shutil.copytree(built[0], case)
    return case


def test_an_unreadable_part_is_reported_never_a_clean_result(built: tuple[Path, Path], tmp_path: Path) -> None:
    case = _copy(built, tmp_path)
    part = case / "JS%2F2" / "messages.parquet"
    part.write_bytes(part.read_bytes()[:64])  # truncated: not Parquet
    code, out, err = _search(str(case), "pera", "--unverified", "--format", "json")
    document = json.loads(out)
    assert code == 1
    assert document["complete"] is False
    assert [(h["exhibit_id"], h["table"]) for h in document["hits"]] == [("JS/1", "messages"), ("JS/1", "messages"), ("JS/1", "artefacts")]
    assert document["notes"][1].startswith(f"{part}: not read, not readable Parquet (ArrowInvalid: ")
    assert document["notes"][-1] == "the search is incomplete: 1 part(s), table(s) or field(s) could not be read or searched (named above)"
    assert err.splitlines()[-1] == document["notes"][-1]


def test_a_wrong_typed_part_is_reported_and_the_others_searched(built: tuple[Path, Path], tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    case = _copy(built, tmp_path)
    part = case / "JS%2F2" / "messages.parquet"
    table = pq.read_table(part)
    index = table.schema.get_field_index("body")
    pq.write_table(table.set_column(index, pa.field("body", pa.int64()), pa.array([7] * table.num_rows, pa.int64())), part)
    code, out, err = _search(str(case), "pera", "--unverified", "--format", "json")
    document = json.loads(out)
    assert code == 1 and document["complete"] is False
    assert [(h["exhibit_id"], h["table"]) for h in document["hits"]] == [("JS/1", "messages"), ("JS/1", "messages"), ("JS/1", "artefacts")]
    assert f"{part}: messages.body: not text (BIGINT), not searched" in document["notes"]


def test_since_without_timeless_rows_says_nothing_of_them(built: tuple[Path, Path]) -> None:
    case, _ = built
    code, out, err = _search(str(case), "pera", "--since", "2026-03-01", "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["complete"] is True
    assert len(document["hits"]) == 4  # the file's modification time is the test's own time: after 2026-03-01
    assert "rows with a hit but no time" not in err


def test_a_closed_pipe_exits_141_quietly(built: tuple[Path, Path]) -> None:
    """`exhibit search ... | head -1`: standard output's reader has gone; no "cannot write" claim, exit 141."""
    import os
    import subprocess
    import sys

    case, _ = built
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first hit is written
    try:
        done = subprocess.run([sys.executable, "-m", "ingest", "search", str(case), "pera"], stdout=write_end, stderr=subprocess.PIPE,
                              check=False, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    finally:
        os.close(write_end)
    stderr = done.stderr.decode()
    assert done.returncode == 141
    assert "cannot write" not in stderr and "Error" not in stderr and "Traceback" not in stderr
