"""Durable unit results (ingest/unit_store.py): exact round trip, and hostile unit files never trusted."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from pathlib import Path

import pytest

from ingest import unit_store
from ingest.tasks import UNIT_TIMEOUT, Failure, Outcome
from ingest.unit_store import UnitEncodeError, UnitFileInvalid
from manifests.records import UndecodedText

ITEMS = [(7, "/dev/loop0", b"a\xff.jpg"), (8, None, b"b.txt")]
RESULTS = [
    (7, {"sha256": "ab" * 32, "size": 3, "media": {"record": {"capture_time": dt.datetime(2021, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                                                            "latitude": 0.1 + 0.2, "naive": dt.datetime(2020, 1, 1), "nan": math.inf},
                                                 "warnings": [], "reader": "exif", "reader_version": "1"}}),
    (8, {"name": UndecodedText.of(b"bad\xfe"), "mtime_ns": 1_700_000_000_123_456_789, "flags": (True, False, None), 3: -1}),
]
OUTCOME = Outcome(results=RESULTS, failures=[Failure((9, None, b"c"), UNIT_TIMEOUT, "ran past 300 s")], retries=2)


def test_a_unit_round_trips_exactly(tmp_path: Path) -> None:
    path = unit_store.save(tmp_path, "content-0-12", ITEMS, OUTCOME)
    assert path == tmp_path / "content-0-12.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content-0-12.json"]  # no temporary left
    back = unit_store.load(tmp_path, "content-0-12", ITEMS)
    assert back == OUTCOME
    capture = back.results[0][1]["media"]["record"]["capture_time"]
    assert capture.utcoffset() == dt.timedelta(hours=2) and capture.microsecond == 123456
    assert back.results[0][1]["media"]["record"]["latitude"] == 0.30000000000000004
    name = back.results[1][1]["name"]
    assert isinstance(name, UndecodedText) and name.raw == b"bad\xfe"
    assert back.results[1][1]["flags"] == (True, False, None) and back.results[1][1][3] == -1
    assert back.failures[0].item == (9, None, b"c")
    document = json.loads(path.read_bytes())
    assert document["format"] == "exhibit-unit/1"
    assert document["payload_sha256"] == hashlib.sha256(unit_store.canonical(document["payload"])).hexdigest()


def test_no_stored_unit_is_none(tmp_path: Path) -> None:
    assert unit_store.load(tmp_path, "content-0-1", ITEMS) is None


def test_unknown_types_are_refused_when_writing(tmp_path: Path) -> None:
    with pytest.raises(UnitEncodeError):
        unit_store.save(tmp_path, "content-0-1", ITEMS, Outcome(results=[(1, {"x": {1, 2}})]))
    assert list(tmp_path.iterdir()) == []


def test_unsafe_unit_ids_are_refused(tmp_path: Path) -> None:
    for bad in ("../x", "a/b", "", "A.json"):
        with pytest.raises(ValueError):
            unit_store.unit_path(tmp_path, bad)


def test_the_same_id_with_other_items_is_not_reused(tmp_path: Path) -> None:
    unit_store.save(tmp_path, "content-0-1", ITEMS, OUTCOME)
    with pytest.raises(UnitFileInvalid, match="other items"):
        unit_store.load(tmp_path, "content-0-1", ITEMS[:1])


def _stored(tmp_path: Path) -> Path:
    return unit_store.save(tmp_path, "content-0-1", ITEMS, OUTCOME)


def test_a_symlink_is_never_followed(tmp_path: Path) -> None:
    real = _stored(tmp_path)
    os.rename(real, tmp_path / "elsewhere.json")
    (tmp_path / "content-0-1.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(UnitFileInvalid, match="cannot be read safely"):
        unit_store.load(tmp_path, "content-0-1", ITEMS)


def test_a_truncated_file_is_invalid(tmp_path: Path) -> None:
    path = _stored(tmp_path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(UnitFileInvalid, match="not valid JSON"):
        unit_store.load(tmp_path, "content-0-1", ITEMS)


def test_an_oversized_file_is_invalid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _stored(tmp_path)
    monkeypatch.setattr(unit_store, "MAX_UNIT_FILE_BYTES", path.stat().st_size - 1)
    with pytest.raises(UnitFileInvalid, match="budget"):
        unit_store.load(tmp_path, "content-0-1", ITEMS)


def test_a_changed_payload_fails_its_digest(tmp_path: Path) -> None:
    path = _stored(tmp_path)
    document = json.loads(path.read_bytes())
    document["payload"]["retries"] = 3
    path.write_bytes(unit_store.canonical(document))
    with pytest.raises(UnitFileInvalid, match="SHA-256"):
        unit_store.load(tmp_path, "content-0-1", ITEMS)


@pytest.mark.parametrize("payload", [
    {"results": [[1.5]], "retries": 0, "failures": []},  # an untagged float
    {"results": {"$map": []}, "retries": 0, "failures": []},  # results not a list
    {"results": [{"$pickle": "x"}], "retries": 0, "failures": []},  # unknown tag
    {"results": [{"$datetime": ["2020-01-01T00:00:00+01:00", None]}], "retries": 0, "failures": []},
    {"results": [{"$bytes": "!!"}], "retries": 0, "failures": []},
    {"results": [{"$map": [[[1], 2]]}], "retries": 0, "failures": []},  # unhashable key
    {"results": [], "retries": "0", "failures": []},
    {"results": [], "retries": 0, "failures": [[1, "made_up", "x"]]},
    {"results": [], "retries": 0},
])
def test_wrong_types_are_invalid_even_with_a_matching_digest(tmp_path: Path, payload: dict) -> None:
    document = {"format": "exhibit-unit/1", "unit_id": "content-0-1", "items_sha256": unit_store.items_digest(ITEMS),
                "payload": payload, "payload_sha256": hashlib.sha256(unit_store.canonical(payload)).hexdigest()}
    (tmp_path / "content-0-1.json").write_bytes(unit_store.canonical(document))
    with pytest.raises(UnitFileInvalid):
        unit_store.load(tmp_path, "content-0-1", ITEMS)


def test_deep_nesting_is_invalid(tmp_path: Path) -> None:
    (tmp_path / "content-0-1.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(UnitFileInvalid):
        unit_store.load(tmp_path, "content-0-1", ITEMS)


ROWS = [{"body": "hi", "sent_time": dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), "path_bytes": b"\x00\xff"},
        {"body": UndecodedText.of(b"\xfe"), "sent_time": None, "path_bytes": b""}]


def test_chat_rows_stream_round_trip(tmp_path: Path) -> None:
    assert unit_store.save_rows(tmp_path, "chat-3", ITEMS, iter(ROWS)) == 2
    assert unit_store.verify_rows(tmp_path, "chat-3", ITEMS) == 2
    assert list(unit_store.load_rows(tmp_path, "chat-3", ITEMS)) == ROWS
    assert unit_store.verify_rows(tmp_path, "chat-4", ITEMS) is None


def test_empty_chat_rows(tmp_path: Path) -> None:
    assert unit_store.save_rows(tmp_path, "chat-3", ITEMS, iter([])) == 0
    assert unit_store.verify_rows(tmp_path, "chat-3", ITEMS) == 0
    assert list(unit_store.load_rows(tmp_path, "chat-3", ITEMS)) == []


@pytest.mark.parametrize("damage", ["truncate", "drop_line", "change", "other_items", "symlink"])
def test_damaged_chat_rows_are_invalid(tmp_path: Path, damage: str) -> None:
    unit_store.save_rows(tmp_path, "chat-3", ITEMS, iter(ROWS))
    path = unit_store.rows_path(tmp_path, "chat-3")
    lines = path.read_bytes().splitlines(keepends=True)
    if damage == "truncate":
        path.write_bytes(b"".join(lines)[:-10])
    elif damage == "drop_line":
        path.write_bytes(lines[0] + lines[2] + lines[3])
    elif damage == "change":
        path.write_bytes(lines[0] + lines[1].replace(b"hi", b"ho") + lines[2] + lines[3])
    elif damage == "symlink":
        os.rename(path, tmp_path / "other")
        path.symlink_to(tmp_path / "other")
    with pytest.raises(UnitFileInvalid):
        unit_store.verify_rows(tmp_path, "chat-3", ITEMS[:1] if damage == "other_items" else ITEMS)


def test_the_staging_identity(tmp_path: Path) -> None:
    from ingest import resume_identity as ri

    image = tmp_path / "disk.raw"
    image.write_bytes(b"A" * (3 << 20))
    os.utime(image, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    staging = tmp_path / "staging"
    staging.mkdir()
    fingerprint = ri.source_fingerprint(image, [image])
    assert fingerprint == {"kind": "containers", "files": [{
        "path": str(image.resolve()), "size": 3 << 20, "mtime_ns": 1_600_000_000_000_000_000,
        "first_mib_sha256": hashlib.sha256(b"A" * (1 << 20)).hexdigest(), "last_mib_sha256": hashlib.sha256(b"A" * (1 << 20)).hexdigest()}]}
    stored = ri.identity("C1", "E1", "1.0", "d" * 64, fingerprint)
    ri.write(staging, stored)
    assert ri.read(staging) == stored
    assert ri.differences(stored, stored) == []
    with open(image, "r+b") as handle:
        handle.seek((3 << 20) - 1)
        handle.write(b"B")
    os.utime(image, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    other = ri.identity("C1", "E1", "1.0", "e" * 64, ri.source_fingerprint(image, [image]))
    assert ri.differences(stored, other) == [f"configuration ({'d' * 64!r} then, {'e' * 64!r} now)",
                                             "source (other files, sizes, times or content)"]
    (staging / "resume.json").unlink()
    (staging / "resume.json").symlink_to(image)
    with pytest.raises(ri.IdentityInvalid):
        ri.read(staging)


class _Table(list):
    append = list.append


class _CountingRunner:
    slots = 1

    def __init__(self) -> None:
        self.calls = 0

    def submit(self, function, items, sizes):  # noqa: ANN001, ANN201 - a test double
        from concurrent.futures import Future
        self.calls += 1
        future: Future = Future()
        future.set_result(Outcome(results=[(i[0], {"content_status": "empty", "sha256": "e" * 64,
                                                   "checked": dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)}) for i in items]))
        return future


def _content_run(units_dir: Path) -> tuple[list, _CountingRunner, object]:
    from ingest.content_units import ContentPhase
    from ingest.problems import Problems
    from ingest.request import Progress
    from ingest.walk import Batch

    runner = _CountingRunner()
    table = _Table()
    phase = ContentPhase(table, _Table(), runner, None, Progress(), None, {"case_id": "C", "exhibit_id": "E"}, units_dir=units_dir)
    for unit in range(3):
        rows = [{"entry_index": unit * 2 + k, "volume_index": 0, "path": f"/f{unit}{k}", "path_spec": "{}", "path_bytes": b"x", "size": 0} for k in range(2)]
        items = [[row["entry_index"], None, row["path"]] for row in rows]
        phase.add(Batch(recipe=None, rows=rows, items=items, sizes=[0, 0], unit_id=f"0-{unit}"))
    phase.finish(Problems())
    return list(table), runner, phase


def test_content_units_are_taken_from_disk_on_a_second_run(tmp_path: Path) -> None:
    first, runner, phase = _content_run(tmp_path)
    assert runner.calls == 3 and phase.units_resumed == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content-0-0.json", "content-0-1.json", "content-0-2.json"]
    (tmp_path / "content-0-1.json").write_bytes(b"{}")  # a damaged unit: discarded, run again
    second, runner, phase = _content_run(tmp_path)
    assert runner.calls == 1 and phase.units_resumed == 2
    assert phase.units_discarded == [("content-0-1", "not an exhibit-unit/1 document")]
    assert second == first and len(first) == 6
    assert first[0] == {"entry_index": 0, "volume_index": 0, "path": "/f00", "path_spec": "{}", "path_bytes": b"x", "size": 0,
                        "content_status": "empty", "sha256": "e" * 64, "checked": dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)}
