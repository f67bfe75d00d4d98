"""Overhead of the watchdog pool against a plain ProcessPoolExecutor: N trivial and N small-hash tasks.

Run from the repository: `python bench/watchdog_overhead.py [N] [WORKERS]`. Prints seconds and the ratio.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.tasks import Limits  # noqa: E402
from ingest.watchdog import Supervisor  # noqa: E402
from tests.watchdog_tasks import identity, init_nothing, sha256_items  # noqa: E402


def _supervisor(function, n: int, workers: int) -> float:
    with Supervisor(workers, init_nothing, (), Limits()) as runner:
        runner.submit(function, [0], [1]).result()  # workers up before the clock starts
        started = time.perf_counter()
        futures = [runner.submit(function, list(range(16)), [1] * 16) for _ in range(n)]
        for future in futures:
            future.result()
        return time.perf_counter() - started


def _pool(function, n: int, workers: int) -> float:
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"), initializer=init_nothing) as pool:
        list(pool.map(function, [[0]] * workers))
        started = time.perf_counter()
        futures = [pool.submit(function, list(range(16))) for _ in range(n)]
        for future in futures:
            future.result()
        return time.perf_counter() - started


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    for name, function in (("trivial", identity), ("sha256 16 x 64 KiB", sha256_items)):
        watched, plain = _supervisor(function, n, workers), _pool(function, n, workers)
        print(f"{name}: {n} tasks, {workers} workers: Supervisor {watched:.3f} s ({watched / n * 1e6:.0f} us/task), "
              f"ProcessPoolExecutor {plain:.3f} s ({plain / n * 1e6:.0f} us/task), ratio {watched / plain:.2f}")


if __name__ == "__main__":
    main()
