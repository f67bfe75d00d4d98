#!/usr/bin/env python3
"""A many-device case through `exhibit case ingest`: devices per hour, MB/s, peak memory per process.

Builds a handful of small synthetic phone-like ext4 images (real small files from /usr, photos
and chat databases copied from the corpus into the image's staging tree, a few incompressible
blobs), lists them under many exhibit ids in a devices.csv (default 250 devices over 5 images, the
corpus E01 images among them when present), and runs the whole case once per engine:

  * local:   `exhibit case ingest --parallel P` (each device in its own process, its units on
             this machine's worker processes);
  * cluster: the same with `--scheduler` pointing at a Dask `LocalCluster` of W worker processes
             that this script starts (only when the installed exhibit has `--scheduler`).

While a case runs, every process of its tree (and of the cluster's) is sampled from /proc every
0.2 s; a process's peak resident memory is its kernel-kept high-water mark (VmHWM), so the peak is
exact even though sampling is not continuous (a process that lives under 0.2 s may be missed). The
roles: the coordinator (the `exhibit case ingest` process), device processes (its children), unit
workers (their descendants), Dask workers. Standard library plus psutil (a dependency of
distributed). Never run inside the unit tests.

    .venv/bin/python bench/case_ingest_bench.py                        # 250 devices, local and cluster
    .venv/bin/python bench/case_ingest_bench.py --devices 20 --engines local
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("EXHIBIT_CORPUS", REPO.parent / "shared" / "corpus"))
EXHIBIT = [sys.executable, "-m", "ingest.cli"]
MIB = 1 << 20
FIXED_EPOCH = 1_704_164_645
CHAT_STORES = {  # corpus file -> where a phone keeps it
    "log2timeline__plaso/test_data/android/mmssms.db": "data/data/com.android.providers.telephony/databases/mmssms.db",
    "code-kuuhaku__lab-whatsapp/msgstore.db": "data/data/com.whatsapp/databases/msgstore.db",
    "code-kuuhaku__lab-whatsapp/wa.db": "data/data/com.whatsapp/databases/wa.db",
}
CORPUS_IMAGES = ("log2timeline__plaso/test_data/image.E01", "sleuthkit__sleuthkit/test/data/image.E01",
                 "simsong__bulk_extractor/src/tests/CFReDS001.E01")


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def usr_files(limit: int, skip: int, max_size: int = 256 * 1024) -> list[Path]:
    """Regular readable files under /usr, in a stable order, the `skip` first left out (each image gets others)."""
    found: list[Path] = []
    for top, dirs, files in os.walk("/usr/share"):
        dirs.sort()
        for name in sorted(files):
            path = Path(top) / name
            try:
                if path.is_symlink() or not path.is_file() or path.stat().st_size > max_size:
                    continue
            except OSError:
                continue
            found.append(path)
            if len(found) >= skip + limit:
                return found[skip:]
    return found[skip:]


def build_image(folder: Path, index: int, files: int) -> Path:
    """One phone-like ext4 image: /usr files under sdcard/, corpus photos under DCIM, chat stores under data/."""
    staging = folder / f"phone{index}.staging"
    image = folder / f"phone{index}.raw"
    if image.exists():
        return image
    shutil.rmtree(staging, ignore_errors=True)
    chooser = random.Random(index)
    for n, path in enumerate(usr_files(files, skip=index * files)):
        target = staging / "sdcard" / "Download" / f"d{n % 17}" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    photos = sorted((CORPUS / "ianare__exif-samples" / "jpg" / "gps").glob("*.jpg")) if CORPUS.is_dir() else []
    for n, photo in enumerate(photos):
        target = staging / "sdcard" / "DCIM" / "Camera" / f"IMG_{index:02d}{n:04d}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, target)
    for relative, where in CHAT_STORES.items():
        if (CORPUS / relative).is_file():
            target = staging / where
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(CORPUS / relative, target)
    for n in range(3):
        blob = staging / "sdcard" / "Android" / f"blob{n}.bin"
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(chooser.randbytes(2 * MIB))
    for top, dirs, names in os.walk(staging):
        for name in dirs + names:
            os.utime(Path(top) / name, (FIXED_EPOCH, FIXED_EPOCH))
    used = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())
    size_mib = max(16, int(used * 1.4 / MIB) + 8)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-b", "4096", "-d", str(staging), str(image), f"{size_mib}M"], check=True,
                   env={**os.environ, "E2FSPROGS_FAKE_TIME": str(FIXED_EPOCH)})
    shutil.rmtree(staging)
    return image


def write_devices(path: Path, sources: list[Path], devices: int) -> int:
    """devices.csv listing the sources round-robin under DEV-0001 ...; returns the sum of the sources' sizes."""
    total = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "exhibit_id", "description", "expected_hashes", "credentials"])
        for n in range(devices):
            source = sources[n % len(sources)]
            total += source.stat().st_size
            writer.writerow([str(source), f"DEV-{n + 1:04d}", f"bench device {n + 1} ({source.name})", "", ""])
    return total


class Sampler(threading.Thread):
    """Peak resident memory (VmHWM) of every process under the given roots, by role."""

    def __init__(self, roots: dict[str, int], interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.roots, self.interval = roots, interval
        self.peaks: dict[int, tuple[str, int]] = {}
        self.cpu: dict[int, float] = {}  # user + system seconds, as last seen (a process's last 0.2 s may be missed)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for role_root, pid in self.roots.items():
                self._sample(role_root, pid)
            self.stop.wait(self.interval)

    def _sample(self, root_role: str, pid: int) -> None:
        try:
            root = psutil.Process(pid)
            tree = [(root, 0)] + [(child, self._depth(child, pid)) for child in root.children(recursive=True)]
        except psutil.Error:
            return
        for process, depth in tree:
            try:
                command = " ".join(process.cmdline())
                hwm = _vm_hwm(process.pid)
                times = process.cpu_times()
            except (psutil.Error, OSError):
                continue
            role = _role(root_role, depth, command)
            if role is None:
                continue
            if hwm >= self.peaks.get(process.pid, ("", 0))[1]:
                self.peaks[process.pid] = (role, hwm)
            self.cpu[process.pid] = times.user + times.system

    @staticmethod
    def _depth(process: psutil.Process, root: int) -> int:
        depth = 0
        try:
            while process is not None and process.pid != root:
                process = process.parent()
                depth += 1
        except psutil.Error:
            pass
        return depth

    def by_role(self) -> dict[str, dict[str, float]]:
        roles: dict[str, list[int]] = {}
        for role, hwm in self.peaks.values():
            roles.setdefault(role, []).append(hwm)
        cpu: dict[str, float] = {}
        for pid, seconds in self.cpu.items():
            role = self.peaks[pid][0]
            cpu[role] = cpu.get(role, 0.0) + seconds
        return {role: {"processes": len(v), "peak_mib_max": round(max(v) / MIB, 1), "peak_mib_median": round(statistics.median(v) / MIB, 1),
                       "cpu_s": round(cpu.get(role, 0.0), 1)} for role, v in sorted(roles.items())}


def _vm_hwm(pid: int) -> int:
    with open(f"/proc/{pid}/status", "rb") as handle:
        for line in handle:
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _role(root_role: str, depth: int, command: str) -> str | None:
    if "resource_tracker" in command or "forkserver" in command:
        return None  # multiprocessing's own helpers
    if root_role == "cluster":
        return "dask worker" if depth >= 1 else "dask scheduler and nanny"
    return {0: "coordinator", 1: "device process"}.get(depth, "unit worker")


def start_cluster(workers: int, folder: Path) -> tuple[subprocess.Popen, str]:
    """A LocalCluster of `workers` single-threaded worker processes in its own process; (process, address)."""
    address_file = folder / "scheduler-address"
    address_file.unlink(missing_ok=True)
    script = ("import sys, time\nfrom distributed import LocalCluster\n"
              f"cluster = LocalCluster(n_workers={workers}, threads_per_worker=1, processes=True, dashboard_address=None)\n"
              f"open({str(address_file)!r}, 'w').write(cluster.scheduler_address)\n"
              "sys.stdin.read()\ncluster.close()\n")
    process = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, cwd=folder)
    deadline = time.monotonic() + 120
    while not address_file.exists() or not address_file.read_text():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("the LocalCluster did not start")
        time.sleep(0.2)
    return process, address_file.read_text()


def run_case(case_dir: Path, devices_csv: Path, parallel: int, scheduler: str | None, cluster_pid: int | None) -> dict:
    shutil.rmtree(case_dir.parent, ignore_errors=True)
    case_dir.parent.mkdir(parents=True)
    command = [*EXHIBIT, "case", "ingest", str(case_dir), "--devices", str(devices_csv), "--parallel", str(parallel), "--no-progress"]
    if scheduler:
        command += ["--scheduler", scheduler]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    sampler = Sampler({"case": process.pid, **({"cluster": cluster_pid} if cluster_pid else {})})
    sampler.start()
    out, err = process.communicate()
    wall = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    outcomes: dict[str, int] = {}
    stream_bytes = 0
    rows = {"artefacts.parquet": 0, "messages.parquet": 0, "media.parquet": 0}
    for manifest_path in sorted(case_dir.glob("*/manifest.json")):
        manifest = json.loads(manifest_path.read_bytes())
        outcomes[manifest["outcome"]] = outcomes.get(manifest["outcome"], 0) + 1
        for part in manifest["parts"]:
            if part["name"] in rows:
                rows[part["name"]] += part["rows"]
        stream_bytes += sum(v or 0 for v in pq.read_table(manifest_path.parent / "sources.parquet", columns=["stream_size"]).column(0).to_pylist())
    return {"exit": process.returncode, "wall_s": round(wall, 1), "sealed_outcomes": outcomes, "rows": rows, "media_stream_mb": round(stream_bytes / 1e6, 1), "memory": sampler.by_role(),
            "stderr_tail": err.decode("utf-8", "backslashreplace")[-600:]}


def has_scheduler_option() -> bool:
    result = subprocess.run([*EXHIBIT, "case", "ingest", "--help"], capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    return b"--scheduler" in result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=250)
    parser.add_argument("--images", type=int, default=5, help="distinct synthetic phone images")
    parser.add_argument("--files", type=int, default=400, help="/usr files per image")
    parser.add_argument("--parallel", type=int, default=2, help="devices at once")
    parser.add_argument("--cluster-workers", type=int, default=2)
    parser.add_argument("--engines", default="local,cluster")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "case-ingest-bench")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    images = [build_image(args.work, n, args.files) for n in range(args.images)]
    sources = images + [CORPUS / p for p in CORPUS_IMAGES if (CORPUS / p).is_file()]
    devices_csv = args.work / "devices.csv"
    total_bytes = write_devices(devices_csv, sources, args.devices)
    log(f"{args.devices} devices over {len(sources)} sources, {total_bytes / 1e6:,.0f} MB of evidence")
    report = {"devices": args.devices, "sources": [str(s) for s in sources], "evidence_mb": round(total_bytes / 1e6, 1),
              "parallel": args.parallel, "cpus": os.cpu_count(), "engines": {}}
    for engine in args.engines.split(","):
        cluster = None
        if engine == "cluster":
            if not has_scheduler_option():
                log("cluster: this exhibit has no --scheduler option; skipped")
                continue
            cluster, address = start_cluster(args.cluster_workers, args.work)
        try:
            log(f"{engine}: running ...")
            result = run_case(args.work / engine / "OP-BENCH", devices_csv, args.parallel, address if cluster else None,
                              cluster.pid if cluster else None)
        finally:
            if cluster is not None:
                cluster.communicate(b"", timeout=60)
        result["devices_per_hour"] = round(args.devices / result["wall_s"] * 3600)
        result["container_mb_per_s"] = round(total_bytes / 1e6 / result["wall_s"], 2)
        result["media_mb_per_s"] = round(result["media_stream_mb"] / result["wall_s"], 2)
        report["engines"][engine] = result
        log(json.dumps({engine: result}, indent=2))
    text = json.dumps(report, indent=2)
    (args.json or args.work / "results.json").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
