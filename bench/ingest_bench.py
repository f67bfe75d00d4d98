#!/usr/bin/env python3
"""Ingest benchmark: time `exhibit ingest` against public peers on the same images.

Builds two ext4 test images with public tools (many small real files from /usr,
and a few large pseudo-random files), each as raw and as E01, then times, in
the same run and interleaved:

  * fiwalk -X            (TSK walk + MD5 + SHA-1 of every file)
  * file --mime-type -f  (libmagic typing of the same files, batch mode)
  * exhibit ingest       (ours, --workers 2)
  * hashlib limit        (MD5+SHA-1+SHA-256 of the big files on 2 processes)

Each command runs under GNU /usr/bin/time (peak RSS); this script is a child
subreaper, so workers that outlive their parent are still reaped and counted
(CPU via getrusage(RUSAGE_CHILDREN)), and the summed PSS of the command's
processes is sampled from /proc. Standard library only; see bench/README.md.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import platform
import random
import resource
import shlex
import shutil
import signal
import stat
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

MIB = 1 << 20
READ_CHUNK = MIB
BLOCK = 4096
FS_UUID = "5f0c2b8e-1d4a-4f7e-9a3b-6c8d2e1f0a57"  # fixed so rebuilt images match
REPO = Path(__file__).resolve().parent.parent
DEFAULT_EXHIBIT = REPO / ".venv" / "bin" / "exhibit"
TARGET_PEERS = 0.5  # exhibit / (fiwalk + file)
TARGET_HASH = 1.25  # exhibit / hashlib limit, big image only
STDERR_TAIL = 600
GNU_TIME = "/usr/bin/time"  # GNU time: -f/-o give peak RSS of the timed child
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h

PopulateFn = Callable[[Path], None]  # fills a source folder
CmdFn = Callable[[Path], list[str]]  # scratch dir -> argv
CountFn = Callable[[Path], int]  # scratch dir -> sanity count


# --------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------


@dataclass
class Run:
    """One timed child process; error is None when it exited 0."""

    wall_s: float
    cpu_s: float
    maxrss_kib: int
    error: str | None = None
    items: int | None = None  # sanity count: files reported by the tool
    tree_pss_kib: int = 0  # sampled peak of the summed PSS of all its processes


@dataclass
class ImageSet:
    """Source folder, file list and both containers of one test image."""

    name: str
    src: Path
    file_list: Path
    raw: Path
    e01: Path
    n_files: int
    data_bytes: int
    build: dict[str, float] = field(default_factory=dict)
    reused: bool = False


# --------------------------------------------------------------------------
# Building the small-files image
# --------------------------------------------------------------------------


def iter_usr_files(top: Path, max_size: int) -> Iterator[tuple[Path, int]]:
    """Yield regular files under top in sorted-walk order, so selection is deterministic."""
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if "\n" in str(path):
                continue  # would break `file -f LIST`
            try:
                st = path.lstat()
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode) or st.st_size > max_size:
                continue  # symlinks and devices are not file content to time
            if os.access(path, os.R_OK):
                yield path, st.st_size


def select_small_files(top: Path, n: int, max_size: int) -> list[tuple[Path, Path, int]]:
    """Pick n files spread evenly over the sorted walk (so text, source, bytecode, libraries and
    data all appear, not just the first package tree); if top has fewer, add truncated copies."""
    every = [(path, path.relative_to(top), size) for path, size in iter_usr_files(top, max_size)]
    if len(every) >= n:
        return [every[i * len(every) // n] for i in range(n)]
    chosen: list[tuple[Path, Path, int]] = list(every)
    pool = list(chosen)
    if not pool:
        raise SystemExit(f"no readable regular files under {top}")
    round_no = 0
    while len(chosen) < n:
        round_no += 1
        for path, rel, size in pool:
            if len(chosen) == n:
                break
            length = size - size * (round_no % 4) // 8  # 100%, 87.5%, 75%, 62.5%
            chosen.append((path, Path("synthetic") / f"r{round_no}" / rel, length))
    return chosen


def copy_small_tree(dst: Path, picks: Sequence[tuple[Path, Path, int]]) -> None:
    """Copy the picked files (keeping their relative paths) so mkfs -d can ingest them."""
    for path, rel, length in picks:
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if length == path.stat().st_size:
            shutil.copy2(path, target)
        else:
            with open(path, "rb") as fin, open(target, "wb") as fout:
                fout.write(fin.read(length))
            shutil.copystat(path, target)


# --------------------------------------------------------------------------
# Building the big-files image
# --------------------------------------------------------------------------


def write_big_files(dst: Path, count: int, min_mib: int, max_mib: int, seed: int) -> None:
    """Seeded pseudo-random content: incompressible like real media, identical on rebuild."""
    rng = random.Random(seed)
    sizes = [rng.randint(min_mib * MIB, max_mib * MIB) for _ in range(count)]
    dst.mkdir(parents=True, exist_ok=True)
    for i, size in enumerate(sizes):
        gen = random.Random(f"{seed}:{i}")
        with open(dst / f"blob_{i:03d}.bin", "wb") as out:
            left = size
            while left:
                n = min(READ_CHUNK, left)
                out.write(gen.randbytes(n))
                left -= n


# --------------------------------------------------------------------------
# Images: ext4 + E01
# --------------------------------------------------------------------------


def tree_stats(src: Path) -> tuple[list[Path], int, int]:
    """Sorted file list, directory count and data bytes: needed for sizing and for `file -f`."""
    files: list[Path] = []
    n_dirs = 0
    data = 0
    for root, dirs, names in os.walk(src):
        dirs.sort()
        n_dirs += len(dirs)
        for name in sorted(names):
            path = Path(root) / name
            files.append(path)
            data += path.stat().st_size
    return files, n_dirs, data


def ext4_geometry(files: Sequence[Path], n_dirs: int) -> tuple[int, int]:
    """Image size (KiB) and inode count with room to spare, so mkfs -d never runs out."""
    blocks = sum(-(-p.stat().st_size // BLOCK) for p in files)
    inodes = len(files) + n_dirs + 1024
    size = int(blocks * BLOCK * 1.10) + inodes * 256 + n_dirs * BLOCK + 128 * MIB  # + journal
    return -(-size // MIB) * 1024, inodes


def make_ext4(src: Path, img: Path, label: str) -> None:
    """mkfs.ext4 -d populates the filesystem from a folder without root or a mount."""
    files, n_dirs, _ = tree_stats(src)
    size_kib, inodes = ext4_geometry(files, n_dirs)
    img.unlink(missing_ok=True)
    cmd = [
        "mkfs.ext4", "-q", "-F", "-b", str(BLOCK), "-N", str(inodes), "-m", "0",
        "-L", label, "-U", FS_UUID, "-E", f"hash_seed={FS_UUID}",
        "-d", str(src), str(img), f"{size_kib}k",
    ]
    subprocess.run(cmd, check=True, stdout=sys.stderr)


def make_e01(raw: Path, e01: Path) -> None:
    """ewfacquire -u runs unattended; a huge -S keeps the image in one segment."""
    base = e01.with_suffix("")
    for old in e01.parent.glob(base.name + ".E*"):
        old.unlink()
    cmd = [
        "ewfacquire", "-u", "-q", "-t", str(base), "-f", "encase6",
        "-c", "deflate:fast", "-S", str(64 << 30),
        "-C", "BENCH", "-E", base.name, "-e", "bench", "-D", "ingest benchmark",
        "-N", "generated by bench/ingest_bench.py", str(raw),
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    if not e01.exists():
        raise SystemExit(f"ewfacquire did not write {e01}")


@contextmanager
def timed(step: str, build: dict[str, float]) -> Iterator[None]:
    """Record how long each build step takes; the numbers go into the results."""
    log(f"  build: {step} ...")
    t0 = time.perf_counter()
    yield
    build[step] = round(time.perf_counter() - t0, 2)
    log(f"  build: {step} {build[step]:.1f}s")


def ensure_set(name: str, set_dir: Path, params: dict[str, object],
               populate: PopulateFn, rebuild: bool) -> ImageSet:
    """Build the image pair once; reuse it when a finished stamp with the same params exists."""
    stamp = set_dir / "build.json"
    if not rebuild and stamp.exists():
        meta = json.loads(stamp.read_text())
        if meta.get("params") == params:
            log(f"{name}: reusing {set_dir}")
            return _image_set(name, set_dir, meta, reused=True)
    if set_dir.exists():
        shutil.rmtree(set_dir)
    set_dir.mkdir(parents=True)
    build: dict[str, float] = {}
    src = set_dir / "src"
    log(f"{name}: building in {set_dir}")
    with timed("populate", build):
        populate(src)
    files, _, data = tree_stats(src)
    (set_dir / "files.lst").write_text("".join(f"{p}\n" for p in files))
    with timed("mkfs.ext4", build):
        make_ext4(src, set_dir / f"{name}.raw", name[:16])
    with timed("ewfacquire", build):
        make_e01(set_dir / f"{name}.raw", set_dir / f"{name}.E01")
    meta = {"params": params, "n_files": len(files), "data_bytes": data, "build_s": build}
    stamp.write_text(json.dumps(meta, indent=2))
    return _image_set(name, set_dir, meta, reused=False)


def _image_set(name: str, set_dir: Path, meta: dict, reused: bool) -> ImageSet:
    """Rebuild the in-memory description from the stamp written at build time."""
    return ImageSet(
        name=name, src=set_dir / "src", file_list=set_dir / "files.lst",
        raw=set_dir / f"{name}.raw", e01=set_dir / f"{name}.E01",
        n_files=meta["n_files"], data_bytes=meta["data_bytes"],
        build=meta["build_s"], reused=reused,
    )


# --------------------------------------------------------------------------
# Timing child processes
# --------------------------------------------------------------------------


def run_timed(cmd: Sequence[str], out_dir: Path, count: CountFn | None = None) -> Run:
    """Wall, CPU and memory of one command including every process it starts.

    GNU time does the fork because Linux keeps ru_maxrss across exec: a child
    forked straight from this Python process would report at least our RSS.
    Workers that outlive their parent (e.g. a multiprocessing forkserver) are
    reparented to us as subreaper and reaped here, so their CPU and peak RSS
    count too; the tree's summed PSS is sampled from /proc.
    """
    if shutil.which(cmd[0]) is None:
        return Run(0.0, 0.0, 0, error=f"cannot start {cmd[0]}: not found")
    stdout_path, stderr_path, time_path = out_dir / "stdout", out_dir / "stderr", out_dir / "time"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(stdout_path, "wb") as so, open(stderr_path, "wb") as se:
        t0 = time.perf_counter()
        proc = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", str(time_path), *cmd], stdout=so, stderr=se,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        with TreeSampler(proc.pid) as sampler:
            try:
                rc = proc.wait()
            except BaseException:  # Ctrl-C does not reach a new session: stop it ourselves
                kill_session(proc.pid)
                raise
            wall = time.perf_counter() - t0
            orphan_rss = reap_orphans(proc.pid)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    run = Run(wall, cpu, max(int(time_path.read_text().split()[-1]), orphan_rss), tree_pss_kib=sampler.peak_kib)
    if rc != 0:
        tail = stderr_path.read_bytes()[-STDERR_TAIL:].decode("utf-8", "backslashreplace").strip()
        run.error = f"exit {rc}: {tail}"
    elif count is not None:
        run.items = count(out_dir)
    return run


def become_subreaper() -> bool:
    """Orphaned grandchildren then become our children, so their rusage is not lost."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_orphans(session: int, grace_s: float = 30.0) -> int:
    """Wait for leftover processes of the command; return their largest ru_maxrss (KiB)."""
    deadline = time.monotonic() + grace_s
    peak = 0
    while True:
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return peak
        if pid:
            peak = max(peak, usage.ru_maxrss)
            continue
        if time.monotonic() > deadline:
            kill_session(session)
        time.sleep(0.02)


def kill_session(session: int) -> None:
    """Stop whatever the command left running; only its own session is touched."""
    for pid in session_pids(session):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def session_pids(session: int) -> list[int]:
    """Processes still in the command's session (it runs under start_new_session)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat_line = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat_line[stat_line.rindex(b")") + 2:].split()
        if int(fields[3]) == session:
            pids.append(int(entry))
    return pids


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages of forked workers are not counted twice."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeSampler(threading.Thread):
    """Samples the summed PSS of the command's session; peak RSS alone misses workers."""

    def __init__(self, session: int, interval_s: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.session, self.interval_s = session, interval_s
        self.peak_kib = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            total = sum(pss_kib(pid) for pid in session_pids(self.session))
            self.peak_kib = max(self.peak_kib, total)
            self._stop_event.wait(self.interval_s)

    def __enter__(self) -> "TreeSampler":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_event.set()
        self.join()


def count_lines(out_dir: Path) -> int:
    """`file` prints one line per input path."""
    with open(out_dir / "stdout", "rb") as fh:
        return sum(1 for _ in fh)


def count_fiwalk_hashed(out_dir: Path) -> int:
    """Files fiwalk hashed: one MD5 hashdigest per file whose content it read."""
    n = 0
    with open(out_dir / "fiwalk.xml", "rb") as fh:
        for line in fh:
            if b"hashdigest" in line and b"md5" in line.lower():
                n += 1
    return n


# --------------------------------------------------------------------------
# The commands under test
# --------------------------------------------------------------------------


def fiwalk_cmd(image: Path, out_dir: Path) -> list[str]:
    """fiwalk hashes MD5 and SHA-1 of every file by default."""
    return ["fiwalk", "-X", str(out_dir / "fiwalk.xml"), str(image)]


def file_cmd(image_set: ImageSet) -> list[str]:
    """libmagic over host copies of the same files; only the typing is timed."""
    return ["file", "--mime-type", "-P", "bytes=2048", "-b", "-f", str(image_set.file_list)]


def exhibit_cmd(base: Sequence[str], image: Path, out_dir: Path) -> list[str]:
    """Fresh --out per run so no run benefits from a previous one."""
    return [*base, "ingest", str(image), "--case", "BENCH", "--exhibit", "X",
            "--out", str(out_dir / "exhibit-out"), "--workers", "2"]


def hashlimit_cmd(image_set: ImageSet) -> list[str]:
    """Runs this script's own hash-limit mode as a child so it is timed like the others."""
    return [sys.executable, str(Path(__file__).resolve()), "--hash-limit", str(image_set.file_list)]


# --------------------------------------------------------------------------
# Hash-limit mode (what pure hashing of the same bytes costs on 2 cores)
# --------------------------------------------------------------------------


def split_by_size(paths: Sequence[Path], parts: int) -> list[list[Path]]:
    """Largest-first greedy split so both processes get about the same bytes."""
    bins: list[list[Path]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for path in sorted(paths, key=lambda p: p.stat().st_size, reverse=True):
        i = loads.index(min(loads))
        bins[i].append(path)
        loads[i] += path.stat().st_size
    return bins


def hash_limit(list_file: Path, workers: int = 2) -> int:
    """Spawn one hashing process per core, each with half of the files."""
    paths = [Path(p) for p in list_file.read_text().splitlines() if p]
    procs = [
        subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--hash-worker", *map(str, part)])
        for part in split_by_size(paths, workers) if part
    ]
    return max(p.wait() for p in procs) if procs else 0


def hash_worker(paths: Sequence[str]) -> int:
    """MD5 + SHA-1 + SHA-256 in one pass with 1 MiB reads, like a forensic ingest must do."""
    for p in paths:
        hashes = [hashlib.md5(), hashlib.sha1(), hashlib.sha256()]
        with open(p, "rb", buffering=0) as fh:
            while chunk := fh.read(READ_CHUNK):
                for h in hashes:
                    h.update(chunk)
        print(p, *(h.hexdigest() for h in hashes))
    return 0


# --------------------------------------------------------------------------
# Benchmark loop
# --------------------------------------------------------------------------


def warm_up(paths: Sequence[Path]) -> None:
    """One untimed read so every command sees a warm page cache, not just the later ones."""
    for path in paths:
        with open(path, "rb", buffering=0) as fh:
            while fh.read(8 * MIB):
                pass


def image_targets(sets: Sequence[ImageSet]) -> list[tuple[str, ImageSet, Path]]:
    """The four images (label, set, path) in the order they are timed."""
    return [(f"{s.name}.{kind}", s, path) for s in sets for kind, path in (("raw", s.raw), ("E01", s.e01))]


def commands_for(image_set: ImageSet, image: Path, big: bool,
                 exhibit_base: Sequence[str] | None) -> list[tuple[str, CmdFn, CountFn | None]]:
    """Which commands run against one image; the hash limit only makes sense for the big one."""
    cmds: list[tuple[str, CmdFn, CountFn | None]] = [
        ("fiwalk", lambda d: fiwalk_cmd(image, d), count_fiwalk_hashed),
        ("file", lambda d: file_cmd(image_set), count_lines),
    ]
    if exhibit_base is not None:
        cmds.append(("exhibit", lambda d: exhibit_cmd(exhibit_base, image, d), None))
    if big:
        cmds.append(("hashlib", lambda d: hashlimit_cmd(image_set), count_lines))
    return cmds


def run_all(sets: Sequence[ImageSet], big_name: str, reps: int,
            exhibit_base: Sequence[str] | None, runs_dir: Path) -> dict[str, dict[str, list[Run]]]:
    """Interleave images and commands per repetition, rotating command order to spread drift."""
    results: dict[str, dict[str, list[Run]]] = {}
    for rep in range(reps):
        for label, image_set, image in image_targets(sets):
            cmds = commands_for(image_set, image, image_set.name == big_name, exhibit_base)
            shift = rep % len(cmds)
            for name, build_cmd, count in cmds[shift:] + cmds[:shift]:
                out_dir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=runs_dir))
                try:
                    run = run_timed(build_cmd(out_dir), out_dir, count)
                finally:
                    shutil.rmtree(out_dir, ignore_errors=True)
                results.setdefault(label, {}).setdefault(name, []).append(run)
                log(f"rep {rep + 1}/{reps} {label:<12} {name:<8} {describe(run)}")
    return results


def describe(run: Run) -> str:
    """One progress line per run."""
    if run.error:
        return f"FAILED {run.error.splitlines()[-1] if run.error else ''}"[:200]
    items = f" items={run.items}" if run.items is not None else ""
    return (f"{run.wall_s:8.2f}s cpu={run.cpu_s:7.2f}s rss={run.maxrss_kib / 1024:7.1f}MiB "
            f"tree-pss={run.tree_pss_kib / 1024:7.1f}MiB{items}")


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def summarise(runs: Sequence[Run]) -> dict[str, object]:
    """Median/min/max over successful reps; peak RSS is the max over reps."""
    ok = [r for r in runs if r.error is None]
    errors = [r.error for r in runs if r.error]
    summary: dict[str, object] = {"reps": len(runs), "ok": len(ok), "runs": [asdict(r) for r in runs]}
    if errors:
        summary["error"] = errors[-1]
    if ok:
        walls = [r.wall_s for r in ok]
        summary.update(
            median_s=statistics.median(walls), min_s=min(walls), max_s=max(walls),
            cpu_median_s=statistics.median(r.cpu_s for r in ok),
            peak_rss_mib=max(r.maxrss_kib for r in ok) / 1024,
            peak_tree_pss_mib=max(r.tree_pss_kib for r in ok) / 1024,
            items=ok[-1].items,
        )
    return summary


def ratios(cmds: dict[str, dict[str, object]]) -> dict[str, object]:
    """exhibit vs the peers and vs the hashing limit, with the issue's targets."""
    med = {name: s.get("median_s") for name, s in cmds.items()}
    out: dict[str, object] = {}
    if med.get("exhibit") and med.get("fiwalk") and med.get("file"):
        r = med["exhibit"] / (med["fiwalk"] + med["file"])
        out["exhibit_vs_peers"] = {"ratio": r, "target": TARGET_PEERS, "met": r <= TARGET_PEERS}
    if med.get("exhibit") and med.get("hashlib"):
        r = med["exhibit"] / med["hashlib"]
        out["exhibit_vs_hashlib"] = {"ratio": r, "target": TARGET_HASH, "met": r <= TARGET_HASH}
    return out


def print_table(report: dict[str, dict[str, object]]) -> None:
    """Human-readable table: one row per image and command, then the ratios."""
    print()
    print(f"{'image':<12} {'command':<8} {'median s':>9} {'min s':>8} {'max s':>8} "
          f"{'cpu s':>8} {'peak RSS MiB':>13} {'tree PSS MiB':>13} {'items':>7}")
    for label, entry in report.items():
        for name, s in entry["commands"].items():
            if "median_s" not in s:
                print(f"{label:<12} {name:<8} {name} failed: {_tail(s.get('error', ''))}")
                continue
            print(f"{label:<12} {name:<8} {s['median_s']:9.2f} {s['min_s']:8.2f} {s['max_s']:8.2f} "
                  f"{s['cpu_median_s']:8.2f} {s['peak_rss_mib']:13.1f} {s['peak_tree_pss_mib']:13.1f} "
                  f"{str(s['items'] or '-'):>7}")
    print()
    for label, entry in report.items():
        for key, text in (("exhibit_vs_peers", "exhibit / (fiwalk + file)"),
                          ("exhibit_vs_hashlib", "exhibit / hashlib limit")):
            r = entry["ratios"].get(key)
            if r:
                verdict = "met" if r["met"] else "NOT met"
                print(f"{label:<12} {text:<26} {r['ratio']:6.2f}x  (target <= {r['target']}x: {verdict})")
        ex = entry["commands"].get("exhibit", {})
        if "peak_rss_mib" in ex:
            print(f"{label:<12} {'exhibit peak RSS':<26} {ex['peak_rss_mib']:8.1f} MiB largest process, "
                  f"{ex['peak_tree_pss_mib']:.1f} MiB PSS of all its processes")


def _tail(text: str, lines: int = 3) -> str:
    """Last few lines of a failure, flattened for the table."""
    return " | ".join(text.strip().splitlines()[-lines:])


def tool_versions() -> dict[str, str]:
    """Record the peer versions alongside the numbers."""
    probes = {"fiwalk": ["fiwalk", "-V"], "file": ["file", "--version"],
              "ewfacquire": ["ewfacquire", "-V"], "mkfs.ext4": ["mkfs.ext4", "-V"]}
    out = {}
    for name, cmd in probes.items():
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            out[name] = (res.stdout + res.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired) as exc:
            out[name] = f"unavailable: {exc}"
    return out


def log(msg: str) -> None:
    """Progress goes to stderr so stdout holds just the table."""
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Full-size defaults from the issue; --quick shrinks everything for a smoke test."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "exhibit-bench",
                   help="folder for images and scratch (default: %(default)s)")
    p.add_argument("--rebuild", action="store_true", help="rebuild images even if present")
    p.add_argument("--files", type=int, help="small-file count (default 50000; quick 2000)")
    p.add_argument("--big-files", type=int, help="big-file count (default 20; quick 3)")
    p.add_argument("--big-mib", help="big-file size range MIN-MAX MiB (default 50-100; quick 8-8)")
    p.add_argument("--max-file-size", type=int, default=MIB, help="skip larger /usr files")
    p.add_argument("--usr", type=Path, default=Path("/usr"), help="tree to take small files from")
    p.add_argument("--reps", type=int, help="repetitions, median reported (default 3; quick 1)")
    p.add_argument("--exhibit-cmd", default=str(DEFAULT_EXHIBIT),
                   help="command that provides `ingest` (default: %(default)s)")
    p.add_argument("--no-exhibit", action="store_true", help="time the peers only")
    p.add_argument("--json", type=Path, help="write results here (default WORK/results.json)")
    p.add_argument("--build-only", action="store_true", help="build the images and stop")
    p.add_argument("--quick", action="store_true", help="tiny images, 1 rep: checks the script works")
    p.add_argument("--hash-limit", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--hash-worker", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    quick = args.quick
    args.files = args.files or (2000 if quick else 50000)
    args.big_files = args.big_files or (3 if quick else 20)
    args.big_mib = args.big_mib or ("8-8" if quick else "50-100")
    args.reps = args.reps or (1 if quick else 3)
    lo, _, hi = args.big_mib.partition("-")
    args.big_range = (int(lo), int(hi or lo))
    return args


def build_sets(args: argparse.Namespace) -> list[ImageSet]:
    """Both image sets, named after their parameters so quick and full builds coexist."""
    lo, hi = args.big_range
    small_params = {"files": args.files, "max_size": args.max_file_size, "usr": str(args.usr)}
    big_params = {"count": args.big_files, "min_mib": lo, "max_mib": hi, "seed": 1}

    def populate_small(src: Path) -> None:
        copy_small_tree(src, select_small_files(args.usr, args.files, args.max_file_size))

    def populate_big(src: Path) -> None:
        write_big_files(src, args.big_files, lo, hi, seed=1)

    small = ensure_set("small", args.work / f"small-{args.files}", small_params, populate_small, args.rebuild)
    big = ensure_set("big", args.work / f"big-{args.big_files}x{lo}-{hi}M", big_params, populate_big, args.rebuild)
    return [small, big]


def main(argv: Sequence[str] | None = None) -> int:
    """Build (or reuse) images, warm the cache, time everything, print and save results."""
    args = parse_args(argv)
    if args.hash_worker:
        return hash_worker(args.hash_worker)
    if args.hash_limit:
        return hash_limit(args.hash_limit)
    if not Path(GNU_TIME).exists():
        raise SystemExit(f"{GNU_TIME} (GNU time) is required to measure peak RSS")
    if not become_subreaper():
        log("warning: cannot become child subreaper; CPU/RSS of orphaned workers will be missed")
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    sets = build_sets(args)
    build_wall = time.perf_counter() - t0
    for s in sets:
        log(f"{s.name}: {s.n_files} files, {s.data_bytes / MIB:.0f} MiB data, "
            f"raw {s.raw.stat().st_size / MIB:.0f} MiB, E01 {s.e01.stat().st_size / MIB:.0f} MiB, "
            f"build {s.build} {'(reused)' if s.reused else ''}")
    if args.build_only:
        return 0
    log("warming page cache ...")
    warm_up([p for s in sets for p in (s.raw, s.e01)])
    warm_up([Path(p) for s in sets for p in s.file_list.read_text().splitlines() if p])
    runs_dir = args.work / "runs"
    runs_dir.mkdir(exist_ok=True)
    load_before = os.getloadavg()
    exhibit_base = None if args.no_exhibit else shlex.split(args.exhibit_cmd)
    results = run_all(sets, "big", args.reps, exhibit_base, runs_dir)
    report = {}
    for label, s, image in image_targets(sets):
        cmds = {name: summarise(runs) for name, runs in results.get(label, {}).items()}
        report[label] = {"image": str(image), "image_bytes": image.stat().st_size,
                         "files": s.n_files, "commands": cmds, "ratios": ratios(cmds)}
    print_table(report)
    out = args.json or args.work / "results.json"
    out.write_text(json.dumps({
        "meta": {
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": platform.node(),
            "platform": platform.platform(), "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "load_before": load_before, "load_after": os.getloadavg(), "reps": args.reps,
            "quick": args.quick, "tools": tool_versions(), "exhibit_cmd": args.exhibit_cmd,
            "build_wall_s_this_run": round(build_wall, 2),
            "builds": {s.name: {"build_s": s.build, "reused": s.reused, "files": s.n_files,
                                "data_bytes": s.data_bytes} for s in sets},
        },
        "images": report,
    }, indent=2))
    log(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
