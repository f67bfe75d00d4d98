"""Stopping a run on Ctrl-C or SIGTERM, and the run's own scratch folder.

A stop signal becomes an exception in the main thread, so every `finally` and context manager of
the run does its cleaning (worker processes, staging folder, scratch copies) before the program
exits. The one step that must not be cut in half (publishing the exhibit with its custody event)
holds any signal until the run is over: from there on the run reports what really happened.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SCRATCH_PREFIX = "exhibit-run-"


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived. A BaseException, so that no `except Exception` (the boundary
    where one artefact meets one parser) can turn a stop request into a parser_failed row."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {self.signal_name}")

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


_ACTIVE: list["StopOnSignals"] = []  # the entered ones, innermost last


def raise_if_stopped() -> None:
    """Raise the pending stop again where a failure is about to be recorded.

    A signal's Interrupted is raised wherever the main thread is; inside a Python read that The
    Sleuth Kit called (pytsk3 reads the image through Python) the native code turns it into an
    IOError of its own, and the walk would record a stop as an unreadable directory and go on.
    Whoever turns a failure into data calls this first, so a stop is never recorded as a failure."""
    for stop in _ACTIVE:
        if stop.raised and not stop.holding and stop.signum is not None:
            raise Interrupted(stop.signum)


class StopOnSignals:
    """While entered (in the main thread): the first SIGINT/SIGTERM raises Interrupted; later ones
    are ignored so the cleanup they triggered is not cut short; after `hold()` they only wait."""

    def __init__(self) -> None:
        self.raised = False
        self.signum: int | None = None
        self.holding = False
        self.held: int | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.holding:
            self.held = self.held or signum
            return
        if self.raised:
            return
        self.raised = True
        self.signum = signum
        raise Interrupted(signum)

    def hold(self) -> None:
        """From now to the end of the run a signal no longer stops it (it is remembered in `held`)."""
        self.holding = True

    def __enter__(self) -> "StopOnSignals":
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
            _ACTIVE.append(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        if self in _ACTIVE:
            _ACTIVE.remove(self)


def scratch_base() -> Path:
    """Where scratch goes: EXHIBIT_SCRATCH, else the system's temporary folder (TMPDIR)."""
    configured = os.environ.get("EXHIBIT_SCRATCH")
    return Path(configured) if configured else Path(tempfile.gettempdir())


def scratch_key(exhibit_dir: Path) -> str:
    """Names one exhibit's scratch folders (runs of other exhibits share the scratch base)."""
    return hashlib.sha256(os.fsencode(exhibit_dir.resolve())).hexdigest()[:16]


@contextmanager
def run_scratch(key: str, run_id: str) -> Iterator[tuple[Path, list[str]]]:
    """The run's scratch folder, removed with everything in it when the run ends, however it ends.

    Every scratch copy the run makes (chat databases, backup manifests) goes inside it: the
    folder is EXHIBIT_SCRATCH for the run and for its workers. The caller holds the exhibit's run
    lock, so any other scratch folder of this exhibit was left by a run that was killed: it is
    removed, and its name returned for a warning row.
    """
    base = scratch_base()
    stale_name = re.compile(rf"{SCRATCH_PREFIX}{key}-[0-9a-f]{{32}}")
    stale = sorted(p for p in base.iterdir() if stale_name.fullmatch(p.name) and p.is_dir() and not p.is_symlink()) if base.is_dir() else []
    for folder in stale:
        shutil.rmtree(folder)
    folder = base / f"{SCRATCH_PREFIX}{key}-{run_id}"
    folder.mkdir(mode=0o700, parents=True)
    previous = os.environ.get("EXHIBIT_SCRATCH")
    os.environ["EXHIBIT_SCRATCH"] = str(folder)
    try:
        yield folder, [str(p) for p in stale]
    finally:
        if previous is None:
            os.environ.pop("EXHIBIT_SCRATCH", None)
        else:
            os.environ["EXHIBIT_SCRATCH"] = previous
        shutil.rmtree(folder)


__all__ = ["Interrupted", "StopOnSignals", "raise_if_stopped", "run_scratch", "scratch_base", "scratch_key"]
