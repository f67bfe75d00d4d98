"""A stop signal that native code swallows is raised again where the failure would be recorded.

pytsk3 reads an image through Python; an Interrupted raised inside such a read comes out of The
Sleuth Kit as a RuntimeError carrying its text. Without a check, the walk would record the stop
as an unreadable directory and the run would go on to publish (found by the case ingest's SIGTERM
test: the device completed "with 1 error", `/$OrphanFiles cannot be listed: Interrupted(...)`).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import pytsk3

from ingest.problems import Problems
from ingest.stopping import Interrupted, StopOnSignals, raise_if_stopped
from tests import images
from tests.conftest import require_tool


class _StoppingImage(pytsk3.Img_Info):
    """An image whose reads raise Interrupted, as a signal arriving during a read does."""

    def __init__(self, path: Path) -> None:
        self._data = path.read_bytes()
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> bytes:
        raise Interrupted(signal.SIGTERM)

    def get_size(self) -> int:
        return len(self._data)

    def close(self) -> None:
        pass


def _signalled() -> None:
    """SIGTERM to this process; the handler's Interrupted caught here, as native code catches it."""
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        pytest.fail("no Interrupted within 5 s of SIGTERM")
    except Interrupted:
        pass


def test_a_swallowed_stop_is_raised_where_a_failure_is_recorded(tmp_path: Path) -> None:
    require_tool("mkfs.ext4")
    images.write_tree(tmp_path / "tree", {b"a.txt": b"alpha\n"})
    image = images.make_ext4(tmp_path / "tree", tmp_path / "fs.raw", "2M")
    problems = Problems()
    with StopOnSignals() as stop:
        problems.add("walk", "unreadable_directory", "error", "before any stop")
        raise_if_stopped()  # nothing pending: returns
        _signalled()
        with pytest.raises(RuntimeError, match=r"Interrupted\('interrupted by SIGTERM'\)"):
            pytsk3.FS_Info(_StoppingImage(image))  # what the walk's `except TSK_READ_ERRORS` would see
        with pytest.raises(Interrupted, match="interrupted by SIGTERM"):
            problems.add("walk", "unreadable_directory", "error", "directory / cannot be listed: Interrupted(...)")
        with pytest.raises(Interrupted):
            raise_if_stopped()
        stop.hold()  # publishing: a signal now only waits, and failures are recorded again
        problems.add("output", "kept", "warning", "while holding")
    problems.add("output", "after", "warning", "after the run")
    assert [row["message"] for row in problems.rows] == ["before any stop", "while holding", "after the run"]


def test_nested_stops_each_count_only_while_entered() -> None:
    with StopOnSignals():
        _signalled()
        with StopOnSignals():
            with pytest.raises(Interrupted):
                raise_if_stopped()  # the outer one's stop is still pending
    raise_if_stopped()
