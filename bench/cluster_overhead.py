"""Overhead of the Dask cluster runner against a local process pool on N small content units.

Usage: python bench/cluster_overhead.py [--units 200] [--files 20]
Prints both clock times and their ratio (cluster / pool).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import distributed  # noqa: E402

from ingest import cluster, work  # noqa: E402
from ingest.cluster import ClusterRunner  # noqa: E402
from ingest.content import ContentSettings  # noqa: E402

SETTINGS = ContentSettings(algorithms=("md5", "sha1", "sha256"), chunk_size=1 << 20, magic_bytes=4096, media=False)


def _units(root: str, count: int, files: int) -> list[str]:
    paths = []
    for i in range(files):
        path = os.path.join(root, f"f{i}.bin")
        with open(path, "wb") as handle:
            handle.write(os.urandom(64 << 10))
        paths.append(path)
    items = tuple((i, ("folder", p, 64 << 10), os.path.basename(p)) for i, p in enumerate(paths))
    return [work.Unit(unit_id=f"u{n}", volume=work.VolumeRecipe(index=0, walker="folder", root=root), items=items).to_json() for n in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--files", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        units = _units(root, args.units, args.files)
        started = time.perf_counter()
        with ProcessPoolExecutor(2, initializer=work.init_worker, initargs=(SETTINGS, [], None)) as pool:
            local = list(pool.map(cluster.run_units, [[u] for u in units]))
        pool_seconds = time.perf_counter() - started
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
            with distributed.Client(lc, set_as_default=False) as client, ClusterRunner(None, SETTINGS, [], None, client=client) as runner:
                started = time.perf_counter()
                futures = [runner.submit(cluster.run_units, [u], [1]) for u in units]
                remote = [f.result().results for f in futures]
                cluster_seconds = time.perf_counter() - started
        assert remote == local, "cluster results differ from the pool's"
        print(f"{args.units} units x {args.files} files of 64 KiB: pool {pool_seconds:.2f} s, cluster {cluster_seconds:.2f} s, "
              f"ratio {cluster_seconds / pool_seconds:.2f}")


if __name__ == "__main__":
    main()
