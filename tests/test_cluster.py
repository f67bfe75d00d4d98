"""The cluster runner on a LocalCluster: same results as in-process, a killed worker costs only its task,
a lost scheduler is named, and a path map lets workers read the evidence under another mount point."""

from __future__ import annotations

import os
import sys

import cloudpickle
import pytest

distributed = pytest.importorskip("distributed")

from ingest import cluster, confine, work  # noqa: E402
from ingest.cluster import ClusterLost, ClusterRunner, PathMap, PathMapError  # noqa: E402
from ingest.content import ContentSettings  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])

SETTINGS = ContentSettings(algorithms=("md5", "sha256"), chunk_size=1 << 16, magic_bytes=4096, media=False)
FILES = {"a.txt": b"hello world\n", "b.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "c.bin": bytes(range(256)) * 3, "empty": b""}


@pytest.fixture(scope="module")
def local_cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def _folder(root) -> None:
    root.mkdir()
    for name, data in FILES.items():
        (root / name).write_bytes(data)


def _unit(root: str, index: int = 0) -> work.Unit:
    items = tuple((i, ("folder", os.path.join(root, name), len(data)), name) for i, (name, data) in enumerate(sorted(FILES.items())))
    return work.Unit(unit_id=f"u{index}", volume=work.VolumeRecipe(index=index, walker="folder", root=root), items=items)


def _local(unit: work.Unit) -> list:
    work.init_worker(SETTINGS, [], None)
    try:
        return [list(pair) for pair in work.run_unit(unit)]
    finally:
        work.release_worker()


def test_same_results_as_in_process(tmp_path, local_cluster) -> None:
    _folder(tmp_path / "ev")
    unit = _unit(str(tmp_path / "ev"))
    with distributed.Client(local_cluster, set_as_default=False) as client:
        with ClusterRunner(None, SETTINGS, [], None, client=client) as runner:
            outcome = runner.submit(cluster.run_units, [unit.to_json(), unit.to_json()], [1, 1]).result(60)
    expected = _local(unit)
    assert outcome.failures == [] and outcome.retries == 0
    assert outcome.results == [expected, expected]
    assert [fields["content_status"] for _, fields in expected] == ["hashed", "hashed", "hashed", "empty"]
    assert expected[0][1]["sha256"] == "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"


def _die_once(items: list) -> list:
    marker = items[0]
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return [len(items)]


def _always_raises(items: list) -> list:
    if "bad" in items:
        raise ValueError("bad item")
    return list(items)


def test_killed_worker_costs_only_its_task(tmp_path, local_cluster) -> None:
    with distributed.Client(local_cluster, set_as_default=False) as client:
        with ClusterRunner(None, SETTINGS, [], None, client=client) as runner:
            outcome = runner.submit(_die_once, [str(tmp_path / "marker"), "x"], [1, 1]).result(60)
    assert outcome.results == [2] and outcome.failures == []


def test_failing_item_split_down_to_itself(local_cluster) -> None:
    with distributed.Client(local_cluster, set_as_default=False) as client:
        with ClusterRunner(None, SETTINGS, [], None, client=client) as runner:
            outcome = runner.submit(_always_raises, ["a", "b", "bad", "c"], [1] * 4).result(60)
    assert outcome.results == ["a", "b", "c"]
    assert [(f.item, f.kind) for f in outcome.failures] == [("bad", "unit_crashed")]
    assert "ValueError: bad item" in outcome.failures[0].detail
    assert outcome.retries == 3  # the whole once, then the two halves of the failing half... counted per re-run piece


def test_path_map_reads_the_same_bytes(tmp_path, local_cluster) -> None:
    _folder(tmp_path / "ev")
    (tmp_path / "mnt").mkdir()
    os.symlink(tmp_path / "ev", tmp_path / "mnt" / "evidence")
    path_map = PathMap.parse([f"{tmp_path}/ev={tmp_path}/mnt/evidence"])
    unit = _unit(str(tmp_path / "ev"))
    mapped = path_map.map_unit(unit)
    assert mapped.volume.root == f"{tmp_path}/mnt/evidence"
    assert mapped.items[0][1][1] == f"{tmp_path}/mnt/evidence/a.txt"
    with distributed.Client(local_cluster, set_as_default=False) as client:
        with ClusterRunner(None, SETTINGS, [], None, path_map=path_map, client=client) as runner:
            outcome = runner.submit(cluster.run_units, [mapped.to_json()], [1]).result(60)
    assert outcome.results == [_local(unit)]


def test_path_map_rules() -> None:
    m = PathMap.parse(["/evidence=/mnt/evidence", "/evidence/deep=/other", "/x/=/y/"])
    assert m.map_path("/evidence/a/b") == "/mnt/evidence/a/b"
    assert m.map_path("/evidence") == "/mnt/evidence"
    assert m.map_path("/evidence2/a") == "/evidence2/a"
    assert m.map_path("/evidence/deep/f") == "/other/f"
    assert m.map_path("/evidence/deeper") == "/mnt/evidence/deeper"
    assert m.map_path("/x/f") == "/y/f"
    assert m.map_path("relative/evidence") == "relative/evidence"
    assert PathMap.parse(["/=/r"]).map_path("/a/b") == "/r/a/b"
    for bad in ["/evidence", "=/a", "/a=", "a=/b", "/a=b", "/a/../b=/c", "/a=/b/..", "/a=/b=/c"]:
        with pytest.raises(PathMapError):
            PathMap.parse([bad])
    with pytest.raises(PathMapError):
        PathMap.parse(["/a=/b", "/a/=/c"])


def test_path_map_specs_and_confinement() -> None:
    m = PathMap.parse(["/evidence=/mnt/ev"])
    spec = ('{"__type__": "PathSpec", "type_indicator": "TSK", "location": "/evidence/x", '
            '"parent": {"__type__": "PathSpec", "type_indicator": "OS", "location": "/evidence/img.E01"}}')
    out = m.map_spec_json(spec)
    assert '"location": "/evidence/x"' in out  # inside the image: not a host path
    assert '"location": "/mnt/ev/img.E01"' in out
    conf = confine.Confinement(files=("/evidence/img.E01", "/evidence/img.E02", "/elsewhere/f"),
                               links=(("/evidence/img.E01", ("/evidence/img.E02",)),))
    mapped = m.map_confinement(conf)
    assert mapped.files == ("/mnt/ev/img.E01", "/mnt/ev/img.E02", "/elsewhere/f")
    assert mapped.links == (("/mnt/ev/img.E01", ("/mnt/ev/img.E02",)),)
    assert not mapped.allows("/mnt/ev/other") and not mapped.allows("/evidence/img.E01")


def test_cluster_lost_names_the_scheduler(tmp_path) -> None:
    lc = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
    address = lc.scheduler_address
    runner = ClusterRunner(address, SETTINGS, [], None)
    with runner:
        future = runner.submit(_sleep, [5], [1])
        import time
        time.sleep(1)
        lc.close()
        with pytest.raises(ClusterLost) as caught:
            future.result(60)
    assert address in str(caught.value)


def _sleep(items: list) -> list:
    import time
    time.sleep(items[0])
    return items


def test_path_map_climbing_paths_and_lists() -> None:
    m = PathMap.parse(["/evidence=/mnt/ev"])
    assert m.map_path("/evidence/../etc/passwd") == "/evidence/../etc/passwd"  # resolves to /etc: no rule, so unchanged
    assert m.map_path("/evidence/a/../b") == "/mnt/ev/b"
    assert m.map_path("/evidence2/../evidence/f") == "/mnt/ev/f"
    assert m.map_paths(["/evidence/i.E01", "/evidence/i.E02"]) == ["/mnt/ev/i.E01", "/mnt/ev/i.E02"]
    assert m.map_paths(None) is None
    conf = m.map_confinement(confine.Confinement(files=("/evidence/i.E01",)))
    assert conf.allows(m.map_path("/evidence/x/../i.E01"))
    assert not conf.allows(m.map_path("/evidence/../mnt/ev/i.E02"))


def test_worker_keeps_two_runs_apart() -> None:
    other = ContentSettings(algorithms=("sha1",), chunk_size=4096, magic_bytes=512, media=True)
    conf = confine.Confinement(files=("/a",))
    try:
        assert cluster.run_task("run-1", (SETTINGS, [], None), _settings_seen, [0]) == [SETTINGS, None]
        assert cluster.run_task("run-2", (other, [], conf), _settings_seen, [0]) == [other, conf]
        assert cluster.run_task("run-1", (None, [], None), _settings_seen, [0]) == [SETTINGS, None]  # set up once: cached
        assert cluster.run_task("run-2", (None, [], None), _settings_seen, [0]) == [other, conf]
    finally:
        cluster._RUNS.clear()
        cluster._CURRENT[0] = None
        work.release_worker()
        confine.activate(None)


def _settings_seen(items: list) -> list:
    return [work._STATE["settings"], confine.active()]
