#!/usr/bin/env python3
"""Media metadata benchmark: Exhibit's readers against exiftool's batch mode on the corpus media.

Both read the same list (every `[media]` file of the corpus's SOURCES.tsv, repeated --repeat times
so that process start-up is spread the same way for both), one process each, alternated A B A B for
--rounds rounds. Reports the median wall and CPU seconds and files per second of each, and the
ratio of files per second (Exhibit / exiftool). Standard library only.

    .venv/bin/python bench/media_bench.py [--corpus ../shared/corpus] [--repeat 10] [--rounds 5]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def media_files(corpus: Path) -> list[Path]:
    with open(corpus / "SOURCES.tsv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [corpus / row["local_path"] for row in rows if row["description"].startswith("[media]")]


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system, children included) seconds of one run; output discarded."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed with status {status}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path(os.environ.get("EXHIBIT_CORPUS", ROOT.parent / "shared" / "corpus")))
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    files = media_files(args.corpus)
    with tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / "media.list"
        listing.write_text("".join(f"{path}\n" for _ in range(args.repeat) for path in files), encoding="utf-8")
        count = len(files) * args.repeat
        commands = {
            "exiftool -j -n -@ LIST": ["exiftool", "-j", "-n", "-@", str(listing)],
            "exhibit media readers": [sys.executable, str(ROOT / "bench" / "media_read.py"), str(listing)],
        }
        for command in commands.values():  # warm-up: page cache, compiled modules
            timed(command)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                results[name].append(timed(command))
    print(f"{len(files)} corpus media files x {args.repeat} = {count} reads per run; {args.rounds} rounds, medians\n")
    print("| reader | wall s | CPU s | files/s (wall) |")
    print("|---|---|---|---|")
    rates = {}
    for name, runs in results.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        rates[name] = count / wall
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {count / wall:,.0f} |")
    ours, theirs = rates["exhibit media readers"], rates["exiftool -j -n -@ LIST"]
    print(f"\nfiles per second, Exhibit / exiftool: {ours / theirs:.1f}x (target >= 5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
