"""The cluster runner: the same tasks as the local pool, run on an existing Dask distributed cluster.

Workers only read evidence and compute; every result comes back to the coordinator (the client
process), which alone writes, seals and appends custody. A worker sets itself up for a run (what
`work.init_worker` does) before that run's first task, once per worker process, keyed by a run
token, so one worker serving two runs keeps their settings, credentials and confinement apart.
Workers may see the evidence store under another mount point: a `PathMap` rewrites every host path
in a task (volume roots, raw files, OS path specs' locations, confinement roots, hash file lists).
"""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
import threading
import uuid
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Callable

from ingest import confine, work
from ingest.tasks import UNIT_CRASHED, Failure, Outcome, TaskFunction


class ClusterLost(RuntimeError):
    """The client lost its scheduler; the run ends (its staging folder is kept for a resume)."""

    def __init__(self, address: str, detail: str) -> None:
        super().__init__(f"lost the Dask scheduler at {address}: {detail}")
        self.address = address


class PathMapError(ValueError):
    """A path-map rule that cannot be used (relative, empty, climbing)."""


def _clean_side(text: str, rule: str) -> str:
    if not text:
        raise PathMapError(f"path map {rule!r}: an empty side")
    if not text.startswith("/"):
        raise PathMapError(f"path map {rule!r}: {text!r} is not absolute")
    if ".." in text.split("/"):
        raise PathMapError(f"path map {rule!r}: {text!r} climbs with '..'")
    normal = posixpath.normpath(text)
    return "/" if normal in ("/", "//") else normal


@dataclass(frozen=True)
class PathMap:
    """Coordinator path prefix -> worker path prefix, whole path components only, longest prefix first."""

    rules: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, texts: list[str]) -> "PathMap":
        rules = []
        for text in texts:
            if text.count("=") != 1:
                raise PathMapError(f"path map {text!r}: expected COORDINATOR_PREFIX=WORKER_PREFIX")
            left, right = text.split("=")
            rules.append((_clean_side(left, text), _clean_side(right, text)))
        if len({left for left, _ in rules}) != len(rules):
            raise PathMapError("path map: a coordinator prefix given twice")
        return cls(tuple(sorted(rules, key=lambda rule: len(rule[0]), reverse=True)))

    def map_path(self, path: str) -> str:
        """The worker's name for a coordinator host path (unchanged when no rule matches)."""
        if not self.rules or not path.startswith("/"):
            return path
        original, path = path, posixpath.normpath(path)  # match as the confinement compares: '..' resolved first
        for left, right in self.rules:
            if left == "/":
                rest = path[1:]
            elif path == left:
                rest = ""
            elif path.startswith(left + "/"):
                rest = path[len(left) + 1:]
            else:
                continue
            return right if not rest else (right.rstrip("/") + "/" + rest)
        return original

    def map_paths(self, paths: list[str] | None) -> list[str] | None:
        """Container file lists (`media.hash_media`'s segments, `media.sha256_files`'s paths)."""
        return None if paths is None else [self.map_path(path) for path in paths]

    def map_spec_json(self, text: str | None) -> str | None:
        """A JSON path spec with every OS layer's location mapped (other layers' locations are inside the image)."""
        if text is None or not self.rules:
            return text
        data = json.loads(text)
        node = data
        depth = 0
        while isinstance(node, dict) and depth < 64:  # a budget on the parent chain
            if node.get("type_indicator") == "OS" and isinstance(node.get("location"), str):
                node["location"] = self.map_path(node["location"])
            node = node.get("parent")
            depth += 1
        return json.dumps(data)

    def map_recipe(self, recipe: work.VolumeRecipe) -> work.VolumeRecipe:
        return replace(recipe, root=self.map_path(recipe.root) if recipe.root else recipe.root,
                       tsk_raw_file=self.map_path(recipe.tsk_raw_file) if recipe.tsk_raw_file else recipe.tsk_raw_file,
                       tsk_parent_spec=self.map_spec_json(recipe.tsk_parent_spec))

    def map_unit(self, unit: work.Unit) -> work.Unit:
        """Folder targets name host files; dfvfs targets carry a path spec; tsk and archive targets are addresses."""
        items = []
        for entry_index, target, name in unit.items:
            target = list(target)
            if unit.volume.walker == "folder":
                target[1] = self.map_path(target[1])
            elif unit.volume.walker == "dfvfs":
                target[1] = self.map_spec_json(target[1])
            items.append((entry_index, tuple(target), name))
        return work.Unit(unit_id=unit.unit_id, volume=self.map_recipe(unit.volume), items=tuple(items))

    def map_confinement(self, confinement: confine.Confinement | None) -> confine.Confinement | None:
        """The same files under their worker names: a map renames what may be opened, it never adds to it."""
        if confinement is None:
            return None
        return confine.Confinement(files=tuple(self.map_path(f) for f in confinement.files),
                                   links=tuple((self.map_path(c), tuple(self.map_path(f) for f in files)) for c, files in confinement.links))

    def map_credentials(self, credentials: list) -> list:
        return [(self.map_spec_json(spec), identifier, data) for spec, identifier, data in credentials]


# ---- worker side -------------------------------------------------------------------------------

_RUNS: dict[str, dict] = {}  # run token -> that run's saved worker state (work._STATE and confinement)
_CURRENT: list[str | None] = [None]
_LOCK = threading.Lock()  # the worker state is per process: tasks of one process take turns
_KEEP_RUNS = 4


def _enter_run(token: str, setup: tuple) -> None:
    if _CURRENT[0] == token:
        return
    if _CURRENT[0] is not None:
        _RUNS[_CURRENT[0]] = {"state": dict(work._STATE), "confinement": confine.active()}
    saved = _RUNS.get(token)
    if saved is None:
        settings, credentials, confinement = setup
        work.init_worker(settings, credentials, confinement)
        while len(_RUNS) >= _KEEP_RUNS:
            _RUNS.pop(next(iter(_RUNS)))
    else:
        work._STATE.clear()
        work._STATE.update(saved["state"])
        confine.activate(saved["confinement"])
    _CURRENT[0] = token


def run_task(token: str, setup: tuple, function: TaskFunction, items: list) -> list:
    """Worker entry point: set up for the run once, then run the task function on its items."""
    with _LOCK:
        _enter_run(token, setup)
        return function(items)


def run_chat_unit_returning_rows(unit: str) -> dict:
    """Cluster form of `chats.run_chat_unit`: the rows file goes to the worker's own temp folder and its
    bytes come back in the result (`messages_bytes`); the coordinator writes them where the local form would."""
    from ingest import chats

    data = json.loads(unit)
    descriptor, local = tempfile.mkstemp(prefix="exhibit-chat-", suffix=".parquet")
    os.close(descriptor)
    try:
        data["messages_file"] = local
        result = chats.run_chat_unit(json.dumps(data))
        with open(local, "rb") as handle:
            result["messages_bytes"] = handle.read()
        return result
    finally:
        os.unlink(local)


# ---- client side -------------------------------------------------------------------------------


class ClusterRunner:
    """A `Runner` on a Dask cluster at `address` (tcp://HOST:PORT) or on a given `distributed.Client`."""

    def __init__(self, address: str | None, settings: Any, credentials: list, confinement: confine.Confinement | None,
                 path_map: PathMap | None = None, retries: int = 1, client: Any = None, max_pending: int = 64) -> None:
        self._address = address
        self._path_map = path_map or PathMap()
        self._setup = (settings, self._path_map.map_credentials(credentials), self._path_map.map_confinement(confinement))
        self._token = uuid.uuid4().hex
        self._retries = retries
        self._client = client
        self._own_client = client is None
        self._drivers = ThreadPoolExecutor(max_workers=max_pending, thread_name_prefix="exhibit-cluster")

    @property
    def path_map(self) -> PathMap:
        return self._path_map

    def __enter__(self) -> "ClusterRunner":
        from distributed import Client

        if self._client is None:
            try:
                self._client = Client(self._address, timeout="10s", set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise ClusterLost(str(self._address), f"cannot connect: {error}") from error
        if self._address is None:
            self._address = self._client.scheduler.address
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self._drivers.shutdown(wait=False, cancel_futures=True)
        if self._own_client and self._client is not None:
            self._client.close()

    def submit(self, function: TaskFunction, items: list, sizes: list[int]) -> "Future[Outcome]":
        """Run `function(items)` on the cluster (items already in worker path names: see `PathMap.map_unit`)."""
        return self._drivers.submit(self._drive, function, list(items))

    def _lost(self, detail: str) -> ClusterLost:
        return ClusterLost(str(self._address), detail)

    def _run(self, function: TaskFunction, items: list) -> list:
        from distributed import KilledWorker  # noqa: F401  (what a worker death past the retries raises)

        if self._client is None or self._client.status not in ("running", "connecting", "newly-created"):
            raise self._lost(f"client is {getattr(self._client, 'status', 'closed')}")
        future = self._client.submit(run_task, self._token, self._setup, function, items, retries=self._retries, pure=False)
        try:
            return future.result()
        except CancelledError as error:
            raise self._lost(f"task cancelled ({error})") from error
        except OSError as error:  # CommClosedError and friends: the scheduler went away
            raise self._lost(str(error)) from error

    def _drive(self, function: TaskFunction, items: list) -> Outcome:
        outcome = Outcome()
        pieces: list[tuple[int, list]] = [(0, items)]
        done: dict[int, list] = {}
        first = True
        while pieces:
            start, piece = pieces.pop(0)
            try:
                done[start] = self._run(function, piece)
                continue
            except ClusterLost:
                raise
            except Exception as error:  # a task that raised or whose worker died past its retries
                detail = f"{type(error).__name__}: {error}"
                if self._client is not None and self._client.status not in ("running",):
                    raise self._lost(detail) from error
            outcome.retries += 1
            if first and len(piece) > 1:  # the whole task once more, then halves
                first = False
                pieces.insert(0, (start, piece))
                continue
            if len(piece) == 1:
                outcome.failures.append(Failure(piece[0], UNIT_CRASHED, detail))
                outcome.retries -= 1
                continue
            half = len(piece) // 2
            pieces[0:0] = [(start, piece[:half]), (start + half, piece[half:])]
        for start in sorted(done):
            outcome.results.extend(done[start])
        return outcome







def run_units(units: list[str]) -> list[list]:
    """Task function for content units: each item is a `Unit.to_json()` text (already path-mapped), each
    result that unit's `work.run_unit` list; the coordinator plugs them into the rows as for the local pool."""
    return [[list(pair) for pair in work.run_unit(work.Unit.from_json(text))] for text in units]
__all__ = ["ClusterLost", "ClusterRunner", "PathMap", "PathMapError", "run_chat_unit_returning_rows", "run_task", "run_units"]
