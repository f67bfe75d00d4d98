#!/usr/bin/env python3
"""What the fault-tolerant engine costs: this checkout's `exhibit ingest` against an earlier commit's, same images, one run.

The reference (default 40ccd70, the last commit before issue 12's engine: a plain process pool, no
watchdog, no durable unit results) is checked out into a detached git worktree under --work. Each
image is ingested by both, alternately (A B A B ...), `--reps` times each, every run into a fresh
output folder under GNU /usr/bin/time (wall, and the peak RSS of the largest process); the median
of each and the median of the pairwise ratios (this / reference) are printed. Ratios taken pair by
pair stay meaningful when a shared machine's speed drifts during the run.

    .venv/bin/python bench/engine_overhead.py IMAGE [IMAGE ...] [--ref COMMIT] [--reps 5] [--workers 2]

Images: for example bench/ingest_bench.py's (`--build-only`, then WORK/small-50000/small.raw and
WORK/big-20x50-100M/big.raw). Never run inside the unit tests.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GNU_TIME = "/usr/bin/time"


def reference_checkout(work: Path, ref: str) -> Path:
    """A detached worktree of `ref` (reused when it is already there at that commit)."""
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", ref], check=True, capture_output=True, text=True).stdout.strip()
    folder = work / f"ref-{commit[:12]}"
    if not (folder / ".git").exists():
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(folder), commit], check=True, capture_output=True)
    return folder


def ingest_once(checkout: Path, image: Path, out: Path, workers: int) -> tuple[float, int]:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    time_file = out.parent / f"{out.name}.time"
    command = [GNU_TIME, "-f", "%M", "-o", str(time_file), sys.executable, "-m", "ingest.cli", "ingest", str(image),
               "--case", "BENCH", "--exhibit", "X", "--out", str(out), "--workers", str(workers)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, cwd=checkout, env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"})
    wall = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise RuntimeError(f"{checkout}: exit {result.returncode}: {result.stderr.decode('utf-8', 'backslashreplace')[-800:]}")
    peak_kib = int(time_file.read_text().split()[-1])
    shutil.rmtree(out)
    return wall, peak_kib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("--ref", default="40ccd70")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "engine-overhead")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    reference = reference_checkout(args.work, args.ref)
    report = {"ref": args.ref, "reps": args.reps, "workers": args.workers, "images": {}}
    for image in args.images:
        ours, theirs, ratios = [], [], []
        ingest_once(REPO, image, args.work / "warm", args.workers)  # page cache warm, imports compiled
        ingest_once(reference, image, args.work / "warm", args.workers)
        for rep in range(args.reps):
            a = ingest_once(REPO, image, args.work / "a", args.workers)
            b = ingest_once(reference, image, args.work / "b", args.workers)
            ours.append(a)
            theirs.append(b)
            ratios.append(a[0] / b[0])
            print(f"{image.name} rep {rep + 1}: this {a[0]:.2f} s, reference {b[0]:.2f} s, ratio {a[0] / b[0]:.3f}", file=sys.stderr)
        report["images"][image.name] = {
            "this_median_s": round(statistics.median(w for w, _ in ours), 2),
            "reference_median_s": round(statistics.median(w for w, _ in theirs), 2),
            "ratio_median": round(statistics.median(ratios), 3), "ratio_min": round(min(ratios), 3), "ratio_max": round(max(ratios), 3),
            "this_peak_mib": round(max(k for _, k in ours) / 1024, 1), "reference_peak_mib": round(max(k for _, k in theirs) / 1024, 1),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
