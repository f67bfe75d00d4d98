"""`exhibit case ingest` stopped from outside: a stop signal ends every device's run, a killed device
process costs that device only, and a rerun finishes what was left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import images
from tests.conftest import require_tool
from tests.folder_case import write_files
from tests.test_stopping import descendants, holding, settle

REPO = Path(__file__).resolve().parent.parent
HEADER = "source,exhibit_id,description,expected_hashes,credentials\n"


@pytest.fixture(scope="module")
def slow_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1.2 GB of ext4 (sparse on the host) with 1 GiB of file content: many seconds of hashing."""
    require_tool("mkfs.ext4")
    folder = tmp_path_factory.mktemp("slow")
    images.write_tree(folder / "tree", {b"big.bin": images.Sparse(1 << 30, ((0, b"head"), ((1 << 30) - 4, b"tail")))})
    return images.make_ext4(folder / "tree", folder / "slow.raw", "1200M", block_size=4096)


def _case(tmp_path: Path, slow_image: Path) -> Path:
    write_files(tmp_path / "d1", {"a.txt": b"alpha\n"})
    write_files(tmp_path / "d3", {"c.txt": b"charlie\n", "d.txt": b"delta\n"})
    (tmp_path / "devices.csv").write_text(HEADER + f"d1,EX-1,phone,,\n{slow_image},EX-2,laptop,,\nd3,EX-3,tablet,,\n", encoding="utf-8")
    return tmp_path / "out" / "OP-1"


def _start(tmp_path: Path, case_dir: Path) -> subprocess.Popen:
    (tmp_path / "scratch").mkdir(exist_ok=True)
    env = {**os.environ, "EXHIBIT_SCRATCH": str(tmp_path / "scratch")}
    return subprocess.Popen([sys.executable, "-m", "ingest", "case", "ingest", str(case_dir), "--devices", str(tmp_path / "devices.csv"),
                             "--parallel", "1", "--no-progress"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _device_process_hashing(process: subprocess.Popen, case_dir: Path, image: Path, timeout: float = 120) -> int:
    """Once EX-1 is sealed and EX-2's run holds the slow image open: the pid of EX-2's device process (a child of the case run)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        holders = holding(image) & descendants(process.pid)
        if (case_dir / "EX-1" / "manifest.json").is_file() and holders and list(case_dir.glob(".EX-2.partial-*")):
            children = {pid for pid in descendants(process.pid) if _parent(pid) == process.pid}
            devices = [pid for pid in children if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]
            assert len(devices) == 1, devices
            return devices[0]
        time.sleep(0.05)
    pytest.fail(f"EX-2 was not hashing {image} after {timeout} s")


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except OSError:
        return 0


def _rows(stdout: bytes) -> list[str]:
    return stdout.decode("utf-8").splitlines()[1:]


def _published(case_dir: Path) -> list[str]:
    return sorted(p.name for p in case_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def test_sigterm_stops_every_device_and_a_rerun_finishes_the_case(slow_image: Path, tmp_path: Path) -> None:
    case_dir = _case(tmp_path, slow_image)
    process = _start(tmp_path, case_dir)
    _device_process_hashing(process, case_dir, slow_image)
    family = descendants(process.pid)
    os.kill(process.pid, signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    rows = _rows(out)
    assert rows[0].split()[:2] == ["EX-1", "completed"]
    assert rows[1].startswith("EX-2") and "stopped: stopped by SIGTERM; nothing was published" in rows[1]
    assert rows[2].startswith("EX-3") and "stopped: not started (SIGTERM)" in rows[2]
    settle(lambda: not any(Path(f"/proc/{pid}").exists() and _parent(pid) != 0 for pid in family), timeout=10)
    assert holding(slow_image) == set()
    assert _published(case_dir) == ["EX-1"]

    again = _start(tmp_path, case_dir)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    rows = _rows(out)
    assert rows[0].split()[:4] == ["EX-1", "skipped", "(already", "sealed)"]
    assert [row.split()[:3] for row in rows[1:]] == [["EX-2", "completed", "4"], ["EX-3", "completed", "3"]]
    assert _published(case_dir) == ["EX-1", "EX-2", "EX-3"]
    manifest = json.loads((case_dir / "EX-2" / "manifest.json").read_text())
    assert manifest["outcome"] == "completed"


def test_a_killed_device_process_costs_that_device_only(slow_image: Path, tmp_path: Path) -> None:
    case_dir = _case(tmp_path, slow_image)
    process = _start(tmp_path, case_dir)
    device = _device_process_hashing(process, case_dir, slow_image)
    os.kill(device, signal.SIGKILL)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 1, err
    rows = _rows(out)
    assert rows[0].split()[:2] == ["EX-1", "completed"]
    assert rows[1].startswith("EX-2") and ("failed: the device's process ended without a result (killed by SIGKILL); "
                                           "nothing was published") in rows[1]
    assert rows[2].split()[:3] == ["EX-3", "completed", "3"]
    assert _published(case_dir) == ["EX-1", "EX-3"]
