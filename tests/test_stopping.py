"""A run that is stopped (Ctrl-C, SIGTERM, kill -9) or runs out of disk publishes nothing, leaves no
scratch copy, worker or open handle on the evidence behind, and says what happened; the next run
of the same exhibit cleans up after a killed one and records that it did."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from manifests.custody import read_events
from tests import images
from tests.conftest import require_tool

REPO = Path(__file__).resolve().parent.parent
GIB = 1 << 30


@pytest.fixture(scope="module")
def big_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1.2 GB of ext4 (sparse on the host) with 1 GiB of file content: minutes of hashing on a busy machine."""
    require_tool("mkfs.ext4")
    folder = tmp_path_factory.mktemp("big")
    images.write_tree(folder / "tree", {
        b"big.bin": images.Sparse(768 << 20, ((0, b"head"), ((768 << 20) - 4, b"tail"))),
        b"dir/other.bin": images.Sparse(256 << 20, ((0, b"x"),)),
        b"small.txt": b"small\n",
    })
    return images.make_ext4(folder / "tree", folder / "big.raw", "1200M", block_size=4096)


class Run:
    """`python -m ingest ingest ...` in its own session, with its own scratch and temporary folders."""

    def __init__(self, tmp_path: Path, source: Path, workers: int = 2, exhibit: str = "EX-1") -> None:
        self.out = tmp_path / "out"
        self.case = self.out / "CASE-1"
        self.scratch = tmp_path / "scratch"
        self.tmp = tmp_path / "tmp"
        self.scratch.mkdir(exist_ok=True)
        self.tmp.mkdir(exist_ok=True)
        self.source = source
        env = {**os.environ, "EXHIBIT_SCRATCH": str(self.scratch), "TMPDIR": str(self.tmp)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ingest", "ingest", str(source), "--case", "CASE-1", "--exhibit", exhibit, "--out", str(self.out),
             "--workers", str(workers)], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        self.family: set[int] = set()

    def wait_for_workers(self, count: int, timeout: float = 60) -> None:
        """Until `count` processes below the run hold the evidence open (the staging folder exists by then)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.communicate()
            self.family |= descendants(self.process.pid)
            holders = holding(self.source) & self.family
            if len(holders) >= count and list(self.case.glob(".EX-1.partial-*")):
                return
            time.sleep(0.05)
        pytest.fail(f"no {count} workers held {self.source} after {timeout} s")

    def stop(self, signum: int, group: bool = False) -> tuple[int, str, float]:
        """Send the signal; (exit code, standard error, seconds to exit)."""
        self.family |= descendants(self.process.pid)
        sent = time.monotonic()
        if group:
            os.killpg(self.process.pid, signum)  # what a terminal's Ctrl-C does
        else:
            os.kill(self.process.pid, signum)
        _, err = self.process.communicate(timeout=60)
        return self.process.returncode, err.decode("utf-8", "backslashreplace"), time.monotonic() - sent


def descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    """The pids that still run (a zombie holds nothing and is not counted)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


def holding(path: Path) -> set[int]:
    """Every process with `path` open (scanning /proc/*/fd)."""
    target = os.fspath(path.resolve())
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:
            continue
        if target in links:
            found.add(int(entry.name))
    return found


def settle(condition, timeout: float = 5.0) -> float:
    """Seconds until condition() holds; fails after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"still not settled after {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - started


def events(case: Path) -> list[tuple[str, str]]:
    return [(e["exhibit_id"], e["action"]) for e in read_events(case)]


@pytest.mark.parametrize(("signum", "group", "code"), [(signal.SIGINT, True, 130), (signal.SIGTERM, False, 143)])
def test_a_stop_signal_ends_the_run_promptly_and_leaves_nothing(big_image: Path, tmp_path: Path, signum: int, group: bool,
                                                               code: int) -> None:
    run = Run(tmp_path, big_image)
    run.wait_for_workers(2)
    time.sleep(0.5)  # the workers are well into hashing the big files
    exit_code, err, seconds = run.stop(signum, group)
    name = signal.Signals(signum).name
    assert (exit_code, err.strip().splitlines()[-1]) == (code, f"exhibit: stopped by {name}; nothing was published (the staging "
                                                              f"folder, scratch copies and worker processes were removed) (exit {code})")
    print(f"{name}: exit after {seconds:.2f} s")
    assert seconds < 5, f"{name} took {seconds:.1f} s"
    settle(lambda: not alive(run.family))
    assert holding(big_image) == set()
    assert sorted(p.name for p in run.case.iterdir()) == [".custody.lock", "custody.parquet"]
    assert (list(run.scratch.iterdir()), list(run.tmp.iterdir())) == ([], [])
    assert events(run.case) == [("EX-1", "ingest_started")]


def test_kill_9_leaves_no_worker_on_the_evidence_and_the_rerun_cleans_up(big_image: Path, tmp_path: Path) -> None:
    run = Run(tmp_path, big_image)
    run.wait_for_workers(2)
    family = set(run.family)
    assert len(family) >= 3  # the forkserver and two workers at least
    run.stop(signal.SIGKILL)
    seconds = settle(lambda: not alive(family) and not holding(big_image))
    print(f"kill -9: workers and forkserver gone after {seconds:.2f} s")
    (stale,) = run.case.glob(".EX-1.partial-*")
    (stale_scratch,) = run.scratch.glob("exhibit-run-*")
    assert sorted(p.name for p in run.case.iterdir()) == sorted([".EX-1.run-lock", stale.name, ".custody.lock", "custody.parquet"])

    small = tmp_path / "small"
    images.write_tree(small, {b"a.txt": b"alpha\n"})
    again = Run(tmp_path, images.make_ext4(small, tmp_path / "small.raw", "2M"), workers=2)
    out, err = again.process.communicate(timeout=120)
    assert again.process.returncode == 0, err
    assert out.decode().startswith("completed: 4 entries, 1 file hashed, 6 bytes, 0 messages, 0 errors, 2 warnings, ")
    assert sorted(p.name for p in run.case.iterdir()) == [".custody.lock", "EX-1", "custody.parquet"]
    assert list(run.scratch.iterdir()) == []
    import pyarrow.parquet as pq

    rows = pq.read_table(run.case / "EX-1" / "errors.parquet", columns=["stage", "kind", "severity", "message"]).to_pylist()
    assert rows == [
        {"stage": "output", "kind": "stale_staging_removed", "severity": "warning",
         "message": f"removed the staging folder {stale.name} of this exhibit, left by an earlier run that was stopped before it "
                    "finished (nothing of it was ever published)"},
        {"stage": "output", "kind": "stale_scratch_removed", "severity": "warning",
         "message": f"removed the scratch folder {stale_scratch} of this exhibit, left by an earlier run that was stopped before it finished"},
    ]
    assert events(run.case) == [("EX-1", "ingest_started"), ("EX-1", "ingest_started"), ("EX-1", "ingested")]
