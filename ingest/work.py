"""Units of work: batches of artefacts to read, hash and type, runnable in any process.

A unit is plain data (JSON path specs and TSK addresses), so the same unit can run in the local
process pool, be retried, or later be sent to a cluster; `Unit.to_json` / `Unit.from_json` prove
it. Each worker process keeps its opened volumes and libmagic handles for the life of the pool.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import stat
import tempfile
import threading
from dataclasses import asdict, dataclass

from dfvfs.resolver import resolver

from ingest import (
    android_sparse,  # noqa: F401  (registers the ANDROID_SPARSE layer in workers)
    archive_walk,
    confine,
    dfvfs_walk,
    media_metadata,
    tsk,
)
from ingest.content import ContentSettings, describe
from ingest.identify import Identifier
from ingest.path_specs import deserialize
from manifests.text import display_message


@dataclass(frozen=True)
class VolumeRecipe:
    """How a worker reopens a walkable volume."""

    index: int
    walker: str  # "tsk", "dfvfs", "folder" or "archive"
    tsk_parent_spec: str | None = None
    tsk_raw_file: str | None = None
    tsk_offset: int = 0
    root: str | None = None  # folder sources: the folder's absolute path; archives: the archive file

    def tsk_volume(self) -> tsk.TskVolume:
        return tsk.TskVolume(parent_spec=self.tsk_parent_spec or "", raw_file=self.tsk_raw_file, offset=self.tsk_offset)


@dataclass(frozen=True)
class Unit:
    """Items are [entry_index, target, name as latin-1 text] lists; targets depend on the walker."""

    unit_id: str
    volume: VolumeRecipe
    items: tuple

    def to_json(self) -> str:
        return json.dumps({"unit_id": self.unit_id, "volume": asdict(self.volume), "items": list(self.items)})

    @classmethod
    def from_json(cls, text: str) -> "Unit":
        data = json.loads(text)
        return cls(unit_id=data["unit_id"], volume=VolumeRecipe(**data["volume"]), items=tuple(tuple(i) for i in data["items"]))


_STATE: dict = {}


def init_worker(settings: ContentSettings, credentials: list[tuple[str, str, object]], confinement: confine.Confinement | None = None) -> None:
    """Per-process set-up: settings, libmagic, the credentials that unlocked volumes, the host files dfVFS may open."""
    os.environ["TZ"] = "UTC"
    confine.activate(confinement)
    _STATE.clear()
    _STATE["settings"] = settings
    _STATE["identifier"] = Identifier()
    _STATE["volumes"] = {}
    for spec_json, identifier, data in credentials:
        resolver.Resolver.key_chain.SetCredential(deserialize(spec_json), identifier, data)


_PR_SET_PDEATHSIG = 1


def init_pool_worker(settings: ContentSettings, credentials: list[tuple[str, str, object]], scratch: str, owner_pid: int,
                     confinement: confine.Confinement | None = None) -> None:
    """Set-up of a pool worker process: it never outlives the run that owns it, whatever kills the run.

    Ctrl-C reaches the whole process group; the owner decides and stops the workers itself, so a
    worker ignores SIGINT. A parent-death signal kills the worker when its parent (the forkserver)
    dies, and a watcher thread kills it when the owner dies, even by `kill -9` (the forkserver
    would otherwise wait for the workers, and the workers for work that never comes, holding the
    evidence open). Scratch copies go to the run's scratch folder, which the owner removes.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    try:
        owner = os.pidfd_open(owner_pid)
    except ProcessLookupError:  # the owner is already gone
        os._exit(1)
    threading.Thread(target=_die_with_owner, args=(owner,), name="exhibit-owner-watch", daemon=True).start()
    os.environ["EXHIBIT_SCRATCH"] = scratch
    tempfile.tempdir = scratch
    init_worker(settings, credentials, confinement)


def _die_with_owner(owner_fd: int) -> None:
    select.select([owner_fd], [], [])  # a pidfd becomes readable when its process exits
    os.kill(os.getpid(), signal.SIGKILL)


def release_worker() -> None:
    """Drop this process's open volumes and libmagic handles."""
    _STATE.clear()


def _open_volume(recipe: VolumeRecipe):
    cache = _STATE["volumes"]
    handle = cache.get(recipe.index)
    if handle is None:
        if recipe.walker == "tsk":
            handle = recipe.tsk_volume().open()
        else:
            handle = archive_walk.ArchiveSource(recipe.root or "") if recipe.walker == "archive" else True
        cache[recipe.index] = handle
    return handle


def _folder_reader(path: str):
    # O_NOFOLLOW and O_NONBLOCK: if the entry was replaced by a link or a FIFO after the walk, the
    # open fails or returns at once instead of reading outside the evidence or hanging.
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        descriptor = os.open(path, flags | getattr(os, "O_NOATIME", 0))
    except PermissionError:
        descriptor = os.open(path, flags)  # O_NOATIME needs ownership; plain read-only then
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OSError(f"{path} is no longer a regular file")

    def read(offset: int, size: int) -> bytes:
        return os.pread(descriptor, size, offset)

    return read, descriptor


OPEN_ERRORS: tuple[type[BaseException], ...] = tsk.TSK_READ_ERRORS + dfvfs_walk.DFVFS_READ_ERRORS


def open_content(recipe: VolumeRecipe, handle, target) -> tuple:
    """(read(offset, size), size, the errors read raises, descriptor to close or None) for one walk target."""
    if recipe.walker == "tsk":
        return tsk.reader_for(handle, tuple(target)), target[3], tsk.TSK_READ_ERRORS, None
    if recipe.walker == "archive":
        return archive_walk.reader_for(handle, target[1]), target[2], archive_walk.MEMBER_READ_ERRORS, None
    if recipe.walker == "folder":
        read, descriptor = _folder_reader(target[1])
        return read, target[2], (OSError,), descriptor
    return dfvfs_walk.reader_for(target[1]), target[2], dfvfs_walk.DFVFS_READ_ERRORS, None


def open_volume(recipe: VolumeRecipe):
    """The worker's cached handle for a volume (a TSK file system, or True for the others)."""
    return _open_volume(recipe)


def run_unit(unit: Unit) -> list[tuple[int, dict]]:
    """Content fields for every item of the unit, in item order."""
    settings: ContentSettings = _STATE["settings"]
    identifier: Identifier = _STATE["identifier"]
    results: list[tuple[int, dict]] = []
    recipe = unit.volume
    try:
        handle = _open_volume(recipe)
    except tsk.TSK_READ_ERRORS as error:
        for entry_index, _target, _name in unit.items:
            results.append((entry_index, {"content_status": "read_error", "read_error_kind": "volume_unreadable",
                                          "read_error_offset": 0, "read_error_length": None, "read_error_message": display_message(str(error))}))
        return results
    items = unit.items
    if recipe.walker == "tsk":
        # Inode order follows allocation order closely enough to keep reads near each other, which
        # is what lets libewf's chunk cache work on E01; results are keyed by entry_index anyway.
        items = sorted(items, key=lambda item: item[1][0])
    for entry_index, target, name_text in items:
        name = name_text.encode("latin-1")
        descriptor = None
        try:
            read, size, errors, descriptor = open_content(recipe, handle, target)
        except OPEN_ERRORS as error:
            results.append((entry_index, {"content_status": "read_error", "read_error_kind": "open_failed", "read_error_offset": 0,
                                          "read_error_length": None, "read_error_message": display_message(str(error))}))
            continue
        try:
            fields = describe(read, size, name, settings, identifier, errors)
            if settings.media and fields.get("content_status") == "hashed" and media_metadata.is_media_type(fields.get("mime_type")):
                try:
                    fields["media"] = media_metadata.extract(read, size, fields["mime_type"], name_text)
                except errors as error:  # the file read fine a moment ago; a read error now is still a row
                    fields["media"] = {"error": display_message(f"metadata read failed: {error}")}
            results.append((entry_index, fields))
        finally:
            if descriptor is not None:
                os.close(descriptor)
    return results


def run_content_items(recipe: VolumeRecipe, items: list) -> list[tuple[int, dict]]:
    """The content task (`ingest.tasks`): any list of one volume's unit items, so a failed unit can be run in halves."""
    return run_unit(Unit(unit_id="", volume=recipe, items=tuple(tuple(item) for item in items)))
