"""The custody ledger: hash-chained, append-only, safe under concurrent appends, and checked by verify."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ingest.cli import main
from manifests.custody import GENESIS, LEDGER_NAME, event_hash, read_events
from manifests.keys import fingerprint, load_public
from manifests.schemas import CUSTODY
from tests.conftest import require_tool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from make_sample import build_sample  # noqa: E402


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A case after a signed ingest and two human events; returns (case folder, trusted public key)."""
    require_tool("mkfs.ext4")
    root = tmp_path_factory.mktemp("custody")
    assert CliRunner().invoke(main, ["keys", "generate", "--name", "lab", "--out", str(root / "keys")]).exit_code == 0
    key = root / "keys" / "lab.key"
    runner = CliRunner()
    seized = runner.invoke(main, ["custody", "add", str(root / "cases" / "OP-1"), "--exhibit", "JS/1", "--action", "seized",
                                  "--actor", "DC Jones", "--role", "officer", "--organisation", "Met", "--when", "2026-11-20T06:15:00+01:00",
                                  "--where", "Unit 4, call centre", "--reason", "search", "--authority", "warrant W-77",
                                  "--signing-key", str(key), "--new-exhibit"])
    assert seized.exit_code == 0, seized.output
    image = build_sample(root / "image")
    ingest = runner.invoke(main, ["ingest", str(image), "--case", "OP-1", "--exhibit", "JS/1", "--out", str(root / "cases"),
                                  "--workers", "1", "--signing-key", str(key), "--examiner", "A. Smith"])
    assert ingest.exit_code == 0, ingest.output
    moved = runner.invoke(main, ["custody", "add", str(root / "cases" / "OP-1"), "--exhibit", "JS/1", "--action", "transferred",
                                 "--actor", "A. Smith", "--from", "Lab store", "--to", "CPS", "--reason", "disclosure",
                                 "--hash", "manifest=sha256:" + "ab" * 32, "--signing-key", str(key)])
    assert moved.exit_code == 0, moved.output
    return root / "cases" / "OP-1", root / "keys" / "lab.pub"


def _verify(case_dir: Path, key: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["verify", str(case_dir), "--trusted-key", str(key)])
    return result.exit_code, result.output


def test_chain_is_linked_and_complete(case: tuple[Path, Path]) -> None:
    case_dir, key = case
    events = read_events(case_dir)
    assert [(e["event_index"], e["action"], e["actor_name"]) for e in events] == [
        (0, "seized", "DC Jones"), (1, "ingest_started", "A. Smith"), (2, "ingested", "A. Smith"), (3, "transferred", "A. Smith")]
    assert events[0]["previous_sha256"] == GENESIS
    assert all(events[i]["previous_sha256"] == events[i - 1]["event_sha256"] for i in range(1, 4))
    assert all(e["event_sha256"] == event_hash(e) and e["signature"] for e in events)
    assert events[0]["utc_offset_minutes"] == 60 and events[0]["occurred"].isoformat() == "2026-11-20T05:15:00+00:00"
    ingested = events[2]
    assert [h["subject"] for h in ingested["hashes"]] == ["manifest", "media", "media", "media"]
    code, output = _verify(case_dir, key)
    assert code == 0, output
    assert output.count("OK   custody event") == 8
    assert output.count("signature: valid Ed25519 signature by trusted key ") == 5
    assert "custody chain intact (4 events), every event validly signed by a trusted key: VERIFIED" in output
    assert "OK   JS/1: custody: latest ingested event names seal" in output


def test_show_prints_the_chain(case: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(main, ["custody", "show", str(case[0]), "--exhibit", "JS/1"])
    lines = result.output.splitlines()
    signer = fingerprint(load_public(case[1]))
    events = read_events(case[0])
    assert result.exit_code == 0 and len(lines) == 5
    assert lines[0].startswith("#0  2026-11-20T05:15:00+00:00  (UTC+60 min)  seized  JS/1  by  DC Jones  role: officer  org: Met")
    assert "authority: warrant W-77" in lines[0] and lines[0].endswith(f"sha256 {events[0]['event_sha256'][:16]}  signed by key {signer}")
    assert "from: Lab store  to: CPS" in lines[3]
    assert lines[4] == f"head: event 3 sha256 {events[3]['event_sha256']}"
    trusted = CliRunner().invoke(main, ["custody", "show", str(case[0]), "--trusted-key", str(case[1])])
    assert trusted.output.splitlines()[0].endswith(f"signed by key {signer} (trusted, valid)")


def _tampered(case_dir: Path, tmp_path: Path, change) -> Path:
    copy = tmp_path / "OP-1"
    shutil.copytree(case_dir, copy)
    rows = read_events(copy)
    rows = change(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=CUSTODY.arrow_schema()), copy / LEDGER_NAME)
    return copy


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("deleted", lambda rows: rows[:1] + rows[2:], "previous_sha256 does not match"),
        ("reordered", lambda rows: [rows[1], rows[0]] + rows[2:], "at position 0 (removed or reordered)"),
        ("edited", lambda rows: [dict(rows[0], actor_name="Someone Else")] + rows[1:], "(edited)"),
    ],
)
def test_tampered_events_fail_verify(case: tuple[Path, Path], tmp_path: Path, name: str, change, expected: str) -> None:
    copy = _tampered(case[0], tmp_path, change)
    code, output = _verify(copy, case[1])
    assert code == 1, name
    assert expected in output


def test_seal_replaced_after_ingest_is_caught(case: tuple[Path, Path], tmp_path: Path) -> None:
    """A re-ingested or re-sealed exhibit no longer matches the seal the ledger recorded."""
    copy = tmp_path / "OP-1"
    shutil.copytree(case[0], copy)
    manifest = copy / "JS%2F1" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"root_digest": "', '"root_digest": "0'))
    code, output = _verify(copy, case[1])
    assert code == 1
    assert "FAIL JS/1: custody: latest ingested event names seal" in output


def test_concurrent_appends_lose_no_event(tmp_path: Path) -> None:
    case_dir = tmp_path / "CASE"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from manifests.custody import Event, append\n"
        "for i in range(10):\n"
        "    append(Path(sys.argv[1]), 'CASE', Event(exhibit_id=f'E{sys.argv[2]}', action='note', actor_name=f'p{sys.argv[2]}', notes=str(i)))\n"
    )
    root = Path(__file__).resolve().parent.parent
    workers = [subprocess.Popen([sys.executable, "-c", script, str(case_dir), str(n)], cwd=root) for n in range(4)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0, 0]
    events = read_events(case_dir)
    assert len(events) == 40
    assert sorted((e["exhibit_id"], e["notes"]) for e in events) == sorted((f"E{n}", str(i)) for n in range(4) for i in range(10))
    assert [e["event_index"] for e in events] == list(range(40))
    assert all(events[i]["previous_sha256"] == events[i - 1]["event_sha256"] for i in range(1, 40))


def test_bad_events_are_refused(tmp_path: Path) -> None:
    base = ["custody", "add", str(tmp_path / "C"), "--exhibit", "E", "--actor", "X"]
    assert CliRunner().invoke(main, base + ["--action", "stolen"]).exit_code == 2
    naive = CliRunner().invoke(main, base + ["--action", "note", "--when", "2026-11-20T06:15:00"])
    assert naive.exit_code == 2 and "UTC offset" in naive.output
    assert not (tmp_path / "C" / LEDGER_NAME).exists()
