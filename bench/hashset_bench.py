#!/usr/bin/env python3
"""Hash-set benchmark: time and peak memory of importing a large plain hash list and matching it.

Generates a plain list of N hashes (default 50,000,000: nine MD5 lines in ten, one SHA-256 line,
from a seeded counter, so the run is deterministic) and a synthetic sealed exhibit whose
artefacts.parquet holds A artefacts (default 1,000,000) with MD5, SHA-1 and SHA-256, one in
HIT_EVERY of them in the set. Then it times `case.hashsets.import_set` (parse, stage, DuckDB sort
and deduplicate, custody event) and `case.hashsets.match` (DuckDB join on the Parquet files) in
this process, and reports wall time, CPU time and the process's peak resident set (DuckDB runs in
process, so its memory is included). Never run inside the unit tests.

    .venv/bin/python bench/hashset_bench.py                           # 50,000,000 hashes
    .venv/bin/python bench/hashset_bench.py --hashes 5000000 --artefacts 200000 --work /tmp/hs-bench
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import resource
import shutil
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from case import hashsets  # noqa: E402

HIT_EVERY = 100
WRITE_BATCH = 100_000


def _digest(algorithm: str, number: int) -> str:
    return hashlib.new(algorithm, number.to_bytes(8, "little")).hexdigest()


def build_list(path: Path, count: int) -> None:
    """Line i is the MD5 (or for every tenth line the SHA-256) of the 8-byte counter i."""
    with open(path, "w", encoding="ascii") as handle:
        lines = []
        for number in range(count):
            lines.append(_digest("sha256" if number % 10 == 9 else "md5", number))
            if len(lines) >= WRITE_BATCH:
                handle.write("\n".join(lines) + "\n")
                lines = []
        if lines:
            handle.write("\n".join(lines) + "\n")


def build_exhibit(folder: Path, artefacts: int, set_size: int) -> None:
    """A folder shaped like a sealed exhibit: manifest.json naming it and artefacts.parquet with the hash columns."""
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"exhibit_id": "BENCH-1", "case_id": "BENCH"}))
    schema = pa.schema([("case_id", pa.string()), ("exhibit_id", pa.string()), ("entry_index", pa.int64()), ("path", pa.string()),
                        ("md5", pa.string()), ("sha1", pa.string()), ("sha256", pa.string())])
    with pq.ParquetWriter(str(folder / "artefacts.parquet"), schema, compression="zstd") as writer:
        for start in range(0, artefacts, WRITE_BATCH):
            rows = range(start, min(start + WRITE_BATCH, artefacts))
            # artefact i holds content "i" of the set when i is a multiple of HIT_EVERY (and within the set), else other content
            content = [(i * 7) % set_size if i % HIT_EVERY == 0 else set_size + i for i in rows]
            writer.write_table(pa.table({
                "case_id": ["BENCH"] * len(rows), "exhibit_id": ["BENCH-1"] * len(rows), "entry_index": list(rows),
                "path": [f"/data/file{i}" for i in rows], "md5": [_digest("md5", c) for c in content],
                "sha1": [_digest("sha1", c) for c in content], "sha256": [_digest("sha256", c) for c in content]}, schema=schema))


def _child(function, connection) -> None:
    wall, cpu = time.monotonic(), time.process_time()
    summary = function()
    connection.send((summary, time.monotonic() - wall, time.process_time() - cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def _measure(step: str, function):
    """Run `function` in a fresh process (forked before anything big was built), so its peak RSS is its own."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=_child, args=(function, child))
    process.start()
    summary, wall, cpu, peak_mib = parent.recv()
    process.join()
    print(f"{step}: {wall:.1f} s wall, {cpu:.1f} s CPU (all threads), peak RSS {peak_mib:,.0f} MiB",
          flush=True)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hashes", type=int, default=50_000_000)
    parser.add_argument("--artefacts", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/exhibit-hashset-bench"))
    parser.add_argument("--memory-limit", default=hashsets.DEFAULT_MEMORY_LIMIT)
    arguments = parser.parse_args()
    work = arguments.work
    listing = work / f"list-{arguments.hashes}.txt"
    work.mkdir(parents=True, exist_ok=True)
    if not listing.exists():
        _measure(f"generate {arguments.hashes:,} hashes", lambda: build_list(listing.with_suffix(".partial"), arguments.hashes))
        listing.with_suffix(".partial").rename(listing)
    case_dir = work / "case"
    shutil.rmtree(case_dir, ignore_errors=True)
    case_dir.mkdir()
    _measure(f"generate {arguments.artefacts:,} artefacts", lambda: build_exhibit(case_dir / "BENCH-1", arguments.artefacts, arguments.hashes))
    print(f"list: {listing.stat().st_size / 2**20:,.0f} MiB; DuckDB memory limit {arguments.memory_limit}", flush=True)
    request = hashsets.ImportRequest(case_dir=case_dir, case_id="BENCH", name="big", source=listing, kind="notable",
                                     memory_limit=arguments.memory_limit)
    info = _measure("import", lambda: hashsets.import_set(request).info)
    print(f"  rows {info['rows']:,} {info['counts']}, table {info['table_size'] / 2**20:,.0f} MiB", flush=True)
    rows = _measure("match", lambda: hashsets.match(case_dir, [case_dir / "BENCH-1"], every_exhibit=True,
                                                    memory_limit=arguments.memory_limit).rows)
    expected = len(range(0, arguments.artefacts, HIT_EVERY))  # each holds one hash of the set (its MD5 or its SHA-256)
    print(f"  hit rows {rows:,} (artefacts built to hit: {expected:,}; one row per matching algorithm)", flush=True)


if __name__ == "__main__":
    main()
