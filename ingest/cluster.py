"""The cluster runner: the same tasks as the local pool, run on an existing Dask distributed cluster.

Workers only read evidence and compute; every result comes back to the coordinator (the client
process), which alone writes, seals and appends custody. A worker sets itself up for a run (what
`work.init_worker` does) before that run's first task, once per worker process, keyed by a run
token, so one worker serving two runs keeps their settings, credentials and confinement apart.
Workers may see the evidence store under another mount point: a `PathMap` rewrites every host path
in a task (volume roots, raw files, OS path specs' locations, confinement roots, hash file lists).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import posixpath
import shutil
import tempfile
import threading
import uuid
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any, Callable

from ingest import confine, work
from ingest.tasks import UNIT_CRASHED, Failure, Outcome, TaskFunction


class ClusterLost(RuntimeError):
    """The run cannot go on on its cluster (the scheduler went away, or its workers cannot run the tasks); the
    run ends as any run-ending error does: nothing is published."""

    what = "lost the Dask scheduler at"

    def __init__(self, address: str, detail: str) -> None:
        super().__init__(f"{self.what} {address}: {detail}")
        self.address = address


class SchedulerUnreachable(ClusterLost):
    """No scheduler answered at the address when the run started."""

    what = "cannot reach the Dask scheduler at"


class ClusterUnusable(ClusterLost):
    """The scheduler answered, but its workers cannot run this run's tasks (none, or another exhibit version)."""

    what = "cannot use the Dask cluster of the scheduler at"


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
    """Cluster form of `chats.run_chat_unit`: the catalog comes inside the unit (`catalog_text`) and goes to the
    worker's own temp folder, and so does the rows file, whose bytes come back in the result (`messages_bytes`);
    the coordinator writes them where the local form would. Nothing is written on the coordinator's disks."""
    from ingest import chats

    data = json.loads(unit)
    catalog_text = data.pop("catalog_text")
    folder = tempfile.mkdtemp(prefix="exhibit-chat-")
    # the name follows the process and the content, so the worker's parsed-catalog cache (keyed by file name)
    # serves every unit of the run, and two worker processes on one machine never share the file
    catalog = os.path.join(tempfile.gettempdir(), f"exhibit-catalog-{os.getpid()}-{hashlib.sha256(catalog_text.encode()).hexdigest()}.json")
    try:
        with open(catalog, "w", encoding="utf-8") as handle:
            handle.write(catalog_text)
        data["catalog_file"] = catalog
        data["messages_file"] = os.path.join(folder, "messages.bin")
        result = chats.run_chat_unit(json.dumps(data))
        with open(data["messages_file"], "rb") as handle:
            result["messages_bytes"] = handle.read()
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(catalog)


def run_chat_units_shipped(units: list[str]) -> list[dict]:
    """The chat task on a worker: each item one chat unit carrying its catalog."""
    return [run_chat_unit_returning_rows(unit) for unit in units]


# ---- client side -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterChoice:
    """Where a run's tasks go: the scheduler, and how workers name the evidence. Not part of the
    configuration digest (where the work ran does not change the facts); the manifest names it."""

    scheduler: str
    path_map: PathMap = PathMap()

    def facts(self) -> dict:
        return {"scheduler": self.scheduler, "path_map": [f"{left}={right}" for left, right in self.path_map.rules]}


def _quiet_distributed_logs() -> list[tuple[logging.Logger, int]]:
    """Raise distributed's loggers to CRITICAL; returns what to restore."""
    loggers = [logging.getLogger(name) for name in ("distributed", "distributed.client", "distributed.utils", "distributed.comm")]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    return saved


@dataclass
class _Task:
    """One submitted task: what the coordinator asked, what the workers are sent, and how a piece's
    results are put back into coordinator terms (host paths renamed back, rows written here)."""

    function: TaskFunction  # what the workers run
    items: list  # the coordinator's items (failures name these)
    remote: list  # the same items in worker terms
    restore: Callable[[list, list, list], list] | None = None  # (items, remote items, results) of one piece -> results


_WORKER_DEATH_STIMULI = ("handle-worker-cleanup", "remove-worker", "task-erred")


def _reruns(story: list) -> int:
    """How often the scheduler ran a task again: its worker died under it, or it raised and Dask retried it."""
    return sum(1 for event in story if event and event[0] == "scheduler" and len(event) >= 6 and event[2] == "processing"
               and event[3] in ("released", "waiting") and str(event[5]).startswith(_WORKER_DEATH_STIMULI))


class ClusterRunner:
    """A `Runner` on a Dask cluster at `address` (tcp://HOST:PORT) or on a given `distributed.Client`."""

    def __init__(self, address: str | None, settings: Any, credentials: list, confinement: confine.Confinement | None,
                 path_map: PathMap | None = None, retries: int = 1, client: Any = None, max_pending: int = 64,
                 connect_seconds: float = 10.0) -> None:
        self._address = address
        self._path_map = path_map or PathMap()
        self._setup = (settings, self._path_map.map_credentials(credentials), self._path_map.map_confinement(confinement))
        self._token = uuid.uuid4().hex
        self._retries = retries
        self._client = client
        self._own_client = client is None
        self._connect_seconds = connect_seconds
        self._max_pending = max_pending
        self._drivers = ThreadPoolExecutor(max_workers=max_pending, thread_name_prefix="exhibit-cluster")
        self.slots = 0  # worker processes at start: tasks of one process take turns, so the ingest keeps about 4 per worker in flight
        self._catalogs: dict[str, tuple[str, list[tuple[str, str]]]] = {}
        self._quiet: list[tuple[logging.Logger, int]] = []
        self._catalog_lock = threading.Lock()

    @property
    def path_map(self) -> PathMap:
        return self._path_map

    def __enter__(self) -> "ClusterRunner":
        from distributed import Client

        # The client logs its reconnect attempts with tracebacks; the run's own message names the scheduler and what
        # happened, so only the client's critical records are shown while this runner lives.
        self._quiet = _quiet_distributed_logs()
        try:
            if self._client is None:
                try:
                    self._client = Client(self._address, timeout=f"{self._connect_seconds}s", set_as_default=False)
                except (OSError, TimeoutError) as error:
                    raise SchedulerUnreachable(str(self._address), str(error) or type(error).__name__) from error
            if self._address is None:
                self._address = self._client.scheduler.address
            self._check_workers()
        except ClusterLost:
            self.__exit__(None, None, None)  # the `with` does not call it when entering fails
            raise
        return self

    def _check_workers(self) -> None:
        """At least one worker, and every worker runs this exhibit version (its tasks would fail, or differ, otherwise)."""
        from ingest import __version__

        try:
            self._client.wait_for_workers(1, timeout=self._connect_seconds)
            versions = self._client.run(worker_version)
        except (OSError, TimeoutError) as error:
            raise ClusterUnusable(str(self._address), f"no worker answered within {self._connect_seconds:g} s ({error})") from error
        except (ImportError, AttributeError) as error:
            raise ClusterUnusable(str(self._address), f"a worker cannot run exhibit's tasks: {type(error).__name__}: {error}") from error
        other = sorted(f"{worker} has {version}" for worker, version in versions.items() if version != __version__)
        if other:
            raise ClusterUnusable(str(self._address), f"workers must run exhibit {__version__}: {', '.join(other)}")
        self.slots = len(versions)
        if 4 * self.slots > self._max_pending:  # one driver thread per task in flight: enough for the window over every worker
            self._drivers.shutdown(wait=False)
            self._drivers = ThreadPoolExecutor(max_workers=4 * self.slots, thread_name_prefix="exhibit-cluster")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self._drivers.shutdown(wait=False, cancel_futures=True)
        if self._own_client and self._client is not None:
            client, self._client = self._client, None
            try:
                client.close(timeout=5)
            except (OSError, TimeoutError):
                pass  # the scheduler is gone already: nothing of the run is left on it to release
        for logger, level in self._quiet:
            logger.setLevel(level)
        self._quiet = []

    def submit(self, function: TaskFunction, items: list, sizes: list[int]) -> "Future[Outcome]":
        """Run `function(items)` on the cluster; the ingest's own tasks are translated into worker terms first."""
        return self._drivers.submit(self._drive, self._task(function, list(items)))

    def _task(self, function: TaskFunction, items: list) -> _Task:
        """The ingest's tasks with host paths renamed by the path map, and the chat task with its rows sent back."""
        from ingest import chats, media

        m = self._path_map
        if isinstance(function, partial) and function.func is work.run_content_items and not function.keywords:
            (recipe,) = function.args
            pairs = _renames(m, _recipe_paths(recipe) + [p for item in items for p in _target_paths(recipe.walker, item[1])]) if m.rules else []
            return _Task(partial(work.run_content_items, m.map_recipe(recipe)), items, [_map_item(m, recipe, i) for i in items],
                         partial(_restore_content, pairs))
        if function is media.hash_media_items:
            remote = [(m.map_spec_json(spec), m.map_paths(segments), m.map_path(raw) if raw else raw) for spec, segments, raw in items]
            return _Task(function, items, remote, _restore_media)
        if function is media.sha256_files_items:
            return _Task(function, items, [m.map_paths(list(paths)) for paths in items], _restore_files)
        if function is chats.run_chat_units:
            shipped = [self._ship_chat_unit(unit) for unit in items]
            return _Task(run_chat_units_shipped, items, [text for text, _ in shipped], partial(_restore_chats, shipped[0][1] if shipped else []))
        return _Task(function, items, items)

    def _ship_chat_unit(self, unit: str) -> tuple[str, list[tuple[str, str]]]:
        """The chat unit with its catalog inside (in worker terms), and the catalog's renames; its rows come back
        in the result, not through a file."""
        data = json.loads(unit)
        path = data.pop("catalog_file")
        with self._catalog_lock:
            if path not in self._catalogs:
                with open(path, encoding="utf-8") as handle:
                    self._catalogs[path] = _map_catalog(self._path_map, handle.read())
        data["catalog_text"], pairs = self._catalogs[path]
        return json.dumps(data), pairs

    def _lost(self, detail: str) -> ClusterLost:
        return ClusterLost(str(self._address), detail)

    def _run(self, function: TaskFunction, items: list) -> tuple[list, int]:
        """(results, how often the scheduler ran the task again) for one piece."""
        if self._client is None or self._client.status not in ("running", "connecting", "newly-created"):
            raise self._lost(f"client is {getattr(self._client, 'status', 'closed')}")
        future = self._client.submit(run_task, self._token, self._setup, function, items, retries=self._retries, pure=False)
        try:
            results = future.result()
        except CancelledError as error:  # what the client does to every task when it loses its scheduler
            raise self._lost(f"the connection was lost while tasks ran ({str(error).splitlines()[0] if str(error) else 'task cancelled'})") from error
        except OSError as error:  # CommClosedError and friends: the scheduler went away
            raise self._lost(str(error)) from error
        try:
            reruns = _reruns(self._client.story(future.key))
        except OSError as error:
            raise self._lost(str(error)) from error
        return results, reruns

    def _drive(self, task: _Task) -> Outcome:
        """Retry once, then halves, down to the single item (the contract of `ingest.tasks`), over positions in the task."""
        outcome = Outcome()
        pieces: list[tuple[int, int]] = [(0, len(task.items))]
        done: dict[int, list] = {}
        first = True
        while pieces:
            start, end = pieces.pop(0)
            try:
                results, reruns = self._run(task.function, task.remote[start:end])
                outcome.retries += reruns
                done[start] = task.restore(task.items[start:end], task.remote[start:end], results) if task.restore else results
                continue
            except ClusterLost:
                raise
            except Exception as error:  # a task that raised or whose worker died past its retries
                detail = f"{type(error).__name__}: {error}"
                if self._client is not None and self._client.status not in ("running",):
                    raise self._lost(detail) from error
            outcome.retries += 1
            if first and end - start > 1:  # the whole task once more, then halves
                first = False
                pieces.insert(0, (start, end))
                continue
            if end - start == 1:
                outcome.failures.append(Failure(task.items[start], UNIT_CRASHED, detail))
                outcome.retries -= 1
                continue
            half = start + (end - start) // 2
            pieces[0:0] = [(start, half), (half, end)]
        for start in sorted(done):
            outcome.results.extend(done[start])
        return outcome


# ---- translation between coordinator and worker terms --------------------------------------------


def _map_target(m: PathMap, walker: str, target: list | tuple) -> list:
    """Folder targets name host files; dfvfs targets carry a path spec; tsk and archive targets are addresses."""
    target = list(target)
    if walker == "folder":
        target[1] = m.map_path(target[1])
    elif walker == "dfvfs":
        target[1] = m.map_spec_json(target[1])
    return target


def _map_item(m: PathMap, recipe: work.VolumeRecipe, item: list | tuple) -> list:
    entry_index, target, name = item
    return [entry_index, _map_target(m, recipe.walker, target), name]


def _spec_locations(text: str | None) -> list[str]:
    """The host paths in a JSON path spec: its OS layers' locations."""
    if not text:
        return []
    found, node, depth = [], json.loads(text), 0
    while isinstance(node, dict) and depth < 64:  # a budget on the parent chain
        if node.get("type_indicator") == "OS" and isinstance(node.get("location"), str):
            found.append(node["location"])
        node, depth = node.get("parent"), depth + 1
    return found


def _recipe_paths(recipe: work.VolumeRecipe) -> list[str]:
    return [p for p in (recipe.root, recipe.tsk_raw_file) if p] + _spec_locations(recipe.tsk_parent_spec)


def _target_paths(walker: str, target: list | tuple) -> list[str]:
    if walker == "folder":
        return [target[1]]
    return _spec_locations(target[1]) if walker == "dfvfs" else []


def _renames(m: PathMap, paths: list[str]) -> list[tuple[str, str]]:
    """(coordinator path, worker path) for every host path of a task that the map renames."""
    return [(path, m.map_path(path)) for path in sorted(set(paths)) if m.map_path(path) != path]


def _unmap_text(text: str | None, pairs: list[tuple[str, str]]) -> str | None:
    """A message that names a worker path names the coordinator's path instead (longest first)."""
    if not text:
        return text
    for original, mapped in sorted(pairs, key=lambda pair: len(pair[1]), reverse=True):
        if original != mapped:
            text = text.replace(mapped, original)
    return text


def _restore_content(pairs: list[tuple[str, str]], items: list, remote: list, results: list) -> list:
    """A read error's message names the coordinator's path, as a local run's would."""
    for _entry_index, fields in results:
        if fields.get("read_error_message"):
            fields["read_error_message"] = _unmap_text(fields["read_error_message"], pairs)
        media_fields = fields.get("media")
        if isinstance(media_fields, dict) and media_fields.get("error"):
            media_fields["error"] = _unmap_text(media_fields["error"], pairs)
    return results


def _path_pairs(original: list[str] | None, mapped: list[str] | None) -> list[tuple[str, str]]:
    return list(zip(original or [], mapped or [], strict=True))


def _restore_media(items: list, remote: list, results: list) -> list:
    for (_, segments, raw), (_, remote_segments, remote_raw), result in zip(items, remote, results, strict=True):
        pairs = _path_pairs(segments, remote_segments) + ([(raw, remote_raw)] if raw else [])
        result.error_message = _unmap_text(result.error_message, pairs)
        if result.raw_file_sha256 is not None and raw:
            result.raw_file_sha256 = (raw, *result.raw_file_sha256[1:])
    return results


def _restore_files(items: list, remote: list, results: list) -> list:
    restored = []
    for paths, remote_paths, rows in zip(items, remote, results, strict=True):
        pairs = _path_pairs(list(paths), remote_paths)
        restored.append([(path, size, digest, _unmap_text(error, pairs)) for path, (_, size, digest, error) in zip(paths, rows, strict=True)])
    return restored


def _restore_chats(pairs: list[tuple[str, str]], items: list, remote: list, results: list) -> list:
    """The rows a worker sent back go to the file the coordinator's unit named (in its scratch, never the output folder)."""
    for unit, result in zip(items, results, strict=True):
        messages_file = json.loads(unit)["messages_file"]
        with open(messages_file, "wb") as handle:
            handle.write(result.pop("messages_bytes"))
        result["messages_file"] = messages_file
        for problem in result.get("problems", ()):
            problem["message"] = _unmap_text(problem.get("message"), pairs)
    return results


def _map_catalog(m: PathMap, text: str) -> tuple[str, list[tuple[str, str]]]:
    """The chat catalog in worker terms: each candidate's volume recipe and target (its path spec stays: it is data),
    and the renames made."""
    if not m.rules:
        return text, []
    candidates = json.loads(text)
    paths: list[str] = []
    for candidate in candidates:
        recipe = work.VolumeRecipe(**candidate["recipe"])
        paths += _recipe_paths(recipe) + _target_paths(recipe.walker, candidate["target"])
        candidate["recipe"] = asdict(m.map_recipe(recipe))
        candidate["target"] = _map_target(m, recipe.walker, candidate["target"])
    return json.dumps(candidates), _renames(m, paths)


def worker_version() -> str:
    """The exhibit version a worker runs (checked against the coordinator's when the runner starts)."""
    from ingest import __version__

    return __version__


def run_units(units: list[str]) -> list[list]:
    """Task function for content units: each item is a `Unit.to_json()` text (already path-mapped), each
    result that unit's `work.run_unit` list; the coordinator plugs them into the rows as for the local pool."""
    return [[list(pair) for pair in work.run_unit(work.Unit.from_json(text))] for text in units]


__all__ = ["ClusterChoice", "ClusterLost", "ClusterRunner", "ClusterUnusable", "PathMap", "PathMapError", "SchedulerUnreachable", "run_chat_unit_returning_rows",
           "run_chat_units_shipped", "run_task", "run_units", "worker_version"]
