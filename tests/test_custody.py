"""The custody ledger: hash-chained, append-only, safe under concurrent appends, and checked by verify."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ingest.cli import main
from manifests.custody import GENESIS, LEDGER_NAME, Event, LedgerError, append, event_hash, read_events
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
    assert events[0]["utc_offset_minutes"] == 60 and events[0]["occurred_time"].isoformat() == "2026-11-20T05:15:00+00:00"
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


@pytest.fixture(scope="module")
def handled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A signed ledger with a transfer before the ingest and one after: (case folder, lab public key, forger's public key).

    Events: 0 seized, 1 transferred (to the lab), 2 ingest_started (the sealed head), 3 ingested, 4 transferred (to CPS).
    """
    root = tmp_path_factory.mktemp("handled")
    for name in ("lab", "forger"):
        assert CliRunner().invoke(main, ["keys", "generate", "--name", name, "--out", str(root / "keys")]).exit_code == 0
    key = str(root / "keys" / "lab.key")
    case_dir = root / "cases" / "OP-2"
    runner = CliRunner()

    def add(*args: str) -> None:
        result = runner.invoke(main, ["custody", "add", str(case_dir), "--exhibit", "JS/1", "--signing-key", key, *args])
        assert result.exit_code == 0, result.output

    add("--action", "seized", "--actor", "DC Jones", "--where", "Unit 4", "--when", "2026-11-20T06:15:00+01:00", "--new-exhibit")
    add("--action", "transferred", "--actor", "DC Jones", "--from", "DC Jones", "--to", "Lab store", "--when", "2026-11-20T09:00:00+01:00")
    evidence = root / "evidence"
    (evidence / "DCIM").mkdir(parents=True)
    (evidence / "DCIM" / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0 not much of a photo")
    ingest = runner.invoke(main, ["ingest", str(evidence), "--case", "OP-2", "--exhibit", "JS/1", "--out", str(root / "cases"),
                                  "--workers", "1", "--signing-key", key, "--examiner", "A. Smith"])
    assert ingest.exit_code == 0, ingest.output
    add("--action", "transferred", "--actor", "A. Smith", "--from", "Lab store", "--to", "CPS", "--when", "2026-11-28T10:00:00+01:00")
    return case_dir, root / "keys" / "lab.pub", root / "keys" / "forger.pub"


def _rechained(rows: list[dict], strip: bool = False) -> list[dict]:
    """What a forger without the lab's key can do: renumber, relink and rehash every event (signatures kept or stripped)."""
    previous = GENESIS
    out = []
    for index, row in enumerate(rows):
        row = dict(row, event_index=index, previous_sha256=previous)
        row["event_sha256"] = event_hash(row)
        if strip:
            row["signature"] = row["signer_fingerprint"] = None
        out.append(row)
        previous = row["event_sha256"]
    return out


def _forged(rows: list[dict], forger_key: Path) -> list[dict]:
    """A `returned` event appended with a correct hash link and a valid signature by the forger's own key."""
    from manifests.custody import Event, _row
    from manifests.keys import load_private

    event = Event(exhibit_id="JS/1", action="returned", actor_name="DC Jones", occurred=rows[-1]["occurred_time"])
    return rows + [_row("OP-2", event, len(rows), rows[-1]["event_sha256"], load_private(forger_key.with_suffix(".key")))]


def _attack(handled: tuple[Path, Path, Path], tmp_path: Path, change) -> tuple[Path, list[dict], list[dict]]:
    case_dir, _, _ = handled
    copy = tmp_path / "OP-2"
    shutil.copytree(case_dir, copy)
    before = read_events(copy)
    after = change(before)
    pq.write_table(pa.Table.from_pylist(after, schema=CUSTODY.arrow_schema()), copy / LEDGER_NAME)
    return copy, before, after


def _fail_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("FAIL")]


def test_untouched_handled_ledger_verifies(handled: tuple[Path, Path, Path]) -> None:
    case_dir, lab, _ = handled
    code, output = _verify(case_dir, lab)
    assert code == 0, output
    head = read_events(case_dir)[2]
    assert (f"OK   JS/1: custody anchor: the ledger holds the sealed head, event 2 with sha256 {head['event_sha256']}, "
            "and the chain up to it recomputes") in output
    assert output.splitlines()[-1] == "VERIFIED: 21 checks hold"


def test_removed_signed_transfer_fails(handled: tuple[Path, Path, Path], tmp_path: Path) -> None:
    copy, before, after = _attack(handled, tmp_path, lambda rows: _rechained(rows[:1] + rows[2:]))
    lab = fingerprint(load_public(handled[1]))
    code, output = _verify(copy, handled[1])
    assert code == 1
    assert _fail_lines(output) == [f"FAIL custody event {n} signature: signature by trusted key {lab} does not match the event" for n in (1, 2, 3)] + [
        f"FAIL JS/1: custody anchor: event 2 has sha256 {after[2]['event_sha256']}, the seal recorded {before[2]['event_sha256']} "
        "(events before it removed, inserted or rewritten)"]
    assert ("custody chain intact (4 events), but 3 of 4 events are not validly signed by a key you trusted "
            "(custody event 1, custody event 2, custody event 3): NOT VERIFIED") in output
    assert output.splitlines()[-1] == ("NOT VERIFIED: custody event 1 signature, custody event 2 signature, custody event 3 signature, "
                                       "JS/1 custody anchor (4 of 19 checks failed)")
    unkeyed = CliRunner().invoke(main, ["verify", str(copy)])
    assert unkeyed.exit_code == 1
    assert f"FAIL JS/1: custody anchor: event 2 has sha256 {after[2]['event_sha256']}" in unkeyed.output


def test_forged_event_fails(handled: tuple[Path, Path, Path], tmp_path: Path) -> None:
    copy, _, after = _attack(handled, tmp_path, lambda rows: _forged(rows, handled[2]))
    forger = fingerprint(load_public(handled[2]))
    code, output = _verify(copy, handled[1])
    assert code == 1
    assert _fail_lines(output) == [f"FAIL custody event 5 signature: signed by key {forger}, which is not among the trusted keys"]
    assert f"OK   custody event 5 (returned JS/1): sha256 {after[5]['event_sha256']}" in output
    assert output.splitlines()[-1] == "NOT VERIFIED: custody event 5 signature (1 of 23 checks failed)"


def test_stripped_signatures_fail(handled: tuple[Path, Path, Path], tmp_path: Path) -> None:
    copy, _, _ = _attack(handled, tmp_path, lambda rows: _rechained(rows, strip=True))
    code, output = _verify(copy, handled[1])
    assert code == 1
    assert _fail_lines(output) == [f"FAIL custody event {n} signature: unsigned (under trusted keys every event must be signed by one of them)"
                                   for n in range(5)]
    assert "custody chain intact (5 events), but 5 of 5 events are not validly signed by a key you trusted" in output
    assert "custody chain BROKEN" not in output


def test_recomputed_chain_fails(handled: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """The seizure's place is rewritten and every hash after it recomputed: signatures and the seal's anchor both catch it."""
    copy, before, after = _attack(handled, tmp_path, lambda rows: _rechained([dict(rows[0], location="Unit 9")] + rows[1:]))
    lab = fingerprint(load_public(handled[1]))
    code, output = _verify(copy, handled[1])
    assert code == 1
    assert _fail_lines(output) == [f"FAIL custody event {n} signature: signature by trusted key {lab} does not match the event" for n in range(5)] + [
        f"FAIL JS/1: custody anchor: event 2 has sha256 {after[2]['event_sha256']}, the seal recorded {before[2]['event_sha256']} "
        "(events before it removed, inserted or rewritten)"]
    unkeyed = CliRunner().invoke(main, ["verify", str(copy)])
    assert f"FAIL JS/1: custody anchor: event 2 has sha256 {after[2]['event_sha256']}" in unkeyed.output
    assert "FAIL custody signatures: not checked against any trusted key (none given); 5 of 5 events carry a signature" in unkeyed.output
    assert "custody chain intact (5 events), but its signatures were not checked against any trusted key: NOT VERIFIED" in unkeyed.output


def test_truncated_before_the_anchor_fails_without_keys(handled: tuple[Path, Path, Path], tmp_path: Path) -> None:
    copy, before, _ = _attack(handled, tmp_path, lambda rows: rows[:2])
    result = CliRunner().invoke(main, ["verify", str(copy)])
    assert result.exit_code == 1
    assert (f"FAIL JS/1: custody anchor: the seal recorded event 2 with sha256 {before[2]['event_sha256']}, but the ledger holds only 2 "
            "events (events removed)") in result.output
    assert "FAIL JS/1: custody: latest ingested event names seal None" in result.output


def test_custody_add_refuses_unknown_exhibits_and_ingest_actions(handled: tuple[Path, Path, Path], tmp_path: Path) -> None:
    copy = tmp_path / "OP-2"
    shutil.copytree(handled[0], copy)
    count = len(read_events(copy))
    base = ["custody", "add", str(copy), "--actor", "X"]
    unknown = CliRunner().invoke(main, base + ["--exhibit", "JS/2", "--action", "received"])
    assert unknown.exit_code == 2
    assert ("the case holds no exhibit 'JS/2' (no sealed exhibit folder and no earlier event for it); an event before ingest "
            "(such as its seizure) is recorded with --new-exhibit") in unknown.output
    for action in ("ingest_started", "ingested"):
        refused = CliRunner().invoke(main, base + ["--exhibit", "JS/1", "--action", action])
        assert refused.exit_code == 2 and f"action {action!r} is written by `exhibit ingest` only" in refused.output
    assert len(read_events(copy)) == count
    assert CliRunner().invoke(main, base + ["--exhibit", "JS/2", "--action", "seized", "--new-exhibit"]).exit_code == 0
    assert CliRunner().invoke(main, base + ["--exhibit", "JS/2", "--action", "received"]).exit_code == 0
    sealed_only = tmp_path / "C3"
    (sealed_only / "X").mkdir(parents=True)
    (sealed_only / "X" / "manifest.json").write_text("{}")
    assert CliRunner().invoke(main, ["custody", "add", str(sealed_only), "--actor", "Y", "--exhibit", "X", "--action", "note"]).exit_code == 0
    assert [(e["event_index"], e["exhibit_id"]) for e in read_events(copy)][-2:] == [(count, "JS/2"), (count + 1, "JS/2")]


def test_show_says_who_signed_and_whether_trusted(handled: tuple[Path, Path, Path], tmp_path: Path) -> None:
    copy, _, after = _attack(handled, tmp_path, lambda rows: _forged(_rechained([dict(rows[0], signature=None, signer_fingerprint=None), dict(rows[1], notes="edited")]),
                                                                handled[2]))
    lab, forger = fingerprint(load_public(handled[1])), fingerprint(load_public(handled[2]))
    result = CliRunner().invoke(main, ["custody", "show", str(copy), "--trusted-key", str(handled[1])])
    lines = result.output.splitlines()
    assert result.exit_code == 0
    assert lines[0].endswith("  unsigned")
    assert lines[1].endswith(f"  signed by key {lab} (trusted key, signature INVALID)")
    assert lines[2].endswith(f"  signed by key {forger} (NOT a trusted key)")
    assert lines[3] == f"head: event 2 sha256 {after[2]['event_sha256']}"


def test_newest_events_cut_off_are_caught_only_against_a_head_kept_elsewhere(handled: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """Dropping the last signed transfer leaves a ledger every seal and signature still agrees with; the head
    printed by `custody show` (or a report) before the cut is what catches it."""
    shown = CliRunner().invoke(main, ["custody", "show", str(handled[0])]).output.splitlines()[-1]
    index, digest = shown.removeprefix("head: event ").split(" sha256 ")
    copy, before, _ = _attack(handled, tmp_path, lambda rows: rows[:4])
    assert _verify(copy, handled[1])[0] == 0  # the limit the README states: nothing inside the case can tell
    result = CliRunner().invoke(main, ["verify", str(copy), "--trusted-key", str(handled[1]), "--custody-head", f"{index}:{digest}"])
    assert result.exit_code == 1
    assert _fail_lines(result.output) == [
        f"FAIL custody head given: the head given is event 4 with sha256 {before[4]['event_sha256']}, but the ledger holds only 4 events (events removed)"]
    assert (f"custody chain intact (4 events), but it does not hold the head given (the head given is event 4 with sha256 "
            f"{before[4]['event_sha256']}, but the ledger holds only 4 events (events removed)): NOT VERIFIED") in result.output
    untouched = CliRunner().invoke(main, ["verify", str(handled[0]), "--trusted-key", str(handled[1]), "--custody-head", f"{index}:{digest}"])
    assert untouched.exit_code == 0, untouched.output
    assert CliRunner().invoke(main, ["verify", str(handled[0]), "--trusted-key", str(handled[1]), "--custody-head",
                                     f"{index}:{digest.upper()}"]).exit_code == 0
    for bad in ("4", "x:" + "a" * 64, "²:" + "a" * 64, "4:" + "a" * 63):
        assert CliRunner().invoke(main, ["verify", str(copy), "--custody-head", bad]).exit_code == 2


def test_unreadable_ledger_refuses_ingest_and_custody_add_and_is_never_replaced(tmp_path: Path) -> None:
    case_dir = tmp_path / "cases" / "C"
    case_dir.mkdir(parents=True)
    ledger = case_dir / LEDGER_NAME
    ledger.write_bytes(b"garbage\n")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "a.txt").write_bytes(b"some evidence")
    runner = CliRunner()
    ingest = runner.invoke(main, ["ingest", str(evidence), "--case", "C", "--exhibit", "E1", "--out", str(tmp_path / "cases"),
                                  "--workers", "1"])
    assert ingest.exit_code == 2, ingest.output
    assert ingest.exception is None or isinstance(ingest.exception, SystemExit)
    problem = ("custody.parquet is not a readable Parquet file: Could not open Parquet input source '<Buffer>': "
               "Parquet magic bytes not found in footer. Either the file is corrupted or this is not a parquet file.")
    assert ingest.output == (f"Error: {ledger}: the case's custody ledger cannot be read ({problem}); nothing was written "
                             "(restore the ledger from a copy first; it is never replaced by a new one)\n")
    assert sorted(p.name for p in case_dir.iterdir()) == [LEDGER_NAME]
    assert ledger.read_bytes() == b"garbage\n"

    add = runner.invoke(main, ["custody", "add", str(case_dir), "--exhibit", "E1", "--action", "seized", "--actor", "X", "--new-exhibit"])
    assert add.exit_code == 2, add.output
    assert add.output == f"Error: {problem}\n"
    with pytest.raises(LedgerError, match="not a readable Parquet file"):
        append(case_dir, "C", Event(exhibit_id="E1", action="note", actor_name="X"))
    assert ledger.read_bytes() == b"garbage\n"
    assert sorted(p.name for p in case_dir.iterdir()) == [".custody.lock", LEDGER_NAME]


def _version_1_ledger(path: Path) -> None:
    """A ledger as Exhibit wrote it before the column vocabulary: `occurred`, microseconds, table version 1."""
    fields = [pa.field("occurred", pa.timestamp("us", tz="UTC"), nullable=False) if f.name == "occurred_time" else f
              for f in CUSTODY.arrow_schema()]
    schema = pa.schema(fields, metadata={b"exhibit.table": b"custody", b"exhibit.table_version": b"1"})
    row = {"case_id": "C", "event_index": 0, "exhibit_id": "E1", "action": "seized", "actor_name": "DC Jones", "actor_role": None,
           "actor_organisation": None, "from_party": None, "to_party": None, "occurred": datetime(2026, 11, 20, 5, 15, tzinfo=timezone.utc),
           "utc_offset_minutes": 0, "location": None, "purpose": None, "authority": None, "hashes": [], "notes": None,
           "tool_version": None, "host": "h", "previous_sha256": GENESIS, "event_sha256": "ab" * 32, "signature": None,
           "signer_fingerprint": None}
    pq.write_table(pa.Table.from_pylist([row], schema=schema), path)


def test_a_version_1_ledger_is_refused_by_name_and_never_converted(tmp_path: Path) -> None:
    case_dir = tmp_path / "cases" / "C"
    case_dir.mkdir(parents=True)
    ledger = case_dir / LEDGER_NAME
    _version_1_ledger(ledger)
    before = ledger.read_bytes()
    problem = ("custody.parquet is a custody ledger of version 1; this Exhibit reads only version 2 ledgers and does not convert "
               "an older one (that would change every event's hash): read it with the Exhibit version that wrote it")
    with pytest.raises(LedgerError) as raised:
        read_events(case_dir)
    assert str(raised.value) == problem
    runner = CliRunner()
    shown = runner.invoke(main, ["custody", "show", str(case_dir)])
    assert (shown.exit_code, shown.output) == (1, f"FAIL {problem}\n")
    add = runner.invoke(main, ["custody", "add", str(case_dir), "--exhibit", "E1", "--action", "note", "--actor", "X"])
    assert (add.exit_code, add.output) == (2, f"Error: {problem}\n")
    verified = runner.invoke(main, ["verify", str(case_dir)])
    assert verified.exit_code == 1
    assert f"FAIL custody ledger: {problem}" in verified.output.splitlines()
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "a.txt").write_bytes(b"some evidence")
    ingest = runner.invoke(main, ["ingest", str(evidence), "--case", "C", "--exhibit", "E1", "--out", str(tmp_path / "cases"), "--workers", "1"])
    assert ingest.exit_code == 2, ingest.output
    assert f"the case's custody ledger cannot be read ({problem}); nothing was written" in ingest.output
    assert ledger.read_bytes() == before
    assert sorted(p.name for p in case_dir.iterdir()) == [LEDGER_NAME]


def test_event_time_is_nanoseconds_and_hashes_the_same_after_a_round_trip(tmp_path: Path) -> None:
    when = datetime(2026, 11, 20, 6, 15, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    row = append(tmp_path, "C", Event(exhibit_id="E1", action="seized", actor_name="DC Jones", occurred=when))
    schema = pq.read_schema(tmp_path / LEDGER_NAME)
    assert schema.field("occurred_time").type == pa.timestamp("ns", tz="UTC")
    assert schema.metadata[b"exhibit.table_version"] == b"2"
    assert pq.read_table(tmp_path / LEDGER_NAME).column("occurred_time").cast(pa.int64()).to_pylist() == [1795151700123456000]
    (read,) = read_events(tmp_path)
    assert read == row and read["occurred_time"] == when
    body = {name: row[name] for name in ("case_id", "event_index", "exhibit_id", "action", "actor_name", "actor_role", "actor_organisation",
                                         "from_party", "to_party", "utc_offset_minutes", "location", "purpose", "authority", "hashes",
                                         "notes", "tool_version", "host", "previous_sha256")}
    body["occurred_time"] = "2026-11-20T05:15:00.123456000Z"
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert read["event_sha256"] == event_hash(read) == hashlib.sha256(text.encode()).hexdigest()


def test_a_time_finer_than_a_microsecond_is_a_ledger_problem_not_a_crash(tmp_path: Path) -> None:
    row = append(tmp_path, "C", Event(exhibit_id="E1", action="seized", actor_name="DC Jones"))
    table = pa.Table.from_pylist([row], schema=CUSTODY.arrow_schema())
    index = table.schema.get_field_index("occurred_time")
    finer = pa.array([1795151700123456001], pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
    pq.write_table(table.set_column(index, table.schema.field(index), finer), tmp_path / LEDGER_NAME)
    with pytest.raises(LedgerError, match="^custody.parquet holds a value that cannot be read exactly: Nanosecond resolution"):
        read_events(tmp_path)
