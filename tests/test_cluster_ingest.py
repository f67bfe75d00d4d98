"""`exhibit ingest --scheduler` end to end on a LocalCluster: the same rows as a local run, table by table;
a worker killed mid-run costs only its task; a scheduler that is unreachable or goes away ends the run
with exit 3 and nothing published; `--path-map` reaches the evidence through another mount point."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import pytest
from click.testing import CliRunner

distributed = pytest.importorskip("distributed")

from ingest.cli import main  # noqa: E402
from ingest.naming import encode_id  # noqa: E402
from tests import images  # noqa: E402
from tests.conftest import Ingested, require_tool, run_ingest  # noqa: E402
from tests.corpus import require_corpus  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the worker plugin below travels by value

REPO = Path(__file__).resolve().parent.parent
TABLES = ("artefacts", "media", "messages", "errors", "sources", "identifiers")
RUN_COLUMNS = {"sources": ("started_time", "finished_time")}  # what differs from run to run, whoever runs it
EXT2_E01 = "log2timeline__dfvfs/test_data/ext2.E01"
WHATSAPP = ("abrignoni__iLEAPP/admin/test/cases/data/whatsApp/testdata.whatsApp.whatsAppMessages.josh_ios15_ffs.zip.extracted/"
            "filesystem2/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/ChatStorage.sqlite")
PHOTO = "exiftool__exiftool/t/images/GoPro.jpg"
APP_GROUP = "private/var/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8"
EXT4_TREE = {b"a.txt": b"alpha\n", b"docs/note.txt": b"a note, call +44 20 7946 0958\n", b"big.bin": images.pseudo_random(300_000, 7),
             b"empty": b""}


class DieOnce(distributed.WorkerPlugin):
    """Planted in every worker of the module's cluster: the first worker to read `die-once.bin` dies (os._exit),
    as a worker does when a native library crashes; `slow.bin` takes three seconds, to close a scheduler mid-run."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def setup(self, worker) -> None:
        from ingest import work

        original = getattr(work.describe, "__wrapped_by_test__", work.describe)
        marker = self.marker

        def describe(read, size, name, *args, **kwargs):
            if name == b"die-once.bin" and not os.path.exists(marker):
                open(marker, "x").close()
                os._exit(1)
            if name == b"slow.bin":
                time.sleep(3)
            return original(read, size, name, *args, **kwargs)

        describe.__wrapped_by_test__ = original
        work.describe = describe


class WatchWrites(distributed.WorkerPlugin):
    """Every file a worker process opens for writing (or a folder it makes), logged through an audit hook
    to LOG_DIR/<pid>.log: the proof that no task writes into the output folder."""

    def __init__(self, log_dir: str) -> None:
        self.log_dir = log_dir

    def setup(self, worker) -> None:
        if getattr(sys, "_exhibit_test_watching", None):
            return
        sys._exhibit_test_watching = True
        log = os.path.join(self.log_dir, f"{os.getpid()}.log")
        busy = [False]
        writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

        def hook(event: str, args: tuple) -> None:
            if busy[0] or event not in ("open", "os.mkdir", "os.rename", "os.replace"):
                return
            path = args[0]
            if event == "open" and not ((isinstance(args[1], str) and set(args[1]) & set("wax+")) or (args[2] or 0) & writing):
                return
            if not isinstance(path, (str, bytes)):
                return
            busy[0] = True
            try:
                with open(log, "a", encoding="utf-8") as handle:
                    handle.write(f"{os.fsdecode(path)}\n")
            finally:
                busy[0] = False

        sys.addaudithook(hook)


class Cluster:
    def __init__(self, address: str, writes: Path) -> None:
        self.address = address
        self.writes = writes

    def written(self) -> list[str]:
        return [line for log in sorted(self.writes.glob("*.log")) for line in log.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """A LocalCluster of two worker processes for the whole module."""
    marker = tmp_path_factory.mktemp("plant") / "died"
    writes = tmp_path_factory.mktemp("writes")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as local:
        with distributed.Client(local, set_as_default=False) as client:
            client.register_plugin(DieOnce(str(marker)), name="exhibit-test-die-once")
            client.register_plugin(WatchWrites(str(writes)), name="exhibit-test-watch-writes")
        yield Cluster(local.scheduler_address, writes)


@pytest.fixture(scope="module")
def scheduler(cluster: Cluster) -> str:
    return cluster.address


def _rows(result: Ingested, table: str) -> list[dict]:
    dropped = RUN_COLUMNS.get(table, ())
    return [{k: v for k, v in row.items() if k not in dropped} for row in result.table(table)]


def _manifest(result: Ingested) -> dict:
    return json.loads((result.folder / "manifest.json").read_text())


def _assert_same_rows(local: Ingested, remote: Ingested) -> None:
    for table in TABLES:
        assert _rows(remote, table) == _rows(local, table), table


def _ingest(source: Path, out: Path, *extra: str, workers: int = 2) -> Ingested:
    return run_ingest(source, out, *extra, case="C", exhibit="E", workers=workers)


def _ext4_image(folder: Path) -> Path:
    require_tool("mkfs.ext4")
    images.write_tree(folder / "staging", EXT4_TREE)
    raw = images.make_ext4(folder / "staging", folder / "fs.raw", "4M")
    raw.chmod(0o444)
    return raw


def _chat_folder(folder: Path) -> Path:
    """A phone-like folder: WhatsApp's ChatStorage (with its sidecars) and a photo, copied from the corpus."""
    corpus = require_corpus()
    store = folder / APP_GROUP
    store.mkdir(parents=True)
    for suffix in ("", "-shm", "-wal"):
        shutil.copyfile(corpus / (WHATSAPP + suffix), store / ("ChatStorage.sqlite" + suffix))
    (folder / "DCIM").mkdir()
    shutil.copyfile(corpus / PHOTO, folder / "DCIM" / "IMG_0001.JPG")
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, ns=(1_767_261_600_000_000_000,) * 2, follow_symlinks=False)
    return folder


KINDS = ["corpus_e01", "synthetic_ext4", "chat_folder"]


def _source(kind: str, tmp_path: Path) -> Path:
    if kind == "corpus_e01":
        return require_corpus() / EXT2_E01
    if kind == "synthetic_ext4":
        return _ext4_image(tmp_path / "build")
    return _chat_folder(tmp_path / "store" / "phone")


@pytest.mark.parametrize("kind", KINDS)
def test_cluster_rows_equal_local_rows(kind: str, cluster: Cluster, tmp_path: Path) -> None:
    scheduler = cluster.address
    source = _source(kind, tmp_path)
    local = _ingest(source, tmp_path / "local")
    remote = _ingest(source, tmp_path / "remote", "--scheduler", scheduler)
    assert (local.exit_code, remote.exit_code) == (0, 0), remote.output
    _assert_same_rows(local, remote)
    assert remote.table("artefacts"), "an exhibit with no rows proves nothing"
    manifest = _manifest(remote)
    assert manifest["cluster"] == {"scheduler": scheduler, "path_map": []}
    assert "cluster" not in _manifest(local)
    assert (manifest["units_retried"], manifest["artefacts_given_up"]) == (0, 0)
    notes = [row["notes"] for row in Ingested(0, "", remote.folder.parent).table("custody")]
    assert [note.endswith(f"(tasks on the Dask cluster at {scheduler})") for note in notes] == [True, True]
    written = cluster.written()
    assert [path for path in written if path.startswith(str(tmp_path))] == []  # no task wrote into the output (or the evidence)
    if kind == "chat_folder":
        assert len(remote.table("messages")) == 32 and len(remote.table("media")) == 1
        # the hook does see the workers' writes: the chat task's rows file in the worker's own temp folder
        assert any(path.endswith("/messages.bin") and "/exhibit-chat-" in path for path in written)
    if kind == "corpus_e01":
        assert remote.source()["stream_md5"] is not None and remote.source()["is_source_unchanged"] is True


def test_a_killed_worker_costs_only_its_task(scheduler: str, tmp_path: Path) -> None:
    source = tmp_path / "device"
    images.write_tree(source, {b"a.txt": b"a" * 100, b"die-once.bin": b"d" * 100, b"z.txt": b"z" * 100})
    local = _ingest(source, tmp_path / "local")
    remote = _ingest(source, tmp_path / "remote", "--scheduler", scheduler)
    assert (local.exit_code, remote.exit_code) == (0, 0), remote.output
    _assert_same_rows(local, remote)
    assert all(row["content_status"] == "hashed" for row in remote.artefacts() if row["path"] != "/")
    manifest = _manifest(remote)
    # the one content unit was on the worker that died; the scheduler ran it again on a live worker
    assert (manifest["units_retried"], manifest["artefacts_given_up"]) == (1, 0)
    assert "1 unit retried, 0 artefacts given up" in remote.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_scheduler_exits_3_and_publishes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "device"
    images.write_tree(source, {b"a.txt": b"a"})
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = _ingest(source, tmp_path / "out", "--scheduler", address)
    assert result.exit_code == 3, result.output
    assert f"exhibit: the run failed: cannot reach the Dask scheduler at {address}: " in result.output
    assert result.output.rstrip().endswith("; nothing was published (exit 3)")
    case = tmp_path / "out" / "C"
    assert sorted(p.name for p in case.iterdir()) == []  # no exhibit, no staging, no custody event


def test_scheduler_gone_mid_run_exits_3_and_publishes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "device"
    images.write_tree(source, {b"slow.bin": b"s" * 100, **{f"f{i}.txt".encode(): b"x" for i in range(5)}})
    with distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        with distributed.Client(cluster, set_as_default=False) as client:
            client.register_plugin(DieOnce(str(tmp_path / "unused")), name="exhibit-test-slow")
        address = cluster.scheduler_address
        out = tmp_path / "out"
        run = subprocess.Popen([sys.executable, "-m", "ingest", "ingest", str(source), "--case", "C", "--exhibit", "E", "--out", str(out),
                                "--scheduler", address], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
        deadline = time.monotonic() + 60
        while not (out / "C" / "custody.parquet").exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # the ingest_started event: the tasks are on their way
        time.sleep(1)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 3, stderr
    assert f"exhibit: the run failed: lost the Dask scheduler at {address}: " in stderr
    assert "nothing was published (exit 3)" in stderr
    assert not (out / "C" / "E").exists()
    assert sorted(p.name for p in (out / "C").iterdir()) == [".custody.lock", "custody.parquet"]  # no exhibit, no staging
    events = [row["action"] for row in Ingested(0, "", out / "C").table("custody")]
    assert events == ["ingest_started"]  # the run began; nothing claims it ended with a seal
    print(stderr)


@pytest.mark.parametrize("kind", KINDS)
def test_path_map_reaches_the_evidence_through_another_mount(kind: str, scheduler: str, tmp_path: Path) -> None:
    """The workers open the evidence only under the mapped name (an E01's segments, a raw image, a folder's files and
    its chat store), here a symbolic link standing for another machine's mount of the same store."""
    source = _source(kind, tmp_path)
    evidence = source.parent
    mount = tmp_path / "mnt"
    mount.mkdir()
    os.symlink(evidence, mount / "evidence")
    rule = f"{evidence}={mount}/evidence"
    local = _ingest(source, tmp_path / "local")
    remote = _ingest(source, tmp_path / "remote", "--scheduler", scheduler, "--path-map", rule)
    assert (local.exit_code, remote.exit_code) == (0, 0), remote.output
    _assert_same_rows(local, remote)
    assert _manifest(remote)["cluster"] == {"scheduler": scheduler, "path_map": [rule]}
    if kind == "chat_folder":
        assert len(remote.table("messages")) == 32


def test_path_map_is_what_the_workers_open(scheduler: str, tmp_path: Path) -> None:
    """A map to where nothing is makes every read fail on the workers, each named by this machine's path."""
    raw = _ext4_image(tmp_path / "build")
    astray = _ingest(raw, tmp_path / "astray", "--scheduler", scheduler, "--path-map", f"{raw.parent}={tmp_path}/nowhere")
    assert astray.exit_code == 1
    assert {row["content_status"] for row in astray.artefacts() if row["content_status"] != "no_content"} == {"read_error"}
    source = astray.source()
    assert source["stream_sha256"] is None
    messages = [row["message"] for row in astray.errors()]
    assert messages and all(f"{tmp_path}/nowhere" not in message for message in messages), messages
    assert any(f"No such file or directory: '{raw}'" in message for message in messages), messages  # this machine's name


class OtherVersion(distributed.WorkerPlugin):
    """A worker that runs another exhibit version than the coordinator."""

    def setup(self, worker) -> None:
        import ingest

        ingest.__version__ = "0.0.0-other"


def test_workers_of_another_version_end_the_run_before_it_starts(tmp_path: Path) -> None:
    source = tmp_path / "device"
    images.write_tree(source, {b"a.txt": b"a"})
    with distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1, dashboard_address=None) as local:
        with distributed.Client(local, set_as_default=False) as client:
            client.register_plugin(OtherVersion(), name="exhibit-test-other-version")
            (worker,) = client.scheduler_info()["workers"]
        result = _ingest(source, tmp_path / "out", "--scheduler", local.scheduler_address)
    assert result.exit_code == 3, result.output
    assert (f"exhibit: the run failed: cannot use the Dask cluster of the scheduler at {local.scheduler_address}: "
            f"workers must run exhibit 0.1.0: "
            f"{worker} has 0.0.0-other; nothing was published (exit 3)") in result.output
    assert sorted(p.name for p in (tmp_path / "out" / "C").iterdir()) == []  # not even the ingest_started event


@pytest.mark.parametrize(("rules", "message"), [
    (["/evidence/../etc=/mnt"], "climbs with '..'"),
    (["/evidence=/mnt/../etc"], "climbs with '..'"),
    (["evidence=/mnt"], "is not absolute"),
    (["/evidence=mnt"], "is not absolute"),
    (["=/mnt"], "an empty side"),
    (["/evidence="], "an empty side"),
    (["/evidence"], "expected COORDINATOR_PREFIX=WORKER_PREFIX"),
    (["/a=/b=/c"], "expected COORDINATOR_PREFIX=WORKER_PREFIX"),
    (["/a=/b", "/a/=/c"], "a coordinator prefix given twice"),
])
def test_bad_path_map_exits_2(rules: list[str], message: str, tmp_path: Path) -> None:
    source = tmp_path / "device"
    images.write_tree(source, {b"a.txt": b"a"})
    args = [a for rule in rules for a in ("--path-map", rule)]
    for command in (["ingest", str(source), "--case", "C", "--exhibit", "E", "--out", str(tmp_path / "out")],
                    ["case", "ingest", str(tmp_path / "out" / "C"), "--devices", str(_devices(tmp_path, source))]):
        result = CliRunner().invoke(main, [*command, "--scheduler", "tcp://127.0.0.1:8786", *args])
        assert result.exit_code == 2, result.output
        assert "--path-map: path map" in result.output and message in result.output
    assert not (tmp_path / "out").exists()


def _devices(tmp_path: Path, source: Path) -> Path:
    devices = tmp_path / "devices.csv"
    devices.write_text(f"source,exhibit_id,description,expected_hashes,credentials\n{source},E,phone,,\n", encoding="utf-8")
    return devices


@pytest.mark.parametrize(("args", "message"), [
    (["--path-map", "/a=/b"], "--path-map needs --scheduler"),
    (["--scheduler", "localhost"], "expected tcp://HOST:PORT"),
    (["--scheduler", "http://h:1"], "expected tcp://HOST:PORT"),
])
def test_bad_scheduler_options_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ingest", str(tmp_path), "--case", "C", "--exhibit", "E", "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2 and message in result.output, result.output


def test_case_ingest_runs_every_device_on_the_cluster(scheduler: str, tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    images.write_tree(first, {b"a.txt": b"first\n"})
    images.write_tree(second, {b"b.txt": b"second\n", b"c.bin": b"\0" * 4096})
    devices = tmp_path / "devices.csv"
    devices.write_text(f"source,exhibit_id,description,expected_hashes,credentials\n{first},D/1,one,,\n{second},D/2,two,,\n", encoding="utf-8")
    case_dir = tmp_path / "cases" / "C"
    result = CliRunner().invoke(main, ["case", "ingest", str(case_dir), "--devices", str(devices), "--parallel", "2", "--no-progress",
                                       "--scheduler", scheduler])
    assert result.exit_code == 0, result.output
    for exhibit, source in (("D/1", first), ("D/2", second)):
        remote = Ingested(0, "", case_dir / encode_id(exhibit))
        local = run_ingest(source, tmp_path / "local", case="C", exhibit=exhibit, workers=1)
        _assert_same_rows(local, remote)
        assert _manifest(remote)["cluster"]["scheduler"] == scheduler


def test_case_ingest_with_an_unreachable_scheduler_fails_each_device(tmp_path: Path) -> None:
    source = tmp_path / "one"
    images.write_tree(source, {b"a.txt": b"first\n"})
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = CliRunner().invoke(main, ["case", "ingest", str(tmp_path / "cases" / "C"), "--devices", str(_devices(tmp_path, source)),
                                       "--no-progress", "--scheduler", address])
    assert result.exit_code == 1, result.output
    assert f"failed: cannot reach the Dask scheduler at {address}" in result.output
    assert not (tmp_path / "cases" / "C" / "E").exists()


def test_a_cluster_without_workers_ends_the_run_before_it_starts(tmp_path: Path) -> None:
    source = tmp_path / "device"
    images.write_tree(source, {b"a.txt": b"a"})
    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None) as local:
        result = _ingest(source, tmp_path / "out", "--scheduler", local.scheduler_address)
    assert result.exit_code == 3, result.output
    assert (f"exhibit: the run failed: cannot use the Dask cluster of the scheduler at {local.scheduler_address}: "
            "no worker answered within 10 s") in result.output
    assert sorted(p.name for p in (tmp_path / "out" / "C").iterdir()) == []
