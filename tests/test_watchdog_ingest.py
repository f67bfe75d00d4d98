"""A whole ingest under the watchdog: a worker that segfaults or hangs on one file costs that file only.

The fault is planted in the workers by a `sitecustomize` module on the subprocess's PYTHONPATH (the
forkserver's workers import it at start-up), so no product code carries a test hook.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
COLUMNS = ["path", "content_status", "read_error_kind", "read_error_message", "sha256"]

PLANT = '''
import ctypes, os, time
if os.environ.get("EXHIBIT_TEST_PLANT") == "1":
    import ingest.work as _work
    _describe = _work.describe

    def describe(read, size, name, *args, **kwargs):
        if name == b"crash.bin":
            ctypes.string_at(0)  # a segfault, as in a native library on a damaged image
        if name == b"hang.bin":
            time.sleep(600)
        if name == b"abort.bin":
            os.abort()  # a C library's assertion failing
        if name == b"swell.bin":
            held = []  # a decoder that keeps growing on a hostile file, page by page
            for _ in range(64):
                held.append(b"x" * (32 << 20))
                time.sleep(0.02)
            time.sleep(600)
        return _describe(read, size, name, *args, **kwargs)

    _work.describe = describe
'''


def _ingest(tmp_path: Path, source: Path, config: Path) -> subprocess.CompletedProcess:
    plant = tmp_path / "plant"
    plant.mkdir()
    (plant / "sitecustomize.py").write_text(PLANT)
    env = {**os.environ, "EXHIBIT_TEST_PLANT": "1", "PYTHONPATH": f"{plant}{os.pathsep}{REPO}"}
    return subprocess.run([sys.executable, "-m", "ingest", "ingest", str(source), "--case", "C", "--exhibit", "E", "--out",
                           str(tmp_path / "out"), "--workers", "2", "--config", str(config)],
                          capture_output=True, text=True, env=env, timeout=300)


def _planted_run(tmp_path: Path, bad: tuple[str, str], watchdog: str) -> tuple[Path, dict[str, dict]]:
    """Ingest a.txt, the two planted files and z.txt under `[watchdog] watchdog`; (exhibit folder, artefact rows by name).

    Either way, the unit of 4 fails and is run again (1); its halves fail and are run again (2, 3);
    of the four single files the two good ones pass, the two bad ones are run again (4, 5) and given up."""
    source = tmp_path / "device"
    source.mkdir()
    for name in ("a.txt", *bad, "z.txt"):
        (source / name).write_bytes(name.encode() * 100)
    config = tmp_path / "watch.toml"
    config.write_text(f"[ingest]\nbatch_size = 256\n\n[watchdog]\n{watchdog}")
    done = _ingest(tmp_path, source, config)
    assert done.returncode == 1, done.stderr
    assert "5 units retried, 2 artefacts given up" in done.stdout, done.stdout
    exhibit = tmp_path / "out" / "C" / "E"
    rows = {r["path"].lstrip("/"): r for r in pq.read_table(exhibit / "artefacts.parquet", columns=COLUMNS).to_pylist() if r["path"] != "/"}
    for name in ("a.txt", "z.txt"):
        assert rows[name]["sha256"] == hashlib.sha256(name.encode() * 100).hexdigest()
    manifest = json.loads((exhibit / "manifest.json").read_text())
    assert (manifest["units_retried"], manifest["artefacts_given_up"]) == (5, 2)
    return exhibit, rows


def _worker_errors(exhibit: Path) -> list[tuple]:
    columns = ["stage", "error_kind", "path", "message"]
    return [tuple(e.values()) for e in pq.read_table(exhibit / "errors.parquet", columns=columns).to_pylist() if e["stage"] == "worker"]


def test_a_segfault_and_a_hang_cost_one_artefact_each_and_the_rest_is_ingested(tmp_path: Path) -> None:
    exhibit, rows = _planted_run(tmp_path, ("crash.bin", "hang.bin"), "unit_seconds = 3\nseconds_per_gib = 0\n")
    assert (rows["crash.bin"]["content_status"], rows["crash.bin"]["read_error_kind"], rows["crash.bin"]["sha256"]) == \
        ("read_error", "unit_crashed", None)
    assert rows["crash.bin"]["read_error_message"] == "the worker process was killed by SIGSEGV"
    assert (rows["hang.bin"]["content_status"], rows["hang.bin"]["read_error_kind"]) == ("read_error", "unit_timeout")
    assert rows["hang.bin"]["read_error_message"] == "ran past its time limit of 3 s; the worker was killed"
    assert _worker_errors(exhibit) == [
        ("worker", "unit_crashed", "/crash.bin", "content of /crash.bin was given up: the worker process was killed by SIGSEGV"),
        ("worker", "unit_timeout", "/hang.bin", "content of /hang.bin was given up: ran past its time limit of 3 s; the worker was killed"),
    ]


def test_a_worker_over_its_memory_cap_and_one_that_aborts_cost_one_artefact_each(tmp_path: Path) -> None:
    exhibit, rows = _planted_run(tmp_path, ("abort.bin", "swell.bin"), "unit_seconds = 30\nseconds_per_gib = 0\nworker_memory_mb = 400\n")
    assert (rows["abort.bin"]["content_status"], rows["abort.bin"]["read_error_kind"], rows["abort.bin"]["sha256"]) == \
        ("read_error", "unit_crashed", None)
    assert rows["abort.bin"]["read_error_message"] == "the worker process was killed by SIGABRT"
    assert (rows["swell.bin"]["content_status"], rows["swell.bin"]["read_error_kind"], rows["swell.bin"]["sha256"]) == \
        ("read_error", "unit_memory", None)
    swelled = re.fullmatch(r"the worker's resident memory reached (\d+) MiB, over its cap of 400 MiB; the worker was killed",
                           rows["swell.bin"]["read_error_message"])
    assert swelled is not None and 400 < int(swelled.group(1)) < 2048, rows["swell.bin"]["read_error_message"]
    assert _worker_errors(exhibit) == [
        ("worker", "unit_crashed", "/abort.bin", "content of /abort.bin was given up: the worker process was killed by SIGABRT"),
        ("worker", "unit_memory", "/swell.bin", f"content of /swell.bin was given up: {rows['swell.bin']['read_error_message']}"),
    ]
