"""`exhibit search` end to end: two exhibits ingested here from folder sources (an Android SMS database and
files), searched through case/views.py's verified views; formats, exit codes, skipped exhibits, bad usage."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.cli import main

CASE = "OP-S"
SMS_PATH = "data/data/com.android.providers.telephony/databases/mmssms.db"


def _sms(path: Path, bodies: list[tuple[int, str, int, int, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER, date_sent INTEGER DEFAULT 0, "
        "read INTEGER DEFAULT 0, type INTEGER, subject TEXT, body TEXT, service_center TEXT);"
        "CREATE TABLE pdu (_id INTEGER PRIMARY KEY, thread_id INTEGER, date INTEGER, date_sent INTEGER DEFAULT 0, msg_box INTEGER, "
        "read INTEGER DEFAULT 0, sub TEXT, m_type INTEGER);"
        "CREATE TABLE part (_id INTEGER PRIMARY KEY, mid INTEGER, seq INTEGER DEFAULT 0, ct TEXT, name TEXT, fn TEXT, cl TEXT, _data TEXT, text TEXT);"
        "CREATE TABLE addr (_id INTEGER PRIMARY KEY, msg_id INTEGER, contact_id INTEGER, address TEXT, type INTEGER, charset INTEGER);")
    connection.executemany("INSERT INTO sms (_id, thread_id, address, date, date_sent, read, type, body) VALUES (?, 1, ?, ?, 0, 1, ?, ?)", bodies)
    connection.commit()
    connection.close()


def _ingest(source: Path, out: Path, exhibit: str, *extra: str) -> None:
    result = CliRunner().invoke(main, ["ingest", str(source), "--case", CASE, "--exhibit", exhibit, "--out", str(out), "--workers", "1", *extra],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(case folder, lab public key): JS/1 signed with the lab key, JS/2 unsigned."""
    root = tmp_path_factory.mktemp("search")
    assert CliRunner().invoke(main, ["keys", "generate", "--name", "lab", "--out", str(root / "keys")]).exit_code == 0
    one = root / "src1"
    _sms(one / SMS_PATH, [(1, "+639171234567", 1772352000000, 1, "Magpadala ka ng PERA sa GCash"),
                          (2, "+639171234567", 1772355600000, 2, "=cmd|' /C calc'!A0 \u202eevil péra")])
    (one / "Download").mkdir(parents=True)
    (one / "Download" / "Straße-pera.txt").write_bytes(b"x\n")
    two = root / "src2"
    _sms(two / SMS_PATH, [(1, "+34600000001", 1772442000000, 1, "envíe el dinero, PÉRA")])
    _ingest(one, root / "cases", "JS/1", "--signing-key", str(root / "keys" / "lab.key"))
    _ingest(two, root / "cases", "JS/2")
    return root / "cases" / CASE, root / "keys" / "lab.pub"


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
