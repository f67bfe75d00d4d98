"""A run that is stopped (Ctrl-C, SIGTERM, kill -9) or runs out of disk publishes nothing, leaves no
scratch copy, worker or open handle on the evidence behind, and says what happened; the next run
of the same exhibit cleans up after a killed one and records that it did."""

from __future__ import annotations

import os
import re
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
            holders = holding(self.source) & (self.family | {self.process.pid} if count == 1 else self.family)
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


@pytest.mark.parametrize(("signum", "group", "code", "workers"), [(signal.SIGINT, True, 130, 2), (signal.SIGTERM, False, 143, 2),
                                                             (signal.SIGTERM, False, 143, 1)])
def test_a_stop_signal_ends_the_run_promptly_and_leaves_nothing(big_image: Path, tmp_path: Path, signum: int, group: bool,
                                                               code: int, workers: int) -> None:
    """With workers the pool is stopped; with one, the main process is itself hashing the big file when the signal comes."""
    run = Run(tmp_path, big_image, workers=workers)
    run.wait_for_workers(workers)
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
    assert out.decode().startswith("completed: 4 entries, 1 file hashed, 6 bytes, 0 messages, 0 identifiers, 0 errors, 2 warnings, ")
    assert sorted(p.name for p in run.case.iterdir()) == [".custody.lock", "EX-1", "custody.parquet"]
    assert list(run.scratch.iterdir()) == []
    import pyarrow.parquet as pq

    rows = pq.read_table(run.case / "EX-1" / "errors.parquet", columns=["stage", "error_kind", "severity", "message"]).to_pylist()
    assert rows == [
        {"stage": "output", "error_kind": "stale_staging_removed", "severity": "warning",
         "message": f"removed the staging folder {stale.name} of this exhibit, left by an earlier run that was stopped before it "
                    "finished (nothing of it was ever published)"},
        {"stage": "output", "error_kind": "stale_scratch_removed", "severity": "warning",
         "message": f"removed the scratch folder {stale_scratch} of this exhibit, left by an earlier run that was stopped before it finished"},
    ]
    assert events(run.case) == [("EX-1", "ingest_started"), ("EX-1", "ingest_started"), ("EX-1", "ingested")]


# --- a full disk -------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path):
    """A tmpfs of 4 MiB mounted in the test's folder (unmounted afterwards, whatever happens)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a tmpfs: {result.stderr!r}")
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr!r}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(mount: Path) -> None:
    """Take every free byte of the file system with a filler file."""
    descriptor = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for size in (1 << 16, 4096, 1):
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError as error:
                assert error.errno == 28
    finally:
        os.close(descriptor)
    probe = os.open(mount / "probe", os.O_WRONLY | os.O_CREAT)
    try:
        with pytest.raises(OSError):
            os.write(probe, b"x")
    finally:
        os.close(probe)
        os.unlink(mount / "probe")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("mkfs.ext4")
    sys.path.insert(0, str(REPO / "scripts"))
    from make_sample import build_sample

    return build_sample(tmp_path_factory.mktemp("sample"))


def _fill_before(monkeypatch: pytest.MonkeyPatch, owner, name: str, mount: Path) -> None:
    real = getattr(owner, name)

    def filled_first(*args, **kwargs):
        if not (mount / "filler").exists():
            fill(mount)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, filled_first)


def _publish_fails(monkeypatch: pytest.MonkeyPatch, mount: Path) -> None:
    from manifests import writer

    real = writer.fsync_dir

    def after_rename(path: Path) -> None:
        if path == mount / "CASE-1":  # the rename into place happened; syncing it "fails"
            (mount / "filler").write_bytes(b"")
            raise OSError(28, "No space left on device", str(path))
        real(path)

    monkeypatch.setattr(writer, "fsync_dir", after_rename)


PYARROW_FULL = "[Errno 28] Error writing bytes to file. Detail: [errno 28] No space left on device"
MESSAGES = {  # {case}: the case folder; {staging}: the run's staging folder there
    "writing parts": PYARROW_FULL + " while writing the parts in {staging}",
    "sealing": "[Errno 28] No space left on device while sealing {staging}",
    "publishing": "[Errno 28] No space left on device: '{case}' while publishing {case}/EX-1",
    "custody append": PYARROW_FULL + " while recording the ingested custody event (the folder {case}/EX-1 was taken back)",
}
STAGES = {
    "writing parts": lambda mp, mount: _fill_before(mp, __import__("manifests.writer").writer.ExhibitOutput, "open_table", mount),
    "sealing": lambda mp, mount: _fill_before(mp, __import__("ingest.run").run, "seal", mount),
    "publishing": _publish_fails,
    "custody append": lambda mp, mount: _fill_before(mp, __import__("manifests.writer").writer.ExhibitOutput, "publish", mount),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_full_disk_publishes_nothing_and_says_so(stage: str, sample: Path, small_disk: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import run_ingest

    monkeypatch.setenv("EXHIBIT_SCRATCH", str(tmp_path / "scratch"))
    (tmp_path / "scratch").mkdir()
    with monkeypatch.context() as patch:
        STAGES[stage](patch, small_disk)
        failed = run_ingest(sample, small_disk, workers=1)
    case = small_disk / "CASE-1"
    assert failed.exit_code == 3, failed.output
    (line,) = failed.output.splitlines()
    staging = re.search(r"\.EX-1\.partial-[0-9a-f]{32}", line)
    detail = MESSAGES[stage].format(case=case, staging=f"{case}/{staging.group() if staging else '?'}")
    assert line == f"exhibit: the run failed: {detail}; nothing was published (exit 3)"
    assert sorted(p.name for p in case.iterdir()) == [".custody.lock", "custody.parquet"]
    assert events(case) == [("EX-1", "ingest_started")]
    assert list((tmp_path / "scratch").iterdir()) == []
    (small_disk / "filler").unlink()
    again = run_ingest(sample, small_disk, workers=1)
    assert again.exit_code == 0, again.output
    assert events(case) == [("EX-1", "ingest_started"), ("EX-1", "ingest_started"), ("EX-1", "ingested")]


def test_a_disk_too_small_for_the_ledger_writes_nothing(sample: Path, tmp_path: Path) -> None:
    """A real full disk, nothing simulated: 4 KiB hold neither the ledger nor any part."""
    from tests.conftest import run_ingest

    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(mount)], check=True)
    try:
        failed = run_ingest(sample, mount, workers=1)
        assert failed.exit_code == 3, failed.output
        assert failed.output.splitlines() == [f"exhibit: the run failed: {PYARROW_FULL} while recording the ingest_started custody "
                                              "event; nothing was published (exit 3)"]
        assert sorted(p.name for p in (mount / "CASE-1").iterdir()) == [".custody.lock"]
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


# --- the chat phase, stale staging, a live run's lock ------------------------------------------

def test_a_stop_in_the_chat_phase_removes_its_scratch_copies(sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from ingest import chats
    from tests.conftest import run_ingest

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("EXHIBIT_SCRATCH", str(scratch))
    copies: list[Path] = []

    def copy_then_stop(unit: str) -> dict:
        folder = Path(tempfile.mkdtemp(prefix="exhibit-chat-", dir=os.environ["EXHIBIT_SCRATCH"]))
        (folder / "db").write_bytes(b"SQLite format 3\0")  # the copy of an evidence database
        copies.append(folder)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # the stop arrives here
        pytest.fail("the signal did not stop the chat phase")

    monkeypatch.setattr(chats, "run_chat_unit", copy_then_stop)
    stopped = run_ingest(sample, tmp_path / "out", workers=1)
    assert (stopped.exit_code, stopped.output.splitlines()) == (143, [
        "exhibit: stopped by SIGTERM; nothing was published (the staging folder, scratch copies and worker processes were removed) (exit 143)"])
    assert copies and copies[0].parent.parent == scratch and not copies[0].exists()
    assert list(scratch.iterdir()) == []
    assert sorted(p.name for p in (tmp_path / "out" / "CASE-1").iterdir()) == [".custody.lock", "custody.parquet"]


def test_only_this_exhibits_stale_staging_is_removed(sample: Path, tmp_path: Path) -> None:
    from tests.conftest import run_ingest

    case = tmp_path / "out" / "CASE-1"
    stale = case / f".EX-1.partial-{'a' * 32}"
    others = [case / f".EX-10.partial-{'b' * 32}", case / f".EX-1.partial-{'c' * 32}.partial-{'d' * 32}", case / ".EX-1.partial-x"]
    for folder in [stale, *others]:
        folder.mkdir(parents=True)
        (folder / "artefacts.parquet").write_bytes(b"left over")
    result = run_ingest(sample, tmp_path / "out", workers=1)
    assert result.exit_code == 0, result.output
    assert not stale.exists() and all(folder.is_dir() for folder in others)
    warnings = [(e["stage"], e["error_kind"], e["severity"], e["message"]) for e in result.errors()]
    assert warnings == [("output", "stale_staging_removed", "warning", f"removed the staging folder {stale.name} of this exhibit, left by "
                         "an earlier run that was stopped before it finished (nothing of it was ever published)")]


def test_a_live_runs_staging_is_never_touched(sample: Path, tmp_path: Path) -> None:
    import fcntl

    from tests.conftest import run_ingest

    case = tmp_path / "out" / "CASE-1"
    case.mkdir(parents=True)
    live = case / f".EX-1.partial-{'e' * 32}"
    live.mkdir()
    lock = case / ".EX-1.run-lock"
    lock.write_text(f"pid 4242, run {'e' * 32}")
    with open(lock, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        refused = run_ingest(sample, tmp_path / "out", workers=1)
    assert (refused.exit_code, refused.output.splitlines()) == (2, [
        f"Error: another run is writing this exhibit now (pid 4242, run {'e' * 32}; lock {lock})"])
    assert live.is_dir() and lock.exists() and not (case / "EX-1").exists()


def test_a_publish_that_cannot_be_taken_back_says_so(sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The custody append fails after the rename, and renaming back fails too: the message tells the truth."""
    from manifests import custody, writer
    from tests.conftest import run_ingest

    real_rename, real_write = os.rename, custody._write
    renames: list[str] = []

    def rename(source, target) -> None:
        renames.append(Path(target).name)
        if len(renames) == 1:  # the undo of the rename into place
            raise OSError(30, "Read-only file system", str(source))
        real_rename(source, target)

    def ledger_write(case_dir: Path, rows: list[dict]) -> None:
        if rows[-1]["action"] == "ingested":
            monkeypatch.setattr(writer.os, "rename", rename)
            raise OSError(28, "No space left on device")
        real_write(case_dir, rows)

    monkeypatch.setattr(custody, "_write", ledger_write)
    failed = run_ingest(sample, tmp_path / "out", workers=1)
    case = tmp_path / "out" / "CASE-1"
    assert failed.exit_code == 3
    assert failed.output.splitlines() == [
        f"exhibit: the run failed: [Errno 30] {case}/EX-1 was published, then [Errno 28] No space left on device; taking it back failed: "
        f"Read-only file system; the exhibit folder stands without its ingested custody event (exit 3)"]
    assert (case / "EX-1" / "manifest.json").exists()
    assert events(case) == [("EX-1", "ingest_started")]
