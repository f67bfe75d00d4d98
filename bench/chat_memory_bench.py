#!/usr/bin/env python3
"""Chat memory benchmark: peak RSS of `exhibit ingest` on a folder holding one large msgstore.db.

Builds a synthetic WhatsApp Android `msgstore.db` in the current schema (`jid`, `chat`, `message`,
`message_media`, `message_location`: the DDL of tests/chat/test_whatsapp_android.py, imported)
with N messages (default 1,000,000) spread over 1,000 chats, one in 100 with a media row, ingests
a folder holding it (`exhibit ingest FOLDER --workers 2`) under GNU `/usr/bin/time -v`, and reports
the peak resident set of the whole process tree: the largest single process (time's "Maximum
resident set size") and the sum of the peaks of every process the run reaped (getrusage of the
children, taken as a subreaper so that worker processes are counted even when their parent exits
first), and the largest sum of the resident sets of every process in the tree, sampled from /proc
every 0.2 s. Standard library and the repository's test fixtures only; never run inside the unit tests.

    .venv/bin/python bench/chat_memory_bench.py                 # 1,000,000 messages
    .venv/bin/python bench/chat_memory_bench.py --messages 100000 --work /tmp/chat-bench
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.chat.test_whatsapp_android import CURRENT_DDL as DDL  # noqa: E402  the schema the parser's tests use

DEFAULT_EXHIBIT = REPO / ".venv" / "bin" / "exhibit"
GNU_TIME = "/usr/bin/time"
PR_SET_CHILD_SUBREAPER = 36
CHATS = 1000
MEDIA_EVERY = 100
INSERT_BATCH = 50_000


def build_msgstore(path: Path, messages: int) -> None:
    """A deterministic msgstore.db: the placeholder row, then `messages - 1` text and media messages."""
    connection = sqlite3.connect(path)
    try:
        connection.executescript(DDL)
        connection.executemany("INSERT INTO jid VALUES (?, ?, ?, ?)",
                               [(i, f"4915{i:09d}", "s.whatsapp.net", f"4915{i:09d}@s.whatsapp.net") for i in range(1, CHATS + 1)])
        connection.executemany("INSERT INTO chat VALUES (?, ?, ?)", [(i, i, None) for i in range(1, CHATS + 1)])
        connection.execute("INSERT INTO message VALUES (1, -1, 0, '-1', NULL, -1, 0, NULL, NULL, NULL, NULL)")
        batch: list[tuple] = []
        media: list[tuple] = []
        for row_id in range(2, messages + 1):
            chat = row_id % CHATS + 1
            from_me = row_id % 3 == 0
            is_media = row_id % MEDIA_EVERY == 0
            stamp = 1_600_000_000_000 + row_id * 1000
            text = None if is_media else f"message {row_id} in chat {chat}: the quick brown fox jumps over the lazy dog"
            batch.append((row_id, chat, int(from_me), f"K{row_id:012X}", None, 13 if from_me else 0, stamp, stamp + 500,
                          1 if is_media else 0, text, None))
            if is_media:
                media.append((row_id, chat, f"Media/WhatsApp Images/IMG-{row_id:08d}-WA0001.jpg", 4096 + row_id % 1000, "image/jpeg", None))
            if len(batch) >= INSERT_BATCH:
                connection.executemany("INSERT INTO message VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
                batch.clear()
        connection.executemany("INSERT INTO message VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
        connection.executemany("INSERT INTO message_media VALUES (?, ?, ?, ?, ?, ?)", media)
        connection.commit()
    finally:
        connection.close()


def _subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    found = re.search(r"^Pss:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) if found else 0


def _tree_kib(root: int) -> tuple[int, int]:
    """Sums of VmRSS and of PSS over `root` and every process descended from it (one /proc snapshot).

    RSS counts pages the forkserver's children share once per process; PSS divides them among the
    sharers, so the PSS sum is the memory the tree really holds.
    """
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry)] = int(fields.get("PPid", "0").strip())
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total = pss = 0
    for pid in rss:
        node = pid
        while node not in (0, 1) and node != root:
            node = parents.get(node, 0)
        if node == root:
            total += rss[pid]
            pss += _pss_kib(pid)
    return total, pss


def run_ingest(exhibit: Path, source: Path, out: Path, workers: int) -> dict:
    """Run one ingest under GNU time; peak RSS of the largest process, of every reaped process, and of the tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [GNU_TIME, "-v", str(exhibit), "ingest", str(source), "--case", "BENCH", "--exhibit", "CHATS",
               "--out", str(out), "--workers", str(workers)]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss, pss = _tree_kib(process.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    done.set()
    sampler.join()
    completed = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    seconds = time.monotonic() - started
    # Workers re-parented to us (a subreaper) are reaped here so that their usage is counted.
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.1)
            continue
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", completed.stderr)
    return {
        "exit_code": completed.returncode,
        "seconds": round(seconds, 1),
        "largest_process_peak_mib": round(int(match.group(1)) / 1024, 1) if match else None,
        # ru_maxrss of RUSAGE_CHILDREN is the largest of the reaped descendants, not a sum; the
        # per-process peaks are in time's output for the top process only, so both are reported.
        "children_peak_mib": round(max(after.ru_maxrss, before.ru_maxrss) / 1024, 1),
        "tree_peak_rss_sum_mib": round(peak[0] / 1024, 1),
        "tree_peak_pss_sum_mib": round(peak[1] / 1024, 1),
        "output_tail": (completed.stdout + completed.stderr)[-1500:] if completed.returncode != 0 else "",
    }


def count_messages(out: Path) -> int | None:
    parts = list(out.glob("BENCH/CHATS/messages.parquet"))
    if not parts:
        return None
    import pyarrow.parquet as pq  # only to count the result; the benchmark itself needs the standard library

    return pq.ParquetFile(parts[0]).metadata.num_rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/exhibit-chat-bench"))
    parser.add_argument("--exhibit", type=Path, default=DEFAULT_EXHIBIT)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    _subreaper()
    source = args.work / f"phone-{args.messages}" / "data" / "data" / "com.whatsapp" / "databases"
    database = source / "msgstore.db"
    if args.rebuild or not database.exists():
        shutil.rmtree(args.work / f"phone-{args.messages}", ignore_errors=True)
        source.mkdir(parents=True)
        started = time.monotonic()
        build_msgstore(database, args.messages)
        print(f"built {database} ({database.stat().st_size / 2**20:.0f} MiB) in {time.monotonic() - started:.0f} s", flush=True)
    out = args.work / "cases"
    shutil.rmtree(out, ignore_errors=True)
    result = run_ingest(args.exhibit, args.work / f"phone-{args.messages}", out, args.workers)
    result["messages_in"] = args.messages
    result["messages_out"] = count_messages(out)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    # The placeholder row is not a message (one placeholder_row info row instead): one fewer out than in.
    return 0 if result["exit_code"] == 0 and result["messages_out"] == args.messages - 1 else 1


if __name__ == "__main__":
    sys.exit(main())
